//! Keeps this process's caches (authenticated keys, CORS origins, catalog reads) in step with changes
//! committed anywhere — another replica, the command line, a dialect: the database announces each change on
//! [`CHANNEL`] at commit (migration 0031), and every process forgets what the change made stale within a
//! round trip, instead of when its cache entry expires.

use std::time::Duration;

use sqlx::postgres::PgListener;

use crate::state::AppState;

pub const CHANNEL: &str = "shopvo_cache";

/// Listens for changes until the pool closes, reconnecting after errors.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match PgListener::connect_with(&state.pool).await {
                Ok(mut listener) => match listener.listen(CHANNEL).await {
                    Ok(()) => {
                        // Notices sent while no listener was connected are lost: start from nothing.
                        forget_everything(&state);
                        loop {
                            match listener.recv().await {
                                Ok(notice) => apply(&state, notice.payload()),
                                Err(_) if state.pool.is_closed() => return,
                                Err(e) => {
                                    tracing::warn!(error = %e, "cache notices lost; reconnecting");
                                    break;
                                }
                            }
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot LISTEN for cache notices"),
                },
                Err(_) if state.pool.is_closed() => return,
                Err(e) => tracing::warn!(error = %e, "cannot LISTEN for cache notices"),
            }
            // Until the listener is back, entries expire on their own (10 s for keys, 1 s for reads).
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
}

/// Drops what a notice made stale.
pub fn apply(state: &AppState, payload: &str) {
    match payload.split_once(':') {
        Some(("key", key_id)) => state.auth_cache.forget(key_id),
        Some(("site", site_id)) => {
            state.auth_cache.forget_site(site_id);
            state.site_origins.forget(site_id);
            state.read_cache.invalidate(site_id);
        }
        Some(("catalog", site_id)) => state.read_cache.invalidate(site_id),
        _ => tracing::debug!(payload, "unknown cache notice"),
    }
}

fn forget_everything(state: &AppState) {
    state.auth_cache.clear();
    state.site_origins.clear();
    state.read_cache.clear();
}
