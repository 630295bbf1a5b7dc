//! The messages Poortwachter sends, rendered to complete RFC 5322 messages for the outbox.
//! Every message has a plain-text and an HTML part, so it reads well in any mail program.

use askama::Template;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};

use super::sender::Sender;
use crate::config::Settings;
use crate::domain::account::{DisplayName, EmailAddress};
use crate::domain::lang::Lang;
use crate::store::{OutgoingMail, User};
use crate::texts::Texts;

#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("could not build the message: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("could not render the message: {0}")]
    Render(#[from] askama::Error),
    #[error("invalid address: {0}")]
    Address(#[from] lettre::address::AddressError),
    #[error("could not draw the QR code: {0}")]
    Qr(anyhow::Error),
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
    s: &'a Sender,
    m: &'a Invitation<'a>,
}

pub fn invitation(
    sender: &Sender,
    to: &EmailAddress,
    m: &Invitation<'_>,
) -> Result<OutgoingMail, ComposeError> {
    let t = Texts::of(m.lang);
    let subject = t.fill(t.invitation_subject, m.org_name);
    let text = InvitationText { t, m }.render()?;
    let html = InvitationHtml { t, s: sender, m }.render()?;
    let recipient = Mailbox::new(
        Some(m.display_name.as_str().to_owned()),
        to.address().clone(),
    );
    build(
        &sender.from,
        recipient,
        &subject,
        MultiPart::alternative_plain_html(text, html),
    )
}

pub struct PasswordReset<'a> {
    pub lang: Lang,
    pub service_name: &'a str,
    pub display_name: &'a str,
    pub username: &'a str,
    pub link: &'a str,
    pub valid_minutes: u32,
    /// Sent by an administrator (`user reset-password`) rather than asked for by the user.
    pub by_administrator: bool,
}

#[derive(Template)]
#[template(path = "mail/password_reset.txt")]
struct PasswordResetText<'a> {
    t: &'static Texts,
    m: &'a PasswordReset<'a>,
}

#[derive(Template)]
#[template(path = "mail/password_reset.html")]
struct PasswordResetHtml<'a> {
    t: &'static Texts,
    s: &'a Sender,
    m: &'a PasswordReset<'a>,
}

impl PasswordReset<'_> {
    fn intro(&self, t: &Texts) -> String {
        let text = if self.by_administrator {
            t.recovery.reset_mail_intro_admin
        } else {
            t.recovery.reset_mail_intro_self
        };
        t.fill(text, self.username)
    }
}

/// The reset link ("Wachtwoord vergeten?"), in the invitation's shape: HIER and the address.
pub fn password_reset(
    sender: &Sender,
    to: Mailbox,
    m: &PasswordReset<'_>,
) -> Result<OutgoingMail, ComposeError> {
    let t = Texts::of(m.lang);
    let subject = t.fill(t.recovery.reset_mail_subject, m.service_name);
    let text = PasswordResetText { t, m }.render()?;
    let html = PasswordResetHtml { t, s: sender, m }.render()?;
    build(
        &sender.from,
        to,
        &subject,
        MultiPart::alternative_plain_html(text, html),
    )
}

pub struct TotpSetup<'a> {
    pub lang: Lang,
    pub service_name: &'a str,
    pub display_name: &'a str,
    pub account_name: &'a str,
    pub grouped_key: &'a str,
    pub otpauth_uri: &'a str,
    pub valid_hours: u32,
    pub qr_cid: &'a str,
    pub qr_size: usize,
}

#[derive(Template)]
#[template(path = "mail/totp_setup.txt")]
struct TotpSetupText<'a> {
    t: &'static Texts,
    m: &'a TotpSetup<'a>,
}

#[derive(Template)]
#[template(path = "mail/totp_setup.html")]
struct TotpSetupHtml<'a> {
    t: &'static Texts,
    s: &'a Sender,
    m: &'a TotpSetup<'a>,
}

/// The set-up e-mail: account name and Base32 key as text in both parts, and the otpauth QR
/// code as an inline image (multipart/related, Content-ID), so it shows in mail programs that
/// block remote images and the text still works when all images are blocked.
pub fn totp_setup(
    sender: &Sender,
    to: Mailbox,
    m: &TotpSetup<'_>,
) -> Result<OutgoingMail, ComposeError> {
    let t = Texts::of(m.lang);
    let png = super::qr::png(m.otpauth_uri).map_err(ComposeError::Qr)?;
    let qr_size = qr_pixel_size(&png).unwrap_or(m.qr_size);
    let m = TotpSetup { qr_size, ..*m };
    let text = TotpSetupText { t, m: &m }.render()?;
    let html = TotpSetupHtml {
        t,
        s: sender,
        m: &m,
    }
    .render()?;
    let image = Attachment::new_inline(m.qr_cid.to_owned()).body(
        png,
        ContentType::parse("image/png").expect("valid MIME type"),
    );
    let body = MultiPart::alternative()
        .singlepart(SinglePart::plain(text))
        .multipart(
            MultiPart::related()
                .singlepart(SinglePart::html(html))
                .singlepart(image),
        );
    build(&sender.from, to, t.setup_subject, body)
}

/// Width of a PNG from its IHDR chunk (bytes 16..20).
fn qr_pixel_size(png: &[u8]) -> Option<usize> {
    let width: [u8; 4] = png.get(16..20)?.try_into().ok()?;
    Some(u32::from_be_bytes(width) as usize)
}

#[derive(Template)]
#[template(path = "mail/notice.txt")]
struct NoticeText<'a> {
    t: &'static Texts,
    display_name: &'a str,
    body: &'a str,
    service_name: &'a str,
}

#[derive(Template)]
#[template(path = "mail/notice.html")]
struct NoticeHtml<'a> {
    t: &'static Texts,
    s: &'a Sender,
    subject: &'a str,
    display_name: &'a str,
    body: &'a str,
    service_name: &'a str,
}

/// A short security notice (two-step verification turned on or reset). Never holds a secret.
pub fn notice(
    sender: &Sender,
    to: Mailbox,
    lang: Lang,
    service_name: &str,
    subject: &str,
    body: &str,
) -> Result<OutgoingMail, ComposeError> {
    let t = Texts::of(lang);
    let display_name = to.name.clone().unwrap_or_default();
    let text = NoticeText {
        t,
        display_name: &display_name,
        body,
        service_name,
    }
    .render()?;
    let html = NoticeHtml {
        t,
        s: sender,
        subject,
        display_name: &display_name,
        body,
        service_name,
    }
    .render()?;
    build(
        &sender.from,
        to,
        subject,
        MultiPart::alternative_plain_html(text, html),
    )
}

/// A security notice to `user` in their organization's language `lang`: `words` picks the
/// subject and the body from that language's texts; the body's `{}` is the username.
pub fn notice_to_user(
    settings: &Settings,
    user: &User,
    org: &crate::store::Organization,
    words: impl Fn(&'static Texts) -> (&'static str, &'static str),
) -> Result<OutgoingMail, ComposeError> {
    let lang = org.lang;
    let t = Texts::of(lang);
    let (subject, body) = words(t);
    notice(
        &Sender::of(settings, org),
        mailbox(&user.display_name, &user.email)?,
        lang,
        &settings.service_name,
        subject,
        &t.fill(body, &user.username),
    )
}

/// The notice that a passkey named `name` was added to (or removed from) the user's account.
pub fn passkey_notice(
    settings: &Settings,
    user: &User,
    org: &crate::store::Organization,
    added: bool,
    name: &str,
) -> Result<OutgoingMail, ComposeError> {
    let lang = org.lang;
    let t = Texts::of(lang);
    let (subject, body) = if added {
        (t.passkeys.added_subject, t.passkeys.added_body)
    } else {
        (t.passkeys.removed_subject, t.passkeys.removed_body)
    };
    notice(
        &Sender::of(settings, org),
        mailbox(&user.display_name, &user.email)?,
        lang,
        &settings.service_name,
        subject,
        &t.fill(&t.fill(body, &user.username), name),
    )
}

/// The recipient as a mailbox with their display name.
pub fn mailbox(display_name: &str, email: &str) -> Result<Mailbox, ComposeError> {
    Ok(Mailbox::new(Some(display_name.to_owned()), email.parse()?))
}

pub(super) fn build(
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
        discard_after: None,
    })
}
