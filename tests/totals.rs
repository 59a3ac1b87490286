//! Offset totals cost at most the threshold: exact up to `EXACT_TOTAL_UP_TO` matches, and past it the
//! planner's estimate with `pagination.totalIsEstimate: true`. Offset pages stop at `MAX_OFFSET`.

mod common;

use common::TestApp;
use reqwest::Method;
use serde_json::json;
use shopvo::domain::pagination::{ESTIMATE_KEPT_FOR, EXACT_TOTAL_UP_TO, MAX_OFFSET};

/// Inserts products `from..=to` (active) straight into the table (the API would take minutes for this many).
async fn bulk_products(app: &TestApp, from: i64, to: i64) {
    sqlx::query(
        "insert into products (site_id, id, slug, name, price) \
         select $1, 'prd_bulk' || i, 'bulk-' || i, 'Bulk ' || i, 100 from generate_series($2, $3) as i",
    )
    .bind(&app.site_id)
    .bind(from)
    .bind(to)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("analyze products")
        .execute(&app.pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn totals_are_exact_up_to_the_threshold_and_flagged_past_it() {
    let app = TestApp::spawn().await;
    bulk_products(&app, 1, EXACT_TOTAL_UP_TO).await;
    let body = app.get("/products?limit=1").await;
    assert_eq!(body["pagination"]["total"], EXACT_TOTAL_UP_TO, "{body}");
    assert_eq!(body["pagination"]["totalIsEstimate"], false);
    assert_eq!(body["pagination"]["totalPages"], EXACT_TOTAL_UP_TO);

    // One more match: the count stops, and the answer says the total is an estimate.
    app.product(json!({"name": "One more", "price": 100})).await;
    let body = app.get("/products?limit=100").await;
    let total = body["pagination"]["total"].as_i64().unwrap();
    assert!(total > EXACT_TOTAL_UP_TO, "{}", body["pagination"]);
    assert_eq!(body["pagination"]["totalIsEstimate"], true);
    assert_eq!(body["items"].as_array().unwrap().len(), 100);

    bulk_products(&app, EXACT_TOTAL_UP_TO + 1, MAX_OFFSET).await;
    // Offset pages reach the first MAX_OFFSET items and the page that starts there; deeper is a 422 pointing
    // at the cursor.
    let body = app.get("/products?limit=100&page=101").await;
    assert_eq!(
        body["items"].as_array().unwrap().len(),
        1,
        "{}",
        body["pagination"]
    );
    let res = app
        .admin(Method::GET, "/products?limit=100&page=102", None)
        .await;
    common::assert_unprocessable(&res, "page");
    assert!(
        res.1["error"].as_str().unwrap().contains("cursor"),
        "{}",
        res.1
    );

    // A filter that matches few rows is exact again.
    let body = app.get("/products?search=more").await;
    assert_eq!(body["pagination"]["total"], 1, "{body}");
    assert_eq!(body["pagination"]["totalIsEstimate"], false);
}

/// A list estimated a moment ago is neither counted nor planned again: its estimate is remembered for
/// `ESTIMATE_KEPT_FOR` (rows deleted meanwhile do not show), and the list is counted afresh after it.
#[tokio::test]
async fn an_estimated_total_is_remembered_for_a_few_seconds() {
    let app = TestApp::spawn().await;
    bulk_products(&app, 1, EXACT_TOTAL_UP_TO + 1).await;
    // Each request asks for another limit, so that no response cache answers: the total's list is the same.
    let body = app.get("/products?limit=5").await;
    assert_eq!(body["pagination"]["totalIsEstimate"], true, "{body}");
    let estimate = body["pagination"]["total"].clone();

    sqlx::query("delete from products where site_id = $1 and id <> 'prd_bulk1'")
        .bind(&app.site_id)
        .execute(&app.pool)
        .await
        .unwrap();
    let body = app.get("/products?limit=6").await;
    assert_eq!(body["pagination"]["totalIsEstimate"], true, "{body}");
    assert_eq!(body["pagination"]["total"], estimate);
    assert_eq!(
        body["items"].as_array().unwrap().len(),
        1,
        "the page itself is read live"
    );

    tokio::time::sleep(ESTIMATE_KEPT_FOR + std::time::Duration::from_millis(200)).await;
    let body = app.get("/products?limit=7").await;
    assert_eq!(body["pagination"]["totalIsEstimate"], false, "{body}");
    assert_eq!(body["pagination"]["total"], 1);
}
