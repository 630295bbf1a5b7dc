//! The login pages of the guide's journey: invitation, password, AUTHENTICATOR APP, codes,
//! herstelcodes, passkeys, Mijn account, self-service recovery, and the development mailbox.
//! Thin handlers: they parse the form, call the login service (`crate::login`) or the store,
//! and render. They import the HTTP kit (`crate::http`), never another feature's handlers.

mod access;
mod account;
mod assets;
pub(crate) mod dev_band;
mod devices;
mod devmail;
mod forgot;
#[cfg(fuzzing)]
pub mod fuzzing;

mod invite;
mod login;
mod look;
mod new_phone;
mod passkeys;
mod password;
mod recovery_codes;
mod reset;
mod second_factor;
mod setup_mail;

use axum::Router;

use crate::http::AppState;

/// The pages' routes; the development mailbox only where mail goes to it.
pub fn router(dev_mailbox: bool) -> Router<AppState> {
    let app = Router::new()
        .merge(login::router())
        .merge(access::router())
        .merge(account::router())
        .merge(invite::router())
        .merge(password::router())
        .merge(second_factor::router())
        .merge(passkeys::router())
        .merge(recovery_codes::router())
        .merge(forgot::router())
        .merge(reset::router())
        .merge(new_phone::router())
        .merge(look::router())
        .merge(assets::router());
    if dev_mailbox {
        app.merge(devmail::router())
    } else {
        app
    }
}
