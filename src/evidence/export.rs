//! The audit export: JSON lines or CSV with the fields NEN 7513 asks of a log of access to
//! health data: who (user, username; an administrator's name is in `detail`), what (event,
//! outcome, detail), when (`at`, UTC), which organization and application, from which
//! address, and the record's place and hash in the chain (so an exported copy can be
//! checked against the database later).

use crate::clock::rfc3339;
use std::io::Write;

use crate::domain::audit::AuditEvent;
use crate::store::ExportRow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Jsonl,
    Csv,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "jsonl" => Ok(ExportFormat::Jsonl),
            "csv" => Ok(ExportFormat::Csv),
            other => Err(format!("format {other:?}: jsonl or csv")),
        }
    }
}

impl ExportFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Jsonl => "application/jsonl",
            ExportFormat::Csv => "text/csv; charset=utf-8",
        }
    }
}

const COLUMNS: [&str; 12] = [
    "seq",
    "at",
    "event",
    "outcome",
    "organization",
    "application",
    "user_id",
    "username",
    "address",
    "detail",
    "hash",
    "id",
];

/// The application (OpenID Connect client) an event is about: the first word of its detail.
fn application(row: &ExportRow) -> Option<&str> {
    use AuditEvent as E;
    let event = AuditEvent::from_db(&row.row.event)?;
    matches!(
        event,
        E::CodeIssued
            | E::TokensIssued
            | E::TokenReused
            | E::TokensRevoked
            | E::ClientAuthentication
            | E::BackchannelLogout
            | E::ConsentGiven
            | E::ConsentWithdrawn
            | E::ClientCreated
            | E::ClientSecretRotated
            | E::ClientRemoved
    )
    .then(|| row.row.detail.as_deref()?.split_whitespace().next())
    .flatten()
}

/// The CSV header (written once, before the first page).
pub fn write_header(format: ExportFormat, out: &mut Vec<u8>) {
    if format == ExportFormat::Csv {
        let mut writer = csv::Writer::from_writer(out);
        let _ = writer.write_record(COLUMNS);
        let _ = writer.flush();
    }
}

/// Appends `rows` to `out` in `format` (without the CSV header: [`write_header`]).
pub fn write_export(format: ExportFormat, rows: &[ExportRow], out: &mut Vec<u8>) {
    match format {
        ExportFormat::Jsonl => {
            for row in rows {
                let line = serde_json::json!({
                    "seq": (row.row.seq > 0).then_some(row.row.seq),
                    "at": rfc3339(row.row.at),
                    "event": row.row.event,
                    "outcome": row.row.outcome,
                    "organization": row.org_slug,
                    "application": application(row),
                    "user_id": row.row.user_id,
                    "username": row.row.username,
                    "address": row.row.client,
                    "detail": row.row.detail,
                    "hash": row.row.hash.map(|h| h.hex()),
                    "id": row.row.id,
                });
                let _ = writeln!(out, "{line}");
            }
        }
        ExportFormat::Csv => {
            let mut writer = csv::Writer::from_writer(out);
            for row in rows {
                let text = |v: Option<&str>| v.unwrap_or("").to_owned();
                let number = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
                let _ = writer.write_record([
                    number((row.row.seq > 0).then_some(row.row.seq)),
                    rfc3339(row.row.at),
                    row.row.event.clone(),
                    row.row.outcome.clone(),
                    text(row.org_slug.as_deref()),
                    text(application(row)),
                    number(row.row.user_id),
                    text(row.row.username.as_deref()),
                    text(row.row.client.as_deref()),
                    text(row.row.detail.as_deref()),
                    row.row.hash.map(|h| h.hex()).unwrap_or_default(),
                    row.row.id.to_string(),
                ]);
            }
            let _ = writer.flush();
        }
    }
}
