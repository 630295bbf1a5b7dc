//! Moments as users read them: Dutch local time (Europe/Amsterdam, with daylight saving
//! time), in Dutch notation on Dutch pages ("25 november 2026 om 20:41") and English
//! notation on English ones ("25 November 2026 at 20:41"). The zone's rules are built in
//! at compile time, so a server without tzdata (a slim container) shows the same times.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::Texts;
use crate::domain::lang::Lang;

/// Everyone who uses the service works in the Netherlands.
static DUTCH_TIME: TimeZone = jiff::tz::get!("Europe/Amsterdam");

const MONTHS_NL: [&str; 12] = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
];

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The hour (0–23) of Dutch local time at `unix`: the look-ahead mail goes out in the
/// daytime where its readers live.
pub fn dutch_hour(unix: i64) -> u8 {
    Timestamp::from_second(unix)
        .map(|at| DUTCH_TIME.to_datetime(at).hour())
        .ok()
        .and_then(|hour| u8::try_from(hour).ok())
        .unwrap_or(12)
}

/// The Dutch calendar day at `unix` (`2027-01-15`): what a date field starts at.
pub fn dutch_date(unix: i64) -> String {
    Timestamp::from_second(unix)
        .map(|at| DUTCH_TIME.to_datetime(at).date().to_string())
        .unwrap_or_default()
}

/// The start (00:00 Dutch time) of the day `date` (`2027-01-15`), as Unix seconds: a login
/// expected "on" a day is expected from its start.
pub fn dutch_day_start(date: &str) -> Option<i64> {
    let date: jiff::civil::Date = date.parse().ok()?;
    let midnight = date.to_datetime(jiff::civil::Time::midnight());
    let start = DUTCH_TIME
        .to_ambiguous_timestamp(midnight)
        .compatible()
        .ok()?;
    Some(start.as_second())
}

impl Texts {
    /// Unix seconds as a day of Dutch local time ("8 december 2026").
    pub fn day(&self, unix: i64) -> String {
        let Ok(at) = Timestamp::from_second(unix) else {
            return String::new();
        };
        let local = DUTCH_TIME.to_datetime(at);
        let month = usize::try_from(local.month() - 1).unwrap_or(0);
        let name = match self.lang {
            Lang::Nl => MONTHS_NL[month],
            Lang::En => MONTHS_EN[month],
        };
        format!("{} {name} {}", local.day(), local.year())
    }

    /// Unix seconds as a day and minute of Dutch local time, in this language's notation.
    pub fn moment(&self, unix: i64) -> String {
        let Ok(at) = Timestamp::from_second(unix) else {
            return String::new();
        };
        let local = DUTCH_TIME.to_datetime(at);
        let month = usize::try_from(local.month() - 1).unwrap_or(0);
        let (name, joiner) = match self.lang {
            Lang::Nl => (MONTHS_NL[month], "om"),
            Lang::En => (MONTHS_EN[month], "at"),
        };
        format!(
            "{} {name} {} {joiner} {:02}:{:02}",
            local.day(),
            local.year(),
            local.hour(),
            local.minute()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix(rfc3339: &str) -> i64 {
        rfc3339.parse::<Timestamp>().unwrap().as_second()
    }

    #[test]
    fn winter_time_is_an_hour_ahead_of_utc() {
        let at = unix("2026-11-25T19:41:00Z");
        assert_eq!(Texts::of(Lang::Nl).moment(at), "25 november 2026 om 20:41");
        assert_eq!(Texts::of(Lang::En).moment(at), "25 November 2026 at 20:41");
    }

    #[test]
    fn summer_time_is_two_hours_ahead_and_switches_on_the_eu_dates() {
        let nl = Texts::of(Lang::Nl);
        assert_eq!(
            nl.moment(unix("2026-07-01T10:05:00Z")),
            "1 juli 2026 om 12:05"
        );
        // Clocks go forward at 01:00 UTC on the last Sunday of March (29 March 2026) …
        assert_eq!(
            nl.moment(unix("2026-03-29T00:59:00Z")),
            "29 maart 2026 om 01:59"
        );
        assert_eq!(
            nl.moment(unix("2026-03-29T01:00:00Z")),
            "29 maart 2026 om 03:00"
        );
        // … and back on the last Sunday of October (25 October 2026).
        assert_eq!(
            nl.moment(unix("2026-10-25T00:59:00Z")),
            "25 oktober 2026 om 02:59"
        );
        assert_eq!(
            nl.moment(unix("2026-10-25T01:00:00Z")),
            "25 oktober 2026 om 02:00"
        );
    }

    #[test]
    fn the_day_and_the_hour_are_amsterdams() {
        let at = unix("2026-12-31T23:30:00Z");
        assert_eq!(Texts::of(Lang::Nl).day(at), "1 januari 2027");
        assert_eq!(dutch_hour(at), 0);
        assert_eq!(dutch_hour(unix("2026-07-01T06:00:00Z")), 8);
        assert_eq!(
            dutch_day_start("2027-01-15"),
            Some(unix("2027-01-14T23:00:00Z"))
        );
        assert_eq!(dutch_day_start("15-01-2027"), None);
    }

    #[test]
    fn new_year_in_amsterdam_comes_before_utc() {
        let at = unix("2026-12-31T23:30:00Z");
        assert_eq!(Texts::of(Lang::En).moment(at), "1 January 2027 at 00:30");
        assert_eq!(Texts::of(Lang::Nl).moment(i64::MAX), "");
    }
}
