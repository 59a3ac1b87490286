//! A short-lived, in-process cache of catalog reads (microcaching).
//!
//! GET answers of routes whose policy names a scope (`RoutePolicy::cached_for`) are kept for up to one
//! second and served only to keys that hold that scope, so a cached answer never reaches a caller who could
//! not get it uncached. Any successful write through this process to a site (a product edit, a stock
//! change, an order) drops that site's cached reads at once, so a client never reads its own write stale
//! here; other server processes may serve a read up to one second old. Entries are keyed by site, key kind
//! (publishable keys see less) and the full path and query; reads with a customer token bypass it. The cache is bounded by the bytes it holds
//! (`SHOPVO_READ_CACHE_BYTES`), evicting the least useful entries first.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use super::auth::AuthContext;
use super::error::ApiError;
use super::policy::RoutePolicy;
use crate::config::Config;
use crate::state::AppState;

const TTL: Duration = Duration::from_secs(1);
/// Responses larger than this are not kept.
const MAX_BODY: usize = 512 * 1024;

#[derive(Hash, PartialEq, Eq)]
struct Key {
    site_id: String,
    publishable: bool,
    path_and_query: String,
}

#[derive(Clone)]
struct Entry {
    version: u64,
    content_type: Option<HeaderValue>,
    body: Bytes,
}

pub struct ReadCache {
    entries: moka::sync::Cache<Key, Entry>,
    /// Bumped by every successful write to a site; entries from an older version are stale.
    versions: Mutex<HashMap<String, u64>>,
}

impl ReadCache {
    pub fn new(config: &Config) -> Self {
        let entries = moka::sync::Cache::builder()
            .max_capacity(config.read_cache_bytes)
            .weigher(|key: &Key, entry: &Entry| {
                let bytes = entry.body.len() + key.path_and_query.len() + key.site_id.len() + 64;
                u32::try_from(bytes).unwrap_or(u32::MAX)
            })
            .time_to_live(TTL)
            .build();
        ReadCache {
            entries,
            versions: Mutex::default(),
        }
    }

    fn version(&self, site_id: &str) -> u64 {
        self.versions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(site_id)
            .copied()
            .unwrap_or(0)
    }

    /// Drops a site's cached reads.
    pub fn invalidate(&self, site_id: &str) {
        let mut versions = self.versions.lock().unwrap_or_else(|e| e.into_inner());
        *versions.entry(site_id.to_string()).or_default() += 1;
    }

    /// Drops every cached read.
    pub fn clear(&self) {
        self.entries.invalidate_all();
    }

    fn get(&self, key: &Key) -> Option<Entry> {
        let version = self.version(&key.site_id);
        self.entries.get(key).filter(|e| e.version == version)
    }

    /// The bytes the cache holds now (after pending evictions have run).
    pub fn weighted_size(&self) -> u64 {
        self.entries.run_pending_tasks();
        self.entries.weighted_size()
    }
}

fn respond(entry: Entry) -> Response {
    let mut response = Response::new(Body::from(entry.body));
    if let Some(ct) = entry.content_type {
        response.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    response
}

pub async fn cache<Fut: Future<Output = Response>>(
    state: &AppState,
    policy: RoutePolicy,
    request: Request,
    next: impl FnOnce(Request) -> Fut,
) -> Response {
    let Some(auth) = request.extensions().get::<AuthContext>().cloned() else {
        return next(request).await;
    };
    if request.method() != Method::GET {
        let response = next(request).await;
        if response.status().is_success() {
            state.read_cache.invalidate(auth.site_id());
            state.recent_writers.insert(auth.key_id().to_string(), ());
        }
        return response;
    }
    // A signed-in customer's reads are theirs (B2B prices): never cached, never served from the cache.
    let cacheable = state.config.read_cache
        && !request.headers().contains_key("x-customer-token")
        && policy
            .cached_for_scope
            .is_some_and(|scope| auth.key.has_scope(scope));
    if !cacheable {
        return next(request).await;
    }
    let key = Key {
        site_id: auth.site_id().to_string(),
        publishable: auth.is_publishable(),
        path_and_query: request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
    };
    if let Some(entry) = state.read_cache.get(&key) {
        return respond(entry);
    }
    // Taken before the read: a write that lands meanwhile makes this entry stale at once.
    let version = state.read_cache.version(&key.site_id);
    let response = next(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    // Our handlers' bodies are already in memory (serialised JSON): buffering them costs no waiting.
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "could not buffer a catalog response");
            return policy.dialect.render(ApiError::internal());
        }
    };
    if body.len() <= MAX_BODY {
        let content_type = parts.headers.get(header::CONTENT_TYPE).cloned();
        state.read_cache.entries.insert(
            key,
            Entry {
                version,
                content_type,
                body: body.clone(),
            },
        );
    }
    Response::from_parts(parts, Body::from(body))
}
