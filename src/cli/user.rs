//! `user`: invite, list, reset a password or two-step verification, unlock, disable,
//! sessions, the beheerder role.

use clap::{Args, Subcommand};

use super::{age, now, timestamp};
use crate::admin::Admin;
use crate::reset_link::Issued;

#[derive(Subcommand)]
pub enum UserCommand {
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
    /// Send a password reset link by e-mail (also where the organization does not allow
    /// self-service reset). The user confirms with their second step, then sets a new
    /// password; every session ends.
    ResetPassword(UserRef),
    /// Lift a lock after failed attempts: the user's count starts again at zero.
    Unlock(UserRef),
    /// Disable an account: it cannot log in or activate, and its sessions end at once.
    Disable(UserRef),
    /// Enable a disabled account again.
    Enable(UserRef),
    /// Make the user a beheerder of their organization: they may use the console
    /// (/beheer) for that organization only, after a full login with two-step verification.
    GrantAdmin(UserRef),
    /// Take the beheerder role away again.
    RevokeAdmin(UserRef),
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
pub struct UserRef {
    #[arg(long)]
    pub org: String,
    #[arg(long)]
    pub username: String,
}

pub async fn run(admin: &Admin, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Invite {
            org,
            username,
            email,
            name,
        } => {
            let invited = admin.invite(&org, &username, &email, &name).await?;
            println!(
                "invited {} <{}>; the e-mail is queued and leaves with the running server",
                invited.user.username, invited.user.email
            );
            println!("activation link: {}", invited.link);
        }
        UserCommand::ResetPassword(UserRef { org, username }) => {
            match admin.send_reset_link(&org, &username).await? {
                Issued::Sent => println!(
                    "password reset link for {username} queued (valid {} minutes); the e-mail \
                     leaves with the running server",
                    admin.settings.reset_link_minutes
                ),
                Issued::Unavailable => anyhow::bail!(
                    "{username} has no active account (invited or disabled): no link sent"
                ),
                other => anyhow::bail!("no link sent: {other:?}"),
            }
        }
        UserCommand::Reset2fa(UserRef { org, username }) => {
            let removed = admin.reset_two_step(&org, &username, None).await?;
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
        UserCommand::List { org } => {
            let now = now();
            println!(
                "{:<24} {:<9} {:<8} {:<22} {:<32} {:<24} invitation mail",
                "username", "state", "2fa", "failed attempts", "e-mail", "name"
            );
            for overview in admin.user_overviews(&org).await? {
                let user = &overview.user;
                let two_step = match overview.two_step {
                    None => "none",
                    Some(false) => "pending",
                    Some(true) => "active",
                };
                let failures = match overview.blocked_until - now {
                    wait if wait > 0 => format!("{} (waits {})", overview.failures, age(wait)),
                    _ => overview.failures.to_string(),
                };
                println!(
                    "{:<24} {:<9} {:<8} {:<22} {:<32} {:<24} {}",
                    user.username,
                    user.state,
                    two_step,
                    failures,
                    user.email,
                    user.display_name,
                    invitation_mail(&overview, now)
                );
            }
        }
        UserCommand::GrantAdmin(UserRef { org, username }) => {
            if admin.set_beheerder(&org, &username, true).await? {
                println!("{username} is now a beheerder of {org}: the console is at /beheer");
            } else {
                println!("{username} already was a beheerder of {org}");
            }
        }
        UserCommand::RevokeAdmin(UserRef { org, username }) => {
            if admin.set_beheerder(&org, &username, false).await? {
                println!("{username} is no longer a beheerder of {org}");
            } else {
                println!("{username} was not a beheerder of {org}");
            }
        }
        UserCommand::Unlock(UserRef { org, username }) => {
            let user = admin.unlock(&org, &username).await?;
            println!(
                "{} unlocked: failed attempts start again at zero",
                user.username
            );
        }
        UserCommand::Disable(UserRef { org, username }) => {
            if admin.set_disabled(&org, &username, true).await? {
                println!("{username} disabled; all sessions ended");
            } else {
                println!("{username} was already disabled");
            }
        }
        UserCommand::Enable(UserRef { org, username }) => {
            if admin.set_disabled(&org, &username, false).await? {
                println!("{username} enabled");
            } else {
                println!("{username} was not disabled");
            }
        }
        UserCommand::Sessions {
            user: UserRef { org, username },
            end,
        } => {
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
    }
    Ok(())
}

/// Where an invited user's invitation mail is: still in the outbox, refused by the SMTP
/// server (with its last answer, while it is tried again), or handed over; `-` for the rest.
fn invitation_mail(overview: &crate::store::UserOverview, now: i64) -> String {
    use crate::domain::onboarding::{OnboardingStep, onboarding_step};
    match onboarding_step(&overview.facts(), now) {
        Some(OnboardingStep::MailQueued) => "queued".into(),
        Some(OnboardingStep::MailFailing(answer)) => format!("failing ({answer})"),
        Some(OnboardingStep::MailSent) => "delivered".into(),
        Some(OnboardingStep::LinkExpired) => "link expired".into(),
        _ => "-".into(),
    }
}
