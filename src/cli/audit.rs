//! `audit`: read the audit log; `audit verify` walks its hash chain, `audit export` writes
//! it out for an auditor (NEN 7513 fields).

use std::io::Write;

use clap::{Args, Subcommand};

use super::{now, timestamp};
use crate::admin::Admin;
use crate::evidence::{ExportFormat, write_export, write_header};
use crate::store::AuditEntry;

/// Read the audit log (security events), oldest first; or verify or export it.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    command: Option<AuditCommand>,
    #[command(flatten)]
    read: ReadArgs,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain and check its signed checkpoints; names the first record that was
    /// changed, removed or put in. Exits with status 1 when the chain is broken.
    Verify {
        /// Start at the last checkpoint made at or before this time (RFC 3339 or an age like
        /// 30d) instead of the chain's start: quicker on a long log.
        #[arg(long)]
        from: Option<String>,
    },
    /// Write the audit lines of a time range (who, what, when, organization, application,
    /// address, outcome, and each line's place and hash in the chain) to stdout.
    Export {
        /// From this time (RFC 3339 or an age like 30d).
        #[arg(long)]
        from: String,
        /// Until this time (default: now).
        #[arg(long)]
        to: Option<String>,
        /// jsonl (one JSON object per line) or csv.
        #[arg(long, default_value = "jsonl")]
        format: ExportFormat,
        /// Only this organization's lines.
        #[arg(long)]
        org: Option<String>,
    },
}

#[derive(Args)]
struct ReadArgs {
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
    match args.command {
        None => read(admin, args.read).await,
        Some(AuditCommand::Verify { from }) => verify(admin, from.as_deref()).await,
        Some(AuditCommand::Export {
            from,
            to,
            format,
            org,
        }) => {
            let from = parse_since(&from)?;
            let to = to
                .as_deref()
                .map(parse_since)
                .transpose()?
                .unwrap_or(now() + 1);
            export(admin, from, to, format, org.as_deref()).await
        }
    }
}

async fn verify(admin: &Admin, from: Option<&str>) -> anyhow::Result<()> {
    let from = from.map(parse_since).transpose()?;
    let evidence = admin.evidence().await?;
    // What was written while no server ran (or a moment ago) is linked first.
    evidence.seal().await?;
    let result = evidence.verify(from).await?;
    println!(
        "checked {} records (from {} to {}), {} signed checkpoints",
        result.checked,
        result.start.seq + 1,
        result.head.seq,
        result.checkpoints
    );
    if result.unsealed > 0 {
        println!("{} records not yet linked into the chain", result.unsealed);
    }
    match result.broken {
        None => {
            println!("the audit chain is intact");
            Ok(())
        }
        Some(broken) => {
            println!("BROKEN: {broken}");
            anyhow::bail!(
                "the audit chain is broken at record {}",
                broken_seq(&broken)
            )
        }
    }
}

fn broken_seq(broken: &crate::domain::audit_chain::Break) -> i64 {
    use crate::domain::audit_chain::Break;
    match *broken {
        Break::Altered { seq, .. }
        | Break::Checkpoint { seq }
        | Break::Forged { seq }
        | Break::Truncated { seq, .. } => seq,
        Break::Missing { after, .. } => after + 1,
    }
}

async fn export(
    admin: &Admin,
    from: i64,
    to: i64,
    format: ExportFormat,
    org: Option<&str>,
) -> anyhow::Result<()> {
    let org = match org {
        Some(slug) => Some(admin.organization(slug).await?.id),
        None => None,
    };
    let mut stdout = std::io::stdout().lock();
    let mut out = Vec::new();
    write_header(format, &mut out);
    let mut after = 0;
    loop {
        let rows = admin.store.audit_export(from, to, org, after, 5000).await?;
        let Some(last) = rows.last() else { break };
        after = last.row.id;
        write_export(format, &rows, &mut out);
        stdout.write_all(&out)?;
        out.clear();
    }
    stdout.write_all(&out)?;
    Ok(())
}

async fn read(admin: &Admin, args: ReadArgs) -> anyhow::Result<()> {
    let ReadArgs {
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
pub fn parse_since(text: &str) -> anyhow::Result<i64> {
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
