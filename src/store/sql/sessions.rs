//! Sessions: the login state of a browser, and their clean-up.
//! The SQL of [`SessionStore`](crate::store::SessionStore), for both databases.

macro_rules! sql_sessions {
    ($store:ty, $db:ty, $row:ty) => {
        #[async_trait]
        impl SessionStore for $store {
            async fn session(&self, id: &TokenHash) -> StoreResult<Option<Session>> {
                let sql = format!(
                    "SELECT s.stage, s.created_at, s.last_seen_at, s.expires_at, s.confirmed_at, s.method, {USER_COLUMNS}, {ORG_COLUMNS} \
                     FROM sessions s JOIN users u ON u.id = s.user_id \
                     JOIN organizations o ON o.id = u.org_id \
                     WHERE s.id_hash = ? AND u.disabled_at IS NULL"
                );
                let Some(row) = sqlx::query(&<$store>::sql(&sql))
                    .bind(&id.0[..])
                    .fetch_optional(&self.readers)
                    .await?
                else {
                    return Ok(None);
                };
                let stage: String = row.try_get("stage")?;
                Ok(Some(Session {
                    id_hash: *id,
                    stage: LoginStage::from_db(&stage)
                        .ok_or_else(|| StoreError::Corrupt(format!("login stage {stage:?}")))?,
                    created_at: row.try_get("created_at")?,
                    last_seen_at: row.try_get("last_seen_at")?,
                    expires_at: row.try_get("expires_at")?,
                    confirmed_at: row.try_get("confirmed_at")?,
                    method: LoginMethod::from_db(row.try_get::<Option<String>, _>("method")?.as_deref()),
                    user: user_from_row(&row)?,
                    org: org_from_row(&row)?,
                }))
            }

            async fn touch_session(&self, id: &TokenHash, now: i64) -> StoreResult<()> {
                sqlx::query(&<$store>::sql(
                    "UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?",
                ))
                .bind(now)
                .bind(&id.0[..])
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn delete_session(&self, id: &TokenHash) -> StoreResult<()> {
                sqlx::query(&<$store>::sql("DELETE FROM sessions WHERE id_hash = ?"))
                    .bind(&id.0[..])
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn hand_over_session(&self, from: &TokenHash, to: &TokenHash) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let same_user = "(SELECT user_id FROM sessions WHERE id_hash = ?)";
                for table in ["oidc_grants", "oidc_codes"] {
                    sqlx::query(&<$store>::sql(&format!(
                        "UPDATE {table} SET session_hash = ? WHERE session_hash = ? AND user_id = {same_user}"
                    )))
                    .bind(&to.0[..])
                    .bind(&from.0[..])
                    .bind(&to.0[..])
                    .execute(&mut *tx)
                    .await?;
                }
                let ended = sqlx::query(&<$store>::sql("DELETE FROM sessions WHERE id_hash = ?"))
                    .bind(&from.0[..])
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                tx.commit().await?;
                Ok(ended > 0)
            }

            async fn sessions_of_user(&self, user: UserId) -> StoreResult<Vec<SessionSummary>> {
                let rows = sqlx::query(&<$store>::sql(
                    "SELECT id_hash, stage, created_at, last_seen_at, expires_at FROM sessions \
                     WHERE user_id = ? ORDER BY created_at",
                ))
                .bind(user)
                .fetch_all(&self.readers)
                .await?;
                rows.iter()
                    .map(|row| {
                        let stage: String = row.try_get("stage")?;
                        let id: Vec<u8> = row.try_get("id_hash")?;
                        Ok(SessionSummary {
                            id_hash: TokenHash(
                                id.try_into()
                                    .map_err(|_| StoreError::Corrupt("session id digest".into()))?,
                            ),
                            stage: LoginStage::from_db(&stage).ok_or_else(|| {
                                StoreError::Corrupt(format!("login stage {stage:?}"))
                            })?,
                            created_at: row.try_get("created_at")?,
                            last_seen_at: row.try_get("last_seen_at")?,
                            expires_at: row.try_get("expires_at")?,
                        })
                    })
                    .collect()
            }

            async fn end_sessions_of_user(
                &self,
                user: UserId,
                audit: &AuditRecord,
            ) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                let ended = end_sessions_and_devices_of(&mut tx, user).await?;
                commit_with_audit(tx, audit).await?;
                Ok(ended)
            }

            async fn sweep(
                &self,
                now: i64,
                idle_seconds: i64,
            ) -> StoreResult<Swept> {
                let sessions = sqlx::query(&<$store>::sql(
                    "DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?",
                ))
                .bind(now)
                .bind(now - idle_seconds)
                .execute(&self.pool)
                .await?;
                // A day after its wait ended a subject starts again anyway (the longest
                // `forget_after` of the policies); its row is then only clutter.
                let throttle_rows = sqlx::query(&<$store>::sql(
                    "DELETE FROM throttle WHERE blocked_until <= ?",
                ))
                .bind(now - 24 * 60 * 60)
                .execute(&self.pool)
                .await?;
                sqlx::query(&<$store>::sql(
                    "DELETE FROM totp_setup_mails WHERE sent_at <= ?",
                ))
                .bind(now - 24 * 60 * 60)
                .execute(&self.pool)
                .await?;
                // Codes live a minute, ended grants are done: both are kept a day, so that a
                // late second use is still recognised as reuse.
                // An Idempotency-Key is a retry's protection: a day is longer than any retry.
                sqlx::query(&<$store>::sql("DELETE FROM api_idempotency WHERE created_at < ?"))
                    .bind(now - crate::store::IDEMPOTENCY_SECONDS)
                    .execute(&self.pool)
                    .await?;
                sqlx::query(&<$store>::sql("DELETE FROM oidc_codes WHERE expires_at < ?"))
                    .bind(now - 24 * 60 * 60)
                    .execute(&self.pool)
                    .await?;
                // Passkey ceremonies nobody answered (an answer after expiry is refused anyway).
                sqlx::query(&<$store>::sql("DELETE FROM passkey_ceremonies WHERE expires_at < ?"))
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                sqlx::query(&<$store>::sql("DELETE FROM oidc_grants WHERE ended_at < ?"))
                    .bind(now - 24 * 60 * 60)
                    .execute(&self.pool)
                    .await?;
                // A used or expired reset link is kept a day, so that it is still recognised
                // ("already used") rather than unknown; a set of herstelcodes not confirmed
                // within an hour is not kept readable any longer (the user makes a new set).
                sqlx::query(&<$store>::sql("DELETE FROM password_resets WHERE expires_at < ?"))
                    .bind(now - 24 * 60 * 60)
                    .execute(&self.pool)
                    .await?;
                sqlx::query(&<$store>::sql("DELETE FROM recovery_code_reveals WHERE created_at < ?"))
                    .bind(now - 60 * 60)
                    .execute(&self.pool)
                    .await?;
                sqlx::query(&<$store>::sql("DELETE FROM remembered_devices WHERE expires_at <= ?"))
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(Swept {
                    sessions: sessions.rows_affected(),
                    throttle_rows: throttle_rows.rows_affected(),
                })
            }
        }
    };
}

pub(crate) use sql_sessions;
