//! `GET /metrics`: Prometheus text behind a token, with requests by route template and status class, the
//! pool, the outbox and rate-limit refusals.

mod common;

use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::json;
use shopvo::config::Config;

const TOKEN: &str = "metrics-token-for-tests-0123456789";

#[tokio::test]
async fn metrics_are_served_behind_their_token() {
    let app = TestApp::spawn_with(Config {
        metrics_token: Some(TOKEN.into()),
        ..Config::default()
    })
    .await;
    app.product(json!({"name": "Lamp", "price": 1000})).await;
    let (status, _) = app.admin(Method::GET, "/products/prd_missing", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // One request a minute for this site's keys: the second is refused.
    sqlx::query("update sites set settings = '{\"rateLimitPerMinute\": 1}' where id = $1")
        .bind(&app.site_id)
        .execute(&app.pool)
        .await
        .unwrap();
    app.state.auth_cache.forget_site(&app.site_id);
    let mut refused = false;
    for _ in 0..2 {
        refused |=
            app.admin(Method::GET, "/customers", None).await.0 == StatusCode::TOO_MANY_REQUESTS;
    }
    assert!(refused, "a limit of one request a minute refused nothing");

    let url = format!("{}/metrics", app.url);
    let res = app.client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .client
        .get(&url)
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .client
        .get(&url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    for expected in [
        r#"http_requests_total{route="/api/v1/{siteId}/products",method="POST",status="2xx"}"#,
        r#"http_requests_total{route="/api/v1/{siteId}/products/{productId}",method="GET",status="4xx"}"#,
        r#"http_request_duration_seconds_bucket{route="/api/v1/{siteId}/products",method="POST",status="2xx",le="0.1"}"#,
        r#"db_pool_connections{state="idle"}"#,
        "outbox_undispatched_events ",
        "outbox_oldest_undispatched_age_seconds ",
        r#"rate_limit_refusals_total{group="all"}"#,
    ] {
        assert!(text.contains(expected), "missing {expected} in:\n{text}");
    }
    // Ids never become labels.
    assert!(!text.contains("prd_missing"));
}

#[tokio::test]
async fn without_a_token_there_is_no_metrics_endpoint() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(format!("{}/metrics", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
