//! Password and code attempts under the throttle (rules in `domain::throttle`): each attempt
//! is counted against the client's address and the account *before* it is checked, and
//! settled after — given back if it was right, turned into a lock notice if it was the
//! failure that locked the account.

use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::lang::Lang;
use crate::domain::throttle::{Subject, ThrottlePolicy};
use crate::domain::token::TokenHash;
use crate::mail::compose;
use crate::services::{ServiceError, Services};
use crate::store::{Admission, Settlement, ThrottleCheck, User};
use crate::texts::Texts;

/// An attempt that may be checked: the failure number it was given per subject.
pub struct Attempt {
    address: (String, i64),
    account: (String, i64),
    account_policy: ThrottlePolicy,
    /// For a code: how many codes this session has typed, this one included.
    pub session_codes: Option<i64>,
}

pub enum Admitted {
    Yes(Attempt),
    /// Refused unchecked: waiting or locked until `until`.
    No {
        until: i64,
    },
}

/// Counts an attempt from `client` on the account named `username` (existing or not), and
/// for a code, in the half-logged-in `session` too.
pub async fn admit(
    state: &Services,
    client: &str,
    username: Option<&str>,
    session: Option<&TokenHash>,
) -> Result<Admitted, ServiceError> {
    let address_policy = state.settings.address_throttle();
    let account_policy = state.settings.account_throttle();
    // The address first: an address that is locked out does not push a victim's account
    // towards its lock.
    let checks = [
        ThrottleCheck {
            subject: Subject::address(client).key(),
            policy: &address_policy,
        },
        ThrottleCheck {
            subject: Subject::account(username).key(),
            policy: &account_policy,
        },
    ];
    let now = state.clock.now();
    Ok(
        match state.store.reserve_attempt(&checks, session, now).await? {
            Admission::Admitted {
                numbers,
                session_codes,
            } => {
                let [address, account] = checks.map(|c| c.subject);
                Admitted::Yes(Attempt {
                    address: (address, numbers[0]),
                    account: (account, numbers[1]),
                    account_policy,
                    session_codes,
                })
            }
            Admission::Blocked { until } => Admitted::No { until },
        },
    )
}

impl Attempt {
    /// The attempt was right (or was not checked at all). A completed login starts the
    /// account's count again; a right password alone only gives its own place back (the code
    /// step is still to come, and wrong codes must keep counting across sessions: RFC 4226
    /// §7.3).
    pub fn succeeded<'a>(&self, login_complete: bool, now: i64) -> Settlement<'a> {
        let mut settlement = Settlement {
            release: vec![self.address.clone()],
            now,
            ..Settlement::default()
        };
        if login_complete {
            settlement.clear.push(self.account.0.clone());
        } else {
            settlement.release.push(self.account.clone());
        }
        settlement
    }

    /// The attempt was wrong: keeps `audit`, and for the failure that starts the account's
    /// lock, an audit line and a notice mail to the user (only a real one), in one transaction.
    pub async fn failed(
        &self,
        state: &Services,
        user: Option<(&User, Lang)>,
        audit: AuditRecord,
    ) -> Result<(), ServiceError> {
        let now = audit.at;
        let mut settlement = Settlement {
            now,
            ..Settlement::default()
        };
        let notice;
        if let Some((user, lang)) = user.filter(|_| self.account_policy.starts_lock(self.account.1))
        {
            let mut lock = AuditRecord::new(now, AuditEvent::AccountLocked, Outcome::Success).user(
                user.org_id,
                user.id,
                &user.username,
            );
            lock.client = audit.client.clone();
            settlement.audit.push(lock);
            let t = Texts::of(lang);
            // Read only when a lock starts (rare): the organization's sender and look.
            let (org_name, look) = state.store.named_look(user.org_id).await?;
            let from = crate::mail::sender::Sender::new(&state.settings, &org_name, &look);
            notice = compose::notice(
                &from,
                compose::mailbox(&user.display_name, &user.email).map_err(anyhow::Error::from)?,
                lang,
                &state.settings.service_name,
                t.locked_subject,
                &t.fill(t.locked_body, &user.username),
            )
            .map_err(anyhow::Error::from)?;
            settlement.mail = Some(&notice);
        }
        settlement.audit.insert(0, audit);
        state.store.settle_attempt(&settlement).await?;
        if settlement.mail.is_some() {
            state.outbox_wake.notify_one();
        }
        Ok(())
    }
}

/// An attempt refused unchecked: keeps `audit` as throttled, and returns what the user may
/// read ("Te veel pogingen. Probeer het over … opnieuw."), for pages where the account is
/// already known to the one asking.
pub async fn refused(
    state: &Services,
    t: &Texts,
    audit: AuditRecord,
    until: i64,
) -> Result<String, ServiceError> {
    let record = AuditRecord {
        outcome: Outcome::Throttled,
        ..audit
    };
    state.store.record_audit(&[record]).await?;
    Ok(t.fill(t.attempts_wait, t.wait_time(until - state.clock.now())))
}
