//! Read-only requests use connections kept aside for reads, given back without sqlx's ping: only after the
//! request answered without a server error. A request whose client gave up mid-statement, or one that failed
//! on a broken connection, closes its connection instead.

mod common;

use std::time::Duration;

use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::json;

/// The server's connections that wait for a lock: a read stuck behind the test's table lock.
async fn waiting_backends(app: &TestApp) -> Vec<i32> {
    sqlx::query_scalar(
        "select pid from pg_stat_activity where datname = $1 and wait_event_type = 'Lock'",
    )
    .bind(&app.db_name)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

async fn is_open(app: &TestApp, pid: i32) -> bool {
    sqlx::query_scalar("select exists (select 1 from pg_stat_activity where pid = $1)")
        .bind(pid)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_read_whose_client_gave_up_mid_statement_closes_its_connection() {
    let app = TestApp::spawn().await;
    let product = app.product(json!({"name": "Lamp", "price": 1200})).await;
    let path = format!("/products/{}", product["id"].as_str().unwrap());
    // Kept connections exist and answer.
    for _ in 0..3 {
        app.get(&path).await;
    }

    // The product read waits behind a lock the test holds, and its client gives up.
    let mut locker = app.pool.begin().await.unwrap();
    sqlx::query("lock table product_docs in access exclusive mode")
        .execute(&mut *locker)
        .await
        .unwrap();
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let gave_up = impatient
        .get(app.api(&path))
        .bearer_auth(&app.admin_key)
        .send()
        .await;
    assert!(gave_up.is_err(), "the read should have waited for the lock");
    let waiting = waiting_backends(&app).await;
    assert_eq!(waiting.len(), 1, "one read waits for the lock");
    locker.rollback().await.unwrap();

    // The statement then ends, and its connection, left mid-request, is closed rather than kept.
    let mut closed = false;
    for _ in 0..50 {
        if !is_open(&app, waiting[0]).await {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(closed, "the abandoned read's connection is still open");
    for _ in 0..5 {
        assert_eq!(app.get(&path).await["data"]["name"], "Lamp");
    }
}

#[tokio::test]
async fn a_broken_read_connection_is_not_kept() {
    let app = TestApp::spawn().await;
    let product = app.product(json!({"name": "Lamp", "price": 1200})).await;
    let path = format!("/products/{}", product["id"].as_str().unwrap());
    for _ in 0..3 {
        app.get(&path).await;
    }

    // Every connection of the server but the test's own is cut (the pool's and the kept ones).
    sqlx::query(
        "select pg_terminate_backend(pid) from pg_stat_activity \
         where datname = $1 and pid <> pg_backend_pid()",
    )
    .bind(&app.db_name)
    .execute(&app.pool)
    .await
    .unwrap();

    // A read on a cut connection fails (a 503 to retry), and that connection is closed: after at most as
    // many failures as there were kept connections, every read answers.
    let mut failures = 0;
    let mut answered = 0;
    for _ in 0..20 {
        let (status, body) = app.admin(Method::GET, &path, None).await;
        if status == StatusCode::OK {
            answered += 1;
        } else {
            assert_eq!(
                answered, 0,
                "a read failed after reads answered: {status} {body}"
            );
            assert!(status.is_server_error(), "{status} {body}");
            failures += 1;
        }
    }
    assert!(failures <= 4, "{failures} reads failed");
    assert_eq!(answered, 20 - failures);
}
