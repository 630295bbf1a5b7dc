//! One error type for the web layer. Every error becomes a page in both languages with the
//! right status; internal errors are logged and never shown.

use askama::Template;
use axum::http::StatusCode;

use crate::texts::errors;
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
        let (status, words) = match &self {
            WebError::NotFound => (StatusCode::NOT_FOUND, &errors::NOT_FOUND),
            WebError::Csrf => (StatusCode::FORBIDDEN, &errors::FORM_REFUSED),
            WebError::BadForm(status) => (*status, &errors::FORM_UNREADABLE),
            WebError::Busy => (StatusCode::SERVICE_UNAVAILABLE, &errors::BUSY),
            WebError::Unavailable(error) => {
                tracing::warn!(error = %error, "database unavailable");
                (StatusCode::SERVICE_UNAVAILABLE, &errors::UNAVAILABLE)
            }
            WebError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, &errors::INTERNAL)
            }
        };
        let page = ErrorPage {
            title_nl: words.title_nl,
            body_nl: words.body_nl,
            title_en: words.title_en,
            body_en: words.body_en,
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
