//! `audit`: read the audit log.

use clap::Args;

use super::{now, timestamp};
use crate::admin::Admin;
use crate::store::AuditEntry;

/// Read the audit log (security events), oldest first.
#[derive(Args)]
pub struct AuditArgs {
    /// Only this organization's events.
    #[arg(long)]
    org: Option<String>,
    /// Only this user's events (with --org: a user is always named with their organization).
    #[arg(long, requires = "org")]
    username: Option<String>,
    /// Only events since this time: RFC 3339 (2026-11-25T09:00:00Z) or an age (30m, 24h, 7d).
    #[arg(long)]
    since: Option<String>,
    /// At most this many events (the newest).
    #[arg(long, default_value_t = 100)]
    limit: i64,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    json: bool,
}

pub async fn run(admin: &Admin, args: AuditArgs) -> anyhow::Result<()> {
    let AuditArgs {
        org,
        username,
        since,
        limit,
        json,
    } = args;

    let since = since.as_deref().map(parse_since).transpose()?;
    let entries = admin
        .audit_log(org.as_deref(), username.as_deref(), since, limit.max(1))
        .await?;
    for e in &entries {
        if json {
            println!("{}", audit_json(e));
        } else {
            println!(
                "{}  {:<17} {:<12} {:<12} {:<24} {:<16} {}",
                timestamp(e.at),
                e.event,
                e.outcome,
                e.org_slug.as_deref().unwrap_or("-"),
                e.username.as_deref().unwrap_or("-"),
                e.client.as_deref().unwrap_or("-"),
                e.detail.as_deref().unwrap_or("")
            );
        }
    }
    Ok(())
}

/// `--since`: an RFC 3339 time, or an age such as 30m, 24h or 7d.
fn parse_since(text: &str) -> anyhow::Result<i64> {
    if let Ok(at) =
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
    {
        return Ok(at.unix_timestamp());
    }
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let seconds = match unit {
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => 0,
    };
    match number.parse::<i64>() {
        Ok(n) if seconds > 0 && n >= 0 => Ok(now() - n.saturating_mul(seconds)),
        _ => anyhow::bail!(
            "--since {text:?}: give a time like 2026-11-25T09:00:00Z or an age like 30m, 24h, 7d"
        ),
    }
}

fn audit_json(e: &AuditEntry) -> String {
    serde_json::json!({
        "at": timestamp(e.at),
        "event": e.event.as_str(),
        "outcome": e.outcome.as_str(),
        "org": e.org_slug,
        "user_id": e.user_id,
        "username": e.username,
        "client": e.client,
        "detail": e.detail,
    })
    .to_string()
}
