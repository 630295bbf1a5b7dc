//! An organization's own look: set by the operator (CLI) or a machine client (API) with the
//! rules of `domain::look`, each change audited with who made it and which parts changed.

use super::{Admin, AdminError};
use crate::domain::account::DisplayName;
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::look::{Accent, Logo, SenderName};
use crate::store::{LookChange, OrgLook};

/// What to change: `None` leaves a part as it is; an empty text (or `Some(None)` for the
/// logo) takes it away, back to Poortwachter's own.
#[derive(Debug, Clone, Default)]
pub struct LookRequest {
    /// The organization's name as users read it (required: it cannot be taken away).
    pub display_name: Option<String>,
    pub accent: Option<String>,
    pub sender_name: Option<String>,
    pub logo: Option<Option<Vec<u8>>>,
}

impl Admin {
    pub async fn look(&self, org: &str) -> Result<OrgLook, AdminError> {
        // The look comes with every organization read.
        Ok(self.organization(org).await?.look)
    }

    /// Checks every part first, so a refused colour changes nothing else either.
    pub async fn set_look(&self, org: &str, request: LookRequest) -> Result<OrgLook, AdminError> {
        let org = self.organization(org).await?;
        let accent = match optional(request.accent.as_deref()) {
            Some(Some(text)) => Some(Some(Accent::parse(text)?.as_str().to_owned())),
            Some(None) => Some(None),
            None => None,
        };
        let sender_name = match optional(request.sender_name.as_deref()) {
            Some(Some(text)) => Some(Some(SenderName::parse(text)?.as_str().to_owned())),
            Some(None) => Some(None),
            None => None,
        };
        let logo = match request.logo {
            Some(Some(bytes)) => {
                let logo = Logo::check(bytes)?;
                Some(Some((logo.bytes, logo.hash)))
            }
            Some(None) => Some(None),
            None => None,
        };
        let name = match request.display_name.as_deref() {
            Some(text) => Some(DisplayName::parse(text)?.as_str().to_owned()),
            None => None,
        };
        let mut parts = Vec::new();
        if let Some(name) = &name {
            parts.push(format!("name {name}"));
        }
        if let Some(accent) = &accent {
            parts.push(format!("accent {}", accent.as_deref().unwrap_or("-")));
        }
        if let Some(name) = &sender_name {
            parts.push(format!("sender name {}", name.as_deref().unwrap_or("-")));
        }
        if let Some(logo) = &logo {
            parts.push(format!(
                "logo {}",
                logo.as_ref().map_or("-", |(_, hash)| hash.as_str())
            ));
        }
        let mut audit =
            AuditRecord::new(self.clock.now(), AuditEvent::LookChanged, Outcome::Success)
                .detail(format!("{}: {}", self.actor.describe(), parts.join(", ")));
        audit.org_id = Some(org.id);
        let change = LookChange {
            name,
            accent,
            sender_name,
            logo,
        };
        Ok(self
            .store
            .change_look(org.id, &change, self.clock.now(), &audit)
            .await?)
    }
}

/// A part as asked: absent (`None`), taken away (empty: `Some(None)`) or set.
fn optional(text: Option<&str>) -> Option<Option<&str>> {
    text.map(str::trim).map(|t| (!t.is_empty()).then_some(t))
}
