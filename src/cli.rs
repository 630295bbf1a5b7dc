//! The command line: `serve` (the default) and the administrator's commands.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::admin::Admin;
use crate::clock::SystemClock;
use crate::config::Settings;
use crate::domain::lang::Lang;
use crate::domain::password::{CharacterClasses, PasswordPolicy};
use crate::startup::{App, open_store};
use crate::store::{AuditEntry, Organization};

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
    /// Run the web server and the mail sender (the default).
    Serve,
    /// Organizations and their password policy.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Users: invite, list, reset two-step verification, unlock, disable, sessions.
    #[command(subcommand)]
    User(UserCommand),
    /// Read the audit log (security events), oldest first.
    Audit {
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
    },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an organization.
    Create {
        /// Short name used in commands, e.g. "acme".
        #[arg(long)]
        slug: String,
        /// Name shown to users, e.g. "Acme B.V.".
        #[arg(long)]
        name: String,
        /// Language of e-mails and the default of pages: nl or en.
        #[arg(long, default_value = "nl")]
        lang: Lang,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Show or change an organization's password policy.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Print the policy as users see it.
    Show {
        #[arg(long)]
        org: String,
    },
    /// Change the policy; options not given keep their value.
    Set {
        #[arg(long)]
        org: String,
        #[command(flatten)]
        policy: PolicyArgs,
    },
}

#[derive(Args)]
struct PolicyArgs {
    /// Minimum length in characters (at least 8; default 12).
    #[arg(long)]
    min_length: Option<u16>,
    /// Maximum length in characters (64 to 128; default 64).
    #[arg(long)]
    max_length: Option<u16>,
    /// Require a lowercase letter.
    #[arg(long, value_name = "true|false", num_args = 0..=1, default_missing_value = "true")]
    require_lowercase: Option<bool>,
    /// Require an uppercase letter.
    #[arg(long, value_name = "true|false", num_args = 0..=1, default_missing_value = "true")]
    require_uppercase: Option<bool>,
    /// Require a digit.
    #[arg(long, value_name = "true|false", num_args = 0..=1, default_missing_value = "true")]
    require_digit: Option<bool>,
    /// Require a punctuation mark or symbol.
    #[arg(long, value_name = "true|false", num_args = 0..=1, default_missing_value = "true")]
    require_symbol: Option<bool>,
}

impl PolicyArgs {
    fn apply_to(
        &self,
        base: PasswordPolicy,
    ) -> Result<PasswordPolicy, crate::domain::password::PolicyError> {
        let current = base.classes();
        PasswordPolicy::new(
            self.min_length.unwrap_or(base.min_length()),
            self.max_length.unwrap_or(base.max_length()),
            CharacterClasses {
                lowercase: self.require_lowercase.unwrap_or(current.lowercase),
                uppercase: self.require_uppercase.unwrap_or(current.uppercase),
                digit: self.require_digit.unwrap_or(current.digit),
                symbol: self.require_symbol.unwrap_or(current.symbol),
            },
        )
    }
}

#[derive(Subcommand)]
enum UserCommand {
    /// Invite a user: queues the invitation e-mail and prints the activation link. Inviting a
    /// user who has not activated yet sends a new link; the old one stops working.
    Invite {
        #[arg(long)]
        org: String,
        /// Login name (letters a-z, digits, . _ - @).
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// Name used in the greeting, e.g. "Jan de Vries".
        #[arg(long)]
        name: String,
    },
    /// List an organization's users and their state.
    List {
        #[arg(long)]
        org: String,
    },
    /// Remove a user's authenticator app (a lost phone): the next login sets it up again from
    /// a new e-mail. Ends all the user's sessions and sends them a notice.
    #[command(name = "reset-2fa")]
    Reset2fa(UserRef),
    /// Lift a lock after failed attempts: the user's count starts again at zero.
    Unlock(UserRef),
    /// Disable an account: it cannot log in or activate, and its sessions end at once.
    Disable(UserRef),
    /// Enable a disabled account again.
    Enable(UserRef),
    /// List a user's sessions; with --end, log the user out everywhere.
    Sessions {
        #[command(flatten)]
        user: UserRef,
        #[arg(long)]
        end: bool,
    },
}

/// A user, always named together with their organization: a command for one organization
/// cannot reach another's users.
#[derive(Args)]
struct UserRef {
    #[arg(long)]
    org: String,
    #[arg(long)]
    username: String,
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
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Operational logs go to stderr (text or JSON); the server's audit events go to stdout as
/// JSON lines, one per event, for a log shipper to collect.
fn init_logging(settings: &Settings, serving: bool) {
    use tracing_subscriber::filter::{Targets, filter_fn};
    use tracing_subscriber::prelude::*;
    let default = if serving { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let not_audit = filter_fn(|meta| meta.target() != "audit");
    let operational = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
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
    if let Command::Serve = command {
        return App::build(settings).await?.run().await;
    }
    let admin = Admin::new(
        open_store(&settings).await?,
        Arc::new(settings),
        Arc::new(SystemClock),
    );
    match command {
        Command::Serve => unreachable!("handled above"),
        Command::Org(OrgCommand::Create {
            slug,
            name,
            lang,
            policy,
        }) => {
            let policy = policy.apply_to(PasswordPolicy::default())?;
            let org = admin
                .create_organization(&slug, &name, lang, policy)
                .await?;
            println!("created organization {} ({})", org.slug, org.name);
            print_policy(&org);
        }
        Command::Org(OrgCommand::Policy(PolicyCommand::Show { org })) => {
            print_policy(&admin.organization(&org).await?);
        }
        Command::Org(OrgCommand::Policy(PolicyCommand::Set { org, policy })) => {
            let current = admin.organization(&org).await?;
            let policy = policy.apply_to(current.policy)?;
            print_policy(&admin.set_policy(&org, policy).await?);
        }
        Command::User(UserCommand::Invite {
            org,
            username,
            email,
            name,
        }) => {
            let invited = admin.invite(&org, &username, &email, &name).await?;
            println!(
                "invited {} <{}>; the e-mail is queued and leaves with the running server",
                invited.user.username, invited.user.email
            );
            println!("activation link: {}", invited.link);
        }
        Command::User(UserCommand::Reset2fa(UserRef { org, username })) => {
            let removed = admin.reset_two_step(&org, &username).await?;
            if removed {
                println!(
                    "two-step verification of {username} reset; sessions ended; notice e-mail queued"
                );
            } else {
                println!(
                    "{username} had no authenticator app set up; sessions ended; notice e-mail queued"
                );
            }
        }
        Command::User(UserCommand::List { org }) => {
            let now = now();
            println!(
                "{:<24} {:<9} {:<8} {:<22} {:<32} name",
                "username", "state", "2fa", "failed attempts", "e-mail"
            );
            for summary in admin.user_summaries(&org).await? {
                let user = &summary.user;
                let two_step = match summary.two_step {
                    None => "none",
                    Some(false) => "pending",
                    Some(true) => "active",
                };
                let failures = match summary.blocked_until - now {
                    wait if wait > 0 => format!("{} (waits {})", summary.failures, age(wait)),
                    _ => summary.failures.to_string(),
                };
                println!(
                    "{:<24} {:<9} {:<8} {:<22} {:<32} {}",
                    user.username, user.state, two_step, failures, user.email, user.display_name
                );
            }
        }
        Command::User(UserCommand::Unlock(UserRef { org, username })) => {
            let user = admin.unlock(&org, &username).await?;
            println!(
                "{} unlocked: failed attempts start again at zero",
                user.username
            );
        }
        Command::User(UserCommand::Disable(UserRef { org, username })) => {
            if admin.set_disabled(&org, &username, true).await? {
                println!("{username} disabled; all sessions ended");
            } else {
                println!("{username} was already disabled");
            }
        }
        Command::User(UserCommand::Enable(UserRef { org, username })) => {
            if admin.set_disabled(&org, &username, false).await? {
                println!("{username} enabled");
            } else {
                println!("{username} was not disabled");
            }
        }
        Command::User(UserCommand::Sessions {
            user: UserRef { org, username },
            end,
        }) => {
            if end {
                let ended = admin.end_sessions(&org, &username).await?;
                println!("{username} logged out everywhere: {ended} session(s) ended");
            } else {
                let sessions = admin.sessions(&org, &username).await?;
                println!(
                    "{:<14} {:<22} {:<22} expires",
                    "stage", "started", "last seen"
                );
                for s in &sessions {
                    println!(
                        "{:<14} {:<22} {:<22} {}",
                        s.stage.as_str(),
                        timestamp(s.created_at),
                        timestamp(s.last_seen_at),
                        timestamp(s.expires_at)
                    );
                }
                println!("{} session(s)", sessions.len());
            }
        }
        Command::Audit {
            org,
            username,
            since,
            limit,
            json,
        } => {
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
        }
    }
    Ok(())
}

fn now() -> i64 {
    use crate::clock::Clock;
    SystemClock.now()
}

/// Unix seconds as RFC 3339 in UTC.
fn timestamp(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// "12 min", "3 h": a wait for people.
fn age(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", (s + 59) / 60),
        s => format!("{} h", (s + 3599) / 3600),
    }
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

fn print_policy(org: &Organization) {
    let p = &org.policy;
    let c = p.classes();
    println!("password policy of {} (language {}):", org.slug, org.lang);
    println!("  min-length         {}", p.min_length());
    println!("  max-length         {}", p.max_length());
    println!("  require-lowercase  {}", c.lowercase);
    println!("  require-uppercase  {}", c.uppercase);
    println!("  require-digit      {}", c.digit);
    println!("  require-symbol     {}", c.symbol);
    println!("  always: not the username or e-mail name, not a common or leaked password");
}
