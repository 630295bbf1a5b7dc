//! Users as administrators see them, invitation batches, idempotent answers and roles.
//! The SQL of [`AdminStore`](crate::store::AdminStore), for both databases.

macro_rules! sql_admin {
    ($store:ty, $db:ty, $row:ty) => {
        /// The open invitation of a row that joined it (`invitation_created_at`, …).
        fn invitation_from_row(row: &$row) -> StoreResult<Option<InvitationFacts>> {
            Ok(match row.try_get::<Option<i64>, _>("invitation_created_at")? {
                Some(created_at) => Some(InvitationFacts {
                    created_at,
                    expires_at: row.try_get("invitation_expires_at")?,
                    mail_sent_at: row.try_get("mail_sent_at")?,
                    mail_error: row.try_get("mail_error")?,
                }),
                None => None,
            })
        }

        fn overview_from_row(row: &$row) -> StoreResult<UserOverview> {
            let two_step: Option<String> = row.try_get("two_step")?;
            let invitation = invitation_from_row(row)?;
            Ok(UserOverview {
                user: user_from_row(row)?,
                created_at: row.try_get("created_at")?,
                invitation,
                two_step: two_step.map(|state| state == "active"),
                two_step_since: row.try_get("two_step_since")?,
                failures: row.try_get::<Option<i64>, _>("failures")?.unwrap_or(0),
                blocked_until: row.try_get::<Option<i64>, _>("blocked_until")?.unwrap_or(0),
                last_login_at: row.try_get("last_login_at")?,
                beheerder: row.try_get("beheerder")?,
            })
        }

        #[async_trait]
        impl AdminStore for $store {
            async fn user_overviews(
                &self,
                org: OrgId,
                only: Option<&str>,
            ) -> StoreResult<Vec<UserOverview>> {
                // The open invitation is the one neither used nor replaced (at most one);
                // the last login is the last completed second step in the audit log.
                let sql = format!(
                    "SELECT {USER_COLUMNS}, u.created_at, t.state AS two_step, \
                       t.activated_at AS two_step_since, th.failures, th.blocked_until, \
                       i.created_at AS invitation_created_at, i.expires_at AS invitation_expires_at, \
                       i.mail_sent_at, i.mail_error, \
                       (SELECT MAX(a.at) FROM audit_log a WHERE a.user_id = u.id AND a.outcome = 'success' \
                          AND a.event IN ('login_code', 'two_step_enabled', 'recovery_code_used') \
                          AND COALESCE(a.detail, '') NOT IN ('reset', 'console confirmation')) AS last_login_at, \
                       EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = 'beheerder') AS beheerder \
                     FROM users u LEFT JOIN totp_credentials t ON t.user_id = u.id \
                     LEFT JOIN throttle th ON th.subject = 'account:' || u.username \
                     LEFT JOIN invitations i ON i.user_id = u.id AND i.used_at IS NULL AND i.superseded_at IS NULL \
                     WHERE u.org_id = ?1 AND (?2 IS NULL OR u.username = ?2) ORDER BY u.id"
                );
                let rows = sqlx::query(&<$store>::sql(&sql))
                    .bind(org)
                    .bind(only)
                    .fetch_all(&self.readers)
                    .await?;
                rows.iter().map(overview_from_row).collect()
            }

            async fn invite_batch(
                &self,
                batch: &[InvitationWithMail],
                answer: Option<&IdempotentAnswer>,
                audit: &AuditRecord,
            ) -> StoreResult<BatchOutcome> {
                let mut tx = self.pool.begin().await?;
                if let Some(answer) = answer {
                    // First, so that of two requests with one key the second waits here (or
                    // fails on the key) and sends nothing.
                    let stored = sqlx::query(&<$store>::sql(
                        "INSERT INTO api_idempotency (client_id, idempotency_key, fingerprint, status, body, created_at) \
                         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    ))
                    .bind(&answer.client_id)
                    .bind(&answer.key)
                    .bind(&answer.fingerprint.0[..])
                    .bind(i32::from(answer.status))
                    .bind(&answer.body)
                    .bind(answer.created_at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if stored == 0 {
                        return Ok(BatchOutcome::AlreadyAnswered);
                    }
                }
                let mut users = Vec::with_capacity(batch.len());
                for (index, item) in batch.iter().enumerate() {
                    match invite_in(&mut tx, &item.invitation, &item.mail).await {
                        Ok(user) => users.push(user),
                        Err(reason @ (StoreError::AlreadyActive | StoreError::Conflict(_))) => {
                            return Ok(BatchOutcome::Refused { index, reason });
                        }
                        Err(other) => return Err(other),
                    }
                }
                let records: Vec<AuditRecord> = users
                    .iter()
                    .map(|u| audit.clone().user(u.org_id, u.id, &u.username))
                    .collect();
                for record in &records {
                    insert_audit(&mut tx, record).await?;
                }
                tx.commit().await?;
                records.iter().for_each(trace_audit);
                Ok(BatchOutcome::Invited(users))
            }

            async fn idempotent_answer(
                &self,
                client_id: &str,
                key: &str,
                since: i64,
            ) -> StoreResult<Option<IdempotentAnswer>> {
                let row = sqlx::query(&<$store>::sql(
                    "SELECT fingerprint, status, body, created_at FROM api_idempotency \
                     WHERE client_id = ? AND idempotency_key = ? AND created_at >= ?",
                ))
                .bind(client_id)
                .bind(key)
                .bind(since)
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let fingerprint: Vec<u8> = row.try_get("fingerprint")?;
                let status: i32 = row.try_get("status")?;
                Ok(Some(IdempotentAnswer {
                    client_id: client_id.to_owned(),
                    key: key.to_owned(),
                    fingerprint: TokenHash(
                        fingerprint
                            .try_into()
                            .map_err(|_| StoreError::Corrupt("idempotency fingerprint".into()))?,
                    ),
                    status: u16::try_from(status)
                        .map_err(|_| StoreError::Corrupt("idempotency status".into()))?,
                    body: row.try_get("body")?,
                    created_at: row.try_get("created_at")?,
                }))
            }

            async fn set_role(
                &self,
                user: UserId,
                role: Role,
                granted: bool,
                audit: &AuditRecord,
            ) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let changed = if granted {
                    sqlx::query(&<$store>::sql(
                        "INSERT INTO user_roles (user_id, role, granted_at) VALUES (?, ?, ?) \
                         ON CONFLICT DO NOTHING",
                    ))
                    .bind(user)
                    .bind(role.as_str())
                    .bind(audit.at)
                    .execute(&mut *tx)
                    .await?
                } else {
                    sqlx::query(&<$store>::sql("DELETE FROM user_roles WHERE user_id = ? AND role = ?"))
                        .bind(user)
                        .bind(role.as_str())
                        .execute(&mut *tx)
                        .await?
                }
                .rows_affected();
                if changed == 0 {
                    return Ok(false);
                }
                commit_with_audit(tx, audit).await?;
                Ok(true)
            }

            async fn has_role(&self, user: UserId, role: Role) -> StoreResult<bool> {
                Ok(sqlx::query(&<$store>::sql(
                    "SELECT 1 FROM user_roles WHERE user_id = ? AND role = ?",
                ))
                .bind(user)
                .bind(role.as_str())
                .fetch_optional(&self.pool)
                .await?
                .is_some())
            }
        }
    };
}

pub(crate) use sql_admin;
