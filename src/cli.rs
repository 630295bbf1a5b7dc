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
use crate::store::Organization;

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
    /// Users: invite, list, reset two-step verification.
    #[command(subcommand)]
    User(UserCommand),
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
    Reset2fa {
        #[arg(long)]
        org: String,
        #[arg(long)]
        username: String,
    },
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

fn init_logging(settings: &Settings, serving: bool) {
    let default = if serving { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if settings.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
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
        Command::User(UserCommand::Reset2fa { org, username }) => {
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
            let users = admin.users(&org).await?;
            println!("{:<24} {:<8} {:<32} name", "username", "state", "e-mail");
            for user in users {
                println!(
                    "{:<24} {:<8} {:<32} {}",
                    user.username, user.state, user.email, user.display_name
                );
            }
        }
    }
    Ok(())
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
