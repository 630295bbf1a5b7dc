//! Expected logins and the facts of readiness. The SQL of
//! [`AccessStore`](crate::store::AccessStore), for both databases.

/// The second steps a login passes, as the audit log has them: the last one tells how the
/// user got in last (`event:detail`).
pub const SECOND_STEP_EVENTS: &str =
    "('login_code', 'recovery_code_used', 'login_passkey', 'two_step_enabled', 'totp_replaced')";

/// How the last second step was passed, from its audit line's `event:detail`.
pub fn second_step_used(kind: &str) -> Option<crate::domain::readiness::SecondStepUsed> {
    use crate::domain::readiness::SecondStepUsed;
    let (event, detail) = kind.split_once(':').unwrap_or((kind, ""));
    Some(match (event, detail) {
        ("login_code", "remembered_device") => SecondStepUsed::RememberedDevice,
        ("login_code" | "two_step_enabled" | "totp_replaced", _) => SecondStepUsed::App,
        ("recovery_code_used", _) => SecondStepUsed::RecoveryCode,
        ("login_passkey", _) => SecondStepUsed::Passkey,
        _ => return None,
    })
}

macro_rules! sql_access {
    ($store:ty, $db:ty, $row:ty) => {
        /// The columns a readiness judgement needs of user `u` (joined by `ACCESS_JOINS`).
        fn access_columns() -> String {
            let steps = crate::store::sql::access::SECOND_STEP_EVENTS;
            let last_step = format!(
                "FROM audit_log a WHERE a.user_id = u.id AND a.outcome = 'success' \
                 AND a.event IN {steps} ORDER BY a.at DESC, a.id DESC LIMIT 1"
            );
            format!(
                "{USER_COLUMNS}, uo.language AS org_language, t.state AS two_step, th.blocked_until, \
                 i.created_at AS invitation_created_at, i.expires_at AS invitation_expires_at, \
                 i.mail_sent_at, i.mail_error, \
                 (SELECT COUNT(*) FROM passkeys p WHERE p.user_id = u.id) AS passkey_count, \
                 (SELECT COUNT(*) FROM recovery_codes r WHERE r.user_id = u.id AND r.used_at IS NULL) AS codes_left, \
                 EXISTS (SELECT 1 FROM recovery_code_reveals v WHERE v.user_id = u.id) AS codes_unsaved, \
                 EXISTS (SELECT 1 FROM audit_log a WHERE a.user_id = u.id AND a.event = 'two_step_reset' \
                         AND a.outcome = 'success') AS was_reset, \
                 (SELECT a.at {last_step}) AS last_step_at, \
                 (SELECT a.event || ':' || COALESCE(a.detail, '') {last_step}) AS last_step_kind, \
                 (i.mail_error IS NOT NULL OR EXISTS (SELECT 1 FROM outbox o \
                    WHERE o.recipient = u.email AND o.last_error IS NOT NULL)) AS mail_failing"
            )
        }

        const ACCESS_JOINS: &str = "JOIN organizations uo ON uo.id = u.org_id \
             LEFT JOIN totp_credentials t ON t.user_id = u.id \
             LEFT JOIN throttle th ON th.subject = 'account:' || u.username \
             LEFT JOIN invitations i ON i.user_id = u.id AND i.used_at IS NULL AND i.superseded_at IS NULL";

        fn access_from_row(row: &$row) -> StoreResult<UserAccess> {
            let user = user_from_row(row)?;
            let invitation = invitation_from_row(row)?;
            let app = row
                .try_get::<Option<String>, _>("two_step")?
                .map(|state| state == "active");
            let count = |column: &str| -> StoreResult<u32> {
                Ok(u32::try_from(row.try_get::<i64, _>(column)?).unwrap_or(u32::MAX))
            };
            let last_second_step = match row.try_get::<Option<i64>, _>("last_step_at")? {
                Some(at) => {
                    let kind: String = row.try_get("last_step_kind")?;
                    crate::store::sql::access::second_step_used(&kind).map(|used| (at, used))
                }
                None => None,
            };
            let facts = crate::domain::readiness::AccessFacts {
                state: user.state,
                blocked_until: row.try_get::<Option<i64>, _>("blocked_until")?.unwrap_or(0),
                invitation,
                app,
                passkeys: count("passkey_count")?,
                recovery_codes_left: count("codes_left")?,
                recovery_codes_unsaved: row.try_get("codes_unsaved")?,
                // A reset leaves the user without an app until the next login sets one up.
                two_step_reset_pending: row.try_get::<bool, _>("was_reset")? && app != Some(true),
                last_second_step,
                mail_failing: row.try_get("mail_failing")?,
            };
            let lang: String = row.try_get("org_language")?;
            let lang = lang.parse().map_err(|e| StoreError::Corrupt(format!("{e}")))?;
            Ok(UserAccess { user, lang, facts })
        }

        fn expected_from_row(row: &$row) -> StoreResult<ExpectedLogin> {
            Ok(ExpectedLogin {
                user: row.try_get("e_user_id")?,
                key: row.try_get("login_key")?,
                due_at: row.try_get("due_at")?,
                label: row.try_get("label")?,
                created_at: row.try_get("e_created_at")?,
                updated_at: row.try_get("e_updated_at")?,
                reminded_at: row.try_get("reminded_at")?,
            })
        }

        const EXPECTED_COLUMNS: &str = "e.user_id AS e_user_id, e.login_key, e.due_at, e.label, \
             e.created_at AS e_created_at, e.updated_at AS e_updated_at, e.reminded_at";

        #[async_trait]
        impl AccessStore for $store {
            async fn register_expected_login(
                &self,
                expected: &ExpectedLogin,
                audit: &AuditRecord,
            ) -> StoreResult<Registration> {
                let mut tx = self.pool.begin().await?;
                let before = sqlx::query(&<$store>::sql(
                    "SELECT due_at, label FROM expected_logins WHERE user_id = ? AND login_key = ?",
                ))
                .bind(expected.user)
                .bind(&expected.key)
                .fetch_optional(&mut *tx)
                .await?;
                let registration = match before {
                    None => Registration::Created,
                    Some(row) => {
                        let due_at: i64 = row.try_get("due_at")?;
                        let label: Option<String> = row.try_get("label")?;
                        if due_at == expected.due_at && label == expected.label {
                            return Ok(Registration::Unchanged);
                        }
                        Registration::Changed
                    }
                };
                // A new date is a new expected login: its look-ahead mail is due again.
                sqlx::query(&<$store>::sql(
                    "INSERT INTO expected_logins \
                       (user_id, login_key, due_at, label, created_at, updated_at) \
                     VALUES (?, ?, ?, ?, ?, ?) \
                     ON CONFLICT (user_id, login_key) DO UPDATE SET \
                       reminded_at = CASE WHEN expected_logins.due_at = excluded.due_at \
                                          THEN expected_logins.reminded_at END, \
                       due_at = excluded.due_at, label = excluded.label, \
                       updated_at = excluded.updated_at",
                ))
                .bind(expected.user)
                .bind(&expected.key)
                .bind(expected.due_at)
                .bind(&expected.label)
                .bind(expected.created_at)
                .bind(expected.updated_at)
                .execute(&mut *tx)
                .await?;
                commit_with_audit(tx, audit).await?;
                Ok(registration)
            }

            async fn withdraw_expected_login(
                &self,
                user: UserId,
                key: &str,
                audit: &AuditRecord,
            ) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let gone = sqlx::query(&<$store>::sql(
                    "DELETE FROM expected_logins WHERE user_id = ? AND login_key = ?",
                ))
                .bind(user)
                .bind(key)
                .execute(&mut *tx)
                .await?;
                if gone.rows_affected() == 0 {
                    return Ok(false);
                }
                commit_with_audit(tx, audit).await?;
                Ok(true)
            }

            async fn expected_logins_of_user(
                &self,
                user: UserId,
            ) -> StoreResult<Vec<ExpectedLogin>> {
                let sql = format!(
                    "SELECT {EXPECTED_COLUMNS} FROM expected_logins e WHERE e.user_id = ? \
                     ORDER BY e.due_at, e.login_key"
                );
                let rows = sqlx::query(&<$store>::sql(&sql))
                    .bind(user)
                    .fetch_all(&self.readers)
                    .await?;
                rows.iter().map(expected_from_row).collect()
            }

            async fn expected_access(
                &self,
                org: Option<OrgId>,
                after: i64,
                until: i64,
            ) -> StoreResult<Vec<ExpectedAccess>> {
                let sql = format!(
                    "SELECT {EXPECTED_COLUMNS}, {} FROM expected_logins e \
                     JOIN users u ON u.id = e.user_id {ACCESS_JOINS} \
                     WHERE e.due_at > ?1 AND e.due_at <= ?2 AND (?3 IS NULL OR u.org_id = ?3) \
                     ORDER BY e.due_at, u.id, e.login_key",
                    access_columns()
                );
                let rows = sqlx::query(&<$store>::sql(&sql))
                    .bind(after)
                    .bind(until)
                    .bind(org)
                    .fetch_all(&self.readers)
                    .await?;
                rows.iter()
                    .map(|row| {
                        Ok(ExpectedAccess {
                            expected: expected_from_row(row)?,
                            access: access_from_row(row)?,
                        })
                    })
                    .collect()
            }

            async fn user_access(&self, user: UserId) -> StoreResult<Option<UserAccess>> {
                let sql = format!(
                    "SELECT {} FROM users u {ACCESS_JOINS} WHERE u.id = ?",
                    access_columns()
                );
                let row = sqlx::query(&<$store>::sql(&sql))
                    .bind(user)
                    .fetch_optional(&self.readers)
                    .await?;
                row.as_ref().map(access_from_row).transpose()
            }

            async fn claim_look_ahead(
                &self,
                expected: &ExpectedLogin,
                now: i64,
                queued_at: i64,
                mail: &OutgoingMail,
                audit: &AuditRecord,
            ) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                // Of two instances, one marks it; the other changes nothing and sends nothing.
                let claimed = sqlx::query(&<$store>::sql(
                    "UPDATE expected_logins SET reminded_at = ? \
                     WHERE user_id = ? AND login_key = ? AND due_at = ? AND reminded_at IS NULL",
                ))
                .bind(now)
                .bind(expected.user)
                .bind(&expected.key)
                .bind(expected.due_at)
                .execute(&mut *tx)
                .await?;
                if claimed.rows_affected() == 0 {
                    return Ok(false);
                }
                insert_mail(&mut tx, mail, queued_at).await?;
                commit_with_audit(tx, audit).await?;
                Ok(true)
            }
        }
    };
}

pub(crate) use sql_access;
