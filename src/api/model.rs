//! The admin API's JSON: what it answers and what it accepts. Every request type refuses
//! unknown fields, so a misspelt field is an error rather than silently ignored.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::problem::{Kind, Problem};
use crate::domain::audit::AuditEvent;
use crate::domain::bulk_invite::{RowCheck, RowProblem};
use crate::domain::onboarding::{self, UserStatus};
use crate::store::{AuditEntry, Organization, UserOverview};

pub use crate::clock::rfc3339;

/// Parses a JSON body into `T`, as a problem naming what is wrong when it cannot: 400 for
/// a body that is no JSON, 422 for JSON whose fields do not fit.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice(body).map_err(|e| {
        let kind = match e.classify() {
            serde_json::error::Category::Data => Kind::InvalidRequest,
            _ => Kind::MalformedJson,
        };
        Problem::new(kind, format!("the JSON body: {e}"))
    })
}

/// A user as the API shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub username: String,
    pub email: String,
    pub display_name: String,
    /// invited, invitation_expired, two_step_pending, active, locked or disabled.
    pub status: String,
    /// Where an employee is on the way in: mail_queued, mail_failing, mail_sent,
    /// link_expired, password_set or two_step_set_up (none for a disabled account).
    pub onboarding: Option<String>,
    /// The SMTP server's answer while the invitation mail fails.
    pub invitation_mail_error: Option<String>,
    pub invitation_expires_at: Option<String>,
    pub two_step_since: Option<String>,
    pub last_login_at: Option<String>,
    pub locked_until: Option<String>,
    pub beheerder: bool,
    pub created_at: String,
}

impl UserView {
    pub fn of(overview: &UserOverview, now: i64) -> UserView {
        let facts = overview.facts();
        let step = onboarding::onboarding_step(&facts, now);
        UserView {
            username: overview.user.username.clone(),
            email: overview.user.email.clone(),
            display_name: overview.user.display_name.clone(),
            status: onboarding::status(&facts, now).as_str().to_owned(),
            invitation_mail_error: match &step {
                Some(onboarding::OnboardingStep::MailFailing(error)) => Some(error.clone()),
                _ => None,
            },
            onboarding: step.map(|s| s.as_str().to_owned()),
            invitation_expires_at: overview.invitation.as_ref().map(|i| rfc3339(i.expires_at)),
            two_step_since: overview
                .two_step_since
                .filter(|_| overview.two_step == Some(true))
                .map(rfc3339),
            last_login_at: overview.last_login_at.map(rfc3339),
            locked_until: (overview.blocked_until > now).then(|| rfc3339(overview.blocked_until)),
            beheerder: overview.beheerder,
            created_at: rfc3339(overview.created_at),
        }
    }
}

/// One page of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub users: Vec<UserView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A user to invite.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteRequest {
    /// Login name: 2 to 64 characters, a-z, digits, `.`, `_`, `-`, `@`.
    pub username: String,
    pub email: String,
    /// The name used in the invitation's greeting.
    pub display_name: String,
}

/// The answer to an invitation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Invited {
    pub username: String,
    pub email: String,
    pub status: String,
    pub invitation_expires_at: String,
}

/// How one row of a bulk invitation fared.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RowResult {
    /// The row's line in the CSV file (the header is line 1) or its position in the array
    /// (from 1).
    pub line: usize,
    pub username: String,
    /// `invited`, `refused` (this row has problems) or `not_sent` (another row has).
    pub result: String,
    pub problems: Vec<RowProblemView>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RowProblemView {
    /// invalid_username, invalid_email, invalid_display_name, field_count,
    /// duplicate_in_upload, username_taken or already_active.
    pub code: String,
    pub message: String,
}

/// The answer to a bulk invitation: every row's result. All rows were invited, or none.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkResult {
    pub invited: usize,
    pub rows: Vec<RowResult>,
}

impl BulkResult {
    pub fn of(checks: &[RowCheck], invited: bool) -> BulkResult {
        let rows = checks
            .iter()
            .map(|check| RowResult {
                line: check.raw.line,
                username: check.raw.username.trim().to_lowercase(),
                result: match (invited, check.is_ok()) {
                    (true, _) => "invited",
                    (false, true) => "not_sent",
                    (false, false) => "refused",
                }
                .to_owned(),
                problems: check
                    .problems
                    .iter()
                    .map(|p| RowProblemView {
                        code: p.code().to_owned(),
                        message: problem_message(p),
                    })
                    .collect(),
            })
            .collect();
        BulkResult {
            invited: if invited { checks.len() } else { 0 },
            rows,
        }
    }
}

fn problem_message(problem: &RowProblem) -> String {
    match problem {
        RowProblem::Invalid(e) => e.to_string(),
        RowProblem::FieldCount { expected, found } => {
            format!("{found} fields where the header has {expected}")
        }
        RowProblem::Duplicate { first_line } => {
            format!("the same username is on line {first_line}")
        }
        RowProblem::Taken => "the username belongs to another organization's account".into(),
        RowProblem::AlreadyActive => {
            "the user has already activated the account (or it is disabled)".into()
        }
    }
}

/// What an action did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionResult {
    pub username: String,
    /// Whether anything changed (false: it already was so).
    pub changed: bool,
    /// Sessions ended by this action, where it ends sessions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions_ended: Option<u64>,
}

/// A reset of two-step verification, with its reason for the audit log.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetTwoStepRequest {
    pub reason: Option<String>,
}

/// An organization's password policy.
#[derive(Debug, Serialize, Deserialize, ToSchema, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct PolicyView {
    pub min_length: u16,
    pub max_length: u16,
    pub require_lowercase: bool,
    pub require_uppercase: bool,
    pub require_digit: bool,
    pub require_symbol: bool,
}

/// What an organization lets its users do themselves.
#[derive(Debug, Serialize, Deserialize, ToSchema, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct SelfServiceView {
    /// "Wachtwoord vergeten?" sends a reset link.
    pub password_reset: bool,
    /// Days a browser may skip the code step after a correct code (0: never, at most 30).
    pub remember_device_days: u8,
}

/// What an organization allows or requires of passkeys (changed with `org policy set`).
#[derive(Debug, Serialize, ToSchema)]
pub struct PasskeysView {
    /// "Inloggen met een passkey" (one step) is offered.
    pub login: bool,
    /// From when only a passkey passes the second step (RFC 3339), if required.
    pub required_from: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationView {
    pub slug: String,
    pub name: String,
    pub language: String,
    pub password_policy: PolicyView,
    pub self_service: SelfServiceView,
    pub passkeys: PasskeysView,
}

impl OrganizationView {
    pub fn of(org: &Organization) -> OrganizationView {
        let classes = org.policy.classes();
        OrganizationView {
            slug: org.slug.clone(),
            name: org.name.clone(),
            language: org.lang.code().to_owned(),
            password_policy: PolicyView {
                min_length: org.policy.min_length(),
                max_length: org.policy.max_length(),
                require_lowercase: classes.lowercase,
                require_uppercase: classes.uppercase,
                require_digit: classes.digit,
                require_symbol: classes.symbol,
            },
            self_service: SelfServiceView {
                password_reset: org.self_service.reset,
                remember_device_days: org.self_service.remember_device_days,
            },
            passkeys: PasskeysView {
                login: org.passkeys.login,
                required_from: org.passkeys.required_from.map(rfc3339),
            },
        }
    }
}

/// A change of an organization's settings: the parts given are replaced whole.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationChange {
    pub password_policy: Option<PolicyView>,
    pub self_service: Option<SelfServiceView>,
}

/// An audit line.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: i64,
    pub at: String,
    pub event: String,
    pub outcome: String,
    pub username: Option<String>,
    /// The client's address, where the event came from a request.
    pub client_address: Option<String>,
    /// Who acted (`client …`, `beheerder …`, `administrator`) or a word on why.
    pub detail: Option<String>,
}

impl AuditEventView {
    pub fn of(entry: &AuditEntry) -> AuditEventView {
        AuditEventView {
            id: entry.id,
            at: rfc3339(entry.at),
            event: entry.event.as_str().to_owned(),
            outcome: entry.outcome.as_str().to_owned(),
            username: entry.username.clone(),
            client_address: entry.client.clone(),
            detail: entry.detail.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Newest first.
    pub events: Vec<AuditEventView>,
    pub next_cursor: Option<String>,
}

/// Parses `status=` of the user list.
pub fn parse_status(text: &str) -> Result<UserStatus, Problem> {
    UserStatus::parse(text).ok_or_else(|| {
        let all: Vec<&str> = UserStatus::ALL.iter().map(|s| s.as_str()).collect();
        Problem::new(
            Kind::InvalidRequest,
            format!("status: one of {}", all.join(", ")),
        )
    })
}

/// Parses `event=` of the audit list.
pub fn parse_event(text: &str) -> Result<AuditEvent, Problem> {
    AuditEvent::from_db(text)
        .ok_or_else(|| Problem::new(Kind::InvalidRequest, format!("event: unknown {text:?}")))
}

/// A page cursor: the id of the last item shown. Opaque to callers; a tampered cursor
/// can only move within the organization, as every query is bound to it.
pub fn cursor_of(id: i64) -> String {
    data_encoding::BASE64URL_NOPAD.encode(format!("c{id}").as_bytes())
}

pub fn parse_cursor(text: &str) -> Result<i64, Problem> {
    data_encoding::BASE64URL_NOPAD
        .decode(text.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix('c').and_then(|n| n.parse().ok()))
        .ok_or_else(|| Problem::new(Kind::InvalidRequest, "cursor: not one this API gave"))
}
