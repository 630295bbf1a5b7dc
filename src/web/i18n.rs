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
    pub tsv_title: &'static str,
    pub tsv_choose: &'static str,
    pub method_app: &'static str,
    pub method_app_hint: &'static str,
    pub setup_title: &'static str,
    pub setup_mail_sent: &'static str,
    pub setup_step_install: &'static str,
    pub setup_step_add: &'static str,
    pub setup_step_code: &'static str,
    pub setup_no_mail: &'static str,
    pub code_title: &'static str,
    pub code_intro: &'static str,
    pub code_label: &'static str,
    pub new_code_button: &'static str,
    pub new_code_sent: &'static str,
    pub new_code_wait: &'static str,
    pub code_wrong: &'static str,
    pub code_expired: &'static str,
    pub code_used: &'static str,
    pub setup_expired: &'static str,
    pub too_many_codes: &'static str,
    pub other_way: &'static str,
    pub setup_subject: &'static str,
    pub setup_intro: &'static str,
    pub setup_scan: &'static str,
    pub setup_manual: &'static str,
    pub account_name: &'static str,
    pub setup_code: &'static str,
    pub setup_type: &'static str,
    pub setup_then: &'static str,
    pub setup_validity: &'static str,
    pub setup_blocked: &'static str,
    pub setup_not_you: &'static str,
    pub qr_alt: &'static str,
    pub enabled_subject: &'static str,
    pub enabled_body: &'static str,
    pub reset_subject: &'static str,
    pub reset_body: &'static str,
    pub locked_subject: &'static str,
    pub locked_body: &'static str,
    pub attempts_wait: &'static str,
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
    tsv_title: "Tweestapsverificatie",
    tsv_choose: "Kies hoe je wilt bevestigen dat jij het bent.",
    method_app: "AUTHENTICATOR APP",
    method_app_hint: "Een code van 6 cijfers uit een app op je telefoon, zoals Google Authenticator of Microsoft Authenticator.",
    setup_title: "Authenticator app instellen",
    setup_mail_sent: "We hebben een e-mail gestuurd naar {} met je accountnaam, je aanvraagcode en een QR-code.",
    setup_step_install: "Installeer een authenticator app op je telefoon (App Store of Play Store), als je die nog niet hebt.",
    setup_step_add: "Kies in de app 'QR-code scannen' en scan de QR-code uit de e-mail, of voeg het account handmatig toe met de accountnaam en aanvraagcode.",
    setup_step_code: "Typ hieronder de code van 6 cijfers die de app laat zien en klik op INLOGGEN.",
    setup_no_mail: "Geen e-mail ontvangen? Kijk ook in je map Ongewenste e-mail. Nog steeds niets? Klik op Nieuwe code.",
    code_title: "Verificatiecode",
    code_intro: "Open je authenticator app en typ de code van 6 cijfers die bij dit account staat.",
    code_label: "Verificatiecode (6 cijfers)",
    new_code_button: "Nieuwe code",
    new_code_sent: "We hebben een nieuwe e-mail gestuurd. De aanvraagcode uit eerdere e-mails werkt niet meer.",
    new_code_wait: "Je kunt over {} weer een nieuwe code aanvragen.",
    code_wrong: "Deze code klopt niet. Controleer de code in je app en probeer het opnieuw.",
    code_expired: "Deze code is net verlopen. Wacht op de volgende code in je app en typ die in.",
    code_used: "Deze code is al gebruikt. Wacht op de volgende code in je app.",
    setup_expired: "Je aanvraagcode is verlopen. Klik op Nieuwe code voor een nieuwe e-mail.",
    too_many_codes: "Te vaak een verkeerde code. Log voor je veiligheid opnieuw in met je wachtwoord.",
    other_way: "Andere manier kiezen",
    setup_subject: "Je aanvraagcode voor de authenticator app",
    setup_intro: "Je stelt tweestapsverificatie in voor {}. Voeg in je authenticator app een account toe:",
    setup_scan: "Makkelijkst: kies 'QR-code scannen' in de app en scan deze QR-code.",
    setup_manual: "Of voeg het account handmatig toe:",
    account_name: "Accountnaam",
    setup_code: "Aanvraagcode",
    setup_type: "Soort: op tijd gebaseerd, 6 cijfers",
    setup_then: "Typ daarna de code van 6 cijfers uit de app op het inlogscherm en klik op INLOGGEN.",
    setup_validity: "Deze aanvraagcode is {} uur geldig en werkt alleen na je wachtwoord.",
    setup_blocked: "Zie je de QR-code niet? Je mailprogramma blokkeert misschien afbeeldingen: klik op 'Geblokkeerde inhoud weergeven', of gebruik de aanvraagcode hierboven.",
    setup_not_you: "Heb je dit niet zelf gedaan? Neem dan direct contact op met je organisatie.",
    qr_alt: "QR-code voor je authenticator app",
    enabled_subject: "Tweestapsverificatie is ingeschakeld",
    enabled_body: "Voor je account {} is zojuist tweestapsverificatie met een authenticator app ingeschakeld. Vanaf nu log je in met je wachtwoord en een code uit de app.",
    reset_subject: "Je tweestapsverificatie is teruggezet",
    reset_body: "Een beheerder heeft de tweestapsverificatie van je account {} teruggezet en je overal uitgelogd. Bij je volgende inlog stel je de authenticator app opnieuw in.",
    locked_subject: "Inloggen op je account is tijdelijk geblokkeerd",
    locked_body: "Voor je account {} is te vaak een verkeerd wachtwoord of een verkeerde code ingevuld. Inloggen is daarom tijdelijk geblokkeerd; dat gaat vanzelf over. Was jij dit niet? Neem dan contact op met je beheerder: dan probeert iemand anders in te loggen met jouw gegevens.",
    attempts_wait: "Te veel pogingen. Probeer het over {} opnieuw.",
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
    tsv_title: "Two-step verification",
    tsv_choose: "Choose how you want to confirm it is you.",
    method_app: "AUTHENTICATOR APP",
    method_app_hint: "A 6-digit code from an app on your phone, such as Google Authenticator or Microsoft Authenticator.",
    setup_title: "Set up your authenticator app",
    setup_mail_sent: "We have sent an e-mail to {} with your account name, your setup code and a QR code.",
    setup_step_install: "Install an authenticator app on your phone (App Store or Play Store), if you do not have one yet.",
    setup_step_add: "In the app, choose 'Scan a QR code' and scan the QR code from the e-mail, or add the account by hand with the account name and setup code.",
    setup_step_code: "Type the 6-digit code the app shows below and click LOG IN.",
    setup_no_mail: "No e-mail? Check your junk mail folder too. Still nothing? Click New code.",
    code_title: "Verification code",
    code_intro: "Open your authenticator app and type the 6-digit code shown for this account.",
    code_label: "Verification code (6 digits)",
    new_code_button: "New code",
    new_code_sent: "We have sent a new e-mail. The setup code from earlier e-mails no longer works.",
    new_code_wait: "You can request a new code again in {}.",
    code_wrong: "This code is not correct. Check the code in your app and try again.",
    code_expired: "This code has just expired. Wait for the next code in your app and type that one.",
    code_used: "This code has already been used. Wait for the next code in your app.",
    setup_expired: "Your setup code has expired. Click New code for a new e-mail.",
    too_many_codes: "Too many wrong codes. For your safety, log in again with your password.",
    other_way: "Choose another way",
    setup_subject: "Your setup code for the authenticator app",
    setup_intro: "You are setting up two-step verification for {}. Add an account in your authenticator app:",
    setup_scan: "Easiest: choose 'Scan a QR code' in the app and scan this QR code.",
    setup_manual: "Or add the account by hand:",
    account_name: "Account name",
    setup_code: "Setup code",
    setup_type: "Type: time-based, 6 digits",
    setup_then: "Then type the 6-digit code from the app on the login screen and click LOG IN.",
    setup_validity: "This setup code is valid for {} hours and only works after your password.",
    setup_blocked: "Can't see the QR code? Your mail program may block images: click 'Show blocked content', or use the setup code above.",
    setup_not_you: "Did you not do this yourself? Contact your organization right away.",
    qr_alt: "QR code for your authenticator app",
    enabled_subject: "Two-step verification is on",
    enabled_body: "Two-step verification with an authenticator app has just been turned on for your account {}. From now on you log in with your password and a code from the app.",
    reset_subject: "Your two-step verification was reset",
    reset_body: "An administrator has reset the two-step verification of your account {} and logged you out everywhere. At your next login you set up the authenticator app again.",
    locked_subject: "Logging in to your account is temporarily blocked",
    locked_body: "A wrong password or code was entered too often for your account {}. Logging in is therefore blocked for a while; this ends by itself. Was this not you? Then contact your administrator: someone else is trying to log in with your details.",
    attempts_wait: "Too many attempts. Try again in {}.",
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

    /// "45 seconden", "12 minuten": how long until something is allowed again.
    pub fn wait_time(&self, seconds: i64) -> String {
        let nl = self.lang == Lang::Nl;
        match seconds.max(1) {
            1 if nl => "1 seconde".into(),
            1 => "1 second".into(),
            s @ 2..=90 if nl => format!("{s} seconden"),
            s @ 2..=90 => format!("{s} seconds"),
            s if nl => format!("{} minuten", (s + 59) / 60),
            s => format!("{} minutes", (s + 59) / 60),
        }
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
