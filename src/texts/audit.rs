//! The audit log in words, for the console and Mijn account: every event, outcome and the
//! codes its details use, in the reader's language. The log itself keeps the stable codes
//! (`login_code`, `rate_limited`, …) that the CLI, the API and log shippers read.

use crate::domain::audit::{AuditEvent, Outcome};
use crate::domain::lang::Lang;

/// What happened, as a heading a beheerder understands.
pub fn event(lang: Lang, event: AuditEvent) -> &'static str {
    use AuditEvent as E;
    let (nl, en) = match event {
        E::InvitationSent => ("Uitnodiging klaargezet", "Invitation queued"),
        E::InvitationDelivered => ("Uitnodiging afgeleverd", "Invitation delivered"),
        E::InvitationUsed => ("Uitnodiging gebruikt", "Invitation used"),
        E::PasswordSet => ("Wachtwoord ingesteld", "Password set"),
        E::LoginPassword => ("Inloggen: wachtwoord", "Login: password"),
        E::LoginCode => ("Inloggen: code van de app", "Login: app code"),
        E::SetupMail => ("Mail met instelcode", "Set-up mail"),
        E::TwoStepEnabled => ("Tweestapsverificatie aan", "Two-step verification on"),
        E::TwoStepReset => (
            "Tweestapsverificatie opnieuw",
            "Two-step verification reset",
        ),
        E::AccountLocked => ("Account geblokkeerd", "Account locked"),
        E::AccountUnlocked => ("Account vrijgegeven", "Account unlocked"),
        E::AccountDisabled => ("Account uitgezet", "Account disabled"),
        E::AccountEnabled => ("Account weer aangezet", "Account enabled"),
        E::SessionEnded => ("Uitgelogd", "Logged out"),
        E::ClientCreated => ("App geregistreerd", "Application registered"),
        E::ClientSecretRotated => ("Nieuw geheim voor app", "Application secret replaced"),
        E::ClientRemoved => ("App verwijderd", "Application removed"),
        E::SigningKeyAdded => ("Ondertekensleutel gemaakt", "Signing key made"),
        E::ConsentGiven => ("Toestemming aan app gegeven", "Consent given to an app"),
        E::ConsentWithdrawn => ("Toestemming ingetrokken", "Consent withdrawn"),
        E::CodeIssued => ("Ingelogd bij app", "Logged in at an app"),
        E::TokensIssued => ("Toegang voor app verlengd", "App access issued"),
        E::TokenReused => ("Oude toegang opnieuw gebruikt", "Old access used again"),
        E::TokensRevoked => ("Toegang van app ingetrokken", "App access revoked"),
        E::ClientAuthentication => ("App kon zich niet aanmelden", "App failed to authenticate"),
        E::BackchannelLogout => ("App afgemeld", "App told of the logout"),
        E::ResetRequested => ("Wachtwoord vergeten gevraagd", "Password reset asked for"),
        E::RecoveryCodeUsed => ("Herstelcode gebruikt", "Recovery code used"),
        E::RecoveryCodesCreated => ("Nieuwe herstelcodes", "New recovery codes"),
        E::TotpReplaced => ("Nieuwe telefoon ingesteld", "New phone set up"),
        E::DeviceRemembered => ("Apparaat onthouden", "Device remembered"),
        E::DeviceForgotten => ("Apparaat vergeten", "Device forgotten"),
        E::PolicyChanged => ("Instellingen gewijzigd", "Settings changed"),
        E::RoleGranted => ("Rol gegeven", "Role granted"),
        E::RoleRevoked => ("Rol afgenomen", "Role revoked"),
        E::PasskeyAdded => ("Passkey toegevoegd", "Passkey added"),
        E::PasskeyRemoved => ("Passkey verwijderd", "Passkey removed"),
        E::LoginPasskey => ("Inloggen: passkey", "Login: passkey"),
        E::ExpectedLoginRegistered => ("Verwachte login gemeld", "Expected login registered"),
        E::ExpectedLoginWithdrawn => ("Verwachte login ingetrokken", "Expected login withdrawn"),
        E::LookAheadMail => ("Mail: controleer je toegang", "Mail: check your access"),
        E::AccessChecked => ("Toegang gecontroleerd", "Access checked"),
        E::WebhookAdded => ("Webhook toegevoegd", "Webhook added"),
        E::WebhookRemoved => ("Webhook verwijderd", "Webhook removed"),
        E::WebhookSecretRotated => ("Webhookgeheim vervangen", "Webhook secret rotated"),
        E::WebhookReplayed => (
            "Webhookgebeurtenissen opnieuw verstuurd",
            "Webhook events replayed",
        ),
        E::AuditPruned => ("Oude auditregels opgeruimd", "Old audit lines pruned"),
        E::LookChanged => ("Huisstijl gewijzigd", "Look changed"),
    };
    pick(lang, nl, en)
}

/// How it ended.
pub fn outcome(lang: Lang, outcome: Outcome) -> &'static str {
    let (nl, en) = match outcome {
        Outcome::Success => ("gelukt", "succeeded"),
        Outcome::Failure => ("mislukt", "failed"),
        Outcome::Throttled => (
            "even geblokkeerd (te vaak fout)",
            "held back (too many failures)",
        ),
        Outcome::Replayed => ("geweigerd: al eerder gebruikt", "refused: used before"),
        Outcome::Expired => ("geweigerd: verlopen", "refused: expired"),
        Outcome::RateLimited => ("geweigerd: te vaak gevraagd", "refused: asked too often"),
    };
    pick(lang, nl, en)
}

/// A code that details use, in words; `None` for anything else (a name, an id, an answer).
pub fn detail_word(lang: Lang, word: &str) -> Option<&'static str> {
    let (nl, en) = match word {
        "self" => ("door de gebruiker zelf", "by the user"),
        "admin" | "administrator" => ("door de beheerder", "by the administrator"),
        "beheerder" => ("beheerder", "administrator"),
        "client" => ("app", "app"),
        "everywhere" => ("overal", "everywhere"),
        "logout" => ("met Uitloggen", "with Log out"),
        "application" => ("vanuit de app", "from the app"),
        "reauthenticated" => ("opnieuw ingelogd", "logged in again"),
        "idle" => ("na een tijd niet gebruikt", "after a time unused"),
        "expired" => ("na de langste duur", "after the longest time allowed"),
        "too_many_codes" => ("te veel foute codes", "too many wrong codes"),
        "login" => ("bij het inloggen", "at login"),
        "second_step" => ("als tweede stap", "as the second step"),
        "reset" => ("bij wachtwoord vergeten", "for a password reset"),
        "change" => ("bij het wijzigen", "when changing it"),
        "other_user" => ("van een andere gebruiker", "of another user"),
        "unknown_credential" => ("onbekende passkey", "unknown passkey"),
        "counter_went_back" => ("mogelijk gekopieerde passkey", "possibly cloned passkey"),
        "account_not_active" => ("account niet actief", "account not active"),
        "passkey_login_off" => ("passkey-login staat uit", "passkey login is off"),
        "authorization_code" => ("bij het inloggen", "at login"),
        "refresh_token" => ("verlengd", "renewed"),
        "client_credentials" => ("als systeem", "as a system"),
        _ => return None,
    };
    Some(pick(lang, nl, en))
}

fn pick(lang: Lang, nl: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Nl => nl,
        Lang::En => en,
    }
}

/// A detail in words: each code word translated, each application id (as `name_of` knows
/// it) replaced by the application's name, anything else kept as it is. What a person or a
/// mail server wrote is never changed: the reason after `: ` (a beheerder's), and the whole
/// answer of a refused delivery.
pub fn detail(
    lang: Lang,
    event: AuditEvent,
    detail: &str,
    name_of: impl Fn(&str) -> Option<String>,
) -> String {
    if event == AuditEvent::InvitationDelivered {
        return detail.to_owned();
    }
    let (codes, written) = match detail.split_once(": ") {
        Some((codes, written)) => (codes, Some(written)),
        None => (detail, None),
    };
    let codes = codes
        .split(' ')
        .map(|word| {
            let bare = word.trim_end_matches(':');
            let said = detail_word(lang, bare)
                .map(str::to_owned)
                .or_else(|| name_of(bare));
            match said {
                Some(said) if bare.len() < word.len() => format!("{said}:"),
                Some(said) => said,
                None => word.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    match written {
        Some(written) => format!("{codes}: {written}"),
        None => codes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_and_outcome_has_words_in_both_languages() {
        for e in AuditEvent::ALL {
            for lang in [Lang::Nl, Lang::En] {
                let words = event(lang, e);
                assert!(!words.is_empty() && !words.contains('_'), "{e:?}: {words}");
            }
            assert_ne!(event(Lang::Nl, e), event(Lang::En, e), "{e:?}");
        }
        for o in Outcome::ALL {
            assert!(!outcome(Lang::Nl, o).contains('_'));
        }
    }

    #[test]
    fn details_speak_words_and_application_names() {
        let names = |id: &str| (id == "k3yQ9").then(|| "Verzuimcoach".to_owned());
        let said = |event, text| detail(Lang::Nl, event, text, names);
        assert_eq!(
            said(AuditEvent::TokensIssued, "k3yQ9 refresh_token"),
            "Verzuimcoach verlengd"
        );
        assert_eq!(
            detail(Lang::En, AuditEvent::SessionEnded, "everywhere", names),
            "everywhere"
        );
        assert_eq!(
            said(AuditEvent::ClientAuthentication, "client k3yQ9"),
            "app Verzuimcoach"
        );
        assert_eq!(
            said(AuditEvent::PasskeyAdded, "Mijn telefoon"),
            "Mijn telefoon"
        );
        // What a person or a mail server wrote stays as written.
        assert_eq!(
            said(AuditEvent::TwoStepReset, "beheerder baas: reset na login"),
            "beheerder baas: reset na login"
        );
        assert_eq!(
            said(AuditEvent::InvitationDelivered, "421 login later"),
            "421 login later"
        );
    }
}
