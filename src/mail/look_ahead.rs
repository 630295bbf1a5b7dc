//! The look-ahead mail "Controleer of je nog kunt inloggen": sent some days before a login
//! the application expects, to a user who may not manage it. It names what was found and
//! links to the test login (Toegang controleren); it never says what the login is for (the
//! label may hint at sick leave, which is nobody's business who reads along).

use askama::Template;
use lettre::message::MultiPart;

use super::compose::{ComposeError, build, mailbox};
use super::sender::Sender;
use crate::domain::lang::Lang;
use crate::domain::readiness::Readiness;
use crate::store::{OutgoingMail, User};
use crate::texts::{Texts, access};

/// The path of the test login.
pub const CHECK_PATH: &str = "/toegang";

pub struct LookAhead<'a> {
    pub lang: Lang,
    pub service_name: &'a str,
    pub user: &'a User,
    pub due_at: i64,
    pub readiness: &'a Readiness,
    /// The test login's link; `None` where the user cannot log in at all yet (invited,
    /// disabled): then the mail sends them to their employer.
    pub link: Option<String>,
}

impl LookAhead<'_> {
    fn reasons(&self) -> Vec<&'static str> {
        self.readiness
            .reasons()
            .iter()
            .map(|reason| access::for_user(self.lang, *reason))
            .collect()
    }

    fn intro(&self, t: &Texts) -> String {
        t.fill(t.access.mail_intro, t.day(self.due_at))
    }
}

#[derive(Template)]
#[template(path = "mail/look_ahead.txt")]
struct LookAheadText<'a> {
    t: &'static Texts,
    m: &'a LookAhead<'a>,
}

#[derive(Template)]
#[template(path = "mail/look_ahead.html")]
struct LookAheadHtml<'a> {
    t: &'static Texts,
    s: &'a Sender,
    m: &'a LookAhead<'a>,
}

pub fn look_ahead(sender: &Sender, m: &LookAhead<'_>) -> Result<OutgoingMail, ComposeError> {
    let t = Texts::of(m.lang);
    let text = LookAheadText { t, m }.render()?;
    let html = LookAheadHtml { t, s: sender, m }.render()?;
    build(
        &sender.from,
        mailbox(&m.user.display_name, &m.user.email)?,
        t.access.mail_subject,
        MultiPart::alternative_plain_html(text, html),
    )
}
