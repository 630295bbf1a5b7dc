//! The organization's audit log, newest first, with filters for the event and the user.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use super::{Beheerder, Frame, Section};
use crate::domain::audit::AuditEvent;
use crate::http::{AppState, PageChrome, WebError};
use crate::store::AuditFilter;
use crate::texts::Texts;

const LINES_SHOWN: i64 = 100;

pub fn router() -> Router<AppState> {
    Router::new().route("/beheer/audit", get(log))
}

struct AuditLine {
    at: String,
    event: &'static str,
    outcome: &'static str,
    username: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    t: &'static Texts,
    page: PageChrome,
    frame: Frame,
    /// Each event's code (the filter's value) and its words.
    events: Vec<(&'static str, &'static str)>,
    event: String,
    username: String,
    lines: Vec<AuditLine>,
    older: Option<String>,
}

#[derive(Deserialize)]
struct AuditQuery {
    #[serde(default)]
    event: String,
    #[serde(default)]
    username: String,
    /// Lines older than the line with this id.
    voor: Option<i64>,
}

/// The lines as a beheerder reads them: events, outcomes and details in words, applications
/// by their name.
async fn in_words(
    state: &AppState,
    t: &'static Texts,
    entries: &[crate::store::AuditEntry],
) -> Result<Vec<AuditLine>, WebError> {
    let names = state.store.client_names().await?;
    let name_of = |id: &str| names.get(id).cloned();
    Ok(entries
        .iter()
        .map(|e| AuditLine {
            at: t.moment(e.at),
            event: crate::texts::audit::event(t.lang, e.event),
            outcome: crate::texts::audit::outcome(t.lang, e.outcome),
            username: e.username.clone().unwrap_or_default(),
            detail: crate::texts::audit::detail(
                t.lang,
                e.event,
                e.detail.as_deref().unwrap_or_default(),
                name_of,
            ),
        })
        .collect())
}

/// Every registered application's name by its client id: details name applications by id.
async fn log(
    State(state): State<AppState>,
    beheerder: Beheerder,
    Query(query): Query<AuditQuery>,
) -> Result<Response, WebError> {
    let t = beheerder.t;
    let org = &beheerder.session.org;
    let mut filter = AuditFilter {
        org: Some(org.id),
        event: AuditEvent::from_db(&query.event),
        before_id: query.voor,
        limit: LINES_SHOWN + 1,
        ..AuditFilter::default()
    };
    let mut frame = Frame::new(&beheerder, Section::Audit);
    let username = query.username.trim().to_lowercase();
    let mut lines = Vec::new();
    let mut older = None;
    let known_user = if username.is_empty() {
        true
    } else {
        match beheerder.admin.user_of(&org.slug, &username).await {
            Ok((_, user)) => {
                filter.user = Some(user.id);
                true
            }
            Err(_) => false,
        }
    };
    if known_user {
        // The store tells the newest lines oldest first; the page shows the newest first.
        let mut entries = state.store.audit_entries(&filter).await?;
        entries.reverse();
        if entries.len() as i64 > LINES_SHOWN {
            entries.truncate(LINES_SHOWN as usize);
            let last = entries[entries.len() - 1].id;
            let mut next = format!("/beheer/audit?voor={last}");
            for (name, value) in [("event", &query.event), ("username", &username)] {
                if !value.is_empty() {
                    next.push_str(&format!(
                        "&{name}={}",
                        super::form_urlencoded_component(value)
                    ));
                }
            }
            older = Some(next);
        }
        lines = in_words(&state, t, &entries).await?;
    } else {
        frame.error = Some(t.console.no_users.to_owned());
    }
    let page = AuditPage {
        t,
        page: beheerder.chrome(&state, "/beheer/audit"),
        frame,
        events: AuditEvent::ALL
            .iter()
            .map(|e| (e.as_str(), crate::texts::audit::event(t.lang, *e)))
            .collect(),
        event: query.event.clone(),
        username,
        lines,
        older,
    };
    let html = page.render()?;
    Ok(beheerder.page(StatusCode::OK, html))
}
