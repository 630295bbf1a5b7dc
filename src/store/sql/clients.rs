//! OpenID Connect clients, signing keys, subjects and consent.
//! The SQL of [`ClientStore`](crate::store::ClientStore), for both databases.

macro_rules! sql_clients {
    ($store:ty, $db:ty, $row:ty) => {
        fn digest_of(bytes: Vec<u8>, what: &'static str) -> StoreResult<TokenHash> {
            Ok(TokenHash(bytes.try_into().map_err(|_| StoreError::Corrupt(what.into()))?))
        }

        fn lines(text: &str) -> Vec<String> {
            text.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect()
        }

        fn client_from_row(row: &$row, orgs: Vec<ClientOrg>) -> StoreResult<Client> {
            let alg: String = row.try_get("id_token_alg")?;
            let secret: Option<Vec<u8>> = row.try_get("secret_hash")?;
            Ok(Client {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                secret_hash: secret.map(|s| digest_of(s, "client secret digest")).transpose()?,
                redirect_uris: lines(&row.try_get::<String, _>("redirect_uris")?),
                post_logout_redirect_uris: lines(
                    &row.try_get::<String, _>("post_logout_redirect_uris")?,
                ),
                backchannel_logout_uri: row.try_get("backchannel_logout_uri")?,
                first_party: row.try_get("first_party")?,
                id_token_alg: alg.parse().map_err(StoreError::Corrupt)?,
                grant: row.try_get::<String, _>("grant_type")?.parse().map_err(StoreError::Corrupt)?,
                orgs,
                created_at: row.try_get("created_at")?,
            })
        }

        impl $store {
            async fn client_orgs(&self) -> StoreResult<Vec<(String, ClientOrg)>> {
                let rows = sqlx::query(
                    "SELECT co.client_id, o.id, o.slug FROM oidc_client_orgs co \
                     JOIN organizations o ON o.id = co.org_id ORDER BY o.slug",
                )
                .fetch_all(&self.readers)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok((
                            row.try_get("client_id")?,
                            ClientOrg { id: row.try_get("id")?, slug: row.try_get("slug")? },
                        ))
                    })
                    .collect()
            }
        }

        /// The person of a row with `sub.subject`, the user's and the organization's columns.
        fn person_from_row(row: &$row) -> StoreResult<Person> {
            let user = user_from_row(row)?;
            let org = org_from_row(row)?;
            Ok(Person {
                subject: row.try_get("subject")?,
                username: user.username,
                display_name: user.display_name,
                email: user.email,
                locale: org.lang.code(),
                org_id: org.id,
                org_slug: org.slug,
                org_name: org.name,
            })
        }

        #[async_trait]
        impl ClientStore for $store {
            async fn create_client(&self, client: &Client, audit: &AuditRecord) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(&<$store>::sql(
                    "INSERT INTO oidc_clients (id, name, secret_hash, redirect_uris, \
                       post_logout_redirect_uris, backchannel_logout_uri, first_party, id_token_alg, grant_type, \
                       created_at) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ))
                .bind(&client.id)
                .bind(&client.name)
                .bind(client.secret_hash.as_ref().map(|h| h.0.to_vec()))
                .bind(client.redirect_uris.join("\n"))
                .bind(client.post_logout_redirect_uris.join("\n"))
                .bind(client.backchannel_logout_uri.as_deref())
                .bind(client.first_party)
                .bind(client.id_token_alg.as_str())
                .bind(client.grant.as_str())
                .bind(client.created_at)
                .execute(&mut *tx)
                .await
                .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("client") } else { e.into() })?;
                for org in &client.orgs {
                    sqlx::query(&<$store>::sql(
                        "INSERT INTO oidc_client_orgs (client_id, org_id) VALUES (?, ?)",
                    ))
                    .bind(&client.id)
                    .bind(org.id)
                    .execute(&mut *tx)
                    .await?;
                }
                commit_with_audit(tx, audit).await
            }

            async fn client(&self, id: &str) -> StoreResult<Option<Client>> {
                let Some(row) = sqlx::query(&<$store>::sql("SELECT * FROM oidc_clients WHERE id = ?"))
                    .bind(id)
                    .fetch_optional(&self.readers)
                    .await?
                else {
                    return Ok(None);
                };
                let rows = sqlx::query(&<$store>::sql(
                    "SELECT o.id, o.slug FROM oidc_client_orgs co JOIN organizations o ON o.id = co.org_id \
                     WHERE co.client_id = ? ORDER BY o.slug",
                ))
                .bind(id)
                .fetch_all(&self.readers)
                .await?;
                let orgs = rows
                    .iter()
                    .map(|r| Ok(ClientOrg { id: r.try_get("id")?, slug: r.try_get("slug")? }))
                    .collect::<StoreResult<Vec<_>>>()?;
                Ok(Some(client_from_row(&row, orgs)?))
            }

            async fn clients(&self) -> StoreResult<Vec<Client>> {
                let orgs = self.client_orgs().await?;
                let rows = sqlx::query("SELECT * FROM oidc_clients ORDER BY created_at, id")
                    .fetch_all(&self.readers)
                    .await?;
                rows.iter()
                    .map(|row| {
                        let id: String = row.try_get("id")?;
                        let mine = orgs.iter().filter(|(c, _)| *c == id).map(|(_, o)| o.clone()).collect();
                        client_from_row(row, mine)
                    })
                    .collect()
            }

            async fn set_client_secret(
                &self,
                id: &str,
                secret_hash: &TokenHash,
                audit: &AuditRecord,
            ) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let changed = sqlx::query(&<$store>::sql(
                    "UPDATE oidc_clients SET secret_hash = ? WHERE id = ? AND secret_hash IS NOT NULL",
                ))
                .bind(&secret_hash.0[..])
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if changed == 0 {
                    return Ok(false);
                }
                commit_with_audit(tx, audit).await?;
                Ok(true)
            }

            async fn remove_client(&self, id: &str, audit: &AuditRecord) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let removed = sqlx::query(&<$store>::sql("DELETE FROM oidc_clients WHERE id = ?"))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if removed == 0 {
                    return Ok(false);
                }
                commit_with_audit(tx, audit).await?;
                Ok(true)
            }

            async fn signing_keys(&self) -> StoreResult<Vec<StoredKey>> {
                let rows = sqlx::query("SELECT * FROM oidc_signing_keys ORDER BY signs_from, kid")
                    .fetch_all(&self.readers)
                    .await?;
                rows.iter()
                    .map(|row| {
                        let alg: String = row.try_get("alg")?;
                        let version: i32 = row.try_get("key_version")?;
                        Ok(StoredKey {
                            kid: row.try_get("kid")?,
                            alg: alg.parse().map_err(StoreError::Corrupt)?,
                            sealed: Sealed {
                                key_version: u8::try_from(version)
                                    .map_err(|_| StoreError::Corrupt("key version".into()))?,
                                blob: row.try_get("sealed")?,
                            },
                            public_jwk: row.try_get("public_jwk")?,
                            created_at: row.try_get("created_at")?,
                            signs_from: row.try_get("signs_from")?,
                            published_until: row.try_get("published_until")?,
                        })
                    })
                    .collect()
            }

            async fn add_signing_key(
                &self,
                key: &StoredKey,
                retire_until: Option<i64>,
                audit: Option<&AuditRecord>,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                if let Some(until) = retire_until {
                    sqlx::query(&<$store>::sql(
                        "UPDATE oidc_signing_keys SET published_until = ? \
                         WHERE alg = ? AND published_until IS NULL",
                    ))
                    .bind(until)
                    .bind(key.alg.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query(&<$store>::sql(
                    "INSERT INTO oidc_signing_keys (kid, alg, key_version, sealed, public_jwk, created_at, \
                       signs_from, published_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                ))
                .bind(&key.kid)
                .bind(key.alg.as_str())
                .bind(i32::from(key.sealed.key_version))
                .bind(&key.sealed.blob)
                .bind(&key.public_jwk)
                .bind(key.created_at)
                .bind(key.signs_from)
                .bind(key.published_until)
                .execute(&mut *tx)
                .await?;
                match audit {
                    Some(audit) => commit_with_audit(tx, audit).await,
                    None => Ok(tx.commit().await?),
                }
            }

            async fn add_first_signing_key(&self, key: &StoredKey) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                if let Some(lock) = <$store>::LOCK_SIGNING_KEYS {
                    sqlx::query(lock).execute(&mut *tx).await?;
                }
                let added = sqlx::query(&<$store>::sql(
                    "INSERT INTO oidc_signing_keys (kid, alg, key_version, sealed, public_jwk, created_at, \
                       signs_from, published_until) SELECT ?, ?, ?, ?, ?, ?, ?, ? \
                     WHERE NOT EXISTS (SELECT 1 FROM oidc_signing_keys WHERE alg = ? AND signs_from <= ?)",
                ))
                .bind(&key.kid)
                .bind(key.alg.as_str())
                .bind(i32::from(key.sealed.key_version))
                .bind(&key.sealed.blob)
                .bind(&key.public_jwk)
                .bind(key.created_at)
                .bind(key.signs_from)
                .bind(key.published_until)
                .bind(key.alg.as_str())
                .bind(key.signs_from)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                tx.commit().await?;
                Ok(added > 0)
            }

            async fn subject_of(&self, user: UserId, candidate: &str) -> StoreResult<String> {
                sqlx::query(&<$store>::sql(
                    "INSERT INTO oidc_subjects (user_id, subject) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING",
                ))
                .bind(user)
                .bind(candidate)
                .execute(&self.pool)
                .await?;
                Ok(sqlx::query_scalar(&<$store>::sql("SELECT subject FROM oidc_subjects WHERE user_id = ?"))
                    .bind(user)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn person(&self, user: UserId) -> StoreResult<Option<Person>> {
                let sql = format!(
                    "SELECT sub.subject, {USER_COLUMNS}, {ORG_COLUMNS} FROM users u \
                     JOIN organizations o ON o.id = u.org_id \
                     JOIN oidc_subjects sub ON sub.user_id = u.id \
                     WHERE u.id = ? AND u.disabled_at IS NULL"
                );
                let row = sqlx::query(&<$store>::sql(&sql))
                    .bind(user)
                    .fetch_optional(&self.readers)
                    .await?;
                row.as_ref().map(person_from_row).transpose()
            }

            async fn consent(&self, user: UserId, client_id: &str) -> StoreResult<Option<String>> {
                Ok(sqlx::query_scalar(&<$store>::sql(
                    "SELECT scope FROM oidc_consents WHERE user_id = ? AND client_id = ?",
                ))
                .bind(user)
                .bind(client_id)
                .fetch_optional(&self.readers)
                .await?)
            }

            async fn give_consent(
                &self,
                user: UserId,
                client_id: &str,
                scope: &str,
                now: i64,
                audit: &AuditRecord,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(&<$store>::sql(
                    "INSERT INTO oidc_consents (user_id, client_id, scope, granted_at) VALUES (?, ?, ?, ?) \
                     ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, \
                       granted_at = excluded.granted_at",
                ))
                .bind(user)
                .bind(client_id)
                .bind(scope)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                commit_with_audit(tx, audit).await
            }

            async fn withdraw_consent(
                &self,
                user: UserId,
                client_id: &str,
                now: i64,
                audit: &AuditRecord,
            ) -> StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let removed = sqlx::query(&<$store>::sql(
                    "DELETE FROM oidc_consents WHERE user_id = ? AND client_id = ?",
                ))
                .bind(user)
                .bind(client_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if removed == 0 {
                    return Ok(false);
                }
                sqlx::query(&<$store>::sql(
                    "UPDATE oidc_grants SET revoked_at = ? WHERE user_id = ? AND client_id = ? AND revoked_at IS NULL",
                ))
                .bind(now)
                .bind(user)
                .bind(client_id)
                .execute(&mut *tx)
                .await?;
                commit_with_audit(tx, audit).await?;
                Ok(true)
            }

            async fn consents_of_user(&self, user: UserId) -> StoreResult<Vec<Consent>> {
                let rows = sqlx::query(&<$store>::sql(
                    "SELECT c.client_id, k.name, c.scope, c.granted_at FROM oidc_consents c \
                     JOIN oidc_clients k ON k.id = c.client_id WHERE c.user_id = ? ORDER BY k.name",
                ))
                .bind(user)
                .fetch_all(&self.readers)
                .await?;
                rows.iter()
                    .map(|row| {
                        Ok(Consent {
                            client_id: row.try_get("client_id")?,
                            client_name: row.try_get("name")?,
                            scope: row.try_get("scope")?,
                            granted_at: row.try_get("granted_at")?,
                        })
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use sql_clients;
