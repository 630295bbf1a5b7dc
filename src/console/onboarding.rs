//! The onboarding overview: for every invited employee, where they are on the way in —
//! invitation queued, sent, failing (with the mail server's answer), link expired,
//! password set, app set up — with one-click resend for those who are stuck. What HR needs
//! on the Monday after inviting 200 employees.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use super::{Beheerder, Frame, Section};
use crate::domain::onboarding::{self, OnboardingStep};
use crate::http::{AppState, PageChrome, WebError};
use crate::texts::Texts;

pub fn router() -> Router<AppState> {
    Router::new().route("/beheer/onboarding", get(overview))
}

struct OnboardingRow {
    username: String,
    name: String,
    step: String,
    stuck: bool,
    done: bool,
    invited_at: String,
}

#[derive(Template)]
#[template(path = "console/onboarding.html")]
struct OnboardingPage {
    t: &'static Texts,
    page: PageChrome,
    frame: Frame,
    csrf: String,
    rows: Vec<OnboardingRow>,
    /// "200 medewerkers, waarvan 150 klaar en 12 vastgelopen."
    summary: String,
}

fn summary(t: &Texts, rows: &[OnboardingRow]) -> String {
    let done = rows.iter().filter(|r| r.done).count();
    let stuck = rows.iter().filter(|r| r.stuck).count();
    let text = t.fill(t.console.onboarding_counts, rows.len());
    t.fill(&t.fill(&text, done), stuck)
}

#[derive(serde::Deserialize)]
struct PageQuery {
    notice: Option<String>,
}

async fn overview(
    State(state): State<AppState>,
    beheerder: Beheerder,
    Query(query): Query<PageQuery>,
) -> Result<Response, WebError> {
    let t = beheerder.t;
    let now = state.clock.now();
    let overviews = beheerder
        .admin
        .user_overviews(beheerder.org())
        .await
        .map_err(anyhow::Error::from)?;
    let mut rows: Vec<OnboardingRow> = overviews
        .iter()
        .filter_map(|o| {
            let step = onboarding::onboarding_step(&o.facts(), now)?;
            Some(OnboardingRow {
                username: o.user.username.clone(),
                name: o.user.display_name.clone(),
                stuck: step.is_stuck(),
                done: step == OnboardingStep::TwoStepSetUp,
                step: t.console.step(&step),
                invited_at: t.moment(o.created_at),
            })
        })
        .collect();
    // Those who need HR first, then those still on their way, the finished ones last.
    rows.sort_by_key(|r| (!r.stuck, r.done));
    let mut frame = Frame::new(&beheerder, Section::Onboarding);
    if query.notice.as_deref() == Some("resent") {
        frame.notice = Some(t.console.done_resent.to_owned());
    }
    let page = OnboardingPage {
        t,
        page: beheerder.chrome(&state, "/beheer/onboarding"),
        frame,
        csrf: beheerder.csrf.clone(),
        summary: summary(t, &rows),
        rows,
    };
    let html = page.render()?;
    Ok(beheerder.page(StatusCode::OK, html))
}
