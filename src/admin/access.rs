//! Toegang op orde: the logins an application expects (register, change, withdraw, list),
//! the readiness of each user for them, HR's overview, and the look-ahead pass that mails a
//! user who is not ready some days before. The rules are `domain::readiness`,
//! `domain::look_ahead` and `domain::expected_login`; this reads and writes around them.

use super::{Admin, AdminError};
use crate::clock::rfc3339;
use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
use crate::domain::expected_login::{self, HrAction};
use crate::domain::look_ahead::{self, LookAhead, LookAheadPolicy};
use crate::domain::readiness::{self, Readiness};
use crate::mail::look_ahead::{CHECK_PATH, LookAhead as LookAheadMail};
use crate::store::{ExpectedAccess, ExpectedLogin, Registration, User, UserAccess};

const DAY: i64 = 24 * 3600;

/// When nothing is expected of a user, their readiness is judged for a login tomorrow.
const NOTHING_EXPECTED_AHEAD: i64 = DAY;

/// One line of HR's overview: an expected login and how its user stands.
#[derive(Debug, Clone)]
pub struct AccessLine {
    pub expected: ExpectedLogin,
    pub user: User,
    pub readiness: Readiness,
    pub action: Option<HrAction>,
}

/// What a look-ahead pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LookAheadPass {
    /// Expected logins inside their window.
    pub looked_at: usize,
    pub mailed: usize,
    /// Not ready, but night in the Netherlands: mailed in the morning.
    pub waiting_for_day: usize,
}

impl Admin {
    /// Registers (or changes) the login the application expects of the user under `key`:
    /// idempotent, the same key and date again change nothing.
    pub async fn expect_login(
        &self,
        org_slug: &str,
        username: &str,
        key: &str,
        due_at: i64,
        label: Option<&str>,
    ) -> Result<(ExpectedLogin, Registration), AdminError> {
        let key = expected_login::parse_key(key)?;
        let label = expected_login::parse_label(label)?;
        let now = self.clock.now();
        expected_login::check_due(due_at, now)?;
        let (_, user) = self.user_of(org_slug, username).await?;
        let expected = ExpectedLogin {
            user: user.id,
            key,
            due_at,
            label,
            created_at: now,
            updated_at: now,
            reminded_at: None,
        };
        let mut audit = self.audit(AuditEvent::ExpectedLoginRegistered, &user);
        audit.detail = Some(
            format!(
                "{}: {} on {}",
                self.actor.describe(),
                expected.key,
                rfc3339(due_at)
            )
            .into(),
        );
        let registration = self
            .store
            .register_expected_login(&expected, &audit)
            .await?;
        let stored = self
            .store
            .expected_logins_of_user(user.id)
            .await?
            .into_iter()
            .find(|e| e.key == expected.key)
            .unwrap_or(expected);
        Ok((stored, registration))
    }

    /// Withdraws the expected login; false when there was none with this key.
    pub async fn withdraw_expected_login(
        &self,
        org_slug: &str,
        username: &str,
        key: &str,
    ) -> Result<bool, AdminError> {
        let key = expected_login::parse_key(key)?;
        let (_, user) = self.user_of(org_slug, username).await?;
        let mut audit = self.audit(AuditEvent::ExpectedLoginWithdrawn, &user);
        audit.detail = Some(format!("{}: {key}", self.actor.describe()).into());
        Ok(self
            .store
            .withdraw_expected_login(user.id, &key, &audit)
            .await?)
    }

    /// The user's readiness now (for their next expected login, or a login tomorrow) and
    /// their expected logins, soonest first.
    pub async fn user_readiness(
        &self,
        org_slug: &str,
        username: &str,
    ) -> Result<(User, Readiness, Vec<ExpectedLogin>), AdminError> {
        let (org, user) = self.user_of(org_slug, username).await?;
        let access =
            self.store
                .user_access(user.id)
                .await?
                .ok_or_else(|| AdminError::UnknownUser {
                    org: org.slug,
                    username: user.username,
                })?;
        let now = self.clock.now();
        let expected: Vec<_> = self
            .store
            .expected_logins_of_user(access.user.id)
            .await?
            .into_iter()
            .filter(|e| e.due_at > now)
            .collect();
        let readiness = readiness_for(&access, now, expected.first().map(|e| e.due_at));
        Ok((access.user, readiness, expected))
    }

    /// HR's overview: the expected logins of the next `days` days, blocked users first, then
    /// those at risk, then the ready ones; soonest first within each.
    pub async fn access_overview(
        &self,
        org_slug: &str,
        days: u32,
    ) -> Result<Vec<AccessLine>, AdminError> {
        let org = self.organization(org_slug).await?;
        let now = self.clock.now();
        let rows = self
            .store
            .expected_access(Some(org.id), now, now + i64::from(days) * DAY)
            .await?;
        let mut lines: Vec<AccessLine> = rows.into_iter().map(|row| line(row, now)).collect();
        lines.sort_by_key(|l| (severity(&l.readiness), l.expected.due_at, l.user.id));
        Ok(lines)
    }

    /// One look-ahead pass at `now`: every expected login whose window has come, of every
    /// organization; a user who is not ready gets the mail (once per expected login, in the
    /// Dutch daytime). Several instances may run it at once: the store lets one mail go.
    pub async fn look_ahead(&self, now: i64) -> Result<LookAheadPass, AdminError> {
        let policy = LookAheadPolicy {
            days_before: self.settings.look_ahead_days,
            ..LookAheadPolicy::default()
        };
        let until = now + i64::from(policy.days_before) * DAY;
        let rows = self.store.expected_access(None, now, until).await?;
        let hour = crate::texts::dutch_hour(now);
        let mut pass = LookAheadPass::default();
        for row in rows {
            pass.looked_at += 1;
            let expected = &row.expected;
            let readiness = readiness::judge(&row.access.facts, now, expected.due_at);
            let already_sent = expected.reminded_at.is_some();
            match look_ahead::decide(
                &policy,
                expected.due_at,
                &readiness,
                already_sent,
                now,
                hour,
            ) {
                LookAhead::Send => {}
                LookAhead::Night => {
                    pass.waiting_for_day += 1;
                    continue;
                }
                LookAhead::NotYet { .. } | LookAhead::Nothing => continue,
            }
            if self.mail_look_ahead(&row, &readiness, now).await? {
                pass.mailed += 1;
            }
        }
        if pass.mailed > 0 {
            self.outbox_wake.notify_one();
        }
        Ok(pass)
    }

    async fn mail_look_ahead(
        &self,
        row: &ExpectedAccess,
        readiness: &Readiness,
        now: i64,
    ) -> Result<bool, AdminError> {
        let user = &row.access.user;
        let lang = row.access.lang;
        // The test login only helps someone who can log in at all.
        let can_log_in = user.state == crate::domain::account::AccountState::Active;
        let (org_name, look) = self.store.named_look(user.org_id).await?;
        let from = crate::mail::sender::Sender::new(&self.settings, &org_name, &look);
        let mail = crate::mail::look_ahead::look_ahead(
            &from,
            &LookAheadMail {
                lang,
                service_name: &self.settings.service_name,
                user,
                due_at: row.expected.due_at,
                readiness,
                link: can_log_in.then(|| self.settings.link(CHECK_PATH)),
            },
        )?;
        let audit = AuditRecord::new(now, AuditEvent::LookAheadMail, Outcome::Success)
            .user(user.org_id, user.id, &user.username)
            .detail(format!("{}: {}", row.expected.key, describe(readiness)));
        Ok(self
            .store
            // A pass run as if later (`access look-ahead --at`) still sends at once.
            .claim_look_ahead(&row.expected, now, now.min(self.clock.now()), &mail, &audit)
            .await?)
    }
}

/// The readiness of `access` at `now` for a login at `due_at` (or tomorrow).
pub fn readiness_for(access: &UserAccess, now: i64, due_at: Option<i64>) -> Readiness {
    readiness::judge(
        &access.facts,
        now,
        due_at.unwrap_or(now + NOTHING_EXPECTED_AHEAD),
    )
}

/// A day (`2027-01-15`, from 00:00 Dutch time) or an RFC 3339 moment, as Unix seconds.
pub fn parse_moment(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    // A day is exactly `YYYY-MM-DD` (the date parser would also take a moment's date part).
    let day = (raw.len() == 10)
        .then(|| crate::texts::dutch_day_start(raw))
        .flatten();
    day.or_else(|| raw.parse::<jiff::Timestamp>().ok().map(|t| t.as_second()))
}

/// `at_risk: few_recovery_codes, …` for an audit line.
pub fn describe(readiness: &Readiness) -> String {
    let codes: Vec<_> = readiness.reasons().iter().map(|r| r.code()).collect();
    if codes.is_empty() {
        readiness.as_str().to_owned()
    } else {
        format!("{}: {}", readiness.as_str(), codes.join(", "))
    }
}

fn line(row: ExpectedAccess, now: i64) -> AccessLine {
    let readiness = readiness::judge(&row.access.facts, now, row.expected.due_at);
    AccessLine {
        action: expected_login::hr_action(&readiness),
        expected: row.expected,
        user: row.access.user,
        readiness,
    }
}

fn severity(readiness: &Readiness) -> u8 {
    match readiness {
        Readiness::Blocked(_) => 0,
        Readiness::AtRisk(_) => 1,
        Readiness::Ready => 2,
    }
}
