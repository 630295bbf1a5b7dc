//! The command line: `serve` (the default) and the administrator's commands.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

mod access;
mod audit;
mod backup;
mod client;
mod keys;
mod look;
mod org;
mod user;
mod webhook;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::admin::Admin;
use crate::clock::SystemClock;
use crate::config::Settings;
use crate::startup::{App, open_existing_store, open_store};

#[derive(Parser)]
#[command(
    name = "poortwachter",
    version,
    about = "Poortwachter: invitation, activation and login for Verzuimcoach",
    long_about = "Poortwachter: invitation, activation and login for Verzuimcoach.\n\n\
        Settings come from poortwachter.toml (or --config FILE) and POORTWACHTER_* \
        environment variables. Without a command, the server starts."
)]
struct Cli {
    /// TOML settings file (default: poortwachter.toml in the working folder, if present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server and the mail sender (the default). Makes the database if there is
    /// none yet.
    Serve,
    /// Make the database (the SQLite file in the data folder, or the tables in PostgreSQL)
    /// and stop. Every other command refuses a database that is not there.
    Init,
    /// Organizations and their password policy.
    #[command(subcommand)]
    Org(org::OrgCommand),
    /// Users: invite, list, reset two-step verification, unlock, disable, sessions.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Read the audit log (security events), oldest first; `audit verify` checks its hash
    /// chain, `audit export` writes a time range out (jsonl or csv).
    Audit(audit::AuditArgs),
    /// Webhooks: subscriptions to events (Standard Webhooks, signed).
    #[command(subcommand)]
    Webhook(webhook::WebhookCommand),
    /// Toegang op orde: expected logins, readiness, the look-ahead mail.
    #[command(subcommand)]
    Access(access::AccessCommand),
    /// Applications that log users in here (OpenID Connect clients).
    #[command(subcommand)]
    Client(client::ClientCommand),
    /// The keys that sign ID and access tokens.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Write a consistent copy of the SQLite database (safe while the server runs).
    Backup(backup::BackupArgs),
    /// Print the admin API's OpenAPI 3.1 document (also served at /api/v1/openapi.json), for
    /// generating a client or checking it with a validator.
    Openapi,
}

pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let serving = matches!(cli.command, None | Some(Command::Serve));
    init_logging(&settings, serving);
    match run(cli.command.unwrap_or(Command::Serve), settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", said_once(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error with its causes, each said once: a cause whose words the text before it
/// already holds is left out (an error that shows its source, as thiserror's `{0}` with
/// `#[from]` does, would otherwise say the same thing two or three times).
fn said_once(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// Operational logs go to stderr (text or JSON); the server's audit events go to stdout as
/// JSON lines, one per event, for a log shipper to collect.
fn init_logging(settings: &Settings, serving: bool) {
    use tracing_subscriber::filter::{Targets, filter_fn};
    use tracing_subscriber::prelude::*;
    let default = if serving { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let not_audit = filter_fn(|meta| meta.target() != "audit");
    // Colours only for a person at a terminal, never into a file or a log collector.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let operational = tracing_subscriber::fmt::layer()
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let operational = if settings.log_format == "json" {
        operational.json().with_filter(not_audit).boxed()
    } else {
        operational.with_filter(not_audit).boxed()
    };
    let audit = serving.then(|| {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_writer(std::io::stdout)
            .with_filter(Targets::new().with_target("audit", tracing::Level::INFO))
    });
    tracing_subscriber::registry()
        .with(operational.with_filter(filter))
        .with(audit)
        .init();
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => return App::build(settings).await?.run().await,
        Command::Backup(args) => return backup::run(&settings, args).await,
        Command::Openapi => {
            println!("{}", crate::api::openapi().to_pretty_json()?);
            return Ok(());
        }
        Command::Init => {
            open_store(&settings).await?;
            println!(
                "database ready: {}",
                crate::startup::redact(&settings.database_url())
            );
            return Ok(());
        }
        _ => {}
    }
    let admin = Admin::new(
        open_existing_store(&settings).await?,
        Arc::new(settings),
        Arc::new(SystemClock),
    );
    match command {
        Command::Serve | Command::Init | Command::Backup(_) | Command::Openapi => {
            unreachable!("handled above")
        }
        Command::Org(command) => org::run(&admin, command).await,
        Command::User(command) => user::run(&admin, command).await,
        Command::Audit(args) => audit::run(&admin, args).await,
        Command::Access(command) => access::run(&admin, command).await,
        Command::Client(command) => client::run(&admin, command).await,
        Command::Keys(command) => keys::run(&admin, command).await,
        Command::Webhook(command) => webhook::run(&admin, command).await,
    }
}

fn now() -> i64 {
    use crate::clock::Clock;
    SystemClock.now()
}

/// Unix seconds as RFC 3339 in UTC (as the audit export writes them).
fn timestamp(unix: i64) -> String {
    crate::clock::rfc3339(unix)
}

/// "12 min", "3 h": a wait for people.
fn age(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", (s + 59) / 60),
        s => format!("{} h", (s + 3599) / 3600),
    }
}
