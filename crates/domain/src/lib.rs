//! Domain rules: plain types and functions with no I/O. Time and randomness are passed in,
//! so every rule can be tested with a pinned clock and a seeded generator.

pub mod account;
pub mod audit;
pub mod audit_chain;
pub mod blocklist;
pub mod bulk_invite;
pub mod expected_login;
pub mod keyring;
pub mod lang;
pub mod login_method;
pub mod look;
pub mod look_ahead;
pub mod oidc;
pub mod onboarding;
pub mod passkey;
pub mod password;
pub mod readiness;
pub mod recovery;
pub mod second_factor;
pub mod step_up;
pub mod throttle;
pub mod token;
pub mod totp;
pub mod webhook;
