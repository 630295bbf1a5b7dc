//! Remembered devices. The SQL of [`DeviceStore`](crate::store::DeviceStore), for both
//! databases.

macro_rules! sql_devices {
    ($store:ty, $db:ty, $row:ty) => {
        #[async_trait]
        impl DeviceStore for $store {
            async fn device_skips_code(
                &self,
                id: &TokenHash,
                user: UserId,
                now: i64,
            ) -> StoreResult<bool> {
                let used = sqlx::query(&<$store>::sql(
                    "UPDATE remembered_devices SET last_used_at = ?1 \
                     WHERE id_hash = ?2 AND user_id = ?3 AND expires_at > ?1 \
                       AND EXISTS (SELECT 1 FROM users u JOIN organizations o ON o.id = u.org_id \
                                   WHERE u.id = ?3 AND o.remember_device_days > 0 \
                                     AND (o.passkey_required_from IS NULL OR o.passkey_required_from > ?1)) \
                       AND EXISTS (SELECT 1 FROM totp_credentials t \
                                   WHERE t.user_id = ?3 AND t.state = 'active')",
                ))
                .bind(now)
                .bind(&id.0[..])
                .bind(user)
                .execute(&self.pool)
                .await?;
                Ok(used.rows_affected() == 1)
            }

            async fn devices_of_user(&self, user: UserId) -> StoreResult<Vec<RememberedDevice>> {
                let rows = sqlx::query(&<$store>::sql(
                    "SELECT id_hash, browser, created_at, last_used_at, expires_at \
                     FROM remembered_devices WHERE user_id = ? ORDER BY created_at",
                ))
                .bind(user)
                .fetch_all(&self.readers)
                .await?;
                rows.iter()
                    .map(|row| {
                        let id: Vec<u8> = row.try_get("id_hash")?;
                        Ok(RememberedDevice {
                            id_hash: TokenHash(
                                id.try_into()
                                    .map_err(|_| StoreError::Corrupt("device id".into()))?,
                            ),
                            browser: row.try_get("browser")?,
                            created_at: row.try_get("created_at")?,
                            last_used_at: row.try_get("last_used_at")?,
                            expires_at: row.try_get("expires_at")?,
                        })
                    })
                    .collect()
            }

            async fn forget_device(
                &self,
                user: UserId,
                id: &TokenHash,
                audit: &AuditRecord,
            ) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let gone = sqlx::query(&<$store>::sql(
                    "DELETE FROM remembered_devices WHERE user_id = ? AND id_hash = ?",
                ))
                .bind(user)
                .bind(&id.0[..])
                .execute(&mut *tx)
                .await?;
                if gone.rows_affected() == 0 {
                    return Ok(false);
                }
                commit_with_audit(tx, audit).await?;
                Ok(true)
            }
        }
    };
}

pub(crate) use sql_devices;
