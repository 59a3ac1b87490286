//! Graceful shutdown of `shopvo serve`: on SIGTERM it stops accepting connections, lets the requests in
//! flight finish, and exits cleanly.

mod common;

use std::time::{Duration, Instant};

use common::{TestApp, str_of};
use serde_json::json;
use sqlx::Connection;

#[tokio::test]
async fn sigterm_finishes_requests_in_flight_then_exits() {
    let app = TestApp::spawn().await;
    let product = app.product(json!({"name": "Lamp", "price": 1000})).await;
    let id = str_of(&product["id"]);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = common::database_url(&app.db_name);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_shopvo"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", &url)
        .env("SHOPVO_SECRET_KEY", common::SERVER_SECRET)
        .env("SHOPVO_JOBS", "off")
        .env("SHOPVO_RATE_LIMIT", "off")
        .env("SHOPVO_SHUTDOWN_GRACE", "20s")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while app
        .client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A request that will wait: another session holds the product's row.
    let mut holder = sqlx::PgConnection::connect(&url).await.unwrap();
    let mut tx = holder.begin().await.unwrap();
    sqlx::query("select 1 from products where id = $1 for update")
        .bind(&id)
        .execute(&mut *tx)
        .await
        .unwrap();
    let patch = tokio::spawn({
        let request = app
            .client
            .patch(format!("{base}/api/v1/{}/products/{id}", app.site_id))
            .bearer_auth(&app.admin_key)
            .json(&json!({"price": 1500}));
        async move { request.send().await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    unsafe { libc::kill(child.id().unwrap() as i32, libc::SIGTERM) };
    tokio::time::sleep(Duration::from_millis(500)).await;
    // No longer accepting new connections.
    let fresh = reqwest::Client::new()
        .get(format!("{base}/healthz"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(fresh.is_err(), "a new connection was served after SIGTERM");
    // The request in flight finishes once the row is free, and the process then exits cleanly.
    tx.rollback().await.unwrap();
    let response = patch
        .await
        .unwrap()
        .expect("the request in flight was cut off");
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("serve did not exit")
        .unwrap();
    assert!(status.success(), "{status}");
    let price: i64 = sqlx::query_scalar("select price from products where id = $1")
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(price, 1500);
}
