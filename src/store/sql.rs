//! One implementation of [`Store`](super::Store) in SQL, compiled once per database.
//!
//! The queries are written once, with `?` placeholders, in SQL that SQLite and PostgreSQL
//! both run; each store type supplies its dialect (`sql()` rewrites placeholders where
//! needed, `SKIP_LOCKED`, `LOCK_USER`). A macro rather than generic code, because sqlx's
//! trait bounds for "any database that can encode and decode these types" would be longer
//! than the code itself; the macro instantiates the same text for two concrete types.

macro_rules! sql_store {
    ($store:ty, $db:ty, $row:ty) => {
        const ORG_COLUMNS: &str = "o.id AS org_id, o.slug, o.name AS org_name, o.language, o.min_length, \
            o.max_length, o.require_lowercase, o.require_uppercase, o.require_digit, o.require_symbol";
        const USER_COLUMNS: &str =
            "u.id AS user_id, u.org_id AS user_org_id, u.username, u.email, u.display_name, u.state, \
             u.disabled_at";

        fn org_from_row(row: &$row) -> StoreResult<Organization> {
            let lang: String = row.try_get("language")?;
            let classes = CharacterClasses {
                lowercase: row.try_get("require_lowercase")?,
                uppercase: row.try_get("require_uppercase")?,
                digit: row.try_get("require_digit")?,
                symbol: row.try_get("require_symbol")?,
            };
            let policy = PasswordPolicy::new(
                u16::try_from(row.try_get::<i32, _>("min_length")?).unwrap_or(0),
                u16::try_from(row.try_get::<i32, _>("max_length")?).unwrap_or(0),
                classes,
            )
            .map_err(|e| StoreError::Corrupt(format!("password policy: {e}")))?;
            Ok(Organization {
                id: row.try_get("org_id")?,
                slug: row.try_get("slug")?,
                name: row.try_get("org_name")?,
                lang: lang
                    .parse()
                    .map_err(|e| StoreError::Corrupt(format!("{e}")))?,
                policy,
            })
        }

        fn user_from_row(row: &$row) -> StoreResult<User> {
            let state: String = row.try_get("state")?;
            let disabled = row.try_get::<Option<i64>, _>("disabled_at")?.is_some();
            Ok(User {
                id: row.try_get("user_id")?,
                org_id: row.try_get("user_org_id")?,
                username: row.try_get("username")?,
                email: row.try_get("email")?,
                display_name: row.try_get("display_name")?,
                state: if disabled {
                    AccountState::Disabled
                } else {
                    AccountState::from_db(&state)
                        .ok_or_else(|| StoreError::Corrupt(format!("account state {state:?}")))?
                },
            })
        }

        fn is_unique_violation(error: &sqlx::Error) -> bool {
            matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
        }

        async fn insert_mail(
            tx: &mut Transaction<'_, $db>,
            mail: &OutgoingMail,
            now: i64,
        ) -> StoreResult<()> {
            sqlx::query(&<$store>::sql(
                "INSERT INTO outbox (sender, recipient, message, created_at, next_attempt_at, discard_after) \
                 VALUES (?, ?, ?, ?, ?, ?)"),
            )
            .bind(&mail.sender)
            .bind(&mail.recipient)
            .bind(&mail.message)
            .bind(now)
            .bind(now)
            .bind(mail.discard_after)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        async fn insert_audit(tx: &mut Transaction<'_, $db>, record: &AuditRecord) -> StoreResult<()> {
            sqlx::query(&<$store>::sql(
                "INSERT INTO audit_log (at, event, outcome, org_id, user_id, username, client, detail) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
            )
            .bind(record.at)
            .bind(record.event.as_str())
            .bind(record.outcome.as_str())
            .bind(record.org_id)
            .bind(record.user_id)
            .bind(record.username.as_deref())
            .bind(record.client.as_deref())
            .bind(record.detail)
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        /// The upsert that counts one attempt against a subject unless it is waiting. The
        /// failure number restarts at 1 when the subject was quiet long enough; the wait that
        /// follows a failure is looked up from the policy's schedule in the same statement.
        fn reserve_sql(policy: &ThrottlePolicy) -> String {
            let number = format!(
                "(CASE WHEN throttle.blocked_until + {} <= ?2 THEN 1 ELSE throttle.failures + 1 END)",
                policy.forget_after_seconds
            );
            // Steps from the last down: the first that the number has reached gives the wait.
            let mut wait = String::from("(CASE");
            for (from, seconds) in policy.schedule().iter().rev() {
                wait.push_str(&format!(" WHEN {number} >= {from} THEN {seconds}"));
            }
            wait.push_str(" ELSE 0 END)");
            format!(
                "INSERT INTO throttle (subject, failures, blocked_until, updated_at) \
                 VALUES (?1, 1, ?2 + {first}, ?2) \
                 ON CONFLICT (subject) DO UPDATE SET failures = {number}, \
                   blocked_until = ?2 + {wait}, updated_at = ?2 \
                 WHERE throttle.blocked_until <= ?2 \
                 RETURNING failures",
                first = policy.wait_after(1),
            )
        }

        #[async_trait]
        impl Store for $store {
            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.readers).await?;
                Ok(())
            }

            async fn create_organization(&self, org: &NewOrganization) -> StoreResult<Organization> {
                let classes = org.policy.classes();
                let result = sqlx::query(&<$store>::sql(
                    "INSERT INTO organizations (slug, name, language, min_length, max_length, \
                     require_lowercase, require_uppercase, require_digit, require_symbol, created_at) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"),
                )
                .bind(&org.slug)
                .bind(&org.name)
                .bind(org.lang.code())
                .bind(i32::from(org.policy.min_length()))
                .bind(i32::from(org.policy.max_length()))
                .bind(classes.lowercase)
                .bind(classes.uppercase)
                .bind(classes.digit)
                .bind(classes.symbol)
                .bind(org.now)
                .fetch_one(&self.pool)
                .await;
                match result {
                    Ok(row) => Ok(Organization {
                        id: row.try_get("id")?,
                        slug: org.slug.clone(),
                        name: org.name.clone(),
                        lang: org.lang,
                        policy: org.policy,
                    }),
                    Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict("organization")),
                    Err(e) => Err(e.into()),
                }
            }

            async fn organization_by_slug(&self, slug: &str) -> StoreResult<Option<Organization>> {
                let sql = format!("SELECT {ORG_COLUMNS} FROM organizations o WHERE o.slug = ?");
                let row = sqlx::query(&<$store>::sql(&sql))
                    .bind(slug)
                    .fetch_optional(&self.readers)
                    .await?;
                row.as_ref().map(org_from_row).transpose()
            }

            async fn set_policy(&self, org: OrgId, policy: &PasswordPolicy) -> StoreResult<()> {
                let classes = policy.classes();
                let done = sqlx::query(&<$store>::sql(
                    "UPDATE organizations SET min_length = ?, max_length = ?, require_lowercase = ?, \
                     require_uppercase = ?, require_digit = ?, require_symbol = ? WHERE id = ?"),
                )
                .bind(i32::from(policy.min_length()))
                .bind(i32::from(policy.max_length()))
                .bind(classes.lowercase)
                .bind(classes.uppercase)
                .bind(classes.digit)
                .bind(classes.symbol)
                .bind(org)
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound("organization"));
                }
                Ok(())
            }

            async fn invite_user(&self, invite: &NewInvitation, mail: &OutgoingMail) -> StoreResult<User> {
                let mut tx = self.pool.begin().await?;
                // Insert, or refresh a still-invited account of the same organization. An active
                // account or one of another organization keeps its row untouched (WHERE fails).
                let upserted = sqlx::query(&<$store>::sql(
                    "INSERT INTO users (org_id, username, email, display_name, state, created_at) \
                     VALUES (?, ?, ?, ?, 'invited', ?) \
                     ON CONFLICT (username) DO UPDATE SET email = excluded.email, \
                       display_name = excluded.display_name \
                     WHERE users.state = 'invited' AND users.org_id = excluded.org_id \
                       AND users.disabled_at IS NULL \
                     RETURNING id"),
                )
                .bind(invite.org_id)
                .bind(&invite.username)
                .bind(&invite.email)
                .bind(&invite.display_name)
                .bind(invite.now)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = upserted else {
                    let existing = sqlx::query(&<$store>::sql("SELECT org_id, state FROM users WHERE username = ?"))
                        .bind(&invite.username)
                        .fetch_one(&mut *tx)
                        .await?;
                    let same_org = existing.try_get::<i64, _>("org_id")? == invite.org_id;
                    return Err(if same_org {
                        StoreError::AlreadyActive
                    } else {
                        StoreError::Conflict("username")
                    });
                };
                let user_id: i64 = row.try_get("id")?;
                sqlx::query(&<$store>::sql(
                    "UPDATE invitations SET superseded_at = ? \
                     WHERE user_id = ? AND used_at IS NULL AND superseded_at IS NULL"),
                )
                .bind(invite.now)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                sqlx::query(&<$store>::sql(
                    "INSERT INTO invitations (user_id, token_hash, created_at, expires_at) \
                     VALUES (?, ?, ?, ?)"),
                )
                .bind(user_id)
                .bind(&invite.token_hash.0[..])
                .bind(invite.now)
                .bind(invite.expires_at)
                .execute(&mut *tx)
                .await?;
                insert_mail(&mut tx, mail, invite.now).await?;
                tx.commit().await?;
                Ok(User {
                    id: user_id,
                    org_id: invite.org_id,
                    username: invite.username.clone(),
                    email: invite.email.clone(),
                    display_name: invite.display_name.clone(),
                    state: AccountState::Invited,
                })
            }

            async fn users_of_organization(&self, org: OrgId) -> StoreResult<Vec<User>> {
                let sql =
                    format!("SELECT {USER_COLUMNS} FROM users u WHERE u.org_id = ? ORDER BY u.username");
                let rows = sqlx::query(&<$store>::sql(&sql)).bind(org).fetch_all(&self.readers).await?;
                rows.iter().map(user_from_row).collect()
            }

            async fn invitation(&self, token: &TokenHash) -> StoreResult<Option<Invitation>> {
                let sql = format!(
                    "SELECT i.expires_at, i.used_at, i.superseded_at, {USER_COLUMNS}, {ORG_COLUMNS} \
                     FROM invitations i JOIN users u ON u.id = i.user_id \
                     JOIN organizations o ON o.id = u.org_id WHERE i.token_hash = ?"
                );
                let Some(row) = sqlx::query(&<$store>::sql(&sql))
                    .bind(&token.0[..])
                    .fetch_optional(&self.readers)
                    .await?
                else {
                    return Ok(None);
                };
                Ok(Some(Invitation {
                    record: InvitationRecord {
                        expires_at: row.try_get("expires_at")?,
                        used_at: row.try_get("used_at")?,
                        superseded_at: row.try_get("superseded_at")?,
                    },
                    user: user_from_row(&row)?,
                    org: org_from_row(&row)?,
                }))
            }

            async fn activate(
                &self,
                token: &TokenHash,
                password_hash: &str,
                now: i64,
            ) -> StoreResult<Option<UserId>> {
                let mut tx = self.pool.begin().await?;
                // The conditional UPDATE is the single point of decision: of two parallel uses only
                // one finds the row still unused.
                let claimed = sqlx::query(&<$store>::sql(
                    "UPDATE invitations SET used_at = ? \
                     WHERE token_hash = ? AND used_at IS NULL AND superseded_at IS NULL AND expires_at > ? \
                     RETURNING user_id"),
                )
                .bind(now)
                .bind(&token.0[..])
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = claimed else {
                    return Ok(None);
                };
                let user_id: i64 = row.try_get("user_id")?;
                let updated = sqlx::query(&<$store>::sql(
                    "UPDATE users SET password_hash = ?, state = 'active', activated_at = ? \
                     WHERE id = ? AND state = 'invited' AND disabled_at IS NULL"),
                )
                .bind(password_hash)
                .bind(now)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                if updated.rows_affected() == 0 {
                    return Ok(None);
                }
                tx.commit().await?;
                Ok(Some(user_id))
            }

            async fn login_candidate(&self, username: &str) -> StoreResult<Option<LoginCandidate>> {
                let sql = format!(
                    "SELECT {USER_COLUMNS}, u.password_hash, o.language FROM users u \
                     JOIN organizations o ON o.id = u.org_id WHERE u.username = ?"
                );
                let row = sqlx::query(&<$store>::sql(&sql))
                    .bind(username)
                    .fetch_optional(&self.readers)
                    .await?;
                row.map(|row| {
                    let lang: String = row.try_get("language")?;
                    Ok(LoginCandidate {
                        user: user_from_row(&row)?,
                        password_hash: row.try_get("password_hash")?,
                        lang: lang.parse().map_err(|e| StoreError::Corrupt(format!("{e}")))?,
                    })
                })
                .transpose()
            }

            async fn create_session(
                &self,
                session: &NewSession,
                replacing: Option<&TokenHash>,
            ) -> StoreResult<()> {
                // One transaction (one disk flush) for "end the old, start the new".
                let mut tx = self.pool.begin().await?;
                if let Some(old) = replacing {
                    sqlx::query(&<$store>::sql("DELETE FROM sessions WHERE id_hash = ?"))
                        .bind(&old.0[..])
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query(&<$store>::sql(
                    "INSERT INTO sessions (id_hash, user_id, stage, created_at, last_seen_at, expires_at) \
                     VALUES (?, ?, ?, ?, ?, ?)"),
                )
                .bind(&session.id_hash.0[..])
                .bind(session.user_id)
                .bind(session.stage.as_str())
                .bind(session.now)
                .bind(session.now)
                .bind(session.expires_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn session(&self, id: &TokenHash) -> StoreResult<Option<Session>> {
                let sql = format!(
                    "SELECT s.stage, s.last_seen_at, s.expires_at, {USER_COLUMNS}, {ORG_COLUMNS} \
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
                    last_seen_at: row.try_get("last_seen_at")?,
                    expires_at: row.try_get("expires_at")?,
                    user: user_from_row(&row)?,
                    org: org_from_row(&row)?,
                }))
            }

            async fn touch_session(&self, id: &TokenHash, now: i64) -> StoreResult<()> {
                sqlx::query(&<$store>::sql("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?"))
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

            async fn count_code_attempt(&self, session: &TokenHash) -> StoreResult<i64> {
                let count: Option<i64> = sqlx::query_scalar(&<$store>::sql(
                    "UPDATE sessions SET failed_codes = failed_codes + 1 WHERE id_hash = ? \
                     RETURNING failed_codes"),
                )
                .bind(&session.0[..])
                .fetch_optional(&self.pool)
                .await?;
                count.ok_or(StoreError::NotFound("session"))
            }

            async fn totp_credential(&self, user: UserId) -> StoreResult<Option<TotpCredential>> {
                let row = sqlx::query(&<$store>::sql(
                    "SELECT key_version, sealed, state, expires_at, last_step FROM totp_credentials \
                     WHERE user_id = ?"),
                )
                .bind(user)
                .fetch_optional(&self.readers)
                .await?;
                row.map(|row| {
                    let state: String = row.try_get("state")?;
                    Ok(TotpCredential {
                        sealed: Sealed {
                            key_version: u8::try_from(row.try_get::<i32, _>("key_version")?)
                                .map_err(|_| StoreError::Corrupt("key version".into()))?,
                            blob: row.try_get("sealed")?,
                        },
                        active: state == "active",
                        expires_at: row.try_get("expires_at")?,
                        last_step: row.try_get("last_step")?,
                    })
                })
                .transpose()
            }

            async fn start_totp_setup(
                &self,
                setup: &NewTotpSetup<'_>,
                limits: &[RateWindow],
            ) -> StoreResult<SetupOutcome> {
                let mut tx = self.pool.begin().await?;
                if let Some(lock) = <$store>::LOCK_USER {
                    // Where one statement is not serialised on its own, the user's row is the lock.
                    sqlx::query(&<$store>::sql(lock))
                        .bind(setup.user_id)
                        .execute(&mut *tx)
                        .await?;
                }
                // Check and record in one statement: two parallel requests cannot both pass.
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
                    .execute(&mut *tx)
                    .await?;
                if recorded.rows_affected() == 0 {
                    let longest = limits.iter().map(|w| w.seconds).max().unwrap_or(0);
                    let recent_sends = sqlx::query_scalar(&<$store>::sql(
                        "SELECT sent_at FROM totp_setup_mails WHERE user_id = ? AND sent_at > ?"),
                    )
                    .bind(setup.user_id)
                    .bind(setup.now - longest)
                    .fetch_all(&mut *tx)
                    .await?;
                    return Ok(SetupOutcome::RateLimited { recent_sends });
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
                activation_notice: Option<&OutgoingMail>,
                now: i64,
            ) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                // The single point of decision against replay: only a newer step updates the row.
                // The secret must still be the one the code was checked against ("Nieuwe code" in
                // parallel replaces it), and a pending one must not have expired.
                let condition = if activation_notice.is_some() {
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
                let updated = sqlx::query(&<$store>::sql(&sql))
                    .bind(step)
                    .bind(now)
                    .bind(user)
                    .bind(i32::from(sealed.key_version))
                    .bind(&sealed.blob)
                    .bind(step)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                if updated.rows_affected() == 0 {
                    return Ok(false);
                }
                if let Some(notice) = activation_notice {
                    insert_mail(&mut tx, notice, now).await?;
                }
                tx.commit().await?;
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
                sqlx::query(&<$store>::sql("DELETE FROM totp_setup_mails WHERE user_id = ?"))
                    .bind(user)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(&<$store>::sql("DELETE FROM sessions WHERE user_id = ?"))
                    .bind(user)
                    .execute(&mut *tx)
                    .await?;
                insert_mail(&mut tx, notice, now).await?;
                insert_audit(&mut tx, audit).await?;
                tx.commit().await?;
                trace_audit(audit);
                Ok(removed.rows_affected() > 0)
            }

            async fn reserve_attempt(
                &self,
                checks: &[ThrottleCheck<'_>],
                now: i64,
            ) -> StoreResult<Admission> {
                let mut tx = self.pool.begin().await?;
                let mut numbers = Vec::with_capacity(checks.len());
                for (index, check) in checks.iter().enumerate() {
                    let counted: Option<i64> = sqlx::query_scalar(&<$store>::sql(&reserve_sql(check.policy)))
                        .bind(&check.subject)
                        .bind(now)
                        .fetch_optional(&mut *tx)
                        .await?;
                    match counted {
                        Some(number) => numbers.push(number),
                        None => {
                            let until: i64 = sqlx::query_scalar(&<$store>::sql(
                                "SELECT blocked_until FROM throttle WHERE subject = ?"),
                            )
                            .bind(&check.subject)
                            .fetch_one(&mut *tx)
                            .await?;
                            // The subjects before this one keep their count: the attempt was
                            // made, against an account or from an address that is waiting.
                            tx.commit().await?;
                            return Ok(Admission::Blocked { index, until });
                        }
                    }
                }
                tx.commit().await?;
                Ok(Admission::Admitted(numbers))
            }

            async fn settle_attempt(&self, settlement: &Settlement<'_>) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                for (subject, number) in &settlement.release {
                    // The attempt was right: it gives its place back. The wait it set is lifted
                    // unless a later attempt has taken the count further meanwhile (and once
                    // no failure is left, whatever wait there was goes too).
                    sqlx::query(&<$store>::sql(
                        "UPDATE throttle SET failures = failures - 1, \
                           blocked_until = CASE WHEN failures = ?2 OR failures = 1 THEN ?3 \
                             ELSE blocked_until END \
                         WHERE subject = ?1 AND failures > 0"),
                    )
                    .bind(subject)
                    .bind(number)
                    .bind(settlement.now)
                    .execute(&mut *tx)
                    .await?;
                }
                for subject in &settlement.clear {
                    sqlx::query(&<$store>::sql("DELETE FROM throttle WHERE subject = ?"))
                        .bind(subject)
                        .execute(&mut *tx)
                        .await?;
                }
                for record in &settlement.audit {
                    insert_audit(&mut tx, record).await?;
                }
                if let Some(mail) = settlement.mail {
                    insert_mail(&mut tx, mail, settlement.now).await?;
                }
                tx.commit().await?;
                settlement.audit.iter().for_each(trace_audit);
                Ok(())
            }

            async fn record_audit(&self, records: &[AuditRecord]) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                for record in records {
                    insert_audit(&mut tx, record).await?;
                }
                tx.commit().await?;
                records.iter().for_each(trace_audit);
                Ok(())
            }

            async fn audit_entries(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
                let rows = sqlx::query(&<$store>::sql(
                    "SELECT a.at, a.event, a.outcome, o.slug, a.user_id, a.username, a.client, a.detail \
                     FROM audit_log a LEFT JOIN organizations o ON o.id = a.org_id \
                     WHERE (?1 IS NULL OR a.org_id = ?1) AND (?2 IS NULL OR a.user_id = ?2) \
                       AND a.at >= ?3 \
                     ORDER BY a.id DESC LIMIT ?4"),
                )
                .bind(filter.org)
                .bind(filter.user)
                .bind(filter.since.unwrap_or(i64::MIN))
                .bind(filter.limit)
                .fetch_all(&self.readers)
                .await?;
                let mut entries = rows
                    .iter()
                    .map(|row| {
                        let event: String = row.try_get("event")?;
                        let outcome: String = row.try_get("outcome")?;
                        Ok(AuditEntry {
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

            async fn user_summaries(&self, org: OrgId) -> StoreResult<Vec<UserSummary>> {
                let sql = format!(
                    "SELECT {USER_COLUMNS}, t.state AS two_step, th.failures, th.blocked_until \
                     FROM users u LEFT JOIN totp_credentials t ON t.user_id = u.id \
                     LEFT JOIN throttle th ON th.subject = 'account:' || u.username \
                     WHERE u.org_id = ? ORDER BY u.username"
                );
                let rows = sqlx::query(&<$store>::sql(&sql)).bind(org).fetch_all(&self.readers).await?;
                rows.iter()
                    .map(|row| {
                        let two_step: Option<String> = row.try_get("two_step")?;
                        Ok(UserSummary {
                            user: user_from_row(row)?,
                            two_step: two_step.map(|state| state == "active"),
                            failures: row.try_get::<Option<i64>, _>("failures")?.unwrap_or(0),
                            blocked_until: row.try_get::<Option<i64>, _>("blocked_until")?.unwrap_or(0),
                        })
                    })
                    .collect()
            }

            async fn set_disabled(
                &self,
                user: UserId,
                disabled: bool,
                audit: &AuditRecord,
            ) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let changed = if disabled {
                    sqlx::query(&<$store>::sql(
                        "UPDATE users SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL"),
                    )
                    .bind(audit.at)
                    .bind(user)
                    .execute(&mut *tx)
                    .await?
                } else {
                    sqlx::query(&<$store>::sql(
                        "UPDATE users SET disabled_at = NULL WHERE id = ? AND disabled_at IS NOT NULL"),
                    )
                    .bind(user)
                    .execute(&mut *tx)
                    .await?
                };
                if changed.rows_affected() == 0 {
                    return Ok(false);
                }
                if disabled {
                    sqlx::query(&<$store>::sql("DELETE FROM sessions WHERE user_id = ?"))
                        .bind(user)
                        .execute(&mut *tx)
                        .await?;
                }
                insert_audit(&mut tx, audit).await?;
                tx.commit().await?;
                trace_audit(audit);
                Ok(true)
            }

            async fn sessions_of_user(&self, user: UserId) -> StoreResult<Vec<SessionSummary>> {
                let rows = sqlx::query(&<$store>::sql(
                    "SELECT stage, created_at, last_seen_at, expires_at FROM sessions \
                     WHERE user_id = ? ORDER BY created_at"),
                )
                .bind(user)
                .fetch_all(&self.readers)
                .await?;
                rows.iter()
                    .map(|row| {
                        let stage: String = row.try_get("stage")?;
                        Ok(SessionSummary {
                            stage: LoginStage::from_db(&stage)
                                .ok_or_else(|| StoreError::Corrupt(format!("login stage {stage:?}")))?,
                            created_at: row.try_get("created_at")?,
                            last_seen_at: row.try_get("last_seen_at")?,
                            expires_at: row.try_get("expires_at")?,
                        })
                    })
                    .collect()
            }

            async fn end_sessions_of_user(&self, user: UserId, audit: &AuditRecord) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                let ended = sqlx::query(&<$store>::sql("DELETE FROM sessions WHERE user_id = ?"))
                    .bind(user)
                    .execute(&mut *tx)
                    .await?;
                insert_audit(&mut tx, audit).await?;
                tx.commit().await?;
                trace_audit(audit);
                Ok(ended.rows_affected())
            }

            async fn sweep(&self, now: i64, idle_seconds: i64, audit_since: i64) -> StoreResult<Swept> {
                let sessions = sqlx::query(&<$store>::sql(
                    "DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?"),
                )
                .bind(now)
                .bind(now - idle_seconds)
                .execute(&self.pool)
                .await?;
                // A day after its wait ended a subject starts again anyway (the longest
                // `forget_after` of the policies); its row is then only clutter.
                let throttle_rows = sqlx::query(&<$store>::sql("DELETE FROM throttle WHERE blocked_until <= ?"))
                    .bind(now - 24 * 60 * 60)
                    .execute(&self.pool)
                    .await?;
                sqlx::query(&<$store>::sql("DELETE FROM totp_setup_mails WHERE sent_at <= ?"))
                    .bind(now - 24 * 60 * 60)
                    .execute(&self.pool)
                    .await?;
                let audit_rows = sqlx::query(&<$store>::sql("DELETE FROM audit_log WHERE at < ?"))
                    .bind(audit_since)
                    .execute(&self.pool)
                    .await?;
                Ok(Swept {
                    sessions: sessions.rows_affected(),
                    throttle_rows: throttle_rows.rows_affected(),
                    audit_rows: audit_rows.rows_affected(),
                })
            }

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

            async fn mail_delivered(&self, id: i64) -> StoreResult<()> {
                sqlx::query(&<$store>::sql("DELETE FROM outbox WHERE id = ?"))
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
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

        fn dev_mail_from_row(row: &$row) -> StoreResult<DevMail> {
            Ok(DevMail {
                id: row.try_get("id")?,
                recipient: row.try_get("recipient")?,
                message: row.try_get("message")?,
                received_at: row.try_get("received_at")?,
            })
        }
    };
}

pub(crate) use sql_store;
