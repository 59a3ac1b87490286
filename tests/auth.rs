//! Authentication, scopes, tenancy and request signing, over HTTP.

mod common;

use common::{TestApp, assert_error};
use reqwest::{Method, StatusCode};
use serde_json::json;
use shopvo::crypto;

#[tokio::test]
async fn missing_malformed_and_unknown_keys_are_401() {
    let app = TestApp::spawn().await;
    let url = app.api("/products");

    let none = app.call(Method::GET, &url, None, None).await;
    assert_error(&none, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    assert!(
        none.1["error"]
            .as_str()
            .unwrap()
            .contains("Missing API key")
    );

    let res = app
        .client
        .get(&url)
        .header("Authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("Malformed Authorization"),
        "{body}"
    );

    let malformed = app
        .call(Method::GET, &url, Some("sk_live_short"), None)
        .await;
    assert_error(&malformed, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    assert_eq!(malformed.1["error"], "Malformed API key");

    let unknown = format!("sk_live_{}", "a".repeat(64));
    let res = app.call(Method::GET, &url, Some(&unknown), None).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    assert_eq!(res.1["error"], "Invalid API key");
}

#[tokio::test]
async fn revoked_key_is_401_at_once() {
    let app = TestApp::spawn().await;
    let key = app.key(&app.site_id, &["read:catalog"]).await;
    let url = app.api("/products");
    assert_eq!(
        app.call(Method::GET, &url, Some(&key), None).await.0,
        StatusCode::OK
    );

    let listed = app.get("/api-keys").await;
    let key_id = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["scopes"] == json!(["read:catalog"]))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = app
        .admin(Method::DELETE, &format!("/api-keys/{key_id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["data"]["revokedAt"].is_string());

    let res = app.call(Method::GET, &url, Some(&key), None).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    assert_eq!(res.1["error"], "This API key has been revoked");
    let revoked: i64 = app
        .count(&format!(
            "select count(*) from api_keys where id = '{key_id}' and revoked_at is not null"
        ))
        .await;
    assert_eq!(revoked, 1);
}

#[tokio::test]
async fn expired_key_is_401() {
    let app = TestApp::spawn().await;
    let key = app.key(&app.site_id, &["read:catalog"]).await;
    sqlx::query("update api_keys set expires_at = now() - interval '1 minute' where scopes = '{read:catalog}'")
        .execute(&app.pool)
        .await
        .unwrap();
    let res = app
        .call(Method::GET, &app.api("/products"), Some(&key), None)
        .await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    assert_eq!(res.1["error"], "This API key has expired");
}

#[tokio::test]
async fn another_sites_path_is_404_without_hint() {
    let app = TestApp::spawn().await;
    let other_site = app.create_site("Other").await;
    let other_key = app.key(&other_site, &["admin:*"]).await;
    app.product(json!({"name": "Secret Thing", "price": 100}))
        .await;

    // The other site's key on our site's path: 404, exactly like a site that does not exist.
    let res = app
        .call(Method::GET, &app.api("/products"), Some(&other_key), None)
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let missing = format!("{}/api/v1/site_doesnotexist/products", app.url);
    let res2 = app
        .call(Method::GET, &missing, Some(&other_key), None)
        .await;
    assert_eq!(res.1, res2.1);

    // And its own site sees none of our products.
    let own = format!("{}/api/v1/{other_site}/products", app.url);
    let (status, body) = app.call(Method::GET, &own, Some(&other_key), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"], json!([]));
}

#[tokio::test]
async fn missing_scope_is_403_naming_it() {
    let app = TestApp::spawn().await;
    let reader = app.key(&app.site_id, &["read:catalog"]).await;
    let res = app
        .call(
            Method::POST,
            &app.api("/products"),
            Some(&reader),
            Some(json!({"name": "X", "price": 1})),
        )
        .await;
    assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    assert!(
        res.1["error"].as_str().unwrap().contains("write:catalog"),
        "{}",
        res.1
    );
    assert_eq!(app.count("select count(*) from products").await, 0);

    let res = app
        .call(Method::GET, &app.api("/api-keys"), Some(&reader), None)
        .await;
    assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    assert!(res.1["error"].as_str().unwrap().contains("admin:*"));

    let res = app
        .call(Method::GET, &app.api("/site"), Some(&reader), None)
        .await;
    assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    assert!(res.1["error"].as_str().unwrap().contains("read:content"));
}

#[tokio::test]
async fn keys_are_managed_over_http_and_stored_only_as_digests() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .admin(
            Method::POST,
            "/api-keys",
            Some(json!({"scopes": ["read:catalog"], "signing": true, "test": true})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let secret = body["data"]["secret"].as_str().unwrap();
    assert!(secret.starts_with("sk_test_") && secret.len() == 8 + 64);
    assert!(
        body["data"]["signingSecret"]
            .as_str()
            .unwrap()
            .starts_with("sks_")
    );
    assert_eq!(body["data"]["signing"], true);

    // Nothing in the table contains the key itself.
    let leaked: i64 = app
        .count(&format!("select count(*) from api_keys where position('{}' in display_prefix || encode(digest, 'escape')) > 0", &secret[8..]))
        .await;
    assert_eq!(leaked, 0);

    let bad = app
        .admin(
            Method::POST,
            "/api-keys",
            Some(json!({"scopes": ["read:everything"]})),
        )
        .await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(bad.1["details"][0]["field"], "scopes[0]");
}

fn signature(secret: &str, t: i64, body: &str) -> String {
    format!(
        "t={t},sha256={}",
        crypto::signature_hex(secret.as_bytes(), t, body.as_bytes())
    )
}

#[tokio::test]
async fn signed_keys_require_a_valid_fresh_unique_signature() {
    let app = TestApp::spawn().await;
    let (key, secret) = app
        .signing_key(&app.site_id, &["read:catalog", "write:catalog"])
        .await;
    let url = app.api("/products");
    let now = chrono::Utc::now().timestamp();
    let send = |header: Option<String>, body: &'static str, method: Method| {
        let mut req = app.client.request(method, &url).bearer_auth(&key);
        if let Some(h) = header {
            req = req.header("X-Shopvo-Signature", h);
        }
        if !body.is_empty() {
            req = req.header("content-type", "application/json").body(body);
        }
        async move {
            let res = req.send().await.unwrap();
            (res.status(), res.json::<serde_json::Value>().await.unwrap())
        }
    };

    let missing = send(None, "", Method::GET).await;
    assert_error(&missing, StatusCode::UNAUTHORIZED, "SIGNATURE_MISSING");
    let malformed = send(Some("t=abc,sha256=zz".into()), "", Method::GET).await;
    assert_error(&malformed, StatusCode::UNAUTHORIZED, "SIGNATURE_MALFORMED");
    let old = send(Some(signature(&secret, now - 301, "")), "", Method::GET).await;
    assert_error(&old, StatusCode::UNAUTHORIZED, "SIGNATURE_EXPIRED");
    let future = send(Some(signature(&secret, now + 400, "")), "", Method::GET).await;
    assert_error(&future, StatusCode::UNAUTHORIZED, "SIGNATURE_EXPIRED");
    let wrong = send(Some(signature("sks_wrong", now, "")), "", Method::GET).await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "SIGNATURE_INVALID");

    // A GET signs the empty body.
    let good = signature(&secret, now, "");
    let ok = send(Some(good.clone()), "", Method::GET).await;
    assert_eq!(ok.0, StatusCode::OK, "{}", ok.1);
    // Reads may share a signature (a storefront signs several GETs in one second); see
    // `signatures_are_never_replayed_on_writes` for what stays refused.
    let again = send(Some(good), "", Method::GET).await;
    assert_eq!(again.0, StatusCode::OK, "{}", again.1);

    // A POST signs its raw body; a signature of another body is refused and writes nothing.
    let body = r#"{"name":"Signed","price":500}"#;
    let tampered = send(
        Some(signature(&secret, now, r#"{"name":"Signed","price":1}"#)),
        body,
        Method::POST,
    )
    .await;
    assert_error(&tampered, StatusCode::UNAUTHORIZED, "SIGNATURE_INVALID");
    assert_eq!(app.count("select count(*) from products").await, 0);
    let created = send(Some(signature(&secret, now, body)), body, Method::POST).await;
    assert_eq!(created.0, StatusCode::CREATED, "{}", created.1);
    assert_eq!(created.1["data"]["price"], 500);
    assert_eq!(app.count("select count(*) from products").await, 1);
}

#[tokio::test]
async fn cli_creates_sites_and_keys_as_json() {
    let app = TestApp::spawn().await;
    let url = common::database_url(&app.db_name);
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_shopvo"))
            .args(args)
            .env("DATABASE_URL", &url)
            .env("SHOPVO_SECRET_KEY", common::SERVER_SECRET)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let site: serde_json::Value =
        serde_json::from_str(&run(&["site", "create", "--name", "CLI Store", "--json"])).unwrap();
    let site_id = site["id"].as_str().unwrap();
    assert!(site_id.starts_with("site_"));
    let key: serde_json::Value = serde_json::from_str(&run(&[
        "key",
        "create",
        "--site",
        site_id,
        "--scopes",
        "read:catalog,read:content",
        "--signing",
        "--json",
    ]))
    .unwrap();
    assert!(key["key"].as_str().unwrap().starts_with("sk_live_"));
    assert!(key["signingSecret"].as_str().unwrap().starts_with("sks_"));
    assert_eq!(key["scopes"], json!(["read:catalog", "read:content"]));

    // The key works against the server (which shares the database and server secret).
    let plain = run(&[
        "key",
        "create",
        "--site",
        site_id,
        "--scopes",
        "read:content",
    ]);
    let (status, body) = app
        .call(
            Method::GET,
            &format!("{}/api/v1/{site_id}/site", app.url),
            Some(plain.trim()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["name"], "CLI Store");
}

#[tokio::test]
async fn a_signature_header_with_repeated_parts_is_refused() {
    let app = TestApp::spawn().await;
    let (key, secret) = app.signing_key(&app.site_id, &["read:catalog"]).await;
    let now = chrono::Utc::now().timestamp();
    let good = signature(&secret, now, "");
    let mac = good.split_once(",sha256=").unwrap().1.to_string();
    for header in [
        format!("t={},t={now},sha256={mac}", now - 1000),
        format!("t={now},sha256={mac},sha256={mac}"),
    ] {
        let res = app
            .client
            .get(app.api("/products"))
            .bearer_auth(&key)
            .header("X-Shopvo-Signature", header)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body = res.json::<serde_json::Value>().await.unwrap();
        assert_error(
            &(status, body),
            StatusCode::UNAUTHORIZED,
            "SIGNATURE_MALFORMED",
        );
    }
    // The well-formed header still works (it was not used up by the refused ones).
    let res = app
        .client
        .get(app.api("/products"))
        .bearer_auth(&key)
        .header("X-Shopvo-Signature", good)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

fn request_signature(secret: &str, t: i64, method: &str, path: &str, body: &str) -> String {
    format!(
        "t={t},v2={}",
        crypto::request_signature_hex(secret.as_bytes(), t, method, path, body.as_bytes())
    )
}

#[tokio::test]
async fn signatures_are_never_replayed_on_writes() {
    let app = TestApp::spawn().await;
    let (key, secret) = app
        .signing_key(&app.site_id, &["read:catalog", "write:catalog"])
        .await;
    let product = app.product(json!({"name": "Keep me", "price": 100})).await;
    let product_path = format!("/products/{}", product["id"].as_str().unwrap());
    let send = |method: Method, path: String, header: String, body: &'static str| {
        let mut req = app
            .client
            .request(method, app.api(&path))
            .bearer_auth(&key)
            .header("X-Shopvo-Signature", header);
        if !body.is_empty() {
            req = req.header("content-type", "application/json").body(body);
        }
        async move {
            let res = req.send().await.unwrap();
            (res.status(), res.json::<serde_json::Value>().await.unwrap())
        }
    };
    let now = chrono::Utc::now().timestamp();

    // Short form: parallel GETs of different paths in one second carry the same header, and all succeed.
    let header = signature(&secret, now, "");
    let (a, b, c) = tokio::join!(
        send(Method::GET, "/products?limit=1".into(), header.clone(), ""),
        send(Method::GET, "/categories".into(), header.clone(), ""),
        send(Method::GET, "/brands".into(), header.clone(), ""),
    );
    for res in [a, b, c] {
        assert_eq!(res.0, StatusCode::OK, "{}", res.1);
    }
    // …but a read's header is never accepted on a write (it signs the same empty body as a DELETE).
    let res = send(Method::DELETE, product_path.clone(), header, "").await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "SIGNATURE_REPLAYED");
    assert_eq!(app.count("select count(*) from products").await, 1);

    // A write's signature works once.
    let body = r#"{"name":"Once","price":500}"#;
    let header = signature(&secret, now, body);
    let first = send(Method::POST, "/products".into(), header.clone(), body).await;
    assert_eq!(first.0, StatusCode::CREATED, "{}", first.1);
    let again = send(Method::POST, "/products".into(), header.clone(), body).await;
    assert_error(&again, StatusCode::UNAUTHORIZED, "SIGNATURE_REPLAYED");
    // Nor may a read reuse a write's signature.
    let read = send(Method::GET, "/products".into(), header, body).await;
    assert_eq!(read.0, StatusCode::UNAUTHORIZED, "{}", read.1);
    assert_eq!(app.count("select count(*) from products").await, 2);

    // Extended form: the header is valid for exactly the request it signs.
    let t = chrono::Utc::now().timestamp();
    let path = format!("/api/v1/{}/products?limit=1", app.site_id);
    let header = request_signature(&secret, t, "GET", &path, "");
    let ok = send(Method::GET, "/products?limit=1".into(), header.clone(), "").await;
    assert_eq!(ok.0, StatusCode::OK, "{}", ok.1);
    for (method, other) in [
        (Method::GET, "/products?limit=2".to_string()),
        (Method::GET, "/categories".to_string()),
        (Method::DELETE, product_path.clone()),
    ] {
        let res = send(method, other, header.clone(), "").await;
        assert_error(&res, StatusCode::UNAUTHORIZED, "SIGNATURE_INVALID");
    }
    let delete_path = format!("/api/v1/{}{product_path}", app.site_id);
    let header = request_signature(&secret, t, "DELETE", &delete_path, "");
    let deleted = send(Method::DELETE, product_path.clone(), header.clone(), "").await;
    assert_eq!(deleted.0, StatusCode::OK, "{}", deleted.1);
    let replayed = send(Method::DELETE, product_path, header, "").await;
    assert_error(&replayed, StatusCode::UNAUTHORIZED, "SIGNATURE_REPLAYED");
    assert_eq!(app.count("select count(*) from products").await, 1);
}

#[tokio::test]
async fn a_key_can_require_the_request_bound_signature_form() {
    let app = TestApp::spawn().await;
    let res = app
        .admin(
            Method::POST,
            "/api-keys",
            Some(json!({"scopes": ["read:catalog"], "requireRequestSignature": true})),
        )
        .await;
    assert_error(&res, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR");
    assert_eq!(res.1["details"][0]["field"], "requireRequestSignature");

    let created = app
        .post(
            "/api-keys",
            json!({"scopes": ["read:catalog"], "signing": true, "requireRequestSignature": true}),
        )
        .await;
    assert_eq!(created["data"]["requireRequestSignature"], true);
    let key = created["data"]["secret"].as_str().unwrap().to_string();
    let secret = created["data"]["signingSecret"]
        .as_str()
        .unwrap()
        .to_string();
    let get = |header: String| {
        let req = app
            .client
            .get(app.api("/products"))
            .bearer_auth(&key)
            .header("X-Shopvo-Signature", header);
        async move {
            let res = req.send().await.unwrap();
            (res.status(), res.json::<serde_json::Value>().await.unwrap())
        }
    };
    let now = chrono::Utc::now().timestamp();
    let short = get(signature(&secret, now, "")).await;
    assert_error(&short, StatusCode::UNAUTHORIZED, "SIGNATURE_INVALID");
    let path = format!("/api/v1/{}/products", app.site_id);
    let bound = get(request_signature(&secret, now, "GET", &path, "")).await;
    assert_eq!(bound.0, StatusCode::OK, "{}", bound.1);
}

/// A burst of first requests with a key no cache knows yet, more than the pool has connections: each
/// looks the key up and records its use on the one connection it holds, so none waits on another.
#[tokio::test]
async fn a_burst_of_uncached_key_lookups_does_not_exhaust_the_pool() {
    let app = TestApp::spawn().await;
    let key = app.key(&app.site_id, &["read:catalog"]).await;
    let url = app.api("/products");
    let burst = (0..60).map(|_| app.call(Method::GET, &url, Some(&key), None));
    let statuses = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        futures::future::join_all(burst),
    )
    .await
    .expect("the pool deadlocked: requests waited for connections held by each other");
    assert!(
        statuses.iter().all(|(status, _)| *status == StatusCode::OK),
        "{statuses:?}"
    );
}
