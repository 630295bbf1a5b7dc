//! The error pages' words. An error page is shown before the user's language is known (or
//! when knowing it failed), so each says it in Dutch and in English at once.

/// An error page's title and text, in Dutch and English.
pub struct ErrorWords {
    pub title_nl: &'static str,
    pub body_nl: &'static str,
    pub title_en: &'static str,
    pub body_en: &'static str,
}

pub const NOT_FOUND: ErrorWords = ErrorWords {
    title_nl: "Pagina niet gevonden",
    body_nl: "Deze pagina bestaat niet. Controleer het adres of ga naar het inlogscherm.",
    title_en: "Page not found",
    body_en: "This page does not exist. Check the address or go to the login page.",
};

pub const FORM_REFUSED: ErrorWords = ErrorWords {
    title_nl: "Formulier niet geaccepteerd",
    body_nl: "Het formulier kwam niet van deze site, of de pagina was te lang open. Laad de pagina opnieuw en probeer het nog eens. Staan cookies uit? Zet ze dan aan voor deze site.",
    title_en: "Form not accepted",
    body_en: "The form did not come from this site, or the page was open too long. Reload the page and try again. Are cookies turned off? Then allow them for this site.",
};

pub const FORM_UNREADABLE: ErrorWords = ErrorWords {
    title_nl: "Formulier niet leesbaar",
    body_nl: "Wat er verstuurd werd, is geen geldig formulier van deze site (of het is te groot). Ga terug en probeer het nog eens.",
    title_en: "Form could not be read",
    body_en: "What was sent is not a valid form of this site (or it is too large). Go back and try again.",
};

pub const BUSY: ErrorWords = ErrorWords {
    title_nl: "Het is even erg druk",
    body_nl: "Er loggen nu heel veel mensen tegelijk in. Er is niets verloren gegaan. Probeer het over een paar seconden opnieuw.",
    title_en: "Very busy right now",
    body_en: "A great many people are logging in at once. Nothing was lost. Please try again in a few seconds.",
};

pub const UNAVAILABLE: ErrorWords = ErrorWords {
    title_nl: "Even niet beschikbaar",
    body_nl: "De dienst is even niet bereikbaar. Er is niets verloren gegaan. Probeer het over een paar seconden opnieuw.",
    title_en: "Briefly unavailable",
    body_en: "The service cannot be reached for a moment. Nothing was lost. Please try again in a few seconds.",
};

pub const INTERNAL: ErrorWords = ErrorWords {
    title_nl: "Er ging iets mis",
    body_nl: "Er ging aan onze kant iets mis. Er is niets verloren gegaan. Probeer het over een paar minuten nog eens.",
    title_en: "Something went wrong",
    body_en: "Something went wrong on our side. Nothing was lost. Please try again in a few minutes.",
};
