//! The security events the audit log keeps: who did what, when, from where, and how it
//! ended. Never a secret: no password, code, link token, session id or TOTP key has a field
//! here, so none can end up in the log by mistake.

use std::borrow::Cow;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditEvent {
    InvitationSent,
    /// The invitation mail was accepted by the SMTP server (`invitation_sent` is when it was
    /// queued), or, as a failure, refused for the first time (`detail`: the server's answer).
    InvitationDelivered,
    InvitationUsed,
    PasswordSet,
    /// The password step of a login.
    LoginPassword,
    /// The authenticator-code step of a login.
    LoginCode,
    /// A set-up e-mail with a new secret (the first one, and "Nieuwe code").
    SetupMail,
    TwoStepEnabled,
    TwoStepReset,
    AccountLocked,
    AccountUnlocked,
    AccountDisabled,
    AccountEnabled,
    SessionEnded,
    /// An OpenID Connect client registered.
    ClientCreated,
    ClientSecretRotated,
    ClientRemoved,
    /// A token-signing key made (first start, or `keys rotate`).
    SigningKeyAdded,
    ConsentGiven,
    ConsentWithdrawn,
    /// An authorization code sent back to a client.
    CodeIssued,
    /// Tokens issued for a code or a refresh token (`detail` says which).
    TokensIssued,
    /// A used code or refresh token presented again: its grant is revoked.
    TokenReused,
    /// A client revoked a grant (RFC 7009), or a user withdrew consent.
    TokensRevoked,
    /// A client failed to authenticate at the token endpoint.
    ClientAuthentication,
    /// A logout token delivered to a client, or a failed attempt.
    BackchannelLogout,
    /// A password reset link asked for (`detail`: `self` or `admin`); sent, limited, or not
    /// sent because the account cannot use one (the requester is never told which).
    ResetRequested,
    /// A herstelcode typed as the second step (`detail` says whether for a login or a reset).
    RecoveryCodeUsed,
    /// A new set of herstelcodes made (the old set, if any, stops working).
    RecoveryCodesCreated,
    /// A new phone's authenticator app took over from the old one.
    TotpReplaced,
    /// A browser may skip the code step from now on (Dit apparaat onthouden).
    DeviceRemembered,
    /// A remembered browser removed by the user (a password change, reset of two-step
    /// verification or logging out everywhere removes them too, with their own line).
    DeviceForgotten,
    /// An organization's password policy or self-service settings changed.
    PolicyChanged,
    /// A user was given a role (`detail`: which) or had it taken away.
    RoleGranted,
    RoleRevoked,
    /// A passkey registered by its user (`detail`: its name).
    PasskeyAdded,
    PasskeyRemoved,
    /// A passkey used to log in (`detail`: `second_step` or `login`, and on a refusal why:
    /// `counter_went_back` for a possibly cloned authenticator, `unknown_credential` …).
    LoginPasskey,
    /// An application registered or changed a login it expects of the user (`detail`: the
    /// key and the date).
    ExpectedLoginRegistered,
    ExpectedLoginWithdrawn,
    /// The look-ahead mail "Controleer of je nog kunt inloggen" went out (`detail`: the key
    /// and the readiness).
    LookAheadMail,
    /// The user ran the test login of Toegang controleren (`detail`: the readiness found).
    AccessChecked,
    /// A webhook subscription made (`detail`: its id and URL), removed, or given a new
    /// signing secret.
    WebhookAdded,
    WebhookRemoved,
    WebhookSecretRotated,
    /// A subscription's events of a time range queued again (`detail`: the range).
    WebhookReplayed,
    /// Audit lines past their retention removed up to a signed checkpoint (`detail`: how many
    /// and where the chain now starts).
    AuditPruned,
    /// An organization's look changed (`detail`: which parts, by whom).
    LookChanged,
}

impl AuditEvent {
    pub const ALL: [AuditEvent; 48] = [
        AuditEvent::InvitationSent,
        AuditEvent::InvitationDelivered,
        AuditEvent::InvitationUsed,
        AuditEvent::PasswordSet,
        AuditEvent::LoginPassword,
        AuditEvent::LoginCode,
        AuditEvent::SetupMail,
        AuditEvent::TwoStepEnabled,
        AuditEvent::TwoStepReset,
        AuditEvent::AccountLocked,
        AuditEvent::AccountUnlocked,
        AuditEvent::AccountDisabled,
        AuditEvent::AccountEnabled,
        AuditEvent::SessionEnded,
        AuditEvent::ClientCreated,
        AuditEvent::ClientSecretRotated,
        AuditEvent::ClientRemoved,
        AuditEvent::SigningKeyAdded,
        AuditEvent::ConsentGiven,
        AuditEvent::ConsentWithdrawn,
        AuditEvent::CodeIssued,
        AuditEvent::TokensIssued,
        AuditEvent::TokenReused,
        AuditEvent::TokensRevoked,
        AuditEvent::ClientAuthentication,
        AuditEvent::BackchannelLogout,
        AuditEvent::ResetRequested,
        AuditEvent::RecoveryCodeUsed,
        AuditEvent::RecoveryCodesCreated,
        AuditEvent::TotpReplaced,
        AuditEvent::DeviceRemembered,
        AuditEvent::DeviceForgotten,
        AuditEvent::PolicyChanged,
        AuditEvent::RoleGranted,
        AuditEvent::RoleRevoked,
        AuditEvent::PasskeyAdded,
        AuditEvent::PasskeyRemoved,
        AuditEvent::LoginPasskey,
        AuditEvent::ExpectedLoginRegistered,
        AuditEvent::ExpectedLoginWithdrawn,
        AuditEvent::LookAheadMail,
        AuditEvent::AccessChecked,
        AuditEvent::WebhookAdded,
        AuditEvent::WebhookRemoved,
        AuditEvent::WebhookSecretRotated,
        AuditEvent::WebhookReplayed,
        AuditEvent::AuditPruned,
        AuditEvent::LookChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditEvent::InvitationSent => "invitation_sent",
            AuditEvent::InvitationDelivered => "invitation_delivered",
            AuditEvent::InvitationUsed => "invitation_used",
            AuditEvent::PasswordSet => "password_set",
            AuditEvent::LoginPassword => "login_password",
            AuditEvent::LoginCode => "login_code",
            AuditEvent::SetupMail => "setup_mail",
            AuditEvent::TwoStepEnabled => "two_step_enabled",
            AuditEvent::TwoStepReset => "two_step_reset",
            AuditEvent::AccountLocked => "account_locked",
            AuditEvent::AccountUnlocked => "account_unlocked",
            AuditEvent::AccountDisabled => "account_disabled",
            AuditEvent::AccountEnabled => "account_enabled",
            AuditEvent::SessionEnded => "session_ended",
            AuditEvent::ClientCreated => "client_created",
            AuditEvent::ClientSecretRotated => "client_secret_rotated",
            AuditEvent::ClientRemoved => "client_removed",
            AuditEvent::SigningKeyAdded => "signing_key_added",
            AuditEvent::ConsentGiven => "consent_given",
            AuditEvent::ConsentWithdrawn => "consent_withdrawn",
            AuditEvent::CodeIssued => "code_issued",
            AuditEvent::TokensIssued => "tokens_issued",
            AuditEvent::TokenReused => "token_reused",
            AuditEvent::TokensRevoked => "tokens_revoked",
            AuditEvent::ClientAuthentication => "client_authentication",
            AuditEvent::BackchannelLogout => "backchannel_logout",
            AuditEvent::ResetRequested => "reset_requested",
            AuditEvent::RecoveryCodeUsed => "recovery_code_used",
            AuditEvent::RecoveryCodesCreated => "recovery_codes_created",
            AuditEvent::TotpReplaced => "totp_replaced",
            AuditEvent::DeviceRemembered => "device_remembered",
            AuditEvent::DeviceForgotten => "device_forgotten",
            AuditEvent::PolicyChanged => "policy_changed",
            AuditEvent::RoleGranted => "role_granted",
            AuditEvent::RoleRevoked => "role_revoked",
            AuditEvent::PasskeyAdded => "passkey_added",
            AuditEvent::PasskeyRemoved => "passkey_removed",
            AuditEvent::LoginPasskey => "login_passkey",
            AuditEvent::ExpectedLoginRegistered => "expected_login_registered",
            AuditEvent::ExpectedLoginWithdrawn => "expected_login_withdrawn",
            AuditEvent::LookAheadMail => "look_ahead_mail",
            AuditEvent::AccessChecked => "access_checked",
            AuditEvent::WebhookAdded => "webhook_added",
            AuditEvent::WebhookRemoved => "webhook_removed",
            AuditEvent::WebhookSecretRotated => "webhook_secret_rotated",
            AuditEvent::WebhookReplayed => "webhook_replayed",
            AuditEvent::AuditPruned => "audit_pruned",
            AuditEvent::LookChanged => "look_changed",
        }
    }

    pub fn from_db(s: &str) -> Option<AuditEvent> {
        AuditEvent::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// How an event ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Wrong password or code (or no such account: the log tells, the user is not told).
    Failure,
    /// Refused unchecked: the account or address is waiting or locked.
    Throttled,
    /// A code that was already used.
    Replayed,
    /// A code of the step just before the window, or an expired pending secret.
    Expired,
    /// "Nieuwe code" asked for sooner than the rate limit allows.
    RateLimited,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Throttled => "throttled",
            Outcome::Replayed => "replayed",
            Outcome::Expired => "expired",
            Outcome::RateLimited => "rate_limited",
        }
    }

    pub const ALL: [Outcome; 6] = [
        Outcome::Success,
        Outcome::Failure,
        Outcome::Throttled,
        Outcome::Replayed,
        Outcome::Expired,
        Outcome::RateLimited,
    ];

    pub fn from_db(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

impl fmt::Display for AuditEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub at: i64,
    pub event: AuditEvent,
    pub outcome: Outcome,
    pub org_id: Option<i64>,
    pub user_id: Option<i64>,
    /// The username as typed for a login of an unknown account (a valid username only:
    /// anything else, which might be a password typed into the wrong field, is not kept).
    pub username: Option<String>,
    /// The client address; `None` for administrator commands.
    pub client: Option<String>,
    /// A word on why (`logout`, `idle`, `administrator`, `too_many_codes` …).
    pub detail: Option<Cow<'static, str>>,
}

impl AuditRecord {
    pub fn new(at: i64, event: AuditEvent, outcome: Outcome) -> AuditRecord {
        AuditRecord {
            at,
            event,
            outcome,
            org_id: None,
            user_id: None,
            username: None,
            client: None,
            detail: None,
        }
    }

    pub fn user(mut self, org_id: i64, user_id: i64, username: &str) -> AuditRecord {
        self.org_id = Some(org_id);
        self.user_id = Some(user_id);
        self.username = Some(username.to_owned());
        self
    }

    pub fn client(mut self, client: &str) -> AuditRecord {
        self.client = Some(client.to_owned());
        self
    }

    pub fn detail(mut self, detail: impl Into<Cow<'static, str>>) -> AuditRecord {
        self.detail = Some(detail.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for event in AuditEvent::ALL {
            assert_eq!(AuditEvent::from_db(event.as_str()), Some(event));
        }
        assert_eq!(Outcome::from_db("throttled"), Some(Outcome::Throttled));
        assert_eq!(Outcome::from_db("nope"), None);
    }
}
