//! The organization's password policy and self-service settings, with a preview of the
//! requirements exactly as employees will read them when they set a password.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use super::{Beheerder, Frame, Section};
use crate::domain::password::{CharacterClasses, PasswordPolicy, Requirement};
use crate::http::csrf::ProtectedForm;
use crate::http::{AppState, PageChrome, WebError};
use crate::store::SelfService;
use crate::texts::Texts;

pub fn router() -> Router<AppState> {
    Router::new().route("/beheer/beleid", get(page).post(save))
}

#[derive(Template)]
#[template(path = "console/policy.html")]
struct PolicyPage {
    t: &'static Texts,
    page: PageChrome,
    frame: Frame,
    csrf: String,
    form: PolicyForm,
    requirements: Vec<Requirement>,
}

/// The form as typed (numbers as text, so a wrong one is shown back as it was).
#[derive(Deserialize, Default)]
struct PolicyForm {
    #[serde(default)]
    min_length: String,
    #[serde(default)]
    max_length: String,
    #[serde(default)]
    lowercase: Option<String>,
    #[serde(default)]
    uppercase: Option<String>,
    #[serde(default)]
    digit: Option<String>,
    #[serde(default)]
    symbol: Option<String>,
    #[serde(default)]
    reset: Option<String>,
    #[serde(default)]
    remember_days: String,
    /// VOORBEELD: show the requirements without saving.
    #[serde(default)]
    preview: Option<String>,
}

impl PolicyForm {
    fn of(policy: &PasswordPolicy, self_service: &SelfService) -> PolicyForm {
        let classes = policy.classes();
        let on = |b: bool| b.then(|| "on".to_owned());
        PolicyForm {
            min_length: policy.min_length().to_string(),
            max_length: policy.max_length().to_string(),
            lowercase: on(classes.lowercase),
            uppercase: on(classes.uppercase),
            digit: on(classes.digit),
            symbol: on(classes.symbol),
            reset: on(self_service.reset),
            remember_days: self_service.remember_device_days.to_string(),
            ..PolicyForm::default()
        }
    }

    /// The policy and settings the form describes, or what is wrong with them.
    fn parse(&self, t: &Texts) -> Result<(PasswordPolicy, SelfService), String> {
        let number = |text: &str, label: &str| {
            text.trim()
                .parse::<u16>()
                .map_err(|_| format!("{label}: {}", text.trim()))
        };
        let c = t.console;
        let min = number(&self.min_length, c.min_length_label)?;
        let max = number(&self.max_length, c.max_length_label)?;
        let classes = CharacterClasses {
            lowercase: self.lowercase.is_some(),
            uppercase: self.uppercase.is_some(),
            digit: self.digit.is_some(),
            symbol: self.symbol.is_some(),
        };
        let policy = PasswordPolicy::new(min, max, classes).map_err(|e| e.to_string())?;
        let days = number(&self.remember_days, c.remember_days_label)?;
        let self_service = SelfService {
            reset: self.reset.is_some(),
            remember_device_days: u8::try_from(days)
                .map_err(|_| c.remember_days_hint.to_owned())?,
        };
        crate::admin::check_self_service(&self_service)
            .map_err(|_| c.remember_days_hint.to_owned())?;
        Ok((policy, self_service))
    }
}

#[derive(Deserialize)]
struct PageQuery {
    saved: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    beheerder: Beheerder,
    Query(query): Query<PageQuery>,
) -> Result<Response, WebError> {
    let org = &beheerder.session.org;
    let form = PolicyForm::of(&org.policy, &org.self_service);
    let requirements = org.policy.requirements();
    let mut frame = Frame::new(&beheerder, Section::Policy);
    if query.saved.is_some() {
        frame.notice = Some(beheerder.t.console.policy_saved.to_owned());
    }
    render(&state, beheerder, frame, form, requirements, StatusCode::OK)
}

fn render(
    state: &AppState,
    beheerder: Beheerder,
    frame: Frame,
    form: PolicyForm,
    requirements: Vec<Requirement>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let page = PolicyPage {
        t: beheerder.t,
        page: beheerder.chrome(state, "/beheer/beleid"),
        frame,
        csrf: beheerder.csrf.clone(),
        form,
        requirements,
    };
    let html = page.render()?;
    Ok(beheerder.page(status, html))
}

async fn save(
    State(state): State<AppState>,
    beheerder: Beheerder,
    ProtectedForm(form): ProtectedForm<PolicyForm>,
) -> Result<Response, WebError> {
    let t = beheerder.t;
    let (policy, self_service) = match form.parse(t) {
        Ok(parsed) => parsed,
        Err(problem) => {
            let mut frame = Frame::new(&beheerder, Section::Policy);
            frame.error = Some(t.fill(t.console.policy_invalid, problem));
            let requirements = beheerder.session.org.policy.requirements();
            return render(
                &state,
                beheerder,
                frame,
                form,
                requirements,
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    if form.preview.is_some() {
        let requirements = policy.requirements();
        let frame = Frame::new(&beheerder, Section::Policy);
        return render(&state, beheerder, frame, form, requirements, StatusCode::OK);
    }
    let org = beheerder.org().to_owned();
    beheerder
        .admin
        .set_policy(&org, policy)
        .await
        .map_err(anyhow::Error::from)?;
    beheerder
        .admin
        .set_self_service(&org, self_service)
        .await
        .map_err(anyhow::Error::from)?;
    Ok(Redirect::to("/beheer/beleid?saved=1").into_response())
}
