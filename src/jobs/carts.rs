//! The abandoned-cart scan: every so often, carts with items and no activity for the configured time get
//! their one `cart.abandoned` event (see [`crate::domain::carts::mark_abandoned`]).

use std::future::Future;
use std::time::Duration;

use sqlx::PgPool;

use crate::domain::{Result, carts};

const BATCH: i64 = 200;

/// Marks every cart that is due now; returns how many.
pub async fn scan(pool: &PgPool, idle: Duration) -> Result<usize> {
    let mut total = 0;
    loop {
        let mut tx = pool.begin().await?;
        let marked = carts::mark_abandoned(&mut tx, idle, BATCH).await?;
        tx.commit().await?;
        total += marked;
        if marked < BATCH as usize {
            return Ok(total);
        }
    }
}

/// Scans every minute (or a quarter of `idle`, when that is shorter) until `shutdown`.
pub async fn run(pool: PgPool, idle: Duration, shutdown: impl Future<Output = ()>) {
    let every = (idle / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tick.tick() => {}
        }
        if let Err(e) = scan(&pool, idle).await {
            tracing::warn!(error = %e, "abandoned-cart scan failed");
        }
    }
}
