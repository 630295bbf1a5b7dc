//! The outbox, and the development mailbox.
//! The SQL of [`MailStore`](crate::store::MailStore), for both databases.

macro_rules! sql_mail {
    ($store:ty, $db:ty, $row:ty) => {
        #[async_trait]
        impl MailStore for $store {
            async fn enqueue_mail(&self, mail: &OutgoingMail, now: i64) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                insert_mail(&mut tx, mail, now).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn claim_mail(
                &self,
                now: i64,
                lease_seconds: i64,
                limit: i64,
            ) -> StoreResult<Vec<QueuedMail>> {
                let discarded = sqlx::query(&<$store>::sql("DELETE FROM outbox WHERE discard_after <= ?"))
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                if discarded.rows_affected() > 0 {
                    tracing::warn!(
                        count = discarded.rows_affected(),
                        "outbox: dropped mail that expired before it could be sent"
                    );
                }
                // Several instances claim at once: each skips rows another is claiming (where the
                // database can), and the lease keeps a claimed row from being sent twice.
                let sql = format!(
                    "UPDATE outbox SET lease_until = ?, attempts = attempts + 1 \
                     WHERE id IN (SELECT id FROM outbox WHERE next_attempt_at <= ? \
                                  AND (lease_until IS NULL OR lease_until <= ?) ORDER BY id LIMIT ? {}) \
                     RETURNING id, attempts, sender, recipient, message",
                    <$store>::SKIP_LOCKED
                );
                let rows = sqlx::query(&<$store>::sql(&sql))
                .bind(now + lease_seconds)
                .bind(now)
                .bind(now)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(QueuedMail {
                            id: row.try_get("id")?,
                            attempts: row.try_get("attempts")?,
                            mail: OutgoingMail {
                                sender: row.try_get("sender")?,
                                recipient: row.try_get("recipient")?,
                                message: row.try_get("message")?,
                                discard_after: None,
                            },
                        })
                    })
                    .collect()
            }

            async fn mail_delivered(&self, id: i64, now: i64) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(&<$store>::sql("DELETE FROM outbox WHERE id = ?"))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(&<$store>::sql(
                    "UPDATE invitations SET mail_sent_at = ?, mail_error = NULL, mail_id = NULL WHERE mail_id = ?",
                ))
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn release_mail(&self, ids: &[i64]) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                for id in ids {
                    sqlx::query(&<$store>::sql(
                        "UPDATE outbox SET lease_until = NULL, attempts = attempts - 1 WHERE id = ?"),
                    )
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn mail_failed(&self, id: i64, retry_at: i64, error: &str) -> StoreResult<()> {
                sqlx::query(&<$store>::sql(
                    "UPDATE outbox SET lease_until = NULL, next_attempt_at = ?, last_error = ? WHERE id = ?"),
                )
                .bind(retry_at)
                .bind(error)
                .bind(id)
                .execute(&self.pool)
                .await?;
                sqlx::query(&<$store>::sql("UPDATE invitations SET mail_error = ? WHERE mail_id = ?"))
                    .bind(error)
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn outbox_len(&self) -> StoreResult<i64> {
                Ok(sqlx::query_scalar(&<$store>::sql("SELECT COUNT(*) FROM outbox"))
                    .fetch_one(&self.readers)
                    .await?)
            }

            async fn store_dev_mail(&self, recipient: &str, message: &[u8], now: i64) -> StoreResult<()> {
                sqlx::query(&<$store>::sql("INSERT INTO dev_mail (recipient, message, received_at) VALUES (?, ?, ?)"))
                    .bind(recipient)
                    .bind(message)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn dev_mails(&self) -> StoreResult<Vec<DevMail>> {
                let rows = sqlx::query(&<$store>::sql(
                    "SELECT id, recipient, message, received_at FROM dev_mail ORDER BY id DESC LIMIT 200"),
                )
                .fetch_all(&self.readers)
                .await?;
                rows.iter().map(dev_mail_from_row).collect()
            }

            async fn dev_mail(&self, id: i64) -> StoreResult<Option<DevMail>> {
                let row =
                    sqlx::query(&<$store>::sql("SELECT id, recipient, message, received_at FROM dev_mail WHERE id = ?"))
                        .bind(id)
                        .fetch_optional(&self.readers)
                        .await?;
                row.as_ref().map(dev_mail_from_row).transpose()
            }
        }
    };
}

pub(crate) use sql_mail;
