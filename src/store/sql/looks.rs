//! The SQL of [`LookStore`](crate::store::LookStore), for both databases.

macro_rules! sql_looks {
    ($store:ty, $db:ty, $row:ty) => {
        fn look_from_row(row: &$row) -> StoreResult<OrgLook> {
            Ok(OrgLook {
                accent: row.try_get("accent")?,
                sender_name: row.try_get("sender_name")?,
                logo_hash: row.try_get("logo_hash")?,
            })
        }

        #[async_trait]
        impl LookStore for $store {
            async fn change_look(
                &self,
                org: OrgId,
                change: &LookChange,
                now: i64,
                audit: &AuditRecord,
            ) -> StoreResult<OrgLook> {
                let mut tx = self.pool.begin().await?;
                sqlx::query(&<$store>::sql(
                    "INSERT INTO org_looks (org_id, updated_at) VALUES (?, ?) \
                     ON CONFLICT (org_id) DO UPDATE SET updated_at = excluded.updated_at",
                ))
                .bind(org)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                if let Some(name) = &change.name {
                    sqlx::query(&<$store>::sql(
                        "UPDATE organizations SET name = ? WHERE id = ?",
                    ))
                    .bind(name)
                    .bind(org)
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some(accent) = &change.accent {
                    sqlx::query(&<$store>::sql(
                        "UPDATE org_looks SET accent = ? WHERE org_id = ?",
                    ))
                    .bind(accent.as_deref())
                    .bind(org)
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some(name) = &change.sender_name {
                    sqlx::query(&<$store>::sql(
                        "UPDATE org_looks SET sender_name = ? WHERE org_id = ?",
                    ))
                    .bind(name.as_deref())
                    .bind(org)
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some(logo) = &change.logo {
                    let (bytes, hash) = match logo {
                        Some((bytes, hash)) => (Some(bytes.as_slice()), Some(hash.as_str())),
                        None => (None, None),
                    };
                    sqlx::query(&<$store>::sql(
                        "UPDATE org_looks SET logo = ?, logo_hash = ? WHERE org_id = ?",
                    ))
                    .bind(bytes)
                    .bind(hash)
                    .bind(org)
                    .execute(&mut *tx)
                    .await?;
                }
                let row = sqlx::query(&<$store>::sql(
                    "SELECT accent, sender_name, logo_hash FROM org_looks WHERE org_id = ?",
                ))
                .bind(org)
                .fetch_one(&mut *tx)
                .await?;
                let look = look_from_row(&row)?;
                commit_with_audit(tx, audit).await?;
                Ok(look)
            }

            async fn named_look(&self, org: OrgId) -> StoreResult<(String, OrgLook)> {
                let row = sqlx::query(&<$store>::sql(
                    "SELECT o.name, l.accent, l.sender_name, l.logo_hash FROM organizations o \
                     LEFT JOIN org_looks l ON l.org_id = o.id WHERE o.id = ?",
                ))
                .bind(org)
                .fetch_one(&self.readers)
                .await?;
                Ok((row.try_get("name")?, look_from_row(&row)?))
            }

            async fn logo(&self, hash: &str) -> StoreResult<Option<Vec<u8>>> {
                Ok(sqlx::query_scalar(&<$store>::sql(
                    "SELECT logo FROM org_looks WHERE logo_hash = ?",
                ))
                .bind(hash)
                .fetch_optional(&self.readers)
                .await?
                .flatten())
            }
        }
    };
}

pub(crate) use sql_looks;
