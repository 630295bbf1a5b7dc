//! The words of Toegang op orde: the readiness reasons (for the employee, in plain Dutch,
//! and for HR, short), the look-ahead mail, the Toegang controleren page and the console's
//! overview. A `{}` is filled with [`Texts::fill`](super::Texts::fill).

use crate::domain::expected_login::{HrAction, UserFix};
use crate::domain::lang::Lang;
use crate::domain::readiness::Reason;

pub struct AccessTexts {
    pub mail_subject: &'static str,
    /// `{}`: the day of the expected login.
    pub mail_intro: &'static str,
    pub mail_found: &'static str,
    pub mail_check: &'static str,
    /// After "Klik HIER": what the link does.
    pub mail_click_after: &'static str,
    pub mail_no_check: &'static str,
    pub mail_help: &'static str,
    pub mail_once: &'static str,
    pub page_title: &'static str,
    pub page_intro: &'static str,
    pub page_how: &'static str,
    pub page_forgot: &'static str,
    pub page_new_phone: &'static str,
    pub all_well: &'static str,
    /// `{}`: the day of the next expected login.
    pub all_well_next: &'static str,
    pub to_fix: &'static str,
    pub ask_employer: &'static str,
    pub to_account: &'static str,
    pub ready: &'static str,
    pub at_risk: &'static str,
    pub blocked: &'static str,
    pub console_heading: &'static str,
    pub console_intro: &'static str,
    pub console_none: &'static str,
    pub console_who: &'static str,
    pub console_when: &'static str,
    pub console_status: &'static str,
    pub console_action: &'static str,
    pub console_mail_sent: &'static str,
    pub console_link: &'static str,
}

pub static NL: AccessTexts = AccessTexts {
    mail_subject: "Controleer of je nog kunt inloggen",
    mail_intro: "Op {} vraagt je werkgever je om in te loggen. We zagen iets waardoor dat misschien niet lukt:",
    mail_found: "Dit zagen we:",
    mail_check: "Controleer het nu, dan heb je nog tijd om het op te lossen.",
    mail_click_after: "en log in zoals altijd. Daarna zie je of alles in orde is, of wat je kunt doen.",
    mail_no_check: "Neem contact op met je werkgever, dan kan die het voor je oplossen.",
    mail_help: "Lukt het niet? Vraag je werkgever om hulp.",
    mail_once: "We sturen je deze mail maar één keer.",
    page_title: "Toegang controleren",
    page_intro: "Hier kun je oefenen met inloggen. Dan weet je zeker dat het lukt als het nodig is.",
    page_how: "Log in zoals altijd: met je wachtwoord en de code uit je app. Daarna kom je terug op deze pagina en zie je of alles in orde is.",
    page_forgot: "Weet je je wachtwoord niet meer? Kies dan bij het inloggen Wachtwoord vergeten?",
    page_new_phone: "Heb je een nieuwe telefoon? Log dan in met een herstelcode. Daarna stel je de app op je nieuwe telefoon in.",
    all_well: "Alles is in orde. Je kunt inloggen als het nodig is.",
    all_well_next: "Je werkgever verwacht dat je op {} inlogt. Dat gaat lukken.",
    to_fix: "Inloggen lukt, maar regel dit nu:",
    ask_employer: "Vraag je werkgever om hulp.",
    to_account: "Naar Mijn account",
    ready: "in orde",
    at_risk: "risico",
    blocked: "geblokkeerd",
    console_heading: "Toegang op orde",
    console_intro: "Medewerkers die binnenkort moeten inloggen, en of dat gaat lukken. Geblokkeerd eerst.",
    console_none: "Niemand hoeft de komende {} dagen in te loggen.",
    console_who: "Medewerker",
    console_when: "Moet inloggen op",
    console_status: "Toegang",
    console_action: "Oplossen",
    console_mail_sent: "mail gestuurd op {}",
    console_link: "Toegang op orde",
};

pub static EN: AccessTexts = AccessTexts {
    mail_subject: "Check that you can still log in",
    mail_intro: "On {} your employer will ask you to log in. We noticed something that may stop you:",
    mail_found: "What we noticed:",
    mail_check: "Check it now, so you still have time to fix it.",
    mail_click_after: "and log in as always. Then you see whether all is well, or what you can do.",
    mail_no_check: "Contact your employer, who can fix it for you.",
    mail_help: "Does it not work? Ask your employer for help.",
    mail_once: "We send you this mail only once.",
    page_title: "Check your access",
    page_intro: "Here you can practise logging in. Then you know it works when you need it.",
    page_how: "Log in as always: with your password and the code from your app. Then you come back to this page and see whether all is well.",
    page_forgot: "Forgot your password? Choose Forgot your password? when you log in.",
    page_new_phone: "Do you have a new phone? Log in with a recovery code. Then set up the app on your new phone.",
    all_well: "All is well. You can log in when you need to.",
    all_well_next: "Your employer expects you to log in on {}. That will work.",
    to_fix: "Logging in works, but sort this out now:",
    ask_employer: "Ask your employer for help.",
    to_account: "To My account",
    ready: "in order",
    at_risk: "at risk",
    blocked: "blocked",
    console_heading: "Access in order",
    console_intro: "Employees who must log in soon, and whether that will work. Blocked first.",
    console_none: "Nobody has to log in in the next {} days.",
    console_who: "Employee",
    console_when: "Must log in on",
    console_status: "Access",
    console_action: "Fix",
    console_mail_sent: "mail sent on {}",
    console_link: "Access in order",
};

/// The reason as the employee reads it (mail, page): what is wrong, in plain words.
pub fn for_user(lang: Lang, reason: Reason) -> &'static str {
    use Reason::*;
    let (nl, en) = match reason {
        Disabled => (
            "Je account staat uit. Je werkgever kan het weer aanzetten.",
            "Your account is switched off. Your employer can switch it on again.",
        ),
        Locked => (
            "Inloggen is tijdelijk geblokkeerd na te veel pogingen.",
            "Logging in is blocked for a while after too many attempts.",
        ),
        InvitationExpired => (
            "Je uitnodiging is verlopen. Vraag je werkgever om een nieuwe.",
            "Your invitation has expired. Ask your employer for a new one.",
        ),
        NotActivated => (
            "Je hebt je account nog niet geactiveerd. Gebruik de link in je uitnodiging.",
            "You have not activated your account yet. Use the link in your invitation.",
        ),
        MailFailing => (
            "Onze mail komt niet aan op je e-mailadres.",
            "Our mail does not reach your e-mail address.",
        ),
        TwoStepNotSetUp => (
            "Je hebt de authenticator-app nog niet ingesteld.",
            "You have not set up the authenticator app yet.",
        ),
        TwoStepResetPending => (
            "Je app is losgekoppeld. Bij de volgende keer inloggen stel je hem opnieuw in.",
            "Your app was disconnected. The next time you log in you set it up again.",
        ),
        NoRecoveryCodes => (
            "Je hebt geen herstelcodes meer. Zonder telefoon kun je dan niet inloggen.",
            "You have no recovery codes left. Without your phone you cannot log in.",
        ),
        FewRecoveryCodes => (
            "Je hebt nog maar weinig herstelcodes.",
            "You have only a few recovery codes left.",
        ),
        RecoveryCodesNotSaved => (
            "Je hebt nog niet bevestigd dat je je herstelcodes hebt bewaard.",
            "You have not yet confirmed that you saved your recovery codes.",
        ),
        RecoveryCodeUsedLast => (
            "Je logde de vorige keer in met een herstelcode. Is je telefoon weg of nieuw?",
            "You last logged in with a recovery code. Is your phone lost or new?",
        ),
        SecondStepLongAgo => (
            "Je hebt lang niet ingelogd. Werkt de app op je telefoon nog?",
            "You have not logged in for a long time. Does the app on your phone still work?",
        ),
    };
    pick(lang, nl, en)
}

/// The reason as HR reads it in the console: short.
pub fn for_hr(lang: Lang, reason: Reason) -> &'static str {
    use Reason::*;
    let (nl, en) = match reason {
        Disabled => ("account uitgezet", "account disabled"),
        Locked => ("geblokkeerd na pogingen", "locked after attempts"),
        InvitationExpired => ("uitnodiging verlopen", "invitation expired"),
        NotActivated => ("nog niet geactiveerd", "not activated yet"),
        MailFailing => ("mail komt niet aan", "mail does not arrive"),
        TwoStepNotSetUp => ("app nog niet ingesteld", "app not set up yet"),
        TwoStepResetPending => ("app opnieuw instellen", "app to be set up again"),
        NoRecoveryCodes => ("geen herstelcodes", "no recovery codes"),
        FewRecoveryCodes => ("weinig herstelcodes", "few recovery codes"),
        RecoveryCodesNotSaved => ("herstelcodes niet bewaard", "recovery codes not saved"),
        RecoveryCodeUsedLast => ("laatst met herstelcode", "last used a recovery code"),
        SecondStepLongAgo => ("lang niet ingelogd", "not logged in for long"),
    };
    pick(lang, nl, en)
}

/// The words of the link to what the employee fixes themselves.
pub fn fix_words(lang: Lang, fix: UserFix) -> &'static str {
    let (nl, en) = match fix {
        UserFix::NewRecoveryCodes => ("Nieuwe herstelcodes maken", "Make new recovery codes"),
        UserFix::SaveRecoveryCodes => ("Herstelcodes bewaren", "Save your recovery codes"),
        UserFix::NewPhone => ("Nieuwe telefoon instellen", "Set up a new phone"),
    };
    pick(lang, nl, en)
}

/// The words of HR's action.
pub fn action_words(lang: Lang, action: HrAction) -> &'static str {
    let (nl, en) = match action {
        HrAction::Enable => ("Account aanzetten", "Enable the account"),
        HrAction::Unlock => ("Blokkade opheffen", "Unlock"),
        HrAction::ResendInvitation => ("Uitnodiging opnieuw sturen", "Resend the invitation"),
        HrAction::ResetTwoStep => (
            "Tweestapsverificatie resetten",
            "Reset two-step verification",
        ),
        HrAction::CheckEmail => ("E-mailadres controleren", "Check the e-mail address"),
    };
    pick(lang, nl, en)
}

fn pick(lang: Lang, nl: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Nl => nl,
        Lang::En => en,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_words_in_both_languages() {
        for reason in Reason::ALL {
            for lang in [Lang::Nl, Lang::En] {
                assert!(!for_user(lang, reason).is_empty(), "{reason:?}");
                assert!(!for_hr(lang, reason).is_empty(), "{reason:?}");
            }
            assert_ne!(for_user(Lang::Nl, reason), for_user(Lang::En, reason));
        }
    }
}
