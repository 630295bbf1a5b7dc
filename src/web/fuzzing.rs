//! Entry points for the fuzz targets in `fuzz/` (built only under `cargo fuzz`, which sets
//! `--cfg fuzzing`): the form bodies every handler parses (log-in, activation, code, password
//! change, buttons), through the same strict deserializer the handlers use, and on into the domain
//! rules that read the fields.

use super::invite::ActivateForm;
use super::login::LoginForm;
use super::password::ChangeForm;
use super::second_factor::CodeForm;
use crate::domain::account::Username;
use crate::domain::password::{Password, PasswordPolicy};
use crate::domain::totp::TotpCode;
use crate::http::csrf::CsrfOnly;

/// Parses `body` as each form of the service. Must never panic, whatever the bytes.
pub fn parse_forms(body: &[u8]) {
    if let Ok(form) = crate::http::form::deserialize::<LoginForm>(body) {
        let _ = Username::parse(&form.username);
        let _ = Password::parse(&form.password);
        let _ = form.csrf.len();
    }
    if let Ok(form) = crate::http::form::deserialize::<ActivateForm>(body)
        && let Ok(password) = Password::parse(&form.password)
    {
        let broken = PasswordPolicy::default().broken_by(&password, &["jan", "jan.jansen"]);
        let _ = (
            broken,
            form.password_repeat == form.password,
            form.csrf.len(),
        );
    }
    if let Ok(form) = crate::http::form::deserialize::<CodeForm>(body) {
        let _ = (TotpCode::parse(&form.code), form.csrf.len());
    }
    if let Ok(form) = crate::http::form::deserialize::<ChangeForm>(body) {
        let _ = (
            Password::parse(&form.current),
            Password::parse(&form.password),
        );
        let _ = (form.password_repeat.len(), form.csrf.len());
    }
    let _ = crate::http::form::deserialize::<CsrfOnly>(body);
}
