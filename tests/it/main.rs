//! The integration tests: one binary, one module per feature, so the harness (`common`)
//! and the server are compiled and linked once. Each test starts the real server on a random
//! port with its own temporary database (SQLite, or a fresh PostgreSQL schema) and its own
//! SMTP server, and talks to it over HTTP like a browser would.

#[macro_use]
mod common;

mod access;
mod account;
mod admin_api;
mod backup;
mod cli;
mod console;
mod console_webhooks;
mod database_outage;
mod evidence;
mod hardening;
mod headers;
mod instances;
mod invitation_links;
mod journey;
mod login;
mod looks;
mod mail_delivery;
mod metrics;
mod oidc;
mod oidc_instances;
mod oidc_logout;
mod oidc_reauthentication;
mod oidc_requests;
mod oidc_tokens;
mod passkeys;
mod password_change;
mod password_reset;
mod recovery_codes;
mod second_factor;
mod shutdown;
mod webhooks;
