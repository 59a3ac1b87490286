//! Connecting to PostgreSQL (a configured URL or the private cluster) and applying migrations.

pub mod embedded;

use std::path::Path;
use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

use embedded::{EmbeddedOptions, EmbeddedPostgres};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A database to use: the options to connect, and the private cluster to keep alive while in use.
pub struct Database {
    pub options: PgConnectOptions,
    pub cluster: Option<EmbeddedPostgres>,
}

impl Database {
    /// `DATABASE_URL` when given, otherwise the private cluster in `data_dir` (database `shopvo`).
    pub async fn open(url: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        if let Some(url) = url {
            let options = PgConnectOptions::from_str(url)?;
            return Ok(Self {
                options: quiet(options),
                cluster: None,
            });
        }
        let options = EmbeddedOptions {
            data_dir: data_dir.to_path_buf(),
            ephemeral: false,
            settings: Vec::new(),
        };
        let cluster =
            tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&options)).await??;
        let admin = socket_options(cluster.socket_dir(), "postgres");
        create_database_if_missing(&admin, "shopvo").await?;
        let options = socket_options(cluster.socket_dir(), "shopvo");
        Ok(Self {
            options,
            cluster: Some(cluster),
        })
    }

    pub async fn pool(&self, max_connections: u32, timeouts: Timeouts) -> sqlx::Result<PgPool> {
        let options = self.options.clone().options([(
            "statement_timeout",
            format!("{}s", timeouts.statement.as_secs().max(1)),
        )]);
        PgPoolOptions::new()
            .max_connections(max_connections)
            // A dead connection shows as an error on use anyway (a 503 the client may retry); pinging each
            // one first costs a round trip.
            .test_before_acquire(false)
            .acquire_timeout(timeouts.acquire)
            .connect_with(options)
            .await
    }
}

/// How long the database may take: a statement (PostgreSQL cancels it) and a wait for a connection.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub statement: std::time::Duration,
    pub acquire: std::time::Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            statement: std::time::Duration::from_secs(30),
            acquire: std::time::Duration::from_secs(5),
        }
    }
}

/// Connect options for a database on a Unix-socket cluster as the `postgres` superuser.
pub fn socket_options(socket_dir: &Path, database: &str) -> PgConnectOptions {
    quiet(
        PgConnectOptions::new()
            .socket(socket_dir)
            .username("postgres")
            .database(database),
    )
}

fn quiet(options: PgConnectOptions) -> PgConnectOptions {
    // JIT compiling our short OLTP queries costs more (milliseconds) than it saves.
    options
        .disable_statement_logging()
        .options([("jit", "off")])
}

pub async fn create_database_if_missing(admin: &PgConnectOptions, name: &str) -> sqlx::Result<()> {
    let mut conn = sqlx::PgConnection::connect_with(admin).await?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        // The name is ours, not a client's: quoting it is enough.
        sqlx::query(sqlx::AssertSqlSafe(format!("create database \"{name}\"")))
            .execute(&mut conn)
            .await?;
    }
    conn.close().await
}

pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// Refreshes the planner's statistics of `tables`. A bulk load into tables that were small when last
/// analysed makes the planner choose scans fit for the small table; the load calls this as the tables grow
/// (autovacuum would, but only after the load has suffered for a while).
pub async fn analyze(pool: &PgPool, tables: &[&str]) -> sqlx::Result<()> {
    let list = tables.join(", ");
    sqlx::query(sqlx::AssertSqlSafe(format!("analyze {list}")))
        .execute(pool)
        .await?;
    Ok(())
}

/// The planner's estimate of a table's rows (0 for a table never analysed).
pub async fn estimated_rows(pool: &PgPool, table: &str) -> sqlx::Result<i64> {
    let rows: Option<f32> =
        sqlx::query_scalar("select reltuples from pg_class where oid = to_regclass($1)")
            .bind(table)
            .fetch_optional(pool)
            .await?;
    Ok(rows.map_or(0, |r| r.max(0.0) as i64))
}
