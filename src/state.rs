//! The one context every handler and layer receives with `State`.

use std::sync::Arc;

use sqlx::PgPool;

use crate::config::Config;
use crate::crypto::ServerKey;
use crate::domain::media::MediaStore;
use crate::http::auth::AuthCache;
use crate::http::cors::SiteOrigins;
use crate::http::login_limit::LoginLimiter;
use crate::http::rate_limit::RateLimiter;
use crate::http::read_cache::ReadCache;

/// Everything a handler may need: one context, passed with `State`.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    pub server_key: Arc<ServerKey>,
    pub auth_cache: Arc<AuthCache>,
    pub limiter: Arc<RateLimiter>,
    pub login_limiter: Arc<LoginLimiter>,
    pub site_origins: Arc<SiteOrigins>,
    pub read_cache: Arc<ReadCache>,
    /// Where uploaded images are kept (`config.media`).
    pub media: Arc<MediaStore>,
}

impl AppState {
    /// Fails only when the media store's settings cannot make a store, or `REDIS_URL` is not a Redis URL.
    pub fn new(pool: PgPool, config: Config, server_key: ServerKey) -> anyhow::Result<Self> {
        let read_cache = Arc::new(ReadCache::new(&config));
        let limiter = Arc::new(RateLimiter::new(config.redis_url.as_deref())?);
        let media = Arc::new(MediaStore::new(&config.media)?);
        Ok(AppState {
            pool,
            config: Arc::new(config),
            server_key: Arc::new(server_key),
            auth_cache: Arc::default(),
            limiter,
            login_limiter: Arc::default(),
            site_origins: Arc::default(),
            read_cache,
            media,
        })
    }
}
