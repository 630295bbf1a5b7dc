//! Organizations, users, invitations and what login reads of them.
//! The SQL of [`AccountStore`](crate::store::AccountStore), for both databases.

macro_rules! sql_accounts {
    ($store:ty, $db:ty, $row:ty) => {
        /// Invites one user inside `tx` (see [`AccountStore::invite_user`]); the invitation
        /// remembers its mail, for the onboarding overview.
        async fn invite_in(
            tx: &mut Transaction<'_, $db>,
            invite: &NewInvitation,
            mail: &OutgoingMail,
        ) -> StoreResult<User> {
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
            .fetch_optional(&mut **tx)
            .await?;
            let Some(row) = upserted else {
                let existing = sqlx::query(&<$store>::sql("SELECT org_id, state FROM users WHERE username = ?"))
                    .bind(&invite.username)
                    .fetch_one(&mut **tx)
                    .await?;
                let same_org = existing.try_get::<i64, _>("org_id")? == invite.org_id;
                return Err(if same_org {
                    StoreError::AlreadyActive
                } else {
                    StoreError::Conflict("username")
                });
            };
            let user_id: i64 = row.try_get("id")?;
            let mail_id = insert_mail(tx, mail, invite.now).await?;
            sqlx::query(&<$store>::sql(
                "UPDATE invitations SET superseded_at = ? \
                 WHERE user_id = ? AND used_at IS NULL AND superseded_at IS NULL"),
            )
            .bind(invite.now)
            .bind(user_id)
            .execute(&mut **tx)
            .await?;
            sqlx::query(&<$store>::sql(
                "INSERT INTO invitations (user_id, token_hash, created_at, expires_at, mail_id) \
                 VALUES (?, ?, ?, ?, ?)"),
            )
            .bind(user_id)
            .bind(&invite.token_hash.0[..])
            .bind(invite.now)
            .bind(invite.expires_at)
            .bind(mail_id)
            .execute(&mut **tx)
            .await?;
            Ok(User {
                id: user_id,
                org_id: invite.org_id,
                username: invite.username.clone(),
                email: invite.email.clone(),
                display_name: invite.display_name.clone(),
                state: AccountState::Invited,
            })
        }

        #[async_trait]
        impl AccountStore for $store {
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
                        self_service: SelfService::default(),
                        passkeys: PasskeyPolicy::default(),
                        look: OrgLook::default(),
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
                let user = invite_in(&mut tx, invite, mail).await?;
                tx.commit().await?;
                Ok(user)
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
                    end_sessions_and_devices_of(&mut tx, user).await?;
                }
                commit_with_audit(tx, audit).await?;
                Ok(true)
            }

            async fn change_password(
                &self,
                user: UserId,
                password_hash: &str,
                session: &NewSession,
                notice: &OutgoingMail,
                audit: &AuditRecord,
            ) -> StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                let changed = sqlx::query(&<$store>::sql(
                    "UPDATE users SET password_hash = ? \
                     WHERE id = ? AND state = 'active' AND disabled_at IS NULL"),
                )
                .bind(password_hash)
                .bind(user)
                .execute(&mut *tx)
                .await?;
                if changed.rows_affected() == 0 {
                    return Err(StoreError::NotFound("active user"));
                }
                let ended = end_sessions_and_devices_of(&mut tx, user).await?;
                insert_session(&mut tx, session, None).await?;
                insert_mail(&mut tx, notice, audit.at).await?;
                commit_with_audit(tx, audit).await?;
                Ok(ended)
            }
        }
    };
}

pub(crate) use sql_accounts;
