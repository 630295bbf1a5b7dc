//! The words of self-service recovery: Wachtwoord vergeten, herstelcodes, a new phone,
//! remembered devices and the clock help. A `{}` is filled with [`Texts::fill`](super::Texts::fill).

pub struct RecoveryTexts {
    pub forgot_link: &'static str,
    pub forgot_title: &'static str,
    pub forgot_intro: &'static str,
    pub forgot_label: &'static str,
    pub forgot_button: &'static str,
    pub forgot_sent: &'static str,
    pub forgot_sent_more: &'static str,
    pub forgot_invalid: &'static str,
    pub reset_mail_subject: &'static str,
    pub reset_mail_intro_self: &'static str,
    pub reset_mail_intro_admin: &'static str,
    pub reset_mail_click_after: &'static str,
    pub reset_mail_validity: &'static str,
    pub reset_mail_second_step: &'static str,
    pub reset_mail_not_you: &'static str,
    pub reset_off_subject: &'static str,
    pub reset_off_body: &'static str,
    pub reset_no_app_body: &'static str,
    pub reset_title: &'static str,
    pub reset_code_intro: &'static str,
    pub reset_intro: &'static str,
    pub reset_done: &'static str,
    pub reset_notice_subject: &'static str,
    pub reset_notice_body: &'static str,
    pub reset_used_body: &'static str,
    pub reset_expired_body: &'static str,
    pub reset_superseded_title: &'static str,
    pub reset_superseded_body: &'static str,
    pub reset_invalid_body: &'static str,
    pub reset_again: &'static str,
    pub codes_title: &'static str,
    pub codes_intro: &'static str,
    pub codes_once: &'static str,
    pub codes_download: &'static str,
    pub codes_print: &'static str,
    pub codes_print_hint: &'static str,
    pub codes_saved_label: &'static str,
    pub codes_saved_missing: &'static str,
    pub continue_button: &'static str,
    pub codes_file_heading: &'static str,
    pub codes_file_use: &'static str,
    pub use_link: &'static str,
    pub use_title: &'static str,
    pub use_intro: &'static str,
    pub use_label: &'static str,
    pub use_wrong: &'static str,
    pub used_notice: &'static str,
    pub few_left: &'static str,
    pub few_subject: &'static str,
    pub few_body: &'static str,
    pub codes_left: &'static str,
    pub codes_none: &'static str,
    pub regenerate_intro: &'static str,
    pub regenerate_button: &'static str,
    pub clock_ahead: &'static str,
    pub clock_behind: &'static str,
    pub clock_fix: &'static str,
    pub open_in_app_intro: &'static str,
    pub open_in_app: &'static str,
    pub new_phone_title: &'static str,
    pub new_phone_intro: &'static str,
    pub new_phone_button: &'static str,
    pub new_phone_code_intro: &'static str,
    pub new_phone_expired: &'static str,
    pub replaced_notice: &'static str,
    pub replaced_subject: &'static str,
    pub replaced_body: &'static str,
    pub remember_label: &'static str,
    pub devices_heading: &'static str,
    pub devices_none: &'static str,
    pub device_line: &'static str,
    pub forget_button: &'static str,
    pub device_forgotten: &'static str,
    pub account_title: &'static str,
    pub two_step_heading: &'static str,
    pub two_step_since: &'static str,
    pub two_step_off: &'static str,
    pub codes_link: &'static str,
    pub codes_unsaved: &'static str,
    pub codes_save_link: &'static str,
    pub events_heading: &'static str,
    pub events_intro: &'static str,
}

pub static NL: RecoveryTexts = RecoveryTexts {
    forgot_link: "Wachtwoord vergeten?",
    forgot_title: "Wachtwoord vergeten",
    forgot_intro: "Vul je gebruikersnaam of je e-mailadres in. Je krijgt dan een e-mail met een link om een nieuw wachtwoord te maken.",
    forgot_label: "Gebruikersnaam of e-mailadres",
    forgot_button: "VERSTUREN",
    forgot_sent: "Als we een account vinden, sturen we een e-mail naar het e-mailadres van dat account. De link in de e-mail is {} minuten geldig.",
    forgot_sent_more: "Geen e-mail ontvangen? Kijk ook in je map Ongewenste e-mail. Bij sommige werkgevers kun je je wachtwoord niet zelf herstellen; dat staat dan in de e-mail. Lukt het niet? Neem contact op met je werkgever.",
    forgot_invalid: "Vul je gebruikersnaam of je e-mailadres in.",
    reset_mail_subject: "Maak een nieuw wachtwoord voor {}",
    reset_mail_intro_self: "Je hebt gevraagd om een nieuw wachtwoord voor je account {}.",
    reset_mail_intro_admin: "Je beheerder heeft een link gestuurd om een nieuw wachtwoord te maken voor je account {}.",
    reset_mail_click_after: "om een nieuw wachtwoord te maken.",
    reset_mail_validity: "De link werkt één keer en is {} minuten geldig.",
    reset_mail_second_step: "Gebruik je tweestapsverificatie? Dan vragen we eerst de code uit je authenticator app of een herstelcode.",
    reset_mail_not_you: "Heb je dit niet zelf gevraagd? Dan kun je deze e-mail negeren: je wachtwoord blijft zoals het is.",
    reset_off_subject: "Je wachtwoord herstellen bij {}",
    reset_off_body: "Je hebt gevraagd om een nieuw wachtwoord voor je account {}. Bij jouw organisatie kun je je wachtwoord niet zelf herstellen. Neem contact op met je werkgever; die kan je een link sturen.",
    reset_no_app_body: "Je hebt gevraagd om een nieuw wachtwoord voor je account {}. Je hebt de authenticator app nog niet ingesteld, dus we kunnen niet controleren dat jij het bent: met alleen deze e-mail mag niemand je wachtwoord veranderen. Neem contact op met je werkgever; die kan je een link sturen.",
    reset_title: "Nieuw wachtwoord maken",
    reset_code_intro: "Bevestig eerst dat jij het bent: open je authenticator app en typ de code van 6 cijfers.",
    reset_intro: "Maak een nieuw wachtwoord voor je account {}.",
    reset_done: "Je nieuwe wachtwoord is opgeslagen en je bent overal uitgelogd. Log nu in met je nieuwe wachtwoord.",
    reset_notice_subject: "Je wachtwoord is opnieuw ingesteld",
    reset_notice_body: "Het wachtwoord van je account {} is zojuist opnieuw ingesteld met een link uit je e-mail, en je bent overal uitgelogd. Was jij dit niet? Neem dan direct contact op met je werkgever.",
    reset_used_body: "Met deze link is al een nieuw wachtwoord gemaakt. Weet je het niet meer? Vraag een nieuwe link aan.",
    reset_expired_body: "Een link voor een nieuw wachtwoord is maar kort geldig. Vraag een nieuwe link aan.",
    reset_superseded_title: "Er is een nieuwere link",
    reset_superseded_body: "Je hebt daarna een nieuwere link gekregen. Gebruik de link in de meest recente e-mail, of vraag een nieuwe aan.",
    reset_invalid_body: "De link is onbekend of niet volledig. Kopieer de hele link uit de e-mail naar je browser, of vraag een nieuwe link aan.",
    reset_again: "Nieuwe link aanvragen",
    codes_title: "Herstelcodes",
    codes_intro: "Met een herstelcode log je in als je je telefoon niet bij de hand hebt of kwijt bent. Elke code werkt één keer. Bewaar ze op een veilige plek, bijvoorbeeld geprint bij je papieren of in een wachtwoordmanager, en niet op je telefoon.",
    codes_once: "Je ziet deze codes alleen nu: daarna kunnen wij ze ook niet meer laten zien.",
    codes_download: "Downloaden (.txt)",
    codes_print: "Afdrukken",
    codes_print_hint: "Kies Afdrukken in het menu van je browser (of Ctrl+P, op een Mac Cmd+P). Alleen de codes worden afgedrukt.",
    codes_saved_label: "Ik heb mijn herstelcodes bewaard.",
    codes_saved_missing: "Vink eerst aan dat je je herstelcodes hebt bewaard.",
    continue_button: "VERDER",
    codes_file_heading: "Herstelcodes van {}",
    codes_file_use: "Elke code werkt één keer, in plaats van de code uit je authenticator app.",
    use_link: "Geen toegang tot je app? Gebruik een herstelcode",
    use_title: "Inloggen met een herstelcode",
    use_intro: "Typ een van je herstelcodes (20 cijfers; de streepjes mag je weglaten). Elke code werkt één keer.",
    use_label: "Herstelcode",
    use_wrong: "Deze herstelcode klopt niet of is al gebruikt. Controleer de cijfers en probeer het opnieuw.",
    used_notice: "Je bent ingelogd met een herstelcode. Je hebt nog {} ongebruikte herstelcodes.",
    few_left: "Je hebt nog maar {} herstelcodes. Maak nieuwe aan, zodat je altijd kunt inloggen.",
    few_subject: "Je hebt bijna geen herstelcodes meer",
    few_body: "Voor je account {} is zojuist een herstelcode gebruikt; er zijn er nu nog {} over. Maak nieuwe herstelcodes aan op de pagina Mijn account. Was jij dit niet? Neem dan direct contact op met je werkgever.",
    codes_left: "Je hebt nog {} ongebruikte herstelcodes.",
    codes_none: "Je hebt nog geen herstelcodes.",
    regenerate_intro: "Nieuwe herstelcodes maken: de oude werken daarna niet meer. Typ ter bevestiging de code uit je authenticator app.",
    regenerate_button: "NIEUWE HERSTELCODES",
    clock_ahead: "Deze code hoort bij een tijd {} later dan nu: de klok van je telefoon loopt voor.",
    clock_behind: "Deze code hoort bij een tijd {} eerder dan nu: de klok van je telefoon loopt achter.",
    clock_fix: "Zet op je telefoon de tijd op automatisch (Instellingen › Datum en tijd › Automatisch instellen) en typ daarna de nieuwe code uit de app.",
    open_in_app_intro: "Lees je deze e-mail op de telefoon waarop de app staat? Tik dan op:",
    open_in_app: "Openen in authenticator app",
    new_phone_title: "Nieuwe telefoon instellen",
    new_phone_intro: "Nieuwe telefoon, of je telefoon kwijt? Stel de authenticator app opnieuw in: we sturen je een e-mail met een nieuwe aanvraagcode en QR-code. De app op je oude telefoon blijft werken tot je de nieuwe hebt bevestigd met de eerste code.",
    new_phone_button: "NIEUWE TELEFOON INSTELLEN",
    new_phone_code_intro: "Typ de code van 6 cijfers uit de app op je nieuwe telefoon en klik op OPSLAAN.",
    new_phone_expired: "De aanvraagcode voor je nieuwe telefoon is verlopen. Vraag een nieuwe aan.",
    replaced_notice: "Je nieuwe telefoon is ingesteld. De app op je oude telefoon werkt niet meer.",
    replaced_subject: "Je authenticator app is vervangen",
    replaced_body: "Voor je account {} is zojuist de authenticator app op een nieuwe telefoon ingesteld. De app op je oude telefoon werkt niet meer. Was jij dit niet? Neem dan direct contact op met je werkgever.",
    remember_label: "Dit apparaat {} dagen onthouden: dan vragen we hier alleen je wachtwoord. Alleen op je eigen computer of telefoon.",
    devices_heading: "Onthouden apparaten",
    devices_none: "Geen apparaat onthouden.",
    device_line: "{}, onthouden op {}",
    forget_button: "VERGETEN",
    device_forgotten: "Het apparaat is vergeten: daar vragen we weer de code uit je app.",
    account_title: "Mijn account",
    two_step_heading: "Tweestapsverificatie",
    two_step_since: "Aan sinds {}, met de authenticator app.",
    two_step_off: "Nog niet ingesteld: je stelt het in bij je volgende inlog.",
    codes_link: "Herstelcodes",
    codes_unsaved: "Je hebt je herstelcodes nog niet bewaard. Zonder app en zonder herstelcode kun je niet meer inloggen.",
    codes_save_link: "Herstelcodes bewaren",
    events_heading: "Recente beveiligingsgebeurtenissen",
    events_intro: "Zie je iets wat je niet zelf hebt gedaan? Wijzig je wachtwoord en neem contact op met je werkgever.",
};

pub static EN: RecoveryTexts = RecoveryTexts {
    forgot_link: "Forgot your password?",
    forgot_title: "Forgot your password",
    forgot_intro: "Enter your username or your e-mail address. You will get an e-mail with a link to make a new password.",
    forgot_label: "Username or e-mail address",
    forgot_button: "SEND",
    forgot_sent: "If we find an account, we send an e-mail to that account's address. The link in the e-mail is valid for {} minutes.",
    forgot_sent_more: "No e-mail? Check your junk mail folder too. Some employers do not let you reset your password yourself; the e-mail then says so. Still stuck? Contact your employer.",
    forgot_invalid: "Enter your username or your e-mail address.",
    reset_mail_subject: "Make a new password for {}",
    reset_mail_intro_self: "You asked for a new password for your account {}.",
    reset_mail_intro_admin: "Your administrator sent you a link to make a new password for your account {}.",
    reset_mail_click_after: "to make a new password.",
    reset_mail_validity: "The link works once and is valid for {} minutes.",
    reset_mail_second_step: "Do you use two-step verification? Then we first ask for the code from your authenticator app or a recovery code.",
    reset_mail_not_you: "Did you not ask for this? Then you can ignore this e-mail: your password stays as it is.",
    reset_off_subject: "Resetting your password at {}",
    reset_off_body: "You asked for a new password for your account {}. Your organization does not let you reset your password yourself. Please contact your employer; they can send you a link.",
    reset_no_app_body: "You asked for a new password for your account {}. You have not set up the authenticator app yet, so we cannot check that it is you: nobody may change your password with this e-mail alone. Please contact your employer; they can send you a link.",
    reset_title: "Make a new password",
    reset_code_intro: "First confirm it is you: open your authenticator app and type the 6-digit code.",
    reset_intro: "Make a new password for your account {}.",
    reset_done: "Your new password has been saved and you have been logged out everywhere. Now log in with your new password.",
    reset_notice_subject: "Your password was reset",
    reset_notice_body: "The password of your account {} has just been reset with a link from your e-mail, and you have been logged out everywhere. Was this not you? Then contact your employer at once.",
    reset_used_body: "A new password was already made with this link. Forgot it? Ask for a new link.",
    reset_expired_body: "A link for a new password is valid for a short time only. Ask for a new link.",
    reset_superseded_title: "A newer link was sent",
    reset_superseded_body: "You received a newer link after this one. Use the link in the most recent e-mail, or ask for a new one.",
    reset_invalid_body: "The link is unknown or incomplete. Copy the whole link from the e-mail into your browser, or ask for a new link.",
    reset_again: "Ask for a new link",
    codes_title: "Recovery codes",
    codes_intro: "A recovery code lets you log in when your phone is not at hand or lost. Each code works once. Keep them somewhere safe, for example printed with your papers or in a password manager, and not on your phone.",
    codes_once: "You see these codes only now: after this, we cannot show them again either.",
    codes_download: "Download (.txt)",
    codes_print: "Print",
    codes_print_hint: "Choose Print in your browser's menu (or Ctrl+P, on a Mac Cmd+P). Only the codes are printed.",
    codes_saved_label: "I have saved my recovery codes.",
    codes_saved_missing: "First tick the box to confirm you have saved your recovery codes.",
    continue_button: "CONTINUE",
    codes_file_heading: "Recovery codes of {}",
    codes_file_use: "Each code works once, instead of the code from your authenticator app.",
    use_link: "No access to your app? Use a recovery code",
    use_title: "Log in with a recovery code",
    use_intro: "Type one of your recovery codes (20 digits; you may leave out the dashes). Each code works once.",
    use_label: "Recovery code",
    use_wrong: "This recovery code is not correct or has been used. Check the digits and try again.",
    used_notice: "You logged in with a recovery code. You have {} unused recovery codes left.",
    few_left: "You have only {} recovery codes left. Make new ones, so you can always log in.",
    few_subject: "You are running out of recovery codes",
    few_body: "A recovery code was just used for your account {}; {} are left. Make new recovery codes on the My account page. Was this not you? Then contact your employer at once.",
    codes_left: "You have {} unused recovery codes.",
    codes_none: "You have no recovery codes yet.",
    regenerate_intro: "Make new recovery codes: the old ones stop working. To confirm, type the code from your authenticator app.",
    regenerate_button: "NEW RECOVERY CODES",
    clock_ahead: "This code belongs to a time {} later than now: your phone's clock is ahead.",
    clock_behind: "This code belongs to a time {} earlier than now: your phone's clock is behind.",
    clock_fix: "Set your phone's time to automatic (Settings › Date and time › Set automatically), then type the new code from the app.",
    open_in_app_intro: "Reading this e-mail on the phone that has the app? Then tap:",
    open_in_app: "Open in authenticator app",
    new_phone_title: "Set up a new phone",
    new_phone_intro: "A new phone, or lost yours? Set up the authenticator app again: we send you an e-mail with a new setup code and QR code. The app on your old phone keeps working until you confirm the new one with its first code.",
    new_phone_button: "SET UP A NEW PHONE",
    new_phone_code_intro: "Type the 6-digit code from the app on your new phone and click SAVE.",
    new_phone_expired: "The setup code for your new phone has expired. Ask for a new one.",
    replaced_notice: "Your new phone is set up. The app on your old phone no longer works.",
    replaced_subject: "Your authenticator app was replaced",
    replaced_body: "The authenticator app for your account {} has just been set up on a new phone. The app on your old phone no longer works. Was this not you? Then contact your employer at once.",
    remember_label: "Remember this device for {} days: then only your password is asked here. Only on your own computer or phone.",
    devices_heading: "Remembered devices",
    devices_none: "No device remembered.",
    device_line: "{}, remembered on {}",
    forget_button: "FORGET",
    device_forgotten: "The device was forgotten: it will ask for the code from your app again.",
    account_title: "My account",
    two_step_heading: "Two-step verification",
    two_step_since: "On since {}, with the authenticator app.",
    two_step_off: "Not set up yet: you set it up at your next login.",
    codes_link: "Recovery codes",
    codes_unsaved: "You have not saved your recovery codes yet. Without your app and without a recovery code you cannot log in.",
    codes_save_link: "Save recovery codes",
    events_heading: "Recent security events",
    events_intro: "See something you did not do yourself? Change your password and contact your employer.",
};

use super::Texts;
use crate::domain::audit::{AuditEvent, Outcome};
use crate::domain::lang::Lang;

impl Texts {
    /// An audit line in the user's words for "Recente beveiligingsgebeurtenissen", with
    /// applications by their name (`name_of` an application id); `None` for what is not the
    /// user's business (token issuing, client registration, a session that ran out …).
    pub fn security_event(
        &self,
        event: AuditEvent,
        outcome: Outcome,
        detail: Option<&str>,
        name_of: impl Fn(&str) -> Option<String>,
    ) -> Option<String> {
        let detail = detail.unwrap_or_default();
        if let Some(app) = consent_app(event, detail, name_of) {
            let (nl, en) = match event {
                AuditEvent::ConsentGiven => ("Toegang gegeven aan {}", "Access given to {}"),
                _ => ("Toegang van {} ingetrokken", "Access of {} withdrawn"),
            };
            return Some(self.fill(self.pick(nl, en), app));
        }
        security_words(event, outcome, detail).map(|(nl, en)| self.pick(nl, en).to_owned())
    }

    fn pick(&self, nl: &'static str, en: &'static str) -> &'static str {
        match self.lang {
            Lang::Nl => nl,
            Lang::En => en,
        }
    }
}

/// The application a consent line is about, by name (its id is the detail).
fn consent_app(
    event: AuditEvent,
    detail: &str,
    name_of: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    matches!(
        event,
        AuditEvent::ConsentGiven | AuditEvent::ConsentWithdrawn
    )
    .then(|| name_of(detail))
    .flatten()
}

/// The Dutch and English words of an audit line on Mijn account.
fn security_words(
    event: AuditEvent,
    outcome: Outcome,
    detail: &str,
) -> Option<(&'static str, &'static str)> {
    use AuditEvent as E;
    let ok = outcome == Outcome::Success;
    let by_administrator = detail == "administrator"
        || detail.starts_with("beheerder ")
        || detail.starts_with("client ");
    Some(match (event, ok, detail) {
        (E::LoginCode, true, "remembered_device") => (
            "Ingelogd op een onthouden apparaat",
            "Logged in on a remembered device",
        ),
        (E::LoginCode, true, "reset") => (
            "Code goed voor een nieuw wachtwoord",
            "Code right for a new password",
        ),
        (E::LoginCode, true, "console confirmation") => (
            "Bevestigd met je app voor een beheeractie",
            "Confirmed with your app for an administration action",
        ),
        (E::LoginCode, true, _) => ("Ingelogd", "Logged in"),
        (E::LoginCode, false, _) => ("Verkeerde code", "Wrong code"),
        (E::LoginPasskey, true, _) => ("Ingelogd met een passkey", "Logged in with a passkey"),
        (E::LoginPasskey, false, _) => (
            "Inloggen met een passkey geweigerd",
            "Login with a passkey refused",
        ),
        (E::PasskeyAdded, _, _) => ("Passkey toegevoegd", "Passkey added"),
        (E::LookAheadMail, _, _) => (
            "Mail gestuurd: controleer of je nog kunt inloggen",
            "Mail sent: check that you can still log in",
        ),
        (E::AccessChecked, _, _) => ("Toegang gecontroleerd", "Access checked"),
        (E::PasskeyRemoved, _, _) => ("Passkey verwijderd", "Passkey removed"),
        (E::RecoveryCodeUsed, true, _) => ("Herstelcode gebruikt", "Recovery code used"),
        (E::RecoveryCodeUsed, false, _) => ("Verkeerde herstelcode", "Wrong recovery code"),
        (E::LoginPassword, false, _) if outcome == Outcome::Throttled => (
            "Inlogpoging geweigerd: te veel pogingen",
            "Login refused: too many attempts",
        ),
        (E::LoginPassword, false, _) => ("Verkeerd wachtwoord", "Wrong password"),
        (E::AccountLocked, _, _) => (
            "Inloggen tijdelijk geblokkeerd",
            "Logging in blocked for a while",
        ),
        (E::RoleGranted, _, _) => (
            "Je bent beheerder van je organisatie geworden",
            "You became an administrator of your organization",
        ),
        (E::RoleRevoked, _, _) => (
            "Je beheerrol is ingetrokken",
            "Your administrator role was revoked",
        ),
        (E::AccountUnlocked, _, _) => (
            "Blokkade opgeheven door je beheerder",
            "Block lifted by your administrator",
        ),
        (E::PasswordSet, true, "change") => ("Wachtwoord gewijzigd", "Password changed"),
        (E::PasswordSet, true, "reset") => {
            ("Nieuw wachtwoord via e-mail", "New password by e-mail")
        }
        (E::PasswordSet, true, _) => ("Wachtwoord ingesteld", "Password set"),
        (E::PasswordSet, false, _) => ("Verkeerd huidig wachtwoord", "Wrong current password"),
        (E::ResetRequested, true, _) => (
            "Link voor een nieuw wachtwoord gestuurd",
            "Link for a new password sent",
        ),
        (E::TwoStepEnabled, _, _) => (
            "Tweestapsverificatie ingeschakeld",
            "Two-step verification turned on",
        ),
        (E::TwoStepReset, _, _) => (
            "Tweestapsverificatie teruggezet door je beheerder",
            "Two-step verification reset by your administrator",
        ),
        (E::TotpReplaced, _, _) => (
            "Authenticator app op een nieuwe telefoon",
            "Authenticator app on a new phone",
        ),
        (E::RecoveryCodesCreated, true, _) => {
            ("Nieuwe herstelcodes gemaakt", "New recovery codes made")
        }
        (E::DeviceRemembered, _, _) => ("Apparaat onthouden", "Device remembered"),
        (E::DeviceForgotten, _, _) => ("Apparaat vergeten", "Device forgotten"),
        (E::SessionEnded, _, "everywhere") => ("Overal uitgelogd", "Logged out everywhere"),
        (E::SessionEnded, _, "logout") => ("Uitgelogd", "Logged out"),
        (E::SessionEnded, _, "application") => {
            ("Uitgelogd vanuit een app", "Logged out from an app")
        }
        (E::SessionEnded, _, "too_many_codes") => (
            "Uitgelogd na te veel foute codes",
            "Logged out after too many wrong codes",
        ),
        (E::SessionEnded, _, _) if by_administrator => (
            "Overal uitgelogd door je beheerder",
            "Logged out everywhere by your administrator",
        ),
        (E::AccountDisabled, _, _) => ("Account uitgeschakeld", "Account disabled"),
        (E::AccountEnabled, _, _) => ("Account weer ingeschakeld", "Account enabled again"),
        (E::ConsentGiven, _, _) => ("Toegang gegeven aan een app", "Access given to an app"),
        (E::ConsentWithdrawn, _, _) => (
            "Toegang van een app ingetrokken",
            "Access of an app withdrawn",
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{EN, NL};
    use super::*;

    /// Every detail the service writes on a user's audit line.
    const DETAILS: &[&str] = &[
        "",
        "self",
        "administrator",
        "beheerder baas",
        "client k3yQ9",
        "everywhere",
        "logout",
        "application",
        "reauthenticated",
        "idle",
        "expired",
        "too_many_codes",
        "login",
        "second_step",
        "reset",
        "change",
        "remembered_device",
        "console confirmation",
        "k3yQ9",
    ];

    #[test]
    fn mijn_account_speaks_words_and_names_applications() {
        let names = |id: &str| (id == "k3yQ9").then(|| "Verzuimcoach".to_owned());
        for event in AuditEvent::ALL {
            for outcome in Outcome::ALL {
                for detail in DETAILS {
                    let nl = NL.security_event(event, outcome, Some(detail), names);
                    let en = EN.security_event(event, outcome, Some(detail), names);
                    assert_eq!(nl.is_some(), en.is_some(), "{event:?} {outcome:?} {detail}");
                    let (Some(nl), Some(en)) = (nl, en) else {
                        continue;
                    };
                    for words in [&nl, &en] {
                        assert!(
                            !words.contains('_') && !words.contains("k3yQ9"),
                            "{event:?} {detail}: {words}"
                        );
                    }
                    assert_ne!(nl, en, "{event:?} {detail}");
                }
            }
        }
        let said = |event, outcome, detail| NL.security_event(event, outcome, Some(detail), names);
        let ok = Outcome::Success;
        assert_eq!(
            said(AuditEvent::ConsentGiven, ok, "k3yQ9").as_deref(),
            Some("Toegang gegeven aan Verzuimcoach")
        );
        assert_eq!(
            said(AuditEvent::ConsentWithdrawn, ok, "k3yQ9").as_deref(),
            Some("Toegang van Verzuimcoach ingetrokken")
        );
        // A user's own security business is shown, whoever ended the session.
        for detail in [
            "everywhere",
            "logout",
            "application",
            "too_many_codes",
            "beheerder baas",
        ] {
            assert!(
                said(AuditEvent::SessionEnded, ok, detail).is_some(),
                "{detail}"
            );
        }
        // Routine is not: a session that ran out, tokens issued to an application.
        assert_eq!(said(AuditEvent::SessionEnded, ok, "idle"), None);
        assert_eq!(
            said(AuditEvent::TokensIssued, ok, "k3yQ9 refresh_token"),
            None
        );
    }
}
