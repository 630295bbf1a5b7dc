//! The login service: the steps of a login and of a logged-in user's confirmations, as
//! functions over the store and the domain rules, each answering with an outcome the pages
//! render. No HTTP here: the pages parse the form, call a step, and turn its outcome into a
//! page, a redirect and cookies.
//!
//! - `password_step`: username and password ([`password_step::PasswordOutcome`]);
//! - `second_step`: the app's code or a herstelcode ([`second_step::StepOutcome`]), and the
//!   rule for which stage follows;
//! - `next_page`: where a passed second step leads (the application, unsaved herstelcodes, a
//!   required passkey);
//! - `confirm`: a logged-in user types the code or the password again;
//! - `attempts`: every attempt counted under the throttle before it is checked;
//! - `totp_check`: a typed code checked, and admit → check → settle, once;
//! - `session_start`, `devices`: a new session's and a remembered browser's secrets.

pub mod attempts;
pub mod confirm;
pub mod devices;
pub mod new_phone;
pub mod next_page;
pub mod password_step;
pub mod reset_steps;
pub mod second_step;
pub mod session_start;
pub mod totp_check;

#[cfg(test)]
mod tests;
