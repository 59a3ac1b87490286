//! The MOOD MNKY dialect under `/moodmnky/{siteId}/api`, over real HTTP: auth (customer JWT, admin
//! `X-API-Key`), hourly limits per tier, products, orders `MNKY-<n>`, the customer's cart with custom blends,
//! the customer's profile and loyalty, and custom blends.

mod common;

use common::{TestApp, spawn_unlimited, str_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A request to the dialect: `auth` is `("key", …)` for `X-API-Key`, `("bearer", …)` for a customer token.
async fn mn(
    app: &TestApp,
    method: Method,
    path: &str,
    auth: Option<(&str, &str)>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let url = format!("{}/moodmnky/{}/api{path}", app.url, app.site_id);
    let mut req = app.client.request(method, url);
    match auth {
        Some(("key", key)) => req = req.header("X-API-Key", key),
        Some((_, token)) => req = req.bearer_auth(token),
        None => {}
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[track_caller]
fn assert_mn_error(res: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(res.0, status, "body: {}", res.1);
    assert_eq!(res.1["error"]["code"], code, "body: {}", res.1);
    assert!(
        res.1["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "body: {}",
        res.1
    );
}

/// Registers a customer through the dialect and returns (customer id, access token).
async fn customer(app: &TestApp, email: &str) -> (String, String) {
    let (status, body) = mn(
        app,
        Method::POST,
        "/auth/register",
        None,
        Some(json!({"email": email, "password": "correct horse battery", "firstName": "Ada"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        str_of(&body["data"]["customer"]["id"]),
        str_of(&body["data"]["access_token"]),
    )
}

/// A product with one variant: (product id, variant id).
async fn stocked(app: &TestApp, name: &str, price: i64, stock: i32) -> (String, String) {
    let p = app
        .product(json!({"name": name, "price": price,
            "variants": [{"sku": format!("SKU-{name}"), "inventoryCount": stock}]}))
        .await;
    (str_of(&p["id"]), str_of(&p["variants"][0]["id"]))
}

async fn shipping(app: &TestApp) -> String {
    str_of(
        &app.post(
            "/shipping-methods",
            json!({"name": "Standard", "code": "standard", "price": 500, "countries": ["LV"],
                "freeAbove": 10000}),
        )
        .await["data"]["id"],
    )
}

fn address() -> Value {
    json!({"firstName": "Ada", "lastName": "Lovelace", "address1": "Brīvības iela 1", "city": "Rīga",
        "postalCode": "LV-1010", "country": "LV"})
}

/// Two notes of one category: (bergamot, cedar).
async fn notes(app: &TestApp) -> (String, String) {
    let citrus = str_of(
        &app.post("/blend-categories", json!({"name": "Citrus"}))
            .await["data"]["id"],
    );
    let bergamot = app
        .post(
            "/blend-notes",
            json!({"name": "Bergamot", "categoryId": citrus, "intensity": 6, "volatility": "top",
                "mood": ["fresh"]}),
        )
        .await;
    let cedar = app
        .post(
            "/blend-notes",
            json!({"name": "Cedar", "categoryId": citrus, "intensity": 8, "volatility": "base",
                "mood": ["calm"]}),
        )
        .await;
    (
        str_of(&bergamot["data"]["id"]),
        str_of(&cedar["data"]["id"]),
    )
}

#[tokio::test]
async fn customers_sign_in_and_credentials_are_checked() {
    let app = spawn_unlimited().await;
    let (id, _) = customer(&app, "ada@example.com").await;
    let (status, login) = mn(
        &app,
        Method::POST,
        "/auth/login",
        None,
        Some(json!({"email": "ada@example.com", "password": "correct horse battery"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    assert_eq!(login["data"]["customer"]["id"], id);
    assert!(login["data"]["expires_in"].as_i64().unwrap() > 0);
    let token = str_of(&login["data"]["access_token"]);
    let (status, profile) = mn(
        &app,
        Method::GET,
        "/customers/profile",
        Some(("bearer", &token)),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(profile["data"]["email"], "ada@example.com");

    let wrong = mn(
        &app,
        Method::POST,
        "/auth/login",
        None,
        Some(json!({"email": "ada@example.com", "password": "wrong password"})),
    )
    .await;
    assert_mn_error(&wrong, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS");
    let forged = mn(
        &app,
        Method::GET,
        "/customers/profile",
        Some(("bearer", "not.a.jwt")),
        None,
    )
    .await;
    assert_mn_error(&forged, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let anonymous = mn(&app, Method::GET, "/customers/profile", None, None).await;
    assert_mn_error(&anonymous, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let bad_key = mn(
        &app,
        Method::GET,
        "/orders",
        Some(("key", "sk_live_nope")),
        None,
    )
    .await;
    assert_mn_error(&bad_key, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");

    // Refresh rotates; the old refresh token is spent; logout revokes.
    let refresh = str_of(&login["data"]["refresh_token"]);
    let body = json!({"refresh_token": refresh});
    let (status, renewed) = mn(
        &app,
        Method::POST,
        "/auth/refresh",
        None,
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    let again = mn(&app, Method::POST, "/auth/refresh", None, Some(body)).await;
    assert_mn_error(&again, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let renewed_refresh = str_of(&renewed["data"]["refresh_token"]);
    let (status, _) = mn(
        &app,
        Method::POST,
        "/auth/logout",
        None,
        Some(json!({"refresh_token": renewed_refresh})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let after = mn(
        &app,
        Method::POST,
        "/auth/refresh",
        None,
        Some(json!({"refresh_token": renewed_refresh})),
    )
    .await;
    assert_mn_error(&after, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");

    // A customer token of another site is refused here.
    let other = app.create_site("Other").await;
    let url = format!("{}/moodmnky/{other}/api/customers/profile", app.url);
    let res = app
        .client
        .get(url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // An unknown site is not found.
    let url = format!("{}/moodmnky/site_nope/api/products", app.url);
    assert_eq!(
        app.client.get(url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

/// Waits, when needed, so that the next seconds fall in one hourly window.
async fn start_of_an_hour_window() {
    let second = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 3600;
    if second >= 3590 {
        tokio::time::sleep(std::time::Duration::from_secs(3601 - second)).await;
    }
}

#[tokio::test]
async fn each_tier_has_its_hourly_limit_with_headers() {
    let app = TestApp::spawn().await;
    start_of_an_hour_window().await;
    // Registering is a request without credentials too: the customer comes first.
    let (_, token) = customer(&app, "tier@example.com").await;
    let url = format!("{}/moodmnky/{}/api/products", app.url, app.site_id);
    let mut last = None;
    for i in 1..60 {
        let res = app.client.get(&url).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "request {i}");
        let remaining: i64 = res.headers()["x-ratelimit-remaining"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(remaining, 59 - i);
        assert_eq!(res.headers()["x-ratelimit-limit"], "60");
        last = Some(
            res.headers()["x-ratelimit-reset"]
                .to_str()
                .unwrap()
                .parse::<i64>()
                .unwrap(),
        );
    }
    let reset = last.unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!(reset > now && reset <= now + 3601, "reset {reset}");
    let res = app.client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "RATE_LIMIT_EXCEEDED");

    // A signed-in customer counts on its own, 1000 an hour; a key 5000.
    let started = std::time::Instant::now();
    let res = app
        .client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-ratelimit-limit"], "1000");
    assert_eq!(res.headers()["x-ratelimit-remaining"], "999");
    let res = app
        .client
        .get(&url)
        .header("X-API-Key", &app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-ratelimit-limit"], "5000");
    assert_eq!(res.headers()["x-ratelimit-remaining"], "4999");
    // The customer's 1000 run out for that customer only. The limit gives one request back every 3.6 s, so a
    // run slower than that sees one more pass per 3.6 s before the 429.
    let mut passed = 1;
    loop {
        let res = app
            .client
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
        assert_eq!(res.status(), StatusCode::OK);
        passed += 1;
        let given_back = started.elapsed().as_millis() / 3600 + 1;
        assert!(passed <= 1000 + given_back, "{passed} requests passed");
    }
    assert!(passed >= 1000, "the 429 came after {passed} requests");
    let (_, other) = customer_limited(&app).await;
    let res = app
        .client
        .get(&url)
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// A second customer, registered through the native API (the dialect's anonymous allowance is spent).
async fn customer_limited(app: &TestApp) -> (String, String) {
    let (status, body) = app
        .admin(
            Method::POST,
            "/auth/register",
            Some(json!({"email": "second@example.com", "password": "correct horse battery"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        str_of(&body["data"]["customer"]["id"]),
        str_of(&body["data"]["accessToken"]),
    )
}

#[tokio::test]
async fn products_are_listed_sorted_and_managed_with_a_key() {
    let app = spawn_unlimited().await;
    for (name, price) in [
        ("Amber Candle", 2499),
        ("Cedar Soap", 899),
        ("Bergamot Mist", 1550),
    ] {
        stocked(&app, name, price, 5).await;
    }
    let draft = app
        .product(json!({"name": "Secret", "price": 100, "status": "DRAFT"}))
        .await;

    let (status, list) = mn(
        &app,
        Method::GET,
        "/products?sort=price&order=desc&limit=2",
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let names: Vec<&str> = list["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Amber Candle", "Bergamot Mist"]);
    assert_eq!(
        list["pagination"],
        json!({"total": 3, "pages": 2, "page": 1, "limit": 2, "totalIsEstimate": false})
    );
    assert_eq!(list["products"][0]["price"], json!(24.99));
    assert_eq!(list["products"][0]["currency"], "EUR");
    let (_, by_name) = mn(&app, Method::GET, "/products?sort=name", None, None).await;
    assert_eq!(by_name["products"][0]["name"], "Amber Candle");
    assert_eq!(by_name["products"][2]["name"], "Cedar Soap");
    let (_, found) = mn(&app, Method::GET, "/products?search=cedar", None, None).await;
    assert_eq!(found["products"].as_array().unwrap().len(), 1);
    let hidden = mn(
        &app,
        Method::GET,
        &format!("/products/{}", str_of(&draft["id"])),
        None,
        None,
    )
    .await;
    assert_mn_error(&hidden, StatusCode::NOT_FOUND, "NOT_FOUND");
    let bad = mn(&app, Method::GET, "/products?limit=101", None, None).await;
    assert_mn_error(&bad, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    assert_eq!(bad.1["error"]["details"][0]["field"], "limit");
    let bad = mn(&app, Method::GET, "/products?sort=colour", None, None).await;
    assert_mn_error(&bad, StatusCode::BAD_REQUEST, "INVALID_INPUT");

    // Admin CRUD needs a key with write:catalog.
    let body = json!({"name": "Fig Diffuser", "price": "32.50", "sku": "FIG-1", "inventory": 4});
    let anonymous = mn(
        &app,
        Method::POST,
        "/admin/products",
        None,
        Some(body.clone()),
    )
    .await;
    assert_mn_error(&anonymous, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let reader = app.key(&app.site_id, &["read:catalog"]).await;
    let weak = mn(
        &app,
        Method::POST,
        "/admin/products",
        Some(("key", &reader)),
        Some(body.clone()),
    )
    .await;
    assert_mn_error(&weak, StatusCode::FORBIDDEN, "FORBIDDEN");
    let (status, created) = mn(
        &app,
        Method::POST,
        "/admin/products",
        Some(("key", &app.admin_key)),
        Some(body.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["data"]["price"], json!(32.5));
    assert_eq!(created["data"]["sku"], "FIG-1");
    assert_eq!(created["data"]["inventory"]["quantity"], 4);
    let id = str_of(&created["data"]["id"]);
    assert_eq!(
        app.count(&format!("select price from products where id = '{id}'"))
            .await,
        3250
    );
    let duplicate = mn(
        &app,
        Method::POST,
        "/admin/products",
        Some(("key", &app.admin_key)),
        Some(body),
    )
    .await;
    assert_eq!(duplicate.0, StatusCode::CONFLICT, "{}", duplicate.1);
    let bad_price = mn(
        &app,
        Method::POST,
        "/admin/products",
        Some(("key", &app.admin_key)),
        Some(json!({"name": "X", "price": 1.005})),
    )
    .await;
    assert_mn_error(&bad_price, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let (status, changed) = mn(
        &app,
        Method::PATCH,
        &format!("/admin/products/{id}"),
        Some(("key", &app.admin_key)),
        Some(json!({"price": 30, "status": "draft"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["data"]["price"], json!(30));
    assert_eq!(changed["data"]["status"], "draft");
    let (status, deleted) = mn(
        &app,
        Method::DELETE,
        &format!("/admin/products/{id}"),
        Some(("key", &app.admin_key)),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        deleted,
        json!({"success": true, "message": "Product successfully deleted", "id": id})
    );
    assert_eq!(
        app.count(&format!("select count(*) from products where id = '{id}'"))
            .await,
        0
    );
}

#[tokio::test]
async fn orders_are_placed_read_cancelled_and_moved_on_by_an_operator() {
    let app = spawn_unlimited().await;
    let (product, variant) = stocked(&app, "Amber Candle", 2499, 5).await;
    let method = shipping(&app).await;
    let (ada, token) = customer(&app, "ada@example.com").await;
    let (_, other) = customer(&app, "bob@example.com").await;
    let order_body = json!({"items": [{"productId": product, "variantId": variant, "quantity": 2}],
        "shippingAddress": address(), "shippingMethod": method, "notes": "Leave at the door"});
    let (status, placed) = mn(
        &app,
        Method::POST,
        "/orders",
        Some(("bearer", &token)),
        Some(order_body.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    let order = &placed["data"];
    let number = str_of(&order["orderNumber"]);
    assert!(number.starts_with("MNKY-"), "{number}");
    let native: String = sqlx::query_scalar("select 'ORD-' || number from orders where id = $1")
        .bind(str_of(&order["id"]))
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        number.trim_start_matches("MNKY-"),
        native.trim_start_matches("ORD-")
    );
    assert_eq!(order["status"], "payment_pending");
    assert_eq!(order["total"], json!(54.98));
    assert_eq!(order["customerId"], ada);
    assert_eq!(order["notes"], "Leave at the door");
    assert_eq!(
        app.count(&format!(
            "select inventory_count::bigint from variants where id = '{variant}'"
        ))
        .await,
        3
    );

    let (status, read) = mn(
        &app,
        Method::GET,
        &format!("/orders/{number}"),
        Some(("bearer", &token)),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read["data"]["id"], order["id"]);
    let theirs = mn(
        &app,
        Method::GET,
        &format!("/orders/{number}"),
        Some(("bearer", &other)),
        None,
    )
    .await;
    assert_mn_error(&theirs, StatusCode::NOT_FOUND, "NOT_FOUND");
    let (_, mine) = mn(
        &app,
        Method::GET,
        "/customers/orders",
        Some(("bearer", &token)),
        None,
    )
    .await;
    assert_eq!(mine["orders"].as_array().unwrap().len(), 1);
    let (_, none) = mn(&app, Method::GET, "/orders", Some(("bearer", &other)), None).await;
    assert_eq!(none["orders"], json!([]));

    // Too many: 409, nothing placed.
    let greedy = json!({"items": [{"productId": product, "quantity": 9}], "shippingAddress": address(),
        "shippingMethod": method});
    let refused = mn(
        &app,
        Method::POST,
        "/orders",
        Some(("bearer", &token)),
        Some(greedy),
    )
    .await;
    assert_mn_error(&refused, StatusCode::CONFLICT, "OUT_OF_STOCK");
    assert_eq!(app.count("select count(*) from orders").await, 1);
    let unknown = mn(&app, Method::POST, "/orders", Some(("bearer", &token)),
        Some(json!({"items": [{"productId": "prd_nope", "quantity": 1}], "shippingAddress": address(),
            "shippingMethod": method}))).await;
    assert_eq!(unknown.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown.1);
    assert_eq!(
        unknown.1["error"]["details"][0]["field"],
        "items[0].productId"
    );

    // The operator ships it: the order walks confirmed → processing → shipped.
    let status_path = format!("/admin/orders/{number}/status");
    let by_customer = mn(
        &app,
        Method::PATCH,
        &status_path,
        Some(("bearer", &token)),
        Some(json!({"status": "shipped"})),
    )
    .await;
    assert_mn_error(&by_customer, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    let (status, shipped) = mn(&app, Method::PATCH, &status_path, Some(("key", &app.admin_key)),
        Some(json!({"status": "shipped", "trackingNumber": "LV123", "carrier": "Omniva", "notifyCustomer": true}))).await;
    assert_eq!(status, StatusCode::OK, "{shipped}");
    assert_eq!(shipped["data"]["status"], "shipped");
    assert_eq!(shipped["data"]["trackingNumber"], "LV123");
    let statuses = app
        .count("select count(*) from events where type = 'order.updated'")
        .await;
    assert!(statuses >= 3, "{statuses} status events");
    // Too late to cancel now; a fresh order can be.
    let late = mn(
        &app,
        Method::POST,
        &format!("/orders/{number}/cancel"),
        Some(("bearer", &token)),
        Some(json!({"reason": "changed my mind"})),
    )
    .await;
    assert_mn_error(&late, StatusCode::CONFLICT, "ORDER_NOT_CANCELLABLE");
    let (_, second) = mn(
        &app,
        Method::POST,
        "/orders",
        Some(("bearer", &token)),
        Some(order_body),
    )
    .await;
    let second = str_of(&second["data"]["orderNumber"]);
    let theirs = mn(
        &app,
        Method::POST,
        &format!("/orders/{second}/cancel"),
        Some(("bearer", &other)),
        None,
    )
    .await;
    assert_mn_error(&theirs, StatusCode::NOT_FOUND, "NOT_FOUND");
    let (status, cancelled) = mn(
        &app,
        Method::POST,
        &format!("/orders/{second}/cancel"),
        Some(("bearer", &token)),
        Some(json!({"reason": "changed my mind"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["data"]["status"], "cancelled");
    assert_eq!(
        app.count(&format!(
            "select inventory_count::bigint from variants where id = '{variant}'"
        ))
        .await,
        3
    );
    let (_, listed) = mn(
        &app,
        Method::GET,
        "/orders?status=cancelled",
        Some(("key", &app.admin_key)),
        None,
    )
    .await;
    assert_eq!(listed["orders"].as_array().unwrap().len(), 1);
    let backwards = mn(
        &app,
        Method::PATCH,
        &status_path,
        Some(("key", &app.admin_key)),
        Some(json!({"status": "created"})),
    )
    .await;
    assert_eq!(backwards.0, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_cart_takes_a_custom_blend_to_the_order_line() {
    let app = spawn_unlimited().await;
    let (product, variant) = stocked(&app, "Custom Candle", 3000, 2).await;
    let method = shipping(&app).await;
    let (bergamot, cedar) = notes(&app).await;
    let (_, token) = customer(&app, "ada@example.com").await;
    let (_, other) = customer(&app, "bob@example.com").await;
    let me = Some(("bearer", token.as_str()));
    let (status, blend) = mn(&app, Method::POST, "/custom-blends", me,
        Some(json!({"name": "Evening", "composition": {"notes": [{"id": bergamot, "ratio": 0.4}, {"id": cedar, "ratio": "0.6"}]}}))).await;
    assert_eq!(status, StatusCode::CREATED, "{blend}");
    let blend_id = str_of(&blend["data"]["id"]);

    let custom = json!({"productId": product, "variantId": variant, "quantity": 1,
        "customizations": {"fragrance": "custom", "fragranceId": blend_id, "giftWrapped": true}});
    let (status, cart) = mn(&app, Method::POST, "/cart/items", me, Some(custom.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{cart}");
    let line = &cart["data"]["items"][0];
    assert_eq!(line["customizations"]["fragrance"], "custom");
    assert_eq!(line["customizations"]["fragranceId"], blend_id);
    assert_eq!(line["customizations"]["fragranceName"], "Evening");
    // The same variant plain is another line; both count against the stock of 2.
    let plain = json!({"productId": product, "variantId": variant, "quantity": 1});
    let (_, cart) = mn(&app, Method::POST, "/cart/items", me, Some(plain.clone())).await;
    assert_eq!(cart["data"]["items"].as_array().unwrap().len(), 2);
    let over = mn(&app, Method::POST, "/cart/items", me, Some(plain)).await;
    assert_mn_error(&over, StatusCode::CONFLICT, "OUT_OF_STOCK");
    // Another customer cannot use this blend.
    let stolen = mn(
        &app,
        Method::POST,
        "/cart/items",
        Some(("bearer", &other)),
        Some(custom),
    )
    .await;
    assert_mn_error(&stolen, StatusCode::NOT_FOUND, "NOT_FOUND");

    let bad_code = mn(
        &app,
        Method::POST,
        "/cart/discounts",
        me,
        Some(json!({"code": "NOPE"})),
    )
    .await;
    assert_mn_error(
        &bad_code,
        StatusCode::UNPROCESSABLE_ENTITY,
        "INVALID_DISCOUNT_CODE",
    );
    app.post(
        "/promotions",
        json!({"code": "TENOFF", "type": "PERCENTAGE", "value": 10}),
    )
    .await;
    let (status, discounted) = mn(
        &app,
        Method::POST,
        "/cart/discounts",
        me,
        Some(json!({"code": "TENOFF"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{discounted}");
    assert_eq!(discounted["data"]["discount"], json!(6));
    let (_, noted) = mn(
        &app,
        Method::POST,
        "/cart/notes",
        me,
        Some(json!({"notes": "A gift for Bob"})),
    )
    .await;
    assert_eq!(noted["data"]["notes"], "A gift for Bob");
    let (status, estimates) = mn(
        &app,
        Method::POST,
        "/cart/shipping-estimates",
        me,
        Some(json!({"country": "LV"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{estimates}");
    assert_eq!(estimates["data"]["estimates"][0]["id"], method);
    assert_eq!(estimates["data"]["estimates"][0]["price"], json!(5));
    let (_, none) = mn(
        &app,
        Method::POST,
        "/cart/shipping-estimates",
        me,
        Some(json!({"country": "DE"})),
    )
    .await;
    assert_eq!(none["data"]["estimates"], json!([]));

    // The stock goes before checkout: 409, the cart stays.
    app.admin(
        Method::POST,
        &format!("/inventory/{product}"),
        Some(json!({"operation": "set", "quantity": 1})),
    )
    .await;
    let checkout_body = json!({"shippingAddress": address(), "shippingMethod": method});
    let short = mn(
        &app,
        Method::POST,
        "/cart/checkout",
        me,
        Some(checkout_body.clone()),
    )
    .await;
    assert_mn_error(&short, StatusCode::CONFLICT, "OUT_OF_STOCK");
    app.admin(
        Method::POST,
        &format!("/inventory/{product}"),
        Some(json!({"operation": "set", "quantity": 2})),
    )
    .await;
    let (status, order) = mn(
        &app,
        Method::POST,
        "/cart/checkout",
        me,
        Some(checkout_body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(order["data"]["notes"], "A gift for Bob");
    assert_eq!(order["data"]["discountCode"], "TENOFF");
    let lines = order["data"]["items"].as_array().unwrap();
    let made = lines
        .iter()
        .find(|l| !l["customizations"].is_null())
        .unwrap();
    assert_eq!(made["customizations"]["blendId"], blend_id);
    assert_eq!(made["customizations"]["blendName"], "Evening");
    assert_eq!(made["customizations"]["giftWrapped"], true);
    // Recorded on the order line itself, as it was: deleting the blend later changes nothing.
    let stored: Value = sqlx::query_scalar(
        "select customizations from order_items where customizations is not null",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        stored["blendComposition"][1],
        json!({"noteId": cedar, "ratio": 600000})
    );
    // The native order shows it too.
    let native = app
        .get(&format!("/orders/{}", str_of(&order["data"]["id"])))
        .await;
    assert_eq!(
        native["data"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["customizations"]["blendId"] == json!(blend_id))
            .count(),
        1
    );
    // A fresh cart after checkout.
    let (_, fresh) = mn(&app, Method::GET, "/cart", me, None).await;
    assert_eq!(fresh["data"]["items"], json!([]));
    assert_ne!(fresh["data"]["id"], cart["data"]["id"]);
}

#[tokio::test]
async fn the_customer_keeps_a_profile_addresses_and_loyalty() {
    let app = spawn_unlimited().await;
    let (ada, token) = customer(&app, "ada@example.com").await;
    let me = Some(("bearer", token.as_str()));
    let (status, changed) = mn(
        &app,
        Method::PATCH,
        "/customers/profile",
        me,
        Some(json!({"lastName": "Lovelace", "acceptsMarketing": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["data"]["lastName"], "Lovelace");
    let email = mn(
        &app,
        Method::PATCH,
        "/customers/profile",
        me,
        Some(json!({"email": "x@example.com"})),
    )
    .await;
    assert_mn_error(&email, StatusCode::BAD_REQUEST, "INVALID_INPUT");

    let (status, added) = mn(
        &app,
        Method::POST,
        "/customers/addresses",
        me,
        Some(address()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["data"]["isDefault"], true);
    let id = str_of(&added["data"]["id"]);
    let (_, list) = mn(&app, Method::GET, "/customers/addresses", me, None).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    let (status, moved) = mn(
        &app,
        Method::PATCH,
        &format!("/customers/addresses/{id}"),
        me,
        Some(json!({"city": "Jūrmala"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(moved["data"]["city"], "Jūrmala");
    let bad = mn(
        &app,
        Method::POST,
        "/customers/addresses",
        me,
        Some(json!({"city": "Rīga"})),
    )
    .await;
    assert_mn_error(&bad, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let (status, _) = mn(
        &app,
        Method::DELETE,
        &format!("/customers/addresses/{id}"),
        me,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.count("select count(*) from customer_addresses").await,
        0
    );

    app.admin(
        Method::POST,
        &format!("/loyalty/{ada}/award"),
        Some(json!({"points": 120, "note": "Welcome"})),
    )
    .await;
    let (status, loyalty) = mn(&app, Method::GET, "/customers/loyalty", me, None).await;
    assert_eq!(status, StatusCode::OK, "{loyalty}");
    assert_eq!(loyalty["data"]["points"], 120);
    assert_eq!(loyalty["data"]["transactions"][0]["points"], 120);
}

#[tokio::test]
async fn blends_are_checked_and_kept_to_their_customer() {
    let app = spawn_unlimited().await;
    let (bergamot, cedar) = notes(&app).await;
    let (_, token) = customer(&app, "ada@example.com").await;
    let (_, other) = customer(&app, "bob@example.com").await;
    let me = Some(("bearer", token.as_str()));
    let (status, cats) = mn(&app, Method::GET, "/custom-blends/categories", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cats["data"][0]["name"], "Citrus");
    let (_, found) = mn(
        &app,
        Method::GET,
        "/custom-blends/notes?searchTerm=ced",
        None,
        None,
    )
    .await;
    assert_eq!(found["data"].as_array().unwrap().len(), 1);
    assert_eq!(found["data"][0]["volatility"], "base");

    let blend = |name: &str, a: Value, b: Value| json!({"name": name, "composition": {"notes": [{"id": bergamot, "ratio": a}, {"id": cedar, "ratio": b}], "baseIntensity": 5}});
    let off = mn(
        &app,
        Method::POST,
        "/custom-blends",
        me,
        Some(blend("Off", json!(0.5), json!(0.6))),
    )
    .await;
    assert_mn_error(&off, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR");
    let unknown = mn(
        &app,
        Method::POST,
        "/custom-blends",
        me,
        Some(json!({"name": "Ghost", "composition": {"notes": [{"id": "bnt_nope", "ratio": 1}]}})),
    )
    .await;
    assert_mn_error(&unknown, StatusCode::NOT_FOUND, "NOT_FOUND");
    let empty = mn(
        &app,
        Method::POST,
        "/custom-blends",
        me,
        Some(json!({"name": "Empty", "composition": {"notes": []}})),
    )
    .await;
    assert_mn_error(&empty, StatusCode::BAD_REQUEST, "INVALID_INPUT");
    let anonymous = mn(
        &app,
        Method::POST,
        "/custom-blends",
        None,
        Some(blend("Anon", json!(0.5), json!(0.5))),
    )
    .await;
    assert_mn_error(&anonymous, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    assert_eq!(app.count("select count(*) from blends").await, 0);

    let (status, made) = mn(
        &app,
        Method::POST,
        "/custom-blends",
        me,
        Some(blend("Dusk", json!(0.25), json!(0.75))),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(
        made["data"]["composition"]["notes"][0]["ratio"],
        json!(0.25)
    );
    assert_eq!(
        made["data"]["profile"]["mood"][0],
        json!({"name": "calm", "share": 0.75})
    );
    let twice = mn(
        &app,
        Method::POST,
        "/custom-blends",
        me,
        Some(blend("dusk", json!(0.5), json!(0.5))),
    )
    .await;
    assert_mn_error(&twice, StatusCode::CONFLICT, "CONFLICT");
    let id = str_of(&made["data"]["id"]);
    let theirs = mn(
        &app,
        Method::GET,
        &format!("/custom-blends/{id}"),
        Some(("bearer", &other)),
        None,
    )
    .await;
    assert_mn_error(&theirs, StatusCode::NOT_FOUND, "NOT_FOUND");
    let theirs = mn(
        &app,
        Method::DELETE,
        &format!("/custom-blends/{id}"),
        Some(("bearer", &other)),
        None,
    )
    .await;
    assert_mn_error(&theirs, StatusCode::NOT_FOUND, "NOT_FOUND");
    let (_, mine) = mn(&app, Method::GET, "/custom-blends", me, None).await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);

    // Changes follow the same rules; nothing changes on a refusal.
    let path = format!("/custom-blends/{id}");
    let off = mn(
        &app,
        Method::PATCH,
        &path,
        me,
        Some(json!({"composition": {"notes": [{"id": bergamot, "ratio": 0.5}]}})),
    )
    .await;
    assert_mn_error(&off, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR");
    let theirs = mn(
        &app,
        Method::PATCH,
        &path,
        Some(("bearer", &other)),
        Some(json!({"name": "Mine"})),
    )
    .await;
    assert_mn_error(&theirs, StatusCode::NOT_FOUND, "NOT_FOUND");
    let (status, changed) = mn(
        &app,
        Method::PATCH,
        &path,
        me,
        Some(json!({"isPublic": true, "description": "Late"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["data"]["isPublic"], true);
    assert_eq!(
        changed["data"]["composition"]["notes"][0]["ratio"],
        json!(0.25)
    );
    // Public now: another customer reads it (and lists it) but cannot change it.
    let (status, _) = mn(&app, Method::GET, &path, Some(("bearer", &other)), None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, public) = mn(
        &app,
        Method::GET,
        "/custom-blends?public=true",
        Some(("bearer", &other)),
        None,
    )
    .await;
    assert_eq!(public["data"][0]["id"], json!(id));

    // Recommendations are the same for the same question; a disliked note never appears.
    let question = "/custom-blends/recommendations?mood=calm";
    let (status, first) = mn(&app, Method::GET, question, me, None).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (_, second) = mn(&app, Method::GET, question, me, None).await;
    assert_eq!(first, second);
    for r in first["data"].as_array().unwrap() {
        assert!(
            r["composition"]["notes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["id"] == json!(cedar)),
            "{r}"
        );
    }
    let (status, scent) = mn(
        &app,
        Method::PATCH,
        "/customers/scent-profile",
        me,
        Some(json!({"dislikedNotes": [cedar], "preferredMoods": ["fresh"], "intensity": 4})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{scent}");
    assert_eq!(scent["data"]["dislikedNotes"], json!([cedar]));
    let (_, read) = mn(&app, Method::GET, "/customers/scent-profile", me, None).await;
    assert_eq!(read["data"]["intensity"], 4);
    let bad = mn(
        &app,
        Method::PATCH,
        "/customers/scent-profile",
        me,
        Some(json!({"dislikedNotes": ["bnt_nope"]})),
    )
    .await;
    assert_eq!(bad.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.1);
    let (_, liked) = mn(
        &app,
        Method::GET,
        "/custom-blends/recommendations",
        me,
        None,
    )
    .await;
    for r in liked["data"].as_array().unwrap() {
        assert!(
            !r["composition"]["notes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["id"] == json!(cedar)),
            "{r}"
        );
    }

    // Testing the blend against a product answers a score and the rules applied.
    let candle = app
        .product(json!({"name": "Soy Candle", "price": 1500}))
        .await;
    let (status, tested) = mn(
        &app,
        Method::POST,
        &format!("{path}/test-product"),
        me,
        Some(json!({"productId": candle["id"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tested}");
    let score = tested["data"]["score"].as_i64().unwrap();
    assert!((0..=100).contains(&score), "{tested}");
    assert!(!tested["data"]["rules"].as_array().unwrap().is_empty());
    let missing = mn(
        &app,
        Method::POST,
        &format!("{path}/test-product"),
        me,
        Some(json!({"productId": "prd_nope"})),
    )
    .await;
    assert_mn_error(&missing, StatusCode::NOT_FOUND, "NOT_FOUND");
    let (status, _) = mn(
        &app,
        Method::DELETE,
        &format!("/custom-blends/{id}"),
        me,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.count("select count(*) from blends").await, 0);
}
