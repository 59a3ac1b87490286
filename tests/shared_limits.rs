//! Rate limits shared through Redis: two servers on one database and one Redis count a key's requests
//! together, and when Redis goes away they keep answering, counting in process.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::json;
use shopvo::config::Config;
use sqlx::postgres::PgPoolOptions;

/// A Redis server of this test on a free port (stopped when dropped); keeps nothing on disk.
struct Redis {
    child: Child,
    url: String,
}

impl Redis {
    async fn start() -> Redis {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (install Redis to run this test)");
        let url = format!("redis://127.0.0.1:{port}");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Redis { child, url }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two servers on one database, both counting in `redis`.
async fn two_replicas(redis: &Redis) -> (TestApp, TestApp) {
    let config = || Config {
        redis_url: Some(redis.url.clone()),
        ..Config::default()
    };
    let a = TestApp::spawn_with(config()).await;
    let pool = PgPoolOptions::new()
        .max_connections(5)
        .connect(&common::database_url(&a.db_name))
        .await
        .unwrap();
    let mut b = TestApp::spawn_on(pool, a.db_name.clone(), config()).await;
    b.site_id = a.site_id.clone();
    b.admin_key = a.admin_key.clone();
    a.state.limiter.ping().await.unwrap();
    (a, b)
}

#[tokio::test]
async fn a_keys_limit_holds_across_replicas() {
    let redis = Redis::start().await;
    let (a, b) = two_replicas(&redis).await;
    sqlx::query("update sites set settings = '{\"rateLimitPerMinute\": 4}' where id = $1")
        .bind(&a.site_id)
        .execute(&a.pool)
        .await
        .unwrap();
    a.state.auth_cache.forget_site(&a.site_id);
    b.state.auth_cache.forget_site(&b.site_id);
    let mut remaining = Vec::new();
    for app in [&a, &b, &a, &b] {
        let res = app
            .client
            .get(app.api("/customers"))
            .bearer_auth(&app.admin_key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        remaining.push(
            res.headers()["x-ratelimit-remaining"]
                .to_str()
                .unwrap()
                .to_string(),
        );
    }
    // One count for both: 3, 2, 1, 0 — not 3, 3, 2, 2.
    assert_eq!(remaining, ["3", "2", "1", "0"]);
    for app in [&a, &b] {
        let (status, body) = app.admin(Method::GET, "/customers", None).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    }
}

#[tokio::test]
async fn failed_logins_are_counted_across_replicas() {
    let redis = Redis::start().await;
    let (a, b) = two_replicas(&redis).await;
    let login = |app: &TestApp, password: &str| {
        app.client
            .post(app.api("/auth/login"))
            .bearer_auth(&app.admin_key)
            .json(&json!({"email": "jane@example.com", "password": password}))
            .send()
    };
    let res = a
        .client
        .post(a.api("/auth/register"))
        .bearer_auth(&a.admin_key)
        .json(&json!({"email": "jane@example.com", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // A success on one replica forgets the email's failures on both.
    for app in [&a, &b, &a, &b] {
        assert_eq!(login(app, "wrong").await.unwrap().status(), 401);
    }
    assert_eq!(login(&b, "correct horse").await.unwrap().status(), 200);
    // Five failures spread over the two replicas, then both refuse, even the right password.
    for app in [&a, &b, &a, &b, &a] {
        assert_eq!(login(app, "wrong").await.unwrap().status(), 401);
    }
    for app in [&b, &a] {
        let res = login(app, "correct horse").await.unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait: u64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=900).contains(&wait), "{wait}");
    }
}

#[tokio::test]
async fn without_redis_requests_are_counted_in_process() {
    let redis = Redis::start().await;
    let (a, _b) = two_replicas(&redis).await;
    let (status, _) = a.admin(Method::GET, "/customers", None).await;
    assert_eq!(status, StatusCode::OK);
    drop(redis);
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..3 {
        let res = a
            .client
            .get(a.api("/customers"))
            .bearer_auth(&a.admin_key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers().contains_key("x-ratelimit-remaining"));
    }
}

#[tokio::test]
async fn an_unreachable_redis_is_found_at_start() {
    let limiter = shopvo::http::limiter::RateLimiter::new(Some("redis://127.0.0.1:1")).unwrap();
    assert!(limiter.ping().await.is_err());
    assert!(shopvo::http::limiter::RateLimiter::new(Some("not a url")).is_err());
}
