//! What the metrics endpoint reads from the database at each scrape.
//! The SQL of [`MonitorStore`](crate::store::MonitorStore), for both databases.

macro_rules! sql_monitor {
    ($store:ty, $db:ty, $row:ty) => {
        #[async_trait]
        impl MonitorStore for $store {
            async fn gauges(&self, live: Liveness) -> StoreResult<StoreGauges> {
                let (outbox_depth, oldest_queued_at): (i64, Option<i64>) = sqlx::query_as(
                    &<$store>::sql("SELECT COUNT(*), MIN(created_at) FROM outbox"),
                )
                .fetch_one(&self.readers)
                .await?;
                let live_sessions: i64 = sqlx::query_scalar(&<$store>::sql(
                    "SELECT COUNT(*) FROM sessions WHERE expires_at > ? AND last_seen_at > ?",
                ))
                .bind(live.now)
                .bind(live.idle_cutoff)
                .fetch_one(&self.readers)
                .await?;
                Ok(StoreGauges {
                    outbox_depth,
                    oldest_queued_at,
                    live_sessions,
                })
            }

            fn pools(&self) -> Vec<PoolUse> {
                <$store>::POOLS
                    .iter()
                    .map(|(name, readers)| {
                        let pool = if *readers { &self.readers } else { &self.pool };
                        let size = pool.size();
                        let idle = u32::try_from(pool.num_idle()).unwrap_or(size);
                        PoolUse {
                            name,
                            in_use: size.saturating_sub(idle),
                            idle,
                            max: pool.options().get_max_connections(),
                        }
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use sql_monitor;
