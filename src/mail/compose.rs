//! The messages Poortwachter sends, rendered to complete RFC 5322 messages for the outbox.
//! Every message has a plain-text and an HTML part, so it reads well in any mail program.

use askama::Template;
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};

use crate::domain::account::{DisplayName, EmailAddress};
use crate::domain::lang::Lang;
use crate::store::OutgoingMail;
use crate::web::i18n::Texts;

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("could not build the message: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("could not render the message: {0}")]
    Render(#[from] askama::Error),
    #[error("invalid sender address: {0}")]
    Sender(#[from] lettre::address::AddressError),
}

pub struct Invitation<'a> {
    pub lang: Lang,
    pub service_name: &'a str,
    pub org_name: &'a str,
    pub display_name: &'a DisplayName,
    pub username: &'a str,
    pub link: &'a str,
    pub valid_days: u32,
}

#[derive(Template)]
#[template(path = "mail/invitation.txt")]
struct InvitationText<'a> {
    t: &'static Texts,
    m: &'a Invitation<'a>,
}

#[derive(Template)]
#[template(path = "mail/invitation.html")]
struct InvitationHtml<'a> {
    t: &'static Texts,
    m: &'a Invitation<'a>,
}

pub fn invitation(
    from: &str,
    to: &EmailAddress,
    m: &Invitation<'_>,
) -> Result<OutgoingMail, ComposeError> {
    let t = Texts::of(m.lang);
    let subject = t.fill(t.invitation_subject, m.org_name);
    let text = InvitationText { t, m }.render()?;
    let html = InvitationHtml { t, m }.render()?;
    let recipient = Mailbox::new(
        Some(m.display_name.as_str().to_owned()),
        to.address().clone(),
    );
    build(
        from,
        recipient,
        &subject,
        MultiPart::alternative_plain_html(text, html),
    )
}

fn build(
    from: &str,
    to: Mailbox,
    subject: &str,
    body: MultiPart,
) -> Result<OutgoingMail, ComposeError> {
    let from: Mailbox = from.parse()?;
    let message = Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject(subject)
        .multipart(body)?;
    Ok(OutgoingMail {
        sender: from.email.to_string(),
        recipient: to.email.to_string(),
        message: message.formatted(),
    })
}
