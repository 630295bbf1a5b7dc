//! The console for an organization's administrators (`/beheer`): server-rendered pages in
//! the look of the login pages, no script. Who may use it: a user with the beheerder role
//! of their organization, after a full login (password and app); every page and action is
//! bound to that one organization, and destructive actions ask for the app's code again
//! when the login is older than ten minutes (`domain::step_up`). Everything it does goes
//! through the same `Admin` rules as the CLI and the API, acting as the beheerder.

mod access;
mod audit;
mod confirm;
mod invite;
mod look;
mod onboarding;
mod policy;
mod reset;
mod upload;
mod users;
mod webhook_form;
mod webhooks;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;

use crate::admin::{Actor, Admin};
use crate::domain::step_up;
use crate::http::csrf::token_for_page;
use crate::http::lang::{Preferred, chrome, chrome_of_org};
use crate::http::session::CurrentSession;
use crate::http::{AppState, PageChrome, WebError};
use crate::store::{Role, Session};
use crate::texts::Texts;

/// An upload of 1,000 rows is about 100 KB; the rest of the service takes 16 KiB.
const MAX_UPLOAD_BYTES: usize = 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(users::router())
        .merge(reset::router())
        .merge(invite::router())
        .merge(onboarding::router())
        .merge(access::router())
        .merge(policy::router())
        .merge(audit::router())
        .merge(webhooks::router())
        .merge(look::router())
        .merge(confirm::router())
        .merge(upload::router().layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)))
}

/// Which page of the console is open (the navigation marks it).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Users,
    Invite,
    Upload,
    Onboarding,
    Access,
    Policy,
    Audit,
    Webhooks,
    Look,
}

/// A request of a beheerder: their session, their organization's administrator handle,
/// the page's language and CSRF token.
pub struct Beheerder {
    pub session: Session,
    pub t: &'static Texts,
    pub admin: Admin,
    pub jar: CookieJar,
    pub csrf: String,
}

impl Beheerder {
    /// The organization's slug: every action names it, so none can reach another's.
    pub fn org(&self) -> &str {
        &self.session.org.slug
    }

    /// Whether a destructive action must first be confirmed with the app's code.
    pub fn must_confirm(&self, state: &AppState) -> bool {
        step_up::needs_confirmation(
            self.session.created_at,
            self.session.confirmed_at,
            state.clock.now(),
        )
    }

    /// The confirmation page, coming back to `back` afterwards.
    pub fn confirm_first(&self, back: &str) -> Response {
        let back = form_urlencoded_component(back);
        Redirect::to(&format!("/beheer/bevestigen?terug={back}")).into_response()
    }

    pub fn chrome(&self, state: &AppState, path: &str) -> PageChrome {
        chrome_of_org(state, self.t, path, &self.session.org)
    }

    /// A page with the CSRF cookie it may have set.
    pub fn page(self, status: StatusCode, html: String) -> Response {
        (status, self.jar, Html(html)).into_response()
    }
}

fn form_urlencoded_component(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[derive(Template)]
#[template(path = "console/forbidden.html")]
struct ForbiddenPage {
    t: &'static Texts,
    page: PageChrome,
}

impl FromRequestParts<AppState> for Beheerder {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let lang = Preferred::from_request_parts(parts, state)
            .await
            .unwrap_or_else(|never| match never {});
        let current = CurrentSession::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Some(session) = current.complete() else {
            return Err(Redirect::to("/login").into_response());
        };
        let t = lang.or_org(session.org.lang);
        let is_beheerder = state
            .store
            .has_role(session.user.id, Role::Beheerder)
            .await
            .map_err(|e| WebError::from(e).into_response())?;
        if !is_beheerder {
            let page = ForbiddenPage {
                t,
                page: chrome(state, t, parts.uri.path()),
            };
            let html = page
                .render()
                .map_err(|e| WebError::from(e).into_response())?;
            return Err((StatusCode::FORBIDDEN, Html(html)).into_response());
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let (jar, csrf) = token_for_page(state, jar);
        let admin = Admin::new(
            state.store.clone(),
            state.settings.clone(),
            state.clock.clone(),
        )
        .with_outbox(state.outbox_wake.clone())
        .acting_as(Actor::Beheerder {
            user_id: session.user.id,
            username: session.user.username.clone(),
        });
        Ok(Beheerder {
            session,
            t,
            admin,
            jar,
            csrf,
        })
    }
}

/// What every console page shows around its content.
pub struct Frame {
    pub org_name: String,
    pub section: Section,
    pub notice: Option<String>,
    pub error: Option<String>,
}

impl Frame {
    pub fn new(beheerder: &Beheerder, section: Section) -> Frame {
        Frame {
            org_name: beheerder.session.org.name.clone(),
            section,
            notice: None,
            error: None,
        }
    }

    pub fn is(&self, section: Section) -> bool {
        self.section == section
    }
}

/// A console page's error as the page shows it.
pub fn problem_text(t: &Texts, error: &crate::admin::AdminError) -> String {
    use crate::admin::AdminError;
    match error {
        AdminError::AlreadyActive(_) => t.console.not_possible_active.to_owned(),
        other => other.to_string(),
    }
}
