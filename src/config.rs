//! Configuration from flags and environment variables (documented in the README).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use crate::domain::media;

/// Where the data lives and how to reach the database; shared by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// PostgreSQL URL. When unset, a private PostgreSQL cluster is started in the data folder.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// Folder for the private cluster and the generated server key.
    #[arg(
        long,
        env = "SHOPVO_DATA_DIR",
        default_value = "./.shopvo",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Server secret (at least 32 characters) for key digests and sealed secrets. Generated into the data
    /// folder when unset.
    #[arg(long, env = "SHOPVO_SECRET_KEY", global = true, hide_env_values = true)]
    pub secret_key: Option<Secret>,
    /// Longest a statement may run, in seconds, before PostgreSQL cancels it (the request answers 503).
    #[arg(
        long,
        env = "SHOPVO_DB_STATEMENT_TIMEOUT",
        default_value_t = 30,
        global = true
    )]
    pub db_statement_timeout: u64,
    /// Longest a request waits for a database connection, in seconds (then 503).
    #[arg(
        long,
        env = "SHOPVO_DB_ACQUIRE_TIMEOUT",
        default_value_t = 5,
        global = true
    )]
    pub db_acquire_timeout: u64,
}

/// A string that never shows in `Debug` output or logs.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl std::str::FromStr for Secret {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.chars().count() < 32 {
            return Err("must be at least 32 characters".into());
        }
        Ok(Secret(s.to_string()))
    }
}

impl DbArgs {
    /// The configured secret, or the one kept in `<data dir>/secret.key` (created on first use).
    pub fn server_secret(&self) -> anyhow::Result<String> {
        if let Some(secret) = &self.secret_key {
            return Ok(secret.0.clone());
        }
        let path = self.data_dir.join("secret.key");
        read_or_create_secret(&path)
    }
}

fn read_or_create_secret(path: &Path) -> anyhow::Result<String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim().to_string();
        anyhow::ensure!(
            existing.len() >= 32,
            "{} holds a secret shorter than 32 characters",
            path.display()
        );
        return Ok(existing);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let secret = crate::crypto::random_token(64);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    writeln!(file, "{secret}")?;
    tracing::info!(path = %path.display(), "generated a new server secret");
    Ok(secret)
}

/// Settings of the HTTP server.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SHOPVO_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Largest accepted request body, in bytes.
    #[arg(long, env = "SHOPVO_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub body_limit: usize,
    /// Origins allowed by CORS, comma-separated (`*` for any). None by default.
    #[arg(long, env = "SHOPVO_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// `on` or `off`: per-key rate limits (off for load tests).
    #[arg(
        long,
        env = "SHOPVO_RATE_LIMIT",
        default_value = "on",
        value_parser = parse_on_off,
        action = clap::ArgAction::Set
    )]
    pub rate_limit: bool,
    /// Requests per minute per key on routes without a stricter group limit (sites may override).
    #[arg(long, env = "SHOPVO_RATE_LIMIT_DEFAULT", default_value_t = 120)]
    pub rate_limit_default: u32,
    /// `on` or `off`: answer catalog reads from a one-second in-process cache (writes through this process
    /// clear it for their site at once).
    #[arg(
        long,
        env = "SHOPVO_READ_CACHE",
        default_value = "on",
        value_parser = parse_on_off,
        action = clap::ArgAction::Set
    )]
    pub read_cache: bool,
    /// Memory the read cache may use, in bytes (the bodies it keeps); least recently used answers go first.
    #[arg(long, env = "SHOPVO_READ_CACHE_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub read_cache_bytes: u64,
    /// Minutes a checkout session stays open.
    #[arg(long, env = "SHOPVO_CHECKOUT_TTL_MINUTES", default_value_t = 60)]
    pub checkout_ttl_minutes: u32,
    /// A streaming replica of the database for catalog reads (`GET` products, categories, brands). A key
    /// reads the primary for a few seconds after its own write, and whenever the replica is down.
    #[arg(long, env = "DATABASE_READ_URL", hide_env_values = true)]
    pub database_read_url: Option<String>,
    /// Redis for rate limits shared by every replica (`redis://host:6379`). Unset: each process counts its
    /// own. Set but unreachable at start: `serve` refuses to start.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// After SIGTERM or Ctrl-C, how long requests in flight may take to finish before the server stops.
    #[arg(long, env = "SHOPVO_SHUTDOWN_GRACE", default_value = "30s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
    /// Serve `GET /metrics` (Prometheus) to callers sending this token as `Authorization: Bearer <token>`.
    /// Unset: no metrics endpoint.
    #[arg(long, env = "SHOPVO_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<Secret>,
    /// Database connections to the primary at most: half in the pool, half kept for read-only requests.
    #[arg(long, env = "SHOPVO_DB_MAX_CONNECTIONS", default_value_t = 20)]
    pub db_max_connections: u32,
    /// The URL clients use to reach this server (for printed links).
    #[arg(long, env = "SHOPVO_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// `on` or `off`: run the background jobs (webhook delivery, abandoned carts) in this process. Any number
    /// of processes may run them; they coordinate through the database.
    #[arg(
        long,
        env = "SHOPVO_JOBS",
        default_value = "on",
        value_parser = parse_on_off,
        action = clap::ArgAction::Set
    )]
    pub jobs: bool,
    /// Delays between webhook delivery attempts, comma-separated (units `ms`, `s`, `m`, `h`, `d`); after
    /// the last one a delivery is marked failed. The default spans about 48 hours.
    #[arg(
        long,
        env = "SHOPVO_WEBHOOK_RETRY_SCHEDULE",
        default_value = DEFAULT_RETRY_SCHEDULE,
        value_parser = parse_schedule
    )]
    pub webhook_retry_schedule: Schedule,
    /// `on` or `off`: allow webhook targets on loopback and private networks (and plain http). For
    /// development and tests only.
    #[arg(
        long,
        env = "SHOPVO_WEBHOOK_ALLOW_PRIVATE",
        default_value = "off",
        value_parser = parse_on_off,
        action = clap::ArgAction::Set
    )]
    pub webhook_allow_private: bool,
    /// `on` or `off`: allow plain `http://` webhook targets (https is required otherwise).
    #[arg(
        long,
        env = "SHOPVO_WEBHOOK_ALLOW_HTTP",
        default_value = "off",
        value_parser = parse_on_off,
        action = clap::ArgAction::Set
    )]
    pub webhook_allow_http: bool,
    /// How long one delivery attempt may take (connect, send, answer).
    #[arg(long, env = "SHOPVO_WEBHOOK_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub webhook_timeout: Duration,
    /// A subscription whose deliveries all failed for this long is disabled.
    #[arg(long, env = "SHOPVO_WEBHOOK_DISABLE_AFTER", default_value = "48h", value_parser = parse_duration)]
    pub webhook_disable_after: Duration,
    /// Delivery attempts one process runs at once.
    #[arg(long, env = "SHOPVO_WEBHOOK_CONCURRENCY", default_value_t = 16)]
    pub webhook_concurrency: usize,
    /// Finished deliveries (and their attempts) are kept this long.
    #[arg(long, env = "SHOPVO_WEBHOOK_RETENTION", default_value = "30d", value_parser = parse_duration)]
    pub webhook_retention: Duration,
    /// A cart with items and no activity for this long produces one `cart.abandoned` event.
    #[arg(long, env = "SHOPVO_ABANDONED_CART_AFTER", default_value = "1h", value_parser = parse_duration)]
    pub abandoned_cart_after: Duration,
    #[command(flatten)]
    pub media: MediaArgs,
}

/// Where uploaded images are kept and how their URLs are made.
#[derive(Debug, Clone, Args)]
pub struct MediaArgs {
    /// Folder of uploaded images (without an S3 bucket). Default: `<data dir>/media`.
    #[arg(long, env = "SHOPVO_MEDIA_DIR")]
    pub media_dir: Option<PathBuf>,
    /// Largest accepted image, in bytes (decoded).
    #[arg(long, env = "SHOPVO_MEDIA_MAX_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub media_max_bytes: usize,
    /// Base URL of image URLs. Default: `<public URL>/media` (served by this server), or the bucket's URL.
    #[arg(long, env = "SHOPVO_MEDIA_PUBLIC_URL")]
    pub media_public_url: Option<String>,
    /// Keep images in this S3 (or S3-compatible) bucket instead of the folder.
    #[arg(long, env = "SHOPVO_MEDIA_S3_BUCKET")]
    pub media_s3_bucket: Option<String>,
    /// Endpoint of an S3-compatible service (MinIO, R2, …), addressed path-style. AWS when unset.
    #[arg(long, env = "SHOPVO_MEDIA_S3_ENDPOINT")]
    pub media_s3_endpoint: Option<String>,
    #[arg(long, env = "SHOPVO_MEDIA_S3_REGION", default_value = "us-east-1")]
    pub media_s3_region: String,
    /// Unset: the usual AWS sources (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, instance credentials).
    #[arg(long, env = "SHOPVO_MEDIA_S3_ACCESS_KEY_ID")]
    pub media_s3_access_key_id: Option<String>,
    #[arg(
        long,
        env = "SHOPVO_MEDIA_S3_SECRET_ACCESS_KEY",
        hide_env_values = true,
        value_parser = any_secret
    )]
    pub media_s3_secret_access_key: Option<Secret>,
}

/// A secret of any length (third-party credentials, whose length is not ours to set).
fn any_secret(s: &str) -> Result<Secret, String> {
    Ok(Secret(s.to_string()))
}

impl MediaArgs {
    /// The media settings; `public_url` is this server's URL (for images it serves itself).
    pub fn settings(&self, data_dir: &Path, public_url: &str) -> media::Settings {
        let backend = match &self.media_s3_bucket {
            Some(bucket) => media::Backend::S3(media::S3Settings {
                bucket: bucket.clone(),
                endpoint: self.media_s3_endpoint.clone(),
                region: self.media_s3_region.clone(),
                access_key_id: self.media_s3_access_key_id.clone(),
                secret_access_key: self
                    .media_s3_secret_access_key
                    .as_ref()
                    .map(|s| s.0.clone()),
            }),
            None => media::Backend::Local {
                dir: self
                    .media_dir
                    .clone()
                    .unwrap_or_else(|| data_dir.join("media")),
            },
        };
        let public_url = match (&self.media_public_url, &backend) {
            (Some(url), _) => url.clone(),
            (None, media::Backend::S3(s3)) => s3.default_public_url(),
            (None, media::Backend::Local { .. }) => {
                format!("{}/media", public_url.trim_end_matches('/'))
            }
        };
        media::Settings {
            max_bytes: self.media_max_bytes.max(1),
            public_url,
            backend,
        }
    }
}

/// The default retry schedule: about 48 hours in all.
pub const DEFAULT_RETRY_SCHEDULE: &str = "1m,5m,30m,2h,5h,10h,10h,10h,10h";

/// A list of delays (a newtype so clap takes the whole comma-separated value as one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule(pub Vec<Duration>);

/// `1s,2s,5s` → a schedule (at most 50 steps, each at most 7 days).
pub fn parse_schedule(s: &str) -> Result<Schedule, String> {
    let steps = s
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(parse_duration)
        .collect::<Result<Vec<_>, _>>()?;
    if steps.len() > 50 {
        return Err("at most 50 retries".into());
    }
    if steps.iter().any(|d| *d > Duration::from_secs(7 * 86_400)) {
        return Err("each delay must be at most 7d".into());
    }
    Ok(Schedule(steps))
}

/// `250ms`, `10s`, `5m`, `2h`, `1d`, or a number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{s}` is not a duration such as 500ms, 10s, 5m, 2h or 1d"))?;
    let ms = match unit.trim() {
        "ms" => n,
        "" | "s" => n.saturating_mul(1000),
        "m" => n.saturating_mul(60_000),
        "h" => n.saturating_mul(3_600_000),
        "d" => n.saturating_mul(86_400_000),
        _ => {
            return Err(format!(
                "`{s}` is not a duration such as 500ms, 10s, 5m, 2h or 1d"
            ));
        }
    };
    Ok(Duration::from_millis(ms))
}

fn parse_on_off(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" => Ok(false),
        _ => Err(format!("expected on or off, got `{s}`")),
    }
}

/// What the running application needs to know.
#[derive(Debug, Clone)]
pub struct Config {
    pub body_limit: usize,
    pub cors_origins: Vec<String>,
    pub rate_limit: bool,
    pub rate_limit_default: u32,
    pub checkout_ttl_minutes: u32,
    pub read_cache: bool,
    /// Memory the read cache may use for the bodies it keeps, in bytes.
    pub read_cache_bytes: u64,
    pub webhooks: WebhookSettings,
    /// Inactivity after which a cart with items is abandoned (`cart.abandoned`).
    pub abandoned_cart_after: Duration,
    pub media: media::Settings,
    /// The token `GET /metrics` asks for; `None`: no metrics endpoint.
    pub metrics_token: Option<String>,
    /// A read replica for catalog reads; `None`: everything reads the primary.
    pub database_read_url: Option<String>,
    /// Connections to the read replica.
    pub read_pool_size: u32,
    /// Primary connections kept aside for reads (`http::reads::KeptReads`), out of the configured total.
    pub kept_read_connections: u32,
    /// Rate limits in this Redis (shared by replicas); `None`: in process.
    pub redis_url: Option<String>,
}

/// Webhook delivery settings.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Delays after the 1st, 2nd, … failed attempt.
    pub retry_schedule: Vec<Duration>,
    pub allow_private: bool,
    pub allow_http: bool,
    pub timeout: Duration,
    pub disable_after: Duration,
    pub concurrency: usize,
    /// How often a worker looks for due work when nothing woke it.
    pub poll_interval: Duration,
    /// How long finished deliveries are kept.
    pub retention: Duration,
}

impl WebhookSettings {
    pub fn target_policy(&self) -> crate::domain::webhooks::TargetPolicy {
        crate::domain::webhooks::TargetPolicy {
            allow_private: self.allow_private,
            allow_http: self.allow_http,
        }
    }

    pub fn retry_policy(&self) -> crate::domain::webhooks::deliveries::RetryPolicy {
        crate::domain::webhooks::deliveries::RetryPolicy {
            schedule: self.retry_schedule.clone(),
            disable_after: self.disable_after,
        }
    }
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            retry_schedule: parse_schedule(DEFAULT_RETRY_SCHEDULE)
                .expect("valid default")
                .0,
            allow_private: false,
            allow_http: false,
            timeout: Duration::from_secs(10),
            disable_after: Duration::from_secs(48 * 3600),
            concurrency: 16,
            poll_interval: Duration::from_secs(5),
            retention: Duration::from_secs(30 * 86_400),
        }
    }
}

impl Config {
    /// `data_dir` holds the default media folder.
    pub fn from_serve_args(args: &ServeArgs, data_dir: &Path) -> Self {
        let public_url = args
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", args.bind));
        Config {
            body_limit: args.body_limit,
            cors_origins: args
                .cors_origins
                .iter()
                .map(|o| o.trim().to_string())
                .filter(|o| !o.is_empty())
                .collect(),
            rate_limit: args.rate_limit,
            rate_limit_default: args.rate_limit_default.max(1),
            checkout_ttl_minutes: args.checkout_ttl_minutes.max(1),
            read_cache: args.read_cache,
            read_cache_bytes: args.read_cache_bytes,
            webhooks: WebhookSettings {
                retry_schedule: args.webhook_retry_schedule.0.clone(),
                allow_private: args.webhook_allow_private,
                allow_http: args.webhook_allow_http,
                timeout: args.webhook_timeout.max(Duration::from_millis(100)),
                disable_after: args.webhook_disable_after,
                concurrency: args.webhook_concurrency.clamp(1, 256),
                retention: args.webhook_retention,
                ..WebhookSettings::default()
            },
            abandoned_cart_after: args.abandoned_cart_after,
            media: args.media.settings(data_dir, &public_url),
            metrics_token: args.metrics_token.as_ref().map(|s| s.0.clone()),
            redis_url: args.redis_url.clone(),
            database_read_url: args.database_read_url.clone(),
            read_pool_size: args.db_max_connections,
            kept_read_connections: kept_read_connections(args.db_max_connections),
        }
    }

    /// Of `SHOPVO_DB_MAX_CONNECTIONS`, the pool's share (the rest are kept for reads).
    pub fn pool_connections(max_connections: u32) -> u32 {
        max_connections - kept_read_connections(max_connections)
    }

    /// Largest body of a media upload: the image base64-encoded (4/3 of its size) plus room for the
    /// rest of the JSON or multipart body; never below the general limit.
    pub fn media_body_limit(&self) -> usize {
        (self.media.max_bytes.div_ceil(3) * 4 + 64 * 1024).max(self.body_limit)
    }
}

/// Half of the configured connections are kept for reads: most requests only read, and every write
/// still finds the pool's half.
fn kept_read_connections(max_connections: u32) -> u32 {
    max_connections / 2
}

impl Default for Config {
    fn default() -> Self {
        Config {
            body_limit: 1024 * 1024,
            cors_origins: Vec::new(),
            rate_limit: true,
            rate_limit_default: 120,
            checkout_ttl_minutes: 60,
            // Off by default in code (tests change rows with SQL behind the server's back); `serve` turns it on.
            read_cache: false,
            read_cache_bytes: 32 * 1024 * 1024,
            webhooks: WebhookSettings::default(),
            abandoned_cart_after: Duration::from_secs(3600),
            media: media::Settings {
                max_bytes: 10 * 1024 * 1024,
                public_url: "http://127.0.0.1:8080/media".into(),
                backend: media::Backend::Local {
                    dir: PathBuf::from("./.shopvo/media"),
                },
            },
            metrics_token: None,
            redis_url: None,
            database_read_url: None,
            read_pool_size: 10,
            kept_read_connections: 4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_schedules_parse() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5 weeks").is_err());
        let default = parse_schedule(DEFAULT_RETRY_SCHEDULE).unwrap().0;
        let total: Duration = default.iter().sum();
        assert!(total > Duration::from_secs(47 * 3600) && total <= Duration::from_secs(48 * 3600));
        assert_eq!(
            parse_schedule("1s, 2s,5s").unwrap().0,
            vec![
                Duration::from_secs(1),
                Duration::from_secs(2),
                Duration::from_secs(5)
            ]
        );
        assert_eq!(parse_schedule("").unwrap().0, Vec::<Duration>::new());
    }
}
