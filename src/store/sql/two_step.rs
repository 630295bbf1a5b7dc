//! The authenticator-app credential: set-up, use once, reset.
//! The SQL of [`TwoStepStore`](crate::store::TwoStepStore), for both databases.

macro_rules! sql_two_step {
    ($store:ty, $db:ty, $row:ty) => {
        /// Records a set-up mail for the user if `limits` allow one now, inside `tx` (the
        /// user's row locked first where one statement is not serialised on its own).
        /// Check and record are one statement: two parallel requests cannot both pass.
        async fn record_setup_mail(
            tx: &mut Transaction<'_, $db>,
            setup: &NewTotpSetup<'_>,
            limits: &[RateWindow],
        ) -> StoreResult<bool> {
            if let Some(lock) = <$store>::LOCK_USER {
                sqlx::query(&<$store>::sql(lock))
                    .bind(setup.user_id)
                    .execute(&mut **tx)
                    .await?;
            }
            let mut allowed =
                String::from("INSERT INTO totp_setup_mails (user_id, sent_at) SELECT ?1, ?2 WHERE 1 = 1");
            for window in limits {
                allowed.push_str(&format!(
                    " AND (SELECT COUNT(*) FROM totp_setup_mails WHERE user_id = ?1 AND sent_at > ?2 - {}) < {}",
                    window.seconds, window.count
                ));
            }
            let recorded = sqlx::query(&<$store>::sql(&allowed))
                .bind(setup.user_id)
                .bind(setup.now)
                .execute(&mut **tx)
                .await?;
            Ok(recorded.rows_affected() == 1)
        }

        #[async_trait]
        impl TwoStepStore for $store {
            async fn totp_credential(&self, user: UserId) -> StoreResult<Option<TotpCredential>> {
                let row = sqlx::query(&<$store>::sql(
                    "SELECT key_version, sealed, state, expires_at, last_step, activated_at, \
                       next_key_version, next_sealed, next_expires_at FROM totp_credentials \
                     WHERE user_id = ?"),
                )
                .bind(user)
                .fetch_optional(&self.readers)
                .await?;
                let version = |v: i32| {
                    u8::try_from(v).map_err(|_| StoreError::Corrupt("key version".into()))
                };
                row.map(|row| {
                    let state: String = row.try_get("state")?;
                    let next_version: Option<i32> = row.try_get("next_key_version")?;
                    let next_sealed: Option<Vec<u8>> = row.try_get("next_sealed")?;
                    let next_expires: Option<i64> = row.try_get("next_expires_at")?;
                    let replacement = match (next_version, next_sealed, next_expires) {
                        (Some(v), Some(blob), Some(expires_at)) => Some(Replacement {
                            sealed: Sealed { key_version: version(v)?, blob },
                            expires_at,
                        }),
                        _ => None,
                    };
                    Ok(TotpCredential {
                        sealed: Sealed {
                            key_version: version(row.try_get::<i32, _>("key_version")?)?,
                            blob: row.try_get("sealed")?,
                        },
                        active: state == "active",
                        expires_at: row.try_get("expires_at")?,
                        last_step: row.try_get("last_step")?,
                        activated_at: row.try_get("activated_at")?,
                        replacement,
                    })
                })
                .transpose()
            }

            async fn setup_mails_since(&self, user: UserId, since: i64) -> StoreResult<Vec<i64>> {
                Ok(sqlx::query_scalar(&<$store>::sql(
                    "SELECT sent_at FROM totp_setup_mails WHERE user_id = ? AND sent_at > ?"),
                )
                .bind(user)
                .bind(since)
                .fetch_all(&self.readers)
                .await?)
            }

            async fn start_totp_setup(
                &self,
                setup: &NewTotpSetup<'_>,
                limits: &[RateWindow],
            ) -> StoreResult<SetupOutcome> {
                let mut tx = self.pool.begin().await?;
                if !record_setup_mail(&mut tx, setup, limits).await? {
                    return Ok(SetupOutcome::RateLimited);
                }
                let replaced = sqlx::query(&<$store>::sql(
                    "INSERT INTO totp_credentials (user_id, key_version, sealed, state, created_at, expires_at) \
                     VALUES (?, ?, ?, 'pending', ?, ?) \
                     ON CONFLICT (user_id) DO UPDATE SET key_version = excluded.key_version, \
                       sealed = excluded.sealed, created_at = excluded.created_at, \
                       expires_at = excluded.expires_at, last_step = NULL \
                     WHERE totp_credentials.state = 'pending'"),
                )
                .bind(setup.user_id)
                .bind(i32::from(setup.sealed.key_version))
                .bind(&setup.sealed.blob)
                .bind(setup.now)
                .bind(setup.expires_at)
                .execute(&mut *tx)
                .await?;
                if replaced.rows_affected() == 0 {
                    return Ok(SetupOutcome::AlreadyActive);
                }
                insert_mail(&mut tx, setup.mail, setup.now).await?;
                tx.commit().await?;
                Ok(SetupOutcome::Started)
            }

            async fn accept_totp_step(
                &self,
                user: UserId,
                sealed: &Sealed,
                step: i64,
                pending: bool,
                then: &Settlement<'_>,
            ) -> StoreResult<bool> {
                use crate::store::sql::batch::{self, Unfinished, Value};
                let now = then.now;
                // The single point of decision against replay: only a newer step updates the row.
                // The secret must still be the one the code was checked against ("Nieuwe code" in
                // parallel replaces it), and a pending one must not have expired.
                let condition = if pending {
                    "state = 'pending' AND expires_at > ?"
                } else {
                    "state = 'active' AND ? IS NOT NULL"
                };
                let sql = format!(
                    "UPDATE totp_credentials SET last_step = ?, state = 'active', expires_at = NULL, \
                       activated_at = COALESCE(activated_at, ?) \
                     WHERE user_id = ? AND key_version = ? AND sealed = ? \
                       AND (last_step IS NULL OR last_step < ?) AND {condition}"
                );
                let values = [
                    Value::Int(step),
                    Value::Int(now),
                    Value::Int(user),
                    Value::Int32(i32::from(sealed.key_version)),
                    Value::Bytes(&sealed.blob),
                    Value::Int(step),
                    Value::Int(now),
                ];
                let settlement = batch::settlement(then);
                if <$store>::ONE_QUERY_BATCHES {
                    // Two calls to the writer's thread: the step taken (or not), then the
                    // settlement and the durable commit (or the rollback).
                    let mut conn = self.pool.acquire().await?;
                    let mut unfinished = Unfinished::new(&mut conn);
                    let taken = bound(&format!("BEGIN IMMEDIATE; {sql} RETURNING 1"), &values)
                        .fetch_all(unfinished.conn())
                        .await?;
                    if taken.is_empty() {
                        sqlx::query("ROLLBACK").execute(unfinished.conn()).await?;
                        unfinished.finish();
                        return Ok(false);
                    }
                    bound(&settlement.joined("", "COMMIT"), settlement.values())
                        .fetch_all(unfinished.conn())
                        .await?;
                    unfinished.finish();
                } else {
                    let mut tx = self.pool.begin().await?;
                    let updated = bound(&<$store>::sql(&sql), &values).execute(&mut *tx).await?;
                    if updated.rows_affected() == 0 {
                        return Ok(false);
                    }
                    run_in(&mut tx, &settlement).await?;
                    tx.commit().await?;
                }
                then.audit.iter().for_each(trace_audit);
                Ok(true)
            }

            async fn start_totp_replacement(
                &self,
                setup: &NewTotpSetup<'_>,
                limits: &[RateWindow],
            ) -> StoreResult<SetupOutcome> {
                let mut tx = self.pool.begin().await?;
                if !record_setup_mail(&mut tx, setup, limits).await? {
                    return Ok(SetupOutcome::RateLimited);
                }
                let stored = sqlx::query(&<$store>::sql(
                    "UPDATE totp_credentials SET next_key_version = ?, next_sealed = ?, \
                       next_expires_at = ? WHERE user_id = ? AND state = 'active'",
                ))
                .bind(i32::from(setup.sealed.key_version))
                .bind(&setup.sealed.blob)
                .bind(setup.expires_at)
                .bind(setup.user_id)
                .execute(&mut *tx)
                .await?;
                if stored.rows_affected() == 0 {
                    return Ok(SetupOutcome::NothingToReplace);
                }
                insert_mail(&mut tx, setup.mail, setup.now).await?;
                tx.commit().await?;
                Ok(SetupOutcome::Started)
            }

            async fn accept_totp_replacement(
                &self,
                user: UserId,
                next: &Sealed,
                step: i64,
                then: &Settlement<'_>,
            ) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                // The new secret takes over, with its first step as the last used one.
                let replaced = sqlx::query(&<$store>::sql(
                    "UPDATE totp_credentials SET key_version = next_key_version, sealed = next_sealed, \
                       last_step = ?, activated_at = ?, next_key_version = NULL, next_sealed = NULL, \
                       next_expires_at = NULL \
                     WHERE user_id = ? AND state = 'active' AND next_key_version = ? \
                       AND next_sealed = ? AND next_expires_at > ?",
                ))
                .bind(step)
                .bind(then.now)
                .bind(user)
                .bind(i32::from(next.key_version))
                .bind(&next.blob)
                .bind(then.now)
                .execute(&mut *tx)
                .await?;
                if replaced.rows_affected() == 0 {
                    return Ok(false);
                }
                apply_settlement(&mut tx, then).await?;
                tx.commit().await?;
                then.audit.iter().for_each(trace_audit);
                Ok(true)
            }

            async fn reset_totp(
                &self,
                user: UserId,
                notice: &OutgoingMail,
                audit: &AuditRecord,
            ) -> StoreResult<bool> {
                let now = audit.at;
                let mut tx = self.pool.begin().await?;
                let removed = sqlx::query(&<$store>::sql("DELETE FROM totp_credentials WHERE user_id = ?"))
                    .bind(user)
                    .execute(&mut *tx)
                    .await?;
                // What hangs on the old app goes with it: its herstelcodes (and the browsers
                // that skipped its code step, with the sessions below). Passkeys too: a reset
                // starts two-step verification over, for a user who lost their devices.
                let mut passkeys_removed = 0;
                for table in ["totp_setup_mails", "recovery_codes", "recovery_code_reveals", "passkeys"] {
                    let done = sqlx::query(&<$store>::sql(&format!("DELETE FROM {table} WHERE user_id = ?")))
                        .bind(user)
                        .execute(&mut *tx)
                        .await?;
                    if table == "passkeys" {
                        passkeys_removed = done.rows_affected();
                    }
                }
                end_sessions_and_devices_of(&mut tx, user).await?;
                insert_mail(&mut tx, notice, now).await?;
                commit_with_audit(tx, audit).await?;
                Ok(removed.rows_affected() + passkeys_removed > 0)
            }
        }
    };
}

pub(crate) use sql_two_step;
