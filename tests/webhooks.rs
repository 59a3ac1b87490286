//! Events and webhooks: subscriptions over HTTP, signed deliveries to a real local receiver, retries,
//! leases and restarts, the SSRF guard, and the events the domain records.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::receiver::{Received, Receiver};
use common::{TestApp, assert_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use shopvo::config::{Config, WebhookSettings};
use shopvo::jobs::webhooks::Worker;

// ---------------------------------------------------------------------------------------------------------
// Helpers.

fn settings() -> WebhookSettings {
    WebhookSettings {
        retry_schedule: vec![Duration::from_millis(50); 5],
        allow_private: true,
        allow_http: false,
        timeout: Duration::from_secs(2),
        disable_after: Duration::from_secs(3600),
        concurrency: 8,
        poll_interval: Duration::from_millis(200),
        retention: Duration::from_secs(86_400),
    }
}

async fn spawn_with(webhooks: WebhookSettings) -> TestApp {
    TestApp::spawn_with(Config {
        webhooks,
        rate_limit: false,
        ..Config::default()
    })
    .await
}

async fn spawn() -> TestApp {
    spawn_with(settings()).await
}

fn worker_on(app: &TestApp, pool: PgPool, settings: WebhookSettings) -> Worker {
    Worker::new(pool, Arc::new(app.server_key.clone()), settings).unwrap()
}

fn worker(app: &TestApp) -> Worker {
    worker_on(app, app.pool.clone(), settings())
}

/// Subscribes `url` to `events`; returns (id, secret).
async fn subscribe(app: &TestApp, url: &str, events: Value) -> (String, String) {
    let body = app
        .post("/webhooks", json!({"url": url, "events": events}))
        .await;
    let secret = body["data"]["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{body}");
    (body["data"]["id"].as_str().unwrap().to_string(), secret)
}

/// Checks `X-Shopvo-Signature` the way the spec's receiver snippet does (300 s tolerance).
fn signature_ok(secret: &str, request: &Received) -> bool {
    let header = request.header("x-shopvo-signature");
    let parts: HashMap<&str, &str> = header
        .split(',')
        .filter_map(|p| p.split_once('='))
        .collect();
    let (Some(t), Some(received)) = (parts.get("t"), parts.get("sha256")) else {
        return false;
    };
    let t: i64 = t.parse().unwrap();
    if (chrono::Utc::now().timestamp() - t).abs() > 300 {
        return false;
    }
    let expected = hex::encode(shopvo::crypto::hmac_sha256(
        secret.as_bytes(),
        format!("{t}.{}", request.body).as_bytes(),
    ));
    shopvo::crypto::constant_time_eq(received.as_bytes(), expected.as_bytes())
}

/// Polls `check` every 20 ms until it holds or `limit` passes.
async fn wait_for<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    check().await
}

/// Drains repeatedly (retries become due) until `check` holds or `limit` passes.
async fn drain_until<F>(worker: &Worker, limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> bool,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        worker.drain().await.unwrap();
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    check()
}

async fn product(app: &TestApp, name: &str) -> Value {
    app.product(json!({"name": name, "price": 1000})).await
}

async fn deliveries(app: &TestApp, webhook: &str, query: &str) -> Vec<Value> {
    app.get(&format!("/webhooks/{webhook}/deliveries{query}"))
        .await["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// Records `count` events of `kind` directly in the outbox, committed.
async fn record_events(app: &TestApp, kind: &str, count: usize) {
    let mut tx = app.pool.begin().await.unwrap();
    for i in 0..count {
        shopvo::domain::events::record(&mut tx, &app.site_id, kind, &json!({"n": i}))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

// ---------------------------------------------------------------------------------------------------------
// Delivery.

#[tokio::test]
async fn events_are_delivered_signed_to_the_subscriptions_that_want_them() {
    let app = spawn().await;
    let receiver = Receiver::start().await;
    let (hook, secret) = subscribe(&app, &receiver.url("/ok"), json!(["product.created"])).await;
    let (others, _) = subscribe(&app, &receiver.url("/orders"), json!(["order.*"])).await;
    let (all, all_secret) = subscribe(&app, &receiver.url("/ok"), json!("*")).await;
    let p = product(&app, "Widget").await;

    let report = worker(&app).drain().await.unwrap();
    assert!(report.events >= 1);
    let got = receiver.at("/ok");
    // `*` also gets product.created (and nothing else happened).
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(receiver.at("/orders").is_empty());
    for request in &got {
        assert_eq!(request.header("content-type"), "application/json");
        assert_eq!(request.header("x-shopvo-event"), "product.created");
        assert!(request.header("x-shopvo-delivery").starts_with("whd_"));
        let body = request.json();
        assert_eq!(body["event"], "product.created");
        assert_eq!(body["siteId"], app.site_id.as_str());
        assert_eq!(body["data"]["id"], p["id"]);
        assert_eq!(body["data"]["variants"][0]["id"], p["variants"][0]["id"]);
        assert!(chrono::DateTime::parse_from_rfc3339(body["timestamp"].as_str().unwrap()).is_ok());
        // The spec's field order.
        assert!(request.body.starts_with("{\"event\":"), "{}", request.body);
        // Each subscription's own secret signs its delivery.
        assert!(signature_ok(&secret, request) || signature_ok(&all_secret, request));
        assert!(!signature_ok("whsec_wrong", request));
    }
    let ids: HashSet<&str> = got.iter().map(|r| r.header("x-shopvo-delivery")).collect();
    assert_eq!(ids.len(), 2);

    // The operator view: delivered, one attempt with its status, latency and answer.
    let list = deliveries(&app, &hook, "").await;
    assert_eq!(list.len(), 1);
    let d = &list[0];
    assert_eq!(d["status"], "delivered");
    assert_eq!(d["event"], "product.created");
    assert_eq!(d["attemptCount"], 1);
    assert_eq!(d["webhookId"], hook.as_str());
    assert_eq!(d["payload"]["data"]["id"], p["id"]);
    assert!(d["deliveredAt"].is_string());
    assert_eq!(d["attempts"][0]["attempt"], 1);
    assert_eq!(d["attempts"][0]["statusCode"], 200);
    assert_eq!(d["attempts"][0]["responseBody"], "thanks");
    assert!(d["attempts"][0]["latencyMs"].is_number());
    assert!(
        got.iter()
            .any(|r| r.header("x-shopvo-delivery") == d["id"].as_str().unwrap())
    );
    assert!(deliveries(&app, &others, "").await.is_empty());
    assert_eq!(deliveries(&app, &all, "?status=delivered").await.len(), 1);
    assert!(deliveries(&app, &all, "?status=failed").await.is_empty());

    // Nothing more to do.
    assert_eq!(worker(&app).drain().await.unwrap().attempts, 0);
    assert_eq!(receiver.requests().len(), 2);
}

#[tokio::test]
async fn a_receiver_failing_three_times_gets_the_event_once_more_with_the_same_delivery_id() {
    let app = spawn().await;
    let receiver = Receiver::start().await;
    receiver.state.flaky_failures.store(3, Ordering::SeqCst);
    let (hook, secret) = subscribe(&app, &receiver.url("/flaky"), json!(["product.created"])).await;
    product(&app, "Widget").await;

    let worker = worker(&app);
    assert!(
        drain_until(&worker, Duration::from_secs(10), || receiver
            .requests()
            .len()
            >= 4)
        .await
    );
    // Later retries would show up here: give them time.
    tokio::time::sleep(Duration::from_millis(300)).await;
    worker.drain().await.unwrap();

    let got = receiver.at("/flaky");
    assert_eq!(got.len(), 4, "three failures and one success");
    let ids: HashSet<&str> = got.iter().map(|r| r.header("x-shopvo-delivery")).collect();
    assert_eq!(ids.len(), 1, "the same delivery id on every attempt");
    assert!(got.iter().all(|r| signature_ok(&secret, r)));
    assert!(got.iter().all(|r| r.body == got[0].body));

    let d = &deliveries(&app, &hook, "").await[0];
    assert_eq!(d["status"], "delivered");
    assert_eq!(d["attemptCount"], 4);
    let codes: Vec<i64> = d["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["statusCode"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, vec![500, 500, 500, 200]);
    assert_eq!(d["attempts"][0]["error"], "HTTP 500");
    assert_eq!(d["attempts"][0]["responseBody"], "not yet");
    // A success clears the subscription's failure state.
    let sub = app.get(&format!("/webhooks/{hook}")).await;
    assert_eq!(sub["data"]["failingSince"], Value::Null);
    assert_eq!(sub["data"]["active"], true);
}

#[tokio::test]
async fn after_the_last_retry_a_delivery_fails_and_a_subscription_failing_for_too_long_is_disabled()
{
    let mut s = settings();
    s.retry_schedule = vec![Duration::from_millis(30); 3];
    s.disable_after = Duration::from_millis(250);
    let app = spawn_with(s.clone()).await;
    let receiver = Receiver::start().await;
    let (hook, _) = subscribe(&app, &receiver.url("/fail"), json!("*")).await;
    product(&app, "One").await;
    let worker = worker_on(&app, app.pool.clone(), s);
    assert!(
        drain_until(&worker, Duration::from_secs(10), || receiver
            .requests()
            .len()
            >= 4)
        .await
    );
    worker.drain().await.unwrap();
    let d = &deliveries(&app, &hook, "").await[0];
    assert_eq!(d["status"], "failed", "{d}");
    assert_eq!(d["attemptCount"], 4, "the first attempt and three retries");
    assert_eq!(d["nextAttemptAt"], Value::Null);
    assert_eq!(receiver.requests().len(), 4);

    // Still failing after the disable window: the next failure disables the subscription.
    tokio::time::sleep(Duration::from_millis(300)).await;
    product(&app, "Two").await;
    worker.drain().await.unwrap();
    let sub = app.get(&format!("/webhooks/{hook}")).await["data"].clone();
    assert_eq!(sub["active"], false, "{sub}");
    assert!(
        sub["disabledReason"]
            .as_str()
            .unwrap()
            .contains("Disabled automatically"),
        "{sub}"
    );
    assert!(sub["disabledAt"].is_string());
    // Inactive: new events are not queued for it, and queued ones wait.
    let before = receiver.requests().len();
    product(&app, "Three").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    worker.drain().await.unwrap();
    assert_eq!(receiver.requests().len(), before);
    assert_eq!(deliveries(&app, &hook, "").await.len(), 2);
    // Manual sends are refused until it is reactivated.
    let res = app
        .admin(Method::POST, &format!("/webhooks/{hook}/test"), None)
        .await;
    assert_error(&res, StatusCode::CONFLICT, "WEBHOOK_INACTIVE");

    // Reactivating clears the failure state.
    let (status, body) = app
        .admin(
            Method::PATCH,
            &format!("/webhooks/{hook}"),
            Some(json!({"active": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["active"], true);
    assert_eq!(body["data"]["disabledReason"], Value::Null);
    assert_eq!(body["data"]["failingSince"], Value::Null);
}

#[tokio::test]
async fn events_of_a_rolled_back_transaction_are_never_sent() {
    let app = spawn().await;
    let receiver = Receiver::start().await;
    subscribe(&app, &receiver.url("/ok"), json!("*")).await;

    // A product created in a transaction that rolls back: its event goes with it.
    let mut tx = app.pool.begin().await.unwrap();
    let input = serde_json::from_value(json!({"name": "Ghost", "price": 100})).unwrap();
    shopvo::domain::catalog::products::create(&mut tx, &app.site_id, input)
        .await
        .unwrap();
    shopvo::domain::events::record(&mut tx, &app.site_id, "order.created", &json!({"id": "x"}))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    // A request that fails validation writes nothing either.
    let res = app
        .admin(
            Method::POST,
            "/products",
            Some(json!({"name": "", "price": -1})),
        )
        .await;
    assert_eq!(res.0, StatusCode::BAD_REQUEST);

    assert_eq!(worker(&app).drain().await.unwrap(), Default::default());
    assert_eq!(app.count("select count(*) from events").await, 0);
    assert!(receiver.requests().is_empty());

    // A committed one goes out.
    product(&app, "Real").await;
    worker(&app).drain().await.unwrap();
    assert_eq!(receiver.requests().len(), 1);
    assert_eq!(receiver.requests()[0].json()["data"]["name"], "Real");
}

#[tokio::test]
async fn two_workers_never_send_the_same_attempt_twice() {
    let app = spawn().await;
    let receiver = Receiver::start().await;
    subscribe(&app, &receiver.url("/ok"), json!("*")).await;
    subscribe(&app, &receiver.url("/slow"), json!(["order.created"])).await;
    record_events(&app, "order.created", 30).await;

    // Two workers with pools of their own, as in two processes, dispatching and sending at once.
    let mut s = settings();
    s.concurrency = 4;
    let other_pool = PgPoolOptions::new()
        .max_connections(8)
        .connect(&common::database_url(&app.db_name))
        .await
        .unwrap();
    let a = worker_on(&app, app.pool.clone(), s.clone());
    let b = worker_on(&app, other_pool, s);
    let (ra, rb) = tokio::join!(a.drain(), b.drain());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.events + rb.events, 30, "each event dispatched once");
    assert_eq!(
        ra.attempts + rb.attempts,
        60,
        "each delivery attempted once"
    );

    let got = receiver.requests();
    assert_eq!(got.len(), 60);
    let ids: HashSet<&str> = got.iter().map(|r| r.header("x-shopvo-delivery")).collect();
    assert_eq!(ids.len(), 60, "no delivery was sent twice");
    assert_eq!(
        app.count("select count(*) from webhook_deliveries where status = 'delivered' and attempt_count = 1")
            .await,
        60
    );
    assert_eq!(app.count("select count(*) from webhook_attempts").await, 60);
}

#[tokio::test]
async fn a_restart_mid_queue_loses_nothing() {
    let mut s = settings();
    s.timeout = Duration::from_millis(500);
    s.concurrency = 2;
    let app = spawn_with(s.clone()).await;
    let receiver = Receiver::start().await;
    subscribe(&app, &receiver.url("/slow"), json!("*")).await;
    record_events(&app, "order.created", 20).await;

    // The first process starts delivering, then dies abruptly mid-queue (attempts in flight included).
    let first = worker_on(&app, app.pool.clone(), s.clone());
    let running = tokio::spawn(first.run(std::future::pending()));
    assert!(
        wait_for(Duration::from_secs(10), || async {
            receiver.requests().len() >= 4
        })
        .await
    );
    running.abort();
    let _ = running.await;
    let delivered_before = app
        .count("select count(*) from webhook_deliveries where status = 'delivered'")
        .await;
    assert!(delivered_before < 20, "the restart happened mid-queue");
    // Events written while no worker runs wait in the outbox.
    record_events(&app, "order.updated", 5).await;

    // Another process on the same database picks up everything, including the abandoned attempts once
    // their leases expire.
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect(&common::database_url(&app.db_name))
        .await
        .unwrap();
    let second = worker_on(&app, pool.clone(), s);
    let running = tokio::spawn(second.run(std::future::pending()));
    let done = wait_for(Duration::from_secs(20), || {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "select count(*) from webhook_deliveries where status = 'delivered'",
            )
            .fetch_one(&pool)
            .await
            .unwrap()
                == 25
        }
    })
    .await;
    running.abort();
    assert!(done, "every delivery was made");
    let ids: HashSet<String> = receiver
        .requests()
        .iter()
        .map(|r| r.header("x-shopvo-delivery").to_string())
        .collect();
    assert_eq!(ids.len(), 25, "every event reached the receiver");
    // At least once: only attempts cut short by the crash (at most `concurrency`) were sent again.
    assert!(
        receiver.requests().len() <= 27,
        "{}",
        receiver.requests().len()
    );
}

#[tokio::test]
async fn the_running_worker_is_woken_by_notifications() {
    let mut s = settings();
    // Polling alone would take 30 s.
    s.poll_interval = Duration::from_secs(30);
    let app = spawn_with(s.clone()).await;
    let receiver = Receiver::start().await;
    subscribe(&app, &receiver.url("/ok"), json!("*")).await;
    let running = tokio::spawn(worker_on(&app, app.pool.clone(), s).run(std::future::pending()));
    // Let it reach its first sleep.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    product(&app, "Widget").await;
    assert!(
        wait_for(Duration::from_secs(5), || async {
            !receiver.requests().is_empty()
        })
        .await
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    running.abort();
}

#[tokio::test]
async fn a_hanging_receiver_times_out_without_stalling_other_deliveries() {
    let app = spawn().await;
    let receiver = Receiver::start().await;
    let (hang, _) = subscribe(&app, &receiver.url("/hang"), json!("*")).await;
    let (ok, _) = subscribe(&app, &receiver.url("/ok"), json!("*")).await;
    product(&app, "Widget").await;

    let w = worker(&app);
    let started = Instant::now();
    let drain = tokio::spawn(async move { w.drain().await.unwrap() });
    let pool = app.pool.clone();
    let delivered = wait_for(Duration::from_secs(2), || {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "select count(*) from webhook_deliveries where status = 'delivered'",
            )
            .fetch_one(&pool)
            .await
            .unwrap()
                == 1
        }
    })
    .await;
    assert!(delivered);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "the healthy target was served while the other hung"
    );
    drain.await.unwrap();
    // The hanging attempt ended at the 2 s timeout and will be retried.
    assert!(started.elapsed() < Duration::from_secs(5));
    let d = &deliveries(&app, &hang, "").await[0];
    assert_eq!(d["status"], "pending");
    assert_eq!(d["attempts"][0]["statusCode"], Value::Null);
    assert!(
        d["attempts"][0]["error"]
            .as_str()
            .unwrap()
            .contains("timed out"),
        "{d}"
    );
    assert!(d["attempts"][0]["latencyMs"].as_i64().unwrap() >= 1900);
    assert_eq!(deliveries(&app, &ok, "").await[0]["status"], "delivered");
}

#[tokio::test]
async fn redirects_are_not_followed_and_count_as_failures() {
    let app = spawn().await;
    let receiver = Receiver::start().await;
    let (hook, _) = subscribe(&app, &receiver.url("/redirect"), json!("*")).await;
    product(&app, "Widget").await;
    worker(&app).drain().await.unwrap();
    assert!(
        receiver.at("/ok").is_empty(),
        "the redirect was not followed"
    );
    let d = &deliveries(&app, &hook, "").await[0];
    assert_eq!(d["status"], "pending");
    assert_eq!(d["lastStatusCode"], 307);
    assert!(
        d["lastError"]
            .as_str()
            .unwrap()
            .contains("redirects are not followed"),
        "{d}"
    );
}

#[tokio::test]
async fn huge_answers_are_cut_short() {
    let app = spawn().await;
    let receiver = Receiver::start().await;
    let (hook, _) = subscribe(&app, &receiver.url("/huge"), json!("*")).await;
    product(&app, "Widget").await;
    let started = Instant::now();
    worker(&app).drain().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "100 MiB were not read"
    );
    let d = &deliveries(&app, &hook, "").await[0];
    assert_eq!(d["status"], "delivered");
    let kept = d["attempts"][0]["responseBody"].as_str().unwrap();
    assert_eq!(kept.len(), 4096);
    assert!(kept.bytes().all(|b| b == b'x'));
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let app = spawn().await;
    let receiver = Receiver::start().await;
    let (hook, _) = subscribe(&app, &receiver.url("/retry-after"), json!("*")).await;
    product(&app, "Widget").await;
    let w = worker(&app);
    w.drain().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    w.drain().await.unwrap();
    // The schedule says 50 ms; the receiver asked for 3 s.
    assert_eq!(receiver.requests().len(), 1);
    let waits = app
        .count(&format!(
            "select extract(epoch from next_attempt_at - now())::bigint from webhook_deliveries \
             where subscription_id = '{hook}'"
        ))
        .await;
    assert!((1..=3).contains(&waits), "{waits}");
}

// ---------------------------------------------------------------------------------------------------------
// Operator views: ping, redeliver, secrets.

#[tokio::test]
async fn ping_redeliver_and_secret_rotation() {
    let app = spawn().await;
    let receiver = Receiver::start().await;
    let (hook, secret) = subscribe(&app, &receiver.url("/ok"), json!(["order.created"])).await;

    let (status, body) = app
        .admin(Method::POST, &format!("/webhooks/{hook}/test"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["data"]["event"], "ping");
    assert_eq!(body["data"]["status"], "pending");
    let ping_id = body["data"]["id"].as_str().unwrap().to_string();
    worker(&app).drain().await.unwrap();
    let got = receiver.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("x-shopvo-event"), "ping");
    assert_eq!(got[0].header("x-shopvo-delivery"), ping_id);
    assert_eq!(got[0].json()["data"]["webhookId"], hook.as_str());
    assert!(signature_ok(&secret, &got[0]));

    // Redelivery: the same id and body, sent again.
    let (status, body) = app
        .admin(
            Method::POST,
            &format!("/webhooks/{hook}/deliveries/{ping_id}/redeliver"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["data"]["status"], "pending");
    worker(&app).drain().await.unwrap();
    let got = receiver.requests();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].header("x-shopvo-delivery"), ping_id);
    assert_eq!(got[1].body, got[0].body);
    let d = app
        .get(&format!("/webhooks/{hook}/deliveries/{ping_id}"))
        .await["data"]
        .clone();
    assert_eq!(d["status"], "delivered");
    assert_eq!(d["attemptCount"], 2);
    assert_eq!(d["attempts"].as_array().unwrap().len(), 2);

    // The secret is shown once, sealed at rest, and rotation signs from then on with the new one.
    let listed = app.get("/webhooks").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert!(listed["items"][0].get("secret").is_none());
    assert!(
        app.get(&format!("/webhooks/{hook}")).await["data"]
            .get("secret")
            .is_none()
    );
    let stored: Vec<u8> = sqlx::query_scalar("select secret_enc from webhook_subscriptions")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!stored.windows(secret.len()).any(|w| w == secret.as_bytes()));
    let (status, body) = app
        .admin(
            Method::POST,
            &format!("/webhooks/{hook}/rotate-secret"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rotated = body["data"]["secret"].as_str().unwrap().to_string();
    assert_ne!(rotated, secret);
    record_events(&app, "order.created", 1).await;
    worker(&app).drain().await.unwrap();
    let last = receiver.requests().pop().unwrap();
    assert_eq!(last.header("x-shopvo-event"), "order.created");
    assert!(signature_ok(&rotated, &last));
    assert!(!signature_ok(&secret, &last));

    // A delivery of another subscription, or an unknown one, is a 404.
    let (other, _) = subscribe(&app, &receiver.url("/ok"), json!("*")).await;
    let res = app
        .admin(
            Method::POST,
            &format!("/webhooks/{other}/deliveries/{ping_id}/redeliver"),
            None,
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = app
        .admin(
            Method::GET,
            &format!("/webhooks/{hook}/deliveries/whd_nope"),
            None,
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
}

#[tokio::test]
async fn subscriptions_crud_and_tenancy() {
    let app = spawn().await;
    let (hook, _) = subscribe(
        &app,
        "http://127.0.0.1:9/a",
        json!(["order.created", "order.created", "inventory.*"]),
    )
    .await;
    let sub = app.get(&format!("/webhooks/{hook}")).await["data"].clone();
    assert_eq!(sub["events"], json!(["order.created", "inventory.*"]));
    assert_eq!(sub["active"], true);
    assert_eq!(sub["url"], "http://127.0.0.1:9/a");

    let (status, body) = app
        .admin(
            Method::PATCH,
            &format!("/webhooks/{hook}"),
            Some(json!({"events": "*", "description": "ERP", "active": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["events"], json!(["*"]));
    assert_eq!(body["data"]["description"], "ERP");
    assert_eq!(body["data"]["active"], false);
    let (status, body) = app
        .admin(
            Method::PUT,
            &format!("/webhooks/{hook}"),
            Some(json!({"url": "http://127.0.0.1:9/b", "events": ["product.*"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["url"], "http://127.0.0.1:9/b");
    assert_eq!(body["data"]["description"], Value::Null);
    assert_eq!(body["data"]["active"], true);

    // Another site's key sees nothing of it; scopes hold.
    let other_site = app.create_site("Other").await;
    let other_key = app.key(&other_site, &["admin:*"]).await;
    let url = format!("{}/api/v1/{other_site}/webhooks/{hook}", app.url);
    let res = app.call(Method::GET, &url, Some(&other_key), None).await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = app.call(Method::DELETE, &url, Some(&other_key), None).await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let reader = app.key(&app.site_id, &["webhooks:read"]).await;
    let res = app
        .call(Method::GET, &app.api("/webhooks"), Some(&reader), None)
        .await;
    assert_eq!(res.0, StatusCode::OK);
    let res = app
        .call(
            Method::POST,
            &app.api("/webhooks"),
            Some(&reader),
            Some(json!({"url": "http://127.0.0.1:9/", "events": "*"})),
        )
        .await;
    assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    let catalog = app.key(&app.site_id, &["read:catalog"]).await;
    let res = app
        .call(Method::GET, &app.api("/webhooks"), Some(&catalog), None)
        .await;
    assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    let writer = app.key(&app.site_id, &["webhooks:write"]).await;
    let res = app
        .call(
            Method::POST,
            &app.api(&format!("/webhooks/{hook}/rotate-secret")),
            Some(&writer),
            None,
        )
        .await;
    assert_eq!(res.0, StatusCode::OK);

    let (status, body) = app
        .admin(Method::DELETE, &format!("/webhooks/{hook}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["deleted"], true);
    let res = app
        .admin(Method::GET, &format!("/webhooks/{hook}"), None)
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
}

// ---------------------------------------------------------------------------------------------------------
// Bad input and the SSRF guard.

#[tokio::test]
async fn bad_subscriptions_are_refused_in_the_envelope() {
    let app = spawn().await;
    let post = |body: Value| {
        let app = &app;
        async move { app.admin(Method::POST, "/webhooks", Some(body)).await }
    };
    let invalid = |res: &(StatusCode, Value), field: &str| {
        assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert!(
            res.1["details"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["field"] == field),
            "{}",
            res.1
        );
    };
    invalid(
        &post(json!({"url": "not a url", "events": "*"})).await,
        "url",
    );
    invalid(
        &post(json!({"url": "ftp://127.0.0.1/x", "events": "*"})).await,
        "url",
    );
    invalid(
        &post(json!({"url": "/relative", "events": "*"})).await,
        "url",
    );
    // A well-formed URL this server will not deliver to: 422.
    common::assert_unprocessable(
        &post(json!({"url": "http://u:p@127.0.0.1/x", "events": "*"})).await,
        "url",
    );
    invalid(
        &post(json!({"url": format!("http://127.0.0.1/{}", "a".repeat(3000)), "events": "*"}))
            .await,
        "url",
    );
    invalid(
        &post(json!({"url": "http://127.0.0.1/x", "events": ["order.created", "order.exploded"]}))
            .await,
        "events[1]",
    );
    invalid(
        &post(json!({"url": "http://127.0.0.1/x", "events": []})).await,
        "events",
    );
    invalid(
        &post(json!({"url": "http://127.0.0.1/x", "events": "ping"})).await,
        "events[0]",
    );
    let many: Vec<String> = (0..51).map(|_| "order.created".to_string()).collect();
    invalid(
        &post(json!({"url": "http://127.0.0.1/x", "events": many})).await,
        "events",
    );
    invalid(
        &post(json!({"url": "http://127.0.0.1/x", "events": 5})).await,
        "events",
    );
    invalid(&post(json!({"events": "*"})).await, "url");
    invalid(
        &post(json!({"url": "http://127.0.0.1/x", "events": "*", "description": "d".repeat(501)}))
            .await,
        "description",
    );
    let res = post(json!({"url": "http://127.0.0.1/x", "events": "*", "secret": "mine"})).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let res = app
        .client
        .post(app.api("/webhooks"))
        .bearer_auth(&app.admin_key)
        .header("content-type", "application/json")
        .body("{\"url\":")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "INVALID_JSON");
    assert_eq!(
        app.count("select count(*) from webhook_subscriptions")
            .await,
        0
    );

    // Updates are checked the same way.
    let (hook, _) = subscribe(&app, "http://127.0.0.1:9/", json!("*")).await;
    let patch = |body: Value| {
        let app = &app;
        let hook = hook.clone();
        async move {
            app.admin(Method::PATCH, &format!("/webhooks/{hook}"), Some(body))
                .await
        }
    };
    invalid(&patch(json!({"url": null})).await, "url");
    invalid(&patch(json!({"events": ["nope"]})).await, "events[0]");
    invalid(&patch(json!({"active": null})).await, "active");
    // Lists and their filters.
    let res = app
        .admin(
            Method::GET,
            &format!("/webhooks/{hook}/deliveries?status=lost"),
            None,
        )
        .await;
    invalid(&res, "status");
    let res = app
        .admin(Method::GET, "/webhooks?cursor=prd_abc", None)
        .await;
    common::assert_unprocessable(&res, "cursor");
    let res = app
        .admin(Method::GET, "/webhooks/wh_nope/deliveries", None)
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");

    // At most 50 subscriptions per site.
    for i in 1..50 {
        subscribe(&app, &format!("http://127.0.0.1:9/{i}"), json!("*")).await;
    }
    let res = post(json!({"url": "http://127.0.0.1:9/51", "events": "*"})).await;
    assert_error(&res, StatusCode::CONFLICT, "LIMIT_REACHED");
}

#[tokio::test]
async fn private_and_plain_http_targets_are_refused_unless_allowed() {
    let mut s = settings();
    s.allow_private = false;
    let app = spawn_with(s).await;
    for url in [
        "https://127.0.0.1/hook",
        "https://127.1.2.3/hook",
        "https://0x7f000001/hook",
        "https://2130706433/hook",
        "https://10.0.0.1/hook",
        "https://172.16.5.4/hook",
        "https://192.168.1.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[fd00:ec2::254]/hook",
        "https://[fe80::1]/hook",
        "https://localhost/hook",
        "https://api.localhost/hook",
        "https://metadata.google.internal/hook",
        "https://intranet/hook",
        "http://1.1.1.1/hook",
    ] {
        let res = app
            .admin(
                Method::POST,
                "/webhooks",
                Some(json!({"url": url, "events": "*"})),
            )
            .await;
        // Well-formed URLs that this server's target policy refuses: 422.
        assert_error(&res, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR");
        assert_eq!(res.1["details"][0]["field"], "url", "{url}: {}", res.1);
    }
    assert_eq!(
        app.count("select count(*) from webhook_subscriptions")
            .await,
        0
    );
    // A public https address is fine (nothing is sent in this test).
    let (hook, _) = subscribe(&app, "https://1.1.1.1/hook", json!("*")).await;
    let res = app
        .admin(
            Method::PATCH,
            &format!("/webhooks/{hook}"),
            Some(json!({"url": "https://192.168.0.1/x"})),
        )
        .await;
    assert_error(&res, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR");
}

#[tokio::test]
async fn targets_are_checked_again_at_delivery_time() {
    // Saved while private targets were allowed; the worker runs without that permission.
    let app = spawn().await;
    let receiver = Receiver::start().await;
    let (hook, _) = subscribe(&app, &receiver.url("/ok"), json!("*")).await;
    product(&app, "Widget").await;
    let mut strict = settings();
    strict.allow_private = false;
    strict.allow_http = true;
    worker_on(&app, app.pool.clone(), strict)
        .drain()
        .await
        .unwrap();
    assert!(receiver.requests().is_empty());
    let d = &deliveries(&app, &hook, "").await[0];
    assert_eq!(d["status"], "pending");
    assert!(
        d["lastError"]
            .as_str()
            .unwrap()
            .starts_with("target refused: 127.0.0.1 is a loopback address"),
        "{d}"
    );
}

// ---------------------------------------------------------------------------------------------------------
// The events the domain records.

async fn events_of(app: &TestApp, kind: &str) -> Vec<Value> {
    sqlx::query_scalar("select payload from events where site_id = $1 and type = $2 order by id")
        .bind(&app.site_id)
        .bind(kind)
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn catalog_and_customer_changes_record_events() {
    let app = spawn().await;
    let p = app
        .product(json!({"name": "Widget", "price": 1000, "variants": [{"sku": "W-1"}]}))
        .await;
    let id = p["id"].as_str().unwrap();
    let (status, _) = app
        .admin(
            Method::PATCH,
            &format!("/products/{id}"),
            Some(json!({"price": 1200})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .admin(
            Method::POST,
            &format!("/products/{id}/variants"),
            Some(json!({"name": "Large", "sku": "W-2"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app
        .admin(Method::DELETE, &format!("/products/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);

    let created = events_of(&app, "product.created").await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["id"], id);
    let updated = events_of(&app, "product.updated").await;
    assert_eq!(updated.len(), 2, "the product, then its new variant");
    assert_eq!(updated[0]["price"], 1200);
    assert_eq!(updated[1]["variants"].as_array().unwrap().len(), 2);
    let deleted = events_of(&app, "product.deleted").await;
    assert_eq!(
        deleted,
        vec![json!({"id": id, "slug": p["slug"], "handle": null})]
    );
    // A refused change records nothing.
    let res = app
        .admin(Method::DELETE, &format!("/products/{id}"), None)
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert_eq!(events_of(&app, "product.deleted").await.len(), 1);

    let (status, body) = app
        .admin(
            Method::POST,
            "/customers",
            Some(json!({"email": "jane@example.com", "firstName": "Jane"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let res = app
        .admin(
            Method::POST,
            "/customers",
            Some(json!({"email": "JANE@example.com"})),
        )
        .await;
    assert_eq!(res.0, StatusCode::CONFLICT);
    let (status, body) = app
        .admin(
            Method::POST,
            "/auth/register",
            Some(json!({"email": "joe@example.com", "password": "correct horse battery"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let customers = events_of(&app, "customer.created").await;
    assert_eq!(customers.len(), 2);
    assert_eq!(customers[0]["email"], "jane@example.com");
    assert_eq!(customers[1]["email"], "joe@example.com");
    assert!(customers.iter().all(|c| c.get("passwordHash").is_none()));
}

async fn adjust(app: &TestApp, product: &str, operation: &str, quantity: i32) {
    let (status, body) = app
        .admin(
            Method::POST,
            &format!("/inventory/{product}"),
            Some(json!({"operation": operation, "quantity": quantity})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn inventory_low_fires_once_per_crossing_of_the_threshold() {
    let app = spawn().await;
    let receiver = Receiver::start().await;
    let (hook, _) = subscribe(&app, &receiver.url("/ok"), json!(["inventory.low"])).await;
    // Threshold 5 (the default).
    let p = app
        .product(json!({"name": "Widget", "price": 1000, "variants": [{"sku": "W-1", "inventoryCount": 10}]}))
        .await;
    let id = p["id"].as_str().unwrap();
    adjust(&app, id, "decrement", 3).await; // 7
    adjust(&app, id, "decrement", 2).await; // 5: crosses
    adjust(&app, id, "decrement", 1).await; // 4: already low
    adjust(&app, id, "set", 4).await; // no change
    adjust(&app, id, "increment", 10).await; // 14
    adjust(&app, id, "decrement", 12).await; // 2: crosses again
    adjust(&app, id, "decrement", 2).await; // 0

    let updates = events_of(&app, "inventory.updated").await;
    assert_eq!(updates.len(), 6, "every change but the no-op");
    assert_eq!(updates[0]["delta"], -3);
    assert_eq!(updates[0]["inventoryCount"], 7);
    assert_eq!(updates[0]["sku"], "W-1");
    assert_eq!(updates[0]["source"], "api");
    let lows = events_of(&app, "inventory.low").await;
    assert_eq!(lows.len(), 2, "{lows:?}");
    assert_eq!(lows[0]["inventoryCount"], 5);
    assert_eq!(lows[0]["lowStockThreshold"], 5);
    assert_eq!(lows[0]["inventoryStatus"], "LOW_STOCK");
    assert_eq!(lows[1]["inventoryCount"], 2);
    worker(&app).drain().await.unwrap();
    assert_eq!(receiver.requests().len(), 2);
    assert_eq!(deliveries(&app, &hook, "?status=delivered").await.len(), 2);

    // Concurrent decrements: exactly one of them crosses.
    let p = app
        .product(json!({"name": "Gadget", "price": 1000, "variants": [{"sku": "G-1", "inventoryCount": 12}]}))
        .await;
    let id = p["id"].as_str().unwrap().to_string();
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let (client, url, key) = (
            app.client.clone(),
            app.api(&format!("/inventory/{id}")),
            app.admin_key.clone(),
        );
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(key)
                .json(&json!({"operation": "decrement", "quantity": 1}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    let lows: Vec<Value> = events_of(&app, "inventory.low")
        .await
        .into_iter()
        .filter(|e| e["productId"] == id.as_str())
        .collect();
    assert_eq!(lows.len(), 1, "{lows:?}");
    assert_eq!(lows[0]["inventoryCount"], 5);
}

async fn cart_with_item(app: &TestApp) -> String {
    let p = app
        .product(json!({"name": "Widget", "price": 1000, "variants": [{"sku": "W-1", "inventoryCount": 10}]}))
        .await;
    let (status, body) = app
        .admin(
            Method::POST,
            "/cart",
            Some(json!({"sessionId": "sess_1", "currency": "EUR"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let cart = body["data"]["id"].as_str().unwrap().to_string();
    let (status, body) = app
        .admin(
            Method::PATCH,
            &format!("/cart?cartId={cart}"),
            Some(json!({"action": "add", "item": {"productId": p["id"], "variantId": p["variants"][0]["id"], "quantity": 2}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    cart
}

#[tokio::test]
async fn cart_abandoned_fires_once_per_cart() {
    let app = spawn().await;
    let receiver = Receiver::start().await;
    subscribe(&app, &receiver.url("/ok"), json!(["cart.abandoned"])).await;
    let idle = Duration::from_millis(300);
    let cart = cart_with_item(&app).await;
    // An empty cart never counts.
    let (status, _) = app
        .admin(
            Method::POST,
            "/cart",
            Some(json!({"sessionId": "sess_2", "currency": "EUR"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // Not yet idle long enough.
    assert_eq!(shopvo::jobs::carts::scan(&app.pool, idle).await.unwrap(), 0);
    tokio::time::sleep(Duration::from_millis(400)).await;
    // Two scanners at once (two processes) still mark it once.
    let (a, b) = tokio::join!(
        shopvo::jobs::carts::scan(&app.pool, idle),
        shopvo::jobs::carts::scan(&app.pool, idle)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(shopvo::jobs::carts::scan(&app.pool, idle).await.unwrap(), 0);

    let events = events_of(&app, "cart.abandoned").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["id"], cart.as_str());
    assert_eq!(events[0]["items"][0]["quantity"], 2);
    assert!(events[0]["total"].as_i64().unwrap() > 0);
    assert_eq!(events[0]["email"], Value::Null);
    // Marking is not activity, and the cart still works.
    let (status, body) = app
        .admin(Method::GET, &format!("/cart?cartId={cart}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["status"], "ACTIVE");

    // Activity and another idle spell: still only one event for this cart.
    let item = body["data"]["items"][0].clone();
    let (status, body) = app
        .admin(
            Method::PATCH,
            &format!("/cart?cartId={cart}"),
            Some(json!({"action": "update", "itemId": item["id"], "quantity": 3})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(shopvo::jobs::carts::scan(&app.pool, idle).await.unwrap(), 0);
    worker(&app).drain().await.unwrap();
    let got = receiver.requests();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["event"], "cart.abandoned");
    assert_eq!(got[0].json()["data"]["id"], cart.as_str());
}

#[tokio::test]
async fn the_event_catalogue_is_in_the_api_description() {
    let doc = shopvo::api::v1::openapi();
    let description = doc.info.description.unwrap();
    for kind in shopvo::domain::events::CATALOG {
        assert!(
            description.contains(&format!("`{}`", kind.name)),
            "{}",
            kind.name
        );
    }
    assert!(description.contains("X-Shopvo-Delivery"));
}

#[tokio::test]
async fn idempotent_replays_keep_secrets_sealed_at_rest() {
    let app = spawn().await;
    let send = || {
        app.client
            .post(app.api("/webhooks"))
            .bearer_auth(&app.admin_key)
            .header("idempotency-key", "create-hook-1")
            .json(&json!({"url": "http://127.0.0.1:9/", "events": "*"}))
            .send()
    };
    let first: Value = send().await.unwrap().json().await.unwrap();
    let replay = send().await.unwrap();
    assert_eq!(replay.status(), StatusCode::CREATED);
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    let replay: Value = replay.json().await.unwrap();
    assert_eq!(first, replay);
    assert_eq!(
        app.count("select count(*) from webhook_subscriptions")
            .await,
        1
    );
    let secret = first["data"]["secret"].as_str().unwrap();
    let stored: Vec<u8> = sqlx::query_scalar("select response_body from idempotency_keys")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(!stored.windows(secret.len()).any(|w| w == secret.as_bytes()));
}

#[tokio::test]
async fn a_delivery_whose_subscription_was_deleted_mid_attempt_is_dropped_quietly() {
    let app = spawn().await;
    let receiver = Receiver::start().await;
    let (hook, _) = subscribe(&app, &receiver.url("/slow"), json!("*")).await;
    product(&app, "Widget").await;
    let w = worker(&app);
    let drain = tokio::spawn(async move { w.drain().await });
    assert!(
        wait_for(Duration::from_secs(5), || async {
            !receiver.requests().is_empty()
        })
        .await
    );
    let (status, _) = app
        .admin(Method::DELETE, &format!("/webhooks/{hook}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    drain.await.unwrap().unwrap();
    assert_eq!(
        app.count("select count(*) from webhook_deliveries").await,
        0
    );
    assert_eq!(app.count("select count(*) from webhook_attempts").await, 0);
}

#[tokio::test]
async fn https_targets_go_through_tls() {
    // The receiver speaks plain HTTP: the TLS handshake fails, cleanly, as a failed attempt.
    let app = spawn().await;
    let receiver = Receiver::start().await;
    let url = receiver.url("/ok").replace("http://", "https://");
    let (hook, _) = subscribe(&app, &url, json!("*")).await;
    product(&app, "Widget").await;
    worker(&app).drain().await.unwrap();
    assert!(receiver.requests().is_empty());
    let d = &deliveries(&app, &hook, "").await[0];
    assert_eq!(d["status"], "pending");
    assert_eq!(d["lastStatusCode"], Value::Null);
    assert!(!d["lastError"].as_str().unwrap().is_empty(), "{d}");
}

#[tokio::test]
async fn finished_deliveries_are_pruned_after_the_retention_period() {
    let mut s = settings();
    s.retention = Duration::from_millis(200);
    // Failed deliveries must not come due again within the drain on a slow machine (one attempt each).
    s.retry_schedule = vec![Duration::from_secs(3600); 5];
    let app = spawn_with(s.clone()).await;
    let receiver = Receiver::start().await;
    subscribe(&app, &receiver.url("/ok"), json!(["order.created"])).await;
    subscribe(&app, &receiver.url("/fail"), json!(["order.created"])).await;
    record_events(&app, "order.created", 3).await;
    let w = worker_on(&app, app.pool.clone(), s);
    w.drain().await.unwrap();
    assert_eq!(w.prune().await.unwrap(), 0, "too recent");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(w.prune().await.unwrap(), 3, "the delivered ones");
    // Pending deliveries stay, whatever their age.
    assert_eq!(
        app.count("select count(*) from webhook_deliveries where status = 'pending'")
            .await,
        3
    );
    assert_eq!(app.count("select count(*) from webhook_attempts").await, 3);
}
