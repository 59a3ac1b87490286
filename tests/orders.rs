//! Orders over HTTP: lists with filters and both pagination modes, lookup by id or number, tenancy, and
//! operator updates through legal transitions only (cancelling restocks). Every test checks the database.

mod common;

use common::{TestApp, assert_error, spawn_unlimited as spawn, start_of_a_window, str_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

/// `data` of a 200 response.
#[track_caller]
fn ok(res: (StatusCode, Value)) -> Value {
    assert_eq!(res.0, StatusCode::OK, "body: {}", res.1);
    res.1["data"].clone()
}

/// Asserts a 400 `VALIDATION_ERROR` whose first detail names `field`.
#[track_caller]
fn assert_invalid(res: &(StatusCode, Value), field: &str) {
    assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(res.1["details"][0]["field"], field, "body: {}", res.1);
}

/// A shop: a product whose one variant holds `stock` units at 1000, and a shipping method to Latvia.
struct Shop {
    product: String,
    variant: String,
    method: String,
}

async fn shop(app: &TestApp, stock: i32) -> Shop {
    let p = app
        .product(json!({"name": "Widget", "price": 1000, "variants": [{"sku": "W-1", "inventoryCount": stock}]}))
        .await;
    let m = app
        .post(
            "/shipping-methods",
            json!({"name": "Standard", "code": "standard", "price": 500, "countries": ["LV"]}),
        )
        .await;
    Shop {
        product: str_of(&p["id"]),
        variant: str_of(&p["variants"][0]["id"]),
        method: str_of(&m["data"]["id"]),
    }
}

/// Places an order of `quantity` units through the checkout with the admin key; returns the order.
async fn place(app: &TestApp, shop: &Shop, email: &str, quantity: i32) -> Value {
    let cart = app
        .post("/cart", json!({"sessionId": "s", "currency": "EUR"}))
        .await["data"]["id"]
        .clone();
    let cart = str_of(&cart);
    ok(app
        .admin(
            Method::PATCH,
            &format!("/cart?cartId={cart}"),
            Some(json!({"action": "add", "item": {"productId": shop.product, "variantId": shop.variant, "quantity": quantity}})),
        )
        .await);
    let session = str_of(&app.post("/checkout", json!({"cartId": cart})).await["data"]["id"]);
    let steps = [
        json!({"state": "contact", "email": email}),
        json!({"state": "shipping", "shippingMethodId": shop.method, "shippingAddress": {"firstName": "Jane",
            "lastName": "Smith", "line1": "Brīvības iela 1", "city": "Rīga", "postalCode": "LV-1010", "country": "LV"}}),
        json!({"state": "payment", "paymentMethod": "manual"}),
        json!({"state": "review"}),
        json!({"state": "complete"}),
    ];
    let mut data = Value::Null;
    for mut body in steps {
        body["sessionId"] = json!(session);
        data = ok(app.admin(Method::PATCH, "/checkout", Some(body)).await);
    }
    assert_eq!(data["state"], "complete");
    data["order"].clone()
}

/// `PATCH /orders/{id}` with the admin key.
async fn patch(app: &TestApp, order: &str, body: Value) -> (StatusCode, Value) {
    app.admin(Method::PATCH, &format!("/orders/{order}"), Some(body))
        .await
}

async fn db_text(app: &TestApp, sql: &str) -> Option<String> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// (status, payment_status, fulfillment_status) of an order in the database.
async fn db_statuses(app: &TestApp, order: &str) -> (String, String, String) {
    sqlx::query_as("select status, payment_status, fulfillment_status from orders where id = $1")
        .bind(order)
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

async fn events(app: &TestApp, kind: &str) -> i64 {
    app.count(&format!(
        "select count(*) from events where type = '{kind}'"
    ))
    .await
}

/// The ids of a list's `items`.
fn item_ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {body}"))
        .iter()
        .map(|i| str_of(&i["id"]))
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn lists_filter_by_status_payment_status_customer_and_dates() {
    let app = spawn().await;
    let shop = shop(&app, 100).await;
    let a = str_of(&place(&app, &shop, "a@example.com", 1).await["id"]);
    let b = str_of(&place(&app, &shop, "b@example.com", 1).await["id"]);
    let c = str_of(&place(&app, &shop, "c@example.com", 1).await["id"]);
    ok(patch(&app, &b, json!({"paymentStatus": "PAID"})).await);
    ok(patch(&app, &c, json!({"status": "CONFIRMED"})).await);
    for (id, at) in [
        (&a, "2026-01-01T10:00:00Z"),
        (&b, "2026-02-01T10:00:00Z"),
        (&c, "2026-03-01T10:00:00Z"),
    ] {
        sqlx::query("update orders set created_at = $2::timestamptz where id = $1")
            .bind(id)
            .bind(at)
            .execute(&app.pool)
            .await
            .unwrap();
    }
    sqlx::query("update orders set customer_id = 'cust_alpha' where id = $1")
        .bind(&a)
        .execute(&app.pool)
        .await
        .unwrap();

    let cases: [(&str, Vec<&String>); 9] = [
        ("", vec![&a, &b, &c]),
        ("status=PENDING", vec![&a, &b]),
        ("status=CONFIRMED", vec![&c]),
        ("paymentStatus=PAID", vec![&b]),
        ("paymentStatus=PENDING&status=PENDING", vec![&a]),
        ("customerId=cust_alpha", vec![&a]),
        ("from=2026-01-15T00:00:00Z", vec![&b, &c]),
        ("to=2026-02-15T00:00:00Z", vec![&a, &b]),
        (
            "from=2026-01-15T00:00:00Z&to=2026-02-15T00:00:00Z",
            vec![&b],
        ),
    ];
    for (query, expected) in cases {
        let body = app.get(&format!("/orders?{query}")).await;
        let expected: Vec<String> = expected.into_iter().cloned().collect();
        assert_eq!(item_ids(&body), expected, "?{query}");
        assert_eq!(body["pagination"]["total"], expected.len(), "?{query}");
    }
    // `to` is exclusive: an order made exactly then is not in the range.
    let body = app.get("/orders?to=2026-02-01T10:00:00Z").await;
    assert_eq!(item_ids(&body), vec![a.clone()]);

    for query in [
        "status=SHIPPED_LATE",
        "paymentStatus=paid",
        "from=yesterday",
        "limit=0",
        "limit=101",
    ] {
        let res = app
            .admin(Method::GET, &format!("/orders?{query}"), None)
            .await;
        assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    }
    // A cursor that is not one a response gave: well-formed, names nothing.
    let res = app.admin(Method::GET, "/orders?cursor=prd_abc", None).await;
    common::assert_unprocessable(&res, "cursor");
}

#[tokio::test]
async fn lists_paginate_by_offset_and_by_cursor() {
    let app = spawn().await;
    let shop = shop(&app, 100).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(str_of(
            &place(&app, &shop, &format!("buyer{i}@example.com"), 1).await["id"],
        ));
    }

    let page = app.get("/orders?page=2&limit=2").await;
    assert_eq!(item_ids(&page), ids[2..4]);
    assert_eq!(
        page["pagination"],
        json!({"page": 2, "limit": 2, "total": 5, "totalPages": 3, "totalIsEstimate": false})
    );
    let last = app.get("/orders?page=3&limit=2").await;
    assert_eq!(item_ids(&last), ids[4..]);
    let past = app.get("/orders?page=9&limit=2").await;
    assert_eq!(item_ids(&past), Vec::<String>::new());

    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let body = app.get(&format!("/orders?limit=2&cursor={cursor}")).await;
        assert!(body.get("pagination").is_none(), "{body}");
        assert_eq!(body["limit"], 2);
        seen.extend(item_ids(&body));
        if body["hasNextPage"] == false {
            assert_eq!(body["cursor"], Value::Null);
            break;
        }
        cursor = str_of(&body["cursor"]);
        assert_eq!(&cursor, seen.last().unwrap());
        assert!(seen.len() <= 5, "the walk does not end");
    }
    assert_eq!(seen, ids);
    // Filters apply in cursor mode too.
    ok(patch(&app, &ids[3], json!({"status": "CONFIRMED"})).await);
    let body = app
        .get(&format!(
            "/orders?status=PENDING&limit=10&cursor={}",
            ids[1]
        ))
        .await;
    assert_eq!(item_ids(&body), [ids[2].clone(), ids[4].clone()]);
}

#[tokio::test]
async fn an_order_is_found_by_id_or_number_on_its_own_site_only() {
    let app = spawn().await;
    let shop = shop(&app, 100).await;
    let first = place(&app, &shop, "a@example.com", 2).await;
    let second = place(&app, &shop, "b@example.com", 1).await;
    assert_eq!(first["number"], "ORD-1001");
    assert_eq!(second["number"], "ORD-1002");
    let id = str_of(&second["id"]);

    for path in [
        format!("/orders/{id}"),
        "/orders/ORD-1002".into(),
        "/orders/1002".into(),
    ] {
        let body = app.get(&path).await;
        assert_eq!(body["data"]["id"], id.as_str(), "{path}");
        assert_eq!(body["data"]["number"], "ORD-1002");
        assert_eq!(body["data"]["email"], "b@example.com");
        assert_eq!(body["data"]["items"][0]["quantity"], 1);
        assert_eq!(body["data"]["total"], 1500);
    }
    for path in [
        "/orders/ORD-9999",
        "/orders/order_nope",
        "/orders/ORD-",
        "/orders/0",
    ] {
        let res = app.admin(Method::GET, path, None).await;
        assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    }

    // Another site: its key does not see our orders by id or by number, and ours does not see its.
    let other = app.create_site("Other Store").await;
    let other_key = app.key(&other, &["admin:*"]).await;
    for path in [format!("/orders/{id}"), "/orders/ORD-1002".into()] {
        let res = app
            .call(
                Method::GET,
                &format!("{}/api/v1/{other}{path}", app.url),
                Some(&other_key),
                None,
            )
            .await;
        assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    }
    let res = app
        .call(
            Method::PATCH,
            &format!("{}/api/v1/{other}/orders/{id}", app.url),
            Some(&other_key),
            Some(json!({"status": "CANCELLED"})),
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert_eq!(db_statuses(&app, &id).await.0, "PENDING");
    let res = app
        .call(
            Method::GET,
            &format!("{}/api/v1/{other}/orders/{id}", app.url),
            Some(&app.admin_key),
            None,
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let listed = app
        .call(
            Method::GET,
            &format!("{}/api/v1/{other}/orders", app.url),
            Some(&other_key),
            None,
        )
        .await;
    assert_eq!(listed.1["items"], json!([]), "{}", listed.1);
}

// ---------------------------------------------------------------------------------------------------------
// Status transitions
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_forward_path_is_legal_step_by_step() {
    let app = spawn().await;
    let shop = shop(&app, 10).await;
    let order = str_of(&place(&app, &shop, "a@example.com", 1).await["id"]);
    for status in ["CONFIRMED", "PROCESSING", "SHIPPED", "DELIVERED"] {
        let data = ok(patch(&app, &order, json!({"status": status})).await);
        assert_eq!(data["status"], status);
        assert_eq!(db_statuses(&app, &order).await.0, status);
    }
    assert_eq!(events(&app, "order.updated").await, 4);
    assert_eq!(
        app.count(&format!(
            "select count(*) from events where type = 'order.updated' and payload ->> 'id' = '{order}' \
             and payload ->> 'status' = 'DELIVERED'"
        ))
        .await,
        1
    );
    // Delivery does not touch stock.
    assert_eq!(on_hand(&app, &shop.variant).await, 9);
}

#[tokio::test]
async fn illegal_jumps_are_409_and_change_nothing() {
    let app = spawn().await;
    let shop = shop(&app, 10).await;
    let order = str_of(&place(&app, &shop, "a@example.com", 1).await["id"]);
    for status in ["SHIPPED", "DELIVERED", "PROCESSING", "REFUNDED"] {
        let res = patch(
            &app,
            &order,
            json!({"status": status, "notes": "should not stick"}),
        )
        .await;
        assert_error(&res, StatusCode::CONFLICT, "INVALID_TRANSITION");
        let message = res.1["error"].as_str().unwrap();
        assert!(
            message.contains("PENDING") && message.contains(status),
            "{message}"
        );
    }
    assert_eq!(db_statuses(&app, &order).await.0, "PENDING");
    assert_eq!(
        db_text(
            &app,
            &format!("select notes from orders where id = '{order}'")
        )
        .await,
        None
    );
    assert_eq!(events(&app, "order.updated").await, 0);

    for status in ["CONFIRMED", "PROCESSING", "SHIPPED", "DELIVERED"] {
        ok(patch(&app, &order, json!({"status": status})).await);
    }
    for status in ["PENDING", "CONFIRMED", "SHIPPED", "CANCELLED"] {
        let res = patch(&app, &order, json!({"status": status})).await;
        assert_error(&res, StatusCode::CONFLICT, "INVALID_TRANSITION");
        assert!(
            res.1["error"].as_str().unwrap().contains("DELIVERED"),
            "{}",
            res.1
        );
    }
    assert_eq!(db_statuses(&app, &order).await.0, "DELIVERED");
    assert_eq!(events(&app, "order.updated").await, 4);
    assert_eq!(on_hand(&app, &shop.variant).await, 9, "no restock");

    // Unknown values are refused by type.
    let res = patch(&app, &order, json!({"status": "LOST"})).await;
    assert_invalid(&res, "status");
    // `null` cannot clear a status. (Refused as 400 INVALID_JSON today: serde_json reports a null enum as
    // a syntax error, although the JSON is well-formed.)
    let res = patch(&app, &order, json!({"status": null})).await;
    assert_eq!(res.0, StatusCode::BAD_REQUEST, "{}", res.1);
    assert_eq!(res.1["success"], false);
    assert_eq!(db_statuses(&app, &order).await.0, "DELIVERED");
}

#[tokio::test]
async fn cancelling_restocks_what_the_order_took() {
    let app = spawn().await;
    let shop = shop(&app, 5).await;
    let order = str_of(&place(&app, &shop, "a@example.com", 2).await["id"]);
    assert_eq!(on_hand(&app, &shop.variant).await, 3);

    let data = ok(patch(&app, &order, json!({"status": "CANCELLED"})).await);
    assert_eq!(data["status"], "CANCELLED");
    assert_eq!(data["paymentStatus"], "PENDING");
    assert_eq!(on_hand(&app, &shop.variant).await, 5);
    assert_eq!(variant_count(&app, &shop.variant).await, 5);
    let ledger: Vec<(i32, String, Option<String>)> = sqlx::query_as(
        "select delta, source, reason from inventory_ledger where variant_id = $1 and source = 'order' order by created_at, id",
    )
    .bind(&shop.variant)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        ledger,
        [
            (-2, "order".to_string(), Some(order.clone())),
            (2, "order".to_string(), Some(order.clone()))
        ]
    );
    assert_eq!(
        app.count(&format!(
            "select count(*) from inventory_ledger where source = 'order' and delta > 0 and key_id is not null \
             and reason = '{order}'"
        ))
        .await,
        1,
        "the restock records the key that cancelled"
    );
    assert_eq!(events(&app, "order.updated").await, 1);

    // Cancelling again is refused and does not restock twice; a cancelled order stays cancelled.
    for status in ["CANCELLED", "PENDING", "CONFIRMED"] {
        let res = patch(&app, &order, json!({"status": status})).await;
        assert_error(&res, StatusCode::CONFLICT, "INVALID_TRANSITION");
    }
    assert_eq!(on_hand(&app, &shop.variant).await, 5);
    assert_eq!(
        app.count("select count(*) from inventory_ledger where source = 'order'")
            .await,
        2
    );
    assert_eq!(events(&app, "order.updated").await, 1);
}

#[tokio::test]
async fn confirmed_and_processing_orders_can_be_cancelled_but_not_shipped_ones() {
    let app = spawn().await;
    let shop = shop(&app, 10).await;
    let confirmed = str_of(&place(&app, &shop, "a@example.com", 1).await["id"]);
    let processing = str_of(&place(&app, &shop, "b@example.com", 2).await["id"]);
    let shipped = str_of(&place(&app, &shop, "c@example.com", 3).await["id"]);
    assert_eq!(on_hand(&app, &shop.variant).await, 4);
    ok(patch(&app, &confirmed, json!({"status": "CONFIRMED"})).await);
    for status in ["CONFIRMED", "PROCESSING"] {
        ok(patch(&app, &processing, json!({"status": status})).await);
    }
    for status in ["CONFIRMED", "PROCESSING", "SHIPPED"] {
        ok(patch(&app, &shipped, json!({"status": status})).await);
    }

    ok(patch(&app, &confirmed, json!({"status": "CANCELLED"})).await);
    assert_eq!(on_hand(&app, &shop.variant).await, 5);
    ok(patch(&app, &processing, json!({"status": "CANCELLED"})).await);
    assert_eq!(on_hand(&app, &shop.variant).await, 7);
    let res = patch(&app, &shipped, json!({"status": "CANCELLED"})).await;
    assert_error(&res, StatusCode::CONFLICT, "INVALID_TRANSITION");
    assert_eq!(db_statuses(&app, &shipped).await.0, "SHIPPED");
    assert_eq!(on_hand(&app, &shop.variant).await, 7);
    assert_eq!(variant_count(&app, &shop.variant).await, 7);
}

#[tokio::test]
async fn only_paid_orders_can_be_refunded() {
    let app = spawn().await;
    let shop = shop(&app, 10).await;
    let order = str_of(&place(&app, &shop, "a@example.com", 1).await["id"]);
    ok(patch(&app, &order, json!({"status": "CONFIRMED"})).await);

    // A manual order that was never paid cannot be refunded.
    let res = patch(&app, &order, json!({"status": "REFUNDED"})).await;
    assert_error(&res, StatusCode::CONFLICT, "INVALID_TRANSITION");
    assert!(
        res.1["error"].as_str().unwrap().contains("paid"),
        "{}",
        res.1
    );
    assert_eq!(
        db_statuses(&app, &order).await,
        ("CONFIRMED".into(), "PENDING".into(), "draft".into())
    );

    // Marking it paid is a payment event; then the refund goes through and refunds the payment.
    let data = ok(patch(&app, &order, json!({"paymentStatus": "PAID"})).await);
    assert_eq!(data["paymentStatus"], "PAID");
    assert_eq!(
        app.count(&format!(
            "select count(*) from events where type = 'payment.confirmed' and payload ->> 'orderId' = '{order}'"
        ))
        .await,
        1
    );
    let data = ok(patch(&app, &order, json!({"status": "REFUNDED"})).await);
    assert_eq!(data["status"], "REFUNDED");
    assert_eq!(data["paymentStatus"], "REFUNDED");
    assert_eq!(
        db_statuses(&app, &order).await,
        ("REFUNDED".into(), "REFUNDED".into(), "draft".into())
    );
    // Refunded is final, and refunding twice is refused.
    for status in ["REFUNDED", "CONFIRMED", "CANCELLED"] {
        let res = patch(&app, &order, json!({"status": status})).await;
        assert_error(&res, StatusCode::CONFLICT, "INVALID_TRANSITION");
    }
    assert_eq!(events(&app, "order.updated").await, 3);
    assert_eq!(db_statuses(&app, &order).await.0, "REFUNDED");
}

#[tokio::test]
async fn payment_status_moves_only_forward() {
    let app = spawn().await;
    let shop = shop(&app, 10).await;
    let order = str_of(&place(&app, &shop, "a@example.com", 1).await["id"]);
    ok(patch(&app, &order, json!({"paymentStatus": "FAILED"})).await);
    assert_eq!(events(&app, "payment.failed").await, 1);
    ok(patch(&app, &order, json!({"paymentStatus": "PAID"})).await);
    for payment in ["PENDING", "FAILED"] {
        let res = patch(&app, &order, json!({"paymentStatus": payment})).await;
        assert_error(&res, StatusCode::CONFLICT, "INVALID_TRANSITION");
    }
    assert_eq!(db_statuses(&app, &order).await.1, "PAID");
    ok(patch(&app, &order, json!({"paymentStatus": "PARTIALLY_REFUNDED"})).await);
    let res = patch(&app, &order, json!({"paymentStatus": "PAID"})).await;
    assert_error(&res, StatusCode::CONFLICT, "INVALID_TRANSITION");
    assert_eq!(db_statuses(&app, &order).await.1, "PARTIALLY_REFUNDED");
    let res = patch(&app, &order, json!({"paymentStatus": "SETTLED"})).await;
    assert_invalid(&res, "paymentStatus");
}

// ---------------------------------------------------------------------------------------------------------
// Other fields
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn fulfillment_status_takes_mofavo_values() {
    let app = spawn().await;
    let shop = shop(&app, 10).await;
    let order = str_of(&place(&app, &shop, "a@example.com", 1).await["id"]);
    for value in [
        "readyForPackaging",
        "readyForPickUp",
        "inTransit",
        "delivered",
        "returned",
        "draft",
    ] {
        let data = ok(patch(&app, &order, json!({"fulfillmentStatus": value})).await);
        assert_eq!(data["fulfillmentStatus"], value);
        assert_eq!(db_statuses(&app, &order).await.2, value);
    }
    ok(patch(&app, &order, json!({"fulfillmentStatus": "inTransit"})).await);
    for value in ["shipped", "IN_TRANSIT", "in_transit"] {
        let res = patch(&app, &order, json!({"fulfillmentStatus": value})).await;
        assert_invalid(&res, "fulfillmentStatus");
    }
    assert_eq!(db_statuses(&app, &order).await.2, "inTransit");
}

#[tokio::test]
async fn external_refs_are_unique_per_site() {
    let app = spawn().await;
    let shop = shop(&app, 10).await;
    let a = str_of(&place(&app, &shop, "a@example.com", 1).await["id"]);
    let b = str_of(&place(&app, &shop, "b@example.com", 1).await["id"]);
    let data = ok(patch(&app, &a, json!({"externalRef": "WC-1001"})).await);
    assert_eq!(data["externalRef"], "WC-1001");

    let res = patch(
        &app,
        &b,
        json!({"externalRef": "WC-1001", "notes": "should not stick"}),
    )
    .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    assert!(
        res.1["error"].as_str().unwrap().contains("WC-1001"),
        "{}",
        res.1
    );
    assert_eq!(
        db_text(
            &app,
            &format!("select external_ref from orders where id = '{b}'")
        )
        .await,
        None
    );
    assert_eq!(
        db_text(&app, &format!("select notes from orders where id = '{b}'")).await,
        None
    );
    // Setting the same ref on the same order again is fine; releasing it frees it.
    ok(patch(&app, &a, json!({"externalRef": "WC-1001"})).await);
    let data = ok(patch(&app, &a, json!({"externalRef": null})).await);
    assert_eq!(data["externalRef"], Value::Null);
    ok(patch(&app, &b, json!({"externalRef": "WC-1001"})).await);
    assert_eq!(
        db_text(
            &app,
            &format!("select external_ref from orders where id = '{b}'")
        )
        .await,
        Some("WC-1001".into())
    );
    let res = patch(&app, &a, json!({"externalRef": ""})).await;
    assert_invalid(&res, "externalRef");

    // Another site may use the same ref.
    let other = app.create_site("Other Store").await;
    let other_key = app.key(&other, &["admin:*"]).await;
    sqlx::query(
        "insert into orders (site_id, id, number, email, currency, subtotal, discount, shipping, tax, total, payment_method) \
         values ($1, 'order_other', 1001, 'x@example.com', 'EUR', 0, 0, 0, 0, 0, 'manual')",
    )
    .bind(&other)
    .execute(&app.pool)
    .await
    .unwrap();
    let res = app
        .call(
            Method::PATCH,
            &format!("{}/api/v1/{other}/orders/order_other", app.url),
            Some(&other_key),
            Some(json!({"externalRef": "WC-1001"})),
        )
        .await;
    assert_eq!(res.0, StatusCode::OK, "{}", res.1);
}

#[tokio::test]
async fn tracking_notes_and_archived() {
    let app = spawn().await;
    let shop = shop(&app, 10).await;
    let order = str_of(&place(&app, &shop, "a@example.com", 1).await["id"]);
    let data = ok(patch(
        &app,
        &order,
        json!({"trackingNumber": "LV123456789", "trackingUrl": "https://track.example/LV123456789",
            "notes": "Leave at the door", "archived": true}),
    )
    .await);
    assert_eq!(data["trackingNumber"], "LV123456789");
    assert_eq!(data["trackingUrl"], "https://track.example/LV123456789");
    assert_eq!(data["notes"], "Leave at the door");
    assert_eq!(data["archived"], true);
    assert_eq!(data["status"], "PENDING", "other fields unchanged");
    let row: (Option<String>, Option<String>, Option<String>, bool) = sqlx::query_as(
        "select tracking_number, tracking_url, notes, archived from orders where id = $1",
    )
    .bind(&order)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        row,
        (
            Some("LV123456789".into()),
            Some("https://track.example/LV123456789".into()),
            Some("Leave at the door".into()),
            true
        )
    );

    // Omitted fields stay; null clears.
    let data = ok(patch(&app, &order, json!({"notes": null, "archived": false})).await);
    assert_eq!(data["notes"], Value::Null);
    assert_eq!(data["trackingNumber"], "LV123456789");
    assert_eq!(data["archived"], false);
    assert_eq!(events(&app, "order.updated").await, 2);

    // Bad values, unknown fields (totals cannot be set) and a bad `archived` are refused.
    let res = patch(&app, &order, json!({"trackingNumber": ""})).await;
    assert_invalid(&res, "trackingNumber");
    let res = patch(&app, &order, json!({"total": 1})).await;
    assert_invalid(&res, "total");
    let res = patch(&app, &order, json!({"archived": "yes"})).await;
    assert_invalid(&res, "archived");
    let res = patch(&app, &order, json!({"notes": "x".repeat(10_001)})).await;
    assert_invalid(&res, "notes");
    assert_eq!(
        db_text(
            &app,
            &format!("select tracking_number from orders where id = '{order}'")
        )
        .await,
        Some("LV123456789".into())
    );
    assert_eq!(
        app.count(&format!("select total from orders where id = '{order}'"))
            .await,
        1500
    );
    assert_eq!(events(&app, "order.updated").await, 2);
    let res = patch(&app, "order_nope", json!({"notes": "x"})).await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
}

#[tokio::test]
async fn updates_need_the_write_orders_scope() {
    let app = spawn().await;
    let shop = shop(&app, 10).await;
    let order = str_of(&place(&app, &shop, "a@example.com", 1).await["id"]);
    let reader = app.key(&app.site_id, &["read:orders"]).await;
    let res = app
        .call(
            Method::GET,
            &app.api(&format!("/orders/{order}")),
            Some(&reader),
            None,
        )
        .await;
    assert_eq!(res.0, StatusCode::OK, "{}", res.1);
    let res = app
        .call(
            Method::PATCH,
            &app.api(&format!("/orders/{order}")),
            Some(&reader),
            Some(json!({"status": "CANCELLED"})),
        )
        .await;
    assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    assert!(
        res.1["error"].as_str().unwrap().contains("write:orders"),
        "{}",
        res.1
    );
    assert_eq!(db_statuses(&app, &order).await.0, "PENDING");
    assert_eq!(on_hand(&app, &shop.variant).await, 9);
    assert_eq!(events(&app, "order.updated").await, 0);

    let writer = app.key(&app.site_id, &["write:orders"]).await;
    let res = app
        .call(
            Method::PATCH,
            &app.api(&format!("/orders/{order}")),
            Some(&writer),
            Some(json!({"status": "CONFIRMED"})),
        )
        .await;
    assert_eq!(res.0, StatusCode::OK, "{}", res.1);
    let catalog = app.key(&app.site_id, &["read:catalog"]).await;
    let res = app
        .call(Method::GET, &app.api("/orders"), Some(&catalog), None)
        .await;
    assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
}

#[tokio::test]
async fn the_orders_group_is_rate_limited() {
    let app = TestApp::spawn().await;
    start_of_a_window().await;
    let mut statuses = Vec::new();
    for _ in 0..31 {
        statuses.push(app.admin(Method::GET, "/orders", None).await.0);
    }
    assert!(
        statuses[..30].iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    assert_eq!(statuses[30], StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn null_for_a_required_enum_is_a_field_error() {
    let app = spawn().await;
    let shop = shop(&app, 10).await;
    let order = str_of(&place(&app, &shop, "n@example.com", 1).await["id"]);
    let res = patch(&app, &order, json!({"status": null})).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(res.1["details"][0]["field"], "status");
}
