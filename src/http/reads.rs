//! Reads from a read replica (`DATABASE_READ_URL`): a handler that only reads takes a [`ReadConn`] instead
//! of a connection of the primary. Lists and catalog reads do; a single order, customer, gift card or
//! promotion is read from the primary, where a webhook consumer fetching what an event named finds it. The replica answers unless the request asks for the primary
//! (`X-Read-Primary`), or its key wrote within the last few seconds (it must see its own write, which the
//! replica may not have replayed yet), or the replica does not give a connection within a second — then
//! the primary answers.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sqlx::Postgres;
use sqlx::pool::PoolConnection;

use super::auth::AuthContext;
use super::error::ApiError;
use crate::state::AppState;

/// How long a key reads the primary after its last write.
pub const READ_YOUR_WRITES: Duration = Duration::from_secs(5);

/// A connection for a request that only reads.
pub struct ReadConn(pub PoolConnection<Postgres>);

impl std::ops::Deref for ReadConn {
    type Target = sqlx::PgConnection;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for ReadConn {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl FromRequestParts<AppState> for ReadConn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(replica) = &state.read_pool {
            let key = parts.extensions.get::<AuthContext>().map(|a| a.key_id());
            let primary = parts.headers.contains_key("x-read-primary")
                || key.is_some_and(|k| state.recent_writers.contains_key(k));
            if !primary {
                match tokio::time::timeout(Duration::from_secs(1), replica.acquire()).await {
                    Ok(Ok(conn)) => return Ok(ReadConn(conn)),
                    Ok(Err(e)) => warn_replica_down(&e.to_string()),
                    Err(_) => warn_replica_down("no connection within a second"),
                }
            }
        }
        Ok(ReadConn(state.pool.acquire().await?))
    }
}

/// Says once a minute that reads went to the primary.
fn warn_replica_down(why: &str) {
    static WARNED: Mutex<Option<Instant>> = Mutex::new(None);
    let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
    if warned.is_none_or(|at| at.elapsed() > Duration::from_secs(60)) {
        *warned = Some(Instant::now());
        tracing::warn!(
            why,
            "the read replica is unavailable: reads go to the primary"
        );
    }
}
