//! Cross-cutting behaviour: idempotency, rate limits, body limits, request ids, health, error envelopes.

mod common;

use common::{TestApp, assert_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shopvo::config::Config;

async fn post_with_key(app: &TestApp, idempotency_key: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.api("/products"))
        .bearer_auth(&app.admin_key)
        .header("Idempotency-Key", idempotency_key)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn idempotency_key_replays_the_same_request() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "Once Only", "price": 1000});
    let first = post_with_key(&app, "create-once", &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();

    let second = post_with_key(&app, "create-once", &body).await;
    assert_eq!(second.status(), StatusCode::CREATED);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let second: Value = second.json().await.unwrap();
    assert_eq!(first, second);
    assert_eq!(app.count("select count(*) from products").await, 1);

    // A different body under the same key is refused and changes nothing.
    let other = post_with_key(
        &app,
        "create-once",
        &json!({"name": "Something Else", "price": 5}),
    )
    .await;
    let other = (other.status(), other.json::<Value>().await.unwrap());
    assert_error(
        &other,
        StatusCode::UNPROCESSABLE_ENTITY,
        "IDEMPOTENCY_KEY_REUSED",
    );
    assert_eq!(app.count("select count(*) from products").await, 1);

    // Client errors are replayed too; the key is per API key, so another key starts afresh.
    let bad = json!({"name": "", "price": 1});
    assert_eq!(
        post_with_key(&app, "bad-once", &bad).await.status(),
        StatusCode::BAD_REQUEST
    );
    let replayed = post_with_key(&app, "bad-once", &bad).await;
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(replayed.headers()["idempotent-replayed"], "true");
}

#[tokio::test]
async fn concurrent_duplicates_create_one_resource() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "Raced", "price": 700});
    let requests = (0..12).map(|_| post_with_key(&app, "raced-key", &body));
    let statuses: Vec<StatusCode> = futures::future::join_all(requests)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    assert!(statuses.contains(&StatusCode::CREATED));
    assert_eq!(app.count("select count(*) from products").await, 1);
}

#[tokio::test]
async fn a_request_still_in_flight_is_409() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "Slow", "price": 1});
    // Plant an unfinished record with the fingerprint the middleware computes for this request.
    let raw = serde_json::to_vec(&body).unwrap();
    let mut fingerprint = format!("POST /api/v1/{}/products\n", app.site_id).into_bytes();
    fingerprint.extend_from_slice(&raw);
    let key_id: String = sqlx::query_scalar("select id from api_keys limit 1")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    sqlx::query("insert into idempotency_keys (site_id, key_id, idempotency_key, request_hash) values ($1, $2, 'busy', $3)")
        .bind(&app.site_id)
        .bind(&key_id)
        .bind(&shopvo::crypto::sha256(&fingerprint)[..])
        .execute(&app.pool)
        .await
        .unwrap();
    let res = post_with_key(&app, "busy", &body).await;
    let res = (res.status(), res.json::<Value>().await.unwrap());
    assert_error(&res, StatusCode::CONFLICT, "IDEMPOTENCY_KEY_IN_USE");
    assert_eq!(app.count("select count(*) from products").await, 0);
}

#[tokio::test]
async fn rate_limit_sends_headers_and_429_with_retry_after() {
    let app = TestApp::spawn_with(Config {
        rate_limit_default: 5,
        ..Config::default()
    })
    .await;
    for i in 0..5 {
        let res = app
            .client
            .get(app.api("/products"))
            .bearer_auth(&app.admin_key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["x-ratelimit-limit"], "5");
        assert_eq!(
            res.headers()["x-ratelimit-remaining"].to_str().unwrap(),
            (4 - i).to_string()
        );
        assert!(
            res.headers()["x-ratelimit-reset"]
                .to_str()
                .unwrap()
                .parse::<i64>()
                .unwrap()
                > chrono::Utc::now().timestamp()
        );
    }
    let res = app
        .client
        .get(app.api("/products"))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(res.headers()["x-ratelimit-remaining"], "0");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "RATE_LIMITED");

    // Limits are per key: another key of the same site is unaffected.
    let other = app.key(&app.site_id, &["read:catalog"]).await;
    let res = app
        .call(Method::GET, &app.api("/products"), Some(&other), None)
        .await;
    assert_eq!(res.0, StatusCode::OK);
}

#[tokio::test]
async fn search_has_its_own_60_rpm_group_and_sites_can_lower_the_default() {
    let app = TestApp::spawn().await;
    for _ in 0..60 {
        let res = app
            .call(
                Method::GET,
                &app.api("/products?search=shirt"),
                Some(&app.admin_key),
                None,
            )
            .await;
        assert_eq!(res.0, StatusCode::OK);
    }
    let res = app
        .call(
            Method::GET,
            &app.api("/products?search=shirt"),
            Some(&app.admin_key),
            None,
        )
        .await;
    assert_error(&res, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    // Plain listing is another group and still allowed.
    assert_eq!(
        app.call(
            Method::GET,
            &app.api("/products"),
            Some(&app.admin_key),
            None
        )
        .await
        .0,
        StatusCode::OK
    );

    let site = app.create_site("Small plan").await;
    sqlx::query("update sites set settings = '{\"rateLimitPerMinute\": 2}' where id = $1")
        .bind(&site)
        .execute(&app.pool)
        .await
        .unwrap();
    let key = app.key(&site, &["read:catalog"]).await;
    let url = format!("{}/api/v1/{site}/products", app.url);
    let statuses: Vec<StatusCode> = [
        app.call(Method::GET, &url, Some(&key), None).await.0,
        app.call(Method::GET, &url, Some(&key), None).await.0,
        app.call(Method::GET, &url, Some(&key), None).await.0,
    ]
    .to_vec();
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::OK,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

#[tokio::test]
async fn oversized_bodies_are_413_and_write_nothing() {
    let app = TestApp::spawn_with(Config {
        body_limit: 2048,
        ..Config::default()
    })
    .await;
    let big = json!({"name": "Big", "price": 1, "description": "x".repeat(4096)});
    let res = app
        .admin(Method::POST, "/products", Some(big.clone()))
        .await;
    assert_error(&res, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");

    // Without a Content-Length (chunked), the limit still holds while reading.
    let bytes = serde_json::to_vec(&big).unwrap();
    let stream = futures::stream::iter(
        bytes
            .chunks(512)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    let res = app
        .client
        .post(app.api("/products"))
        .bearer_auth(&app.admin_key)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "PAYLOAD_TOO_LARGE");
    assert_eq!(app.count("select count(*) from products").await, 0);
}

#[tokio::test]
async fn request_ids_are_generated_or_propagated() {
    let app = TestApp::spawn().await;
    let res = app
        .client
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .unwrap();
    assert!(!res.headers()["x-request-id"].to_str().unwrap().is_empty());
    let res = app
        .client
        .get(format!("{}/healthz", app.url))
        .header("x-request-id", "req-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "req-123");
}

#[tokio::test]
async fn health_and_readiness() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .call(Method::GET, &format!("{}/healthz", app.url), None, None)
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (status, _) = app
        .call(Method::GET, &format!("{}/readyz", app.url), None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    app.pool.close().await;
    let (status, body) = app
        .call(Method::GET, &format!("{}/readyz", app.url), None, None)
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
}

#[tokio::test]
async fn unknown_routes_methods_and_media_types_get_the_envelope() {
    let app = TestApp::spawn().await;
    let res = app
        .call(Method::GET, &format!("{}/nope", app.url), None, None)
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = app.admin(Method::PATCH, "/products", Some(json!({}))).await;
    assert_error(&res, StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED");
    let res = app
        .client
        .post(app.api("/products"))
        .bearer_auth(&app.admin_key)
        .header("content-type", "text/plain")
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = app
        .client
        .post(app.api("/products"))
        .bearer_auth(&app.admin_key)
        .header("content-type", "application/json")
        .body("{\"name\": \"x\", \"price\": 1} trailing")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "INVALID_JSON");
    assert_eq!(app.count("select count(*) from products").await, 0);

    // Path segments that are not UTF-8 are a client error in the envelope, never plain text.
    let res = app.admin(Method::GET, "/products/%FF", None).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "INVALID_PATH");
    let res = app
        .call(
            Method::GET,
            &format!("{}/api/v1/%FF/products", app.url),
            Some(&app.admin_key),
            None,
        )
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "INVALID_PATH");
}

#[tokio::test]
async fn site_config_is_readable() {
    let app = TestApp::spawn().await;
    let body = app.get("/site").await;
    assert_eq!(body["data"]["id"], app.site_id.as_str());
    assert_eq!(body["data"]["currency"], "EUR");
    assert_eq!(body["data"]["locale"], "en");
    assert_eq!(body["data"]["theme"], json!({}));
}

#[tokio::test]
async fn catalog_reads_are_microcached_and_writes_clear_them() {
    let app = TestApp::spawn_with(Config {
        read_cache: true,
        ..Config::default()
    })
    .await;
    let created = app
        .post("/products", json!({"name": "Cached", "price": 100}))
        .await;
    let id = created["data"]["id"].as_str().unwrap().to_string();
    let path = format!("/products/{id}");
    assert_eq!(app.get(&path).await["data"]["price"], 100);

    // A change behind the server's back is not seen while the entry is fresh...
    sqlx::query("update products set price = 200")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(app.get(&path).await["data"]["price"], 100);
    // ...but any write through the API clears the site's cached reads at once.
    let (status, _) = app
        .admin(Method::PATCH, &path, Some(json!({"featured": true})))
        .await;
    assert_eq!(status, StatusCode::OK);
    let fresh = app.get(&path).await;
    assert_eq!(
        (
            fresh["data"]["price"].as_i64(),
            fresh["data"]["featured"].as_bool()
        ),
        (Some(200), Some(true))
    );

    // Entries expire within a second.
    sqlx::query("update products set price = 300")
        .execute(&app.pool)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(app.get(&path).await["data"]["price"], 300);

    // Publishable keys have entries of their own: a draft cached for the admin stays hidden from them.
    sqlx::query("update products set status = 'DRAFT'")
        .execute(&app.pool)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(app.get(&path).await["data"]["status"], "DRAFT");
    let pk = app.post("/api-keys", json!({"publishable": true})).await["data"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app
        .call(Method::GET, &app.api(&path), Some(&pk), None)
        .await;
    assert_eq!(res.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn site_settings_errors_name_wire_fields_and_keep_theme_tokens_verbatim() {
    let app = TestApp::spawn().await;
    let patch = |body: Value| {
        let app = &app;
        async move { app.admin(Method::PATCH, "/site", Some(body)).await }
    };
    for (body, field) in [
        (json!({"rateLimitPerMinute": 0}), "rateLimitPerMinute"),
        (
            json!({"corsOrigins": ["https://ok.example", "nope"]}),
            "corsOrigins[1]",
        ),
        (json!({"domains": ["shop example"]}), "domains[0]"),
        (
            json!({"theme": {"--brand_color": 5}}),
            "theme.--brand_color",
        ),
    ] {
        let res = patch(body.clone()).await;
        assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_eq!(res.1["details"][0]["field"], field, "{body}");
    }
    let (status, body) = patch(json!({"theme": {"--brand_color": "#123456"}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["theme"]["--brand_color"], "#123456");
}

#[tokio::test]
async fn arrays_and_scalars_are_refused_as_object_bodies() {
    let app = TestApp::spawn().await;
    let product = app
        .post("/products", json!({"name": "Original", "price": 100}))
        .await["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let promotion = app
        .post(
            "/promotions",
            json!({"code": "TEN", "type": "PERCENTAGE", "value": 10}),
        )
        .await["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cases = [
        (
            Method::PATCH,
            format!("/products/{product}"),
            json!(["Renamed via array"]),
        ),
        (
            Method::PATCH,
            format!("/promotions/{promotion}"),
            json!([null, null]),
        ),
        (Method::POST, "/cart".to_string(), json!(42)),
        (Method::POST, "/products".to_string(), json!("a product")),
    ];
    for (method, path, body) in cases {
        let res = app.admin(method, &path, Some(body)).await;
        assert_error(&res, StatusCode::BAD_REQUEST, "INVALID_BODY");
    }
    let name: String = sqlx::query_scalar("select name from products where id = $1")
        .bind(&product)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(name, "Original");
    assert_eq!(app.count("select count(*) from products").await, 1);
    assert_eq!(app.count("select count(*) from carts").await, 0);
}
