//! The audit chain and the webhook outbox.
//! The SQL of [`EvidenceStore`](crate::store::EvidenceStore) and
//! [`WebhookStore`](crate::store::WebhookStore), for both databases.

use crate::domain::audit::{AuditEvent, Outcome};
use crate::domain::audit_chain::Chained;
use crate::domain::webhook::{EventFilter, EventKind};
use crate::store::ChainRow;

/// The columns of a [`ChainRow`] (`a` is `audit_log`).
pub const CHAIN_COLUMNS: &str = "a.id, a.seq, a.hash, a.at, a.event, a.outcome, a.org_id, \
    a.user_id, a.username, a.client, a.detail";

impl ChainRow {
    pub fn chained(&self) -> Chained<'_> {
        Chained {
            at: self.at,
            event: &self.event,
            outcome: &self.outcome,
            org_id: self.org_id,
            user_id: self.user_id,
            username: self.username.as_deref(),
            client: self.client.as_deref(),
            detail: self.detail.as_deref(),
        }
    }
}

/// A subscription as the fan-out sees it.
pub struct Listener {
    pub id: i64,
    pub org_id: Option<i64>,
    pub filter: EventFilter,
}

/// The event a sealed record is for a subscriber, if any: its kind, the key its deliveries
/// keep order by, and the body (the Standard Webhooks payload: `type`, `timestamp`, `data`).
/// The body names ids and kinds only: the detail goes out only where it is a word of ours
/// (a reason) or an application's client id, never a mail server's answer or a name typed.
pub fn webhook_event(
    row: &ChainRow,
    org_slug: Option<&str>,
    codes_left: Option<u32>,
) -> Option<(EventKind, String, String)> {
    let event = AuditEvent::from_db(&row.event)?;
    let outcome = Outcome::from_db(&row.outcome)?;
    let kind = EventKind::of(event, outcome, row.detail.as_deref(), codes_left)?;
    let mut data = serde_json::json!({
        "event_id": format!("evt_{}", row.seq),
        "organization": org_slug,
        "username": row.username,
    });
    let word = row
        .detail
        .as_deref()
        .filter(|d| !d.is_empty() && d.len() <= 40)
        .filter(|d| d.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
    match kind {
        EventKind::ConsentGiven | EventKind::ConsentWithdrawn => {
            let client = row.detail.as_deref().filter(|d| {
                d.len() <= 100
                    && d.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
            });
            data["application"] = serde_json::json!(client);
        }
        EventKind::RecoveryCodesLow => data["codes_left"] = serde_json::json!(codes_left),
        EventKind::UserLogin => {
            data["method"] = serde_json::json!(row.event.trim_start_matches("login_"))
        }
        _ => {
            if let Some(word) = word {
                data["reason"] = serde_json::json!(word);
            }
        }
    }
    let timestamp = crate::clock::rfc3339(row.at);
    let body = serde_json::json!({ "type": kind.as_str(), "timestamp": timestamp, "data": data });
    let ordering = match (row.user_id, row.org_id) {
        (Some(user), _) => format!("user:{user}"),
        (None, Some(org)) => format!("org:{org}"),
        (None, None) => "service".into(),
    };
    Some((kind, ordering, body.to_string()))
}

macro_rules! sql_evidence {
    ($store:ty, $db:ty, $row:ty) => {
        fn chain_row(row: &$row) -> StoreResult<ChainRow> {
            let hash: Option<Vec<u8>> = row.try_get("hash")?;
            Ok(ChainRow {
                id: row.try_get("id")?,
                seq: row.try_get::<Option<i64>, _>("seq")?.unwrap_or(0),
                hash: hash.as_deref().and_then(ChainHash::from_slice),
                at: row.try_get("at")?,
                event: row.try_get("event")?,
                outcome: row.try_get("outcome")?,
                org_id: row.try_get("org_id")?,
                user_id: row.try_get("user_id")?,
                username: row.try_get("username")?,
                client: row.try_get("client")?,
                detail: row.try_get("detail")?,
            })
        }

        fn anchor_of(row: &$row, seq: &str, hash: &str) -> StoreResult<Anchor> {
            let bytes: Vec<u8> = row.try_get(hash)?;
            Ok(Anchor {
                seq: row.try_get(seq)?,
                hash: ChainHash::from_slice(&bytes)
                    .ok_or_else(|| StoreError::Corrupt("audit chain head".into()))?,
            })
        }

        fn checkpoint_row(row: &$row) -> StoreResult<StoredCheckpoint> {
            let hash: Vec<u8> = row.try_get("hash")?;
            Ok(StoredCheckpoint {
                seq: row.try_get("seq")?,
                hash: ChainHash::from_slice(&hash)
                    .ok_or_else(|| StoreError::Corrupt("audit checkpoint hash".into()))?,
                at: row.try_get("at")?,
                token: row.try_get("token")?,
            })
        }

        /// Every subscription, as the fan-out needs it.
        async fn listeners(
            conn: &mut <$db as sqlx::Database>::Connection,
            only: Option<i64>,
        ) -> StoreResult<Vec<crate::store::sql::evidence::Listener>> {
            let rows = sqlx::query(&<$store>::sql(
                "SELECT id, org_id, events FROM webhook_subscriptions WHERE (?1 IS NULL OR id = ?1)",
            ))
            .bind(only)
            .fetch_all(&mut *conn)
            .await?;
            rows.iter()
                .map(|row| {
                    let events: String = row.try_get("events")?;
                    Ok(crate::store::sql::evidence::Listener {
                        id: row.try_get("id")?,
                        org_id: row.try_get("org_id")?,
                        filter: crate::domain::webhook::EventFilter::parse(&events)
                            .map_err(|e| StoreError::Corrupt(format!("webhook events: {e}")))?,
                    })
                })
                .collect()
        }

        /// Queues the deliveries of the sealed `rows` to `listeners`; with `again`, a delivery
        /// already there is queued anew (a replay). The number queued.
        async fn fan_out(
            conn: &mut <$db as sqlx::Database>::Connection,
            rows: &[(ChainRow, Option<String>)],
            listeners: &[crate::store::sql::evidence::Listener],
            now: i64,
            again: bool,
        ) -> StoreResult<u64> {
            if listeners.is_empty() {
                return Ok(0);
            }
            let mut queued = 0;
            for (row, slug) in rows {
                let Some(event) = AuditEvent::from_db(&row.event) else {
                    continue;
                };
                if !crate::domain::webhook::EventKind::may_come_from(event) {
                    continue;
                }
                let codes_left = match (event, row.user_id) {
                    (AuditEvent::RecoveryCodeUsed, Some(user)) => {
                        let left: i64 = sqlx::query_scalar(&<$store>::sql(
                            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL",
                        ))
                        .bind(user)
                        .fetch_one(&mut *conn)
                        .await?;
                        u32::try_from(left).ok()
                    }
                    _ => None,
                };
                let Some((kind, ordering, payload)) =
                    crate::store::sql::evidence::webhook_event(row, slug.as_deref(), codes_left)
                else {
                    continue;
                };
                for listener in listeners {
                    let org_matches = listener.org_id.is_none() || listener.org_id == row.org_id;
                    if !org_matches || !listener.filter.matches(kind) {
                        continue;
                    }
                    let conflict = if again {
                        "DO UPDATE SET delivered_at = NULL, given_up_at = NULL, attempts = 0, \
                         lease_until = NULL, next_attempt_at = excluded.next_attempt_at, \
                         payload = excluded.payload"
                    } else {
                        "DO NOTHING"
                    };
                    let sql = format!(
                        "INSERT INTO webhook_deliveries \
                           (subscription_id, seq, ordering_key, kind, payload, created_at, next_attempt_at) \
                         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (subscription_id, seq) {conflict}"
                    );
                    let done = sqlx::query(&<$store>::sql(&sql))
                        .bind(listener.id)
                        .bind(row.seq)
                        .bind(&ordering)
                        .bind(kind.as_str())
                        .bind(&payload)
                        .bind(now)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                    queued += done.rows_affected();
                }
            }
            Ok(queued)
        }

        fn subscription_row(row: &$row) -> StoreResult<Subscription> {
            let version = |v: i64| {
                u8::try_from(v).map_err(|_| StoreError::Corrupt("webhook secret version".into()))
            };
            let previous = match (
                row.try_get::<Option<i64>, _>("previous_version")?,
                row.try_get::<Option<Vec<u8>>, _>("previous_secret")?,
                row.try_get::<Option<i64>, _>("previous_until")?,
            ) {
                (Some(v), Some(blob), Some(until)) => {
                    Some((Sealed { key_version: version(v)?, blob }, until))
                }
                _ => None,
            };
            Ok(Subscription {
                id: row.try_get("id")?,
                public_id: row.try_get("public_id")?,
                org_id: row.try_get("org_id")?,
                org_slug: row.try_get("slug")?,
                url: row.try_get("url")?,
                events: row.try_get("events")?,
                description: row.try_get("description")?,
                secret: Sealed {
                    key_version: version(row.try_get("secret_version")?)?,
                    blob: row.try_get("secret")?,
                },
                previous,
                created_at: row.try_get("created_at")?,
                failing_since: row.try_get("failing_since")?,
                last_attempt_at: row.try_get("last_attempt_at")?,
                last_answer: row.try_get("last_answer")?,
                pending: row.try_get("pending")?,
                oldest_pending_at: row.try_get("oldest_pending_at")?,
            })
        }

        const SUBSCRIPTION_COLUMNS: &str = "s.id, s.public_id, s.org_id, o.slug, s.url, s.events, \
            s.description, s.secret_version, s.secret, s.previous_version, s.previous_secret, \
            s.previous_until, s.created_at, s.failing_since, s.last_attempt_at, s.last_answer, \
            (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.subscription_id = s.id \
               AND d.delivered_at IS NULL AND d.given_up_at IS NULL) AS pending, \
            (SELECT MIN(d.created_at) FROM webhook_deliveries d WHERE d.subscription_id = s.id \
               AND d.delivered_at IS NULL AND d.given_up_at IS NULL) AS oldest_pending_at";

        #[async_trait]
        impl EvidenceStore for $store {
            async fn seal_audit(&self, limit: i64, now: i64) -> StoreResult<SealPass> {
                // Most passes find nothing: that is a read, without taking the write lock.
                let waiting: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM audit_log WHERE seq IS NULL LIMIT 1")
                        .fetch_optional(&self.readers)
                        .await?;
                if waiting.is_none() {
                    let head = sqlx::query("SELECT head_seq, head_hash FROM audit_chain WHERE id = 1")
                        .fetch_one(&self.readers)
                        .await?;
                    let head = anchor_of(&head, "head_seq", "head_hash")?;
                    return Ok(SealPass { sealed: 0, deliveries: 0, head });
                }
                let mut tx = self.pool.begin().await?;
                // A write first: the head row is locked (PostgreSQL) or the database's write
                // lock taken (SQLite) before the head is read, so two sealers never both
                // link after the same record.
                sqlx::query("UPDATE audit_chain SET id = id WHERE id = 1")
                    .execute(&mut *tx)
                    .await?;
                let head = sqlx::query("SELECT head_seq, head_hash FROM audit_chain WHERE id = 1")
                    .fetch_one(&mut *tx)
                    .await?;
                let mut head = anchor_of(&head, "head_seq", "head_hash")?;
                let rows = sqlx::query(&<$store>::sql(&format!(
                    "SELECT {}, o.slug FROM audit_log a LEFT JOIN organizations o ON o.id = a.org_id \
                     WHERE a.seq IS NULL ORDER BY a.id LIMIT ?",
                    crate::store::sql::evidence::CHAIN_COLUMNS
                )))
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
                if rows.is_empty() {
                    return Ok(SealPass { sealed: 0, deliveries: 0, head });
                }
                let mut sealed = Vec::with_capacity(rows.len());
                for row in &rows {
                    let mut record = chain_row(row)?;
                    record.seq = head.seq + 1;
                    let hash = crate::domain::audit_chain::link(&head.hash, record.seq, &record.chained());
                    sqlx::query(&<$store>::sql("UPDATE audit_log SET seq = ?, hash = ? WHERE id = ?"))
                        .bind(record.seq)
                        .bind(hash.0.as_slice())
                        .bind(record.id)
                        .execute(&mut *tx)
                        .await?;
                    head = Anchor { seq: record.seq, hash };
                    record.hash = Some(hash);
                    sealed.push((record, row.try_get::<Option<String>, _>("slug")?));
                }
                let listeners = listeners(&mut *tx, None).await?;
                let deliveries = fan_out(&mut *tx, &sealed, &listeners, now, false).await?;
                sqlx::query(&<$store>::sql(
                    "UPDATE audit_chain SET head_seq = ?, head_hash = ? WHERE id = 1",
                ))
                .bind(head.seq)
                .bind(head.hash.0.as_slice())
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(SealPass { sealed: sealed.len() as u64, deliveries, head })
            }

            async fn chain_state(&self) -> StoreResult<ChainState> {
                let row = sqlx::query(
                    "SELECT head_seq, head_hash, anchor_seq, anchor_hash, \
                       (SELECT COUNT(*) FROM audit_log WHERE seq IS NULL) AS unsealed, \
                       (SELECT MIN(at) FROM audit_log WHERE seq IS NULL) AS oldest_unsealed \
                     FROM audit_chain WHERE id = 1",
                )
                .fetch_one(&self.readers)
                .await?;
                Ok(ChainState {
                    head: anchor_of(&row, "head_seq", "head_hash")?,
                    anchor: anchor_of(&row, "anchor_seq", "anchor_hash")?,
                    unsealed: row.try_get("unsealed")?,
                    oldest_unsealed_at: row.try_get("oldest_unsealed")?,
                })
            }

            async fn chain_rows(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<ChainRow>> {
                let rows = sqlx::query(&<$store>::sql(&format!(
                    "SELECT {} FROM audit_log a WHERE a.seq > ? ORDER BY a.seq LIMIT ?",
                    crate::store::sql::evidence::CHAIN_COLUMNS
                )))
                .bind(after_seq)
                .bind(limit)
                .fetch_all(&self.readers)
                .await?;
                rows.iter().map(chain_row).collect()
            }

            async fn checkpoints(&self) -> StoreResult<Vec<StoredCheckpoint>> {
                let rows = sqlx::query("SELECT seq, hash, at, token FROM audit_checkpoints ORDER BY seq")
                    .fetch_all(&self.readers)
                    .await?;
                rows.iter().map(checkpoint_row).collect()
            }

            async fn last_checkpoint_at(&self) -> StoreResult<Option<i64>> {
                Ok(sqlx::query_scalar("SELECT MAX(at) FROM audit_checkpoints")
                    .fetch_one(&self.readers)
                    .await?)
            }

            async fn add_checkpoint(&self, checkpoint: &StoredCheckpoint) -> StoreResult<()> {
                sqlx::query(&<$store>::sql(
                    "INSERT INTO audit_checkpoints (seq, hash, at, token) VALUES (?, ?, ?, ?) \
                     ON CONFLICT (seq) DO NOTHING",
                ))
                .bind(checkpoint.seq)
                .bind(checkpoint.hash.0.as_slice())
                .bind(checkpoint.at)
                .bind(&checkpoint.token)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn prune_point(&self, before: i64) -> StoreResult<Option<Anchor>> {
                // Sealed records are in `at` order but for the moments two instances wrote
                // at once: the cut is the last record before which every record is older.
                let row = sqlx::query(&<$store>::sql(
                    "SELECT a.seq, a.hash FROM audit_log a \
                     WHERE a.seq > (SELECT anchor_seq FROM audit_chain WHERE id = 1) \
                       AND a.seq < COALESCE((SELECT MIN(b.seq) FROM audit_log b WHERE b.at >= ?1), \
                                            (SELECT head_seq FROM audit_chain WHERE id = 1) + 1) \
                     ORDER BY a.seq DESC LIMIT 1",
                ))
                .bind(before)
                .fetch_optional(&self.readers)
                .await?;
                row.map(|row| anchor_of(&row, "seq", "hash")).transpose()
            }

            async fn prune_audit(&self, cut: &StoredCheckpoint) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(&<$store>::sql(
                    "INSERT INTO audit_checkpoints (seq, hash, at, token) VALUES (?, ?, ?, ?) \
                     ON CONFLICT (seq) DO NOTHING",
                ))
                .bind(cut.seq)
                .bind(cut.hash.0.as_slice())
                .bind(cut.at)
                .bind(&cut.token)
                .execute(&mut *tx)
                .await?;
                sqlx::query(&<$store>::sql(
                    "UPDATE audit_chain SET anchor_seq = ?, anchor_hash = ? WHERE id = 1 AND anchor_seq < ?",
                ))
                .bind(cut.seq)
                .bind(cut.hash.0.as_slice())
                .bind(cut.seq)
                .execute(&mut *tx)
                .await?;
                let removed = sqlx::query(&<$store>::sql("DELETE FROM audit_log WHERE seq <= ?"))
                    .bind(cut.seq)
                    .execute(&mut *tx)
                    .await?;
                // Checkpoints before the cut vouch for records no longer kept.
                sqlx::query(&<$store>::sql("DELETE FROM audit_checkpoints WHERE seq < ?"))
                    .bind(cut.seq)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(removed.rows_affected())
            }

            async fn audit_export(
                &self,
                from: i64,
                to: i64,
                org: Option<OrgId>,
                after_id: i64,
                limit: i64,
            ) -> StoreResult<Vec<ExportRow>> {
                let rows = sqlx::query(&<$store>::sql(&format!(
                    "SELECT {}, o.slug FROM audit_log a LEFT JOIN organizations o ON o.id = a.org_id \
                     WHERE a.at >= ?1 AND a.at < ?2 AND (?3 IS NULL OR a.org_id = ?3) AND a.id > ?4 \
                     ORDER BY a.id LIMIT ?5",
                    crate::store::sql::evidence::CHAIN_COLUMNS
                )))
                .bind(from)
                .bind(to)
                .bind(org)
                .bind(after_id)
                .bind(limit)
                .fetch_all(&self.readers)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(ExportRow {
                            row: chain_row(row)?,
                            org_slug: row.try_get("slug")?,
                        })
                    })
                    .collect()
            }
        }

        #[async_trait]
        impl WebhookStore for $store {
            async fn add_subscription(
                &self,
                subscription: &NewSubscription,
                audit: &AuditRecord,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(&<$store>::sql(
                    "INSERT INTO webhook_subscriptions \
                       (public_id, org_id, url, events, description, secret_version, secret, created_at) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                ))
                .bind(&subscription.public_id)
                .bind(subscription.org_id)
                .bind(&subscription.url)
                .bind(&subscription.events)
                .bind(&subscription.description)
                .bind(i64::from(subscription.secret.key_version))
                .bind(subscription.secret.blob.as_slice())
                .bind(subscription.created_at)
                .execute(&mut *tx)
                .await?;
                commit_with_audit(tx, audit).await
            }

            async fn subscriptions(&self, org: Option<OrgId>) -> StoreResult<Vec<Subscription>> {
                let rows = sqlx::query(&<$store>::sql(&format!(
                    "SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions s \
                     LEFT JOIN organizations o ON o.id = s.org_id \
                     WHERE (?1 IS NULL OR s.org_id = ?1) ORDER BY s.id"
                )))
                .bind(org)
                .fetch_all(&self.readers)
                .await?;
                rows.iter().map(subscription_row).collect()
            }

            async fn subscription(&self, public_id: &str) -> StoreResult<Option<Subscription>> {
                let row = sqlx::query(&<$store>::sql(&format!(
                    "SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions s \
                     LEFT JOIN organizations o ON o.id = s.org_id WHERE s.public_id = ?"
                )))
                .bind(public_id)
                .fetch_optional(&self.readers)
                .await?;
                row.as_ref().map(subscription_row).transpose()
            }

            async fn remove_subscription(
                &self,
                public_id: &str,
                audit: &AuditRecord,
            ) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let removed = sqlx::query(&<$store>::sql(
                    "DELETE FROM webhook_subscriptions WHERE public_id = ?",
                ))
                .bind(public_id)
                .execute(&mut *tx)
                .await?;
                if removed.rows_affected() == 0 {
                    return Ok(false);
                }
                commit_with_audit(tx, audit).await?;
                Ok(true)
            }

            async fn rotate_webhook_secret(
                &self,
                public_id: &str,
                secret: &Sealed,
                previous_until: i64,
                audit: &AuditRecord,
            ) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let rotated = sqlx::query(&<$store>::sql(
                    "UPDATE webhook_subscriptions SET previous_version = secret_version, \
                       previous_secret = secret, previous_until = ?, secret_version = ?, secret = ? \
                     WHERE public_id = ?",
                ))
                .bind(previous_until)
                .bind(i64::from(secret.key_version))
                .bind(secret.blob.as_slice())
                .bind(public_id)
                .execute(&mut *tx)
                .await?;
                if rotated.rows_affected() == 0 {
                    return Ok(false);
                }
                commit_with_audit(tx, audit).await?;
                Ok(true)
            }

            async fn claim_deliveries(
                &self,
                now: i64,
                lease_seconds: i64,
                limit: i64,
            ) -> StoreResult<Vec<ClaimedDelivery>> {
                // Order per user: a delivery waits while an earlier one to the same
                // subscription about the same user is open (waiting, retrying or in flight).
                let sql = format!(
                    "UPDATE webhook_deliveries SET lease_until = ?, attempts = attempts + 1 \
                     WHERE id IN (SELECT d.id FROM webhook_deliveries d \
                       WHERE d.delivered_at IS NULL AND d.given_up_at IS NULL AND d.next_attempt_at <= ? \
                         AND (d.lease_until IS NULL OR d.lease_until <= ?) \
                         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e \
                           WHERE e.subscription_id = d.subscription_id AND e.ordering_key = d.ordering_key \
                             AND e.seq < d.seq AND e.delivered_at IS NULL AND e.given_up_at IS NULL) \
                       ORDER BY d.seq LIMIT ? {}) \
                     RETURNING id",
                    <$store>::SKIP_LOCKED
                );
                let ids: Vec<i64> = sqlx::query_scalar(&<$store>::sql(&sql))
                    .bind(now + lease_seconds)
                    .bind(now)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                let mut claimed = Vec::with_capacity(ids.len());
                for id in ids {
                    let row = sqlx::query(&<$store>::sql(&format!(
                        "SELECT d.id AS delivery_id, d.seq AS delivery_seq, d.kind, d.payload, d.attempts, \
                           d.created_at AS delivery_created_at, {SUBSCRIPTION_COLUMNS} \
                         FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id \
                         LEFT JOIN organizations o ON o.id = s.org_id WHERE d.id = ?"
                    )))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                    let Some(row) = row else { continue };
                    claimed.push(ClaimedDelivery {
                        id: row.try_get("delivery_id")?,
                        seq: row.try_get("delivery_seq")?,
                        kind: row.try_get("kind")?,
                        payload: row.try_get("payload")?,
                        attempts: row.try_get("attempts")?,
                        created_at: row.try_get("delivery_created_at")?,
                        subscription: subscription_row(&row)?,
                    });
                }
                claimed.sort_by_key(|d| d.seq);
                Ok(claimed)
            }

            async fn delivery_answered(
                &self,
                id: i64,
                now: i64,
                answer: &str,
                outcome: Delivery,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let (delivered, retry_at, given_up) = match outcome {
                    Delivery::Delivered => (Some(now), None, None),
                    Delivery::RetryAt(at) => (None, Some(at), None),
                    Delivery::GivenUp => (None, None, Some(now)),
                };
                sqlx::query(&<$store>::sql(
                    "UPDATE webhook_deliveries SET lease_until = NULL, last_answer = ?, \
                       delivered_at = ?, given_up_at = ?, next_attempt_at = COALESCE(?, next_attempt_at) \
                     WHERE id = ?",
                ))
                .bind(answer)
                .bind(delivered)
                .bind(given_up)
                .bind(retry_at)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                let failing = match outcome {
                    Delivery::Delivered => "NULL",
                    Delivery::RetryAt(_) => "failing_since",
                    Delivery::GivenUp => "COALESCE(failing_since, ?2)",
                };
                sqlx::query(&<$store>::sql(&format!(
                    "UPDATE webhook_subscriptions SET last_attempt_at = ?2, last_answer = ?1, \
                       failing_since = {failing} \
                     WHERE id = (SELECT subscription_id FROM webhook_deliveries WHERE id = ?3)"
                )))
                .bind(answer)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn replay_webhooks(
                &self,
                public_id: &str,
                from: i64,
                to: i64,
                now: i64,
            ) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                let id: Option<i64> = sqlx::query_scalar(&<$store>::sql(
                    "SELECT id FROM webhook_subscriptions WHERE public_id = ?",
                ))
                .bind(public_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(id) = id else {
                    return Err(StoreError::NotFound("webhook subscription"));
                };
                let rows = sqlx::query(&<$store>::sql(&format!(
                    "SELECT {}, o.slug FROM audit_log a LEFT JOIN organizations o ON o.id = a.org_id \
                     WHERE a.seq IS NOT NULL AND a.at >= ? AND a.at < ? ORDER BY a.seq",
                    crate::store::sql::evidence::CHAIN_COLUMNS
                )))
                .bind(from)
                .bind(to)
                .fetch_all(&mut *tx)
                .await?;
                let records = rows
                    .iter()
                    .map(|row| Ok((chain_row(row)?, row.try_get::<Option<String>, _>("slug")?)))
                    .collect::<StoreResult<Vec<_>>>()?;
                let listeners = listeners(&mut *tx, Some(id)).await?;
                let queued = fan_out(&mut *tx, &records, &listeners, now, true).await?;
                tx.commit().await?;
                Ok(queued)
            }
        }
    };
}

pub(crate) use sql_evidence;
