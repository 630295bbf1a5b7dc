//! Poortwachter: the login service in front of Verzuimcoach. Invitation by e-mail, account
//! activation under the organization's password policy, and password login.
//!
//! Layout: [`domain`] holds the rules (no I/O); [`store`], [`mail`] and [`web`] are thin
//! layers around them; [`startup`] wires them together and [`cli`] is the command line.

pub mod admin;
pub mod api;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod evidence;
/// The rules, in their own crate so that "no I/O" is a fact the compiler checks.
pub use poortwachter_domain as domain;
pub mod hashing;
pub mod http;
/// Sealing of stored secrets: a rule without I/O, so it lives with the rules (and their fuzzing).
pub use poortwachter_domain::keyring;
pub mod login;
pub mod mail;
pub mod oidc;
pub mod passkeys;
pub mod reset_link;
pub mod routes;
pub mod services;
pub mod shutdown;
pub mod signing_keys;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod texts;
pub mod tls;
pub mod web;
pub mod webhooks;

pub use startup::App;
