//! The checkout over HTTP: the happy path, test payments, every transition of the state machine, concurrent
//! buyers (no oversell, promotion limits held), totals, and bad input. Every test checks the database too.

mod common;

use std::collections::HashSet;

use common::{
    TestApp, assert_error, assert_unprocessable, spawn_unlimited as spawn, start_of_a_window,
    str_of,
};
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shopvo::domain::keys;

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

/// The states in order.
const STATES: [&str; 6] = [
    "init", "contact", "shipping", "payment", "review", "complete",
];

/// A `sk_test_` admin key of the test site.
async fn test_key(app: &TestApp) -> String {
    let new = keys::NewKey {
        scopes: vec!["admin:*".into()],
        publishable: false,
        test: true,
        signing: false,
        require_request_signature: false,
        name: None,
        expires_at: None,
    };
    let created = keys::create(
        &mut app.pool.acquire().await.unwrap(),
        &app.server_key,
        &app.site_id,
        new,
    )
    .await
    .unwrap();
    assert!(created.plaintext.starts_with("sk_test_"));
    created.plaintext
}

/// A request to the test site with `key`.
async fn send(
    app: &TestApp,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    app.call(method, &app.api(path), Some(key), body).await
}

/// `data` of a 200 response.
#[track_caller]
fn ok(res: (StatusCode, Value)) -> Value {
    assert_eq!(res.0, StatusCode::OK, "body: {}", res.1);
    assert_eq!(res.1["success"], true, "body: {}", res.1);
    res.1["data"].clone()
}

/// Asserts a 400 `VALIDATION_ERROR` whose details name `field`.
#[track_caller]
fn assert_invalid(res: &(StatusCode, Value), field: &str) {
    assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(
        fields(&res.1).iter().any(|f| f == field),
        "expected `{field}` in details: {}",
        res.1
    );
}

/// The field names of a validation error's `details`.
fn fields(body: &Value) -> Vec<String> {
    body["details"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A product with one variant holding `stock` units; returns (product id, variant id).
async fn stocked(app: &TestApp, sku: &str, price: i64, stock: i32) -> (String, String) {
    let p = app
        .product(json!({"name": format!("Product {sku}"), "price": price,
            "variants": [{"sku": sku, "inventoryCount": stock}]}))
        .await;
    (str_of(&p["id"]), str_of(&p["variants"][0]["id"]))
}

/// A shipping method; returns its id.
async fn shipping_method(app: &TestApp, body: Value) -> String {
    str_of(&app.post("/shipping-methods", body).await["data"]["id"])
}

/// The usual method: `standard`, 500 to Latvia.
async fn standard_method(app: &TestApp) -> String {
    shipping_method(
        app,
        json!({"name": "Standard", "code": "standard", "price": 500, "countries": ["LV"]}),
    )
    .await
}

async fn tax_rate(app: &TestApp, country: &str, percentage: Value) {
    app.post(
        "/tax-rates",
        json!({"country": country, "percentage": percentage}),
    )
    .await;
}

async fn promotion(app: &TestApp, body: Value) -> Value {
    app.post("/promotions", body).await["data"].clone()
}

/// `PATCH /cart?cartId=…` with `key`.
async fn cart_action(app: &TestApp, key: &str, cart: &str, body: Value) -> (StatusCode, Value) {
    send(
        app,
        key,
        Method::PATCH,
        &format!("/cart?cartId={cart}"),
        Some(body),
    )
    .await
}

/// A new, empty EUR cart; returns its id.
async fn new_cart(app: &TestApp, key: &str) -> String {
    let (status, body) = send(
        app,
        key,
        Method::POST,
        "/cart",
        Some(json!({"sessionId": "sess_abc123", "currency": "EUR"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["status"], "ACTIVE");
    str_of(&body["data"]["id"])
}

fn add_item(product: &str, variant: &str, quantity: Value) -> Value {
    json!({"action": "add", "item": {"productId": product, "variantId": variant, "quantity": quantity}})
}

/// A cart holding `quantity` of a variant; returns its id.
async fn cart_with(
    app: &TestApp,
    key: &str,
    product: &str,
    variant: &str,
    quantity: i32,
) -> String {
    let cart = new_cart(app, key).await;
    ok(cart_action(app, key, &cart, add_item(product, variant, json!(quantity))).await);
    cart
}

/// `POST /checkout {cartId}`.
async fn start(app: &TestApp, key: &str, cart: &str) -> (StatusCode, Value) {
    send(
        app,
        key,
        Method::POST,
        "/checkout",
        Some(json!({"cartId": cart})),
    )
    .await
}

/// `PATCH /checkout` with this body.
async fn advance(app: &TestApp, key: &str, body: Value) -> (StatusCode, Value) {
    send(app, key, Method::PATCH, "/checkout", Some(body)).await
}

/// `PATCH /checkout {sessionId, state: "complete"}`.
async fn complete(app: &TestApp, key: &str, session: &str) -> (StatusCode, Value) {
    advance(app, key, json!({"sessionId": session, "state": "complete"})).await
}

async fn get_session(app: &TestApp, key: &str, session: &str) -> Value {
    ok(send(
        app,
        key,
        Method::GET,
        &format!("/checkout?sessionId={session}"),
        None,
    )
    .await)
}

fn address(country: &str) -> Value {
    json!({"firstName": "Jane", "lastName": "Smith", "line1": "Brīvības iela 1", "city": "Rīga",
        "postalCode": "LV-1010", "country": country})
}

/// The body that moves `session` to `state` with valid data (manual payment, Latvian address).
fn step(session: &str, state: &str, method: &str) -> Value {
    match state {
        "contact" => json!({"sessionId": session, "state": "contact", "email": "jane@example.com"}),
        "shipping" => json!({"sessionId": session, "state": "shipping",
            "shippingAddress": address("LV"), "shippingMethodId": method}),
        "payment" => json!({"sessionId": session, "state": "payment", "paymentMethod": "manual"}),
        _ => json!({"sessionId": session, "state": state}),
    }
}

/// Starts a checkout of `cart` and advances it to `target` one legal step at a time; returns the session id.
async fn checkout_to(app: &TestApp, key: &str, cart: &str, method: &str, target: &str) -> String {
    let (status, body) = start(app, key, cart).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let session = str_of(&body["data"]["id"]);
    for state in STATES.iter().skip(1) {
        if STATES.iter().position(|s| s == state) > STATES.iter().position(|s| *s == target) {
            break;
        }
        let data = ok(advance(app, key, step(&session, state, method)).await);
        assert_eq!(data["state"], *state);
    }
    session
}

/// Shortcut: a checkout at `review`.
async fn checkout_to_review(app: &TestApp, key: &str, cart: &str, method: &str) -> String {
    checkout_to(app, key, cart, method, "review").await
}

/// A session's `state` column.
async fn state_in_db(app: &TestApp, session: &str) -> String {
    text(
        app,
        &format!("select state from checkout_sessions where id = '{session}'"),
    )
    .await
    .unwrap()
}

async fn text(app: &TestApp, sql: &str) -> Option<String> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn on_hand(app: &TestApp, variant: &str) -> i64 {
    app.count(&format!(
        "select coalesce(sum(on_hand), 0)::bigint from stock_levels where variant_id = '{variant}'"
    ))
    .await
}

async fn variant_count(app: &TestApp, variant: &str) -> i64 {
    app.count(&format!(
        "select inventory_count::bigint from variants where id = '{variant}'"
    ))
    .await
}

async fn cart_status(app: &TestApp, cart: &str) -> String {
    text(
        app,
        &format!("select status from carts where id = '{cart}'"),
    )
    .await
    .unwrap()
}

fn totals(subtotal: i64, discount: i64, shipping: i64, tax: i64, total: i64) -> Value {
    json!({"subtotal": subtotal, "discount": discount, "shipping": shipping, "tax": tax, "total": total})
}

// ---------------------------------------------------------------------------------------------------------
// The happy path
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn happy_path_places_one_order_at_catalog_prices() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let (product, variant) = stocked(&app, "WID-1", 2500, 5).await;
    let method = standard_method(&app).await;
    tax_rate(&app, "LV", json!(21)).await;

    // The cart: a bogus client price is ignored.
    let cart = new_cart(&app, &key).await;
    let res = cart_action(
        &app,
        &key,
        &cart,
        json!({"action": "add", "item": {"productId": product, "variantId": variant, "quantity": 2, "price": 1}}),
    )
    .await;
    let body = ok(res);
    assert_eq!(body["items"][0]["unitPrice"], 2500, "{body}");
    assert_eq!(body["items"][0]["quantity"], 2);
    assert_eq!(body["items"][0]["total"], 5000);
    assert_eq!(
        (body["subtotal"].clone(), body["total"].clone()),
        (json!(5000), json!(5000))
    );

    // init
    let (status, body) = start(&app, &key, &cart).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let session = str_of(&body["data"]["id"]);
    assert!(session.starts_with("cs_"), "{body}");
    assert_eq!(body["data"]["state"], "init");
    assert_eq!(body["data"]["cartId"], cart.as_str());
    assert_eq!(body["data"]["totals"], totals(5000, 0, 0, 0, 5000));
    assert_eq!(body["data"]["orderId"], Value::Null);

    // contact
    let data = ok(advance(&app, &key, step(&session, "contact", &method)).await);
    assert_eq!(data["state"], "contact");
    assert_eq!(data["email"], "jane@example.com");
    assert_eq!(data["totals"], totals(5000, 0, 0, 0, 5000));

    // shipping: 500 shipping, 21 % of 5500 = 1155 tax
    let data = ok(advance(&app, &key, step(&session, "shipping", &method)).await);
    assert_eq!(data["state"], "shipping");
    assert_eq!(data["shippingMethodId"], method.as_str());
    assert_eq!(data["shippingAddress"]["country"], "LV");
    assert_eq!(data["totals"], totals(5000, 0, 500, 1155, 6655));

    // payment
    let data = ok(advance(&app, &key, step(&session, "payment", &method)).await);
    assert_eq!(data["state"], "payment");
    assert_eq!(data["paymentMethod"], "manual");
    assert_eq!(data["totals"], totals(5000, 0, 500, 1155, 6655));

    // review
    let data = ok(advance(&app, &key, step(&session, "review", &method)).await);
    assert_eq!(data["state"], "review");
    assert_eq!(data["totals"], totals(5000, 0, 500, 1155, 6655));
    assert_eq!(app.count("select count(*) from orders").await, 0);
    assert_eq!(on_hand(&app, &variant).await, 5, "review takes no stock");

    // complete
    let data = ok(complete(&app, &key, &session).await);
    assert_eq!(data["state"], "complete");
    assert_eq!(data["totals"], totals(5000, 0, 500, 1155, 6655));
    let order = &data["order"];
    let order_id = str_of(&data["orderId"]);
    assert_eq!(order["id"], order_id.as_str());
    assert!(order_id.starts_with("order_"), "{order}");
    assert_eq!(order["number"], "ORD-1001");
    assert_eq!(order["status"], "PENDING");
    assert_eq!(order["paymentStatus"], "PENDING");
    assert_eq!(order["fulfillmentStatus"], "draft");
    assert_eq!(order["paymentMethod"], "manual");
    assert_eq!(order["isTest"], false);
    assert_eq!(order["email"], "jane@example.com");
    assert_eq!(order["currency"], "EUR");
    assert_eq!(order["checkoutSessionId"], session.as_str());
    assert_eq!(
        (
            &order["subtotal"],
            &order["discount"],
            &order["shipping"],
            &order["tax"],
            &order["total"]
        ),
        (
            &json!(5000),
            &json!(0),
            &json!(500),
            &json!(1155),
            &json!(6655)
        )
    );
    assert_eq!(order["shippingAddress"]["city"], "Rīga");
    assert_eq!(order["shippingMethod"]["code"], "standard");
    assert_eq!(order["shippingMethod"]["price"], 500);
    let items = order["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{order}");
    assert_eq!(items[0]["variantId"], variant.as_str());
    assert_eq!(items[0]["productId"], product.as_str());
    assert_eq!(items[0]["sku"], "WID-1");
    assert_eq!(items[0]["unitPrice"], 2500);
    assert_eq!(items[0]["quantity"], 2);
    assert_eq!(items[0]["total"], 5000);

    // The database: stock taken through the ledger, cart closed, one order, one event.
    assert_eq!(on_hand(&app, &variant).await, 3);
    assert_eq!(variant_count(&app, &variant).await, 3);
    assert_eq!(
        app.count(&format!(
            "select count(*) from inventory_ledger where source = 'order' and reason = '{order_id}' and delta = -2"
        ))
        .await,
        1
    );
    assert_eq!(cart_status(&app, &cart).await, "CHECKED_OUT");
    assert_eq!(state_in_db(&app, &session).await, "complete");
    assert_eq!(
        app.count("select count(*) from orders where number = 1001 and total = 6655")
            .await,
        1
    );
    assert_eq!(
        app.count("select count(*) from order_items where unit_price = 2500 and quantity = 2")
            .await,
        1
    );
    assert_eq!(
        app.count(&format!(
            "select count(*) from events where type = 'order.created' and payload ->> 'id' = '{order_id}' \
             and payload ->> 'number' = 'ORD-1001'"
        ))
        .await,
        1
    );
    assert_eq!(
        app.count("select count(*) from events where type like 'order.%' or type like 'payment.%'")
            .await,
        1
    );

    // Completing again returns the same order and writes nothing.
    let again = ok(complete(&app, &key, &session).await);
    assert_eq!(again["orderId"], order_id.as_str());
    assert_eq!(again["order"]["number"], "ORD-1001");
    assert_eq!(app.count("select count(*) from orders").await, 1);
    assert_eq!(
        app.count("select count(*) from events where type like 'order.%' or type like 'payment.%'")
            .await,
        1
    );
    assert_eq!(on_hand(&app, &variant).await, 3);

    // The session and the order read back.
    let read = get_session(&app, &key, &session).await;
    assert_eq!(read["state"], "complete");
    assert_eq!(read["orderId"], order_id.as_str());
    let fetched = app.get("/orders/ORD-1001").await;
    assert_eq!(fetched["data"]["id"], order_id.as_str());
    assert_eq!(fetched["data"]["total"], 6655);
    assert_eq!(fetched["data"]["items"][0]["unitPrice"], 2500);
}

#[tokio::test]
async fn concurrent_completes_of_one_session_place_one_order() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let (product, variant) = stocked(&app, "ONE-1", 1000, 10).await;
    let method = standard_method(&app).await;
    let cart = cart_with(&app, &key, &product, &variant, 1).await;
    let session = checkout_to_review(&app, &key, &cart, &method).await;
    let results = futures::future::join_all((0..10).map(|_| complete(&app, &key, &session))).await;
    let ids: HashSet<String> = results
        .into_iter()
        .map(|r| str_of(&ok(r)["orderId"]))
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(app.count("select count(*) from orders").await, 1);
    assert_eq!(on_hand(&app, &variant).await, 9);
}

#[tokio::test]
async fn a_second_session_on_a_checked_out_cart_cannot_place_another_order() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let (product, variant) = stocked(&app, "TWO-1", 1000, 10).await;
    let method = standard_method(&app).await;
    let cart = cart_with(&app, &key, &product, &variant, 2).await;
    // Two tabs start a checkout of the same cart; the first completes.
    let first = checkout_to_review(&app, &key, &cart, &method).await;
    let second = checkout_to_review(&app, &key, &cart, &method).await;
    ok(complete(&app, &key, &first).await);
    let res = complete(&app, &key, &second).await;
    assert_error(&res, StatusCode::CONFLICT, "CART_CLOSED");
    assert_eq!(app.count("select count(*) from orders").await, 1);
    assert_eq!(on_hand(&app, &variant).await, 8);
    assert_eq!(state_in_db(&app, &second).await, "review");
    // And a new checkout of it is refused too.
    let res = start(&app, &key, &cart).await;
    assert_error(&res, StatusCode::CONFLICT, "CART_CLOSED");
    let res = cart_action(&app, &key, &cart, add_item(&product, &variant, json!(1))).await;
    assert_error(&res, StatusCode::CONFLICT, "CART_CLOSED");
}

// ---------------------------------------------------------------------------------------------------------
// Test payments
// ---------------------------------------------------------------------------------------------------------

/// A checkout driven with `key` to `shipping`, then `payment` with this body's extra fields, then `review`.
async fn checkout_with_payment(
    app: &TestApp,
    key: &str,
    cart: &str,
    method: &str,
    payment: Value,
) -> String {
    let session = checkout_to(app, key, cart, method, "shipping").await;
    let mut body = json!({"sessionId": session, "state": "payment"});
    body.as_object_mut()
        .unwrap()
        .extend(payment.as_object().unwrap().clone());
    let data = ok(advance(app, key, body).await);
    assert_eq!(data["state"], "payment");
    let data = ok(advance(app, key, step(&session, "review", method)).await);
    assert_eq!(data["state"], "review");
    session
}

#[tokio::test]
async fn test_payments_with_a_test_key_mark_the_order_paid_and_test() {
    let app = spawn().await;
    let key = test_key(&app).await;
    let (product, variant) = stocked(&app, "TP-1", 2500, 5).await;
    let method = standard_method(&app).await;
    let cart = cart_with(&app, &key, &product, &variant, 1).await;
    let session =
        checkout_with_payment(&app, &key, &cart, &method, json!({"paymentMethod": "test"})).await;
    let data = ok(complete(&app, &key, &session).await);
    assert_eq!(data["isTest"], true);
    let order = &data["order"];
    assert_eq!(order["paymentStatus"], "PAID", "{order}");
    assert_eq!(order["status"], "PENDING");
    assert_eq!(order["isTest"], true);
    assert_eq!(order["paymentMethod"], "test");
    let order_id = str_of(&order["id"]);
    assert_eq!(
        app.count(&format!(
            "select count(*) from orders where id = '{order_id}' and is_test and payment_status = 'PAID'"
        ))
        .await,
        1
    );
    assert_eq!(
        app.count(&format!(
            "select count(*) from events where type = 'payment.confirmed' and payload ->> 'orderId' = '{order_id}' \
             and (payload ->> 'amount')::bigint = 3000"
        ))
        .await,
        1
    );
    assert_eq!(
        app.count("select count(*) from events where type = 'order.created'")
            .await,
        1
    );
    assert_eq!(on_hand(&app, &variant).await, 4);
}

#[tokio::test]
async fn a_declined_test_payment_is_409_and_writes_nothing() {
    let app = spawn().await;
    let key = test_key(&app).await;
    let (product, variant) = stocked(&app, "TP-2", 2500, 5).await;
    let method = standard_method(&app).await;
    let cart = cart_with(&app, &key, &product, &variant, 2).await;
    let session = checkout_with_payment(
        &app,
        &key,
        &cart,
        &method,
        json!({"paymentMethod": "test", "paymentToken": "tok_chargeDeclined"}),
    )
    .await;
    let session_body = get_session(&app, &key, &session).await;
    assert!(
        session_body.get("paymentToken").is_none(),
        "the token is never shown: {session_body}"
    );
    let res = complete(&app, &key, &session).await;
    assert_error(&res, StatusCode::CONFLICT, "PAYMENT_DECLINED");
    assert_eq!(app.count("select count(*) from orders").await, 0);
    assert_eq!(app.count("select count(*) from order_items").await, 0);
    assert_eq!(
        app.count("select count(*) from events where type not like 'product.%'")
            .await,
        0
    );
    assert_eq!(on_hand(&app, &variant).await, 5);
    assert_eq!(variant_count(&app, &variant).await, 5);
    assert_eq!(
        app.count("select count(*) from inventory_ledger where source = 'order'")
            .await,
        0
    );
    assert_eq!(cart_status(&app, &cart).await, "ACTIVE");
    assert_eq!(state_in_db(&app, &session).await, "review");
    // No order number was taken either: the site's sequence was never used.
    let sequence = format!("order_number_{}", app.site_id.to_lowercase());
    let used = app
        .count(&format!(
            "select (case when is_called then 1 else 0 end)::bigint from {sequence}"
        ))
        .await;
    assert_eq!(used, 0);
}

#[tokio::test]
async fn test_payments_need_a_test_mode_session() {
    let app = spawn().await;
    let live = app.admin_key.clone();
    let (product, variant) = stocked(&app, "TP-3", 2500, 5).await;
    let method = standard_method(&app).await;

    // A live key cannot pay with `test`.
    let cart = cart_with(&app, &live, &product, &variant, 1).await;
    let session = checkout_to(&app, &live, &cart, &method, "shipping").await;
    let res = advance(
        &app,
        &live,
        json!({"sessionId": session, "state": "payment", "paymentMethod": "test"}),
    )
    .await;
    assert_unprocessable(&res, "paymentMethod");
    assert_eq!(state_in_db(&app, &session).await, "shipping");
    assert_eq!(
        app.count(&format!(
            "select count(*) from checkout_sessions where id = '{session}' and payment is null"
        ))
        .await,
        1
    );

    // Nor can a test key make a live session's payment a test payment (it would be a live order marked PAID).
    let test = test_key(&app).await;
    let res = advance(
        &app,
        &test,
        json!({"sessionId": session, "state": "payment", "paymentMethod": "test"}),
    )
    .await;
    assert_unprocessable(&res, "paymentMethod");
    assert_eq!(state_in_db(&app, &session).await, "shipping");

    // `invoice` needs a B2B account (not available yet); a missing method is named.
    let res = advance(
        &app,
        &live,
        json!({"sessionId": session, "state": "payment", "paymentMethod": "invoice"}),
    )
    .await;
    assert_unprocessable(&res, "paymentMethod");
    let res = advance(
        &app,
        &live,
        json!({"sessionId": session, "state": "payment"}),
    )
    .await;
    assert_unprocessable(&res, "paymentMethod");
    let res = advance(
        &app,
        &live,
        json!({"sessionId": session, "state": "payment", "paymentMethod": "manual", "giftCardCodes": ["GC-1"]}),
    )
    .await;
    assert_unprocessable(&res, "giftCardCodes[0]");
    assert_eq!(state_in_db(&app, &session).await, "shipping");
}

// ---------------------------------------------------------------------------------------------------------
// The state machine
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_transition_is_legal_or_a_409_naming_both_states() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let (product, variant) = stocked(&app, "SM-1", 1000, 1000).await;
    let method = standard_method(&app).await;
    // From each non-final state to every state: forward by one, staying, and moving back are legal;
    // skipping ahead is not.
    for (from_index, from) in STATES.iter().enumerate().take(5) {
        for (to_index, to) in STATES.iter().enumerate() {
            let cart = cart_with(&app, &key, &product, &variant, 1).await;
            let session = checkout_to(&app, &key, &cart, &method, from).await;
            let res = advance(&app, &key, step(&session, to, &method)).await;
            if to_index <= from_index + 1 {
                let data = ok(res);
                assert_eq!(data["state"], *to, "{from} → {to}");
                assert_eq!(state_in_db(&app, &session).await, *to, "{from} → {to}");
            } else {
                assert_error(&res, StatusCode::CONFLICT, "INVALID_TRANSITION");
                let message = res.1["error"].as_str().unwrap();
                assert!(
                    message.contains(&format!("`{from}`")) && message.contains(&format!("`{to}`")),
                    "{from} → {to}: {message}"
                );
                assert_eq!(state_in_db(&app, &session).await, *from, "{from} → {to}");
            }
        }
    }
    // Exactly one order: the review → complete case.
    assert_eq!(app.count("select count(*) from orders").await, 1);
}

#[tokio::test]
async fn skipping_ahead_is_invalid_transition() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let (product, variant) = stocked(&app, "SM-2", 1000, 10).await;
    let method = standard_method(&app).await;
    let cart = cart_with(&app, &key, &product, &variant, 1).await;
    let session = checkout_to(&app, &key, &cart, &method, "init").await;

    let res = advance(&app, &key, step(&session, "shipping", &method)).await;
    assert_error(&res, StatusCode::CONFLICT, "INVALID_TRANSITION");
    let message = res.1["error"].as_str().unwrap();
    assert!(
        message.contains("`init`") && message.contains("`shipping`"),
        "{message}"
    );
    assert!(
        message.contains("`contact`"),
        "says what comes next: {message}"
    );
    assert_eq!(
        app.count(&format!(
            "select count(*) from checkout_sessions where id = '{session}' and state = 'init' and shipping_address is null"
        ))
        .await,
        1
    );

    ok(advance(&app, &key, step(&session, "contact", &method)).await);
    let res = advance(&app, &key, step(&session, "review", &method)).await;
    assert_error(&res, StatusCode::CONFLICT, "INVALID_TRANSITION");
    let message = res.1["error"].as_str().unwrap();
    assert!(
        message.contains("`contact`") && message.contains("`review`"),
        "{message}"
    );
    assert_eq!(state_in_db(&app, &session).await, "contact");

    ok(advance(&app, &key, step(&session, "shipping", &method)).await);
    ok(advance(&app, &key, step(&session, "payment", &method)).await);
    let res = complete(&app, &key, &session).await;
    assert_error(&res, StatusCode::CONFLICT, "INVALID_TRANSITION");
    let message = res.1["error"].as_str().unwrap();
    assert!(
        message.contains("`payment`") && message.contains("`complete`"),
        "{message}"
    );
    assert_eq!(state_in_db(&app, &session).await, "payment");
    assert_eq!(app.count("select count(*) from orders").await, 0);
}

#[tokio::test]
async fn moving_back_clears_the_later_steps() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let (product, variant) = stocked(&app, "SM-3", 1000, 10).await;
    let method = standard_method(&app).await;
    tax_rate(&app, "LV", json!(21)).await;
    let cart = cart_with(&app, &key, &product, &variant, 1).await;
    let session = checkout_to(&app, &key, &cart, &method, "payment").await;

    let data = ok(advance(
        &app,
        &key,
        json!({"sessionId": session, "state": "contact", "email": "john@example.com", "phone": "+371 2000 0000"}),
    )
    .await);
    assert_eq!(data["state"], "contact");
    assert_eq!(data["email"], "john@example.com");
    assert_eq!(data["phone"], "+371 2000 0000");
    assert_eq!(data["shippingAddress"], Value::Null);
    assert_eq!(data["shippingMethodId"], Value::Null);
    assert_eq!(data["paymentMethod"], Value::Null);
    assert_eq!(
        data["totals"],
        totals(1000, 0, 0, 0, 1000),
        "no shipping, no tax"
    );
    assert_eq!(
        app.count(&format!(
            "select count(*) from checkout_sessions where id = '{session}' and state = 'contact' \
             and email = 'john@example.com' and shipping_address is null and shipping_method_id is null and payment is null"
        ))
        .await,
        1
    );

    // Back to shipping from review clears only the payment.
    ok(advance(&app, &key, step(&session, "shipping", &method)).await);
    ok(advance(&app, &key, step(&session, "payment", &method)).await);
    ok(advance(&app, &key, step(&session, "review", &method)).await);
    let data = ok(advance(&app, &key, step(&session, "shipping", &method)).await);
    assert_eq!(data["paymentMethod"], Value::Null);
    assert_eq!(data["shippingMethodId"], method.as_str());
    assert_eq!(data["email"], "john@example.com", "earlier data stays");
    assert_eq!(
        app.count(&format!(
            "select count(*) from checkout_sessions where id = '{session}' and state = 'shipping' \
             and shipping_address is not null and payment is null"
        ))
        .await,
        1
    );

    // Back to init clears everything.
    let data = ok(advance(&app, &key, step(&session, "init", &method)).await);
    assert_eq!(data["email"], Value::Null);
    assert_eq!(data["shippingAddress"], Value::Null);
    assert_eq!(
        app.count(&format!(
            "select count(*) from checkout_sessions where id = '{session}' and state = 'init' and email is null \
             and shipping_address is null and payment is null"
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn resubmitting_a_state_updates_its_data() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let (product, variant) = stocked(&app, "SM-4", 1000, 10).await;
    let method = standard_method(&app).await;
    let express = shipping_method(
        &app,
        json!({"name": "Express", "code": "express", "price": 1500, "countries": ["LV", "EE"]}),
    )
    .await;
    tax_rate(&app, "EE", json!(24)).await;
    let cart = cart_with(&app, &key, &product, &variant, 1).await;
    let session = checkout_to(&app, &key, &cart, &method, "contact").await;

    let data = ok(advance(
        &app,
        &key,
        json!({"sessionId": session, "state": "contact", "email": "second@example.com"}),
    )
    .await);
    assert_eq!(data["email"], "second@example.com");
    assert_eq!(
        text(
            &app,
            &format!("select email from checkout_sessions where id = '{session}'")
        )
        .await,
        Some("second@example.com".into())
    );

    ok(advance(&app, &key, step(&session, "shipping", &method)).await);
    let data = ok(advance(
        &app,
        &key,
        json!({"sessionId": session, "state": "shipping", "shippingAddress": address("EE"),
            "shippingMethodId": "express"}),
    )
    .await);
    assert_eq!(data["state"], "shipping");
    assert_eq!(
        data["shippingMethodId"],
        express.as_str(),
        "a method's code works too"
    );
    assert_eq!(data["shippingAddress"]["country"], "EE");
    // 1000 + 1500 shipping, 24 % of 2500 = 600
    assert_eq!(data["totals"], totals(1000, 0, 1500, 600, 3100));
    assert_eq!(
        text(
            &app,
            &format!("select shipping_address ->> 'country' from checkout_sessions where id = '{session}'")
        )
        .await,
        Some("EE".into())
    );
}

#[tokio::test]
async fn a_completed_checkout_refuses_every_other_state() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let (product, variant) = stocked(&app, "SM-5", 1000, 10).await;
    let method = standard_method(&app).await;
    let cart = cart_with(&app, &key, &product, &variant, 1).await;
    let session = checkout_to(&app, &key, &cart, &method, "complete").await;
    for state in &STATES[..5] {
        let res = advance(&app, &key, step(&session, state, &method)).await;
        assert_error(&res, StatusCode::CONFLICT, "CHECKOUT_COMPLETED");
    }
    assert_eq!(state_in_db(&app, &session).await, "complete");
    assert_eq!(
        app.count(&format!(
            "select count(*) from checkout_sessions where id = '{session}' and email = 'jane@example.com' \
             and payment is not null and order_id is not null"
        ))
        .await,
        1
    );
    assert_eq!(app.count("select count(*) from orders").await, 1);
}

#[tokio::test]
async fn an_expired_session_cannot_move() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let (product, variant) = stocked(&app, "SM-6", 1000, 10).await;
    let method = standard_method(&app).await;
    let cart = cart_with(&app, &key, &product, &variant, 1).await;
    let session = checkout_to_review(&app, &key, &cart, &method).await;
    // Sessions expire after the configured time (60 minutes here).
    let minutes = app
        .count(&format!(
            "select round(extract(epoch from expires_at - created_at) / 60)::bigint from checkout_sessions where id = '{session}'"
        ))
        .await;
    assert_eq!(minutes, 60);
    sqlx::query(
        "update checkout_sessions set expires_at = now() - interval '1 second' where id = $1",
    )
    .bind(&session)
    .execute(&app.pool)
    .await
    .unwrap();
    for state in ["complete", "review", "contact"] {
        let res = advance(&app, &key, step(&session, state, &method)).await;
        assert_error(&res, StatusCode::CONFLICT, "CHECKOUT_EXPIRED");
    }
    assert_eq!(state_in_db(&app, &session).await, "review");
    assert_eq!(app.count("select count(*) from orders").await, 0);
    assert_eq!(on_hand(&app, &variant).await, 10);
    // It can still be read.
    assert_eq!(get_session(&app, &key, &session).await["state"], "review");
}

#[tokio::test]
async fn put_advances_like_patch() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let (product, variant) = stocked(&app, "SM-7", 1000, 10).await;
    let cart = cart_with(&app, &key, &product, &variant, 1).await;
    let (_, body) = start(&app, &key, &cart).await;
    let session = str_of(&body["data"]["id"]);
    let data = ok(send(
        &app,
        &key,
        Method::PUT,
        "/checkout",
        Some(json!({"sessionId": session, "state": "contact", "email": "jane@example.com"})),
    )
    .await);
    assert_eq!(data["state"], "contact");
    assert_eq!(state_in_db(&app, &session).await, "contact");
}

// ---------------------------------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------------------------------

/// Prepares `n` carts of one unit each and their sessions at `review` (a few at a time).
async fn sessions_at_review(
    app: &TestApp,
    key: &str,
    product: &str,
    variant: &str,
    method: &str,
    code: Option<&str>,
    n: usize,
) -> Vec<String> {
    futures::stream::iter(0..n)
        .map(|_| async move {
            let cart = cart_with(app, key, product, variant, 1).await;
            if let Some(code) = code {
                let cart_body = ok(cart_action(
                    app,
                    key,
                    &cart,
                    json!({"action": "applyPromotion", "code": code}),
                )
                .await);
                assert_eq!(cart_body["promotionCode"], code);
            }
            checkout_to_review(app, key, &cart, method).await
        })
        .buffer_unordered(8)
        .collect()
        .await
}

/// Fires `complete` for every session at once; returns (status, body) per session.
async fn complete_all(app: &TestApp, key: &str, sessions: &[String]) -> Vec<(StatusCode, Value)> {
    let url = app.api("/checkout");
    let requests = sessions.iter().map(|session| {
        let req = app
            .client
            .patch(&url)
            .bearer_auth(key)
            .json(&json!({"sessionId": session, "state": "complete"}));
        async move {
            let res = req.send().await.unwrap();
            let status = res.status();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    });
    futures::future::join_all(requests).await
}

#[tokio::test]
async fn two_hundred_concurrent_checkouts_for_ten_units_place_exactly_ten_orders() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let (product, variant) = stocked(&app, "HOT-1", 1000, 10).await;
    let method = standard_method(&app).await;
    let sessions = sessions_at_review(&app, &key, &product, &variant, &method, None, 200).await;
    assert_eq!(sessions.len(), 200);

    let results = complete_all(&app, &key, &sessions).await;
    let mut placed = 0;
    let mut refused = 0;
    for (status, body) in &results {
        match *status {
            StatusCode::OK => {
                assert_eq!(body["data"]["state"], "complete", "{body}");
                placed += 1;
            }
            StatusCode::CONFLICT => {
                assert_eq!(body["code"], "OUT_OF_STOCK", "{body}");
                refused += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!((placed, refused), (10, 190));
    let numbers: HashSet<String> = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::OK)
        .map(|(_, b)| str_of(&b["data"]["order"]["number"]))
        .collect();
    assert_eq!(numbers.len(), 10, "{numbers:?}");

    assert_eq!(app.count("select count(*) from orders").await, 10);
    assert_eq!(
        app.count("select count(distinct number) from orders").await,
        10
    );
    assert_eq!(
        app.count("select coalesce(sum(quantity), 0)::bigint from order_items")
            .await,
        10
    );
    assert_eq!(on_hand(&app, &variant).await, 0);
    assert_eq!(variant_count(&app, &variant).await, 0);
    assert_eq!(
        app.count("select count(*) from inventory_ledger where source = 'order' and delta = -1")
            .await,
        10
    );
    assert_eq!(
        app.count("select count(*) from carts where status = 'CHECKED_OUT'")
            .await,
        10
    );
    assert_eq!(
        app.count("select count(*) from checkout_sessions where state = 'complete'")
            .await,
        10
    );
    assert_eq!(
        app.count("select count(*) from events where type = 'order.created'")
            .await,
        10
    );
}

#[tokio::test]
async fn fifty_orders_race_for_a_promotion_with_five_uses() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let (product, variant) = stocked(&app, "PROMO-1", 1000, 1000).await;
    let method = standard_method(&app).await;
    let promo = promotion(
        &app,
        json!({"code": "RACE5", "type": "PERCENTAGE", "value": 10, "maxUses": 5}),
    )
    .await;
    let sessions =
        sessions_at_review(&app, &key, &product, &variant, &method, Some("RACE5"), 50).await;
    for s in &sessions[..3] {
        assert_eq!(
            get_session(&app, &key, s).await["totals"]["discount"],
            100,
            "the code applies at review"
        );
    }

    let results = complete_all(&app, &key, &sessions).await;
    let mut placed = 0;
    for (status, body) in &results {
        match *status {
            StatusCode::OK => {
                assert_eq!(body["data"]["order"]["promotionCode"], "RACE5", "{body}");
                assert_eq!(body["data"]["order"]["discount"], 100, "{body}");
                placed += 1;
            }
            StatusCode::CONFLICT => assert_eq!(body["code"], "PROMOTION_INVALID", "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(placed, 5);
    let promo_id = str_of(&promo["id"]);
    assert_eq!(
        app.count(&format!(
            "select used_count::bigint from promotions where id = '{promo_id}'"
        ))
        .await,
        5
    );
    assert_eq!(
        app.count(&format!(
            "select count(*) from promotion_redemptions where promotion_id = '{promo_id}'"
        ))
        .await,
        5
    );
    assert_eq!(app.count("select count(*) from orders").await, 5);
    assert_eq!(
        app.count("select count(distinct order_id) from promotion_redemptions r join orders o on o.id = r.order_id")
            .await,
        5,
        "each redemption belongs to a placed order"
    );
    assert_eq!(on_hand(&app, &variant).await, 995);
    assert_eq!(
        app.get(&format!("/promotions/{promo_id}")).await["data"]["status"],
        "EXHAUSTED"
    );
}

#[tokio::test]
async fn a_per_customer_limit_holds_at_completion() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let (product, variant) = stocked(&app, "PROMO-2", 1000, 100).await;
    let method = standard_method(&app).await;
    promotion(
        &app,
        json!({"code": "ONCE", "type": "FIXED_AMOUNT", "value": 300, "perCustomerLimit": 1}),
    )
    .await;
    // The same buyer reaches review twice before placing either order.
    let sessions =
        sessions_at_review(&app, &key, &product, &variant, &method, Some("ONCE"), 2).await;
    ok(complete(&app, &key, &sessions[0]).await);
    let res = complete(&app, &key, &sessions[1]).await;
    assert_error(&res, StatusCode::CONFLICT, "PROMOTION_INVALID");
    assert!(
        res.1["error"]
            .as_str()
            .unwrap()
            .contains("CUSTOMER_LIMIT_REACHED"),
        "{}",
        res.1
    );
    assert_eq!(app.count("select count(*) from orders").await, 1);
    assert_eq!(
        app.count("select count(*) from promotion_redemptions")
            .await,
        1
    );
    assert_eq!(
        app.count("select used_count::bigint from promotions").await,
        1
    );
    assert_eq!(on_hand(&app, &variant).await, 99);
}

// ---------------------------------------------------------------------------------------------------------
// Totals
// ---------------------------------------------------------------------------------------------------------

/// A checkout at review of `quantity` units of a new product at `price`, with a promotion code applied
/// when given; returns (session id, its totals).
async fn review_totals(
    app: &TestApp,
    price: i64,
    quantity: i32,
    method: &str,
    code: Option<&str>,
) -> (String, Value) {
    let key = app.admin_key.clone();
    let sku = format!("T-{}", shopvo::crypto::random_token(8));
    let (product, variant) = stocked(app, &sku, price, 100).await;
    let cart = cart_with(app, &key, &product, &variant, quantity).await;
    if let Some(code) = code {
        ok(cart_action(
            app,
            &key,
            &cart,
            json!({"action": "applyPromotion", "code": code}),
        )
        .await);
    }
    let session = checkout_to_review(app, &key, &cart, method).await;
    let totals = get_session(app, &key, &session).await["totals"].clone();
    (session, totals)
}

#[tokio::test]
async fn percentage_discounts_round_half_up() {
    let app = spawn().await;
    let method = standard_method(&app).await;
    tax_rate(&app, "LV", json!(21)).await;
    promotion(
        &app,
        json!({"code": "FIFTEEN", "type": "PERCENTAGE", "value": 15}),
    )
    .await;
    // 1010 × 15 % = 151.5 → 152; base 858 + 500 = 1358; 21 % = 285.18 → 285
    let (session, t) = review_totals(&app, 1010, 1, &method, Some("fifteen")).await;
    assert_eq!(t, totals(1010, 152, 500, 285, 1643));
    let order = ok(complete(&app, &app.admin_key, &session).await)["order"].clone();
    assert_eq!(order["discount"], 152);
    assert_eq!(order["total"], 1643);
    assert_eq!(order["promotionCode"], "FIFTEEN");
    assert_eq!(
        app.count(
            "select count(*) from orders where discount = 152 and tax = 285 and total = 1643"
        )
        .await,
        1
    );
    assert_eq!(
        app.count("select used_count::bigint from promotions").await,
        1
    );
    // Tax rounds half up too: 50 × 21 % = 10.5 → 11 (a free method, no discount).
    let free = shipping_method(
        &app,
        json!({"name": "Pickup", "code": "pickup", "price": 0}),
    )
    .await;
    let (_, t) = review_totals(&app, 50, 1, &free, None).await;
    assert_eq!(t, totals(50, 0, 0, 11, 61));
}

#[tokio::test]
async fn fixed_amount_discounts_are_capped_at_the_subtotal() {
    let app = spawn().await;
    let method = standard_method(&app).await;
    tax_rate(&app, "LV", json!(21)).await;
    promotion(
        &app,
        json!({"code": "TENNER", "type": "FIXED_AMOUNT", "value": 1000}),
    )
    .await;
    promotion(
        &app,
        json!({"code": "HUGE", "type": "FIXED_AMOUNT", "value": 100000}),
    )
    .await;
    // 2500 − 1000 + 500 = 2000; tax 420
    let (_, t) = review_totals(&app, 2500, 1, &method, Some("TENNER")).await;
    assert_eq!(t, totals(2500, 1000, 500, 420, 2420));
    // Capped: only shipping and its tax remain.
    let (session, t) = review_totals(&app, 2500, 1, &method, Some("HUGE")).await;
    assert_eq!(t, totals(2500, 2500, 500, 105, 605));
    let order = ok(complete(&app, &app.admin_key, &session).await)["order"].clone();
    assert_eq!(
        (order["discount"].clone(), order["total"].clone()),
        (json!(2500), json!(605))
    );
}

#[tokio::test]
async fn free_shipping_codes_zero_the_shipping_line() {
    let app = spawn().await;
    let method = standard_method(&app).await;
    tax_rate(&app, "LV", json!(21)).await;
    promotion(&app, json!({"code": "SHIPFREE", "type": "FREE_SHIPPING"})).await;
    let (session, t) = review_totals(&app, 2500, 1, &method, Some("SHIPFREE")).await;
    assert_eq!(t, totals(2500, 0, 0, 525, 3025));
    let order = ok(complete(&app, &app.admin_key, &session).await)["order"].clone();
    assert_eq!(
        (order["shipping"].clone(), order["total"].clone()),
        (json!(0), json!(3025))
    );
}

#[tokio::test]
async fn free_above_applies_to_the_discounted_subtotal() {
    let app = spawn().await;
    let method = shipping_method(
        &app,
        json!({"name": "Standard", "code": "standard", "price": 500, "freeAbove": 5000, "countries": ["LV"]}),
    )
    .await;
    promotion(
        &app,
        json!({"code": "ONECENT", "type": "FIXED_AMOUNT", "value": 1}),
    )
    .await;
    let (_, t) = review_totals(&app, 2500, 2, &method, None).await;
    assert_eq!(t, totals(5000, 0, 0, 0, 5000), "at the threshold: free");
    let (_, t) = review_totals(&app, 4999, 1, &method, None).await;
    assert_eq!(t, totals(4999, 0, 500, 0, 5499), "below: charged");
    let (_, t) = review_totals(&app, 2500, 2, &method, Some("ONECENT")).await;
    assert_eq!(
        t,
        totals(5000, 1, 500, 0, 5499),
        "a discount can drop it below"
    );
}

#[tokio::test]
async fn tax_exclusive_and_inclusive_prices() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let free = shipping_method(
        &app,
        json!({"name": "Pickup", "code": "pickup", "price": 0, "countries": ["LV"]}),
    )
    .await;
    tax_rate(&app, "LV", json!(21)).await;
    // Exclusive (the default): tax is added.
    let (session, t) = review_totals(&app, 12100, 1, &free, None).await;
    assert_eq!(t, totals(12100, 0, 0, 2541, 14641));

    // Inclusive: tax is the part already inside the total.
    let (status, body) = app
        .admin(
            Method::PATCH,
            "/site",
            Some(json!({"pricesIncludeTax": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["pricesIncludeTax"], true);
    assert_eq!(
        get_session(&app, &key, &session).await["totals"],
        totals(12100, 0, 0, 2100, 12100)
    );
    let order = ok(complete(&app, &key, &session).await)["order"].clone();
    assert_eq!(
        (order["tax"].clone(), order["total"].clone()),
        (json!(2100), json!(12100))
    );
    assert_eq!(
        app.count("select count(*) from orders where tax = 2100 and total = 12100")
            .await,
        1
    );
    // With shipping inside too: 12600 × 21 / 121 = 2186.78 → 2187.
    let method = standard_method(&app).await;
    let (_, t) = review_totals(&app, 12100, 1, &method, None).await;
    assert_eq!(t, totals(12100, 0, 500, 2187, 12600));
    // A fractional rate: 21.5 % inclusive of 12150 → 2150.
    tax_rate(&app, "EE", json!(21.5)).await;
    let express = shipping_method(
        &app,
        json!({"name": "EE pickup", "code": "ee-pickup", "price": 0, "countries": ["EE"]}),
    )
    .await;
    let (product, variant) = stocked(&app, "EE-1", 12150, 5).await;
    let cart = cart_with(&app, &key, &product, &variant, 1).await;
    let session = checkout_to(&app, &key, &cart, &free, "contact").await;
    let data = ok(advance(
        &app,
        &key,
        json!({"sessionId": session, "state": "shipping", "shippingAddress": address("EE"), "shippingMethodId": express}),
    )
    .await);
    assert_eq!(data["totals"], totals(12150, 0, 0, 2150, 12150));
}

#[tokio::test]
async fn prices_come_from_the_catalog_at_completion() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let (product, variant) = stocked(&app, "PR-1", 1000, 10).await;
    let method = standard_method(&app).await;
    let cart = cart_with(&app, &key, &product, &variant, 2).await;
    let session = checkout_to_review(&app, &key, &cart, &method).await;
    // The price changes after review: the order uses the current catalog price.
    let (status, body) = app
        .admin(
            Method::PATCH,
            &format!("/products/{product}"),
            Some(json!({"price": 1200})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let order = ok(complete(&app, &key, &session).await)["order"].clone();
    assert_eq!(order["items"][0]["unitPrice"], 1200);
    assert_eq!(order["subtotal"], 2400);
    assert_eq!(order["total"], 2900);
}

// ---------------------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn starting_a_checkout_needs_a_known_cart_with_items() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let res = start(&app, &key, "cart_nope").await;
    assert_unprocessable(&res, "cartId");
    let cart = new_cart(&app, &key).await;
    let res = start(&app, &key, &cart).await;
    assert_error(&res, StatusCode::CONFLICT, "CART_EMPTY");
    let res = send(&app, &key, Method::POST, "/checkout", Some(json!({}))).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(
        res.1["error"].as_str().unwrap().contains("cartId"),
        "{}",
        res.1
    );
    assert_eq!(app.count("select count(*) from checkout_sessions").await, 0);
    // Another site's cart is unknown here.
    let other = app.create_site("Other").await;
    let other_key = app.key(&other, &["admin:*"]).await;
    let (product, variant) = stocked(&app, "MINE-1", 1000, 5).await;
    let mine = cart_with(&app, &key, &product, &variant, 1).await;
    let res = app
        .call(
            Method::POST,
            &format!("{}/api/v1/{other}/checkout", app.url),
            Some(&other_key),
            Some(json!({"cartId": mine})),
        )
        .await;
    assert_unprocessable(&res, "cartId");
    assert_eq!(app.count("select count(*) from checkout_sessions").await, 0);
}

#[tokio::test]
async fn bad_quantities_are_refused_and_change_nothing() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let (product, variant) = stocked(&app, "Q-1", 1000, 20_000).await;
    let cart = new_cart(&app, &key).await;
    for quantity in [json!(0), json!(-1), json!(10_001)] {
        let res = cart_action(
            &app,
            &key,
            &cart,
            add_item(&product, &variant, quantity.clone()),
        )
        .await;
        assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_eq!(
            fields(&res.1),
            ["item.quantity"],
            "quantity {quantity}: {}",
            res.1
        );
        assert!(
            res.1["error"].as_str().unwrap().contains("from 1 to 10000"),
            "{}",
            res.1
        );
    }
    // Not integers: refused by type. (The action is an internally tagged enum, whose type errors lose their
    // path, so `details` cannot name the field; the message says what is wrong.)
    for (quantity, expected) in [
        (json!("2"), "invalid type: string \"2\", expected i32"),
        (
            json!(1.5),
            "invalid type: floating point `1.5`, expected i32",
        ),
        (json!(null), "invalid type: null, expected i32"),
    ] {
        let res = cart_action(
            &app,
            &key,
            &cart,
            add_item(&product, &variant, quantity.clone()),
        )
        .await;
        assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert!(
            res.1["error"].as_str().unwrap().contains(expected),
            "quantity {quantity}: {}",
            res.1
        );
    }
    assert_eq!(app.count("select count(*) from cart_items").await, 0);

    // Updating to a bad quantity, or adding past 10,000 in total, is refused as well.
    let body = ok(cart_action(
        &app,
        &key,
        &cart,
        add_item(&product, &variant, json!(9_000)),
    )
    .await);
    let item = str_of(&body["items"][0]["id"]);
    let res = cart_action(
        &app,
        &key,
        &cart,
        add_item(&product, &variant, json!(1_001)),
    )
    .await;
    assert_invalid(&res, "item.quantity");
    for quantity in [json!(0), json!(10_001)] {
        let res = cart_action(
            &app,
            &key,
            &cart,
            json!({"action": "update", "itemId": item, "quantity": quantity}),
        )
        .await;
        assert_invalid(&res, "quantity");
    }
    assert_eq!(
        app.count("select quantity::bigint from cart_items").await,
        9_000
    );
}

#[tokio::test]
async fn a_cart_must_use_the_sites_currency() {
    let app = spawn().await;
    for currency in ["USD", "eur", ""] {
        let res = app
            .admin(
                Method::POST,
                "/cart",
                Some(json!({"sessionId": "s1", "currency": currency})),
            )
            .await;
        assert_unprocessable(&res, "currency");
    }
    let res = app
        .admin(Method::POST, "/cart", Some(json!({"sessionId": "s1"})))
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(app.count("select count(*) from carts").await, 0);
}

#[tokio::test]
async fn adding_more_than_is_available_is_out_of_stock() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let (product, variant) = stocked(&app, "AV-1", 1000, 5).await;
    let cart = new_cart(&app, &key).await;
    let res = cart_action(&app, &key, &cart, add_item(&product, &variant, json!(6))).await;
    assert_error(&res, StatusCode::CONFLICT, "OUT_OF_STOCK");
    let message = res.1["error"].as_str().unwrap();
    assert!(message.contains(&variant), "names the variant: {message}");
    assert!(message.contains("AV-1"), "and its SKU: {message}");
    assert!(
        message.contains("Only 5"),
        "and what is available: {message}"
    );
    assert_eq!(app.count("select count(*) from cart_items").await, 0);

    // What is already in the cart counts.
    let body = ok(cart_action(&app, &key, &cart, add_item(&product, &variant, json!(3))).await);
    let item = str_of(&body["items"][0]["id"]);
    let res = cart_action(&app, &key, &cart, add_item(&product, &variant, json!(3))).await;
    assert_error(&res, StatusCode::CONFLICT, "OUT_OF_STOCK");
    let res = cart_action(
        &app,
        &key,
        &cart,
        json!({"action": "update", "itemId": item, "quantity": 6}),
    )
    .await;
    assert_error(&res, StatusCode::CONFLICT, "OUT_OF_STOCK");
    assert_eq!(
        app.count("select quantity::bigint from cart_items").await,
        3
    );

    // Stock sold elsewhere after the add is caught at review, naming the variant.
    let method = standard_method(&app).await;
    let session = checkout_to(&app, &key, &cart, &method, "payment").await;
    let (status, body) = app
        .admin(
            Method::POST,
            &format!("/inventory/{product}"),
            Some(json!({"operation": "set", "quantity": 2})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let res = advance(&app, &key, step(&session, "review", &method)).await;
    assert_error(&res, StatusCode::CONFLICT, "OUT_OF_STOCK");
    assert!(
        res.1["error"].as_str().unwrap().contains(&variant),
        "{}",
        res.1
    );
    assert_eq!(state_in_db(&app, &session).await, "payment");
}

#[tokio::test]
async fn only_active_products_can_be_added() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let draft = app
        .product(json!({"name": "Draft", "price": 1000, "status": "DRAFT",
            "variants": [{"sku": "DR-1", "inventoryCount": 5}]}))
        .await;
    let cart = new_cart(&app, &key).await;
    let res = cart_action(
        &app,
        &key,
        &cart,
        json!({"action": "add", "item": {"productId": draft["id"], "quantity": 1}}),
    )
    .await;
    assert_unprocessable(&res, "item.productId");
    let res = cart_action(
        &app,
        &key,
        &cart,
        add_item(
            &str_of(&draft["id"]),
            &str_of(&draft["variants"][0]["id"]),
            json!(1),
        ),
    )
    .await;
    assert_unprocessable(&res, "item.variantId");
    let res = cart_action(
        &app,
        &key,
        &cart,
        json!({"action": "add", "item": {"productId": "prd_nope", "quantity": 1}}),
    )
    .await;
    assert_unprocessable(&res, "item.productId");
    let (product, _) = stocked(&app, "ACT-1", 1000, 5).await;
    let res = cart_action(&app, &key, &cart, add_item(&product, "var_nope", json!(1))).await;
    assert_unprocessable(&res, "item.variantId");
    assert_eq!(app.count("select count(*) from cart_items").await, 0);
}

#[tokio::test]
async fn unknown_cart_actions_and_ids() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let cart = new_cart(&app, &key).await;
    let res = cart_action(&app, &key, &cart, json!({"action": "explode"})).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(
        res.1["error"].as_str().unwrap().contains("explode"),
        "{}",
        res.1
    );
    let res = cart_action(
        &app,
        &key,
        &cart,
        json!({"item": {"productId": "x", "quantity": 1}}),
    )
    .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let res = cart_action(
        &app,
        &key,
        &cart,
        json!({"action": "remove", "itemId": "ci_nope"}),
    )
    .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = cart_action(
        &app,
        &key,
        "cart_nope",
        json!({"action": "removePromotion"}),
    )
    .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = send(&app, &key, Method::GET, "/cart?cartId=cart_nope", None).await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert_eq!(app.count("select count(*) from cart_items").await, 0);
}

#[tokio::test]
async fn contact_needs_a_valid_email() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let (product, variant) = stocked(&app, "EM-1", 1000, 5).await;
    let method = standard_method(&app).await;
    let cart = cart_with(&app, &key, &product, &variant, 1).await;
    let session = checkout_to(&app, &key, &cart, &method, "init").await;
    for email in [
        json!("not-an-email"),
        json!("jane@example"),
        json!(""),
        json!(null),
    ] {
        let res = advance(
            &app,
            &key,
            json!({"sessionId": session, "state": "contact", "email": email}),
        )
        .await;
        assert_invalid(&res, "email");
    }
    let res = advance(
        &app,
        &key,
        json!({"sessionId": session, "state": "contact"}),
    )
    .await;
    assert_invalid(&res, "email");
    assert_eq!(
        app.count(&format!(
            "select count(*) from checkout_sessions where id = '{session}' and state = 'init' and email is null"
        ))
        .await,
        1
    );
}

#[tokio::test]
async fn shipping_needs_a_complete_address_and_a_method_for_its_country() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let (product, variant) = stocked(&app, "SH-1", 1000, 5).await;
    let method = standard_method(&app).await;
    let cart = cart_with(&app, &key, &product, &variant, 1).await;
    let session = checkout_to(&app, &key, &cart, &method, "contact").await;
    let unchanged = || async {
        app.count(&format!(
            "select count(*) from checkout_sessions where id = '{session}' and state = 'contact' \
             and shipping_address is null and shipping_method_id is null"
        ))
        .await
    };

    // Missing line1, city and postal code: all reported at once.
    let res = advance(
        &app,
        &key,
        json!({"sessionId": session, "state": "shipping", "shippingMethodId": method,
            "shippingAddress": {"firstName": "Jane", "lastName": "Smith", "country": "LV"}}),
    )
    .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let named = fields(&res.1);
    for field in [
        "shippingAddress.line1",
        "shippingAddress.city",
        "shippingAddress.postalCode",
    ] {
        assert!(named.iter().any(|f| f == field), "{field} in {}", res.1);
    }
    assert_eq!(named.len(), 3, "{}", res.1);
    assert_eq!(unchanged().await, 1);

    // No address at all; blank values.
    let res = advance(
        &app,
        &key,
        json!({"sessionId": session, "state": "shipping", "shippingMethodId": method}),
    )
    .await;
    assert_invalid(&res, "shippingAddress.firstName");
    assert_invalid(&res, "shippingAddress.country");
    let mut blank = address("LV");
    blank["city"] = json!("   ");
    let res = advance(
        &app,
        &key,
        json!({"sessionId": session, "state": "shipping", "shippingMethodId": method, "shippingAddress": blank}),
    )
    .await;
    assert_invalid(&res, "shippingAddress.city");

    // A country name is not a code.
    for country in ["Latvia", "lv", "LVA"] {
        let res = advance(
            &app,
            &key,
            json!({"sessionId": session, "state": "shipping", "shippingMethodId": method,
                "shippingAddress": address(country)}),
        )
        .await;
        assert_invalid(&res, "shippingAddress.country");
    }

    // Unknown method; no method; a method that does not serve the country.
    let res = advance(
        &app,
        &key,
        json!({"sessionId": session, "state": "shipping", "shippingMethodId": "shm_nope",
            "shippingAddress": address("LV")}),
    )
    .await;
    assert_unprocessable(&res, "shippingMethodId");
    let res = advance(
        &app,
        &key,
        json!({"sessionId": session, "state": "shipping", "shippingAddress": address("LV")}),
    )
    .await;
    assert_unprocessable(&res, "shippingMethodId");
    let res = advance(
        &app,
        &key,
        json!({"sessionId": session, "state": "shipping", "shippingMethodId": method,
            "shippingAddress": address("EE")}),
    )
    .await;
    assert_unprocessable(&res, "shippingMethodId");
    assert!(res.1["error"].as_str().unwrap().contains("EE"), "{}", res.1);

    // An inactive method serves nobody.
    let (status, _) = app
        .admin(
            Method::PATCH,
            &format!("/shipping-methods/{method}"),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let res = advance(&app, &key, step(&session, "shipping", &method)).await;
    assert_unprocessable(&res, "shippingMethodId");

    // Unknown fields in the address are refused, not dropped.
    let mut extra = address("LV");
    extra["street"] = json!("x");
    let res = advance(
        &app,
        &key,
        json!({"sessionId": session, "state": "shipping", "shippingMethodId": method, "shippingAddress": extra}),
    )
    .await;
    assert_invalid(&res, "shippingAddress.street");
    assert_eq!(unchanged().await, 1);
}

#[tokio::test]
async fn unknown_sessions_and_states() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let res = advance(
        &app,
        &key,
        json!({"sessionId": "cs_nope", "state": "contact", "email": "jane@example.com"}),
    )
    .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = send(&app, &key, Method::GET, "/checkout?sessionId=cs_nope", None).await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");

    let (product, variant) = stocked(&app, "UN-1", 1000, 5).await;
    let cart = cart_with(&app, &key, &product, &variant, 1).await;
    let (_, body) = start(&app, &key, &cart).await;
    let session = str_of(&body["data"]["id"]);
    let res = advance(
        &app,
        &key,
        json!({"sessionId": session, "state": "teleport"}),
    )
    .await;
    assert_invalid(&res, "state");
    let res = advance(
        &app,
        &key,
        json!({"sessionId": session, "state": "contact", "email": "jane@example.com", "total": 1}),
    )
    .await;
    assert_invalid(&res, "total");
    assert_eq!(state_in_db(&app, &session).await, "init");
    // Another site's key does not see this session.
    let other = app.create_site("Other").await;
    let other_key = app.key(&other, &["admin:*"]).await;
    let res = app
        .call(
            Method::PATCH,
            &format!("{}/api/v1/{other}/checkout", app.url),
            Some(&other_key),
            Some(json!({"sessionId": session, "state": "contact", "email": "jane@example.com"})),
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert_eq!(state_in_db(&app, &session).await, "init");
}

#[tokio::test]
async fn review_refuses_an_emptied_cart_and_a_lapsed_promotion() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let (product, variant) = stocked(&app, "RV-1", 1000, 5).await;
    let method = standard_method(&app).await;
    let promo = promotion(
        &app,
        json!({"code": "LAPSE", "type": "PERCENTAGE", "value": 10}),
    )
    .await;

    let cart = cart_with(&app, &key, &product, &variant, 1).await;
    ok(cart_action(
        &app,
        &key,
        &cart,
        json!({"action": "applyPromotion", "code": "LAPSE"}),
    )
    .await);
    let session = checkout_to(&app, &key, &cart, &method, "payment").await;
    sqlx::query("update promotions set expires_at = now() - interval '1 minute' where id = $1")
        .bind(str_of(&promo["id"]))
        .execute(&app.pool)
        .await
        .unwrap();
    let res = advance(&app, &key, step(&session, "review", &method)).await;
    assert_error(&res, StatusCode::CONFLICT, "PROMOTION_INVALID");
    assert!(
        res.1["error"].as_str().unwrap().contains("EXPIRED"),
        "{}",
        res.1
    );
    assert_eq!(state_in_db(&app, &session).await, "payment");

    let item = str_of(&get_cart(&app, &key, &cart).await["items"][0]["id"]);
    ok(cart_action(&app, &key, &cart, json!({"action": "removePromotion"})).await);
    ok(cart_action(
        &app,
        &key,
        &cart,
        json!({"action": "remove", "itemId": item}),
    )
    .await);
    let res = advance(&app, &key, step(&session, "review", &method)).await;
    assert_error(&res, StatusCode::CONFLICT, "CART_EMPTY");
    assert_eq!(state_in_db(&app, &session).await, "payment");
    assert_eq!(app.count("select count(*) from orders").await, 0);
}

async fn get_cart(app: &TestApp, key: &str, cart: &str) -> Value {
    ok(send(app, key, Method::GET, &format!("/cart?cartId={cart}"), None).await)
}

#[tokio::test]
async fn checkout_needs_the_checkout_scopes() {
    let app = spawn().await;
    let (product, variant) = stocked(&app, "SC-1", 1000, 5).await;
    let cart = cart_with(&app, &app.admin_key, &product, &variant, 1).await;
    let reader = app.key(&app.site_id, &["read:checkout", "read:cart"]).await;
    let res = start(&app, &reader, &cart).await;
    assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    assert!(res.1["error"].as_str().unwrap().contains("write:checkout"));
    assert_eq!(app.count("select count(*) from checkout_sessions").await, 0);
}

#[tokio::test]
async fn the_checkout_group_is_rate_limited() {
    let app = TestApp::spawn().await;
    start_of_a_window().await;
    let key = app.admin_key.clone();
    let mut statuses = Vec::new();
    for _ in 0..11 {
        let res = send(&app, &key, Method::GET, "/checkout?sessionId=cs_nope", None).await;
        statuses.push(res.0);
    }
    assert!(
        statuses[..10].iter().all(|s| *s == StatusCode::NOT_FOUND),
        "{statuses:?}"
    );
    assert_eq!(statuses[10], StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_shipping_method_gone_since_the_shipping_step_stops_review() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let method = standard_method(&app).await;
    let (product, variant) = stocked(&app, "GONE-1", 1000, 5).await;
    let cart = cart_with(&app, &key, &product, &variant, 1).await;
    let session = checkout_to(&app, &key, &cart, &method, "payment").await;
    let (status, _) = app
        .admin(Method::DELETE, &format!("/shipping-methods/{method}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);

    // The session still reads (without a shipping line) ...
    let body = get_session(&app, &key, &session).await;
    assert_eq!(body["totals"]["shipping"], 0);
    // ... but cannot be reviewed or completed until another method is chosen.
    let res = advance(&app, &key, json!({"sessionId": session, "state": "review"})).await;
    assert_error(&res, StatusCode::CONFLICT, "SHIPPING_UNAVAILABLE");
    assert_eq!(state_in_db(&app, &session).await, "payment");
    assert_eq!(app.count("select count(*) from orders").await, 0);
}

#[tokio::test]
async fn cart_action_errors_name_their_field() {
    let app = spawn().await;
    let key = app.admin_key.clone();
    let (product, variant) = stocked(&app, "FIELD-1", 1000, 5).await;
    let cart = cart_with(&app, &key, &product, &variant, 1).await;
    let res = cart_action(
        &app,
        &key,
        &cart,
        json!({"action": "update", "itemId": "ci_x", "quantity": "2"}),
    )
    .await;
    assert_invalid(&res, "quantity");
    let res = cart_action(
        &app,
        &key,
        &cart,
        json!({"action": "update", "quantity": 2}),
    )
    .await;
    assert_unprocessable(&res, "itemId");
    let res = cart_action(&app, &key, &cart, add_item(&product, &variant, json!(-1))).await;
    assert_invalid(&res, "item.quantity");
    let res = cart_action(&app, &key, &cart, json!({"action": "teleport"})).await;
    assert_invalid(&res, "action");
}
