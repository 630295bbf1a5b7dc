//! OpenID Connect codes, grants with their refresh tokens, and the back-channel logout queue.
//! The SQL of [`GrantStore`](crate::store::GrantStore), for both databases.

macro_rules! sql_grants {
    ($store:ty, $db:ty, $row:ty) => {
        /// A login session that still counts: complete, not past its end, not idle. `?1` is
        /// now, `?2` the idle cut-off; `g` is the grant or code row.
        const LIVE_SESSION: &str = "EXISTS (SELECT 1 FROM sessions s WHERE s.id_hash = g.session_hash \
             AND s.stage = 'complete' AND s.expires_at > ?1 AND s.last_seen_at > ?2)";
        const GRANT_COLUMNS: &str = "g.id, g.client_id, g.user_id, g.session_hash, g.scope, g.auth_time, \
            (SELECT s.method FROM sessions s WHERE s.id_hash = g.session_hash) AS method";

        /// One rotation's statements inside a group (SQLite, see `group_commit.rs`, where
        /// sqlx runs the statements of one query in one call to the connection's thread): the
        /// old token used if it is live and unused, the next token, the session kept alive and
        /// the audit line each only where the one before happened (`changes()`, then the next
        /// token's presence), and last the grant as the caller needs it, marked with the
        /// rotation's `slot` in the group. The placeholders are plain `?`, bound in the order
        /// they appear across the statements (`run_group`): sqlx-sqlite numbers the unnamed ones
        /// on from the statement before, and stops binding a statement at a gap in `?N` numbering.
        fn rotation_statements(slot: usize) -> String {
            format!(
                "UPDATE oidc_refresh_tokens SET used_at = ? \
                 WHERE token_hash = ? AND used_at IS NULL AND EXISTS \
                   (SELECT 1 FROM oidc_grants g WHERE g.id = oidc_refresh_tokens.grant_id \
                    AND g.client_id = ? AND g.revoked_at IS NULL AND EXISTS \
                      (SELECT 1 FROM sessions s WHERE s.id_hash = g.session_hash \
                       AND s.stage = 'complete' AND s.expires_at > ? AND s.last_seen_at > ?)); \
                 INSERT INTO oidc_refresh_tokens (token_hash, grant_id, created_at) \
                   SELECT ?, grant_id, ? FROM oidc_refresh_tokens WHERE token_hash = ? AND changes() = 1; \
                 UPDATE sessions SET last_seen_at = ? WHERE id_hash = \
                   (SELECT g.session_hash FROM oidc_refresh_tokens n JOIN oidc_grants g ON g.id = n.grant_id \
                    WHERE n.token_hash = ?); \
                 INSERT INTO audit_log (at, event, outcome, org_id, user_id, username, client, detail) \
                   SELECT ?, ?, ?, u.org_id, u.id, u.username, ?, ? FROM oidc_refresh_tokens n \
                   JOIN oidc_grants g ON g.id = n.grant_id JOIN users u ON u.id = g.user_id \
                   WHERE n.token_hash = ?; \
                 SELECT {slot} AS slot, {GRANT_COLUMNS}, t.used_at, g.revoked_at, u.org_id AS audit_org, \
                   u.username AS audit_username, {PERSON_COLUMNS}, \
                   EXISTS (SELECT 1 FROM oidc_refresh_tokens n WHERE n.token_hash = ?) AS rotated \
                 FROM oidc_refresh_tokens t JOIN oidc_grants g ON g.id = t.grant_id \
                 JOIN users u ON u.id = g.user_id {PERSON_JOINS} WHERE t.token_hash = ? AND g.client_id = ?; "
            )
        }

        /// The person the next tokens describe, read with the rotation (`u` is the grant's user).
        const PERSON_COLUMNS: &str = "sub.subject AS person_subject, u.display_name AS person_name, \
            u.email AS person_email, u.disabled_at AS person_disabled, o.language AS person_language, \
            o.slug AS person_org_slug, o.name AS person_org_name";
        const PERSON_JOINS: &str = "JOIN organizations o ON o.id = u.org_id \
            LEFT JOIN oidc_subjects sub ON sub.user_id = u.id";

        /// The person of a rotation's row; `None` for a disabled account or one without `sub`.
        fn rotated_person(row: &$row) -> StoreResult<Option<Person>> {
            let subject: Option<String> = row.try_get("person_subject")?;
            let disabled: Option<i64> = row.try_get("person_disabled")?;
            let (Some(subject), None) = (subject, disabled) else {
                return Ok(None);
            };
            let language: String = row.try_get("person_language")?;
            let lang: crate::domain::lang::Lang = language
                .parse()
                .map_err(|e| StoreError::Corrupt(format!("{e}")))?;
            Ok(Some(Person {
                subject,
                username: row.try_get("audit_username")?,
                display_name: row.try_get("person_name")?,
                email: row.try_get("person_email")?,
                locale: lang.code(),
                org_id: row.try_get("audit_org")?,
                org_slug: row.try_get("person_org_slug")?,
                org_name: row.try_get("person_org_name")?,
            }))
        }

        fn grant_from_row(row: &$row) -> StoreResult<Grant> {
            Ok(Grant {
                id: row.try_get("id")?,
                client_id: row.try_get("client_id")?,
                user_id: row.try_get("user_id")?,
                session_hash: digest_of(row.try_get("session_hash")?, "grant session digest")?,
                scope: row.try_get("scope")?,
                auth_time: row.try_get("auth_time")?,
                method: LoginMethod::from_db(row.try_get::<Option<String>, _>("method")?.as_deref()),
            })
        }

        /// `audit` about `user`, with the organization and username it is searched by.
        async fn audit_about(
            tx: &mut Transaction<'_, $db>,
            audit: &AuditRecord,
            user: UserId,
        ) -> StoreResult<AuditRecord> {
            let row = sqlx::query(&<$store>::sql("SELECT org_id, username FROM users WHERE id = ?"))
                .bind(user)
                .fetch_one(&mut **tx)
                .await?;
            let username: String = row.try_get("username")?;
            Ok(audit.clone().user(row.try_get("org_id")?, user, &username))
        }

        impl $store {
            /// [`GrantStore::redeem_code`] on the relaxed writer (see `relaxed_writer`): a power
            /// cut may lose the last moment's redemptions and rotations, which the client
            /// then repeats or answers with a new login; never half of one.
            async fn redeem_code_on(
                &self,
                writer: &mut sqlx::pool::PoolConnection<$db>,
                redemption: &CodeRedemption<'_>,
                live: Liveness,
                audit: &AuditRecord,
            ) -> StoreResult<Redemption> {
                let CodeRedemption { code_hash, client_id, redirect_uri, challenge, grant_id, refresh_hash } =
                    redemption;
                let mut tx = begin_relaxed(writer).await?;
                // Used once: of two parallel redemptions (on any instance) one matches.
                let sql = format!(
                    "UPDATE oidc_codes SET used_at = ?1, grant_id = ?3 \
                     WHERE code_hash = ?4 AND client_id = ?5 AND used_at IS NULL AND expires_at > ?1 \
                       AND redirect_uri = ?6 AND code_challenge = ?7 \
                     RETURNING user_id, session_hash, redirect_uri, scope, nonce, code_challenge, auth_time, \
                       (SELECT s.method FROM sessions s WHERE s.id_hash = oidc_codes.session_hash) AS method, \
                       (SELECT COUNT(*) FROM oidc_codes g WHERE g.code_hash = ?4 AND {LIVE_SESSION}) AS live"
                );
                let row = sqlx::query(&<$store>::sql(&sql))
                    .bind(live.now)
                    .bind(live.idle_cutoff)
                    .bind(grant_id)
                    .bind(&code_hash.0[..])
                    .bind(client_id)
                    .bind(redirect_uri)
                    .bind(challenge)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(row) = row else {
                    // Presented again: what the first redemption issued is revoked
                    // (RFC 6749 §4.1.2, RFC 9700 §4.5).
                    let first = sqlx::query(&<$store>::sql(
                        "SELECT grant_id, user_id FROM oidc_codes WHERE code_hash = ? AND client_id = ? AND used_at IS NOT NULL",
                    ))
                    .bind(&code_hash.0[..])
                    .bind(client_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    return match first {
                        Some(first) => {
                            let grant: Option<String> = first.try_get("grant_id")?;
                            let user_id: UserId = first.try_get("user_id")?;
                            if let Some(grant) = grant {
                                sqlx::query(&<$store>::sql(
                                    "UPDATE oidc_grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                                ))
                                .bind(live.now)
                                .bind(grant)
                                .execute(&mut *tx)
                                .await?;
                            }
                            tx.commit().await?;
                            Ok(Redemption::Reused { user_id })
                        }
                        None => Ok(Redemption::Invalid),
                    };
                };
                let code = RedeemedCode {
                    user_id: row.try_get("user_id")?,
                    session_hash: digest_of(row.try_get("session_hash")?, "code session digest")?,
                    redirect_uri: row.try_get("redirect_uri")?,
                    scope: row.try_get("scope")?,
                    nonce: row.try_get("nonce")?,
                    code_challenge: row.try_get("code_challenge")?,
                    auth_time: row.try_get("auth_time")?,
                    method: LoginMethod::from_db(row.try_get::<Option<String>, _>("method")?.as_deref()),
                };
                if row.try_get::<i64, _>("live")? == 0 {
                    // The login session ended between the code and its redemption.
                    tx.commit().await?;
                    return Ok(Redemption::Invalid);
                }
                sqlx::query(&<$store>::sql(
                    "INSERT INTO oidc_grants (id, client_id, user_id, session_hash, scope, auth_time, created_at) \
                     VALUES (?, ?, ?, ?, ?, ?, ?)",
                ))
                .bind(grant_id)
                .bind(client_id)
                .bind(code.user_id)
                .bind(&code.session_hash.0[..])
                .bind(&code.scope)
                .bind(code.auth_time)
                .bind(live.now)
                .execute(&mut *tx)
                .await?;
                sqlx::query(&<$store>::sql(
                    "INSERT INTO oidc_refresh_tokens (token_hash, grant_id, created_at) VALUES (?, ?, ?)",
                ))
                .bind(&refresh_hash.0[..])
                .bind(grant_id)
                .bind(live.now)
                .execute(&mut *tx)
                .await?;
                let record = audit_about(&mut tx, audit, code.user_id).await?;
                commit_with_audit(tx, &record).await?;
                Ok(Redemption::Redeemed(code))
                        }
            /// [`GrantStore::refresh`] on the relaxed writer (see `relaxed_writer`): a power
            /// cut may lose the last moment's redemptions and rotations, which the client
            /// then repeats or answers with a new login; never half of one.
            async fn refresh_on(
                &self,
                writer: &mut sqlx::pool::PoolConnection<$db>,
                token_hash: &TokenHash,
                client_id: &str,
                next: &TokenHash,
                live: Liveness,
                audit: &AuditRecord,
            ) -> StoreResult<Refresh> {
                let mut tx = begin_relaxed(writer).await?;
                let sql = format!(
                    "UPDATE oidc_refresh_tokens SET used_at = ?1 \
                     WHERE token_hash = ?3 AND used_at IS NULL AND EXISTS \
                       (SELECT 1 FROM oidc_grants g WHERE g.id = oidc_refresh_tokens.grant_id \
                        AND g.client_id = ?4 AND g.revoked_at IS NULL AND {LIVE_SESSION}) \
                     RETURNING grant_id"
                );
                let rotated: Option<String> = sqlx::query_scalar(&<$store>::sql(&sql))
                    .bind(live.now)
                    .bind(live.idle_cutoff)
                    .bind(&token_hash.0[..])
                    .bind(client_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                // With the user's organization and username for the audit line: one read less.
                let sql = format!(
                    "SELECT {GRANT_COLUMNS}, t.used_at, g.revoked_at, u.org_id AS audit_org, \
                       u.username AS audit_username, {PERSON_COLUMNS} FROM oidc_refresh_tokens t \
                     JOIN oidc_grants g ON g.id = t.grant_id JOIN users u ON u.id = g.user_id {PERSON_JOINS} \
                     WHERE t.token_hash = ? AND g.client_id = ?"
                );
                let Some(row) = sqlx::query(&<$store>::sql(&sql))
                    .bind(&token_hash.0[..])
                    .bind(client_id)
                    .fetch_optional(&mut *tx)
                    .await?
                else {
                    return Ok(Refresh::Invalid);
                };
                let grant = grant_from_row(&row)?;
                if rotated.is_some() {
                    sqlx::query(&<$store>::sql(
                        "INSERT INTO oidc_refresh_tokens (token_hash, grant_id, created_at) VALUES (?, ?, ?)",
                    ))
                    .bind(&next.0[..])
                    .bind(&grant.id)
                    .bind(live.now)
                    .execute(&mut *tx)
                    .await?;
                    // The application is in use: its login session is too (as in Keycloak).
                    sqlx::query(&<$store>::sql("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?"))
                        .bind(live.now)
                        .bind(&grant.session_hash.0[..])
                        .execute(&mut *tx)
                        .await?;
                    let username: String = row.try_get("audit_username")?;
                    let record = audit.clone().user(row.try_get("audit_org")?, grant.user_id, &username);
                    commit_with_audit(tx, &record).await?;
                    return Ok(Refresh::Rotated(grant, rotated_person(&row)?));
                }
                let outcome = Self::not_rotated(&mut *tx, &row, grant, live).await?;
                tx.commit().await?;
                Ok(outcome)
            }

            /// [`GrantStore::refresh`] where rotations are committed in groups (SQLite, see
            /// `group_commit.rs`): queued, then either answered by a group another request runs,
            /// or run as the first of a group once this request holds the writer.
            async fn rotate_in_group(
                &self,
                queue: &std::sync::Arc<crate::store::sql::group_commit::RotationQueue<$row>>,
                rotation: crate::store::sql::group_commit::Rotation,
            ) -> StoreResult<Refresh> {
                let live = rotation.live;
                let audit = rotation.audit.clone();
                let (number, mut answer) = queue.push(rotation);
                let answered = loop {
                    tokio::select! {
                        // The answer first: a group that took this rotation answers it before
                        // it lets the writer go.
                        biased;
                        answered = &mut answer => break answered,
                        writer = relaxed_writer(self) => {
                            let group = queue.next_group();
                            if group.is_empty() {
                                continue;
                            }
                            let took_this = group.iter().any(|waiting| waiting.number == number);
                            // In a task of its own: the group is run and answered to the end even
                            // if this request is dropped meanwhile.
                            tokio::spawn(Self::run_group(writer?, group));
                            if took_this {
                                break (&mut answer).await;
                            }
                        }
                    }
                };
                let row = match answered {
                    Ok(Ok(row)) => row,
                    Ok(Err(failed)) => return Err(StoreError::InGroup(failed)),
                    Err(_) => return Err(StoreError::Database(sqlx::Error::WorkerCrashed)),
                };
                let Some(row) = row else {
                    return Ok(Refresh::Invalid);
                };
                let grant = grant_from_row(&row)?;
                if row.try_get::<bool, _>("rotated")? {
                    let username: String = row.try_get("audit_username")?;
                    let record = audit.user(row.try_get("audit_org")?, grant.user_id, &username);
                    trace_audit(&record);
                    return Ok(Refresh::Rotated(grant, rotated_person(&row)?));
                }
                // Outside the committed group: one statement, committing by itself.
                let mut writer = relaxed_writer(self).await?;
                Self::not_rotated(&mut *writer.conn, &row, grant, live).await
            }

            /// Runs `group` as one transaction on `writer` and answers each of its rotations,
            /// then lets the writer go. A failing statement leaves the transaction open: that
            /// connection is closed, never handed to the next write (SQLite rolls back at close).
            async fn run_group(mut writer: crate::store::sql::RelaxedWriter<$db>, group: Vec<crate::store::sql::group_commit::Waiting<$row>>) {
                use crate::store::sql::group_commit::{SIZES, group_query};
                static QUERIES: [std::sync::OnceLock<String>; SIZES] = [const { std::sync::OnceLock::new() }; SIZES];
                let size = group.len();
                // `next_group` makes groups of 1, 2, 4 … MOST_AT_ONCE only.
                assert!(size.is_power_of_two() && size.ilog2() < SIZES as u32, "a group of {size}");
                let sql = QUERIES[size.ilog2() as usize].get_or_init(|| group_query(size, rotation_statements));
                let mut query = sqlx::query(sql.as_str());
                for waiting in &group {
                    let crate::store::sql::group_commit::Rotation { old, next, client_id, live, audit } = &waiting.rotation;
                    let (old, next) = (&old.0[..], &next.0[..]);
                    query = query
                        // The used mark, on a live grant of this client.
                        .bind(live.now).bind(old).bind(client_id.as_str()).bind(live.now).bind(live.idle_cutoff)
                        // The next token.
                        .bind(next).bind(live.now).bind(old)
                        // The session kept alive.
                        .bind(live.now).bind(next)
                        // The audit line.
                        .bind(live.now).bind(audit.event.as_str()).bind(audit.outcome.as_str())
                        .bind(audit.client.as_deref()).bind(audit.detail.as_deref()).bind(next)
                        // The grant.
                        .bind(next).bind(old).bind(client_id.as_str());
                }
                let mut unfinished = crate::store::sql::batch::Unfinished::new(&mut writer.conn);
                // `fetch_all`: every statement up to the COMMIT must run.
                match query.fetch_all(unfinished.conn()).await {
                    Ok(rows) => {
                        unfinished.finish();
                        let mut answers: Vec<Option<$row>> = group.iter().map(|_| None).collect();
                        for row in rows {
                            if let Ok(slot) = row.try_get::<i64, _>("slot")
                                && let Some(answer) = usize::try_from(slot).ok().and_then(|s| answers.get_mut(s))
                            {
                                *answer = Some(row);
                            }
                        }
                        for (waiting, answer) in group.into_iter().zip(answers) {
                            let _ = waiting.reply.send(Ok(answer));
                        }
                    }
                    Err(failed) => {
                        drop(unfinished);
                        let failed = std::sync::Arc::new(failed);
                        for waiting in group {
                            let _ = waiting.reply.send(Err(failed.clone()));
                        }
                    }
                }
                drop(writer);
            }

            /// A refresh token that was not rotated: used before (the whole family is revoked,
            /// RFC 9700 §4.14.2), or revoked, or its session ended.
            async fn not_rotated(
                conn: &mut <$db as sqlx::Database>::Connection,
                row: &$row,
                grant: Grant,
                live: Liveness,
            ) -> StoreResult<Refresh> {
                let used: Option<i64> = row.try_get("used_at")?;
                let revoked: Option<i64> = row.try_get("revoked_at")?;
                if used.is_some() && revoked.is_none() {
                    // A used token again: stolen, or its rotation lost. Either way the whole
                    // family goes (revoking twice changes nothing).
                    sqlx::query(&<$store>::sql(
                        "UPDATE oidc_grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                    ))
                    .bind(live.now)
                    .bind(&grant.id)
                    .execute(&mut *conn)
                    .await?;
                    return Ok(Refresh::Reused(grant));
                }
                Ok(Refresh::Invalid)
            }
        }

        #[async_trait]
        impl GrantStore for $store {
            async fn insert_code(&self, code: &NewCode<'_>, audit: &AuditRecord) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(&<$store>::sql(
                    "INSERT INTO oidc_codes (code_hash, client_id, user_id, session_hash, redirect_uri, \
                       scope, nonce, code_challenge, auth_time, expires_at) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ))
                .bind(&code.code_hash.0[..])
                .bind(code.client_id)
                .bind(code.user_id)
                .bind(&code.session_hash.0[..])
                .bind(code.redirect_uri)
                .bind(&code.scope)
                .bind(code.nonce)
                .bind(code.code_challenge)
                .bind(code.auth_time)
                .bind(code.expires_at)
                .execute(&mut *tx)
                .await?;
                commit_with_audit(tx, audit).await
            }

            async fn redeem_code(
                &self,
                redemption: &CodeRedemption<'_>,
                live: Liveness,
                audit: &AuditRecord,
            ) -> StoreResult<Redemption> {
                let mut writer = relaxed_writer(self).await?;
                let outcome = self.redeem_code_on(&mut writer.conn, redemption, live, audit).await;
                drop(writer);
                outcome
            }

            async fn refresh(
                &self,
                token_hash: &TokenHash,
                client_id: &str,
                next: &TokenHash,
                live: Liveness,
                audit: &AuditRecord,
            ) -> StoreResult<Refresh> {
                if let Some(queue) = self.rotation_queue() {
                    let rotation = crate::store::sql::group_commit::Rotation {
                        old: *token_hash,
                        next: *next,
                        client_id: client_id.to_owned(),
                        live,
                        audit: audit.clone(),
                    };
                    return self.rotate_in_group(queue, rotation).await;
                }
                let mut writer = relaxed_writer(self).await?;
                let outcome = self.refresh_on(&mut writer.conn, token_hash, client_id, next, live, audit).await;
                drop(writer);
                outcome
            }

            async fn live_grant(&self, id: &str, live: Liveness) -> StoreResult<Option<Grant>> {
                let sql = format!(
                    "SELECT {GRANT_COLUMNS} FROM oidc_grants g \
                     WHERE g.id = ?3 AND g.revoked_at IS NULL AND {LIVE_SESSION}"
                );
                let row = sqlx::query(&<$store>::sql(&sql))
                    .bind(live.now)
                    .bind(live.idle_cutoff)
                    .bind(id)
                    .fetch_optional(&self.readers)
                    .await?;
                row.as_ref().map(grant_from_row).transpose()
            }

            async fn live_grant_person(&self, id: &str, live: Liveness) -> StoreResult<Option<Person>> {
                let sql = format!(
                    "SELECT sub.subject, {USER_COLUMNS}, {ORG_COLUMNS} FROM oidc_grants g \
                     JOIN users u ON u.id = g.user_id JOIN organizations o ON o.id = u.org_id \
                     JOIN oidc_subjects sub ON sub.user_id = u.id \
                     WHERE g.id = ?3 AND g.revoked_at IS NULL AND {LIVE_SESSION} AND u.disabled_at IS NULL"
                );
                let row = sqlx::query(&<$store>::sql(&sql))
                    .bind(live.now)
                    .bind(live.idle_cutoff)
                    .bind(id)
                    .fetch_optional(&self.readers)
                    .await?;
                row.as_ref().map(person_from_row).transpose()
            }

            async fn grant_of_refresh_token(
                &self,
                token_hash: &TokenHash,
                client_id: &str,
                live: Liveness,
            ) -> StoreResult<Option<Grant>> {
                let sql = format!(
                    "SELECT {GRANT_COLUMNS} FROM oidc_refresh_tokens t JOIN oidc_grants g ON g.id = t.grant_id \
                     WHERE t.token_hash = ?3 AND g.client_id = ?4 AND t.used_at IS NULL \
                       AND g.revoked_at IS NULL AND {LIVE_SESSION}"
                );
                let row = sqlx::query(&<$store>::sql(&sql))
                    .bind(live.now)
                    .bind(live.idle_cutoff)
                    .bind(&token_hash.0[..])
                    .bind(client_id)
                    .fetch_optional(&self.readers)
                    .await?;
                row.as_ref().map(grant_from_row).transpose()
            }

            async fn revoke_grant(&self, id: &str, now: i64, audit: &AuditRecord) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let revoked = sqlx::query(&<$store>::sql(
                    "UPDATE oidc_grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                ))
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                commit_with_audit(tx, audit).await?;
                Ok(revoked > 0)
            }

            async fn queue_logouts(&self, live: Liveness) -> StoreResult<u64> {
                // Looked for on a reader first: most rounds find nothing, and then the one
                // writer is not held for the scan.
                let sql = format!(
                    "SELECT 1 FROM oidc_grants g WHERE g.ended_at IS NULL AND NOT {LIVE_SESSION} LIMIT 1"
                );
                let ended: Option<i32> = sqlx::query_scalar(&<$store>::sql(&sql))
                    .bind(live.now)
                    .bind(live.idle_cutoff)
                    .fetch_optional(&self.readers)
                    .await?;
                if ended.is_none() {
                    return Ok(0);
                }
                let mut tx = self.pool.begin().await?;
                let sql = format!(
                    "INSERT INTO oidc_logouts (client_id, session_hash, user_id, created_at, next_attempt_at) \
                     SELECT DISTINCT g.client_id, g.session_hash, g.user_id, ?1, ?1 FROM oidc_grants g \
                     JOIN oidc_clients c ON c.id = g.client_id \
                     WHERE g.ended_at IS NULL AND c.backchannel_logout_uri IS NOT NULL AND NOT {LIVE_SESSION} \
                     ON CONFLICT DO NOTHING"
                );
                let queued = sqlx::query(&<$store>::sql(&sql))
                    .bind(live.now)
                    .bind(live.idle_cutoff)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let sql = format!(
                    "UPDATE oidc_grants SET ended_at = ?1, revoked_at = COALESCE(revoked_at, ?1) \
                     WHERE id IN (SELECT g.id FROM oidc_grants g WHERE g.ended_at IS NULL AND NOT {LIVE_SESSION})"
                );
                sqlx::query(&<$store>::sql(&sql))
                    .bind(live.now)
                    .bind(live.idle_cutoff)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(queued)
            }

            async fn claim_logouts(
                &self,
                now: i64,
                lease_seconds: i64,
                limit: i64,
            ) -> StoreResult<Vec<PendingLogout>> {
                let sql = format!(
                    "UPDATE oidc_logouts SET lease_until = ?, attempts = attempts + 1 \
                     WHERE (client_id, session_hash) IN (SELECT client_id, session_hash FROM oidc_logouts \
                       WHERE next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?) \
                       ORDER BY created_at LIMIT ? {}) \
                     RETURNING client_id, session_hash, user_id, attempts",
                    <$store>::SKIP_LOCKED
                );
                let rows = sqlx::query(&<$store>::sql(&sql))
                    .bind(now + lease_seconds)
                    .bind(now)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                let mut claimed = Vec::with_capacity(rows.len());
                for row in &rows {
                    let client_id: String = row.try_get("client_id")?;
                    let user_id: UserId = row.try_get("user_id")?;
                    let details = sqlx::query(&<$store>::sql(
                        "SELECT c.backchannel_logout_uri, s.subject FROM oidc_clients c, oidc_subjects s \
                         WHERE c.id = ? AND s.user_id = ?",
                    ))
                    .bind(&client_id)
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await?;
                    let Some(details) = details else { continue };
                    let Some(uri) = details.try_get::<Option<String>, _>("backchannel_logout_uri")? else {
                        continue;
                    };
                    let attempts: i32 = row.try_get("attempts")?;
                    claimed.push(PendingLogout {
                        client_id,
                        uri,
                        session_hash: digest_of(row.try_get("session_hash")?, "logout session digest")?,
                        user_id,
                        subject: details.try_get("subject")?,
                        attempts: i64::from(attempts),
                    });
                }
                Ok(claimed)
            }

            async fn logout_delivered(
                &self,
                logout: &PendingLogout,
                audit: &AuditRecord,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(&<$store>::sql(
                    "DELETE FROM oidc_logouts WHERE client_id = ? AND session_hash = ?",
                ))
                .bind(&logout.client_id)
                .bind(&logout.session_hash.0[..])
                .execute(&mut *tx)
                .await?;
                commit_with_audit(tx, audit).await
            }

            async fn logout_failed(
                &self,
                logout: &PendingLogout,
                retry_at: i64,
                error: &str,
                audit: &AuditRecord,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(&<$store>::sql(
                    "UPDATE oidc_logouts SET next_attempt_at = ?, lease_until = NULL, last_error = ? \
                     WHERE client_id = ? AND session_hash = ?",
                ))
                .bind(retry_at)
                .bind(error)
                .bind(&logout.client_id)
                .bind(&logout.session_hash.0[..])
                .execute(&mut *tx)
                .await?;
                commit_with_audit(tx, audit).await
            }
        }
    };
}

pub(crate) use sql_grants;
