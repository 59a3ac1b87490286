//! Money never wraps: amounts past the documented bound (10^13 minor units) are a 422
//! `AMOUNT_OUT_OF_RANGE` naming the field that caused them, on every path that adds or multiplies money
//! (catalog prices, cart lines and totals, checkout totals with shipping and tax, orders, promotions), and
//! the refused request changes nothing.

mod common;

use common::{TestApp, assert_error, str_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shopvo::domain::money::MAX_AMOUNT;

#[track_caller]
fn assert_out_of_range(res: &(StatusCode, Value), field: &str) {
    assert_error(res, StatusCode::UNPROCESSABLE_ENTITY, "AMOUNT_OUT_OF_RANGE");
    let fields: Vec<&str> = res.1["details"]
        .as_array()
        .map(|d| d.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    assert!(fields.contains(&field), "expected `{field}`: {}", res.1);
}

/// A product at `price` with one variant of 100 units; returns (product id, variant id).
async fn product_at(app: &TestApp, price: i64) -> (String, String) {
    let p = app
        .product(json!({"name": "Dear", "price": price, "variants": [{"sku": "D1", "inventoryCount": 100}]}))
        .await;
    (str_of(&p["id"]), str_of(&p["variants"][0]["id"]))
}

async fn cart(app: &TestApp) -> String {
    str_of(&app.post("/cart", json!({"currency": "EUR"})).await["data"]["id"])
}

async fn change_cart(app: &TestApp, cart: &str, body: Value) -> (StatusCode, Value) {
    app.admin(Method::PATCH, &format!("/cart?cartId={cart}"), Some(body))
        .await
}

fn add(product: &str, variant: &str, quantity: i64) -> Value {
    json!({"action": "add", "item": {"productId": product, "variantId": variant, "quantity": quantity}})
}

#[tokio::test]
async fn catalog_prices_past_the_bound_are_refused() {
    let app = TestApp::spawn().await;
    for price in [i64::MAX, 1_000_000_000_000_000, MAX_AMOUNT + 1] {
        let res = app
            .admin(
                Method::POST,
                "/products",
                Some(json!({"name": "Wraps", "price": price})),
            )
            .await;
        assert_out_of_range(&res, "price");
    }
    let res = app
        .admin(
            Method::POST,
            "/products",
            Some(json!({"name": "Wraps", "price": 100, "variants": [{"sku": "W", "price": i64::MAX}]})),
        )
        .await;
    assert_out_of_range(&res, "variants[0].price");
    // A malformed field and an out-of-range one together: the malformed one decides (400), both are named.
    let res = app
        .admin(
            Method::POST,
            "/products",
            Some(json!({"name": "", "price": i64::MAX})),
        )
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(app.count("select count(*) from products").await, 0);
    // At the bound is fine.
    product_at(&app, MAX_AMOUNT).await;
    let res = app
        .admin(
            Method::POST,
            "/shipping-methods",
            Some(json!({"name": "Gold", "code": "gold", "price": MAX_AMOUNT + 1, "countries": ["LV"]})),
        )
        .await;
    assert_out_of_range(&res, "price");
}

#[tokio::test]
async fn a_cart_line_or_total_past_the_bound_is_refused_and_the_cart_is_unchanged() {
    let app = TestApp::spawn().await;
    let (product, variant) = product_at(&app, MAX_AMOUNT).await;
    let cart = cart(&app).await;
    assert_out_of_range(
        &change_cart(&app, &cart, add(&product, &variant, 2)).await,
        "item.quantity",
    );
    assert_eq!(app.count("select count(*) from cart_items").await, 0);

    let (status, body) = change_cart(&app, &cart, add(&product, &variant, 1)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["subtotal"], MAX_AMOUNT);
    let item = str_of(&body["data"]["items"][0]["id"]);
    assert_out_of_range(
        &change_cart(
            &app,
            &cart,
            json!({"action": "update", "itemId": item, "quantity": 3}),
        )
        .await,
        "quantity",
    );
    // A second product that would take the subtotal over.
    let other = app
        .product(
            json!({"name": "Pin", "price": 1, "variants": [{"sku": "P1", "inventoryCount": 5}]}),
        )
        .await;
    assert_out_of_range(
        &change_cart(
            &app,
            &cart,
            add(
                &str_of(&other["id"]),
                &str_of(&other["variants"][0]["id"]),
                1,
            ),
        )
        .await,
        "item.quantity",
    );
    assert_eq!(
        app.count("select coalesce(sum(quantity), 0)::bigint from cart_items")
            .await,
        1
    );
}

#[tokio::test]
async fn shipping_or_tax_past_the_bound_stops_checkout_and_no_order_is_placed() {
    let app = TestApp::spawn().await;
    let (product, variant) = product_at(&app, MAX_AMOUNT).await;
    let method = str_of(
        &app.post(
            "/shipping-methods",
            json!({"name": "Standard", "code": "standard", "price": 500, "countries": ["LV"]}),
        )
        .await["data"]["id"],
    );
    let cart = cart(&app).await;
    let (status, body) = change_cart(&app, &cart, add(&product, &variant, 1)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let session = str_of(&app.post("/checkout", json!({"cartId": cart})).await["data"]["id"]);
    let advance = |body: Value| app.admin(Method::PATCH, "/checkout", Some(body));
    let (status, body) =
        advance(json!({"sessionId": session, "state": "contact", "email": "a@example.com"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let address = json!({"firstName": "A", "lastName": "B", "line1": "Iela 1", "city": "Riga",
        "postalCode": "LV-1001", "country": "LV"});
    let res = advance(json!({"sessionId": session, "state": "shipping",
        "shippingAddress": address, "shippingMethodId": method}))
    .await;
    assert_out_of_range(&res, "shippingMethodId");
    assert_eq!(
        app.count("select count(*) from checkout_sessions where state = 'contact' and shipping_method_id is null")
            .await,
        1
    );
    assert_eq!(app.count("select count(*) from orders").await, 0);
}

#[tokio::test]
async fn a_cart_whose_prices_passed_the_bound_cannot_become_an_order() {
    let app = TestApp::spawn().await;
    let (product, variant) = product_at(&app, 1000).await;
    let method = str_of(
        &app.post(
            "/shipping-methods",
            json!({"name": "Standard", "code": "standard", "price": 0, "countries": ["LV"]}),
        )
        .await["data"]["id"],
    );
    let cart = cart(&app).await;
    assert_eq!(
        change_cart(&app, &cart, add(&product, &variant, 2)).await.0,
        StatusCode::OK
    );
    let session = str_of(&app.post("/checkout", json!({"cartId": cart})).await["data"]["id"]);
    let advance = |body: Value| app.admin(Method::PATCH, "/checkout", Some(body));
    for step in [
        json!({"sessionId": session, "state": "contact", "email": "a@example.com"}),
        json!({"sessionId": session, "state": "shipping", "shippingMethodId": method,
            "shippingAddress": {"firstName": "A", "lastName": "B", "line1": "Iela 1", "city": "Riga",
                "postalCode": "LV-1001", "country": "LV"}}),
        json!({"sessionId": session, "state": "payment", "paymentMethod": "manual"}),
        json!({"sessionId": session, "state": "review"}),
    ] {
        let (status, body) = advance(step).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // A price written behind the API's back (data from before the bound existed): i64::MAX × 2 used to
    // wrap to a subtotal of −2 and a placed order.
    sqlx::query("update products set price = $1")
        .bind(i64::MAX)
        .execute(&app.pool)
        .await
        .unwrap();
    let res = advance(json!({"sessionId": session, "state": "complete"})).await;
    assert_out_of_range(&res, "items");
    assert_eq!(
        app.count("select count(*) from checkout_sessions where state = 'review'")
            .await,
        1
    );
    assert_eq!(app.count("select count(*) from orders").await, 0);
    assert_eq!(
        app.count("select count(*) from carts where status = 'ACTIVE'")
            .await,
        1
    );
}

#[tokio::test]
async fn promotion_amounts_past_the_bound_are_refused() {
    let app = TestApp::spawn().await;
    let res = app
        .admin(
            Method::POST,
            "/promotions",
            Some(json!({"code": "HUGE", "type": "FIXED_AMOUNT", "value": i64::MAX})),
        )
        .await;
    assert_out_of_range(&res, "value");
    let res = app
        .admin(
            Method::POST,
            "/promotions",
            Some(json!({"code": "MIN", "type": "PERCENTAGE", "value": 10, "minOrderAmount": i64::MAX})),
        )
        .await;
    assert_out_of_range(&res, "minOrderAmount");
    assert_eq!(app.count("select count(*) from promotions").await, 0);

    app.post(
        "/promotions",
        json!({"code": "TEN", "type": "PERCENTAGE", "value": 10}),
    )
    .await;
    let url = app.api("/promotions/validate");
    let validate = |total: i64| {
        app.call(
            Method::POST,
            &url,
            None,
            Some(json!({"code": "TEN", "cartTotal": total})),
        )
    };
    assert_out_of_range(&validate(i64::MAX).await, "cartTotal");
    let (status, body) = validate(MAX_AMOUNT).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["discount"], MAX_AMOUNT / 10);
}
