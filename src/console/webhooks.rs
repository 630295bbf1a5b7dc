//! Webhooks for the beheerder (`/beheer/webhooks`): the organization's subscriptions with
//! their state and last answer, adding one (its secret shown once), a new secret, a replay
//! of some days, removal. Every action asks the app's code again when the login is older
//! than ten minutes, since a webhook sends the organization's events elsewhere. The rules
//! are the admin service's, shared with the CLI and the API.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::webhook_form::{WebhookForm, replay_range};
use super::{Beheerder, Frame, Section, problem_text};
use crate::admin::{AdminError, DEFAULT_ROTATION_OVERLAP_HOURS};
use crate::domain::webhook::{self, EventFilter, EventKind};
use crate::http::csrf::ProtectedForm;
use crate::http::{AppState, PageChrome, WebError};
use crate::store::Subscription;
use crate::texts::Texts;
use crate::texts::webhooks::event_words;

const LIST: &str = "/beheer/webhooks";
const NEW: &str = "/beheer/webhooks/nieuw";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(LIST, get(list))
        .route(NEW, get(new_page).post(add))
        .route("/beheer/webhooks/{id}", get(detail))
        .route("/beheer/webhooks/{id}/geheim", post(rotate))
        .route("/beheer/webhooks/{id}/opnieuw", post(replay))
        .route("/beheer/webhooks/{id}/verwijderen", post(remove))
}

fn page_of(public_id: &str) -> String {
    format!("{LIST}/{public_id}")
}

/// A subscription as the pages show it.
struct Shown {
    id: String,
    url: String,
    description: String,
    events: String,
    failing: bool,
    /// The last attempt was not accepted (being retried, or given up).
    troubled: bool,
    state: String,
    pending: i64,
    created: String,
    last_attempt: Option<String>,
    last_answer: Option<String>,
    oldest_pending: Option<String>,
    previous_until: Option<String>,
}

fn shown(t: &Texts, s: &Subscription) -> Shown {
    let w = t.webhooks;
    let events = match EventFilter::parse(&s.events) {
        Ok(EventFilter::AllButLogins) => w.all_events.to_owned(),
        Ok(EventFilter::Only(kinds)) => kinds
            .iter()
            .map(|k| event_words(t.lang, *k))
            .collect::<Vec<_>>()
            .join(", "),
        Err(_) => s.events.clone(),
    };
    let state = match (s.failing_since, s.last_answer.as_deref()) {
        (Some(since), _) => t.fill(w.state_failing, t.moment(since)),
        (None, Some(answer)) if webhook::accepted(answer) => w.state_working.to_owned(),
        (None, Some(_)) => w.state_retrying.to_owned(),
        (None, None) => w.state_unused.to_owned(),
    };
    Shown {
        id: s.public_id.clone(),
        url: s.url.clone(),
        description: s.description.clone(),
        events,
        failing: s.failing_since.is_some(),
        troubled: s
            .last_answer
            .as_deref()
            .is_some_and(|a| !webhook::accepted(a)),
        state,
        pending: s.pending,
        created: t.moment(s.created_at),
        last_attempt: s.last_attempt_at.map(|at| t.moment(at)),
        last_answer: s.last_answer.clone(),
        oldest_pending: s.oldest_pending_at.map(|at| t.moment(at)),
        previous_until: s
            .previous
            .as_ref()
            .map(|(_, until)| t.fill(w.previous_until, t.moment(*until))),
    }
}

/// The subscription `public_id` if it is this organization's; any other is not found
/// (a beheerder cannot learn that another organization's exists).
async fn owned(beheerder: &Beheerder, public_id: &str) -> Result<Subscription, WebError> {
    match beheerder.admin.webhook(public_id).await {
        Ok(s) if s.org_id == Some(beheerder.session.org.id) => Ok(s),
        Ok(_) | Err(AdminError::UnknownWebhook(_)) => Err(WebError::NotFound),
        Err(other) => Err(anyhow::Error::from(other).into()),
    }
}

#[derive(Template)]
#[template(path = "console/webhooks.html")]
struct ListPage {
    t: &'static Texts,
    page: PageChrome,
    frame: Frame,
    subscriptions: Vec<Shown>,
}

#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
    count: Option<u64>,
}

fn notice(t: &Texts, query: &NoticeQuery) -> Option<String> {
    let w = t.webhooks;
    match query.notice.as_deref()? {
        "removed" => Some(w.removed_notice.to_owned()),
        "replayed" => Some(t.fill(w.replayed_notice, query.count.unwrap_or(0))),
        _ => None,
    }
}

async fn list(
    State(state): State<AppState>,
    beheerder: Beheerder,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let t = beheerder.t;
    let subscriptions = beheerder
        .admin
        .webhooks(Some(beheerder.org()))
        .await
        .map_err(anyhow::Error::from)?;
    let mut frame = Frame::new(&beheerder, Section::Webhooks);
    frame.notice = notice(t, &query);
    let page = ListPage {
        t,
        page: beheerder.chrome(&state, LIST),
        frame,
        subscriptions: subscriptions.iter().map(|s| shown(t, s)).collect(),
    };
    let html = page.render()?;
    Ok(beheerder.page(StatusCode::OK, html))
}

#[derive(Template)]
#[template(path = "console/webhook_new.html")]
struct NewPage {
    t: &'static Texts,
    page: PageChrome,
    frame: Frame,
    csrf: String,
    form: WebhookForm,
    kinds: Vec<(&'static str, &'static str, EventKind)>,
}

fn render_new(
    state: &AppState,
    beheerder: Beheerder,
    form: WebhookForm,
    problem: Option<String>,
) -> Result<Response, WebError> {
    let t = beheerder.t;
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut frame = Frame::new(&beheerder, Section::Webhooks);
    frame.error = problem;
    let page = NewPage {
        t,
        page: beheerder.chrome(state, NEW),
        frame,
        csrf: beheerder.csrf.clone(),
        form,
        kinds: EventKind::ALL
            .iter()
            .map(|k| (k.as_str(), event_words(t.lang, *k), *k))
            .collect(),
    };
    let html = page.render()?;
    Ok(beheerder.page(status, html))
}

async fn new_page(
    State(state): State<AppState>,
    beheerder: Beheerder,
) -> Result<Response, WebError> {
    // Asked before anything is typed, so that nothing typed is lost to the confirmation.
    if beheerder.must_confirm(&state) {
        return Ok(beheerder.confirm_first(NEW));
    }
    render_new(&state, beheerder, WebhookForm::blank(), None)
}

async fn add(
    State(state): State<AppState>,
    beheerder: Beheerder,
    ProtectedForm(pairs): ProtectedForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let t = beheerder.t;
    let form = WebhookForm::from_pairs(&pairs);
    let (url, events, description) = match form.check(t.webhooks, state.settings.dev_mode) {
        Ok(checked) => checked,
        Err(problem) => return render_new(&state, beheerder, form, Some(problem.to_owned())),
    };
    if beheerder.must_confirm(&state) {
        return Ok(beheerder.confirm_first(NEW));
    }
    let org = beheerder.org().to_owned();
    match beheerder
        .admin
        .add_webhook(Some(&org), &url, &events, &description)
        .await
    {
        Ok(created) => {
            let id = created.subscription.public_id;
            secret_page(
                &state,
                beheerder,
                id,
                created.secret,
                t.webhooks.added_notice,
            )
        }
        Err(e @ AdminError::Webhook(_)) => {
            let problem = problem_text(t, &e);
            render_new(&state, beheerder, form, Some(problem))
        }
        Err(other) => Err(anyhow::Error::from(other).into()),
    }
}

#[derive(Template)]
#[template(path = "console/webhook_secret.html")]
struct SecretPage {
    t: &'static Texts,
    page: PageChrome,
    frame: Frame,
    id: String,
    secret: String,
}

/// The secret, shown this once (the response is not cached: every page is `no-store`).
fn secret_page(
    state: &AppState,
    beheerder: Beheerder,
    id: String,
    secret: String,
    notice: &str,
) -> Result<Response, WebError> {
    let mut frame = Frame::new(&beheerder, Section::Webhooks);
    frame.notice = Some(notice.to_owned());
    let page = SecretPage {
        t: beheerder.t,
        page: beheerder.chrome(state, &page_of(&id)),
        frame,
        id,
        secret,
    };
    let html = page.render()?;
    Ok(beheerder.page(StatusCode::OK, html))
}

#[derive(Template)]
#[template(path = "console/webhook.html")]
struct DetailPage {
    t: &'static Texts,
    page: PageChrome,
    frame: Frame,
    csrf: String,
    hook: Shown,
    overlap_hours: u32,
    from: String,
    to: String,
}

fn render_detail(
    state: &AppState,
    beheerder: Beheerder,
    subscription: &Subscription,
    frame: Frame,
    status: StatusCode,
) -> Result<Response, WebError> {
    let t = beheerder.t;
    let today = crate::texts::dutch_date(state.clock.now());
    let page = DetailPage {
        t,
        page: beheerder.chrome(state, &page_of(&subscription.public_id)),
        frame,
        csrf: beheerder.csrf.clone(),
        hook: shown(t, subscription),
        overlap_hours: DEFAULT_ROTATION_OVERLAP_HOURS,
        from: today.clone(),
        to: today,
    };
    let html = page.render()?;
    Ok(beheerder.page(status, html))
}

async fn detail(
    State(state): State<AppState>,
    beheerder: Beheerder,
    Path(id): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, WebError> {
    let subscription = owned(&beheerder, &id).await?;
    let mut frame = Frame::new(&beheerder, Section::Webhooks);
    frame.notice = notice(beheerder.t, &query);
    render_detail(&state, beheerder, &subscription, frame, StatusCode::OK)
}

async fn rotate(
    State(state): State<AppState>,
    beheerder: Beheerder,
    Path(id): Path<String>,
    ProtectedForm(_): ProtectedForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let subscription = owned(&beheerder, &id).await?;
    if beheerder.must_confirm(&state) {
        return Ok(beheerder.confirm_first(&page_of(&id)));
    }
    let secret = beheerder
        .admin
        .rotate_webhook_secret(&subscription.public_id, DEFAULT_ROTATION_OVERLAP_HOURS)
        .await
        .map_err(anyhow::Error::from)?;
    let t = beheerder.t;
    let notice = t.fill(t.webhooks.rotated_notice, DEFAULT_ROTATION_OVERLAP_HOURS);
    secret_page(&state, beheerder, id, secret, &notice)
}

#[derive(Deserialize)]
struct ReplayForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

async fn replay(
    State(state): State<AppState>,
    beheerder: Beheerder,
    Path(id): Path<String>,
    ProtectedForm(form): ProtectedForm<ReplayForm>,
) -> Result<Response, WebError> {
    let subscription = owned(&beheerder, &id).await?;
    let refused = |beheerder: Beheerder| {
        let mut frame = Frame::new(&beheerder, Section::Webhooks);
        frame.error = Some(beheerder.t.webhooks.range_invalid.to_owned());
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        render_detail(&state, beheerder, &subscription, frame, status)
    };
    let Some((from, to)) = replay_range(&form.from, &form.to) else {
        return refused(beheerder);
    };
    if beheerder.must_confirm(&state) {
        return Ok(beheerder.confirm_first(&page_of(&id)));
    }
    match beheerder.admin.replay_webhooks(&id, from, to).await {
        Ok(count) => Ok(
            Redirect::to(&format!("{}?notice=replayed&count={count}", page_of(&id)))
                .into_response(),
        ),
        Err(AdminError::Webhook(_)) => refused(beheerder),
        Err(other) => Err(anyhow::Error::from(other).into()),
    }
}

async fn remove(
    State(state): State<AppState>,
    beheerder: Beheerder,
    Path(id): Path<String>,
    ProtectedForm(_): ProtectedForm<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let subscription = owned(&beheerder, &id).await?;
    if beheerder.must_confirm(&state) {
        return Ok(beheerder.confirm_first(&page_of(&id)));
    }
    match beheerder
        .admin
        .remove_webhook(&subscription.public_id)
        .await
    {
        Ok(()) | Err(AdminError::UnknownWebhook(_)) => {
            Ok(Redirect::to(&format!("{LIST}?notice=removed")).into_response())
        }
        Err(other) => Err(anyhow::Error::from(other).into()),
    }
}
