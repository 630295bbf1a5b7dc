//! How a login was made, and what the tokens say about it: `amr` (RFC 8176) and `acr`.
//!
//! The method is fixed when a session's login completes and stored with the session; the
//! codes and tokens issued from that session carry it to the application, which may ask for
//! more where it matters (a phishing-resistant login before showing medical details, say).

/// `acr`: the password and a second factor, the REFEDS MFA profile.
pub const ACR_MFA: &str = "https://refeds.org/profile/mfa";
/// `acr`: one factor only this time (the password on a remembered device).
pub const ACR_SFA: &str = "https://refeds.org/profile/sfa";
/// `acr`: phishing-resistant (OpenID EAP ACR Values 1.0 §2): a passkey took part, bound to
/// this site's origin, so a look-alike page cannot replay what the user did. (`phrh`, the
/// hardware-protected variant, is never claimed: with attestation `none` the hardware cannot
/// be proven.)
pub const ACR_PHISHING_RESISTANT: &str = "phr";
/// Every `acr` value this service issues, strongest first (discovery's `acr_values_supported`).
pub const ACR_VALUES: [&str; 3] = [ACR_PHISHING_RESISTANT, ACR_MFA, ACR_SFA];

/// How a session's login was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginMethod {
    /// Password and the authenticator app's code (the guide's way).
    PasswordAndApp,
    /// Password and a herstelcode.
    PasswordAndRecoveryCode,
    /// Password on a browser remembered after an earlier code (Dit apparaat onthouden).
    PasswordOnRememberedDevice,
    /// Password and a passkey as the second step.
    PasswordAndPasskey(KeyKind),
    /// "Inloggen met een passkey": the passkey alone, with user verification (PIN or
    /// biometrics on the device), which makes it two factors in one step.
    Passkey(KeyKind),
}

/// Where a passkey's private key lives, as far as the authenticator's flags tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Bound to one device (not backup-eligible): a security key, a TPM (`hwk`).
    DeviceBound,
    /// Synced between devices by a password manager or platform account (`swk`).
    Synced,
}

impl KeyKind {
    pub fn from_backup_eligible(backup_eligible: bool) -> KeyKind {
        if backup_eligible {
            KeyKind::Synced
        } else {
            KeyKind::DeviceBound
        }
    }

    fn amr(self) -> &'static str {
        match self {
            KeyKind::DeviceBound => "hwk",
            KeyKind::Synced => "swk",
        }
    }
}

impl LoginMethod {
    /// The `amr` values (RFC 8176 §2): what the user did in this login.
    pub fn amr(self) -> Vec<&'static str> {
        match self {
            LoginMethod::PasswordAndApp | LoginMethod::PasswordAndRecoveryCode => {
                vec!["pwd", "otp", "mfa"]
            }
            LoginMethod::PasswordOnRememberedDevice => vec!["pwd"],
            LoginMethod::PasswordAndPasskey(kind) => vec!["pwd", kind.amr(), "pop", "user", "mfa"],
            LoginMethod::Passkey(kind) => vec![kind.amr(), "pop", "user", "mfa"],
        }
    }

    /// The `acr` value: the strongest of [`ACR_VALUES`] this login meets.
    pub fn acr(self) -> &'static str {
        match self {
            LoginMethod::PasswordAndPasskey(_) | LoginMethod::Passkey(_) => ACR_PHISHING_RESISTANT,
            LoginMethod::PasswordAndApp | LoginMethod::PasswordAndRecoveryCode => ACR_MFA,
            LoginMethod::PasswordOnRememberedDevice => ACR_SFA,
        }
    }

    pub fn as_db(self) -> &'static str {
        match self {
            LoginMethod::PasswordAndApp => "pwd_otp",
            LoginMethod::PasswordAndRecoveryCode => "pwd_recovery",
            LoginMethod::PasswordOnRememberedDevice => "pwd_device",
            LoginMethod::PasswordAndPasskey(KeyKind::DeviceBound) => "pwd_passkey_hwk",
            LoginMethod::PasswordAndPasskey(KeyKind::Synced) => "pwd_passkey_swk",
            LoginMethod::Passkey(KeyKind::DeviceBound) => "passkey_hwk",
            LoginMethod::Passkey(KeyKind::Synced) => "passkey_swk",
        }
    }

    /// The stored method; sessions from before methods were stored logged in with the app.
    pub fn from_db(value: Option<&str>) -> LoginMethod {
        match value {
            Some("pwd_recovery") => LoginMethod::PasswordAndRecoveryCode,
            Some("pwd_device") => LoginMethod::PasswordOnRememberedDevice,
            Some("pwd_passkey_hwk") => LoginMethod::PasswordAndPasskey(KeyKind::DeviceBound),
            Some("pwd_passkey_swk") => LoginMethod::PasswordAndPasskey(KeyKind::Synced),
            Some("passkey_hwk") => LoginMethod::Passkey(KeyKind::DeviceBound),
            Some("passkey_swk") => LoginMethod::Passkey(KeyKind::Synced),
            _ => LoginMethod::PasswordAndApp,
        }
    }

    /// Whether a passkey took part (the organization's phishing-resistance requirement).
    pub fn used_passkey(self) -> bool {
        matches!(
            self,
            LoginMethod::PasswordAndPasskey(_) | LoginMethod::Passkey(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [LoginMethod; 7] = [
        LoginMethod::PasswordAndApp,
        LoginMethod::PasswordAndRecoveryCode,
        LoginMethod::PasswordOnRememberedDevice,
        LoginMethod::PasswordAndPasskey(KeyKind::DeviceBound),
        LoginMethod::PasswordAndPasskey(KeyKind::Synced),
        LoginMethod::Passkey(KeyKind::DeviceBound),
        LoginMethod::Passkey(KeyKind::Synced),
    ];

    #[test]
    fn methods_round_trip_through_the_database() {
        for method in ALL {
            assert_eq!(LoginMethod::from_db(Some(method.as_db())), method);
        }
        assert_eq!(LoginMethod::from_db(None), LoginMethod::PasswordAndApp);
    }

    #[test]
    fn amr_says_what_the_user_did() {
        assert_eq!(LoginMethod::PasswordAndApp.amr(), ["pwd", "otp", "mfa"]);
        assert_eq!(LoginMethod::PasswordOnRememberedDevice.amr(), ["pwd"]);
        assert_eq!(
            LoginMethod::Passkey(KeyKind::Synced).amr(),
            ["swk", "pop", "user", "mfa"]
        );
        assert_eq!(
            LoginMethod::PasswordAndPasskey(KeyKind::DeviceBound).amr(),
            ["pwd", "hwk", "pop", "user", "mfa"]
        );
    }

    #[test]
    fn only_a_passkey_login_is_phishing_resistant() {
        for method in ALL {
            assert_eq!(
                method.acr() == ACR_PHISHING_RESISTANT,
                method.used_passkey()
            );
            assert!(ACR_VALUES.contains(&method.acr()));
        }
        assert_eq!(LoginMethod::PasswordOnRememberedDevice.acr(), ACR_SFA);
        assert_eq!(KeyKind::from_backup_eligible(true), KeyKind::Synced);
    }
}
