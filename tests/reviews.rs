//! Reviews over HTTP: submission (PENDING unless the site auto-approves), verified purchases from orders,
//! moderation that keeps the product's rating summary, browsers limited to published reviews, bad input.

mod common;

use common::{TestApp, assert_error, str_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shopvo::domain::keys;

async fn review(app: &TestApp, product: &str, body: Value) -> (StatusCode, Value) {
    app.admin(
        Method::POST,
        &format!("/products/{product}/reviews"),
        Some(body),
    )
    .await
}

fn by(email: &str, rating: i64) -> Value {
    json!({"rating": rating, "title": "Nice", "content": "Does what it says.", "reviewerName": "Jane Smith",
        "reviewerEmail": email})
}

async fn summary(app: &TestApp, product: &str) -> (Value, Value) {
    let p = app.get(&format!("/products/{product}")).await["data"].clone();
    (p["averageRating"].clone(), p["reviewCount"].clone())
}

async fn moderate(app: &TestApp, id: &str, status: &str) -> Value {
    let (code, body) = app
        .admin(
            Method::PATCH,
            &format!("/reviews/{id}"),
            Some(json!({"status": status})),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    body["data"].clone()
}

#[tokio::test]
async fn reviews_wait_for_moderation_and_move_the_rating_summary() {
    let app = TestApp::spawn().await;
    let product = str_of(&app.product(json!({"name": "Chair", "price": 9000})).await["id"]);
    assert_eq!(summary(&app, &product).await, (Value::Null, json!(0)));

    let mut ids = Vec::new();
    for (email, rating) in [
        ("a@example.com", 5),
        ("b@example.com", 4),
        ("c@example.com", 5),
    ] {
        let (status, body) = review(&app, &product, by(email, rating)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["data"]["status"], "PENDING");
        assert!(body["data"].get("reviewerEmail").is_none(), "{body}");
        ids.push(str_of(&body["data"]["id"]));
    }
    // Pending reviews are not listed by default nor counted.
    let list = app.get(&format!("/products/{product}/reviews")).await;
    assert_eq!(list["items"], json!([]));
    let queue = app.get("/reviews?status=PENDING").await;
    assert_eq!(queue["items"].as_array().unwrap().len(), 3);
    assert_eq!(summary(&app, &product).await, (Value::Null, json!(0)));

    for id in &ids {
        moderate(&app, id, "PUBLISHED").await;
    }
    // 14 / 3 = 4.666… → 4.67
    assert_eq!(summary(&app, &product).await, (json!(4.67), json!(3)));
    moderate(&app, &ids[1], "SPAM").await;
    moderate(&app, &ids[1], "SPAM").await;
    assert_eq!(summary(&app, &product).await, (json!(5.0), json!(2)));
    let (status, _) = app
        .admin(Method::DELETE, &format!("/reviews/{}", ids[0]), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(summary(&app, &product).await, (json!(5.0), json!(1)));
    let list = app.get(&format!("/products/{product}/reviews")).await;
    assert_eq!(list["pagination"]["total"], 1);
    // The list and the product agree with the table.
    let published = app
        .count("select count(*) from reviews where status = 'PUBLISHED'")
        .await;
    assert_eq!(published, 1);

    // One review per reviewer and product.
    let res = review(&app, &product, by("C@example.com", 3)).await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    // An event for each submission.
    let events = app
        .count("select count(*) from events where type = 'review.created'")
        .await;
    assert_eq!(events, 3);
}

#[tokio::test]
async fn auto_approval_verified_purchases_and_bad_input() {
    let app = TestApp::spawn().await;
    let product = str_of(&app.product(json!({"name": "Desk", "price": 20000})).await["id"]);
    let (status, body) = app
        .admin(
            Method::PATCH,
            "/site",
            Some(json!({"reviewsAutoApprove": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["reviewsAutoApprove"], true);

    // An order of the product by this email makes the review a verified purchase.
    sqlx::query(
        "insert into orders (site_id, id, number, email, currency, subtotal, discount, shipping, tax, total, payment_method) \
         values ($1, 'order_r1', 1, 'buyer@example.com', 'EUR', 20000, 0, 0, 0, 20000, 'manual')",
    )
    .bind(&app.site_id)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into order_items (site_id, id, order_id, product_id, variant_id, name, quantity, unit_price, total) \
         select $1, 'oi_r1', 'order_r1', $2, v.id, 'Desk', 1, 20000, 20000 from variants v where v.product_id = $2",
    )
    .bind(&app.site_id)
    .bind(&product)
    .execute(&app.pool)
    .await
    .unwrap();
    let (_, body) = review(&app, &product, by("Buyer@Example.com", 4)).await;
    assert_eq!(body["data"]["status"], "PUBLISHED");
    assert_eq!(body["data"]["isVerifiedPurchase"], true);
    let (_, body) = review(&app, &product, by("other@example.com", 2)).await;
    assert_eq!(body["data"]["isVerifiedPurchase"], false);
    assert_eq!(summary(&app, &product).await, (json!(3.0), json!(2)));

    for bad in [
        by("x@example.com", 0),
        by("x@example.com", 6),
        by("not-an-email", 3),
        json!({"rating": 3, "content": " ", "reviewerName": "X", "reviewerEmail": "x@example.com"}),
        json!({"rating": 3, "content": "ok", "reviewerEmail": "x@example.com"}),
    ] {
        let res = review(&app, &product, bad.clone()).await;
        assert_eq!(res.0, StatusCode::BAD_REQUEST, "{bad}: {}", res.1);
    }
    let res = review(&app, "prd_nope", by("x@example.com", 3)).await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert_eq!(app.count("select count(*) from reviews").await, 2);
}

#[tokio::test]
async fn browsers_read_published_reviews_of_active_products_only() {
    let app = TestApp::spawn().await;
    let product = str_of(&app.product(json!({"name": "Lamp", "price": 3000})).await["id"]);
    let draft = str_of(
        &app.product(json!({"name": "Secret", "price": 3000, "status": "DRAFT"}))
            .await["id"],
    );
    let (_, body) = review(&app, &product, by("a@example.com", 5)).await;
    moderate(&app, &str_of(&body["data"]["id"]), "PUBLISHED").await;
    let new = keys::NewKey {
        scopes: vec![],
        publishable: true,
        test: false,
        signing: false,
        require_request_signature: false,
        name: None,
        expires_at: None,
    };
    let pk = keys::create(
        &mut app.pool.acquire().await.unwrap(),
        &app.server_key,
        &app.site_id,
        new,
    )
    .await
    .unwrap()
    .plaintext;
    let url = app.api(&format!("/products/{product}/reviews"));
    let (status, body) = app.call(Method::GET, &url, Some(&pk), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    let res = app
        .call(
            Method::GET,
            &format!("{url}?status=PENDING"),
            Some(&pk),
            None,
        )
        .await;
    assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    let res = app
        .call(
            Method::GET,
            &app.api(&format!("/products/{draft}/reviews")),
            Some(&pk),
            None,
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    // Submitting needs write:catalog.
    let res = app
        .call(Method::POST, &url, Some(&pk), Some(by("b@example.com", 4)))
        .await;
    assert_eq!(res.0, StatusCode::FORBIDDEN, "{}", res.1);
}
