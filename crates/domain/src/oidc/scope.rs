//! Scopes (OpenID Connect Core §5.4) and what each releases. Unknown scopes are ignored
//! (RFC 6749 §3.3 lets the server grant fewer than asked); `openid` is required, since this
//! is an OpenID provider and nothing else.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes {
    pub profile: bool,
    pub email: bool,
    pub organization: bool,
}

pub const SUPPORTED: [&str; 4] = ["openid", "profile", "email", "organization"];

impl Scopes {
    /// The granted scopes of a requested `scope` parameter; `None` without `openid`.
    pub fn parse(text: &str) -> Option<Scopes> {
        let mut openid = false;
        let mut scopes = Scopes::default();
        for word in text.split(' ').filter(|w| !w.is_empty()) {
            match word {
                "openid" => openid = true,
                "profile" => scopes.profile = true,
                "email" => scopes.email = true,
                "organization" => scopes.organization = true,
                _ => {}
            }
        }
        openid.then_some(scopes)
    }

    /// Whether every scope of `self` is also in `granted` (a remembered consent covers it).
    pub fn within(&self, granted: &Scopes) -> bool {
        (!self.profile || granted.profile)
            && (!self.email || granted.email)
            && (!self.organization || granted.organization)
    }

    pub fn union(&self, other: &Scopes) -> Scopes {
        Scopes {
            profile: self.profile || other.profile,
            email: self.email || other.email,
            organization: self.organization || other.organization,
        }
    }

    /// The names beyond `openid`, for consent pages.
    pub fn extra(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.profile {
            names.push("profile");
        }
        if self.email {
            names.push("email");
        }
        if self.organization {
            names.push("organization");
        }
        names
    }
}

impl fmt::Display for Scopes {
    /// The space-separated `scope` value, `openid` first.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("openid")?;
        for name in self.extra() {
            write!(f, " {name}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openid_is_required_and_unknown_scopes_are_ignored() {
        assert_eq!(Scopes::parse("profile email"), None);
        let scopes = Scopes::parse("openid email  offline_access phone").unwrap();
        assert_eq!(scopes.to_string(), "openid email");
        assert_eq!(Scopes::parse("openid").unwrap().to_string(), "openid");
    }

    #[test]
    fn a_consent_covers_the_same_or_fewer_scopes() {
        let given = Scopes::parse("openid profile email").unwrap();
        assert!(Scopes::parse("openid email").unwrap().within(&given));
        assert!(!Scopes::parse("openid organization").unwrap().within(&given));
    }
}
