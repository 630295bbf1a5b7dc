//! The database of one run, on SQLite or in a fresh PostgreSQL schema.

use std::sync::Arc;

use poortwachter::config::Settings;

use crate::server;

/// A fresh, empty database for one run: the data folder the server is started with, the
/// settings, the store on it, a direct pool for seeding, and — on PostgreSQL — the schema
/// made for the run (dropped by [`Database::remove`]).
pub struct Database {
    pub data: std::path::PathBuf,
    pub settings: Settings,
    pub store: Arc<dyn poortwachter::store::Store>,
    pub pool: sqlx::AnyPool,
    pub schema: Option<(String, String)>,
}

impl Database {
    /// In a fresh temporary folder (named with `tag`): SQLite there, or with `postgres` (a
    /// database URL) a fresh schema in that database.
    pub async fn fresh(tag: &str, postgres: Option<&str>) -> anyhow::Result<Database> {
        sqlx::any::install_default_drivers();
        let data =
            std::env::temp_dir().join(format!("poortwachter-bench-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data)?;
        let mut settings = Settings {
            data_dir: data.clone(),
            ..Settings::default()
        };
        settings.totp_key = Some(server::TOTP_KEY.into());
        let mut schema = None;
        if let Some(base) = postgres {
            let name = format!("pw_bench_{}_{tag}", std::process::id());
            let admin = sqlx::AnyPool::connect(base).await?;
            sqlx::query(&format!("CREATE SCHEMA {name}"))
                .execute(&admin)
                .await?;
            admin.close().await;
            let separator = if base.contains('?') { '&' } else { '?' };
            settings.database_url = Some(format!(
                "{base}{separator}options=-c%20search_path%3D{name}"
            ));
            schema = Some((base.to_owned(), name));
        }
        let store = poortwachter::startup::open_store(&settings).await?;
        let pool = sqlx::AnyPool::connect(&settings.database_url()).await?;
        Ok(Database {
            data,
            settings,
            store,
            pool,
            schema,
        })
    }

    /// The variables that point a server at this database (beside its data folder).
    pub fn server_settings(&self) -> Vec<(&'static str, String)> {
        match &self.schema {
            Some(_) => vec![("POORTWACHTER_DATABASE_URL", self.settings.database_url())],
            None => Vec::new(),
        }
    }

    pub async fn remove(self) -> anyhow::Result<()> {
        self.pool.close().await;
        let _ = std::fs::remove_dir_all(&self.data);
        if let Some((base, name)) = self.schema {
            let admin = sqlx::AnyPool::connect(&base).await?;
            sqlx::query(&format!("DROP SCHEMA {name} CASCADE"))
                .execute(&admin)
                .await?;
        }
        Ok(())
    }
}
