//! Reads from a read replica (`DATABASE_READ_URL`): a handler that only reads takes a [`ReadConn`] instead
//! of a connection of the primary. Lists and catalog reads do; a single order, customer, gift card or
//! promotion is read from the primary, where a webhook consumer fetching what an event named finds it. The
//! replica answers unless the request asks for the primary (`X-Read-Primary`), or its key wrote within the
//! last few seconds (it must see its own write, which the replica may not have replayed yet), or the replica
//! does not give a connection within a second — then the primary answers.
//!
//! On the primary, a read takes one of the [`KeptReads`] when one is free: connections that go back without
//! the round trip sqlx's pool spends on each returned connection.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, Postgres};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::auth::AuthContext;
use super::error::ApiError;
use crate::state::AppState;

/// How long a key reads the primary after its last write.
pub const READ_YOUR_WRITES: Duration = Duration::from_secs(5);

/// A connection for a request that only reads.
pub struct ReadConn(Lease);

enum Lease {
    /// From a pool, and back to it when dropped (sqlx pings it first).
    Pooled(PoolConnection<Postgres>),
    /// One of the [`KeptReads`], handed to the request's [`ReturnSlot`] when dropped (`None` only then).
    Kept(Option<Kept>, ReturnSlot),
}

impl std::ops::Deref for ReadConn {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        match &self.0 {
            Lease::Pooled(conn) => conn,
            Lease::Kept(kept, _) => &kept.as_ref().expect("a kept connection until dropped").conn,
        }
    }
}

impl std::ops::DerefMut for ReadConn {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match &mut self.0 {
            Lease::Pooled(conn) => conn,
            Lease::Kept(kept, _) => {
                &mut kept.as_mut().expect("a kept connection until dropped").conn
            }
        }
    }
}

impl Drop for ReadConn {
    fn drop(&mut self) {
        if let Lease::Kept(kept, slot) = &mut self.0 {
            *slot.0.lock().unwrap_or_else(|e| e.into_inner()) = kept.take();
        }
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
                    Ok(Ok(conn)) => return Ok(ReadConn(Lease::Pooled(conn))),
                    Ok(Err(e)) => warn_replica_down(&e.to_string()),
                    Err(_) => warn_replica_down("no connection within a second"),
                }
            }
        }
        if let Some(slot) = parts.extensions.get::<ReturnSlot>()
            && let Some(kept) = state.kept_reads.take().await?
        {
            return Ok(ReadConn(Lease::Kept(Some(kept), slot.clone())));
        }
        Ok(ReadConn(Lease::Pooled(state.pool.acquire().await?)))
    }
}

/// Connections of the primary for reads, returned without a ping. sqlx's pool pings every connection given
/// back to it (a second round trip to the database for each request, which no option turns off), because a
/// connection dropped mid-statement may be unusable. These are given back by [`return_kept`] instead, and
/// only when their request answered without a server error: a request cancelled mid-statement (its client
/// gone) never reaches that point, and one that failed (perhaps on a broken connection) answers 5xx, so
/// either closes its connection.
///
/// At most `limit` are in use at once, and no more are ever open: a read waits for one to come free (as
/// long as the pool's acquire timeout) rather than taking one from the pool, whose ping on return costs the
/// database more than the wait (with 32 requests in flight on two cores, a third of the reads went to the
/// pool and its ping; waiting instead answered 5 % more product reads).
pub struct KeptReads {
    options: PgConnectOptions,
    limit: u32,
    in_use: Arc<Semaphore>,
    wait: Duration,
    idle: Mutex<Vec<PgConnection>>,
}

/// A kept connection in use, and its place among the `limit`.
struct Kept {
    conn: PgConnection,
    _in_use: OwnedSemaphorePermit,
}

impl KeptReads {
    /// Up to `limit` connections opened with `options` (those of the pool: the same database and settings),
    /// a read waiting at most `wait` for one.
    pub fn new(options: PgConnectOptions, limit: u32, wait: Duration) -> Self {
        KeptReads {
            options,
            limit,
            in_use: Arc::new(Semaphore::new(limit as usize)),
            wait,
            idle: Mutex::default(),
        }
    }

    /// An idle connection, or a new one when none is idle (there are then fewer than the limit open),
    /// waiting while all are in use. `None` when there are none (a limit of 0), or when a new one cannot be
    /// opened: the pool then answers, and says why if it cannot either.
    async fn take(&self) -> Result<Option<Kept>, ApiError> {
        if self.limit == 0 {
            return Ok(None);
        }
        // A free one is taken without arming the timeout's timer.
        let permit = match self.in_use.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => match tokio::time::timeout(self.wait, self.in_use.clone().acquire_owned())
                .await
            {
                Ok(Ok(permit)) => permit,
                // The semaphore is never closed.
                Ok(Err(_)) => return Ok(None),
                Err(_) => return Err(crate::domain::Error::from(sqlx::Error::PoolTimedOut).into()),
            },
        };
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => match PgConnection::connect_with(&self.options).await {
                Ok(conn) => conn,
                Err(_) => return Ok(None),
            },
        };
        Ok(Some(Kept {
            conn,
            _in_use: permit,
        }))
    }

    fn give_back(&self, kept: Kept) {
        self.idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(kept.conn);
    }
}

/// Where a request's [`ReadConn`] leaves a kept connection when the handler is done with it.
#[derive(Clone, Default)]
pub struct ReturnSlot(Arc<Mutex<Option<Kept>>>);

/// Gives a request's kept read connection back once the request has answered, unless it answered with a
/// server error (see [`KeptReads`]). A layer on every route.
pub async fn return_kept(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let slot = ReturnSlot::default();
    req.extensions_mut().insert(slot.clone());
    let res = next.run(req).await;
    let kept = slot.0.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(kept) = kept
        && !res.status().is_server_error()
    {
        state.kept_reads.give_back(kept);
    }
    res
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
