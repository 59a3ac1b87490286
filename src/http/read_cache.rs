//! A short-lived, in-process cache of catalog reads (microcaching).
//!
//! Product, variant, category and brand GETs are answered from memory for up to one second. Any successful
//! write through this process to a site (a product edit, a stock change, an order) drops that site's cached
//! reads at once, so a client never reads its own write stale here; other server processes may serve a
//! read up to one second old. Entries are keyed by site, key kind (publishable keys see less) and the full
//! path and query.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::auth::AuthContext;
use crate::app::AppState;

const TTL: Duration = Duration::from_secs(1);
const MAX_ENTRIES: usize = 20_000;
/// Responses larger than this are not kept.
const MAX_BODY: usize = 512 * 1024;

/// Routes whose GET responses depend only on the site's catalog.
const CACHED_ROUTES: &[&str] = &[
    "/api/v1/{siteId}/products",
    "/api/v1/{siteId}/products/{productId}",
    "/api/v1/{siteId}/products/{productId}/variants",
    "/api/v1/{siteId}/categories",
    "/api/v1/{siteId}/categories/{categoryId}",
    "/api/v1/{siteId}/brands",
    "/api/v1/{siteId}/brands/{brandId}",
];

#[derive(Hash, PartialEq, Eq)]
struct Key {
    site_id: String,
    publishable: bool,
    path_and_query: String,
}

struct Entry {
    stored_at: Instant,
    version: u64,
    content_type: Option<HeaderValue>,
    body: Bytes,
}

#[derive(Default)]
pub struct ReadCache {
    entries: Mutex<HashMap<Key, Entry>>,
    /// Bumped by every successful write to a site; entries from an older version are stale.
    versions: Mutex<HashMap<String, u64>>,
}

impl ReadCache {
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

    fn get(&self, key: &Key) -> Option<(Option<HeaderValue>, Bytes)> {
        let version = self.version(&key.site_id);
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|e| e.version == version && e.stored_at.elapsed() < TTL)
            .map(|e| (e.content_type.clone(), e.body.clone()))
    }

    fn put(&self, key: Key, entry: Entry) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| e.stored_at.elapsed() < TTL);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(key, entry);
    }
}

fn respond(content_type: Option<HeaderValue>, body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    if let Some(ct) = content_type {
        response.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    response
}

pub async fn cache(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(auth) = request.extensions().get::<AuthContext>().cloned() else {
        return next.run(request).await;
    };
    if request.method() != Method::GET {
        let response = next.run(request).await;
        if response.status().is_success() {
            state.read_cache.invalidate(auth.site_id());
        }
        return response;
    }
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str())
        .unwrap_or_default();
    if !state.config.read_cache || !CACHED_ROUTES.contains(&route) {
        return next.run(request).await;
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
    if let Some((content_type, body)) = state.read_cache.get(&key) {
        return respond(content_type, body);
    }
    // Taken before the read: a write that lands meanwhile makes this entry stale at once.
    let version = state.read_cache.version(&key.site_id);
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    // Our handlers' bodies are already in memory (serialised JSON): buffering them costs no waiting.
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "could not buffer a catalog response");
            return crate::http::ApiError::internal().into_response();
        }
    };
    if body.len() <= MAX_BODY {
        let content_type = parts.headers.get(header::CONTENT_TYPE).cloned();
        state.read_cache.put(
            key,
            Entry {
                stored_at: Instant::now(),
                version,
                content_type,
                body: body.clone(),
            },
        );
    }
    Response::from_parts(parts, Body::from(body))
}
