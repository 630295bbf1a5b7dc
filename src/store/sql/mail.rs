//! The outbox, and the development mailbox.
//! The SQL of [`MailStore`](crate::store::MailStore), for both databases.

macro_rules! sql_mail {
    ($store:ty, $db:ty, $row:ty) => {
        /// The organization, id and username of the user whose open invitation is outbox
        /// mail `id` (with `first_refusal`: only while it has not been refused before).
        async fn invitation_of_mail(
            tx: &mut Transaction<'_, $db>,
            id: i64,
            first_refusal: bool,
        ) -> StoreResult<Option<(OrgId, UserId, String)>> {
            let sql = format!(
                "SELECT u.org_id, u.id, u.username FROM invitations i JOIN users u ON u.id = i.user_id \
                 WHERE i.mail_id = ?{}",
                if first_refusal { " AND i.mail_error IS NULL" } else { "" }
            );
            let row = sqlx::query(&<$store>::sql(&sql)).bind(id).fetch_optional(&mut **tx).await?;
            row.map(|row| Ok((row.try_get("org_id")?, row.try_get("id")?, row.try_get("username")?)))
                .transpose()
        }

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
                let invited = invitation_of_mail(&mut tx, id, false).await?;
                sqlx::query(&<$store>::sql(
                    "UPDATE invitations SET mail_sent_at = ?, mail_error = NULL, mail_id = NULL WHERE mail_id = ?",
                ))
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                match invited {
                    // The audit says when the invitation reached the SMTP server, not only
                    // when it was queued.
                    Some(user) => {
                        use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
                        let record = AuditRecord::new(now, AuditEvent::InvitationDelivered, Outcome::Success)
                            .user(user.0, user.1, &user.2)
                            .detail("accepted by the SMTP server");
                        commit_with_audit(tx, &record).await
                    }
                    None => Ok(tx.commit().await?),
                }
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
                let mut tx = self.pool.begin().await?;
                sqlx::query(&<$store>::sql(
                    "UPDATE outbox SET lease_until = NULL, next_attempt_at = ?, last_error = ? WHERE id = ?"),
                )
                .bind(retry_at)
                .bind(error)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                let first_refusal = invitation_of_mail(&mut tx, id, true).await?;
                sqlx::query(&<$store>::sql("UPDATE invitations SET mail_error = ? WHERE mail_id = ?"))
                    .bind(error)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                match first_refusal {
                    // Once per invitation, at the first refusal: later retries change only
                    // the answer the overview shows.
                    Some(user) => {
                        use crate::domain::audit::{AuditEvent, AuditRecord, Outcome};
                        let answer: String = error.chars().take(200).collect();
                        let record = AuditRecord::new(retry_at, AuditEvent::InvitationDelivered, Outcome::Failure)
                            .user(user.0, user.1, &user.2)
                            .detail(answer);
                        commit_with_audit(tx, &record).await
                    }
                    None => Ok(tx.commit().await?),
                }
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
