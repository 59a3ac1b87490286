//! Two servers on one database, as two replicas behind a load balancer: a change made through one is seen
//! by the other at once (within a round trip of the commit), not when its caches expire — a revoked key, a
//! site's settings, a catalog write.

mod common;

use std::time::{Duration, Instant};

use common::{TestApp, str_of};
use reqwest::{Method, StatusCode};
use serde_json::json;
use shopvo::config::Config;
use sqlx::postgres::PgPoolOptions;

/// A second server on `first`'s database, with caches of its own; both listen for cache notices.
async fn replica_of(first: &TestApp) -> TestApp {
    let pool = PgPoolOptions::new()
        .max_connections(10)
        .connect(&common::database_url(&first.db_name))
        .await
        .unwrap();
    let mut second = TestApp::spawn_on(pool, first.db_name.clone(), cached()).await;
    // The same site and key as the first.
    second.site_id = first.site_id.clone();
    second.admin_key = first.admin_key.clone();
    shopvo::http::invalidation::spawn(first.state.clone());
    shopvo::http::invalidation::spawn(second.state.clone());
    // Let both listeners connect.
    tokio::time::sleep(Duration::from_millis(300)).await;
    second
}

/// The read cache on, as `shopvo serve` runs (tests run without it by default).
fn cached() -> Config {
    Config {
        read_cache: true,
        ..Config::default()
    }
}

/// Polls `check` for up to half a second (well inside every cache's lifetime).
async fn within_half_a_second<F, Fut>(mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(500) {
        if check().await {
            return start.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the other replica did not see the change within 500 ms");
}

#[tokio::test]
async fn a_key_revoked_on_one_replica_is_refused_by_the_other_at_once() {
    let a = TestApp::spawn_with(cached()).await;
    let b = replica_of(&a).await;
    let (status, created) = a
        .admin(
            Method::POST,
            "/api-keys",
            Some(json!({"scopes": ["read:catalog"]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let key = str_of(&created["data"]["secret"]);
    let key_id = str_of(&created["data"]["id"]);
    // B authenticates it once, so it is in B's cache.
    let (status, _) = b
        .call(Method::GET, &b.api("/products"), Some(&key), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = a
        .admin(Method::DELETE, &format!("/api-keys/{key_id}"), None)
        .await;
    assert!(status.is_success());
    within_half_a_second(|| async {
        b.call(Method::GET, &b.api("/products"), Some(&key), None)
            .await
            .0
            == StatusCode::UNAUTHORIZED
    })
    .await;
}

#[tokio::test]
async fn a_product_written_through_one_replica_is_read_fresh_from_the_other() {
    let a = TestApp::spawn_with(cached()).await;
    let b = replica_of(&a).await;
    let product = a.product(json!({"name": "Lamp", "price": 1000})).await;
    let id = str_of(&product["id"]);
    // B caches the read.
    let read = b.get(&format!("/products/{id}")).await;
    assert_eq!(read["data"]["price"], 1000);
    let (status, _) = a
        .admin(
            Method::PATCH,
            &format!("/products/{id}"),
            Some(json!({"price": 1200})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    within_half_a_second(|| async {
        b.get(&format!("/products/{id}")).await["data"]["price"] == 1200
    })
    .await;
}

#[tokio::test]
async fn a_site_setting_changed_on_one_replica_applies_on_the_other() {
    let a = TestApp::spawn_with(cached()).await;
    let b = replica_of(&a).await;
    // B caches the key with the site's rate limit.
    let (status, _) = b.admin(Method::GET, "/products", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = a
        .admin(
            Method::PATCH,
            "/site",
            Some(json!({"rateLimitPerMinute": 7})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    within_half_a_second(|| async {
        let res = b
            .client
            .get(b.api("/customers"))
            .bearer_auth(&b.admin_key)
            .send()
            .await
            .unwrap();
        res.headers()
            .get("x-ratelimit-limit")
            .is_some_and(|v| v == "7")
    })
    .await;
}
