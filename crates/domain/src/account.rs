//! Who a user is and where their account stands: validated names and addresses, the account
//! and invitation states, and the steps of a login.

use std::fmt;

/// A login name: 2–64 characters of `a-z 0-9 . _ - @`, stored and compared in lower case so
/// "JanJansen" and "janjansen" are one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Username, InvalidInput> {
        if raw.chars().any(char::is_control) {
            return Err(InvalidInput::Username);
        }
        let lowered = raw.trim().to_lowercase();
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(c);
        if !(2..=64).contains(&lowered.len()) || !lowered.chars().all(allowed) {
            return Err(InvalidInput::Username);
        }
        Ok(Username(lowered))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address that lettre can send to; CR, LF and anything else that could smuggle a
/// header are refused by the parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailAddress(lettre::Address);

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<EmailAddress, InvalidInput> {
        let trimmed = raw.trim();
        // CR/LF anywhere, even where trimming would remove it, means someone is probing.
        if trimmed.len() > 254 || raw.chars().any(char::is_control) {
            return Err(InvalidInput::Email);
        }
        let address: lettre::Address = trimmed.parse().map_err(|_| InvalidInput::Email)?;
        if !address.domain().contains('.') && address.domain() != "localhost" {
            return Err(InvalidInput::Email);
        }
        Ok(EmailAddress(address))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }

    pub fn local_part(&self) -> &str {
        self.0.user()
    }

    pub fn address(&self) -> &lettre::Address {
        &self.0
    }

    /// "j***@example.nl": enough for the user to recognise, too little to harvest.
    pub fn masked(&self) -> String {
        let first = self.local_part().chars().next().unwrap_or('*');
        format!("{first}***@{}", self.0.domain())
    }
}

/// A name for greetings and mail headers: 1–100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<DisplayName, InvalidInput> {
        let trimmed = raw.trim();
        let length = trimmed.chars().count();
        if !(1..=100).contains(&length) || raw.chars().any(char::is_control) {
            return Err(InvalidInput::DisplayName);
        }
        Ok(DisplayName(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An organization's short name for the CLI: 2–40 characters of `a-z 0-9 -`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSlug(String);

impl OrgSlug {
    pub fn parse(raw: &str) -> Result<OrgSlug, InvalidInput> {
        let s = raw.trim().to_lowercase();
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if !(2..=40).contains(&s.len()) || !s.chars().all(allowed) || s.starts_with('-') {
            return Err(InvalidInput::OrgSlug);
        }
        Ok(OrgSlug(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidInput {
    #[error("a username is 2 to 64 characters: letters a-z, digits and . _ - @")]
    Username,
    #[error("not a valid e-mail address")]
    Email,
    #[error("a display name is 1 to 100 characters without control characters")]
    DisplayName,
    #[error("an organization slug is 2 to 40 characters: letters a-z, digits and -")]
    OrgSlug,
}

/// Where an account stands. An invited account has no password yet and cannot log in; a
/// disabled one (by an administrator) can neither log in nor activate, and has no sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountState {
    Invited,
    Active,
    Disabled,
}

impl AccountState {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountState::Invited => "invited",
            AccountState::Active => "active",
            AccountState::Disabled => "disabled",
        }
    }

    pub fn from_db(s: &str) -> Option<AccountState> {
        match s {
            "invited" => Some(AccountState::Invited),
            "active" => Some(AccountState::Active),
            _ => None,
        }
    }
}

impl fmt::Display for AccountState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// What the database knows about one invitation link.
#[derive(Debug, Clone, Copy)]
pub struct InvitationRecord {
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub superseded_at: Option<i64>,
}

/// What a link can still do, which decides the page the user sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    Usable,
    Used,
    /// A newer invitation was sent for the same account; only that one works.
    Superseded,
    Expired,
    /// The account was disabled: nothing can be done with the link, whatever else is true
    /// of it (and nothing more is said than a login would say).
    AccountUnavailable,
}

impl InvitationRecord {
    /// The link's status for an account in `account` state.
    pub fn status(&self, account: AccountState, now: i64) -> InvitationStatus {
        if account == AccountState::Disabled {
            InvitationStatus::AccountUnavailable
        } else if self.used_at.is_some() {
            InvitationStatus::Used
        } else if self.superseded_at.is_some() {
            InvitationStatus::Superseded
        } else if now >= self.expires_at {
            InvitationStatus::Expired
        } else {
            InvitationStatus::Usable
        }
    }
}

/// How far a session has come through the login. A session is only fully logged in at
/// [`LoginStage::Complete`]; the steps between (the second factor) are their own stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginStage {
    /// The password was right; the second factor is still to come. Such a session opens only
    /// the two-step pages and log-out.
    SecondFactor,
    /// The second step was taken with the app, but the organization requires a passkey now:
    /// the login completes once one is added. Such a session opens only that page.
    PasskeyRequired,
    Complete,
}

impl LoginStage {
    pub fn as_str(self) -> &'static str {
        match self {
            LoginStage::SecondFactor => "second_factor",
            LoginStage::PasskeyRequired => "passkey_required",
            LoginStage::Complete => "complete",
        }
    }

    pub fn from_db(s: &str) -> Option<LoginStage> {
        match s {
            "second_factor" => Some(LoginStage::SecondFactor),
            "passkey_required" => Some(LoginStage::PasskeyRequired),
            "complete" => Some(LoginStage::Complete),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lowercased_and_restricted() {
        assert_eq!(
            Username::parse(" JanJansen ").unwrap().as_str(),
            "janjansen"
        );
        assert_eq!(
            Username::parse("j.de-vries_2@acme").unwrap().as_str(),
            "j.de-vries_2@acme"
        );
        for bad in [
            "",
            "x",
            "jan jansen",
            "jan\r\nbcc",
            "<script>",
            &"a".repeat(65),
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn email_addresses_refuse_header_injection() {
        assert!(EmailAddress::parse("jan@example.nl").is_ok());
        for bad in [
            "jan@example.nl\r\nBcc: x@evil.test",
            "jan@example.nl\n",
            "jan",
            "jan@",
            "@example.nl",
            "jan@nodot",
            "a b@example.nl",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn masked_address_hides_the_local_part() {
        let email = EmailAddress::parse("jan.jansen@example.nl").unwrap();
        assert_eq!(email.masked(), "j***@example.nl");
    }

    #[test]
    fn display_names_refuse_control_characters() {
        assert!(DisplayName::parse("Jan de Vries").is_ok());
        assert!(DisplayName::parse("Jan\r\nBcc: x").is_err());
        assert!(DisplayName::parse("   ").is_err());
    }

    #[test]
    fn invitation_status_checks_account_then_use_then_supersede_then_expiry() {
        let invited = AccountState::Invited;
        let fresh = InvitationRecord {
            expires_at: 100,
            used_at: None,
            superseded_at: None,
        };
        assert_eq!(fresh.status(invited, 99), InvitationStatus::Usable);
        assert_eq!(fresh.status(invited, 100), InvitationStatus::Expired);
        let used = InvitationRecord {
            used_at: Some(50),
            ..fresh
        };
        assert_eq!(
            used.status(AccountState::Active, 200),
            InvitationStatus::Used
        );
        let superseded = InvitationRecord {
            superseded_at: Some(60),
            ..fresh
        };
        assert_eq!(superseded.status(invited, 10), InvitationStatus::Superseded);
        for record in [fresh, used, superseded] {
            assert_eq!(
                record.status(AccountState::Disabled, 10),
                InvitationStatus::AccountUnavailable
            );
        }
    }
}
