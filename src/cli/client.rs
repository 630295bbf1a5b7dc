//! `client`: register the applications that log users in here (OpenID Connect clients).

use clap::Subcommand;

use super::timestamp;
use crate::admin::{Admin, ClientRegistration};
use crate::domain::oidc::client::{GrantKind, SigningAlg};
use crate::store::Client;

#[derive(Subcommand)]
pub enum ClientCommand {
    /// Register an application. Prints `client_id: …` and, unless --public, `client_secret: …`
    /// (shown this once; only its hash is kept).
    Create {
        /// Name shown to users on the consent page and under "Gekoppelde apps".
        #[arg(long)]
        name: String,
        /// authorization-code (default): an application users log in to.
        /// client-credentials: a machine client of the admin API (/api/v1) for the --org
        /// organizations only.
        #[arg(long, default_value = "authorization-code")]
        grant: GrantKind,
        /// Where users are sent back with the code; compared exactly. https, or http on
        /// localhost. Repeat for more. Required unless --grant client-credentials.
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Where the application may send users after logging out (repeat for more).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// Receives a logout token when a session the application got tokens in ends.
        #[arg(long)]
        backchannel_logout_uri: Option<String>,
        /// An application that cannot keep a secret (in the browser, on a phone): PKCE only.
        #[arg(long)]
        public: bool,
        /// Our own application (Verzuimcoach): users are not asked for consent.
        #[arg(long)]
        first_party: bool,
        /// Serve only users of this organization (repeat for more); default: all. A
        /// client-credentials client manages these organizations (at least one).
        #[arg(long = "org")]
        orgs: Vec<String>,
        /// How its ID tokens are signed: ES256 (default) or RS256.
        #[arg(long, default_value = "ES256")]
        id_token_alg: SigningAlg,
    },
    /// List the registered applications.
    List,
    // Client ids are random base64url, so one in 32 starts with '-': taken as the value it
    // is, not as an option.
    /// Show one application.
    Show {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
    /// Give a confidential application a new secret; the old one stops working at once.
    RotateSecret {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
    /// Remove an application: its tokens stop working, its consents are gone.
    Remove {
        #[arg(allow_hyphen_values = true)]
        client_id: String,
    },
}

pub async fn run(admin: &Admin, command: ClientCommand) -> anyhow::Result<()> {
    match command {
        ClientCommand::Create {
            name,
            grant,
            redirect_uris,
            post_logout_redirect_uris,
            backchannel_logout_uri,
            public,
            first_party,
            orgs,
            id_token_alg,
        } => {
            let registration = ClientRegistration {
                name,
                redirect_uris,
                post_logout_redirect_uris,
                backchannel_logout_uri,
                public,
                first_party,
                orgs,
                id_token_alg,
                grant,
            };
            let registered = admin.create_client(&registration).await?;
            println!("client_id: {}", registered.client.id);
            if let Some(secret) = registered.secret {
                println!("client_secret: {secret}");
                eprintln!("the secret is shown only now: store it in the application's settings");
            }
            match registered.client.grant {
                GrantKind::AuthorizationCode => println!(
                    "discovery: {}/.well-known/openid-configuration",
                    admin.settings.issuer()
                ),
                GrantKind::ClientCredentials => {
                    println!("token_endpoint: {}/oauth2/token", admin.settings.issuer());
                    println!("api: {}/api/v1", admin.settings.issuer());
                }
            }
        }
        ClientCommand::List => {
            println!(
                "{:<24} {:<13} {:<12} {:<7} name",
                "client_id", "type", "orgs", "alg"
            );
            for client in admin.clients().await? {
                println!(
                    "{:<24} {:<13} {:<12} {:<7} {}",
                    client.id,
                    kind(&client),
                    orgs(&client),
                    client.id_token_alg,
                    client.name
                );
            }
        }
        ClientCommand::Show { client_id } => {
            let client = admin.client(&client_id).await?;
            println!("client_id:                 {}", client.id);
            println!("name:                      {}", client.name);
            println!("type:                      {}", kind(&client));
            println!("organizations:             {}", orgs(&client));
            println!("id_token_alg:              {}", client.id_token_alg);
            for uri in &client.redirect_uris {
                println!("redirect_uri:              {uri}");
            }
            for uri in &client.post_logout_redirect_uris {
                println!("post_logout_redirect_uri:  {uri}");
            }
            if let Some(uri) = &client.backchannel_logout_uri {
                println!("backchannel_logout_uri:    {uri}");
            }
            println!(
                "created:                   {}",
                timestamp(client.created_at)
            );
        }
        ClientCommand::RotateSecret { client_id } => {
            let secret = admin.rotate_client_secret(&client_id).await?;
            println!("client_secret: {secret}");
        }
        ClientCommand::Remove { client_id } => {
            admin.remove_client(&client_id).await?;
            println!("client {client_id} removed");
        }
    }
    Ok(())
}

fn kind(client: &Client) -> String {
    if client.grant == GrantKind::ClientCredentials {
        return "machine".to_owned();
    }
    let kind = if client.is_public() {
        "public"
    } else {
        "confidential"
    };
    if client.first_party {
        format!("{kind}*")
    } else {
        kind.to_owned()
    }
}

fn orgs(client: &Client) -> String {
    if client.orgs.is_empty() {
        "all".to_owned()
    } else {
        client
            .orgs
            .iter()
            .map(|o| o.slug.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}
