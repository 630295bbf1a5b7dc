//! The throttle of failed attempts and the audit log.
//! The SQL of [`SecurityStore`](crate::store::SecurityStore), for both databases.

macro_rules! sql_security {
    ($store:ty, $db:ty, $row:ty) => {
        #[async_trait]
        impl SecurityStore for $store {
            async fn reserve_attempt(
                &self,
                checks: &[ThrottleCheck<'_>],
                session: Option<&TokenHash>,
                now: i64,
            ) -> StoreResult<Admission> {
                let mut writer = relaxed_writer(self).await?;
                if <$store>::ONE_QUERY_BATCHES {
                    let admission = reserve_at_once(&mut writer.conn, checks, session, now).await;
                    drop(writer);
                    return admission;
                }
                let outcome = async {
                    let mut tx = begin_relaxed(&mut writer.conn).await?;
                    let admission = reserve_in(&mut tx, checks, session, now).await?;
                    tx.commit().await?;
                    StoreResult::Ok(admission)
                }
                .await;
                drop(writer);
                outcome
            }

            async fn settle_attempt(&self, settlement: &Settlement<'_>) -> StoreResult<()> {
                run_relaxed(self, &crate::store::sql::batch::settlement(settlement)).await?;
                settlement.audit.iter().for_each(trace_audit);
                Ok(())
            }

            async fn waiting_until(&self, subject: &str, now: i64) -> StoreResult<Option<i64>> {
                Ok(sqlx::query_scalar(&<$store>::sql(
                    "SELECT blocked_until FROM throttle WHERE subject = ? AND blocked_until > ?",
                ))
                .bind(subject)
                .bind(now)
                .fetch_optional(&self.readers)
                .await?)
            }

            async fn record_audit(&self, records: &[AuditRecord]) -> StoreResult<()> {
                // One line where nothing is set per transaction (SQLite): one statement, which
                // commits on its own (atomic as any statement), instead of begin, insert, commit:
                // a client-credentials token and a refused refresh pay one call, not three.
                if let ([record], None) = (records, <$store>::RELAX_TRANSACTION) {
                    let mut writer = relaxed_writer(self).await?;
                    insert_audit_on(&mut *writer.conn, record).await?;
                    drop(writer);
                    trace_audit(record);
                    return Ok(());
                }
                let settlement = Settlement {
                    audit: records.to_vec(),
                    ..Settlement::default()
                };
                self.settle_attempt(&settlement).await
            }

            async fn audit_entries(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
                let rows = sqlx::query(&<$store>::sql(
                    "SELECT a.id, a.at, a.event, a.outcome, o.slug, a.user_id, a.username, a.client, a.detail \
                     FROM audit_log a LEFT JOIN organizations o ON o.id = a.org_id \
                     WHERE (?1 IS NULL OR a.org_id = ?1) AND (?2 IS NULL OR a.user_id = ?2) \
                       AND a.at >= ?3 AND a.id < ?5 AND (?6 IS NULL OR a.event = ?6) \
                     ORDER BY a.id DESC LIMIT ?4"),
                )
                .bind(filter.org)
                .bind(filter.user)
                .bind(filter.since.unwrap_or(i64::MIN))
                .bind(filter.limit)
                .bind(filter.before_id.unwrap_or(i64::MAX))
                .bind(filter.event.map(AuditEvent::as_str))
                .fetch_all(&self.readers)
                .await?;
                let mut entries = rows
                    .iter()
                    .map(|row| {
                        let event: String = row.try_get("event")?;
                        let outcome: String = row.try_get("outcome")?;
                        Ok(AuditEntry {
                            id: row.try_get("id")?,
                            at: row.try_get("at")?,
                            event: AuditEvent::from_db(&event)
                                .ok_or_else(|| StoreError::Corrupt(format!("audit event {event:?}")))?,
                            outcome: Outcome::from_db(&outcome)
                                .ok_or_else(|| StoreError::Corrupt(format!("audit outcome {outcome:?}")))?,
                            org_slug: row.try_get("slug")?,
                            user_id: row.try_get("user_id")?,
                            username: row.try_get("username")?,
                            client: row.try_get("client")?,
                            detail: row.try_get("detail")?,
                        })
                    })
                    .collect::<StoreResult<Vec<_>>>()?;
                // The newest `limit` lines, told oldest first like any log.
                entries.reverse();
                Ok(entries)
            }
        }

        /// Counts one attempt against each subject (see [`SecurityStore::reserve_attempt`]).
        async fn reserve_in(
            tx: &mut Transaction<'_, $db>,
            checks: &[ThrottleCheck<'_>],
            session: Option<&TokenHash>,
            now: i64,
        ) -> StoreResult<Admission> {
            let mut numbers = Vec::with_capacity(checks.len());
            for (slot, check) in checks.iter().enumerate() {
                let counted: Option<i64> =
                    sqlx::query_scalar(&<$store>::sql(&reserve_sql(check.policy, slot, None)))
                        .bind(&check.subject)
                        .bind(now)
                        .bind(now)
                        .fetch_optional(&mut **tx)
                        .await?;
                let Some(number) = counted else {
                    // The subjects before this one keep their count: the attempt was made,
                    // against an account or from an address that is waiting.
                    let until: i64 = sqlx::query_scalar(&<$store>::sql(
                        "SELECT blocked_until FROM throttle WHERE subject = ?"),
                    )
                    .bind(&check.subject)
                    .fetch_one(&mut **tx)
                    .await?;
                    return Ok(Admission::Blocked { until });
                };
                numbers.push(number);
            }
            // The session's own count of codes (a few, then the password again), counted
            // before the code is checked like the rest.
            let session_codes = match session {
                Some(id) => {
                    let count: Option<i64> = sqlx::query_scalar(&<$store>::sql(
                        "UPDATE sessions SET failed_codes = failed_codes + 1 WHERE id_hash = ? \
                         RETURNING failed_codes"),
                    )
                    .bind(&id.0[..])
                    .fetch_optional(&mut **tx)
                    .await?;
                    Some(count.ok_or(StoreError::NotFound("session"))?)
                }
                None => None,
            };
            Ok(Admission::Admitted { numbers, session_codes })
        }

        /// [`reserve_in`] as one query of several statements on `conn` (SQLite): the same
        /// counts, each subject's statement run only if the one before it counted (SQLite's
        /// `changes()`), the session's count only if all did. Nothing is counted for a session
        /// that has gone. Every row the query returns names what it is in `slot`.
        async fn reserve_at_once(
            conn: &mut sqlx::pool::PoolConnection<$db>,
            checks: &[ThrottleCheck<'_>],
            session: Option<&TokenHash>,
            now: i64,
        ) -> StoreResult<Admission> {
            use crate::store::sql::batch::{Batch, Unfinished, Value};
            let mut batch = Batch::default();
            let session_id = session.map(|id| Value::Bytes(&id.0[..]));
            for (slot, check) in checks.iter().enumerate() {
                let mut values = vec![Value::Text(&check.subject), Value::Int(now)];
                let gate = match (slot, session_id) {
                    (0, Some(id)) => {
                        values.push(id);
                        "EXISTS (SELECT 1 FROM sessions WHERE id_hash = ?)"
                    }
                    (0, None) => "true",
                    _ => "changes() = 1",
                };
                batch.push(reserve_sql(check.policy, slot, Some(gate)), values);
            }
            if let Some(id) = session_id {
                batch.push(
                    format!(
                        "UPDATE sessions SET failed_codes = failed_codes + 1 \
                         WHERE id_hash = ? AND changes() = 1 \
                         RETURNING failed_codes AS number, {SESSION_CODES} AS slot"
                    ),
                    vec![id],
                );
                batch.push(
                    format!(
                        "SELECT EXISTS (SELECT 1 FROM sessions WHERE id_hash = ?) AS number, \
                         {SESSION_KNOWN} AS slot"
                    ),
                    vec![id],
                );
            }
            for (slot, check) in checks.iter().enumerate() {
                batch.push(
                    format!(
                        "SELECT blocked_until AS number, {} AS slot FROM throttle WHERE subject = ?",
                        WAITING + slot as i64
                    ),
                    vec![Value::Text(&check.subject)],
                );
            }
            let sql = batch.joined("BEGIN IMMEDIATE; ", "COMMIT");
            let mut unfinished = Unfinished::new(conn);
            // `fetch_all`: every statement up to the COMMIT must run.
            let rows = bound(&sql, batch.values()).fetch_all(unfinished.conn()).await?;
            unfinished.finish();
            let mut numbers = vec![None; checks.len()];
            let mut waiting = vec![None; checks.len()];
            let (mut session_codes, mut session_known) = (None, false);
            for row in &rows {
                let (slot, number): (i64, i64) = (row.try_get("slot")?, row.try_get("number")?);
                match slot {
                    SESSION_CODES => session_codes = Some(number),
                    SESSION_KNOWN => session_known = number != 0,
                    _ if slot >= WAITING => waiting[(slot - WAITING) as usize] = Some(number),
                    _ => numbers[slot as usize] = Some(number),
                }
            }
            if session.is_some() && !session_known {
                return Err(StoreError::NotFound("session"));
            }
            if let Some(blocked) = numbers.iter().position(Option::is_none) {
                let until = waiting[blocked].ok_or(StoreError::NotFound("throttle"))?;
                return Ok(Admission::Blocked { until });
            }
            Ok(Admission::Admitted {
                numbers: numbers.into_iter().flatten().collect(),
                session_codes: match session {
                    Some(_) => Some(session_codes.ok_or(StoreError::NotFound("session"))?),
                    None => None,
                },
            })
        }

        /// The `slot`s of [`reserve_at_once`]'s rows besides the subjects' own (0, 1 …).
        const SESSION_CODES: i64 = -1;
        const SESSION_KNOWN: i64 = -2;
        const WAITING: i64 = 100;
    };
}

pub(crate) use sql_security;
