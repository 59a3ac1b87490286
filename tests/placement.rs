//! One way to place an order: `checkout::place_from_cart` (for dialects whose clients create an order in one
//! request) walks the same transitions as a step-by-step checkout, so it keeps the same rules — stock,
//! promotion uses, test payments, ownership — and a refusal leaves nothing behind.

mod common;

use common::{TestApp, str_of};
use serde_json::json;
use shopvo::domain::Caller;
use shopvo::domain::caller::{Audience, Mode};
use shopvo::domain::checkout::{
    self, Address, Contact, OneCallOrder, PaymentChoice, PaymentMethod, ShippingChoice,
};

async fn setup(app: &TestApp, stock: i32, quantity: i32) -> (String, String) {
    let product = app
        .product(json!({"name": "Mug", "price": 1500, "variants": [{"sku": "MUG", "inventoryCount": stock}]}))
        .await;
    app.post(
        "/shipping-methods",
        json!({"name": "Standard", "code": "standard", "price": 500, "countries": ["LV"]}),
    )
    .await;
    let cart = str_of(&app.post("/cart", json!({"currency": "EUR"})).await["data"]["id"]);
    let (status, body) = app
        .admin(
            reqwest::Method::PATCH,
            &format!("/cart?cartId={cart}"),
            Some(json!({"action": "add", "item": {"productId": product["id"],
                "variantId": product["variants"][0]["id"], "quantity": quantity}})),
        )
        .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    let method: String =
        sqlx::query_scalar("select id from shipping_methods where code = 'standard'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    (cart, method)
}

fn order_data(method: &str, payment: PaymentMethod) -> OneCallOrder {
    OneCallOrder {
        contact: Contact {
            email: Some("jane@example.com".into()),
            ..Contact::default()
        },
        shipping: ShippingChoice {
            address: Some(Address {
                first_name: Some("Jane".into()),
                last_name: Some("Doe".into()),
                line1: Some("Brivibas iela 1".into()),
                city: Some("Riga".into()),
                postal_code: Some("LV-1010".into()),
                country: Some("LV".into()),
                ..Address::default()
            }),
            method_id: Some(method.into()),
        },
        payment: PaymentChoice {
            method: Some(payment),
            ..PaymentChoice::default()
        },
    }
}

#[tokio::test]
async fn one_call_places_an_order_through_every_checkout_step() {
    let app = TestApp::spawn().await;
    let (cart, method) = setup(&app, 5, 2).await;
    let caller = Caller::system(&app.site_id);
    let mut tx = app.pool.begin().await.unwrap();
    let ttl = chrono::Duration::minutes(30);
    let order = checkout::place_from_cart(
        &mut tx,
        &caller,
        &cart,
        ttl,
        order_data(&method, PaymentMethod::Manual),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        (order.subtotal, order.shipping, order.total),
        (3000, 500, 3500)
    );
    assert_eq!(
        app.count("select count(*) from checkout_sessions where state = 'complete'")
            .await,
        1
    );
    assert_eq!(
        app.count("select count(*) from carts where status = 'CHECKED_OUT'")
            .await,
        1
    );
    assert_eq!(
        app.count("select inventory_count::bigint from variants where sku = 'MUG'")
            .await,
        3
    );
}

#[tokio::test]
async fn one_call_keeps_the_step_rules_and_a_refusal_leaves_nothing() {
    let app = TestApp::spawn().await;
    let (cart, method) = setup(&app, 1, 1).await;
    let ttl = chrono::Duration::minutes(30);

    // Test payments need test mode, exactly as in the payment step.
    let live = Caller::system(&app.site_id);
    let mut tx = app.pool.begin().await.unwrap();
    let refused = checkout::place_from_cart(
        &mut tx,
        &live,
        &cart,
        ttl,
        order_data(&method, PaymentMethod::Test),
    )
    .await;
    assert!(
        matches!(&refused, Err(shopvo::domain::Error::Unprocessable(f)) if f[0].field.to_string() == "payment_method"),
        "{refused:?}"
    );
    tx.rollback().await.unwrap();

    // A browser caller cannot name a customer, nor reach another customer's cart.
    let browser = Caller {
        site_id: app.site_id.clone(),
        mode: Mode::Live,
        audience: Audience::Publishable,
        customer_id: None,
    };
    let mut data = order_data(&method, PaymentMethod::Manual);
    data.contact.customer_id = Some("cust_00000000000000000000000000".into());
    let mut tx = app.pool.begin().await.unwrap();
    let refused = checkout::place_from_cart(&mut tx, &browser, &cart, ttl, data).await;
    assert!(
        matches!(refused, Err(shopvo::domain::Error::Forbidden(_))),
        "{refused:?}"
    );
    tx.rollback().await.unwrap();

    // Stock that ran out since the cart was filled stops the order at review.
    sqlx::query("update stock_levels set on_hand = 0")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("update variants set inventory_count = 0")
        .execute(&app.pool)
        .await
        .unwrap();
    let mut tx = app.pool.begin().await.unwrap();
    let refused = checkout::place_from_cart(
        &mut tx,
        &live,
        &cart,
        ttl,
        order_data(&method, PaymentMethod::Manual),
    )
    .await;
    assert!(
        matches!(
            refused,
            Err(shopvo::domain::Error::Conflict {
                code: "OUT_OF_STOCK",
                ..
            })
        ),
        "{refused:?}"
    );
    tx.rollback().await.unwrap();

    assert_eq!(app.count("select count(*) from orders").await, 0);
    assert_eq!(app.count("select count(*) from checkout_sessions").await, 0);
    assert_eq!(
        app.count("select count(*) from carts where status = 'ACTIVE'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_browser_caller_reads_only_its_own_customers_orders() {
    let app = TestApp::spawn().await;
    let (cart, method) = setup(&app, 5, 1).await;
    let ttl = chrono::Duration::minutes(30);
    let system = Caller::system(&app.site_id);
    let mut tx = app.pool.begin().await.unwrap();
    let guest_order = checkout::place_from_cart(
        &mut tx,
        &system,
        &cart,
        ttl,
        order_data(&method, PaymentMethod::Manual),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let browser = |customer: Option<&str>| Caller {
        site_id: app.site_id.clone(),
        mode: Mode::Live,
        audience: Audience::Publishable,
        customer_id: customer.map(String::from),
    };
    let page = shopvo::domain::pagination::PageRequest::Offset { page: 1, limit: 20 };
    let filter = shopvo::domain::orders::OrderFilter::default();
    let mut conn = app.pool.acquire().await.unwrap();
    // A guest's order has a guessable number: no browser caller reads it, signed in or not.
    for caller in [
        browser(None),
        browser(Some("cust_00000000000000000000000000")),
    ] {
        let got = shopvo::domain::orders::get(&mut conn, &caller, &guest_order.number).await;
        assert!(
            matches!(got, Err(shopvo::domain::Error::NotFound(_))),
            "{got:?}"
        );
        let listed = shopvo::domain::orders::list(&mut conn, &caller, &filter, &page)
            .await
            .unwrap();
        assert!(listed.items.is_empty());
    }
    // A secret caller reads it.
    let got = shopvo::domain::orders::get(&mut conn, &system, &guest_order.number)
        .await
        .unwrap();
    assert_eq!(got.id, guest_order.id);
}
