//! Gift cards over HTTP: issue, look up, redeem in parts, void for good; the balance never goes below zero,
//! even under 100 concurrent redemptions, and the ledger always sums to it.

mod common;

use common::{TestApp, assert_error, assert_unprocessable, str_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn issue(app: &TestApp, body: Value) -> Value {
    app.post("/gift-cards", body).await["data"].clone()
}

async fn redeem(app: &TestApp, id: &str, body: Value) -> (StatusCode, Value) {
    app.admin(
        Method::POST,
        &format!("/gift-cards/{id}/redeem"),
        Some(body),
    )
    .await
}

/// The card's balance, and what its ledger sums to.
async fn balance_and_ledger(app: &TestApp, id: &str) -> (i64, i64) {
    let balance = app
        .count(&format!("select balance from gift_cards where id = '{id}'"))
        .await;
    let ledger = app
        .count(&format!(
            "select coalesce(sum(amount), 0)::bigint from gift_card_transactions where gift_card_id = '{id}'"
        ))
        .await;
    (balance, ledger)
}

#[tokio::test]
async fn cards_are_issued_with_unambiguous_codes_and_found_by_filter() {
    let app = TestApp::spawn().await;
    let card = issue(
        &app,
        json!({"initialBalance": 5000, "note": "Birthday gift"}),
    )
    .await;
    let code = str_of(&card["code"]);
    let (left, right) = code.strip_prefix("GIFT-").unwrap().split_once('-').unwrap();
    for part in [left, right] {
        assert_eq!(part.len(), 4, "{code}");
        assert!(
            part.chars()
                .all(|c| "ABCDEFGHJKMNPQRSTUVWXYZ23456789".contains(c)),
            "{code}"
        );
    }
    assert_eq!(card["initialBalance"], 5000);
    assert_eq!(card["remainingBalance"], 5000);
    assert_eq!(card["status"], "ACTIVE");
    assert_eq!(card["currency"], "EUR");

    // A given code is kept in upper case, and unique per site.
    let customer = app
        .post(
            "/customers",
            json!({"email": "ana@example.com", "firstName": "Ana"}),
        )
        .await["data"]["id"]
        .clone();
    let named = issue(
        &app,
        json!({"code": "spring-2026", "initialBalance": 2000, "customerId": customer}),
    )
    .await;
    assert_eq!(named["code"], "SPRING-2026");
    let again = app
        .admin(
            Method::POST,
            "/gift-cards",
            Some(json!({"code": "Spring-2026", "initialBalance": 1})),
        )
        .await;
    assert_error(&again, StatusCode::CONFLICT, "CONFLICT");
    assert!(
        !again.1.to_string().contains("SPRING-2026"),
        "codes stay out of errors: {}",
        again.1
    );

    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| str_of(&c["id"]))
            .collect()
    };
    let by_code = app.get("/gift-cards?code=spring-2026").await;
    assert_eq!(ids(&by_code), [str_of(&named["id"])]);
    let by_customer = app
        .get(&format!("/gift-cards?customerId={}", str_of(&customer)))
        .await;
    assert_eq!(ids(&by_customer), [str_of(&named["id"])]);
    let all = app.get("/gift-cards").await;
    assert_eq!(ids(&all), [str_of(&card["id"]), str_of(&named["id"])]);
    assert_eq!(all["pagination"]["total"], 2);
    let fetched = app
        .get(&format!("/gift-cards/{}", str_of(&card["id"])))
        .await;
    assert_eq!(fetched["data"]["code"], card["code"]);

    // Bad input changes nothing.
    for body in [
        json!({"initialBalance": 0}),
        json!({"initialBalance": -5}),
        json!({"initialBalance": 100, "code": "no spaces!"}),
    ] {
        let res = app
            .admin(Method::POST, "/gift-cards", Some(body.clone()))
            .await;
        assert_eq!(res.0, StatusCode::BAD_REQUEST, "{body}: {}", res.1);
    }
    let res = app
        .admin(
            Method::POST,
            "/gift-cards",
            Some(json!({"initialBalance": 100, "customerId": "cus_nope"})),
        )
        .await;
    assert_unprocessable(&res, "customerId");
    assert_eq!(app.count("select count(*) from gift_cards").await, 2);
}

#[tokio::test]
async fn redemptions_take_the_balance_down_to_zero_and_never_past_it() {
    let app = TestApp::spawn().await;
    let card = issue(&app, json!({"initialBalance": 5000})).await;
    let id = str_of(&card["id"]);

    let (status, body) = redeem(&app, &id, json!({"amount": 2500})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["remainingBalance"], 2500);
    assert_eq!(body["data"]["status"], "ACTIVE");

    let res = redeem(&app, &id, json!({"amount": 2501})).await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    assert!(str_of(&res.1["error"]).contains("2500"), "{}", res.1);
    for amount in [0, -1] {
        let res = redeem(&app, &id, json!({"amount": amount})).await;
        assert_eq!(res.0, StatusCode::BAD_REQUEST, "{}", res.1);
    }
    let res = redeem(&app, &id, json!({"amount": 10, "orderId": "ord_nope"})).await;
    assert_unprocessable(&res, "orderId");
    let res = redeem(&app, "gc_nope", json!({"amount": 10})).await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert_eq!(balance_and_ledger(&app, &id).await, (2500, 2500));

    let (_, body) = redeem(&app, &id, json!({"amount": 2500})).await;
    assert_eq!(body["data"]["remainingBalance"], 0);
    assert_eq!(body["data"]["status"], "REDEEMED");
    let redeemed = app.get("/gift-cards?status=REDEEMED").await;
    assert_eq!(redeemed["items"][0]["id"], card["id"]);
    assert_eq!(balance_and_ledger(&app, &id).await, (0, 0));

    let ledger = app.get(&format!("/gift-cards/{id}/transactions")).await;
    let kinds: Vec<(String, i64)> = ledger["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (str_of(&t["kind"]), t["amount"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("ISSUE".into(), 5000),
            ("REDEEM".into(), -2500),
            ("REDEEM".into(), -2500)
        ]
    );
}

#[tokio::test]
async fn void_is_final_and_expired_cards_cannot_be_spent() {
    let app = TestApp::spawn().await;
    let card = issue(&app, json!({"initialBalance": 1000})).await;
    let id = str_of(&card["id"]);
    let path = format!("/gift-cards/{id}");

    // Expiry in the past: EXPIRED, and not spendable; moved to the future, ACTIVE again.
    let (status, body) = app
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"expiresAt": "2020-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "EXPIRED");
    let res = redeem(&app, &id, json!({"amount": 100})).await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    assert!(str_of(&res.1["error"]).contains("expired"), "{}", res.1);
    let (_, body) = app
        .admin(Method::PATCH, &path, Some(json!({"expiresAt": null})))
        .await;
    assert_eq!(body["data"]["status"], "ACTIVE");
    assert_eq!(body["data"]["expiresAt"], Value::Null);

    let (status, body) = app
        .admin(Method::PATCH, &path, Some(json!({"status": "VOID"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "VOID");
    let res = redeem(&app, &id, json!({"amount": 100})).await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    assert!(str_of(&res.1["error"]).contains("void"), "{}", res.1);
    for change in [
        json!({"status": "VOID"}),
        json!({"expiresAt": "2030-01-01T00:00:00Z"}),
    ] {
        let res = app.admin(Method::PATCH, &path, Some(change)).await;
        assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    }
    // Only VOID can be set.
    let res = app
        .admin(Method::PATCH, &path, Some(json!({"status": "ACTIVE"})))
        .await;
    assert_eq!(res.0, StatusCode::BAD_REQUEST, "{}", res.1);
    assert_eq!(balance_and_ledger(&app, &id).await, (1000, 1000));
}

#[tokio::test]
async fn concurrent_redemptions_never_spend_the_same_money() {
    let app = TestApp::spawn().await;
    let card = issue(&app, json!({"initialBalance": 5000})).await;
    let id = str_of(&card["id"]);
    let attempts = (0..100).map(|_| redeem(&app, &id, json!({"amount": 100})));
    let results = futures::future::join_all(attempts).await;
    let ok = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let refused = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, refused), (50, 50), "{results:?}");
    assert_eq!(balance_and_ledger(&app, &id).await, (0, 0));
    assert_eq!(
        app.count(&format!(
            "select count(*) from gift_card_transactions where gift_card_id = '{id}' and kind = 'REDEEM'"
        ))
        .await,
        50
    );
}

#[tokio::test]
async fn gift_card_scopes_are_required() {
    let app = TestApp::spawn().await;
    let card = issue(&app, json!({"initialBalance": 1000})).await;
    let id = str_of(&card["id"]);
    let reader = app.key(&app.site_id, &["read:gift-cards"]).await;
    let catalog = app.key(&app.site_id, &["read:catalog"]).await;
    let (status, _) = app
        .call(Method::GET, &app.api("/gift-cards"), Some(&reader), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let res = app
        .call(
            Method::POST,
            &app.api(&format!("/gift-cards/{id}/redeem")),
            Some(&reader),
            Some(json!({"amount": 1})),
        )
        .await;
    assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    let res = app
        .call(Method::GET, &app.api("/gift-cards"), Some(&catalog), None)
        .await;
    assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    // Another site's card is not found here.
    let other = app.create_site("Other").await;
    let other_key = app.key(&other, &["admin:*"]).await;
    let url = format!("{}/api/v1/{other}/gift-cards/{id}", app.url);
    let res = app.call(Method::GET, &url, Some(&other_key), None).await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert_eq!(balance_and_ledger(&app, &id).await, (1000, 1000));
}

#[tokio::test]
async fn a_cards_life_is_told_in_events_that_never_carry_its_code() {
    let app = TestApp::spawn().await;
    let card = issue(
        &app,
        json!({"initialBalance": 1000, "code": "SPRING-2026-ABCD"}),
    )
    .await;
    let id = str_of(&card["id"]);
    let (status, _) = redeem(&app, &id, json!({"amount": 300})).await;
    assert_eq!(status, StatusCode::OK);
    let path = format!("/gift-cards/{id}");
    for change in [
        json!({"expiresAt": "2030-01-01T00:00:00Z"}),
        json!({"status": "VOID"}),
    ] {
        let (status, body) = app.admin(Method::PATCH, &path, Some(change)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // A refused redemption records nothing.
    let res = redeem(&app, &id, json!({"amount": 100})).await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");

    let events: Vec<(String, Value)> = sqlx::query_as(
        "select type, payload from events where type like 'gift_card.%' order by created_at, id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let types: Vec<&str> = events.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        types,
        [
            "gift_card.created",
            "gift_card.redeemed",
            "gift_card.updated",
            "gift_card.voided"
        ]
    );
    let data = |i: usize| events[i].1.get("data").unwrap_or(&events[i].1).clone();
    assert_eq!(data(0)["lastCharacters"], "ABCD");
    assert_eq!(data(0)["balance"], 1000);
    assert_eq!(data(1)["amount"], 300);
    assert_eq!(data(1)["balance"], 700);
    assert_eq!(data(1)["orderId"], Value::Null);
    assert_eq!(data(2)["expiresAt"], "2030-01-01T00:00:00Z");
    assert_eq!(data(3)["status"], "VOID");
    for (_, payload) in &events {
        assert!(
            !payload.to_string().contains("SPRING-2026"),
            "an event carries the code: {payload}"
        );
    }
}
