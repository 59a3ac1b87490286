//! Store credit over HTTP: credits, debits that never go below zero (even 100 at once), voids that reverse a
//! transaction once, and a ledger that always sums to the balance.

mod common;

use common::{TestApp, assert_error, assert_unprocessable, str_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn customer(app: &TestApp) -> String {
    str_of(
        &app.post("/customers", json!({"email": "ana@example.com"}))
            .await["data"]["id"],
    )
}

async fn adjust(app: &TestApp, customer: &str, body: Value) -> (StatusCode, Value) {
    app.admin(
        Method::POST,
        &format!("/store-credit/{customer}"),
        Some(body),
    )
    .await
}

/// The balance, and what the ledger sums to (credits up, debits down, voids reversing).
async fn balance_and_ledger(app: &TestApp, customer: &str) -> (i64, i64) {
    let balance = app
        .count(&format!(
            "select coalesce((select balance from store_credit_accounts where customer_id = '{customer}'), 0)"
        ))
        .await;
    let ledger = app
        .count(&format!(
            "select coalesce(sum(case t.type when 'CREDIT' then t.amount when 'DEBIT' then -t.amount \
             else (case o.type when 'CREDIT' then -t.amount else t.amount end) end), 0)::bigint \
             from store_credit_transactions t left join store_credit_transactions o \
             on o.site_id = t.site_id and o.id = t.voids where t.customer_id = '{customer}'"
        ))
        .await;
    (balance, ledger)
}

#[tokio::test]
async fn credits_and_debits_move_the_balance_never_below_zero() {
    let app = TestApp::spawn().await;
    let ana = customer(&app).await;
    let account = app.get(&format!("/store-credit/{ana}")).await;
    assert_eq!(account["data"]["balance"], 0);
    assert_eq!(account["data"]["transactions"], json!([]));

    let (status, body) = adjust(
        &app,
        &ana,
        json!({"type": "CREDIT", "amount": 5000, "note": "Welcome bonus"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["balance"], 5000);
    assert_eq!(body["data"]["transaction"]["type"], "CREDIT");
    let (_, body) = adjust(&app, &ana, json!({"type": "DEBIT", "amount": 1500})).await;
    assert_eq!(body["data"]["balance"], 3500);

    let res = adjust(&app, &ana, json!({"type": "DEBIT", "amount": 3501})).await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    assert!(str_of(&res.1["error"]).contains("3500"), "{}", res.1);
    for body in [
        json!({"type": "DEBIT", "amount": 0}),
        json!({"type": "CREDIT", "amount": -1}),
        json!({"type": "REFUND", "amount": 1}),
    ] {
        let res = adjust(&app, &ana, body.clone()).await;
        assert_eq!(res.0, StatusCode::BAD_REQUEST, "{body}: {}", res.1);
    }
    let res = adjust(
        &app,
        &ana,
        json!({"type": "CREDIT", "amount": 1, "orderId": "ord_nope"}),
    )
    .await;
    assert_unprocessable(&res, "orderId");
    let res = adjust(&app, "cus_nope", json!({"type": "CREDIT", "amount": 1})).await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert_eq!(balance_and_ledger(&app, &ana).await, (3500, 3500));

    let account = app.get(&format!("/store-credit/{ana}")).await["data"].clone();
    assert_eq!(account["balance"], 3500);
    let types: Vec<String> = account["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| str_of(&t["type"]))
        .collect();
    assert_eq!(types, ["DEBIT", "CREDIT"], "newest first");
    let page = app
        .get(&format!("/store-credit/{ana}/transactions?limit=1"))
        .await;
    assert_eq!(page["items"][0]["type"], "DEBIT");
    assert_eq!(page["pagination"]["total"], 2);
}

#[tokio::test]
async fn a_void_reverses_a_transaction_once_and_only_if_the_balance_allows() {
    let app = TestApp::spawn().await;
    let ana = customer(&app).await;
    let (_, credit) = adjust(&app, &ana, json!({"type": "CREDIT", "amount": 3000})).await;
    let (_, debit) = adjust(&app, &ana, json!({"type": "DEBIT", "amount": 2000})).await;
    let void = |id: Value| {
        let app = &app;
        let ana = ana.clone();
        async move {
            app.admin(
                Method::POST,
                &format!("/store-credit/{ana}/transactions/{}/void", str_of(&id)),
                None,
            )
            .await
        }
    };
    // The credit was partly spent: voiding it would go below zero.
    let res = void(credit["data"]["transaction"]["id"].clone()).await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    // Voiding the debit gives the money back, once.
    let (status, body) = void(debit["data"]["transaction"]["id"].clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["balance"], 3000);
    assert_eq!(body["data"]["transaction"]["type"], "VOID");
    assert_eq!(
        body["data"]["transaction"]["voids"],
        debit["data"]["transaction"]["id"]
    );
    let res = void(debit["data"]["transaction"]["id"].clone()).await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    let res = void(body["data"]["transaction"]["id"].clone()).await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    let res = void(json!("sct_nope")).await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    // Now the credit can be voided.
    let (_, body) = void(credit["data"]["transaction"]["id"].clone()).await;
    assert_eq!(body["data"]["balance"], 0);
    assert_eq!(balance_and_ledger(&app, &ana).await, (0, 0));
}

#[tokio::test]
async fn concurrent_debits_never_spend_the_same_money() {
    let app = TestApp::spawn().await;
    let ana = customer(&app).await;
    adjust(&app, &ana, json!({"type": "CREDIT", "amount": 5000})).await;
    let debits = (0..100).map(|_| adjust(&app, &ana, json!({"type": "DEBIT", "amount": 100})));
    let results = futures::future::join_all(debits).await;
    let ok = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let refused = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CONFLICT)
        .count();
    assert_eq!((ok, refused), (50, 50), "{results:?}");
    assert_eq!(balance_and_ledger(&app, &ana).await, (0, 0));
}

#[tokio::test]
async fn store_credit_scopes_are_required_and_sites_are_apart() {
    let app = TestApp::spawn().await;
    let ana = customer(&app).await;
    let reader = app.key(&app.site_id, &["read:store-credit"]).await;
    let url = app.api(&format!("/store-credit/{ana}"));
    let (status, _) = app.call(Method::GET, &url, Some(&reader), None).await;
    assert_eq!(status, StatusCode::OK);
    let res = app
        .call(
            Method::POST,
            &url,
            Some(&reader),
            Some(json!({"type": "CREDIT", "amount": 1})),
        )
        .await;
    assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    let other = app.create_site("Other").await;
    let other_key = app.key(&other, &["admin:*"]).await;
    let url = format!("{}/api/v1/{other}/store-credit/{ana}", app.url);
    let res = app
        .call(
            Method::POST,
            &url,
            Some(&other_key),
            Some(json!({"type": "CREDIT", "amount": 1})),
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert_eq!(balance_and_ledger(&app, &ana).await, (0, 0));
}
