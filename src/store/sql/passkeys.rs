//! Passkeys and their ceremonies.
//! The SQL of [`PasskeyStore`](crate::store::PasskeyStore), for both databases.

macro_rules! sql_passkeys {
    ($store:ty, $db:ty, $row:ty) => {
        const PASSKEY_COLUMNS: &str =
            "id, user_id, name, credential, counter, backup_eligible, created_at, last_used_at";

        fn passkey_from_row(row: &$row) -> StoreResult<PasskeyRow> {
            Ok(PasskeyRow {
                id: row.try_get("id")?,
                user_id: row.try_get("user_id")?,
                name: row.try_get("name")?,
                credential: row.try_get("credential")?,
                counter: u32::try_from(row.try_get::<i64, _>("counter")?)
                    .map_err(|_| StoreError::Corrupt("passkey counter".into()))?,
                backup_eligible: row.try_get("backup_eligible")?,
                created_at: row.try_get("created_at")?,
                last_used_at: row.try_get("last_used_at")?,
            })
        }

        #[async_trait]
        impl PasskeyStore for $store {
            async fn passkey_handle(&self, user: UserId, fresh: [u8; 16]) -> StoreResult<[u8; 16]> {
                let read = |handle: Option<Vec<u8>>| handle.and_then(|h| <[u8; 16]>::try_from(h.as_slice()).ok());
                // Usually there is one already: a read, no write for every page view.
                let existing: Option<Option<Vec<u8>>> = sqlx::query_scalar(&<$store>::sql(
                    "SELECT passkey_handle FROM users WHERE id = ?",
                ))
                .bind(user)
                .fetch_optional(&self.readers)
                .await?;
                if let Some(handle) = read(existing.flatten()) {
                    return Ok(handle);
                }
                // Set once; of two first uses at once, both read the one that was stored.
                sqlx::query(&<$store>::sql(
                    "UPDATE users SET passkey_handle = ? WHERE id = ? AND passkey_handle IS NULL",
                ))
                .bind(&fresh[..])
                .bind(user)
                .execute(&self.pool)
                .await?;
                let handle: Option<Vec<u8>> = sqlx::query_scalar(&<$store>::sql(
                    "SELECT passkey_handle FROM users WHERE id = ?",
                ))
                .bind(user)
                .fetch_optional(&self.pool)
                .await?
                .flatten();
                read(handle).ok_or(StoreError::NotFound("user"))
            }

            async fn passkey_owner(&self, user: UserId) -> StoreResult<Option<(User, Organization)>> {
                let sql = format!(
                    "SELECT {USER_COLUMNS}, {ORG_COLUMNS} FROM users u \
                     JOIN organizations o ON o.id = u.org_id WHERE u.id = ?"
                );
                let row = sqlx::query(&<$store>::sql(&sql))
                    .bind(user)
                    .fetch_optional(&self.readers)
                    .await?;
                row.map(|row| Ok((user_from_row(&row)?, org_from_row(&row)?))).transpose()
            }

            async fn user_by_passkey_handle(&self, handle: &[u8]) -> StoreResult<Option<UserId>> {
                Ok(sqlx::query_scalar(&<$store>::sql(
                    "SELECT id FROM users WHERE passkey_handle = ?",
                ))
                .bind(handle)
                .fetch_optional(&self.readers)
                .await?)
            }

            async fn passkeys_of_user(&self, user: UserId) -> StoreResult<Vec<PasskeyRow>> {
                let sql = format!(
                    "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE user_id = ? ORDER BY created_at, id"
                );
                let rows = sqlx::query(&<$store>::sql(&sql))
                    .bind(user)
                    .fetch_all(&self.readers)
                    .await?;
                rows.iter().map(passkey_from_row).collect()
            }

            async fn passkey_by_credential_id(
                &self,
                credential_id: &[u8],
            ) -> StoreResult<Option<PasskeyRow>> {
                let sql = format!("SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE credential_id = ?");
                let row = sqlx::query(&<$store>::sql(&sql))
                    .bind(credential_id)
                    .fetch_optional(&self.readers)
                    .await?;
                row.as_ref().map(passkey_from_row).transpose()
            }

            async fn add_passkey(
                &self,
                passkey: &NewPasskey<'_>,
                notice: &OutgoingMail,
                audit: &AuditRecord,
            ) -> StoreResult<AddedPasskey> {
                let mut tx = self.pool.begin().await?;
                let inserted = sqlx::query(&<$store>::sql(
                    "INSERT INTO passkeys (user_id, credential_id, name, credential, counter, \
                       backup_eligible, backup_state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                ))
                .bind(passkey.user)
                .bind(passkey.credential_id)
                .bind(passkey.name)
                .bind(&passkey.credential)
                .bind(i64::from(passkey.counter))
                .bind(passkey.backup_eligible)
                .bind(passkey.backup_state)
                .bind(passkey.now)
                .execute(&mut *tx)
                .await;
                match inserted {
                    Ok(_) => {}
                    Err(e) if is_unique_violation(&e) => return Ok(AddedPasskey::AlreadyRegistered),
                    Err(e) => return Err(e.into()),
                }
                insert_mail(&mut tx, notice, passkey.now).await?;
                commit_with_audit(tx, audit).await?;
                Ok(AddedPasskey::Added)
            }

            async fn remove_passkey(
                &self,
                user: UserId,
                id: i64,
                notice: &OutgoingMail,
                audit: &AuditRecord,
            ) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let removed = sqlx::query(&<$store>::sql(
                    "DELETE FROM passkeys WHERE id = ? AND user_id = ?",
                ))
                .bind(id)
                .bind(user)
                .execute(&mut *tx)
                .await?;
                if removed.rows_affected() == 0 {
                    return Ok(false);
                }
                insert_mail(&mut tx, notice, audit.at).await?;
                commit_with_audit(tx, audit).await?;
                Ok(true)
            }

            async fn use_passkey(&self, used: &PasskeyUse, then: &Settlement<'_>) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let updated = sqlx::query(&<$store>::sql(
                    "UPDATE passkeys SET credential = ?, counter = ?, backup_eligible = ?, \
                       backup_state = ?, last_used_at = ? WHERE id = ? AND counter = ?",
                ))
                .bind(&used.credential)
                .bind(i64::from(used.counter))
                .bind(used.backup_eligible)
                .bind(used.backup_state)
                .bind(then.now)
                .bind(used.id)
                .bind(i64::from(used.previous_counter))
                .execute(&mut *tx)
                .await?;
                if updated.rows_affected() == 0 {
                    return Ok(false);
                }
                apply_settlement(&mut tx, then).await?;
                tx.commit().await?;
                then.audit.iter().for_each(trace_audit);
                Ok(true)
            }

            async fn save_ceremony(&self, ceremony: &NewCeremony<'_>) -> StoreResult<()> {
                sqlx::query(&<$store>::sql(
                    "INSERT INTO passkey_ceremonies (id_hash, purpose, user_id, state, expires_at) \
                     VALUES (?, ?, ?, ?, ?)",
                ))
                .bind(&ceremony.id.0[..])
                .bind(ceremony.purpose.as_str())
                .bind(ceremony.user)
                .bind(ceremony.state)
                .bind(ceremony.expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn take_ceremony(
                &self,
                id: &TokenHash,
                purpose: Purpose,
            ) -> StoreResult<Option<Ceremony>> {
                // One statement: of two answers to one challenge (on any instance), one gets it.
                let row = sqlx::query(&<$store>::sql(
                    "DELETE FROM passkey_ceremonies WHERE id_hash = ? AND purpose = ? \
                     RETURNING user_id, state, expires_at",
                ))
                .bind(&id.0[..])
                .bind(purpose.as_str())
                .fetch_optional(&self.pool)
                .await?;
                row.map(|row| {
                    Ok(Ceremony {
                        user: row.try_get("user_id")?,
                        state: row.try_get("state")?,
                        expires_at: row.try_get("expires_at")?,
                    })
                })
                .transpose()
            }

            async fn set_passkey_policy(&self, org: OrgId, policy: &PasskeyPolicy) -> StoreResult<()> {
                let done = sqlx::query(&<$store>::sql(
                    "UPDATE organizations SET passkey_login = ?, passkey_required_from = ? WHERE id = ?",
                ))
                .bind(policy.login)
                .bind(policy.required_from)
                .bind(org)
                .execute(&self.pool)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound("organization"));
                }
                Ok(())
            }
        }
    };
}

pub(crate) use sql_passkeys;
