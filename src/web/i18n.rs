//! Every word a user reads, in Dutch and English. Dutch uses the guide's on-screen words
//! (OPSLAAN, INLOGGEN, HIER) because those are the words users know.
//! A `{}` in a text is filled with [`Texts::fill`].

use crate::domain::lang::Lang;
use crate::domain::password::Requirement;

pub struct Texts {
    pub lang: Lang,
    pub other_lang_name: &'static str,
    pub login_title: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub login_button: &'static str,
    pub login_failed: &'static str,
    pub activated_notice: &'static str,
    pub logged_out_notice: &'static str,
    pub activate_title: &'static str,
    pub greeting: &'static str,
    pub activate_intro: &'static str,
    pub your_username: &'static str,
    pub requirements_heading: &'static str,
    pub errors_heading: &'static str,
    pub new_password: &'static str,
    pub repeat_password: &'static str,
    pub mismatch: &'static str,
    pub save_button: &'static str,
    pub link_used_title: &'static str,
    pub link_used_body: &'static str,
    pub link_expired_title: &'static str,
    pub link_expired_body: &'static str,
    pub link_superseded_title: &'static str,
    pub link_superseded_body: &'static str,
    pub link_invalid_title: &'static str,
    pub link_invalid_body: &'static str,
    pub to_login: &'static str,
    pub home_title: &'static str,
    pub home_success: &'static str,
    pub logged_in_as: &'static str,
    pub organization: &'static str,
    pub logout_button: &'static str,
    pub invitation_subject: &'static str,
    pub mail_greeting: &'static str,
    pub invitation_intro: &'static str,
    pub here: &'static str,
    pub click_before: &'static str,
    pub click_after: &'static str,
    pub invitation_validity: &'static str,
    pub invitation_fallback: &'static str,
    pub not_expected: &'static str,
}

pub static NL: Texts = Texts {
    lang: Lang::Nl,
    other_lang_name: "English",
    login_title: "Inloggen",
    username: "Gebruikersnaam",
    password: "Wachtwoord",
    login_button: "INLOGGEN",
    login_failed: "Gebruikersnaam of wachtwoord is onjuist.",
    activated_notice: "Je wachtwoord is opgeslagen. Log nu in met je gebruikersnaam en je nieuwe wachtwoord.",
    logged_out_notice: "Je bent uitgelogd.",
    activate_title: "Account activeren",
    greeting: "Welkom, {}",
    activate_intro: "Je account bij {} is bijna klaar: maak hier eerst een wachtwoord aan.",
    your_username: "Je gebruikersnaam",
    requirements_heading: "Je wachtwoord moet:",
    errors_heading: "Het wachtwoord voldoet nog niet:",
    new_password: "Nieuw wachtwoord",
    repeat_password: "Herhaal wachtwoord",
    mismatch: "De twee wachtwoorden zijn niet gelijk.",
    save_button: "OPSLAAN",
    link_used_title: "Deze link is al gebruikt",
    link_used_body: "Je account is met deze link al geactiveerd. Log in met je gebruikersnaam en wachtwoord. Weet je je wachtwoord niet meer? Vraag je organisatie om een nieuwe uitnodiging.",
    link_expired_title: "Deze link is verlopen",
    link_expired_body: "Een uitnodigingslink is een beperkte tijd geldig. Vraag je organisatie om een nieuwe uitnodiging.",
    link_superseded_title: "Er is een nieuwere uitnodiging",
    link_superseded_body: "Deze link is vervangen door een nieuwere. Gebruik de link in de meest recente uitnodigingsmail, of vraag je organisatie om een nieuwe uitnodiging.",
    link_invalid_title: "Deze link werkt niet",
    link_invalid_body: "De link is onbekend of niet volledig. Kopieer de hele link uit de e-mail naar je browser, of vraag je organisatie om een nieuwe uitnodiging.",
    to_login: "Naar het inlogscherm",
    home_title: "Ingelogd",
    home_success: "Je bent nu succesvol ingelogd.",
    logged_in_as: "Ingelogd als",
    organization: "Organisatie",
    logout_button: "UITLOGGEN",
    invitation_subject: "Activeer je account bij {}",
    mail_greeting: "Beste {},",
    invitation_intro: "{} heeft een account voor je aangemaakt.",
    here: "HIER",
    click_before: "Klik",
    click_after: "om naar het inlogscherm te gaan en je account te activeren.",
    invitation_validity: "De link werkt één keer en is {} dagen geldig.",
    invitation_fallback: "Werkt de link niet? Kopieer dan dit adres naar je browser:",
    not_expected: "Verwachtte je deze e-mail niet? Dan kun je hem negeren.",
};

pub static EN: Texts = Texts {
    lang: Lang::En,
    other_lang_name: "Nederlands",
    login_title: "Log in",
    username: "Username",
    password: "Password",
    login_button: "LOG IN",
    login_failed: "Incorrect username or password.",
    activated_notice: "Your password has been saved. Now log in with your username and your new password.",
    logged_out_notice: "You have been logged out.",
    activate_title: "Activate your account",
    greeting: "Welcome, {}",
    activate_intro: "Your account at {} is almost ready: first create a password here.",
    your_username: "Your username",
    requirements_heading: "Your password must:",
    errors_heading: "The password does not meet the requirements yet:",
    new_password: "New password",
    repeat_password: "Repeat password",
    mismatch: "The two passwords do not match.",
    save_button: "SAVE",
    link_used_title: "This link has already been used",
    link_used_body: "Your account was already activated with this link. Log in with your username and password. Forgot your password? Ask your organization for a new invitation.",
    link_expired_title: "This link has expired",
    link_expired_body: "An invitation link is valid for a limited time. Ask your organization for a new invitation.",
    link_superseded_title: "A newer invitation was sent",
    link_superseded_body: "This link was replaced by a newer one. Use the link in the most recent invitation e-mail, or ask your organization for a new invitation.",
    link_invalid_title: "This link does not work",
    link_invalid_body: "The link is unknown or incomplete. Copy the whole link from the e-mail into your browser, or ask your organization for a new invitation.",
    to_login: "Go to the login page",
    home_title: "Logged in",
    home_success: "You are now logged in.",
    logged_in_as: "Logged in as",
    organization: "Organization",
    logout_button: "LOG OUT",
    invitation_subject: "Activate your account at {}",
    mail_greeting: "Dear {},",
    invitation_intro: "{} has created an account for you.",
    here: "HERE",
    click_before: "Click",
    click_after: "to go to the login screen and activate your account.",
    invitation_validity: "The link works once and is valid for {} days.",
    invitation_fallback: "Link not working? Copy this address into your browser:",
    not_expected: "Not expecting this e-mail? Then you can ignore it.",
};

impl Texts {
    pub fn of(lang: Lang) -> &'static Texts {
        match lang {
            Lang::Nl => &NL,
            Lang::En => &EN,
        }
    }

    pub fn other_lang(&self) -> Lang {
        match self.lang {
            Lang::Nl => Lang::En,
            Lang::En => Lang::Nl,
        }
    }

    /// `text` with its `{}` replaced by `value`.
    pub fn fill(&self, text: &str, value: impl std::fmt::Display) -> String {
        text.replacen("{}", &value.to_string(), 1)
    }

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
        }
    }
}
