//! Who calls the admin API: a machine client with a token from the token endpoint
//! (client credentials), acting on the organizations it was registered for and no other.
//! Each client has a request budget per minute; past it the answer is 429 with
//! `Retry-After`.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::problem::{Kind, Problem};
use crate::admin::{Actor, Admin};
use crate::domain::account::OrgSlug;
use crate::domain::lang::Lang;
use crate::http::AppState;
use crate::http::bearer::{ApiToken, check_api_token};
use crate::store::Client;

/// An authenticated machine client and the language its errors are in.
pub struct Caller {
    pub client: Client,
    pub lang: Lang,
}

impl Caller {
    /// Refuses, unless the client may act on the organization `slug`. The answer is the
    /// same whether or not such an organization exists.
    pub fn may_manage(&self, slug: &str) -> Result<String, Problem> {
        let slug = OrgSlug::parse(slug).map_err(|_| self.forbidden(slug))?;
        if self.client.orgs.iter().any(|o| o.slug == slug.as_str()) {
            Ok(slug.as_str().to_owned())
        } else {
            Err(self.forbidden(slug.as_str()))
        }
    }

    fn forbidden(&self, slug: &str) -> Problem {
        Problem::new(
            Kind::Forbidden,
            format!("this client may not manage organization {slug:?}"),
        )
        .in_lang(self.lang)
    }

    /// The administrator's handle, acting as this client (every audit line names it).
    pub fn admin(&self, state: &AppState) -> Admin {
        Admin::new(
            state.store.clone(),
            state.settings.clone(),
            state.clock.clone(),
        )
        .with_outbox(state.outbox_wake.clone())
        .acting_as(Actor::Client {
            id: self.client.id.clone(),
        })
    }

    /// An error of this request as the caller reads it (in their language).
    pub fn fail(&self, error: impl Into<Problem>) -> Problem {
        error.into().in_lang(self.lang)
    }

    pub fn problem(&self, kind: Kind, detail: impl Into<String>) -> Problem {
        Problem::new(kind, detail).in_lang(self.lang)
    }
}

pub fn lang_of(parts: &Parts) -> Lang {
    parts
        .headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language)
        .unwrap_or_default()
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Caller, Problem> {
        let lang = lang_of(parts);
        let token = crate::http::authorization::credentials(&parts.headers, "Bearer");
        let Some(token) = token else {
            return Err(Problem::new(
                Kind::NoToken,
                "send Authorization: Bearer <token> (client credentials from /oauth2/token)",
            )
            .in_lang(lang));
        };
        let checked = check_api_token(state, token)
            .await
            .map_err(|e| Problem::from(e).in_lang(lang))?;
        let client = match checked {
            ApiToken::Machine(client) => client,
            ApiToken::NotForApi => {
                return Err(Problem::new(
                    Kind::InsufficientScope,
                    "this token is for an application, not for the admin API: use a \
                     client-credentials token with the scope admin",
                )
                .in_lang(lang));
            }
            ApiToken::Invalid => {
                return Err(Problem::new(
                    Kind::Unauthorized,
                    "the token is not valid, has expired, or its client was removed",
                )
                .in_lang(lang));
            }
        };
        if let Some(seconds) = state.api_limiter.wait(&client.id, state.clock.now()) {
            let mut problem = Problem::new(
                Kind::TooManyRequests,
                format!(
                    "more than {} requests a minute; try again in {seconds} s",
                    state.settings.api_requests_per_minute
                ),
            )
            .in_lang(lang);
            problem.retry_after = Some(seconds);
            return Err(problem);
        }
        Ok(Caller { client, lang })
    }
}
