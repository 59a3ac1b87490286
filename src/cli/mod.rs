//! The `shopvo` command line: serve, migrate, sites, keys, demo data, the OpenAPI document.
//! Machine-readable output goes to stdout; logs go to stderr.

mod catalog_file;
mod products;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sqlx::PgPool;

use crate::app::{self, AppState};
use crate::config::{Config, DbArgs, ServeArgs};
use crate::crypto::ServerKey;
use crate::db::{self, Database};
use crate::domain::{keys, sites};

#[derive(Parser)]
#[command(
    name = "shopvo",
    version,
    about = "Self-hostable headless commerce API server"
)]
struct Cli {
    #[command(flatten)]
    db: DbArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (migrating the database first). Boxed: its settings dwarf the other commands'.
    Serve(Box<ServeArgs>),
    /// Apply database migrations and exit.
    Migrate,
    /// Manage sites.
    #[command(subcommand)]
    Site(SiteCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Mofavo integration tokens.
    #[command(subcommand)]
    Mofavo(MofavoCommand),
    /// Mulopim integration credentials.
    #[command(subcommand)]
    Mulopim(MulopimCommand),
    /// Mozello Store API keys.
    #[command(subcommand)]
    Mozello(MozelloCommand),
    /// Create (once) a demo site with a small catalog, and print a new admin key for it.
    Demo {
        /// The server's URL, for the printed links.
        #[arg(
            long,
            env = "SHOPVO_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        url: String,
        #[arg(long)]
        json: bool,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Import a catalog file into a site.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Export a site's catalog as a file.
    #[command(subcommand)]
    Export(ExportCommand),
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Upsert products from CSV or JSON lines: matched by handle, else by SKU, and replaced; the others
    /// created. A variant's stock sets its quantity at the default location. Bad rows are reported by line
    /// and the good ones imported; the exit status says whether any failed.
    Products {
        #[arg(long)]
        site: String,
        #[arg(long)]
        file: PathBuf,
        /// Defaults to the file's extension (`.csv`, `.jsonl`, `.ndjson`).
        #[arg(long, value_enum)]
        format: Option<catalog_file::Format>,
        /// Print the summary as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// Write every product of a site in the format `import products` reads.
    Products {
        #[arg(long)]
        site: String,
        #[arg(long, value_enum)]
        format: catalog_file::Format,
        /// Write to this file instead of stdout.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum SiteCommand {
    /// Create a site and print its id.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "EUR")]
        currency: String,
        #[arg(long, default_value = "en")]
        locale: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum MulopimCommand {
    /// Issue a new API key and webhook secret (replacing the site's earlier pair) and print them once.
    Credentials {
        #[arg(long)]
        site: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum MozelloCommand {
    /// Manage the API keys Mozello clients send as `Authorization: ApiKey <key>`.
    #[command(subcommand)]
    Key(MozelloKeyCommand),
}

#[derive(Subcommand)]
enum MozelloKeyCommand {
    /// Issue a key and print it (shown once).
    Create {
        #[arg(long)]
        site: String,
        #[arg(long)]
        json: bool,
    },
    /// List a site's keys.
    List {
        #[arg(long)]
        site: String,
    },
    /// Revoke a key by its id.
    Revoke {
        #[arg(long)]
        site: String,
        id: String,
    },
}

#[derive(Subcommand)]
enum MofavoCommand {
    /// Manage the tokens Mofavo's client authenticates with.
    #[command(subcommand)]
    Token(MofavoTokenCommand),
}

#[derive(Subcommand)]
enum MofavoTokenCommand {
    /// Issue a token and print it with its signing secret (shown once).
    Create {
        #[arg(long)]
        site: String,
        #[arg(long)]
        json: bool,
    },
    /// List a site's tokens.
    List {
        #[arg(long)]
        site: String,
    },
    /// Revoke a token by its jti.
    Revoke {
        #[arg(long)]
        site: String,
        jti: String,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Create a key and print it (shown once).
    Create {
        #[arg(long)]
        site: String,
        /// Comma-separated scopes, e.g. `read:catalog,write:catalog` or `admin:*` (optional with --publishable).
        #[arg(long, value_delimiter = ',')]
        scopes: Vec<String>,
        /// A publishable key (`pk_…`) for browsers: active catalog, carts and checkouts only.
        #[arg(long)]
        publishable: bool,
        /// A test-mode key (`sk_test_…` / `pk_test_…`).
        #[arg(long)]
        test: bool,
        /// Also create a signing secret (`sks_…`); requests must then be signed.
        #[arg(long)]
        signing: bool,
        /// With `--signing`: accept only the request-bound `v2=` signature form.
        #[arg(long)]
        require_request_signature: bool,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List a site's keys.
    List {
        #[arg(long)]
        site: String,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key.
    Revoke { key_id: String },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    use std::io::IsTerminal;
    // Colours only for a terminal: log files and `docker logs` get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if std::env::var("SHOPVO_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Opens the database (starting the private cluster when needed) and migrates it.
async fn open(db_args: &DbArgs, max_connections: u32) -> anyhow::Result<(Database, PgPool)> {
    let database = Database::open(db_args.database_url.as_deref(), &db_args.data_dir).await?;
    let timeouts = db::Timeouts {
        statement: std::time::Duration::from_secs(db_args.db_statement_timeout),
        acquire: std::time::Duration::from_secs(db_args.db_acquire_timeout.max(1)),
    };
    let pool = database.pool(max_connections, timeouts).await?;
    db::migrate(&pool).await?;
    Ok((database, pool))
}

fn print_json(value: serde_json::Value) {
    println!("{value}");
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Openapi = cli.command {
        println!("{}", crate::api::v1::openapi().to_pretty_json()?);
        return Ok(());
    }
    let server_key = ServerKey::from_secret(&cli.db.server_secret()?);
    let max_connections = match &cli.command {
        Command::Serve(args) => Config::pool_connections(args.db_max_connections),
        _ => 2,
    };
    let (database, pool) = open(&cli.db, max_connections).await?;
    let result = match cli.command {
        Command::Serve(args) => serve(*args, &cli.db.data_dir, pool.clone(), server_key).await,
        Command::Migrate => {
            eprintln!("migrations applied");
            Ok(())
        }
        Command::Site(SiteCommand::Create {
            name,
            currency,
            locale,
            json,
        }) => {
            let site = sites::create(
                &mut *pool.acquire().await?,
                sites::NewSite {
                    name,
                    currency: currency.to_uppercase(),
                    locale,
                },
            )
            .await?;
            if json {
                print_json(
                    serde_json::json!({"id": site.id, "name": site.name, "currency": site.currency, "locale": site.locale}),
                );
            } else {
                println!("{}", site.id);
            }
            Ok(())
        }
        Command::Key(KeyCommand::Create {
            site,
            scopes,
            publishable,
            test,
            signing,
            require_request_signature,
            name,
            json,
        }) => {
            let scopes = scopes
                .into_iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            let new = keys::NewKey {
                scopes,
                publishable,
                test,
                signing,
                require_request_signature,
                name,
                expires_at: None,
            };
            let created =
                keys::create(&mut *pool.acquire().await?, &server_key, &site, new).await?;
            if json {
                let mut out = serde_json::json!({"id": created.key.id, "key": created.plaintext, "scopes": created.key.scopes});
                if let Some(secret) = &created.signing_secret {
                    out["signingSecret"] = secret.clone().into();
                }
                print_json(out);
            } else {
                println!("{}", created.plaintext);
                if let Some(secret) = &created.signing_secret {
                    println!("{secret}");
                }
                eprintln!("key id {} — the key is shown only once", created.key.id);
            }
            Ok(())
        }
        Command::Key(KeyCommand::List { site, json }) => {
            let list = keys::list(&mut *pool.acquire().await?, &site).await?;
            if json {
                print_json(serde_json::json!({ "keys": list }));
            } else {
                for k in list {
                    let state = if k.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    };
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        k.id,
                        k.display_prefix,
                        state,
                        k.mode,
                        k.scopes.join(",")
                    );
                }
            }
            Ok(())
        }
        Command::Key(KeyCommand::Revoke { key_id }) => {
            let key = keys::revoke(&mut *pool.acquire().await?, None, &key_id).await?;
            eprintln!("revoked {}", key.id);
            Ok(())
        }
        Command::Mozello(MozelloCommand::Key(command)) => {
            mozello_key(&mut *pool.acquire().await?, &server_key, command).await
        }
        Command::Mofavo(MofavoCommand::Token(command)) => {
            mofavo_token(&mut *pool.acquire().await?, &server_key, command).await
        }
        Command::Mulopim(MulopimCommand::Credentials { site, json }) => {
            let mut conn = pool.acquire().await?;
            sites::get(&mut conn, &site).await?;
            let caller = crate::domain::Caller::system(&site);
            let issued =
                crate::domain::integrations::mulopim::rotate(&mut conn, &server_key, &caller)
                    .await?;
            if json {
                print_json(
                    serde_json::json!({"apiKey": issued.api_key, "webhookSecret": issued.webhook_secret}),
                );
            } else {
                println!("{}", issued.api_key);
                println!("{}", issued.webhook_secret);
                eprintln!("the API key and the webhook secret are shown only once");
            }
            Ok(())
        }
        Command::Demo { url, json } => crate::demo::run(&pool, &server_key, &url, json).await,
        Command::Import(ImportCommand::Products {
            site,
            file,
            format,
            json,
        }) => products::import(&pool, &site, &file, format, json).await,
        Command::Export(ExportCommand::Products {
            site,
            format,
            output,
        }) => products::export(&pool, &site, format, output.as_deref()).await,
        Command::Openapi => unreachable!("handled above"),
    };
    pool.close().await;
    drop(database);
    result
}

async fn serve(
    args: ServeArgs,
    data_dir: &std::path::Path,
    pool: PgPool,
    server_key: ServerKey,
) -> anyhow::Result<()> {
    let config = Config::from_serve_args(&args, data_dir);
    let state = AppState::new(pool.clone(), config, server_key)?;
    state.limiter.ping().await?;
    if state.limiter.is_shared() {
        tracing::info!("rate limits are kept in Redis, shared by every replica");
    }
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let jobs = if args.jobs {
        crate::jobs::spawn_all(
            pool.clone(),
            state.server_key.clone(),
            &state.config,
            stopping.clone(),
        )?
    } else {
        Vec::new()
    };
    let invalidation = crate::http::invalidation::spawn(state.clone());
    let listener = tokio::net::TcpListener::bind(args.bind).await?;
    let public = args.public_url.clone().unwrap_or_else(|| {
        format!(
            "http://{}",
            listener
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default()
        )
    });
    tracing::info!("listening on {public} (docs at {public}/docs)");

    let prune_pool = pool.clone();
    let pruner = tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            if let Err(e) = crate::domain::idempotency::prune(&prune_pool).await {
                tracing::warn!(error = %e, "pruning idempotency records failed");
            }
        }
    });
    // On SIGTERM or Ctrl-C: stop accepting, let in-flight requests finish (at most the grace period), then
    // the jobs finish what they hold; the private cluster stops last, when the caller drops it.
    let stop = std::sync::Arc::new(stop);
    let signalled = {
        let stop = stop.clone();
        async move {
            shutdown_signal().await;
            tracing::info!("shutting down: finishing requests in flight");
            let _ = stop.send(true);
        }
    };
    let server = axum::serve(
        listener,
        app::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(signalled)
    .into_future();
    let grace = args.shutdown_grace;
    let mut overdue = stopping.clone();
    tokio::select! {
        served = server => served?,
        _ = async {
            let _ = overdue.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(grace).await;
        } => tracing::warn!("requests still in flight after {grace:?}: stopping without them"),
    }
    let _ = stop.send(true);
    pruner.abort();
    invalidation.abort();
    for job in jobs {
        let _ = job.await;
    }
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = ctrl_c.await;
            return;
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term.recv() => {},
    }
}

async fn mofavo_token(
    conn: &mut sqlx::PgConnection,
    server_key: &crate::crypto::ServerKey,
    command: MofavoTokenCommand,
) -> anyhow::Result<()> {
    use crate::domain::integrations::mofavo;
    match command {
        MofavoTokenCommand::Create { site, json } => {
            crate::domain::sites::get(&mut *conn, &site).await?;
            let issued =
                mofavo::issue(conn, server_key, &crate::domain::Caller::system(&site)).await?;
            if json {
                print_json(serde_json::json!({"token": issued.token, "jti": issued.jti,
                    "signingSecret": issued.signing_secret}));
            } else {
                println!("{}", issued.token);
                println!("{}", issued.signing_secret);
                eprintln!(
                    "jti {} — the token and its signing secret are shown only once",
                    issued.jti
                );
            }
        }
        MofavoTokenCommand::List { site } => {
            for t in mofavo::list(conn, &crate::domain::Caller::system(&site)).await? {
                println!(
                    "{}\t{}\t{}",
                    t.jti,
                    if t.active { "active" } else { "revoked" },
                    t.created_at
                );
            }
        }
        MofavoTokenCommand::Revoke { site, jti } => {
            mofavo::revoke(conn, &crate::domain::Caller::system(&site), &jti).await?;
            eprintln!("revoked {jti}");
        }
    }
    Ok(())
}

async fn mozello_key(
    conn: &mut sqlx::PgConnection,
    server_key: &crate::crypto::ServerKey,
    command: MozelloKeyCommand,
) -> anyhow::Result<()> {
    use crate::domain::integrations::mozello;
    match command {
        MozelloKeyCommand::Create { site, json } => {
            crate::domain::sites::get(&mut *conn, &site).await?;
            let issued =
                mozello::issue(conn, server_key, &crate::domain::Caller::system(&site)).await?;
            if json {
                print_json(serde_json::json!({"id": issued.id, "apiKey": issued.api_key}));
            } else {
                println!("{}", issued.api_key);
                eprintln!("key {} — shown only once", issued.id);
            }
        }
        MozelloKeyCommand::List { site } => {
            for k in mozello::keys(conn, &crate::domain::Caller::system(&site)).await? {
                let state = if k.revoked_at.is_none() {
                    "active"
                } else {
                    "revoked"
                };
                println!("{}\t{}\t{}", k.id, state, k.created_at);
            }
        }
        MozelloKeyCommand::Revoke { site, id } => {
            mozello::revoke(conn, &crate::domain::Caller::system(&site), &id).await?;
            eprintln!("revoked {id}");
        }
    }
    Ok(())
}
