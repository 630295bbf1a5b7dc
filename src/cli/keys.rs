//! `keys`: the keys that sign ID and access tokens.

use clap::Subcommand;

use super::timestamp;
use crate::admin::Admin;

#[derive(Subcommand)]
pub enum KeysCommand {
    /// Make the next signing keys (ES256 and RS256). They are published in the JWKS at once
    /// and sign after the overlap; the current keys stay published until their tokens expire.
    Rotate {
        /// Hours between publishing and signing (default: the `signing_key_overlap_hours`
        /// setting). 0 signs at once: only when a key may have leaked.
        #[arg(long)]
        overlap_hours: Option<u32>,
    },
}

pub async fn run(admin: &Admin, command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::Rotate { overlap_hours } => {
            let overlap = overlap_hours.unwrap_or(admin.settings.signing_key_overlap_hours);
            for key in admin.rotate_signing_keys(overlap).await? {
                println!(
                    "{} key {} signs from {}",
                    key.alg,
                    key.kid,
                    timestamp(key.signs_from)
                );
            }
            println!("running servers pick the new keys up within a minute");
        }
    }
    Ok(())
}
