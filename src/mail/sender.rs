//! Who a mail is from and how it looks: the organization's sender name before "via" and
//! the service's name, at the service's own address; its accent colour on the mail's links;
//! its logo at the top. The logo is linked, not attached: attached, a thousand invitations
//! would carry a thousand copies through the outbox, and its address (the content hash) is the
//! same for every recipient, so it tells nobody who opened a mail.

use lettre::message::Mailbox;

use crate::config::Settings;
use crate::domain::look::SenderName;
use crate::store::{OrgLook, Organization, logo_path};

/// Poortwachter's own accent (the stylesheet's `--accent`).
pub const SERVICE_ACCENT: &str = "#0b5cad";

/// The organization's logo as a mail shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailLogo {
    pub src: String,
    pub alt: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    /// The From header.
    pub from: String,
    /// `#rrggbb` for the mail's links.
    pub accent: String,
    pub logo: Option<MailLogo>,
}

impl Sender {
    /// The sender of the mails of the organization named `org_name` with `look`.
    pub fn new(settings: &Settings, org_name: &str, look: &OrgLook) -> Sender {
        Sender {
            from: from_header(
                &settings.mail_from,
                &settings.service_name,
                look.sender_name.as_deref(),
            ),
            accent: look
                .accent
                .clone()
                .unwrap_or_else(|| SERVICE_ACCENT.to_owned()),
            logo: look.logo_hash.as_deref().map(|hash| MailLogo {
                src: settings.link(&logo_path(hash)),
                alt: org_name.to_owned(),
            }),
        }
    }

    pub fn of(settings: &Settings, org: &Organization) -> Sender {
        Sender::new(settings, &org.name, &org.look)
    }
}

/// The From of an organization's mails: its sender name "via" the service's name when it
/// set one ("Acme B.V. via Poortwachter <noreply@…>"), else the configured `mail_from`.
/// The address stays the service's own: only the name is the organization's.
pub fn from_header(mail_from: &str, service_name: &str, sender_name: Option<&str>) -> String {
    let Some(name) = sender_name.and_then(|n| SenderName::parse(n).ok()) else {
        return mail_from.to_owned();
    };
    match mail_from.parse::<Mailbox>() {
        Ok(from) => Mailbox::new(Some(name.display(service_name)), from.email).to_string(),
        Err(_) => mail_from.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_organizations_sender_name_goes_via_the_service() {
        let from = "Poortwachter <noreply@poortwachter.example>";
        assert_eq!(from_header(from, "Poortwachter", None), from);
        let named = from_header(from, "Poortwachter", Some("Acme Zorg B.V."));
        let parsed: Mailbox = named.parse().unwrap();
        assert_eq!(
            parsed.name.as_deref(),
            Some("Acme Zorg B.V. via Poortwachter")
        );
        assert_eq!(parsed.email.to_string(), "noreply@poortwachter.example");
        // A name that would not pass the rules (it is never stored so) changes nothing.
        assert_eq!(
            from_header(from, "Poortwachter", Some("x@evil.example")),
            from
        );
    }
}
