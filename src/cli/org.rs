//! `org`: organizations, their password policy and what their users may do themselves.

use clap::{Args, Subcommand};

use crate::admin::Admin;
use crate::domain::lang::Lang;
use crate::domain::password::{CharacterClasses, PasswordPolicy};
use crate::store::{Organization, SelfService};

#[derive(Subcommand)]
pub enum OrgCommand {
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
    /// Show or change an organization's look: accent colour, logo, mail sender name.
    #[command(subcommand)]
    Look(super::look::LookCommand),
}

#[derive(Subcommand)]
pub enum PolicyCommand {
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
        #[command(flatten)]
        self_service: SelfServiceArgs,
        #[command(flatten)]
        passkeys: PasskeyArgs,
    },
}

/// What the organization allows or requires of passkeys.
#[derive(Args)]
pub struct PasskeyArgs {
    /// "Inloggen met een passkey" (one step, no password) is offered (default true).
    #[arg(long, value_name = "true|false")]
    passkey_login: Option<bool>,
    /// Phishing-resistant login: after the grace period only a passkey passes the second
    /// step, and users without one add one at their next login.
    #[arg(long, value_name = "true|false", num_args = 0..=1, default_missing_value = "true")]
    require_passkey: Option<bool>,
    /// Days users have to add a passkey once --require-passkey is switched on (default 14).
    #[arg(long, value_name = "DAYS")]
    passkey_grace_days: Option<u16>,
}

impl PasskeyArgs {
    fn any(&self) -> bool {
        self.passkey_login.is_some()
            || self.require_passkey.is_some()
            || self.passkey_grace_days.is_some()
    }
}

/// What users may do for themselves.
#[derive(Args)]
pub struct SelfServiceArgs {
    /// "Wachtwoord vergeten?" sends a reset link (default true); false: the e-mail tells the
    /// user to contact their employer, and only `user reset-password` sends a link.
    #[arg(long, value_name = "true|false")]
    self_service_reset: Option<bool>,
    /// After a correct code, a browser may skip the code step for this many days (0 to 30;
    /// default 0: never). Never the password.
    #[arg(long, value_name = "DAYS")]
    remember_device_days: Option<u8>,
}

#[derive(Args)]
pub struct PolicyArgs {
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

pub async fn run(admin: &Admin, command: OrgCommand) -> anyhow::Result<()> {
    match command {
        OrgCommand::Create {
            slug,
            name,
            lang,
            policy,
        } => {
            let policy = policy.apply_to(PasswordPolicy::default())?;
            let org = admin
                .create_organization(&slug, &name, lang, policy)
                .await?;
            println!("created organization {} ({})", org.slug, org.name);
            print_policy(&org);
        }
        OrgCommand::Look(command) => super::look::run(admin, command).await?,
        OrgCommand::Policy(PolicyCommand::Show { org }) => {
            print_policy(&admin.organization(&org).await?);
        }
        OrgCommand::Policy(PolicyCommand::Set {
            org,
            policy,
            self_service,
            passkeys,
        }) => {
            let current = admin.organization(&org).await?;
            let policy = policy.apply_to(current.policy)?;
            let wanted = SelfService {
                reset: self_service
                    .self_service_reset
                    .unwrap_or(current.self_service.reset),
                remember_device_days: self_service
                    .remember_device_days
                    .unwrap_or(current.self_service.remember_device_days),
            };
            // The self-service settings first: they are the ones that can be refused.
            if wanted != current.self_service {
                admin.set_self_service(&org, wanted).await?;
            }
            if passkeys.any() {
                // Days alone move the start of a requirement that is on.
                let require = passkeys.require_passkey.or(passkeys
                    .passkey_grace_days
                    .and(current.passkeys.required_from.map(|_| true)));
                admin
                    .set_passkey_policy(
                        &org,
                        passkeys.passkey_login,
                        require,
                        passkeys.passkey_grace_days,
                    )
                    .await?;
            }
            let mut changed = admin.set_policy(&org, policy).await?;
            changed.self_service = wanted;
            print_policy(&changed);
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
    let s = &org.self_service;
    println!("what users of {} may do themselves:", org.slug);
    println!("  self-service-reset    {}", s.reset);
    println!("  remember-device-days  {}", s.remember_device_days);
    let p = &org.passkeys;
    println!("passkeys at {}:", org.slug);
    println!("  passkey-login         {}", p.login);
    match p.required_from {
        Some(from) => println!(
            "  require-passkey       true, from {} (UTC)",
            time::OffsetDateTime::from_unix_timestamp(from)
                .map(|t| t.date().to_string())
                .unwrap_or_default()
        ),
        None => println!("  require-passkey       false"),
    }
}
