//! Publishable keys (`pk_`): safe in a browser. They read the active catalog and drive carts and
//! checkouts, a customer's only with that customer's token; sites list the origins allowed to call them.

mod common;

use common::{TestApp, assert_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn publishable_key(app: &TestApp) -> String {
    let body = app.post("/api-keys", json!({"publishable": true})).await;
    body["data"]["secret"].as_str().unwrap().to_string()
}

async fn as_pk(
    app: &TestApp,
    pk: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    app.call(method, &app.api(path), Some(pk), body).await
}

#[tokio::test]
async fn publishable_keys_get_browser_scopes_only() {
    let app = TestApp::spawn().await;
    let body = app
        .post("/api-keys", json!({"publishable": true, "test": true}))
        .await;
    let key = &body["data"];
    assert!(key["secret"].as_str().unwrap().starts_with("pk_test_"));
    assert_eq!(key["kind"], "publishable");
    assert_eq!(
        key["scopes"],
        json!([
            "read:cart",
            "read:catalog",
            "read:checkout",
            "read:content",
            "write:cart",
            "write:checkout"
        ])
    );
    let res = app
        .admin(
            Method::POST,
            "/api-keys",
            Some(json!({"publishable": true, "scopes": ["write:catalog"]})),
        )
        .await;
    assert_error(&res, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR");
    assert_eq!(res.1["details"][0]["field"], "scopes[0]");
    let res = app
        .admin(
            Method::POST,
            "/api-keys",
            Some(json!({"publishable": true, "signing": true})),
        )
        .await;
    assert_error(&res, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR");
    assert_eq!(
        app.count("select count(*) from api_keys where kind = 'publishable'")
            .await,
        1
    );
}

#[tokio::test]
async fn publishable_keys_see_only_the_active_catalog() {
    let app = TestApp::spawn().await;
    let pk = publishable_key(&app).await;
    app.product(json!({"name": "Live", "price": 100})).await;
    let draft = app
        .product(json!({"name": "Hidden", "price": 100, "status": "DRAFT"}))
        .await;
    let draft_id = draft["id"].as_str().unwrap();

    let (status, body) = as_pk(&app, &pk, Method::GET, "/products", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    let res = as_pk(&app, &pk, Method::GET, "/products?status=DRAFT", None).await;
    assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    let res = as_pk(
        &app,
        &pk,
        Method::GET,
        &format!("/products/{draft_id}"),
        None,
    )
    .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = as_pk(
        &app,
        &pk,
        Method::GET,
        &format!("/products/{draft_id}/variants"),
        None,
    )
    .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    // The admin key still sees the draft.
    assert_eq!(
        app.admin(Method::GET, &format!("/products/{draft_id}"), None)
            .await
            .0,
        StatusCode::OK
    );

    for (method, path) in [
        (Method::POST, "/products"),
        (Method::GET, "/orders"),
        (Method::GET, "/customers"),
        (Method::GET, "/api-keys"),
    ] {
        let res = as_pk(&app, &pk, method.clone(), path, Some(json!({}))).await;
        assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    }
}

#[tokio::test]
async fn customer_carts_need_the_customers_token() {
    let app = TestApp::spawn().await;
    let pk = publishable_key(&app).await;
    let register = |email: &'static str| {
        let url = app.api("/auth/register");
        let req = app
            .client
            .post(url)
            .bearer_auth(&pk)
            .json(&json!({"email": email, "password": "a long password 1"}));
        async move {
            req.send().await.unwrap().json::<Value>().await.unwrap()["data"]["accessToken"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let alice = register("alice@example.com").await;
    let bob = register("bob@example.com").await;

    let with_token = |method: Method, path: String, token: Option<&str>, body: Option<Value>| {
        let mut req = app.client.request(method, app.api(&path)).bearer_auth(&pk);
        if let Some(t) = token {
            req = req.header("X-Customer-Token", t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        async move {
            let res = req.send().await.unwrap();
            (
                res.status(),
                res.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, body) = with_token(
        Method::POST,
        "/cart".into(),
        Some(&alice),
        Some(json!({"currency": "EUR"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let cart = body["data"]["id"].as_str().unwrap().to_string();

    let path = format!("/cart?cartId={cart}");
    assert_eq!(
        with_token(Method::GET, path.clone(), Some(&alice), None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        with_token(Method::GET, path.clone(), None, None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        with_token(Method::GET, path.clone(), Some(&bob), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let change = json!({"action": "removePromotion"});
    assert_eq!(
        with_token(
            Method::PATCH,
            path.clone(),
            Some(&bob),
            Some(change.clone())
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        with_token(Method::DELETE, path.clone(), None, None).await.0,
        StatusCode::NOT_FOUND
    );
    let res = with_token(
        Method::POST,
        "/checkout".into(),
        Some(&bob),
        Some(json!({"cartId": cart})),
    )
    .await;
    assert_error(&res, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR");
    assert_eq!(app.count("select count(*) from carts").await, 1);

    // Guest carts work with the key alone; the admin key reaches every cart.
    let (status, body) = as_pk(
        &app,
        &pk,
        Method::POST,
        "/cart",
        Some(json!({"currency": "EUR"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let guest = body["data"]["id"].as_str().unwrap();
    assert_eq!(
        as_pk(
            &app,
            &pk,
            Method::GET,
            &format!("/cart?cartId={guest}"),
            None
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(app.admin(Method::GET, &path, None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn cart_ids_are_not_guessable_from_each_other() {
    let app = TestApp::spawn().await;
    let a = app.post("/cart", json!({"currency": "EUR"})).await["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = app.post("/cart", json!({"currency": "EUR"})).await["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // The last 16 characters (80 random bits) share no long run: not a counter.
    let (ta, tb) = (&a[a.len() - 16..], &b[b.len() - 16..]);
    let same = ta.chars().zip(tb.chars()).filter(|(x, y)| x == y).count();
    assert!(same < 12, "{a} and {b} look sequential");
}

#[tokio::test]
async fn sites_allow_their_own_browser_origins() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .admin(
            Method::PATCH,
            "/site",
            Some(json!({"corsOrigins": ["https://shop.example.com"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let preflight = |origin: &'static str| {
        let req = app
            .client
            .request(Method::OPTIONS, app.api("/products"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .header("Access-Control-Request-Headers", "authorization");
        async move { req.send().await.unwrap() }
    };
    let allowed = preflight("https://shop.example.com").await;
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://shop.example.com"
    );
    let refused = preflight("https://evil.example.com").await;
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let bad = app
        .admin(
            Method::PATCH,
            "/site",
            Some(json!({"corsOrigins": ["shop.example.com/path"]})),
        )
        .await;
    assert_error(&bad, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}
