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
use crate::http::reads::KeptReads;

/// Everything a handler may need: one context, passed with `State`. A handle to one shared [`Context`]:
/// axum clones the state for every extractor and layer of every request, and one reference count is much
/// cheaper than a dozen (the fields cloned one by one showed up at 6 % of a product GET's profile).
#[derive(Clone)]
pub struct AppState(Arc<Context>);

impl std::ops::Deref for AppState {
    type Target = Context;
    fn deref(&self) -> &Context {
        &self.0
    }
}

pub struct Context {
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
    /// A read replica for catalog reads (`DATABASE_READ_URL`; see `http::reads`).
    pub read_pool: Option<PgPool>,
    /// Keys that wrote within the last few seconds: they read the primary.
    pub recent_writers: moka::sync::Cache<String, ()>,
    /// Primary connections for reads, given back without a ping (see `http::reads`).
    pub kept_reads: KeptReads,
}

impl AppState {
    /// Fails only when the media store's settings cannot make a store, or `REDIS_URL` is not a Redis URL.
    pub fn new(pool: PgPool, config: Config, server_key: ServerKey) -> anyhow::Result<Self> {
        let read_cache = Arc::new(ReadCache::new(&config));
        let limiter = Arc::new(RateLimiter::new(config.redis_url.as_deref())?);
        let login_limiter = Arc::new(LoginLimiter::new(limiter.redis()));
        let media = Arc::new(MediaStore::new(&config.media)?);
        let read_pool = match &config.database_read_url {
            Some(url) => Some(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(config.read_pool_size)
                    .test_before_acquire(false)
                    .acquire_timeout(std::time::Duration::from_secs(1))
                    // Lazy: the server starts, and serves from the primary, while the replica is down.
                    .connect_lazy(url)
                    .map_err(|e| anyhow::anyhow!("DATABASE_READ_URL: {e}"))?,
            ),
            None => None,
        };
        let kept_reads = KeptReads::new(
            (*pool.connect_options()).clone(),
            config.kept_read_connections,
            pool.options().get_acquire_timeout(),
        );
        let recent_writers = moka::sync::Cache::builder()
            .max_capacity(100_000)
            .time_to_live(crate::http::reads::READ_YOUR_WRITES)
            .build();
        Ok(AppState(Arc::new(Context {
            pool,
            config: Arc::new(config),
            server_key: Arc::new(server_key),
            auth_cache: Arc::default(),
            limiter,
            login_limiter,
            site_origins: Arc::default(),
            read_cache,
            media,
            read_pool,
            recent_writers,
            kept_reads,
        })))
    }
}
