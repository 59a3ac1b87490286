//! Access holes found by probing, each closed with a regression test: the read cache and the scope check,
//! idempotency records and the customer, browser callers naming a customer, expiring keys, and a read
//! cache bounded by bytes.

mod common;

use common::{TestApp, assert_error, str_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shopvo::config::Config;
use shopvo::domain::keys;

async fn publishable_key(app: &TestApp) -> String {
    str_of(&app.post("/api-keys", json!({"publishable": true})).await["data"]["secret"])
}

/// Registers a shopper through the publishable key; returns (customer id, access token).
async fn shopper(app: &TestApp, pk: &str, email: &str) -> (String, String) {
    let (status, body) = app
        .call(
            Method::POST,
            &app.api("/auth/register"),
            Some(pk),
            Some(json!({"email": email, "password": "a long password 1"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = str_of(&body["data"]["accessToken"]);
    let (_, me) = request(app, pk, Method::GET, "/auth/me", Some(&token), None, None).await;
    (str_of(&me["data"]["id"]), token)
}

/// A request with an optional customer token and `Idempotency-Key`; returns status, replay flag and body.
async fn request(
    app: &TestApp,
    key: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    idempotency_key: Option<&str>,
    body: Option<Value>,
) -> ((StatusCode, bool), Value) {
    let mut req = app.client.request(method, app.api(path)).bearer_auth(key);
    if let Some(t) = token {
        req = req.header("X-Customer-Token", t);
    }
    if let Some(k) = idempotency_key {
        req = req.header("Idempotency-Key", k);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let replayed = res.headers().get("idempotent-replayed").is_some();
    let status = res.status();
    ((status, replayed), res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_cached_answer_never_reaches_a_key_without_the_scope() {
    let app = TestApp::spawn_with(Config {
        read_cache: true,
        ..Config::default()
    })
    .await;
    app.product(json!({"name": "Cached", "price": 100})).await;
    let orders_only = app.key(&app.site_id, &["read:orders"]).await;
    // Warm the cache with the admin key, then ask for the same URL at once with a key that may not read it.
    let (status, body) = app.admin(Method::GET, "/products?probe=2", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    for _ in 0..3 {
        let res = app
            .call(
                Method::GET,
                &app.api("/products?probe=2"),
                Some(&orders_only),
                None,
            )
            .await;
        assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
        assert!(res.1.get("items").is_none(), "{}", res.1);
    }
    // A key that may read the catalog still gets the cached answer.
    let reader = app.key(&app.site_id, &["read:catalog"]).await;
    let (status, body) = app
        .call(
            Method::GET,
            &app.api("/products?probe=2"),
            Some(&reader),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn idempotency_records_belong_to_the_customer_not_only_the_key() {
    let app = TestApp::spawn().await;
    let pk = publishable_key(&app).await;
    let (alice, alice_token) = shopper(&app, &pk, "alice@example.com").await;
    let (bob, bob_token) = shopper(&app, &pk, "bob@example.com").await;
    let body = json!({"currency": "EUR"});
    let create = |token: Option<String>| {
        let body = body.clone();
        let app = &app;
        let pk = &pk;
        async move {
            request(
                app,
                pk,
                Method::POST,
                "/cart",
                token.as_deref(),
                Some("K"),
                Some(body),
            )
            .await
        }
    };

    let ((status, replayed), first) = create(Some(alice_token.clone())).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, false), "{first}");
    assert_eq!(first["data"]["customerId"], alice.as_str());
    // Alice retrying is a replay of her own answer.
    let ((status, replayed), again) = create(Some(alice_token.clone())).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, true));
    assert_eq!(again["data"]["id"], first["data"]["id"]);

    // Bob and a guest sending the same key and body get carts of their own.
    let ((status, replayed), bobs) = create(Some(bob_token.clone())).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, false), "{bobs}");
    assert_eq!(bobs["data"]["customerId"], bob.as_str());
    assert_ne!(bobs["data"]["id"], first["data"]["id"]);
    let ((status, replayed), guests) = create(None).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, false), "{guests}");
    assert_eq!(guests["data"]["customerId"], Value::Null);
    assert_ne!(guests["data"]["id"], first["data"]["id"]);
    assert_eq!(app.count("select count(*) from carts").await, 3);

    // The same for a checkout step: Bob's contact step with Alice's key is his own.
    let product = app
        .product(json!({"name": "Shirt", "price": 1000, "variants": [{"sku": "S1", "inventoryCount": 5}]}))
        .await;
    let add = json!({"action": "add", "item": {"productId": product["id"], "variantId": product["variants"][0]["id"], "quantity": 1}});
    let mut sessions = Vec::new();
    for (cart, token) in [(&first, &alice_token), (&bobs, &bob_token)] {
        let path = format!("/cart?cartId={}", str_of(&cart["data"]["id"]));
        let ((status, _), body) = request(
            &app,
            &pk,
            Method::PATCH,
            &path,
            Some(token),
            None,
            Some(add.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let ((status, _), body) = request(
            &app,
            &pk,
            Method::POST,
            "/checkout",
            Some(token),
            None,
            Some(json!({"cartId": cart["data"]["id"]})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        sessions.push(str_of(&body["data"]["id"]));
    }
    let contact = |session: &str, email: &str| json!({"sessionId": session, "state": "contact", "email": email});
    let ((status, replayed), a) = request(
        &app,
        &pk,
        Method::PATCH,
        "/checkout",
        Some(&alice_token),
        Some("C"),
        Some(contact(&sessions[0], "alice@example.com")),
    )
    .await;
    assert_eq!((status, replayed), (StatusCode::OK, false), "{a}");
    // Bob sends Alice's exact request (her session id included): not her stored answer, but a 404.
    let ((status, replayed), b) = request(
        &app,
        &pk,
        Method::PATCH,
        "/checkout",
        Some(&bob_token),
        Some("C"),
        Some(contact(&sessions[0], "alice@example.com")),
    )
    .await;
    assert_eq!((status, replayed), (StatusCode::NOT_FOUND, false), "{b}");
    assert!(b.get("data").is_none(), "{b}");
}

#[tokio::test]
async fn browser_callers_cannot_name_another_customer() {
    let app = TestApp::spawn().await;
    let pk = publishable_key(&app).await;
    let victim = str_of(
        &app.post("/customers", json!({"email": "victim@example.com"}))
            .await["data"]["id"],
    );

    // A cart for the victim through the public key, with no token: refused, nothing written.
    let ((status, _), body) = request(
        &app,
        &pk,
        Method::POST,
        "/cart",
        None,
        None,
        Some(json!({"currency": "EUR", "customerId": victim})),
    )
    .await;
    assert_error(&(status, body), StatusCode::FORBIDDEN, "FORBIDDEN");
    assert_eq!(app.count("select count(*) from carts").await, 0);

    // A guest checkout moved into the victim's account by a contact step: refused, the session stays a guest's.
    let product = app
        .product(json!({"name": "Shirt", "price": 1000, "variants": [{"sku": "S1", "inventoryCount": 5}]}))
        .await;
    let ((_, _), cart) = request(
        &app,
        &pk,
        Method::POST,
        "/cart",
        None,
        None,
        Some(json!({"currency": "EUR"})),
    )
    .await;
    let cart = str_of(&cart["data"]["id"]);
    let add = json!({"action": "add", "item": {"productId": product["id"], "variantId": product["variants"][0]["id"], "quantity": 1}});
    let path = format!("/cart?cartId={cart}");
    let ((status, _), _) = request(&app, &pk, Method::PATCH, &path, None, None, Some(add)).await;
    assert_eq!(status, StatusCode::OK);
    let ((status, _), session) = request(
        &app,
        &pk,
        Method::POST,
        "/checkout",
        None,
        None,
        Some(json!({"cartId": cart})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    let session = str_of(&session["data"]["id"]);
    let ((status, _), body) = request(
        &app,
        &pk,
        Method::PATCH,
        "/checkout",
        None,
        None,
        Some(json!({"sessionId": session, "state": "contact", "email": "x@example.com", "customerId": victim})),
    )
    .await;
    assert_error(&(status, body), StatusCode::FORBIDDEN, "FORBIDDEN");
    assert_eq!(
        app.count("select count(*) from checkout_sessions where customer_id is not null or state <> 'init'")
            .await,
        0
    );

    // A secret key (a back office) may still name the customer.
    let ((status, _), body) = request(
        &app,
        &app.admin_key,
        Method::POST,
        "/cart",
        None,
        None,
        Some(json!({"currency": "EUR", "customerId": victim})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["customerId"], victim.as_str());
}

#[tokio::test]
async fn a_key_stops_working_when_it_expires_even_while_cached() {
    let app = TestApp::spawn().await;
    let expires_at = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let new = keys::NewKey {
        scopes: vec!["read:catalog".into()],
        publishable: false,
        test: false,
        signing: false,
        require_request_signature: false,
        name: None,
        expires_at: Some(expires_at),
    };
    let key = keys::create(
        &mut app.pool.acquire().await.unwrap(),
        &app.server_key,
        &app.site_id,
        new,
    )
    .await
    .unwrap()
    .plaintext;
    let products = app.api("/products");
    // The first use caches the authentication.
    assert_eq!(
        app.call(Method::GET, &products, Some(&key), None).await.0,
        StatusCode::OK
    );
    let wait = (expires_at - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(wait + std::time::Duration::from_millis(100)).await;
    let res = app.call(Method::GET, &products, Some(&key), None).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    assert!(
        res.1["error"].as_str().unwrap().contains("expired"),
        "{}",
        res.1
    );
}

#[tokio::test]
async fn the_read_cache_is_bounded_by_bytes() {
    let bound: u64 = 256 * 1024;
    let app = TestApp::spawn_with(Config {
        read_cache: true,
        read_cache_bytes: bound,
        rate_limit: false,
        ..Config::default()
    })
    .await;
    let long = "x".repeat(2000);
    for i in 0..20 {
        app.product(json!({"name": format!("Product {i}"), "price": 100, "description": long}))
            .await;
    }
    // Distinct URLs of ~50 KB answers each: far more than the bound if every one were kept.
    let mut answered = 0u64;
    for n in 0..60 {
        let (status, body) = app
            .admin(Method::GET, &format!("/products?limit=100&z={n}"), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        answered += body.to_string().len() as u64;
    }
    assert!(
        answered > 4 * bound,
        "answers too small to test: {answered}"
    );
    let held = app.state.read_cache.weighted_size();
    assert!(held <= bound, "the cache holds {held} bytes, over {bound}");
    assert!(held > 0, "the cache kept nothing");
}
