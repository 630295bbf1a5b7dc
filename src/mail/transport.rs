//! Where mail goes: a real SMTP server, or — when none is configured — the development
//! mailbox in the database, shown at `/dev/mail`.

use std::sync::Arc;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

use crate::clock::SharedClock;
use crate::store::{OutgoingMail, Store};

#[derive(Clone)]
pub enum MailTransport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    DevMailbox {
        store: Arc<dyn Store>,
        clock: SharedClock,
    },
}

impl MailTransport {
    pub fn smtp(url: &SecretString) -> anyhow::Result<MailTransport> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
            .map_err(|e| anyhow::anyhow!("configuration: setting `smtp_url`: {e}"))?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        Ok(MailTransport::Smtp(transport))
    }

    /// Whether the SMTP server answers now (connect, greeting, EHLO, within 10 s); the
    /// development mailbox always does. Said at start-up, never a reason to refuse it: mail
    /// waits in the outbox until the server is back.
    pub async fn check(&self) -> Result<(), String> {
        let MailTransport::Smtp(smtp) = self else {
            return Ok(());
        };
        match tokio::time::timeout(Duration::from_secs(10), smtp.test_connection()).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err("the server did not accept the connection".into()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("no answer within 10 s".into()),
        }
    }

    pub fn is_dev_mailbox(&self) -> bool {
        matches!(self, MailTransport::DevMailbox { .. })
    }

    /// Hands one message over. An error means it was not accepted and must be retried.
    pub async fn deliver(&self, mail: &OutgoingMail) -> anyhow::Result<()> {
        match self {
            MailTransport::Smtp(smtp) => {
                let envelope =
                    Envelope::new(Some(mail.sender.parse()?), vec![mail.recipient.parse()?])?;
                smtp.send_raw(&envelope, &mail.message).await?;
            }
            MailTransport::DevMailbox { store, clock } => {
                store
                    .store_dev_mail(&mail.recipient, &mail.message, clock.now())
                    .await?;
            }
        }
        Ok(())
    }
}
