//! CORS: the server-wide allow-list (`SHOPVO_CORS_ORIGINS`) plus each site's own list (`corsOrigins` in its
//! settings), so a storefront on its own domain can call the API with a publishable key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::HeaderValue;
use axum::http::request::Parts;
use sqlx::PgPool;
use tower_http::cors::AllowOrigin;

use crate::domain::sites;

/// When a site's list was read, and the list.
type CachedOrigins = (Instant, Arc<Vec<String>>);

/// Each site's allowed origins, remembered briefly (preflight requests carry no key to look anything up).
#[derive(Default)]
pub struct SiteOrigins {
    entries: Mutex<HashMap<String, CachedOrigins>>,
}

impl SiteOrigins {
    const TTL: Duration = Duration::from_secs(30);

    async fn get(&self, pool: &PgPool, site_id: &str) -> Arc<Vec<String>> {
        if let Some((at, origins)) = self
            .entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(site_id)
            && at.elapsed() < Self::TTL
        {
            return origins.clone();
        }
        let origins = match pool.acquire().await {
            Ok(mut conn) => sites::cors_origins(&mut conn, site_id)
                .await
                .unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        let origins = Arc::new(origins);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() > 10_000 {
            entries.clear();
        }
        entries.insert(site_id.to_string(), (Instant::now(), origins.clone()));
        origins
    }

    /// Forgets every site's list.
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Forgets a site's list (after it changed).
    pub fn forget(&self, site_id: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(site_id);
    }
}

/// The `{siteId}` of an `/api/v1/{siteId}/…` path.
fn site_of(path: &str) -> Option<&str> {
    path.strip_prefix("/api/v1/")?
        .split('/')
        .next()
        .filter(|s| !s.is_empty())
}

pub fn allow_origin(global: Vec<String>, pool: PgPool, sites: Arc<SiteOrigins>) -> AllowOrigin {
    if global.iter().any(|o| o == "*") {
        return AllowOrigin::any();
    }
    AllowOrigin::async_predicate(move |origin: HeaderValue, parts: &Parts| {
        let site = site_of(parts.uri.path()).map(str::to_string);
        let (global, pool, sites) = (global.clone(), pool.clone(), sites.clone());
        async move {
            let Ok(origin) = origin.to_str() else {
                return false;
            };
            if global.iter().any(|g| g == origin) {
                return true;
            }
            match site {
                Some(site) => sites.get(&pool, &site).await.iter().any(|o| o == origin),
                None => false,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::site_of;

    #[test]
    fn finds_the_site_in_the_path() {
        assert_eq!(site_of("/api/v1/site_1/products"), Some("site_1"));
        assert_eq!(site_of("/api/v1/"), None);
        assert_eq!(site_of("/docs"), None);
    }
}
