//! Background jobs: webhook delivery and abandoned-cart detection. Safe to run in any number of processes
//! (they coordinate through the database with `FOR UPDATE SKIP LOCKED`).

pub mod carts;
pub mod webhooks;

use std::sync::Arc;

use sqlx::PgPool;

use crate::config::Config;
use crate::crypto::ServerKey;

/// Starts every job. They run until their tasks are aborted; an attempt cut short is retried by a worker
/// once its lease expires.
pub fn spawn_all(
    pool: PgPool,
    server_key: Arc<ServerKey>,
    config: &Config,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let worker = webhooks::Worker::new(pool.clone(), server_key, config.webhooks.clone())?;
    let deliveries = tokio::spawn(worker.run(std::future::pending()));
    let carts = tokio::spawn(carts::run(
        pool,
        config.abandoned_cart_after,
        std::future::pending(),
    ));
    Ok(vec![deliveries, carts])
}
