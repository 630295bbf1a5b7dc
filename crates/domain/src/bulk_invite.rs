//! Inviting many employees at once, from a CSV file HR exports from a spreadsheet or a JSON
//! array: every row is checked before anything is sent, and one bad row stops the whole
//! upload (nothing half-done). The rules that need no database are here; whether a
//! username is taken is asked of the store by the caller.

use std::collections::HashMap;

use super::account::{DisplayName, EmailAddress, InvalidInput, Username};

/// At most this many rows in one upload: a large employer invites in batches.
pub const MAX_ROWS: usize = 1000;

/// A row as given, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawRow {
    /// The row's number as the user sees it: the line in the CSV file (the header is line
    /// 1), or the position in a JSON array (from 1).
    pub line: usize,
    pub username: String,
    pub email: String,
    pub display_name: String,
}

/// A row that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: Username,
    pub email: EmailAddress,
    pub display_name: DisplayName,
}

/// What is wrong with one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowProblem {
    Invalid(InvalidInput),
    /// The row has more or fewer fields than the header.
    FieldCount {
        expected: usize,
        found: usize,
    },
    /// The same username is on an earlier row of this upload.
    Duplicate {
        first_line: usize,
    },
    /// The username belongs to an account of another organization.
    Taken,
    /// The user has already activated their account.
    AlreadyActive,
}

impl RowProblem {
    pub fn code(&self) -> &'static str {
        match self {
            RowProblem::Invalid(InvalidInput::Username) => "invalid_username",
            RowProblem::Invalid(InvalidInput::Email) => "invalid_email",
            RowProblem::Invalid(InvalidInput::DisplayName) => "invalid_display_name",
            RowProblem::Invalid(_) => "invalid",
            RowProblem::FieldCount { .. } => "field_count",
            RowProblem::Duplicate { .. } => "duplicate_in_upload",
            RowProblem::Taken => "username_taken",
            RowProblem::AlreadyActive => "already_active",
        }
    }
}

/// A row and what its checks found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowCheck {
    pub raw: RawRow,
    pub problems: Vec<RowProblem>,
    pub user: Option<NewUser>,
}

impl RowCheck {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Why a whole upload cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is not UTF-8 text (save it as \"CSV UTF-8\")")]
    NotUtf8,
    #[error(
        "the first line must name the columns username, email and display_name \
         (or gebruikersnaam, e-mailadres and naam); found {0:?}"
    )]
    Header(String),
    #[error("{rows} rows: at most {MAX_ROWS} in one upload")]
    TooManyRows { rows: usize },
    #[error("line {line}: {message}")]
    Unreadable { line: usize, message: String },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    Username,
    Email,
    DisplayName,
}

fn column(name: &str) -> Option<Column> {
    match name.trim().to_lowercase().replace([' ', '-'], "_").as_str() {
        "username" | "gebruikersnaam" => Some(Column::Username),
        "email" | "e_mail" | "e_mailadres" | "emailadres" | "email_address" => Some(Column::Email),
        "display_name" | "name" | "naam" | "volledige_naam" => Some(Column::DisplayName),
        _ => None,
    }
}

/// Reads a CSV upload: UTF-8 with or without a byte-order mark, separated by commas or —
/// as Dutch Excel saves it — semicolons, a header naming the three columns in any order.
/// Each row is then checked (see [`check_rows`]).
pub fn read_csv(bytes: &[u8]) -> Result<Vec<RowCheck>, UploadError> {
    let text = std::str::from_utf8(bytes).map_err(|_| UploadError::NotUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let header_line = text.lines().next().unwrap_or_default();
    if header_line.trim().is_empty() {
        return Err(UploadError::Empty);
    }
    let delimiter = if header_line.contains(';') {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| UploadError::Header(e.to_string()))?
        .clone();
    let columns: Vec<Column> = header
        .iter()
        .map(column)
        .collect::<Option<_>>()
        .filter(|cols: &Vec<Column>| {
            cols.len() == 3
                && [Column::Username, Column::Email, Column::DisplayName]
                    .iter()
                    .all(|c| cols.contains(c))
        })
        .ok_or_else(|| UploadError::Header(header_line.trim().to_owned()))?;
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| UploadError::Unreadable {
            line: e.position().map_or(0, |p| p.line() as usize),
            message: e.to_string(),
        })?;
        if record.iter().all(str::is_empty) {
            continue;
        }
        // The line as an editor shows it, counted from the record's byte offset (the csv
        // crate's own line count differs with \r\n line ends).
        let line = record.position().map_or(rows.len() + 2, |p| {
            let bytes = text.as_bytes();
            let mut start = (p.byte() as usize).min(bytes.len());
            // With \r\n the record may start on the \n that ends the line before.
            while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
                start += 1;
            }
            bytes[..start].iter().filter(|&&b| b == b'\n').count() + 1
        });
        let mut row = RawRow {
            line,
            ..RawRow::default()
        };
        for (value, column) in record.iter().zip(&columns) {
            let field = match column {
                Column::Username => &mut row.username,
                Column::Email => &mut row.email,
                Column::DisplayName => &mut row.display_name,
            };
            *field = value.to_owned();
        }
        problems.push(
            (record.len() != columns.len()).then_some(RowProblem::FieldCount {
                expected: columns.len(),
                found: record.len(),
            }),
        );
        rows.push(row);
        if rows.len() > MAX_ROWS {
            // Counted to the end, so the message says how many there are.
            let rows = rows.len() + reader.records().count();
            return Err(UploadError::TooManyRows { rows });
        }
    }
    if rows.is_empty() {
        return Err(UploadError::Empty);
    }
    let mut checked = check_rows(rows);
    for (check, problem) in checked.iter_mut().zip(problems) {
        if let Some(problem) = problem {
            check.problems.insert(0, problem);
            check.user = None;
        }
    }
    Ok(checked)
}

/// Checks each row's fields and that no username comes twice (the second and later rows
/// with it are the ones refused).
pub fn check_rows(rows: Vec<RawRow>) -> Vec<RowCheck> {
    let mut first_lines: HashMap<String, usize> = HashMap::new();
    rows.into_iter()
        .map(|raw| {
            let mut problems = Vec::new();
            let username = Username::parse(&raw.username)
                .map_err(|e| problems.push(RowProblem::Invalid(e)))
                .ok();
            let email = EmailAddress::parse(&raw.email)
                .map_err(|e| problems.push(RowProblem::Invalid(e)))
                .ok();
            let display_name = DisplayName::parse(&raw.display_name)
                .map_err(|e| problems.push(RowProblem::Invalid(e)))
                .ok();
            if let Some(username) = &username {
                let first = *first_lines
                    .entry(username.as_str().to_owned())
                    .or_insert(raw.line);
                if first != raw.line {
                    problems.push(RowProblem::Duplicate { first_line: first });
                }
            }
            let user = match (username, email, display_name) {
                (Some(username), Some(email), Some(display_name)) if problems.is_empty() => {
                    Some(NewUser {
                        username,
                        email,
                        display_name,
                    })
                }
                _ => None,
            };
            RowCheck {
                raw,
                problems,
                user,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(checks: &[RowCheck]) -> Vec<Vec<&'static str>> {
        checks
            .iter()
            .map(|c| c.problems.iter().map(RowProblem::code).collect())
            .collect()
    }

    #[test]
    fn comma_csv_with_the_english_header() {
        let csv = "username,email,display_name\njan,jan@example.nl,Jan Jansen\n";
        let rows = read_csv(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 1);
        assert!(rows[0].is_ok());
        assert_eq!(rows[0].raw.line, 2);
        assert_eq!(
            rows[0].user.as_ref().unwrap().display_name.as_str(),
            "Jan Jansen"
        );
    }

    #[test]
    fn dutch_excel_semicolons_bom_and_dutch_header_in_another_order() {
        let csv = "\u{feff}Naam;Gebruikersnaam;E-mailadres\r\n\"Vries, Piet de\";piet;piet@example.nl\r\n";
        let rows = read_csv(csv.as_bytes()).unwrap();
        assert!(rows[0].is_ok(), "{:?}", rows[0].problems);
        assert_eq!(rows[0].raw.line, 2);
        let user = rows[0].user.as_ref().unwrap();
        assert_eq!(user.username.as_str(), "piet");
        assert_eq!(user.display_name.as_str(), "Vries, Piet de");
    }

    #[test]
    fn a_wrong_header_refuses_the_whole_file() {
        for csv in [
            "user,mail,name\na,b,c\n",
            "username,email\njan,jan@example.nl\n",
            "",
        ] {
            assert!(read_csv(csv.as_bytes()).is_err(), "{csv:?}");
        }
        assert_eq!(
            read_csv(b"username,email,display_name\n"),
            Err(UploadError::Empty)
        );
        assert_eq!(read_csv(&[0xff, 0xfe, 0x00]), Err(UploadError::NotUtf8));
    }

    #[test]
    fn more_than_a_thousand_rows_are_refused_with_their_count() {
        let mut csv = String::from("username,email,display_name\n");
        for i in 0..1001 {
            csv.push_str(&format!("u{i},u{i}@example.nl,U {i}\n"));
        }
        assert_eq!(
            read_csv(csv.as_bytes()),
            Err(UploadError::TooManyRows { rows: 1001 })
        );
    }

    #[test]
    fn each_bad_row_says_what_is_wrong_and_duplicates_point_at_the_first() {
        let csv = "username,email,display_name\n\
                   jan,jan@example.nl,Jan\n\
                   x,not-an-address,\n\
                   JAN,jan2@example.nl,Jan Twee\n\
                   kees,kees@example.nl\n";
        let rows = read_csv(csv.as_bytes()).unwrap();
        assert_eq!(
            problems(&rows),
            vec![
                vec![],
                vec!["invalid_username", "invalid_email", "invalid_display_name"],
                vec!["duplicate_in_upload"],
                vec!["field_count", "invalid_display_name"],
            ]
        );
        assert_eq!(rows[2].problems[0], RowProblem::Duplicate { first_line: 2 });
        assert!(rows.iter().skip(1).all(|r| r.user.is_none()));
    }
}
