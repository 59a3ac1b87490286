//! Locations, stock adjustments, the ledger, and no oversell under concurrency.

mod common;

use common::{TestApp, assert_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A product with one variant (SKU `SKU-1`) holding `count` units; returns (product id, variant id).
async fn stocked(app: &TestApp, count: i32) -> (String, String) {
    let p = app
        .product(json!({"name": "Widget", "price": 1000, "variants": [{"sku": "SKU-1", "inventoryCount": count}]}))
        .await;
    (
        p["id"].as_str().unwrap().into(),
        p["variants"][0]["id"].as_str().unwrap().into(),
    )
}

async fn adjust(app: &TestApp, product: &str, body: Value) -> (StatusCode, Value) {
    app.admin(Method::POST, &format!("/inventory/{product}"), Some(body))
        .await
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

#[tokio::test]
async fn sites_have_a_default_location_and_new_variants_stock_there() {
    let app = TestApp::spawn().await;
    let body = app.get("/locations").await;
    let locations = body["data"].as_array().unwrap();
    assert_eq!(locations.len(), 1);
    assert_eq!(locations[0]["isDefault"], true);
    let (product, variant) = stocked(&app, 7).await;
    assert_eq!(on_hand(&app, &variant).await, 7);
    let history = app.get(&format!("/inventory/{product}/history")).await;
    assert_eq!(history["items"].as_array().unwrap().len(), 1);
    assert_eq!(history["items"][0]["delta"], 7);
    assert_eq!(history["items"][0]["source"], "variant");
}

#[tokio::test]
async fn set_increment_and_decrement_are_recorded_in_the_ledger() {
    let app = TestApp::spawn().await;
    let (product, variant) = stocked(&app, 10).await;

    let (status, body) = adjust(
        &app,
        &product,
        json!({"operation": "increment", "quantity": 5, "reason": "PO-1234"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["id"], variant.as_str());
    assert_eq!(body["data"]["inventoryCount"], 15);
    assert_eq!(body["data"]["inventoryStatus"], "IN_STOCK");
    assert_eq!(body["data"]["delta"], 5);

    let (_, body) = adjust(
        &app,
        &product,
        json!({"operation": "decrement", "quantity": 12, "variantId": variant}),
    )
    .await;
    assert_eq!(body["data"]["inventoryCount"], 3);
    assert_eq!(body["data"]["inventoryStatus"], "LOW_STOCK");

    let (_, body) = adjust(&app, &product, json!({"operation": "set", "quantity": 0})).await;
    assert_eq!(body["data"]["inventoryCount"], 0);
    assert_eq!(body["data"]["delta"], -3);
    assert_eq!(body["data"]["inventoryStatus"], "OUT_OF_STOCK");
    assert_eq!(
        (
            on_hand(&app, &variant).await,
            variant_count(&app, &variant).await
        ),
        (0, 0)
    );

    let history = app.get(&format!("/inventory/{product}/history")).await;
    let deltas: Vec<i64> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["delta"].as_i64().unwrap())
        .collect();
    assert_eq!(deltas, [10, 5, -12, -3]);
    let entry = &history["items"][1];
    assert_eq!(entry["reason"], "PO-1234");
    assert_eq!(entry["source"], "api");
    assert!(entry["keyId"].as_str().unwrap().starts_with("key_"));
    assert_eq!(history["items"][3]["onHandAfter"], 0);
}

#[tokio::test]
async fn decrement_below_zero_is_409_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (product, variant) = stocked(&app, 2).await;
    let res = adjust(
        &app,
        &product,
        json!({"operation": "decrement", "quantity": 3}),
    )
    .await;
    assert_error(&res, StatusCode::CONFLICT, "OUT_OF_STOCK");
    assert!(
        res.1["error"].as_str().unwrap().contains("2 available"),
        "{}",
        res.1
    );
    assert_eq!(
        (
            on_hand(&app, &variant).await,
            variant_count(&app, &variant).await
        ),
        (2, 2)
    );
    assert_eq!(app.count("select count(*) from inventory_ledger").await, 1);
}

#[tokio::test]
async fn concurrent_decrements_never_oversell() {
    let app = TestApp::spawn().await;
    let (product, variant) = stocked(&app, 10).await;
    let url = app.api(&format!("/inventory/{product}"));
    let requests = (0..50).map(|_| {
        app.client
            .post(&url)
            .bearer_auth(&app.admin_key)
            .json(&json!({"operation": "decrement", "quantity": 1}))
            .send()
    });
    let statuses: Vec<StatusCode> = futures::future::join_all(requests)
        .await
        .into_iter()
        .map(|r| r.unwrap().status())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        40,
        "{statuses:?}"
    );
    assert_eq!(
        (
            on_hand(&app, &variant).await,
            variant_count(&app, &variant).await
        ),
        (0, 0)
    );
    assert_eq!(
        app.count("select count(*) from inventory_ledger where delta = -1")
            .await,
        10
    );
}

#[tokio::test]
async fn totals_sum_enabled_stock_at_active_locations() {
    let app = TestApp::spawn().await;
    let (product, variant) = stocked(&app, 4).await;
    let shop = app
        .post(
            "/locations",
            json!({"name": "Riga Shop", "address": {"city": "Riga"}}),
        )
        .await;
    let shop_id = shop["data"]["id"].as_str().unwrap().to_string();
    assert_eq!(shop["data"]["slug"], "riga-shop");

    let (status, body) = adjust(
        &app,
        &product,
        json!({"operation": "set", "quantity": 6, "locationId": shop_id}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["onHand"], 6);
    assert_eq!(body["data"]["inventoryCount"], 10);

    // Disabled stock does not count; neither does an inactive location's.
    let (_, body) = adjust(
        &app,
        &product,
        json!({"operation": "increment", "quantity": 1, "locationId": "riga-shop", "disabled": true}),
    )
    .await;
    assert_eq!(body["data"]["inventoryCount"], 4);
    adjust(
        &app,
        &product,
        json!({"operation": "increment", "quantity": 1, "locationId": shop_id, "disabled": false}),
    )
    .await;
    assert_eq!(variant_count(&app, &variant).await, 12);
    let (status, _) = app
        .admin(
            Method::PATCH,
            &format!("/locations/{shop_id}"),
            Some(json!({"active": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(variant_count(&app, &variant).await, 4);
    app.admin(
        Method::PATCH,
        &format!("/locations/{shop_id}"),
        Some(json!({"active": true})),
    )
    .await;
    assert_eq!(variant_count(&app, &variant).await, 12);

    let listed = app.get("/inventory?sku=sku-1&expand[]=locations").await;
    let item = &listed["items"][0];
    assert_eq!(item["inventoryCount"], 12);
    assert_eq!(item["name"], "Widget — Default");
    let per_location: Vec<i64> = item["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["onHand"].as_i64().unwrap())
        .collect();
    assert_eq!(per_location, [4, 8]);

    // Deleting the location removes its stock from the total.
    let (status, _) = app
        .admin(Method::DELETE, &format!("/locations/{shop_id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            on_hand(&app, &variant).await,
            variant_count(&app, &variant).await
        ),
        (4, 4)
    );
}

#[tokio::test]
async fn backorders_allow_negative_stock_and_show_backorder() {
    let app = TestApp::spawn().await;
    let (product, variant) = stocked(&app, 1).await;
    let (status, body) = adjust(
        &app,
        &product,
        json!({"operation": "decrement", "quantity": 3, "backorder": "yes"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["inventoryCount"], -2);
    assert_eq!(body["data"]["inventoryStatus"], "BACKORDER");
    let product_body = app.get(&format!("/products/{product}")).await;
    assert_eq!(
        product_body["data"]["variants"][0]["inventoryStatus"],
        "BACKORDER"
    );

    // Backorders cannot be switched off while the level is negative.
    let res = adjust(
        &app,
        &product,
        json!({"operation": "increment", "quantity": 1, "backorder": "no"}),
    )
    .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    assert_eq!(on_hand(&app, &variant).await, -2);
}

#[tokio::test]
async fn default_location_rules() {
    let app = TestApp::spawn().await;
    let first: String = sqlx::query_scalar("select id from locations where is_default")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let res = app
        .admin(Method::DELETE, &format!("/locations/{first}"), None)
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    let res = app
        .admin(
            Method::PATCH,
            &format!("/locations/{first}"),
            Some(json!({"isDefault": false})),
        )
        .await;
    assert_error(&res, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR");
    let res = app
        .admin(
            Method::PATCH,
            &format!("/locations/{first}"),
            Some(json!({"active": false})),
        )
        .await;
    assert_error(&res, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR");

    let second = app
        .post(
            "/locations",
            json!({"name": "Warehouse", "isDefault": true}),
        )
        .await;
    assert_eq!(second["data"]["isDefault"], true);
    assert_eq!(
        app.count("select count(*) from locations where is_default")
            .await,
        1
    );
    let res = app
        .admin(
            Method::POST,
            "/locations",
            Some(json!({"name": "Warehouse"})),
        )
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");

    // New variants now stock at the new default.
    let (_, variant) = stocked(&app, 3).await;
    let at_second = app
        .count(&format!(
            "select on_hand::bigint from stock_levels where variant_id = '{variant}' and location_id = '{}'",
            second["data"]["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(at_second, 3);
}

#[tokio::test]
async fn bad_adjustments_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let (product, variant) = stocked(&app, 5).await;
    let cases = [
        (
            json!({"operation": "decrement", "quantity": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "quantity",
        ),
        (
            json!({"operation": "set", "quantity": -1}),
            StatusCode::BAD_REQUEST,
            "quantity",
        ),
        (
            json!({"operation": "increment", "quantity": 5_000_000}),
            StatusCode::BAD_REQUEST,
            "quantity",
        ),
        (
            json!({"operation": "add", "quantity": 1}),
            StatusCode::BAD_REQUEST,
            "operation",
        ),
        (
            json!({"operation": "set", "quantity": 1.5}),
            StatusCode::BAD_REQUEST,
            "quantity",
        ),
        (
            json!({"operation": "set", "quantity": 1, "locationId": "loc_nope"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "locationId",
        ),
        (
            json!({"operation": "set", "quantity": 1, "price": 5}),
            StatusCode::BAD_REQUEST,
            "price",
        ),
    ];
    for (body, status, field) in cases {
        let res = adjust(&app, &product, body.clone()).await;
        assert_error(&res, status, "VALIDATION_ERROR");
        assert_eq!(res.1["details"][0]["field"], field, "{body}");
    }
    let res = adjust(
        &app,
        &product,
        json!({"operation": "set", "quantity": 1, "variantId": "var_nope"}),
    )
    .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = adjust(&app, "prd_nope", json!({"operation": "set", "quantity": 1})).await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert_eq!(on_hand(&app, &variant).await, 5);
    assert_eq!(app.count("select count(*) from inventory_ledger").await, 1);

    let reader = app.key(&app.site_id, &["read:inventory"]).await;
    let res = app
        .call(
            Method::POST,
            &app.api(&format!("/inventory/{product}")),
            Some(&reader),
            Some(json!({"operation": "set", "quantity": 1})),
        )
        .await;
    assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    assert!(res.1["error"].as_str().unwrap().contains("write:inventory"));
}

#[tokio::test]
async fn inventory_list_paginates_both_ways() {
    let app = TestApp::spawn().await;
    for i in 0..5 {
        app.product(json!({"name": format!("Item {i}"), "price": 100, "variants": [{"sku": format!("IT-{i}"), "inventoryCount": i}]}))
            .await;
    }
    let page = app.get("/inventory?limit=2&page=3").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["pagination"]["total"], 5);
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let body = app
            .get(&format!("/inventory?limit=2&cursor={cursor}"))
            .await;
        seen.extend(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["sku"].as_str().unwrap().to_string()),
        );
        if body["hasNextPage"] == false {
            break;
        }
        cursor = body["cursor"].as_str().unwrap().to_string();
    }
    assert_eq!(seen, ["IT-0", "IT-1", "IT-2", "IT-3", "IT-4"]);
    let res = app
        .admin(Method::GET, "/inventory?expand[]=everything", None)
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}

#[tokio::test]
async fn locations_can_carry_their_own_prices() {
    let app = TestApp::spawn().await;
    let (product, _) = stocked(&app, 2).await;
    let (status, body) = adjust(
        &app,
        &product,
        json!({"operation": "increment", "quantity": 1, "regularPrice": 1200, "salePrice": 999}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let listed = app.get("/inventory?sku=SKU-1&expand[]=locations").await;
    let level = &listed["items"][0]["locations"][0];
    assert_eq!(
        (level["regularPrice"].as_i64(), level["salePrice"].as_i64()),
        (Some(1200), Some(999))
    );

    // `null` clears one price and leaves the other; a negative price is refused and changes nothing.
    adjust(
        &app,
        &product,
        json!({"operation": "increment", "quantity": 1, "salePrice": null}),
    )
    .await;
    let res = adjust(
        &app,
        &product,
        json!({"operation": "increment", "quantity": 1, "regularPrice": -1}),
    )
    .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(res.1["details"][0]["field"], "regularPrice");
    let listed = app.get("/inventory?sku=SKU-1&expand[]=locations").await;
    let level = &listed["items"][0]["locations"][0];
    assert_eq!(
        (level["regularPrice"].as_i64(), level["salePrice"].as_i64()),
        (Some(1200), None)
    );
    assert_eq!(level["onHand"], 4);
    // The catalog price is still what carts charge.
    assert_eq!(
        app.get(&format!("/products/{product}")).await["data"]["price"],
        1000
    );
}

#[tokio::test]
async fn field_errors_name_wire_fields_and_keep_address_keys_verbatim() {
    let app = TestApp::spawn().await;
    let (product, variant) = stocked(&app, 5).await;
    let res = adjust(
        &app,
        &product,
        json!({"operation": "set", "quantity": 1, "reason": "r".repeat(501)}),
    )
    .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(res.1["details"][0]["field"], "reason");
    assert_eq!(
        res.1["details"][0]["message"],
        "must be at most 500 characters"
    );
    let res = adjust(
        &app,
        &product,
        json!({"operation": "set", "quantity": 1, "salePrice": -5}),
    )
    .await;
    assert_eq!(res.1["details"][0]["field"], "salePrice", "{}", res.1);
    assert_eq!(on_hand(&app, &variant).await, 5);

    // Address keys are the client's own: rendered as sent, not camelCased.
    let res = app
        .admin(
            Method::POST,
            "/locations",
            Some(json!({"name": "Depot", "address": {"postal_code": 1050, "line1": "Main St 1"}})),
        )
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(res.1["details"][0]["field"], "address.postal_code");

    let default: String = sqlx::query_scalar("select id from locations where is_default")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let res = app
        .admin(
            Method::PATCH,
            &format!("/locations/{default}"),
            Some(json!({"isDefault": false})),
        )
        .await;
    assert_error(&res, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR");
    assert_eq!(res.1["details"][0]["field"], "isDefault");
}

#[tokio::test]
async fn a_count_written_on_the_variant_and_adjustments_at_once_never_deadlock() {
    let app = common::spawn_unlimited().await;
    let (product, variant) = stocked(&app, 100).await;
    let path = format!("/products/{product}/variants/{variant}");
    let requests = (0..40).map(|i| {
        let app = &app;
        let path = path.clone();
        let product = product.clone();
        async move {
            if i % 2 == 0 {
                app.admin(
                    Method::PATCH,
                    &path,
                    Some(json!({"inventoryCount": 50 + i})),
                )
                .await
            } else {
                adjust(
                    app,
                    &product,
                    json!({"operation": "increment", "quantity": 1}),
                )
                .await
            }
        }
    });
    for (status, body) in futures::future::join_all(requests).await {
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // The ledger explains the count: every change is one entry.
    assert_eq!(
        app.count(&format!(
            "select coalesce(sum(delta), 0)::bigint from inventory_ledger where variant_id = '{variant}'"
        ))
        .await,
        on_hand(&app, &variant).await
    );
    assert_eq!(
        variant_count(&app, &variant).await,
        on_hand(&app, &variant).await
    );
}
