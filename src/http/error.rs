//! One error type for the web layer. Every error becomes a page in both languages with the
//! right status; internal errors are logged and never shown.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::hashing::HashError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    /// The form's CSRF token, Origin or Sec-Fetch-Site did not pass.
    #[error("cross-site request refused")]
    Csrf,
    /// The request body could not be read as the form (bad encoding, too large, duplicates).
    #[error("bad form ({0})")]
    BadForm(StatusCode),
    /// Every password-hashing worker is busy and the queue is full (a login flood).
    #[error("too busy")]
    Busy,
    /// The database cannot be reached right now; the request can simply be tried again.
    #[error("database unavailable: {0}")]
    Unavailable(StoreError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            crate::telemetry::database_unavailable();
            WebError::Unavailable(e)
        } else {
            WebError::Internal(e.into())
        }
    }
}

impl From<crate::services::ServiceError> for WebError {
    fn from(e: crate::services::ServiceError) -> Self {
        use crate::services::ServiceError;
        match e {
            ServiceError::Store(e) => e.into(),
            ServiceError::Hash(e) => e.into(),
            ServiceError::Internal(e) => WebError::Internal(e),
        }
    }
}

impl From<HashError> for WebError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => WebError::Busy,
            HashError::Failed(e) => WebError::Internal(e),
        }
    }
}

impl From<crate::mail::compose::ComposeError> for WebError {
    fn from(e: crate::mail::compose::ComposeError) -> Self {
        WebError::Internal(e.into())
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(e.into())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title_nl: &'static str,
    body_nl: &'static str,
    title_en: &'static str,
    body_en: &'static str,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, page) = match &self {
            WebError::NotFound => (
                StatusCode::NOT_FOUND,
                ErrorPage {
                    title_nl: "Pagina niet gevonden",
                    body_nl: "Deze pagina bestaat niet. Controleer het adres of ga naar het inlogscherm.",
                    title_en: "Page not found",
                    body_en: "This page does not exist. Check the address or go to the login page.",
                },
            ),
            WebError::Csrf => (
                StatusCode::FORBIDDEN,
                ErrorPage {
                    title_nl: "Formulier niet geaccepteerd",
                    body_nl: "Het formulier kwam niet van deze site, of de pagina was te lang open. Laad de pagina opnieuw en probeer het nog eens. Staan cookies uit? Zet ze dan aan voor deze site.",
                    title_en: "Form not accepted",
                    body_en: "The form did not come from this site, or the page was open too long. Reload the page and try again. Are cookies turned off? Then allow them for this site.",
                },
            ),
            WebError::BadForm(status) => (
                *status,
                ErrorPage {
                    title_nl: "Formulier niet leesbaar",
                    body_nl: "Wat er verstuurd werd, is geen geldig formulier van deze site (of het is te groot). Ga terug en probeer het nog eens.",
                    title_en: "Form could not be read",
                    body_en: "What was sent is not a valid form of this site (or it is too large). Go back and try again.",
                },
            ),
            WebError::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorPage {
                    title_nl: "Het is even erg druk",
                    body_nl: "Er loggen nu heel veel mensen tegelijk in. Er is niets verloren gegaan. Probeer het over een paar seconden opnieuw.",
                    title_en: "Very busy right now",
                    body_en: "A great many people are logging in at once. Nothing was lost. Please try again in a few seconds.",
                },
            ),
            WebError::Unavailable(error) => {
                tracing::warn!(error = %error, "database unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorPage {
                        title_nl: "Even niet beschikbaar",
                        body_nl: "De dienst is even niet bereikbaar. Er is niets verloren gegaan. Probeer het over een paar seconden opnieuw.",
                        title_en: "Briefly unavailable",
                        body_en: "The service cannot be reached for a moment. Nothing was lost. Please try again in a few seconds.",
                    },
                )
            }
            WebError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorPage {
                        title_nl: "Er ging iets mis",
                        body_nl: "Er ging aan onze kant iets mis. Er is niets verloren gegaan. Probeer het over een paar minuten nog eens.",
                        title_en: "Something went wrong",
                        body_en: "Something went wrong on our side. Nothing was lost. Please try again in a few minutes.",
                    },
                )
            }
        };
        let mut response = match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => status.into_response(),
        };
        // How long a client is asked to wait: a login flood passes in a second, a database
        // takes longer to come back.
        let retry_after = match self {
            WebError::Busy => Some("1"),
            WebError::Unavailable(_) => Some("5"),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static(seconds),
            );
        }
        response
    }
}

impl crate::login::confirm::NotConfirmed {
    /// 429 while the account or address waits, 401 for a wrong or used secret.
    pub fn status(&self) -> StatusCode {
        if self.waiting {
            StatusCode::TOO_MANY_REQUESTS
        } else {
            StatusCode::UNAUTHORIZED
        }
    }
}
