//! Who performs an administrator's action: the audit line of every action says it.

use crate::store::UserId;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Actor {
    /// Someone with a shell on the server (the CLI).
    #[default]
    Operator,
    /// A machine client of the admin API.
    Client { id: String },
    /// An organization's administrator in the console.
    Beheerder { user_id: UserId, username: String },
}

impl Actor {
    /// How the audit log names the actor (the `detail` of the line, or its start).
    pub fn describe(&self) -> String {
        match self {
            // Kept as it was before the API and console existed: log searches rely on it.
            Actor::Operator => "administrator".to_owned(),
            Actor::Client { id } => format!("client {id}"),
            Actor::Beheerder { username, .. } => format!("beheerder {username}"),
        }
    }
}
