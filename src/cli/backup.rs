//! `backup FILE`: a consistent copy of the running SQLite database, and which key must be
//! kept with it.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::config::Settings;
use crate::store::backup::sqlite_backup;

#[derive(Args)]
pub struct BackupArgs {
    /// The new file to write (never overwritten). Safe while the server runs.
    file: PathBuf,
}

pub async fn run(settings: &Settings, args: BackupArgs) -> anyhow::Result<()> {
    let report = sqlite_backup(&settings.database_url(), &args.file).await?;
    println!(
        "backup written: {} ({} KiB, {} users, integrity check ok)",
        report.path.display(),
        report.bytes.div_ceil(1024),
        report.users
    );
    println!("{}", key_reminder(settings));
    Ok(())
}

/// The TOTP secrets and token-signing keys in the backup are sealed with the keyring: a
/// backup without its keys restores accounts nobody can log in to.
fn key_reminder(settings: &Settings) -> String {
    let keys = if settings.totp_key.is_some() {
        "the keys in the `totp_key` setting".to_owned()
    } else {
        let path = settings
            .totp_key_file
            .clone()
            .unwrap_or_else(|| settings.data_dir.join("totp.key"));
        format!("the key file {}", display(&path))
    };
    format!(
        "keep it with {keys}: the authenticator-app secrets and token-signing keys in the \
         backup are encrypted with it, and cannot be read without it (store the two apart, \
         both safely)"
    )
}

fn display(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_owned())
        .display()
        .to_string()
}
