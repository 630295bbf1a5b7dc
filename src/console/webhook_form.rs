//! The webhook form of the console, read and checked: the target address, a description
//! and which events (all but logins, or the ones ticked). Plain functions, so the rules the
//! page applies are tested without a server.

use crate::domain::webhook::{EventFilter, EventKind, check_target};
use crate::texts::WebhookTexts;

/// The longest description (the admin service's rule, said in the page's words here).
const MAX_DESCRIPTION: usize = 200;

/// The form as typed, to show it back when something is wrong.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct WebhookForm {
    pub url: String,
    pub description: String,
    /// "all": every event but logins; anything else: only `chosen`.
    pub all: bool,
    pub chosen: Vec<EventKind>,
}

impl WebhookForm {
    /// A new form: every event but logins.
    pub fn blank() -> WebhookForm {
        WebhookForm {
            all: true,
            ..WebhookForm::default()
        }
    }

    /// From the posted pairs (`event` repeats, once per ticked box; unknown names are
    /// ignored, as a box that does not exist cannot be ticked).
    pub fn from_pairs(pairs: &[(String, String)]) -> WebhookForm {
        let mut form = WebhookForm::default();
        for (name, value) in pairs {
            match name.as_str() {
                "url" => form.url = value.clone(),
                "description" => form.description = value.clone(),
                "which" => form.all = value == "all",
                "event" => {
                    if let Some(kind) = EventKind::parse(value)
                        && !form.chosen.contains(&kind)
                    {
                        form.chosen.push(kind);
                    }
                }
                _ => {}
            }
        }
        form
    }

    pub fn is_chosen(&self, kind: &EventKind) -> bool {
        self.chosen.contains(kind)
    }

    /// The target, the filter as stored and the description, or what the page says is wrong.
    pub fn check(
        &self,
        t: &WebhookTexts,
        development: bool,
    ) -> Result<(String, String, String), &'static str> {
        let url = url::Url::parse(self.url.trim()).map_err(|_| t.url_invalid)?;
        check_target(&url, development).map_err(|e| t.target_problem(&e))?;
        let filter = if self.all {
            EventFilter::AllButLogins
        } else if self.chosen.is_empty() {
            return Err(t.no_events);
        } else {
            EventFilter::Only(self.chosen.clone())
        };
        let description = self.description.trim();
        if description.chars().count() > MAX_DESCRIPTION || description.contains(['\r', '\n']) {
            return Err(t.description_too_long);
        }
        Ok((url.to_string(), filter.to_text(), description.to_owned()))
    }
}

/// A replay's days, `from` and `to` inclusive, as the range `from <= at < end` in Unix
/// seconds (days start at 00:00 Dutch time).
pub fn replay_range(from: &str, to: &str) -> Option<(i64, i64)> {
    let start = crate::texts::dutch_day_start(from.trim())?;
    let last: jiff::civil::Date = to.trim().parse().ok()?;
    let end = crate::texts::dutch_day_start(&last.tomorrow().ok()?.to_string())?;
    (start < end).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::texts::webhooks::NL;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn all_events_is_the_star_filter() {
        let form = WebhookForm::from_pairs(&pairs(&[
            ("url", " https://hr.example.nl/hook "),
            ("which", "all"),
            ("description", "HR"),
        ]));
        let (url, events, description) = form.check(&NL, false).unwrap();
        assert_eq!(url, "https://hr.example.nl/hook");
        assert_eq!(events, "*");
        assert_eq!(description, "HR");
    }

    #[test]
    fn ticked_events_are_kept_once_and_unknown_names_ignored() {
        let form = WebhookForm::from_pairs(&pairs(&[
            ("url", "https://hr.example.nl/hook"),
            ("which", "chosen"),
            ("event", "user.login"),
            ("event", "user.locked"),
            ("event", "user.login"),
            ("event", "made.up"),
        ]));
        assert_eq!(
            form.chosen,
            vec![EventKind::UserLogin, EventKind::UserLocked]
        );
        assert_eq!(form.check(&NL, false).unwrap().1, "user.login,user.locked");
    }

    #[test]
    fn nothing_ticked_is_refused() {
        let form = WebhookForm::from_pairs(&pairs(&[
            ("url", "https://hr.example.nl/hook"),
            ("which", "chosen"),
        ]));
        assert_eq!(form.check(&NL, false), Err(NL.no_events));
    }

    #[test]
    fn addresses_follow_the_target_rules() {
        let check = |url: &str, development| {
            WebhookForm {
                url: url.into(),
                ..WebhookForm::blank()
            }
            .check(&NL, development)
            .map(|_| ())
        };
        assert_eq!(check("niet een adres", false), Err(NL.url_invalid));
        assert_eq!(check("http://hr.example.nl/", false), Err(NL.url_scheme));
        assert_eq!(
            check("https://a:b@hr.example.nl/", false),
            Err(NL.url_credentials)
        );
        assert_eq!(check("https://10.0.0.8/hook", false), Err(NL.url_private));
        assert_eq!(
            check("https://169.254.169.254/", false),
            Err(NL.url_private)
        );
        assert_eq!(
            check("http://127.0.0.1:9000/hook", false),
            Err(NL.url_scheme)
        );
        assert_eq!(check("http://127.0.0.1:9000/hook", true), Ok(()));
    }

    #[test]
    fn a_long_or_two_line_description_is_refused() {
        let long = WebhookForm {
            url: "https://hr.example.nl/".into(),
            description: "x".repeat(201),
            ..WebhookForm::blank()
        };
        assert_eq!(long.check(&NL, false), Err(NL.description_too_long));
        let two_lines = WebhookForm {
            description: "a\nb".into(),
            ..long
        };
        assert_eq!(two_lines.check(&NL, false), Err(NL.description_too_long));
    }

    #[test]
    fn a_replay_covers_whole_dutch_days() {
        // 1 March 2027 00:00 in Amsterdam is 23:00 UTC the day before.
        let (from, to) = replay_range("2027-03-01", "2027-03-01").unwrap();
        assert_eq!(from, 1_803_855_600);
        assert_eq!(to - from, 86_400);
        // Over the change to summer time (28 March 2027) a day is 23 hours.
        let (from, to) = replay_range("2027-03-28", "2027-03-28").unwrap();
        assert_eq!(to - from, 23 * 3600);
        assert!(replay_range("2027-03-02", "2027-03-01").is_none());
        assert!(replay_range("gisteren", "2027-03-01").is_none());
    }
}
