//! The start of a login session, without HTTP: a fresh secret for the browser and the record
//! the store keeps (its digest, the stage reached, how the login was made). The HTTP kit puts
//! the secret into the session cookie.

use crate::domain::account::LoginStage;
use crate::domain::login_method::LoginMethod;
use crate::domain::token::{Token, TokenHash};
use crate::services::Services;
use crate::store::{NewSession, UserId};

/// What a settlement stores for a login step: the new session, and the browser's previous
/// one it replaces (deleted in the same transaction, so a session id is never reused).
pub type StoredSession = (NewSession, Option<TokenHash>);

/// A new session for `user` at `stage`: the browser's secret and what the store keeps.
pub fn start(
    services: &Services,
    user: UserId,
    stage: LoginStage,
    method: Option<LoginMethod>,
    replaces: Option<TokenHash>,
) -> (Token, StoredSession) {
    let token = Token::generate(&mut rand::rngs::OsRng);
    let now = services.clock.now();
    let record = NewSession {
        id_hash: token.hash(),
        user_id: user,
        stage,
        method,
        now,
        expires_at: now + services.settings.session_absolute_seconds(),
    };
    (token, (record, replaces))
}
