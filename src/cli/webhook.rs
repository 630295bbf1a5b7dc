//! `webhook`: subscriptions to Poortwachter's events (Standard Webhooks), per organization
//! or for every organization.

use clap::{ArgGroup, Subcommand};

use super::audit::parse_since;
use super::{now, timestamp};
use crate::admin::{Admin, DEFAULT_ROTATION_OVERLAP_HOURS};
use crate::store::Subscription;

#[derive(Subcommand)]
pub enum WebhookCommand {
    /// Subscribe a URL to events. Prints the signing secret (whsec_…) once.
    #[command(group(ArgGroup::new("whose").required(true).args(["org", "all"])))]
    Add {
        /// The organization whose events are sent.
        #[arg(long)]
        org: Option<String>,
        /// Every organization's events (the operator's own subscription).
        #[arg(long)]
        all: bool,
        /// https:// (http:// only to this machine, with dev_mode).
        #[arg(long)]
        url: String,
        /// `*` (every event but user.login) or names separated by commas, for example
        /// user.activated,user.locked.
        #[arg(long, default_value = "*")]
        events: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// The subscriptions, with their state and last answer.
    List {
        /// Only this organization's (default: all).
        #[arg(long)]
        org: Option<String>,
    },
    /// Remove a subscription and what is still queued for it.
    Remove { id: String },
    /// Make a new signing secret; the old one keeps signing for the overlap.
    RotateSecret {
        id: String,
        #[arg(long, default_value_t = DEFAULT_ROTATION_OVERLAP_HOURS)]
        overlap_hours: u32,
    },
    /// Send a time range's events again (RFC 3339 times or ages like 2h, 7d).
    Replay {
        id: String,
        #[arg(long)]
        from: String,
        /// Default: now.
        #[arg(long)]
        to: Option<String>,
    },
}

pub async fn run(admin: &Admin, command: WebhookCommand) -> anyhow::Result<()> {
    match command {
        WebhookCommand::Add {
            org,
            all: _,
            url,
            events,
            description,
        } => {
            let created = admin
                .add_webhook(org.as_deref(), &url, &events, &description)
                .await?;
            print(&created.subscription);
            println!("secret: {}", created.secret);
            println!("(shown once: verify each delivery's webhook-signature with it)");
        }
        WebhookCommand::List { org } => {
            for subscription in admin.webhooks(org.as_deref()).await? {
                print(&subscription);
            }
        }
        WebhookCommand::Remove { id } => {
            admin.remove_webhook(&id).await?;
            println!("removed {id}");
        }
        WebhookCommand::RotateSecret { id, overlap_hours } => {
            let secret = admin.rotate_webhook_secret(&id, overlap_hours).await?;
            println!("secret: {secret}");
            println!("the previous secret signs too for {overlap_hours} h");
        }
        WebhookCommand::Replay { id, from, to } => {
            let from = parse_since(&from)?;
            let to = to
                .as_deref()
                .map(parse_since)
                .transpose()?
                .unwrap_or(now() + 1);
            let queued = admin.replay_webhooks(&id, from, to).await?;
            println!("queued {queued} deliveries again");
        }
    }
    Ok(())
}

fn print(s: &Subscription) {
    let state = match s.failing_since {
        Some(since) => format!("failing since {}", timestamp(since)),
        None => "ok".into(),
    };
    println!(
        "{}  {}  org={}  events={}  {}  pending={}  last answer: {}",
        s.public_id,
        s.url,
        s.org_slug.as_deref().unwrap_or("*"),
        s.events,
        state,
        s.pending,
        s.last_answer.as_deref().unwrap_or("-")
    );
}
