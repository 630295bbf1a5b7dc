//! The rules around passkeys (WebAuthn credentials): their names, how long a ceremony
//! lives, what an organization allows or requires, and when one may be removed. The
//! ceremony itself (challenges, signatures, counters) is webauthn-rs's, in `crate::passkeys`.

use std::fmt;

/// A registration or authentication must be answered within five minutes, once.
pub const CEREMONY_SECONDS: i64 = 5 * 60;
/// Days a user has to add a passkey when `--require-passkey` is switched on without a
/// number of days.
pub const DEFAULT_GRACE_DAYS: u16 = 14;
pub const MAX_GRACE_DAYS: u16 = 365;
const MAX_NAME_CHARS: usize = 60;

/// What a ceremony is for; a challenge made for one purpose is never accepted for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// "Passkey toevoegen" by a logged-in user.
    Register,
    /// PASSKEY as the second step after the password.
    SecondStep,
    /// "Inloggen met een passkey": the credential names the user.
    Login,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::SecondStep => "second_step",
            Purpose::Login => "login",
        }
    }
}

/// The name a user gives a passkey ("Laptop werk"), shown in their list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyName(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    Empty,
    TooLong,
}

impl PasskeyName {
    pub fn parse(input: &str) -> Result<PasskeyName, NameError> {
        // Control characters would break the list and the notice mail's subject line.
        let name: String = input
            .trim()
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if name.is_empty() {
            Err(NameError::Empty)
        } else if name.chars().count() > MAX_NAME_CHARS {
            Err(NameError::TooLong)
        } else {
            Ok(PasskeyName(name))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PasskeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an organization allows (`org policy set --passkey-login`, `--require-passkey`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasskeyPolicy {
    /// "Inloggen met een passkey" (one step) is offered.
    pub login: bool,
    /// From this moment only passkeys pass the second step; before it, users are reminded.
    pub required_from: Option<i64>,
}

impl Default for PasskeyPolicy {
    fn default() -> PasskeyPolicy {
        PasskeyPolicy {
            login: true,
            required_from: None,
        }
    }
}

/// Where a user of the organization stands with the requirement at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// Passkeys are optional.
    Optional,
    /// Required from `until`: a user without a passkey is asked to add one.
    Grace { until: i64 },
    /// Only passkeys pass the second step; a user without one adds one at this login.
    Required,
}

impl PasskeyPolicy {
    pub fn requirement(&self, now: i64) -> Requirement {
        match self.required_from {
            None => Requirement::Optional,
            Some(from) if now < from => Requirement::Grace { until: from },
            Some(_) => Requirement::Required,
        }
    }
}

/// Which second steps a user may take now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecondSteps {
    pub app: bool,
    pub passkey: bool,
    /// After the app's code, the login is complete only once a passkey is added.
    pub must_add_passkey: bool,
}

pub fn second_steps(passkeys: usize, requirement: Requirement) -> SecondSteps {
    let has_passkey = passkeys > 0;
    match requirement {
        Requirement::Required if has_passkey => SecondSteps {
            app: false,
            passkey: true,
            must_add_passkey: false,
        },
        // The last login with the app: it ends at "Passkey toevoegen".
        Requirement::Required => SecondSteps {
            app: true,
            passkey: false,
            must_add_passkey: true,
        },
        _ => SecondSteps {
            app: true,
            passkey: has_passkey,
            must_add_passkey: false,
        },
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovalRefused {
    /// It is the user's last second factor (no app set up, no other passkey).
    LastSecondFactor,
    /// The organization requires passkeys and it is the user's last one.
    RequiredByOrganization,
}

/// Whether a user may remove one of their `passkeys` now: never the last second factor,
/// and never the last passkey where the organization requires them.
pub fn may_remove(
    passkeys: usize,
    has_app: bool,
    requirement: Requirement,
) -> Result<(), RemovalRefused> {
    let others = passkeys.saturating_sub(1);
    if others == 0 && requirement == Requirement::Required {
        return Err(RemovalRefused::RequiredByOrganization);
    }
    if others == 0 && !has_app {
        return Err(RemovalRefused::LastSecondFactor);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_single_line_and_short() {
        assert_eq!(
            PasskeyName::parse("  Laptop werk ").unwrap().as_str(),
            "Laptop werk"
        );
        assert_eq!(PasskeyName::parse("a\nb").unwrap().as_str(), "a b");
        assert_eq!(PasskeyName::parse(" \t "), Err(NameError::Empty));
        assert!(PasskeyName::parse(&"é".repeat(60)).is_ok());
        assert_eq!(PasskeyName::parse(&"é".repeat(61)), Err(NameError::TooLong));
    }

    #[test]
    fn the_requirement_starts_after_the_grace_period() {
        let policy = PasskeyPolicy {
            login: true,
            required_from: Some(1000),
        };
        assert_eq!(policy.requirement(999), Requirement::Grace { until: 1000 });
        assert_eq!(policy.requirement(1000), Requirement::Required);
        assert_eq!(
            PasskeyPolicy::default().requirement(5),
            Requirement::Optional
        );
    }

    #[test]
    fn a_required_passkey_replaces_the_app_once_there_is_one() {
        let optional = second_steps(0, Requirement::Optional);
        assert!(optional.app && !optional.passkey && !optional.must_add_passkey);
        assert!(second_steps(2, Requirement::Grace { until: 9 }).app);
        let with = second_steps(1, Requirement::Required);
        assert!(!with.app && with.passkey);
        let without = second_steps(0, Requirement::Required);
        assert!(without.app && without.must_add_passkey);
    }

    #[test]
    fn the_last_second_factor_stays() {
        assert_eq!(may_remove(1, true, Requirement::Optional), Ok(()));
        assert_eq!(
            may_remove(1, false, Requirement::Optional),
            Err(RemovalRefused::LastSecondFactor)
        );
        assert_eq!(
            may_remove(1, true, Requirement::Required),
            Err(RemovalRefused::RequiredByOrganization)
        );
        assert_eq!(may_remove(2, false, Requirement::Required), Ok(()));
        assert_eq!(may_remove(1, true, Requirement::Grace { until: 5 }), Ok(()));
    }
}
