//! The password policy's requirements in words: as the list states them before the user
//! types, and as the answer to a password that broke them.

use super::Texts;
use crate::domain::lang::Lang;
use crate::domain::password::Requirement;

impl Texts {
    /// A requirement as the policy list states it, before the user types.
    pub fn requirement(&self, requirement: &Requirement) -> String {
        let nl = self.lang == Lang::Nl;
        match *requirement {
            Requirement::MinLength(n) if nl => format!("minimaal {n} tekens lang zijn"),
            Requirement::MinLength(n) => format!("be at least {n} characters long"),
            Requirement::MaxLength(n) if nl => format!("maximaal {n} tekens lang zijn"),
            Requirement::MaxLength(n) => format!("be at most {n} characters long"),
            Requirement::Lowercase if nl => "een kleine letter bevatten".into(),
            Requirement::Lowercase => "contain a lowercase letter".into(),
            Requirement::Uppercase if nl => "een hoofdletter bevatten".into(),
            Requirement::Uppercase => "contain an uppercase letter".into(),
            Requirement::Digit if nl => "een cijfer bevatten".into(),
            Requirement::Digit => "contain a digit".into(),
            Requirement::Symbol if nl => "een leesteken of symbool bevatten (zoals ! ? - #)".into(),
            Requirement::Symbol => "contain a punctuation mark or symbol (such as ! ? - #)".into(),
            Requirement::NotPersonal if nl => {
                "niet je gebruikersnaam of het eerste deel van je e-mailadres bevatten".into()
            }
            Requirement::NotPersonal => {
                "not contain your username or the first part of your e-mail address".into()
            }
            Requirement::NotCommon if nl => {
                "geen veelgebruikt of eerder uitgelekt wachtwoord zijn".into()
            }
            Requirement::NotCommon => "not be a common or previously leaked password".into(),
            Requirement::Typable if nl => "alleen tekens bevatten die je kunt typen".into(),
            Requirement::Typable => "contain only characters you can type".into(),
        }
    }

    /// What to do about a requirement the typed password broke.
    pub fn violation(&self, requirement: &Requirement) -> String {
        let nl = self.lang == Lang::Nl;
        match *requirement {
            Requirement::MinLength(n) if nl => format!("Te kort: gebruik minimaal {n} tekens."),
            Requirement::MinLength(n) => format!("Too short: use at least {n} characters."),
            Requirement::MaxLength(n) if nl => format!("Te lang: gebruik maximaal {n} tekens."),
            Requirement::MaxLength(n) => format!("Too long: use at most {n} characters."),
            Requirement::Lowercase if nl => "Voeg een kleine letter toe.".into(),
            Requirement::Lowercase => "Add a lowercase letter.".into(),
            Requirement::Uppercase if nl => "Voeg een hoofdletter toe.".into(),
            Requirement::Uppercase => "Add an uppercase letter.".into(),
            Requirement::Digit if nl => "Voeg een cijfer toe.".into(),
            Requirement::Digit => "Add a digit.".into(),
            Requirement::Symbol if nl => "Voeg een leesteken of symbool toe.".into(),
            Requirement::Symbol => "Add a punctuation mark or symbol.".into(),
            Requirement::NotPersonal if nl => {
                "Gebruik niet je gebruikersnaam of het eerste deel van je e-mailadres.".into()
            }
            Requirement::NotPersonal => {
                "Do not use your username or the first part of your e-mail address.".into()
            }
            Requirement::NotCommon if nl => {
                "Dit wachtwoord is te bekend: het staat op een lijst van veelgebruikte of uitgelekte wachtwoorden.".into()
            }
            Requirement::NotCommon => {
                "This password is too well known: it is on a list of common or leaked passwords.".into()
            }
            Requirement::Typable if nl => {
                "Er staat een teken in dat niet getypt kan worden (zoals een stuurteken). Typ het wachtwoord opnieuw.".into()
            }
            Requirement::Typable => {
                "It contains a character that cannot be typed (such as a control character). Type the password again.".into()
            }
        }
    }
}
