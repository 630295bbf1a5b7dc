//! Reset links, herstelcodes and the self-service settings.
//! The SQL of [`RecoveryStore`](crate::store::RecoveryStore), for both databases.

macro_rules! sql_recovery {
    ($store:ty, $db:ty, $row:ty) => {
        #[async_trait]
        impl RecoveryStore for $store {
            async fn set_self_service(&self, org: OrgId, settings: &SelfService) -> StoreResult<()> {
                let done = sqlx::query(&<$store>::sql(
                    "UPDATE organizations SET self_service_reset = ?, remember_device_days = ? \
                     WHERE id = ?",
                ))
                .bind(settings.reset)
                .bind(i32::from(settings.remember_device_days))
                .bind(org)
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound("organization"));
                }
                // Switched off: the browsers remembered so far are forgotten, so switching it
                // on again later does not bring them back.
                if settings.remember_device_days == 0 {
                    sqlx::query(&<$store>::sql(
                        "DELETE FROM remembered_devices \
                         WHERE user_id IN (SELECT id FROM users WHERE org_id = ?)",
                    ))
                    .bind(org)
                    .execute(&self.pool)
                    .await?;
                }
                Ok(())
            }

            async fn reset_candidates(
                &self,
                login: &str,
                limit: i64,
            ) -> StoreResult<Vec<ResetCandidate>> {
                let sql = format!(
                    "SELECT {USER_COLUMNS}, {ORG_COLUMNS} FROM users u \
                     JOIN organizations o ON o.id = u.org_id \
                     WHERE u.username = ? OR lower(u.email) = lower(?) ORDER BY u.id LIMIT ?"
                );
                let rows = sqlx::query(&<$store>::sql(&sql))
                    .bind(login)
                    .bind(login)
                    .bind(limit)
                    .fetch_all(&self.readers)
                    .await?;
                rows.iter()
                    .map(|row| {
                        Ok(ResetCandidate {
                            user: user_from_row(row)?,
                            org: org_from_row(row)?,
                        })
                    })
                    .collect()
            }

            async fn start_password_reset(
                &self,
                reset: &NewPasswordReset<'_>,
                limits: &[RateWindow],
            ) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                if let Some(lock) = <$store>::LOCK_USER {
                    sqlx::query(&<$store>::sql(lock))
                        .bind(reset.user)
                        .execute(&mut *tx)
                        .await?;
                }
                // Check the rate and store in one statement: parallel requests cannot both pass.
                let mut insert = String::from(
                    "INSERT INTO password_resets (token_hash, user_id, requested_by, created_at, expires_at) \
                     SELECT ?1, ?2, ?3, ?4, ?5 WHERE 1 = 1",
                );
                for window in limits {
                    insert.push_str(&format!(
                        " AND (SELECT COUNT(*) FROM password_resets WHERE user_id = ?2 \
                         AND requested_by = 'self' AND created_at > ?4 - {}) < {}",
                        window.seconds, window.count
                    ));
                }
                let stored = sqlx::query(&<$store>::sql(&insert))
                    .bind(&reset.token.0[..])
                    .bind(reset.user)
                    .bind(reset.requested_by.as_str())
                    .bind(reset.now)
                    .bind(reset.expires_at)
                    .execute(&mut *tx)
                    .await?;
                if stored.rows_affected() == 0 {
                    return Ok(false);
                }
                // A working link replaces the older ones; a request that got no link (the
                // organization does not allow it) leaves them alone.
                if reset.expires_at > reset.now {
                    sqlx::query(&<$store>::sql(
                        "UPDATE password_resets SET superseded_at = ? WHERE user_id = ? \
                         AND token_hash <> ? AND used_at IS NULL AND superseded_at IS NULL",
                    ))
                    .bind(reset.now)
                    .bind(reset.user)
                    .bind(&reset.token.0[..])
                    .execute(&mut *tx)
                    .await?;
                }
                insert_mail(&mut tx, reset.mail, reset.now).await?;
                commit_with_audit(tx, reset.audit).await?;
                Ok(true)
            }

            async fn password_reset(&self, token: &TokenHash) -> StoreResult<Option<PasswordReset>> {
                let sql = format!(
                    "SELECT r.expires_at, r.used_at, r.superseded_at, r.verified_hash, \
                       (SELECT COUNT(*) FROM totp_credentials t \
                        WHERE t.user_id = u.id AND t.state = 'active') AS two_step, \
                       {USER_COLUMNS}, {ORG_COLUMNS} \
                     FROM password_resets r JOIN users u ON u.id = r.user_id \
                     JOIN organizations o ON o.id = u.org_id WHERE r.token_hash = ?"
                );
                let Some(row) = sqlx::query(&<$store>::sql(&sql))
                    .bind(&token.0[..])
                    .fetch_optional(&self.readers)
                    .await?
                else {
                    return Ok(None);
                };
                let verified: Option<Vec<u8>> = row.try_get("verified_hash")?;
                let verified_browser = verified
                    .map(|bytes| {
                        <[u8; 32]>::try_from(bytes.as_slice())
                            .map(TokenHash)
                            .map_err(|_| StoreError::Corrupt("verified_hash".into()))
                    })
                    .transpose()?;
                Ok(Some(PasswordReset {
                    record: InvitationRecord {
                        expires_at: row.try_get("expires_at")?,
                        used_at: row.try_get("used_at")?,
                        superseded_at: row.try_get("superseded_at")?,
                    },
                    verified_browser,
                    user: user_from_row(&row)?,
                    org: org_from_row(&row)?,
                    two_step: row.try_get::<i64, _>("two_step")? > 0,
                }))
            }

            async fn complete_password_reset(
                &self,
                reset: &CompletedReset<'_>,
            ) -> StoreResult<Option<UserId>> {
                let now = reset.now;
                let mut tx = self.pool.begin().await?;
                // The one decision: the link is unused, current and unexpired; the account is
                // active; and the browser is the one that passed the second step, if the user
                // has one (set up meanwhile counts too).
                let used: Option<UserId> = sqlx::query_scalar(&<$store>::sql(
                    "UPDATE password_resets SET used_at = ?1 \
                     WHERE token_hash = ?2 AND used_at IS NULL AND superseded_at IS NULL \
                       AND expires_at > ?1 \
                       AND EXISTS (SELECT 1 FROM users u WHERE u.id = password_resets.user_id \
                                   AND u.state = 'active' AND u.disabled_at IS NULL) \
                       AND (verified_hash = ?3 OR (?3 IS NULL AND NOT EXISTS ( \
                             SELECT 1 FROM totp_credentials t \
                             WHERE t.user_id = password_resets.user_id AND t.state = 'active'))) \
                     RETURNING user_id",
                ))
                .bind(now)
                .bind(&reset.token.0[..])
                .bind(reset.browser.as_ref().map(|b| b.0.to_vec()))
                .fetch_optional(&mut *tx)
                .await?;
                let Some(user) = used else {
                    return Ok(None);
                };
                sqlx::query(&<$store>::sql("UPDATE users SET password_hash = ? WHERE id = ?"))
                    .bind(reset.password_hash)
                    .bind(user)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(&<$store>::sql(
                    "UPDATE password_resets SET superseded_at = ? WHERE user_id = ? \
                     AND used_at IS NULL AND superseded_at IS NULL",
                ))
                .bind(now)
                .bind(user)
                .execute(&mut *tx)
                .await?;
                end_sessions_and_devices_of(&mut tx, user).await?;
                sqlx::query(&<$store>::sql("DELETE FROM throttle WHERE subject = ?"))
                    .bind(&reset.throttle_subject)
                    .execute(&mut *tx)
                    .await?;
                insert_mail(&mut tx, reset.notice, now).await?;
                commit_with_audit(tx, reset.audit).await?;
                Ok(Some(user))
            }

            async fn recovery_codes_left(&self, user: UserId) -> StoreResult<i64> {
                Ok(sqlx::query_scalar(&<$store>::sql(
                    "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL",
                ))
                .bind(user)
                .fetch_one(&self.readers)
                .await?)
            }

            async fn recovery_codes_reveal(&self, user: UserId) -> StoreResult<Option<Sealed>> {
                let row = sqlx::query(&<$store>::sql(
                    "SELECT key_version, sealed FROM recovery_code_reveals WHERE user_id = ?",
                ))
                .bind(user)
                .fetch_optional(&self.readers)
                .await?;
                row.map(|row| {
                    Ok(Sealed {
                        key_version: u8::try_from(row.try_get::<i32, _>("key_version")?)
                            .map_err(|_| StoreError::Corrupt("key version".into()))?,
                        blob: row.try_get("sealed")?,
                    })
                })
                .transpose()
            }

            async fn forget_recovery_codes_reveal(&self, user: UserId) -> StoreResult<bool> {
                let done = sqlx::query(&<$store>::sql(
                    "DELETE FROM recovery_code_reveals WHERE user_id = ?",
                ))
                .bind(user)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() > 0)
            }

            async fn use_recovery_code(
                &self,
                user: UserId,
                digest: &TokenHash,
                then: &Settlement<'_>,
            ) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let used = sqlx::query(&<$store>::sql(
                    "UPDATE recovery_codes SET used_at = ? \
                     WHERE user_id = ? AND code_hash = ? AND used_at IS NULL",
                ))
                .bind(then.now)
                .bind(user)
                .bind(&digest.0[..])
                .execute(&mut *tx)
                .await?;
                if used.rows_affected() == 0 {
                    return Ok(false);
                }
                apply_settlement(&mut tx, then).await?;
                tx.commit().await?;
                then.audit.iter().for_each(trace_audit);
                Ok(true)
            }
        }
    };
}

pub(crate) use sql_recovery;
