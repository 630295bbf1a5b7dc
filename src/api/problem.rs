//! Errors of the admin API as RFC 9457 problem details (`application/problem+json`): a
//! stable `type` per kind of problem, a `title` in the caller's language (Dutch unless
//! `Accept-Language` prefers English) and both titles under `titles`, the `status`, a
//! `detail` for this occurrence, and where it helps the fields or rows at fault.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::admin::AdminError;
use crate::domain::lang::Lang;
use crate::http::WebError;

/// The kinds of problem, each with its `type` URI and titles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// No bearer token at all (RFC 6750 §3.1: then the challenge names no error).
    NoToken,
    Unauthorized,
    /// A valid token without the admin scope (RFC 6750 §3.1).
    InsufficientScope,
    Forbidden,
    NotFound,
    /// The body is not JSON at all (a syntax error, cut off): 400. Well-formed JSON with
    /// wrong or missing fields is `InvalidRequest`: 422.
    MalformedJson,
    InvalidRequest,
    Conflict,
    IdempotencyMismatch,
    TooManyRequests,
    Unavailable,
    Internal,
}

impl Kind {
    fn code(self) -> &'static str {
        match self {
            Kind::NoToken | Kind::Unauthorized => "unauthorized",
            Kind::InsufficientScope => "insufficient-scope",
            Kind::Forbidden => "forbidden",
            Kind::NotFound => "not-found",
            Kind::MalformedJson => "malformed-json",
            Kind::InvalidRequest => "invalid-request",
            Kind::Conflict => "conflict",
            Kind::IdempotencyMismatch => "idempotency-key-reused",
            Kind::TooManyRequests => "too-many-requests",
            Kind::Unavailable => "unavailable",
            Kind::Internal => "internal",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Kind::NoToken | Kind::Unauthorized => StatusCode::UNAUTHORIZED,
            Kind::InsufficientScope | Kind::Forbidden => StatusCode::FORBIDDEN,
            Kind::NotFound => StatusCode::NOT_FOUND,
            Kind::MalformedJson => StatusCode::BAD_REQUEST,
            Kind::InvalidRequest => StatusCode::UNPROCESSABLE_ENTITY,
            Kind::Conflict => StatusCode::CONFLICT,
            Kind::IdempotencyMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            Kind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Kind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn title(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Kind::NoToken | Kind::Unauthorized, Lang::Nl) => "Geen geldig toegangstoken",
            (Kind::NoToken | Kind::Unauthorized, Lang::En) => "No valid access token",
            (Kind::InsufficientScope, Lang::Nl) => "Dit token geeft geen beheerrechten",
            (Kind::InsufficientScope, Lang::En) => "This token grants no administration rights",
            (Kind::Forbidden, Lang::Nl) => "Geen toegang tot deze organisatie",
            (Kind::Forbidden, Lang::En) => "No access to this organization",
            (Kind::NotFound, Lang::Nl) => "Niet gevonden",
            (Kind::NotFound, Lang::En) => "Not found",
            (Kind::MalformedJson, Lang::Nl) => "De inhoud is geen leesbare JSON",
            (Kind::MalformedJson, Lang::En) => "The body is not readable JSON",
            (Kind::InvalidRequest, Lang::Nl) => "Het verzoek klopt niet",
            (Kind::InvalidRequest, Lang::En) => "The request is not valid",
            (Kind::Conflict, Lang::Nl) => "Dit kan niet in de huidige toestand",
            (Kind::Conflict, Lang::En) => "Not possible in the current state",
            (Kind::IdempotencyMismatch, Lang::Nl) => {
                "Deze Idempotency-Key hoort bij een ander verzoek"
            }
            (Kind::IdempotencyMismatch, Lang::En) => {
                "This Idempotency-Key belongs to another request"
            }
            (Kind::TooManyRequests, Lang::Nl) => "Te veel verzoeken",
            (Kind::TooManyRequests, Lang::En) => "Too many requests",
            (Kind::Unavailable, Lang::Nl) => "Tijdelijk niet beschikbaar",
            (Kind::Unavailable, Lang::En) => "Temporarily unavailable",
            (Kind::Internal, Lang::Nl) => "Er ging iets mis aan onze kant",
            (Kind::Internal, Lang::En) => "Something went wrong on our side",
        }
    }
}

/// A problem details object (RFC 9457 §3).
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemBody {
    /// A URI naming the kind of problem: `urn:poortwachter:problem:<kind>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    /// The title in Dutch and English.
    pub titles: Titles,
    pub status: u16,
    pub detail: String,
    /// Fields or rows at fault, where there are any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub errors: Option<Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Titles {
    pub nl: String,
    pub en: String,
}

/// An API error: a problem of some kind with its detail.
#[derive(Debug)]
pub struct Problem {
    pub kind: Kind,
    pub detail: String,
    pub errors: Option<Value>,
    pub lang: Lang,
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(kind: Kind, detail: impl Into<String>) -> Problem {
        Problem {
            kind,
            detail: detail.into(),
            errors: None,
            lang: Lang::Nl,
            retry_after: None,
        }
    }

    pub fn with_errors(mut self, errors: Value) -> Problem {
        self.errors = Some(errors);
        self
    }

    pub fn in_lang(mut self, lang: Lang) -> Problem {
        self.lang = lang;
        self
    }

    pub fn body(&self) -> ProblemBody {
        ProblemBody {
            kind: format!("urn:poortwachter:problem:{}", self.kind.code()),
            title: self.kind.title(self.lang).to_owned(),
            titles: Titles {
                nl: self.kind.title(Lang::Nl).to_owned(),
                en: self.kind.title(Lang::En).to_owned(),
            },
            status: self.kind.status().as_u16(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = (self.kind.status(), axum::Json(self.body())).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        headers.insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(self.lang.code()),
        );
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        // RFC 6750 §3: how to get in (no token, a bad one, or one without the scope).
        let challenge = match self.kind {
            Kind::NoToken => Some("Bearer realm=\"poortwachter-admin\""),
            Kind::Unauthorized => {
                Some("Bearer realm=\"poortwachter-admin\", error=\"invalid_token\"")
            }
            Kind::InsufficientScope => Some(
                "Bearer realm=\"poortwachter-admin\", error=\"insufficient_scope\", scope=\"admin\"",
            ),
            _ => None,
        };
        if let Some(challenge) = challenge {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

impl From<WebError> for Problem {
    fn from(e: WebError) -> Problem {
        match e {
            WebError::Unavailable(_) | WebError::Busy => {
                let mut p = Problem::new(Kind::Unavailable, "try again in a few seconds");
                p.retry_after = Some(5);
                p
            }
            WebError::NotFound => Problem::new(Kind::NotFound, "no such resource"),
            other => {
                tracing::error!(error = %other, "admin API request failed");
                Problem::new(Kind::Internal, "the error is logged")
            }
        }
    }
}

impl From<crate::store::StoreError> for Problem {
    fn from(e: crate::store::StoreError) -> Problem {
        WebError::from(e).into()
    }
}

impl From<AdminError> for Problem {
    fn from(e: AdminError) -> Problem {
        let detail = e.to_string();
        match e {
            AdminError::Input(_)
            | AdminError::Policy(_)
            | AdminError::Setting(_)
            | AdminError::Webhook(_)
            | AdminError::Look(_)
            | AdminError::Expectation(_) => Problem::new(Kind::InvalidRequest, detail),
            AdminError::UnknownUser { .. }
            | AdminError::UnknownOrganization(_)
            | AdminError::UnknownWebhook(_) => Problem::new(Kind::NotFound, detail),
            AdminError::UsernameTaken(_) | AdminError::AlreadyActive(_) => {
                Problem::new(Kind::Conflict, detail)
            }
            AdminError::Store(e) => e.into(),
            other => {
                tracing::error!(error = %other, "admin API request failed");
                Problem::new(Kind::Internal, "the error is logged")
            }
        }
    }
}
