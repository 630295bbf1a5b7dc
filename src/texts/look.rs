//! The words of the console's Huisstijl page (an organization's own look) and of its
//! refusals. A `{}` is filled with [`Texts::fill`](super::Texts::fill).

use crate::domain::lang::Lang;
use crate::domain::look::{LookError, MAX_LOGO_BYTES, MAX_LOGO_SIDE, MAX_SENDER_NAME};

pub struct LookTexts {
    pub nav: &'static str,
    pub heading: &'static str,
    pub intro: &'static str,
    pub fixed: &'static str,
    pub name_label: &'static str,
    pub name_hint: &'static str,
    pub name_missing: &'static str,
    pub accent_label: &'static str,
    pub accent_hint: &'static str,
    pub sender_label: &'static str,
    /// `{}`: the service's name.
    pub sender_hint: &'static str,
    pub logo_label: &'static str,
    pub logo_hint: &'static str,
    pub current_logo: &'static str,
    pub remove_logo: &'static str,
    pub save_button: &'static str,
    pub saved: &'static str,
    /// `{}`: how the mails' sender reads.
    pub mail_preview: &'static str,
}

pub static NL: LookTexts = LookTexts {
    nav: "Huisstijl",
    heading: "Huisstijl",
    intro: "Medewerkers herkennen jullie organisatie aan het logo, de kleur en de afzender van de e-mails. Na het inloggen zien ze die op hun pagina's en in de e-mails.",
    fixed: "De naam Poortwachter, het adres van de website en de teksten over veiligheid blijven altijd staan. Op de inlogpagina staat nog geen huisstijl, want dan weten we nog niet wie er inlogt.",
    name_label: "Naam van de organisatie",
    name_hint: "Zo lezen medewerkers de naam: naast het logo, in de e-mails en op hun pagina's.",
    name_missing: "Vul de naam van de organisatie in.",
    accent_label: "Kleur (knoppen en links)",
    accent_hint: "Schrijf de kleur als #rrggbb, bijvoorbeeld #0b5cad. Witte tekst moet er goed op te lezen zijn. Laat het leeg voor de kleur van Poortwachter.",
    sender_label: "Afzender van de e-mails",
    sender_hint: "Bijvoorbeeld de naam van jullie organisatie. De e-mails komen dan van \"… via {}\". Laat het leeg voor alleen de naam van Poortwachter.",
    logo_label: "Logo",
    logo_hint: "Een PNG-bestand van hoogstens 100 kB en 1024 bij 1024 pixels.",
    current_logo: "Het logo nu:",
    remove_logo: "Logo verwijderen",
    save_button: "OPSLAAN",
    saved: "De huisstijl is opgeslagen.",
    mail_preview: "De e-mails komen van: {}",
};

pub static EN: LookTexts = LookTexts {
    nav: "Look",
    heading: "Look",
    intro: "Employees recognise your organization by its logo, its colour and the sender of its e-mails. After logging in they see them on their pages and in the e-mails.",
    fixed: "The name Poortwachter, the website's address and the security texts always stay. The login page has no look yet, since who logs in is not known there.",
    name_label: "Name of the organization",
    name_hint: "How employees read the name: beside the logo, in the e-mails and on their pages.",
    name_missing: "Fill in the organization's name.",
    accent_label: "Colour (buttons and links)",
    accent_hint: "Write the colour as #rrggbb, for example #0b5cad. White text must read well on it. Leave it empty for Poortwachter's colour.",
    sender_label: "Sender of the e-mails",
    sender_hint: "For example your organization's name. The e-mails then come from \"… via {}\". Leave it empty for Poortwachter's name alone.",
    logo_label: "Logo",
    logo_hint: "A PNG file of at most 100 kB and 1024 by 1024 pixels.",
    current_logo: "The logo now:",
    remove_logo: "Remove the logo",
    save_button: "SAVE",
    saved: "The look was saved.",
    mail_preview: "The e-mails come from: {}",
};

/// Why a part of the look was refused, in the page's words.
pub fn problem(lang: Lang, error: &LookError) -> String {
    let nl = matches!(lang, Lang::Nl);
    match error {
        LookError::ColourSyntax if nl => {
            "Schrijf de kleur als #rrggbb, bijvoorbeeld #0b5cad.".into()
        }
        LookError::ColourSyntax => "Write the colour as #rrggbb, for example #0b5cad.".into(),
        LookError::TooLight { colour, ratio } if nl => format!(
            "Witte tekst op {colour} is slecht te lezen: het contrast is {ratio:.2}:1 en moet minstens 4,5:1 zijn (WCAG AA). Kies een donkerdere kleur."
        ),
        LookError::TooLight { colour, ratio } => format!(
            "White text on {colour} is hard to read: the contrast is {ratio:.2}:1 and must be at least 4.5:1 (WCAG AA). Choose a darker colour."
        ),
        LookError::NotPng if nl => "Het logo moet een PNG-bestand zijn.".into(),
        LookError::NotPng => "The logo must be a PNG file.".into(),
        LookError::LogoTooLarge if nl => {
            format!("Het logo mag hoogstens {} kB zijn.", MAX_LOGO_BYTES / 1024)
        }
        LookError::LogoTooLarge => format!("The logo may be at most {} kB.", MAX_LOGO_BYTES / 1024),
        LookError::LogoTooWide if nl => {
            format!("Het logo mag hoogstens {MAX_LOGO_SIDE} bij {MAX_LOGO_SIDE} pixels zijn.")
        }
        LookError::LogoTooWide => {
            format!("The logo may be at most {MAX_LOGO_SIDE} by {MAX_LOGO_SIDE} pixels.")
        }
        LookError::SenderName if nl => format!(
            "De afzender mag 1 tot {MAX_SENDER_NAME} tekens lang zijn, zonder < > \" @ en op één regel."
        ),
        LookError::SenderName => format!(
            "The sender may be 1 to {MAX_SENDER_NAME} characters, without < > \" @ and on one line."
        ),
    }
}
