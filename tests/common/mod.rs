//! Test harness: a real PostgreSQL (a private cluster per test process, or `SHOPVO_TEST_DATABASE_URL`),
//! a fresh database per test cloned from a migrated template, and the server on a real TCP port.
#![allow(dead_code)]

pub mod receiver;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::OnceLock;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

use shopvo::app::{self, AppState};
use shopvo::config::Config;
use shopvo::crypto::ServerKey;
use shopvo::db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use shopvo::domain::{keys, sites};

pub const SERVER_SECRET: &str = "test-server-secret-that-is-long-enough-0123456789";
const TEMPLATE: &str = "shopvo_test_template";

struct Server {
    admin: PgConnectOptions,
    socket_dir: Option<PathBuf>,
    /// The private cluster and its data folder, stopped and removed when the test process exits.
    cluster: std::sync::Mutex<Option<(EmbeddedPostgres, PathBuf)>>,
}

static SERVER: OnceLock<Server> = OnceLock::new();

/// The PostgreSQL server of this test process, with the migrated template database (made once).
fn server() -> &'static Server {
    SERVER.get_or_init(|| {
        // Runs on its own thread: the cluster's parent-death signal is tied to the spawning thread, and the
        // template is made with a runtime of its own (tests each have theirs).
        std::thread::spawn(|| {
            let server = start_server();
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(make_template(&server.admin));
            server
        })
        .join()
        .expect("test database setup failed")
    })
}

fn start_server() -> Server {
    if let Ok(url) = std::env::var("SHOPVO_TEST_DATABASE_URL") {
        let admin = PgConnectOptions::from_str(&url)
            .expect("SHOPVO_TEST_DATABASE_URL")
            .disable_statement_logging();
        return Server {
            admin,
            socket_dir: None,
            cluster: std::sync::Mutex::new(None),
        };
    }
    let base = std::env::temp_dir().join("shopvo-tests");
    remove_stale_dirs(&base);
    let data_dir = base.join(std::process::id().to_string());
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir).unwrap();
    let cluster = EmbeddedPostgres::start(&EmbeddedOptions {
        data_dir: data_dir.clone(),
        ephemeral: true,
        settings: Vec::new(),
    })
    .unwrap_or_else(|e| panic!("cannot start a private PostgreSQL for tests: {e}"));
    let socket_dir = cluster.socket_dir().to_path_buf();
    let admin = shopvo::db::socket_options(&socket_dir, "postgres");
    // The cluster must outlive every test: keep it for the life of the process, then stop it and delete
    // its folder (statics are never dropped, so an exit hook does it).
    unsafe { libc::atexit(remove_cluster) };
    Server {
        admin,
        socket_dir: Some(socket_dir),
        cluster: std::sync::Mutex::new(Some((cluster, data_dir))),
    }
}

extern "C" fn remove_cluster() {
    let Some(server) = SERVER.get() else { return };
    let taken = server
        .cluster
        .lock()
        .map(|mut c| c.take())
        .unwrap_or_default();
    if let Some((mut cluster, data_dir)) = taken {
        cluster.stop();
        let _ = std::fs::remove_dir_all(data_dir);
    }
}

/// Deletes folders of earlier test processes that have exited.
fn remove_stale_dirs(base: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let pid: Option<i32> = entry.file_name().to_str().and_then(|s| s.parse().ok());
        if let Some(pid) = pid
            && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

async fn make_template(admin: &PgConnectOptions) {
    let mut conn = sqlx::PgConnection::connect_with(admin).await.unwrap();
    // Several test processes may share one server: each makes its own template.
    let name = format!("{TEMPLATE}_{}", std::process::id());
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "drop database if exists {name}"
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(admin.clone().database(&name))
        .await
        .unwrap();
    shopvo::db::migrate(&pool).await.unwrap();
    pool.close().await;
}

/// A fresh, migrated database for one test.
pub async fn fresh_database() -> (PgConnectOptions, String) {
    let server = server();
    let name = format!(
        "t_{}_{}",
        std::process::id(),
        shopvo::crypto::random_token(12).to_lowercase()
    );
    let mut conn = sqlx::PgConnection::connect_with(&server.admin)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "create database {name} template {TEMPLATE}_{}",
        std::process::id()
    )))
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    (server.admin.clone().database(&name), name)
}

/// A `DATABASE_URL` for a database of the test server (for running the binary).
pub fn database_url(name: &str) -> String {
    match &server().socket_dir {
        Some(dir) => format!("postgres:///{name}?host={}&user=postgres", dir.display()),
        None => {
            let base = std::env::var("SHOPVO_TEST_DATABASE_URL").unwrap();
            let (prefix, _) = base.rsplit_once('/').unwrap();
            format!("{prefix}/{name}")
        }
    }
}

pub struct TestApp {
    pub url: String,
    pub pool: PgPool,
    pub db_name: String,
    pub client: reqwest::Client,
    pub server_key: ServerKey,
    /// The server's state (its caches), for tests that look inside.
    pub state: AppState,
    /// A site with an `admin:*` key, for tests that need one.
    pub site_id: String,
    pub admin_key: String,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(Config::default()).await
    }

    pub async fn spawn_with(config: Config) -> TestApp {
        let (options, db_name) = fresh_database().await;
        let pool = PgPoolOptions::new()
            .max_connections(20)
            .connect_with(options)
            .await
            .unwrap();
        Self::spawn_on(pool, db_name, config).await
    }

    /// A server on `pool`, a pool of the fresh database `db_name`.
    pub async fn spawn_on(pool: PgPool, db_name: String, config: Config) -> TestApp {
        let server_key = ServerKey::from_secret(SERVER_SECRET);
        let state = AppState::new(pool.clone(), config, server_key.clone()).unwrap();
        let app_state = state.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(
                listener,
                app::router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            .unwrap();
        });
        let mut app = TestApp {
            url: format!("http://{addr}"),
            pool,
            db_name,
            client: reqwest::Client::new(),
            server_key,
            state: app_state,
            site_id: String::new(),
            admin_key: String::new(),
        };
        app.site_id = app.create_site("Test Store").await;
        app.admin_key = app.key(&app.site_id.clone(), &["admin:*"]).await;
        app
    }

    pub async fn create_site(&self, name: &str) -> String {
        let new = sites::NewSite {
            name: name.into(),
            currency: "EUR".into(),
            locale: "en".into(),
        };
        sites::create(&mut self.pool.acquire().await.unwrap(), new)
            .await
            .unwrap()
            .id
    }

    pub async fn key(&self, site_id: &str, scopes: &[&str]) -> String {
        self.new_key(site_id, scopes, false).await.0
    }

    /// A key with a signing secret: (key, secret).
    pub async fn signing_key(&self, site_id: &str, scopes: &[&str]) -> (String, String) {
        let (key, secret) = self.new_key(site_id, scopes, true).await;
        (key, secret.unwrap())
    }

    async fn new_key(
        &self,
        site_id: &str,
        scopes: &[&str],
        signing: bool,
    ) -> (String, Option<String>) {
        let new = keys::NewKey {
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            publishable: false,
            test: false,
            signing,
            require_request_signature: false,
            name: None,
            expires_at: None,
        };
        let created = keys::create(
            &mut self.pool.acquire().await.unwrap(),
            &self.server_key,
            site_id,
            new,
        )
        .await
        .unwrap();
        (created.plaintext, created.signing_secret)
    }

    /// `/api/v1/{site}{path}` on the test site.
    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v1/{}{}", self.url, self.site_id, path)
    }

    /// A request to the test site with the admin key.
    pub async fn admin(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call(method, &self.api(path), Some(&self.admin_key), body)
            .await
    }

    /// Any request: returns the status and the JSON body (`Value::Null` when the body is not JSON).
    pub async fn call(
        &self,
        method: Method,
        url: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, url);
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let body = res.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    }

    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self.admin(Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let (status, res) = self.admin(Method::POST, path, Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "POST {path}: {res}");
        res
    }

    /// Creates a product through the API and returns its `data`.
    pub async fn product(&self, body: Value) -> Value {
        self.post("/products", body).await["data"].clone()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

/// Asserts an error envelope with this status and code; returns the body.
#[track_caller]
pub fn assert_error(result: &(StatusCode, Value), status: StatusCode, code: &str) {
    let (actual, body) = result;
    assert_eq!(*actual, status, "unexpected status, body: {body}");
    assert_eq!(body["success"], false, "body: {body}");
    assert_eq!(body["code"], code, "body: {body}");
    assert!(
        body["error"].as_str().is_some_and(|m| !m.is_empty()),
        "body: {body}"
    );
}

/// An app without rate limits, for tests that make more calls than a group allows in a minute.
pub async fn spawn_unlimited() -> TestApp {
    TestApp::spawn_with(Config {
        rate_limit: false,
        ..Config::default()
    })
    .await
}

/// A JSON string value as an owned `String` (panics, naming the value, when it is not a string).
pub fn str_of(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_string()
}

/// Waits, when needed, so that the next few seconds fall in one rate-limit window (fixed one-minute windows).
pub async fn start_of_a_window() {
    let second = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 60;
    if second >= 50 {
        tokio::time::sleep(std::time::Duration::from_secs(61 - second)).await;
    }
}

/// A 422 `VALIDATION_ERROR` blaming `field` first: a request that matched its schema but broke a rule no
/// schema states (a reference to nothing, one field against another, the state of what it changes).
pub fn assert_unprocessable(result: &(StatusCode, Value), field: &str) {
    assert_error(result, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR");
    assert_eq!(result.1["details"][0]["field"], field, "body: {}", result.1);
}
