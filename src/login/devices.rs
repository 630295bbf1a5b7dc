//! Dit apparaat onthouden, without HTTP: a remembered browser holds a random id (the web layer
//! keeps it in an HttpOnly cookie); the store keeps its digest and forgets it on a password
//! change or reset, a reset of two-step verification, OVERAL UITLOGGEN and disabling.

use crate::domain::recovery::browser_label;
use crate::domain::token::{Token, TokenHash};
use crate::services::{ServiceError, Services};
use crate::store::{NewDevice, UserId};

/// A browser to remember for `days`: the secret it keeps, and what the store keeps.
pub fn remember(
    services: &Services,
    user: UserId,
    user_agent: &str,
    days: u8,
) -> (Token, NewDevice) {
    let token = Token::generate(&mut rand::rngs::OsRng);
    let device = NewDevice {
        id_hash: token.hash(),
        user,
        browser: browser_label(user_agent),
        expires_at: services.clock.now() + remembered_seconds(days),
    };
    (token, device)
}

pub fn remembered_seconds(days: u8) -> i64 {
    i64::from(days) * 24 * 60 * 60
}

/// Whether the browser that holds `device` is remembered for `user` and may skip the code
/// step now.
pub async fn skips_code(
    services: &Services,
    device: Option<&TokenHash>,
    user: UserId,
) -> Result<bool, ServiceError> {
    let Some(device) = device else {
        return Ok(false);
    };
    let now = services.clock.now();
    Ok(services.store.device_skips_code(device, user, now).await?)
}
