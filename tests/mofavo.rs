//! The Mofavo dialect over HTTP, as Mofavo's own client calls it: `POST /woocommerce/stock` and
//! `/woocommerce/status` at the server root with a JWT and an `x-mofavo-signature`; every error of its table
//! with its exact body, in the order the checks run; tokens issued and revoked through the native API.

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{TestApp, str_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shopvo::crypto;

struct Token {
    token: String,
    jti: String,
    secret: String,
}

async fn issue(app: &TestApp) -> Token {
    let body = app.post("/integrations/mofavo/tokens", json!({})).await;
    let d = &body["data"];
    Token {
        token: str_of(&d["token"]),
        jti: str_of(&d["jti"]),
        secret: str_of(&d["signingSecret"]),
    }
}

fn sign(secret: &str, body: &str) -> String {
    BASE64.encode(crypto::hmac_sha256(secret.as_bytes(), body.as_bytes()))
}

/// A raw request: `authorization` and `signature` as given (None: the header is left out).
async fn send(
    app: &TestApp,
    path: &str,
    authorization: Option<&str>,
    signature: Option<&str>,
    body: &str,
) -> (StatusCode, Value) {
    let mut req = app
        .client
        .post(format!("{}{path}", app.url))
        .header("Content-Type", "application/json")
        .body(body.to_string());
    if let Some(a) = authorization {
        req = req.header("Authorization", a);
    }
    if let Some(s) = signature {
        req = req.header("x-mofavo-signature", s);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A correctly authenticated and signed request.
async fn call(app: &TestApp, t: &Token, path: &str, body: &str) -> (StatusCode, Value) {
    let auth = format!("Bearer {}", t.token);
    send(app, path, Some(&auth), Some(&sign(&t.secret, body)), body).await
}

/// A JWT with these claims, signed with the server's Mofavo key (as if we had issued it).
fn forge(app: &TestApp, claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(app.server_key.mofavo_jwt_key()),
    )
    .unwrap()
}

async fn seed(app: &TestApp) {
    app.product(
        json!({"name": "Mug", "handle": "mug-ref", "price": 1500, "variants": [
        {"sku": "MUG-RED", "inventoryCount": 7}, {"sku": "MUG-BLUE", "inventoryCount": 3}]}),
    )
    .await;
    sqlx::query(
        "insert into orders (site_id, id, number, email, currency, subtotal, discount, shipping, tax, total, \
         payment_method, external_ref, fulfillment_status, shipping_address) \
         values ($1, 'order_m1', 1, 'a@example.com', 'EUR', 100, 0, 0, 0, 100, 'manual', 'wc-1001', 'readyForPickUp', \
         '{\"line1\": \"Brīvības iela 1\", \"city\": \"Rīga\", \"postalCode\": \"LV-1010\", \"country\": \"LV\"}')",
    )
    .bind(&app.site_id)
    .execute(&app.pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn stock_and_status_by_reference() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let t = issue(&app).await;
    assert_eq!(t.jti.len(), 36);

    let (status, body) = call(
        &app,
        &t,
        "/woocommerce/stock",
        r#"{"refs":["MUG-RED","mug-ref","nope"]}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"success": true, "products": [{"ref": "MUG-RED", "quantity": 7}, {"ref": "mug-ref", "quantity": 10}]})
    );
    let (status, body) = call(
        &app,
        &t,
        "/woocommerce/status",
        r#"{"refs":["wc-1001","wc-404"]}"#,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"success": true, "orders": [{"ref": "wc-1001", "status": "readyForPickUp",
            "finalDestination": "Brīvības iela 1, LV-1010 Rīga, LV"}]})
    );
    // Nothing matched: 404 with Mofavo's messages.
    let res = call(&app, &t, "/woocommerce/stock", r#"{"refs":["nope"]}"#).await;
    assert_eq!(
        res,
        (
            StatusCode::NOT_FOUND,
            json!({"success": false, "error": "Product not found"})
        )
    );
    let res = call(&app, &t, "/woocommerce/status", r#"{"refs":[]}"#).await;
    assert_eq!(
        res,
        (
            StatusCode::NOT_FOUND,
            json!({"success": false, "error": "Order not found"})
        )
    );

    // JSON.stringify of the parsed body is what Node clients sign; raw bytes with spaces still pass.
    let spaced = "{ \"refs\" : [ \"MUG-BLUE\" ] }";
    let auth = format!("Bearer {}", t.token);
    let compact_signature = sign(&t.secret, r#"{"refs":["MUG-BLUE"]}"#);
    let (status, body) = send(
        &app,
        "/woocommerce/stock",
        Some(&auth),
        Some(&compact_signature),
        spaced,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["products"][0]["quantity"], 3);

    // Another merchant's token sees only its own site.
    let other = app.create_site("Other").await;
    let other_key = app.key(&other, &["admin:*"]).await;
    let (_, body) = app
        .call(
            Method::POST,
            &format!("{}/api/v1/{other}/integrations/mofavo/tokens", app.url),
            Some(&other_key),
            Some(json!({})),
        )
        .await;
    let theirs = Token {
        token: str_of(&body["data"]["token"]),
        jti: str_of(&body["data"]["jti"]),
        secret: str_of(&body["data"]["signingSecret"]),
    };
    let res = call(
        &app,
        &theirs,
        "/woocommerce/stock",
        r#"{"refs":["MUG-RED"]}"#,
    )
    .await;
    assert_eq!(res.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_error_of_the_table_in_order() {
    let app = TestApp::spawn().await;
    seed(&app).await;
    let t = issue(&app).await;
    let body = r#"{"refs":["MUG-RED"]}"#;
    let good_sig = sign(&t.secret, body);
    let message = |m: &str| json!({"message": m});
    let failure = |m: &str| json!({"success": false, "error": m});
    let path = "/woocommerce/stock";

    // The header.
    for auth in [None, Some("Basic abc"), Some("Bearer ")] {
        let res = send(&app, path, auth, Some(&good_sig), body).await;
        assert_eq!(
            res,
            (
                StatusCode::UNAUTHORIZED,
                message("Missing or invalid Authorization header")
            ),
            "{auth:?}"
        );
    }
    // The token: not a JWT, signed with another key, expired.
    let wrong_key = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"merchantId": app.site_id, "jti": t.jti}),
        &jsonwebtoken::EncodingKey::from_secret(b"not the server key"),
    )
    .unwrap();
    let expired = forge(
        &app,
        json!({"merchantId": app.site_id, "jti": t.jti, "exp": 1_000_000}),
    );
    for token in ["garbage".to_string(), wrong_key, expired] {
        let res = send(
            &app,
            path,
            Some(&format!("Bearer {token}")),
            Some(&good_sig),
            body,
        )
        .await;
        assert_eq!(res, (StatusCode::UNAUTHORIZED, message("Invalid token")));
    }
    // The payload.
    for claims in [json!({"merchantId": app.site_id}), json!({"jti": t.jti})] {
        let token = forge(&app, claims);
        let res = send(
            &app,
            path,
            Some(&format!("Bearer {token}")),
            Some(&good_sig),
            body,
        )
        .await;
        assert_eq!(
            res,
            (StatusCode::UNAUTHORIZED, message("Invalid token payload"))
        );
    }
    // The token's row: unknown jti, another merchant's jti, a revoked token.
    let unknown = forge(
        &app,
        json!({"merchantId": app.site_id, "jti": "3f0c8e52-6f1d-4c1a-9a57-1f3a2b4c5d6e"}),
    );
    let elsewhere = forge(&app, json!({"merchantId": "site_other", "jti": t.jti}));
    for token in [unknown, elsewhere] {
        let res = send(
            &app,
            path,
            Some(&format!("Bearer {token}")),
            Some(&good_sig),
            body,
        )
        .await;
        assert_eq!(
            res,
            (
                StatusCode::UNAUTHORIZED,
                message("Token revoked or not found")
            )
        );
    }
    // The signature: missing, wrong, over another body.
    let auth = format!("Bearer {}", t.token);
    for sig in [None, Some("bm90IGl0"), Some("%%%")] {
        let res = send(&app, path, Some(&auth), sig, body).await;
        assert_eq!(
            res,
            (StatusCode::UNAUTHORIZED, failure("Invalid signature")),
            "{sig:?}"
        );
    }
    let res = send(
        &app,
        path,
        Some(&auth),
        Some(&sign(&t.secret, r#"{"refs":[]}"#)),
        body,
    )
    .await;
    assert_eq!(
        res,
        (StatusCode::UNAUTHORIZED, failure("Invalid signature"))
    );
    // A bad signature is reported before a bad payload; a signed bad payload is a 400.
    let res = send(&app, path, Some(&auth), Some("bm90IGl0"), "not json").await;
    assert_eq!(res.1, failure("Invalid signature"));
    for bad in [
        "not json",
        r#"{"refs":"MUG-RED"}"#,
        r#"{"refs":[1,2]}"#,
        r#"{}"#,
    ] {
        let res = call(&app, &t, path, bad).await;
        assert_eq!(
            res,
            (StatusCode::BAD_REQUEST, failure("Invalid request payload")),
            "{bad}"
        );
    }

    // Revoking through the native API takes effect at once; listing shows it.
    let (status, _) = app
        .admin(
            Method::DELETE,
            &format!("/integrations/mofavo/tokens/{}", t.jti),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let res = call(&app, &t, path, body).await;
    assert_eq!(
        res,
        (
            StatusCode::UNAUTHORIZED,
            message("Token revoked or not found")
        )
    );
    let list = app.get("/integrations/mofavo/tokens").await;
    assert_eq!(list["data"][0]["jti"], json!(t.jti));
    assert_eq!(list["data"][0]["active"], false);
    assert!(list["data"][0].get("signingSecret").is_none());
    let (status, _) = app
        .admin(Method::DELETE, "/integrations/mofavo/tokens/nope", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The seed's own recipe, run by Node: `crypto.createHmac('sha256', secret).update(JSON.stringify(body),
/// 'utf8').digest('base64')` over the parsed body, while the request carries the body with other whitespace
/// and non-ASCII text.
#[tokio::test]
async fn a_signature_made_by_the_seeds_javascript_recipe_is_accepted() {
    let app = TestApp::spawn().await;
    app.product(json!({"name": "Krūze", "handle": "krūze-ref", "price": 900, "variants": [{"sku": "KR-1", "inventoryCount": 4}]}))
        .await;
    let t = issue(&app).await;
    let sent = "{\n  \"refs\": [ \"krūze-ref\",\n \"KR-1\" ]\n}";
    let script = "const crypto = require('crypto');\
        const [secret, raw] = process.argv.slice(1);\
        const requestBody = JSON.parse(raw);\
        process.stdout.write(crypto.createHmac('sha256', secret).update(JSON.stringify(requestBody), 'utf8').digest('base64'));";
    let out = std::process::Command::new("node")
        .args(["-e", script, &t.secret, sent])
        .output()
        .expect("node (needed by the OpenAPI lint too) is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let signature = String::from_utf8(out.stdout).unwrap();
    let auth = format!("Bearer {}", t.token);
    let (status, body) = send(
        &app,
        "/woocommerce/stock",
        Some(&auth),
        Some(&signature),
        sent,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["products"],
        json!([{"ref": "krūze-ref", "quantity": 4}, {"ref": "KR-1", "quantity": 4}])
    );
}

#[tokio::test]
async fn each_token_has_its_own_requests_a_minute() {
    let app = TestApp::spawn_with(shopvo::config::Config {
        rate_limit_default: 3,
        ..shopvo::config::Config::default()
    })
    .await;
    seed(&app).await;
    let (first, second) = (issue(&app).await, issue(&app).await);
    let body = r#"{"refs":["MUG-RED"]}"#;
    for _ in 0..3 {
        assert_eq!(
            call(&app, &first, "/woocommerce/stock", body).await.0,
            StatusCode::OK
        );
    }
    let res = call(&app, &first, "/woocommerce/stock", body).await;
    assert_eq!(
        res,
        (
            StatusCode::TOO_MANY_REQUESTS,
            json!({"success": false, "error": "Too many requests"})
        )
    );
    // Another token of the same merchant is counted apart.
    assert_eq!(
        call(&app, &second, "/woocommerce/stock", body).await.0,
        StatusCode::OK
    );
}
