//! When the database fails: a lost connection or a statement past its timeout answers 503 with the error
//! envelope and `Retry-After` (never a 500), nothing is half-written, and the next request recovers without a
//! restart. A request refused before its body was read says `Connection: close`. A private cluster killed
//! with its data mid-flight starts again after crash recovery.

mod common;

use std::time::Duration;

use common::{TestApp, str_of};
use reqwest::{Method, StatusCode};
use serde_json::json;
use shopvo::config::Config;
use shopvo::db::{Database, Timeouts};
use sqlx::Connection;

/// A server whose pool is configured as `shopvo serve` configures it (no ping before use).
async fn spawn_as_served(timeouts: Timeouts) -> TestApp {
    let (options, db_name) = common::fresh_database().await;
    let url = common::database_url(&db_name);
    let database = Database::open(Some(&url), std::path::Path::new("."))
        .await
        .unwrap();
    assert!(database.cluster.is_none());
    drop(options);
    let pool = database.pool(10, timeouts).await.unwrap();
    TestApp::spawn_on(pool, db_name, Config::default()).await
}

#[tokio::test]
async fn a_lost_connection_is_a_503_and_the_next_requests_recover() {
    let app = spawn_as_served(Timeouts::default()).await;
    // A few connections in the pool, each used once.
    for _ in 0..3 {
        let (status, _) = app.admin(Method::GET, "/customers", None).await;
        assert_eq!(status, StatusCode::OK);
    }
    let url = common::database_url(&app.db_name);
    let mut killer = sqlx::PgConnection::connect(&url).await.unwrap();
    let killed: i64 = sqlx::query_scalar(
        "select count(*) from (select pg_terminate_backend(pid) from pg_stat_activity \
         where datname = current_database() and pid <> pg_backend_pid()) k",
    )
    .fetch_one(&mut killer)
    .await
    .unwrap();
    assert!(killed >= 1, "no server connection to terminate");
    let mut unavailable = 0;
    let mut recovered = false;
    for _ in 0..30 {
        let (status, body) = app.admin(Method::GET, "/customers", None).await;
        match status {
            StatusCode::OK => {
                recovered = true;
                break;
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(body["code"], "UNAVAILABLE", "{body}");
                assert_eq!(body["success"], false);
                unavailable += 1;
            }
            other => panic!("a lost connection answered {other}: {body}"),
        }
    }
    assert!(unavailable >= 1, "the dead connection was never used");
    assert!(recovered, "the server did not recover");
    // A write after recovery works and is whole. The reads used connections kept for reads, so the pool's
    // own dead connections may each answer one 503 first (each is closed after its failure).
    let mut written = false;
    for _ in 0..12 {
        let (status, body) = app
            .admin(
                Method::POST,
                "/customers",
                Some(json!({"email": "after@example.com"})),
            )
            .await;
        match status {
            StatusCode::CREATED => {
                written = true;
                break;
            }
            StatusCode::SERVICE_UNAVAILABLE => assert_eq!(body["code"], "UNAVAILABLE", "{body}"),
            other => panic!("a write after recovery answered {other}: {body}"),
        }
    }
    assert!(written, "no write succeeded after recovery");
    let customers: i64 =
        sqlx::query_scalar("select count(*) from customers where email = 'after@example.com'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(customers, 1);
}

#[tokio::test]
async fn a_statement_past_its_timeout_is_a_503_with_retry_after_and_changes_nothing() {
    let app = spawn_as_served(Timeouts {
        statement: Duration::from_secs(1),
        acquire: Duration::from_secs(5),
    })
    .await;
    let product = app.product(json!({"name": "Locked", "price": 1000})).await;
    let id = str_of(&product["id"]);
    // Another session holds the product's row.
    let url = common::database_url(&app.db_name);
    let mut holder = sqlx::PgConnection::connect(&url).await.unwrap();
    let mut tx = holder.begin().await.unwrap();
    sqlx::query("select 1 from products where id = $1 for update")
        .bind(&id)
        .execute(&mut *tx)
        .await
        .unwrap();
    let res = app
        .client
        .patch(app.api(&format!("/products/{id}")))
        .bearer_auth(&app.admin_key)
        .json(&json!({"price": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["retry-after"], "2");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "UNAVAILABLE");
    tx.rollback().await.unwrap();
    let price: i64 = sqlx::query_scalar("select price from products where id = $1")
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(price, 1000);
    assert_eq!(
        app.count("select count(*) from events where type = 'product.updated'")
            .await,
        0
    );
}

#[tokio::test]
async fn a_request_refused_before_its_body_is_read_says_connection_close() {
    let app = TestApp::spawn().await;
    let big = "x".repeat(150 * 1024);
    let body = format!("{{\"name\": \"{big}\", \"price\": 1}}");
    for key in [None, Some("sk_live_unknown")] {
        let mut req = app
            .client
            .post(app.api("/products"))
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.headers()["connection"], "close");
    }
    // A body the handler reads keeps the connection open.
    let res = app
        .client
        .post(app.api("/customers"))
        .bearer_auth(&app.admin_key)
        .json(&json!({"email": "kept@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(!res.headers().contains_key("connection"));
    // And the client's next request succeeds.
    let (status, _) = app.admin(Method::GET, "/customers", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[test]
fn a_private_cluster_killed_mid_flight_starts_again_after_recovery() {
    use shopvo::db::embedded::{EmbeddedOptions, EmbeddedPostgres};
    let dir = std::env::temp_dir().join(format!("shopvo-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let options = EmbeddedOptions {
        data_dir: dir.clone(),
        ephemeral: false,
        settings: Vec::new(),
    };
    // Started from a thread of its own: the cluster lives as long as the thread that spawned it.
    let run = |options: EmbeddedOptions, write: bool| {
        std::thread::spawn(move || {
            let cluster = EmbeddedPostgres::start(&options).expect("start");
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let socket = cluster.socket_dir().to_path_buf();
            let rows: i64 = rt.block_on(async {
                let admin = shopvo::db::socket_options(&socket, "postgres");
                let mut conn = sqlx::PgConnection::connect_with(&admin).await.unwrap();
                if write {
                    sqlx::query("create table if not exists t (n int)")
                        .execute(&mut conn)
                        .await
                        .unwrap();
                    sqlx::query("insert into t select generate_series(1, 10000)")
                        .execute(&mut conn)
                        .await
                        .unwrap();
                }
                sqlx::query_scalar("select count(*) from t")
                    .fetch_one(&mut conn)
                    .await
                    .unwrap()
            });
            if write {
                // Kill the postmaster outright: no shutdown checkpoint, so the next start recovers.
                let pid: i32 = std::fs::read_to_string(options.data_dir.join("pg/postmaster.pid"))
                    .unwrap()
                    .lines()
                    .next()
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap();
                unsafe { libc::kill(pid, libc::SIGKILL) };
                std::thread::sleep(Duration::from_millis(300));
            }
            drop(cluster);
            rows
        })
        .join()
        .unwrap()
    };
    assert_eq!(run(options.clone(), true), 10_000);
    // The stale postmaster.pid still says "ready": start must wait for the new postmaster's own.
    assert_eq!(run(options, false), 10_000);
    let _ = std::fs::remove_dir_all(&dir);
}
