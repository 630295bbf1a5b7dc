//! `access`: Toegang op orde from the shell — register and withdraw the logins an
//! application expects, see a user's readiness and the organization's overview, and run
//! the look-ahead pass now (or as if at another moment, to try it in the dev setup).

use clap::Subcommand;

use super::timestamp;
use super::user::UserRef;
use crate::admin::{Admin, parse_moment};
use crate::store::Registration;
use crate::texts::access::for_hr;

#[derive(Subcommand)]
pub enum AccessCommand {
    /// Register a login the application expects of the user (or change the one with this
    /// key). Idempotent: the same key and date again change nothing.
    Expect {
        #[command(flatten)]
        user: UserRef,
        /// The application's own name for it (plan_van_aanpak-2027).
        #[arg(long)]
        key: String,
        /// The day (2027-01-15) or moment (RFC 3339) of the login.
        #[arg(long)]
        on: String,
        /// The kind of deadline, for HR (never in a mail).
        #[arg(long)]
        label: Option<String>,
    },
    /// Withdraw an expected login.
    Withdraw {
        #[command(flatten)]
        user: UserRef,
        #[arg(long)]
        key: String,
    },
    /// A user's readiness and expected logins.
    Show {
        #[command(flatten)]
        user: UserRef,
    },
    /// The users with an expected login in the next days, blocked first.
    Overview {
        #[arg(long)]
        org: String,
        #[arg(long, default_value_t = 14)]
        days: u32,
    },
    /// Send the look-ahead mails that are due now (the server does this every
    /// look_ahead_poll_seconds). With --at, as if it were that moment (a day ahead, say):
    /// for trying it out in the dev setup.
    LookAhead {
        #[arg(long)]
        at: Option<String>,
    },
}

pub async fn run(admin: &Admin, command: AccessCommand) -> anyhow::Result<()> {
    let lang = crate::domain::lang::Lang::En;
    match command {
        AccessCommand::Expect {
            user: UserRef { org, username },
            key,
            on,
            label,
        } => {
            let due_at = parse_moment(&on)
                .ok_or_else(|| anyhow::anyhow!("--on: a day (2027-01-15) or an RFC 3339 moment"))?;
            let (expected, registration) = admin
                .expect_login(&org, &username, &key, due_at, label.as_deref())
                .await?;
            let what = match registration {
                Registration::Created => "registered",
                Registration::Changed => "changed",
                Registration::Unchanged => "already registered",
            };
            println!(
                "{what}: {username} is expected to log in at {} ({})",
                timestamp(expected.due_at),
                expected.key
            );
        }
        AccessCommand::Withdraw {
            user: UserRef { org, username },
            key,
        } => {
            if admin.withdraw_expected_login(&org, &username, &key).await? {
                println!("withdrawn: {key} of {username}");
            } else {
                anyhow::bail!("{username} has no expected login {key:?}");
            }
        }
        AccessCommand::Show {
            user: UserRef { org, username },
        } => {
            let (user, readiness, expected) = admin.user_readiness(&org, &username).await?;
            println!("{}: {}", user.username, readiness.as_str());
            for reason in readiness.reasons() {
                println!("  {:<26} {}", reason.code(), for_hr(lang, *reason));
            }
            if let Some(action) = crate::domain::expected_login::hr_action(&readiness) {
                println!("  action: {}", action.code());
            }
            for e in &expected {
                let mailed = e.reminded_at.map(timestamp).unwrap_or_else(|| "-".into());
                println!(
                    "  expected {:<22} {:<28} mailed {mailed}",
                    timestamp(e.due_at),
                    e.key
                );
            }
        }
        AccessCommand::Overview { org, days } => {
            let lines = admin.access_overview(&org, days).await?;
            println!(
                "{:<24} {:<22} {:<9} {:<18} reasons",
                "username", "expected", "access", "action"
            );
            for line in &lines {
                let reasons: Vec<_> = line.readiness.reasons().iter().map(|r| r.code()).collect();
                println!(
                    "{:<24} {:<22} {:<9} {:<18} {}",
                    line.user.username,
                    timestamp(line.expected.due_at),
                    line.readiness.as_str(),
                    line.action.map(|a| a.code()).unwrap_or("-"),
                    reasons.join(", ")
                );
            }
            println!("{} expected login(s) in the next {days} days", lines.len());
        }
        AccessCommand::LookAhead { at } => {
            let now = match at {
                Some(at) => parse_moment(&at)
                    .ok_or_else(|| anyhow::anyhow!("--at: a day or an RFC 3339 moment"))?,
                None => super::now(),
            };
            let pass = admin.look_ahead(now).await?;
            println!(
                "{} expected login(s) in their window; {} mail(s) queued (they leave with the \
                 running server); {} wait for the daytime",
                pass.looked_at, pass.mailed, pass.waiting_for_day
            );
        }
    }
    Ok(())
}
