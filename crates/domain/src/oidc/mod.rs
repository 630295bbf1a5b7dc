//! OpenID Connect and OAuth 2.0 rules, without I/O: what a client may register, what an
//! authorization request must hold, PKCE, scopes and the claims they release.

pub mod claims;
pub mod client;
pub mod pkce;
pub mod request;
pub mod scope;
