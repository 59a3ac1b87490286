//! Background jobs: webhook delivery and abandoned-cart detection. Safe to run in any number of processes
//! (they coordinate through the database with `FOR UPDATE SKIP LOCKED`).

pub mod carts;
pub mod webhooks;

use std::sync::Arc;

use sqlx::PgPool;

use crate::config::Config;
use crate::crypto::ServerKey;

/// Starts every job. They run until `stop` turns true: the webhook worker then claims nothing more and
/// finishes the attempts it has in flight (each bounded by the delivery timeout); await the handles to
/// know they are done.
pub fn spawn_all(
    pool: PgPool,
    server_key: Arc<ServerKey>,
    config: &Config,
    stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let stopped = |mut stop: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stop.wait_for(|stopping| *stopping).await;
    };
    let worker = webhooks::Worker::new(pool.clone(), server_key, config.webhooks.clone())?;
    let deliveries = tokio::spawn(worker.run(stopped(stop.clone())));
    let carts = tokio::spawn(carts::run(pool, config.abandoned_cart_after, stopped(stop)));
    Ok(vec![deliveries, carts])
}
