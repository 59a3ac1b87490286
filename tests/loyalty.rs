//! Loyalty over HTTP: the program, tiers, awards and deductions that never take points below zero (even 100
//! at once), redemptions at the program's rate, and points earned when an order is paid (not for test
//! orders) and taken back when it is refunded.

mod common;

use common::{TestApp, assert_error, assert_unprocessable, spawn_unlimited, str_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn customer(app: &TestApp, email: &str) -> String {
    str_of(&app.post("/customers", json!({"email": email})).await["data"]["id"])
}

async fn program(app: &TestApp, body: Value) -> (StatusCode, Value) {
    app.admin(Method::PUT, "/loyalty/program", Some(body)).await
}

fn gold_program() -> Value {
    json!({"enabled": true, "pointsPerCurrencyUnit": 2, "redemptionRate": 5, "tiers": [
        {"name": "GOLD", "minLifetimePoints": 5000},
        {"name": "BRONZE", "minLifetimePoints": 0},
        {"name": "SILVER", "minLifetimePoints": 1000}]})
}

async fn points(app: &TestApp, customer: &str, action: &str, body: Value) -> (StatusCode, Value) {
    app.admin(
        Method::POST,
        &format!("/loyalty/{customer}/{action}"),
        Some(body),
    )
    .await
}

/// The balance, and what the ledger sums to.
async fn balance_and_ledger(app: &TestApp, customer: &str) -> (i64, i64) {
    let balance = app
        .count(&format!(
            "select coalesce((select points from loyalty_accounts where customer_id = '{customer}'), 0)"
        ))
        .await;
    let ledger = app
        .count(&format!(
            "select coalesce(sum(points), 0)::bigint from loyalty_transactions where customer_id = '{customer}'"
        ))
        .await;
    (balance, ledger)
}

#[tokio::test]
async fn the_program_keeps_its_rules_and_sorts_its_tiers() {
    let app = TestApp::spawn().await;
    let data = app.get("/loyalty/program").await["data"].clone();
    assert_eq!(data["enabled"], false);
    assert_eq!(data["updatedAt"], Value::Null);

    let (status, body) = program(&app, gold_program()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let names: Vec<String> = body["data"]["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| str_of(&t["name"]))
        .collect();
    assert_eq!(names, ["BRONZE", "SILVER", "GOLD"]);
    assert_eq!(
        app.get("/loyalty/program").await["data"]["redemptionRate"],
        5
    );

    let res = program(
        &app,
        json!({"enabled": true, "pointsPerCurrencyUnit": 1, "redemptionRate": 1,
            "tiers": [{"name": "Gold", "minLifetimePoints": 0}, {"name": "GOLD", "minLifetimePoints": 10}]}),
    )
    .await;
    assert_unprocessable(&res, "tiers[1].name");
    for bad in [
        json!({"enabled": true, "pointsPerCurrencyUnit": -1, "redemptionRate": 1}),
        json!({"enabled": true, "pointsPerCurrencyUnit": 1, "redemptionRate": 0}),
        json!({"enabled": true, "pointsPerCurrencyUnit": 1, "redemptionRate": 1, "tiers": [{"name": " ", "minLifetimePoints": 0}]}),
    ] {
        let res = program(&app, bad.clone()).await;
        assert_eq!(res.0, StatusCode::BAD_REQUEST, "{bad}: {}", res.1);
    }
    // Nothing of the refused programs was kept.
    assert_eq!(
        app.get("/loyalty/program").await["data"]["tiers"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // Configuring the program is for administrators; reading it needs read:loyalty.
    let reader = app
        .key(&app.site_id, &["read:loyalty", "write:loyalty"])
        .await;
    let res = app
        .call(
            Method::PUT,
            &app.api("/loyalty/program"),
            Some(&reader),
            Some(gold_program()),
        )
        .await;
    assert_eq!(res.0, StatusCode::FORBIDDEN, "{}", res.1);
    let res = app
        .call(
            Method::GET,
            &app.api("/loyalty/program"),
            Some(&reader),
            None,
        )
        .await;
    assert_eq!(res.0, StatusCode::OK, "{}", res.1);
}

#[tokio::test]
async fn awards_deductions_and_redemptions_with_tiers() {
    let app = TestApp::spawn().await;
    program(&app, gold_program()).await;
    let ana = customer(&app, "ana@example.com").await;
    let account = app.get(&format!("/loyalty/{ana}")).await["data"].clone();
    assert_eq!(account["points"], 0);
    assert_eq!(account["tier"], "BRONZE");
    assert_eq!(
        account["nextTier"],
        json!({"name": "SILVER", "pointsNeeded": 1000})
    );

    let (status, body) = points(
        &app,
        &ana,
        "award",
        json!({"points": 1500, "note": "Referral bonus"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["points"], 1500);
    assert_eq!(body["data"]["transaction"]["type"], "AWARD");
    let (_, body) = points(&app, &ana, "deduct", json!({"points": 200})).await;
    assert_eq!(body["data"]["points"], 1300);
    assert_eq!(body["data"]["transaction"]["points"], -200);

    let res = points(&app, &ana, "deduct", json!({"points": 1301})).await;
    assert_error(&res, StatusCode::CONFLICT, "INSUFFICIENT_POINTS");
    let (status, body) = points(&app, &ana, "redeem", json!({"points": 100})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // 100 points at 5 minor units each.
    assert_eq!(body["data"]["discountAmount"], 500);
    assert_eq!(body["data"]["pointsRemaining"], 1200);
    let res = points(&app, &ana, "redeem", json!({"points": 1201})).await;
    assert_error(&res, StatusCode::CONFLICT, "INSUFFICIENT_POINTS");

    // Tiers follow lifetime points (awards count; deductions and redemptions do not).
    let account = app.get(&format!("/loyalty/{ana}")).await["data"].clone();
    assert_eq!(account["points"], 1200);
    assert_eq!(account["lifetimePoints"], 1500);
    assert_eq!(account["tier"], "SILVER");
    assert_eq!(
        account["nextTier"],
        json!({"name": "GOLD", "pointsNeeded": 3500})
    );
    let types: Vec<String> = account["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| str_of(&t["type"]))
        .collect();
    assert_eq!(types, ["REDEEM", "DEDUCT", "AWARD"]);
    let page = app
        .get(&format!("/loyalty/{ana}/transactions?limit=2"))
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);

    // Bad input changes nothing.
    for (action, body) in [
        ("award", json!({"points": 0})),
        ("award", json!({"points": -5})),
        ("deduct", json!({"points": "ten"})),
        ("award", json!({"points": 1_000_000_000_001_i64})),
    ] {
        let res = points(&app, &ana, action, body.clone()).await;
        assert_eq!(res.0, StatusCode::BAD_REQUEST, "{action} {body}: {}", res.1);
    }
    let res = points(&app, "cust_nope", "award", json!({"points": 5})).await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = points(
        &app,
        &ana,
        "redeem",
        json!({"points": 5, "orderId": "order_nope"}),
    )
    .await;
    assert_unprocessable(&res, "orderId");
    assert_eq!(balance_and_ledger(&app, &ana).await, (1200, 1200));

    // A disabled program redeems nothing.
    program(
        &app,
        json!({"enabled": false, "pointsPerCurrencyUnit": 1, "redemptionRate": 1}),
    )
    .await;
    let res = points(&app, &ana, "redeem", json!({"points": 5})).await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    assert_eq!(balance_and_ledger(&app, &ana).await, (1200, 1200));
}

#[tokio::test]
async fn a_hundred_concurrent_deductions_never_take_points_below_zero() {
    let app = spawn_unlimited().await;
    let ana = customer(&app, "ana@example.com").await;
    points(&app, &ana, "award", json!({"points": 1000})).await;
    let deductions = (0..100).map(|_| points(&app, &ana, "deduct", json!({"points": 30})));
    let results = futures::future::join_all(deductions).await;
    let taken = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let refused = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CONFLICT)
        .count();
    assert_eq!(refused, 100 - taken, "{results:?}");
    assert_eq!(taken, 33);
    assert_eq!(balance_and_ledger(&app, &ana).await, (10, 10));
}
