//! Configuration from flags and environment variables (documented in the README).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Args;

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
    /// Minutes a checkout session stays open.
    #[arg(long, env = "SHOPVO_CHECKOUT_TTL_MINUTES", default_value_t = 60)]
    pub checkout_ttl_minutes: u32,
    /// Database connections in the pool.
    #[arg(long, env = "SHOPVO_DB_MAX_CONNECTIONS", default_value_t = 20)]
    pub db_max_connections: u32,
    /// The URL clients use to reach this server (for printed links).
    #[arg(long, env = "SHOPVO_PUBLIC_URL")]
    pub public_url: Option<String>,
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
}

impl Config {
    pub fn from_serve_args(args: &ServeArgs) -> Self {
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
        }
    }
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
        }
    }
}
