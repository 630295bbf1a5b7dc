//! `org look`: an organization's accent colour, logo and the name its mails are sent under.

use std::path::PathBuf;

use clap::Subcommand;

use crate::admin::{Admin, LookRequest};
use crate::domain::look::contrast_with_white;
use crate::store::Organization;

#[derive(Subcommand)]
pub enum LookCommand {
    /// Print the organization's look.
    Show {
        #[arg(long)]
        org: String,
    },
    /// Change parts of the look; parts not named stay as they are, an empty value takes one
    /// away (back to Poortwachter's own).
    Set {
        #[arg(long)]
        org: String,
        /// The organization's name as users read it ("Acme Zorg B.V.").
        #[arg(long)]
        display_name: Option<String>,
        /// `#rrggbb`; white text on it must reach a contrast of 4.5:1 (WCAG AA).
        #[arg(long)]
        accent: Option<String>,
        /// Mails go out as "<name> via <service name>".
        #[arg(long)]
        sender_name: Option<String>,
        /// A PNG file of at most 100 KiB and 1024 × 1024 pixels.
        #[arg(long, conflicts_with = "no_logo")]
        logo: Option<PathBuf>,
        /// Remove the logo.
        #[arg(long)]
        no_logo: bool,
    },
}

pub async fn run(admin: &Admin, command: LookCommand) -> anyhow::Result<()> {
    match command {
        LookCommand::Show { org } => print_look(&admin.organization(&org).await?),
        LookCommand::Set {
            org,
            display_name,
            accent,
            sender_name,
            logo,
            no_logo,
        } => {
            let logo = match (logo, no_logo) {
                (Some(path), _) => Some(Some(
                    std::fs::read(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
                )),
                (None, true) => Some(None),
                (None, false) => None,
            };
            let request = LookRequest {
                display_name,
                accent,
                sender_name,
                logo,
            };
            admin.set_look(&org, request).await?;
            print_look(&admin.organization(&org).await?);
        }
    }
    Ok(())
}

fn print_look(org: &Organization) {
    let look = &org.look;
    println!("name:        {}", org.name);
    if look.is_empty() {
        println!("Poortwachter's own look (no accent, logo or sender name)");
        return;
    }
    match &look.accent {
        Some(accent) => {
            let ratio = contrast_with_white(accent).unwrap_or(0.0);
            println!("accent:      {accent} (white text: {ratio:.2}:1)");
        }
        None => println!("accent:      -"),
    }
    println!(
        "sender name: {}",
        look.sender_name.as_deref().unwrap_or("-")
    );
    match &look.logo_hash {
        Some(hash) => println!("logo:        /look/{hash}.png"),
        None => println!("logo:        -"),
    }
}
