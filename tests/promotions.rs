//! Promotions over HTTP: CRUD and validation, derived status, the public `/promotions/validate` with each
//! reason and its per-IP rate limit, and codes on carts; and the wire shapes of shipping methods and tax
//! rates. Every test checks the database as well.

mod common;

use common::{TestApp, assert_error, spawn_unlimited as spawn, start_of_a_window, str_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

/// Asserts a 400 `VALIDATION_ERROR` whose first detail names `field`.
#[track_caller]
fn assert_invalid(res: &(StatusCode, Value), field: &str) {
    assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(res.1["details"][0]["field"], field, "body: {}", res.1);
}

/// Creates a promotion; returns its `data`.
async fn create(app: &TestApp, body: Value) -> Value {
    app.post("/promotions", body).await["data"].clone()
}

async fn create_res(app: &TestApp, body: Value) -> (StatusCode, Value) {
    app.admin(Method::POST, "/promotions", Some(body)).await
}

/// Runs SQL against the test database.
async fn exec(app: &TestApp, sql: &str) {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&app.pool)
        .await
        .unwrap();
}

/// `POST /promotions/validate` on `site` with no Authorization header.
async fn validate_on(app: &TestApp, site: &str, body: Value) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        &format!("{}/api/v1/{site}/promotions/validate", app.url),
        None,
        Some(body),
    )
    .await
}

/// A public validation on the test site that must answer 200; returns the body.
async fn validate(app: &TestApp, body: Value) -> Value {
    let (status, res) = validate_on(app, &app.site_id, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}: {res}");
    assert_eq!(res["success"], true, "{res}");
    res
}

/// Asserts an invalid result with this reason and no discount.
#[track_caller]
fn assert_reason(res: &Value, reason: &str) {
    assert_eq!(res["valid"], false, "{res}");
    assert_eq!(res["reason"], reason, "{res}");
    assert_eq!(res["discount"], 0, "{res}");
}

/// The codes of a promotions list.
fn codes(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {body}"))
        .iter()
        .map(|p| str_of(&p["code"]))
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// CRUD and validation
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn create_read_list_and_delete() {
    let app = spawn().await;
    let p = create(
        &app,
        json!({"code": "WELCOME20", "type": "PERCENTAGE", "value": 20, "minOrderAmount": 1000,
            "maxUses": 500, "expiresAt": "2099-12-31T23:59:59Z"}),
    )
    .await;
    let id = str_of(&p["id"]);
    assert!(id.starts_with("promo_"), "{p}");
    assert_eq!(p["code"], "WELCOME20");
    assert_eq!(p["type"], "PERCENTAGE");
    assert_eq!(p["value"], 20);
    assert_eq!(p["status"], "ACTIVE");
    assert_eq!(p["usedCount"], 0);
    assert_eq!(p["minOrderAmount"], 1000);
    assert_eq!(p["maxUses"], 500);
    assert_eq!(p["perCustomerLimit"], Value::Null);
    assert_eq!(p["expiresAt"], "2099-12-31T23:59:59Z");
    assert_eq!(
        app.count(&format!(
            "select count(*) from promotions where id = '{id}' and code = 'WELCOME20' and type = 'PERCENTAGE' \
             and value = 20 and min_order_amount = 1000 and max_uses = 500 and used_count = 0"
        ))
        .await,
        1
    );
    let free = create(&app, json!({"code": "SHIPFREE", "type": "FREE_SHIPPING"})).await;
    assert_eq!(free["value"], 0);
    create(
        &app,
        json!({"code": "FIVER", "type": "FIXED_AMOUNT", "value": 500}),
    )
    .await;

    let got = app.get(&format!("/promotions/{id}")).await;
    assert_eq!(got["data"]["code"], "WELCOME20");
    let list = app.get("/promotions").await;
    assert_eq!(codes(&list), ["WELCOME20", "SHIPFREE", "FIVER"]);
    assert_eq!(list["pagination"]["total"], 3);
    let page = app.get("/promotions?limit=2&page=2").await;
    assert_eq!(codes(&page), ["FIVER"]);
    let cursor = app.get(&format!("/promotions?cursor={id}&limit=1")).await;
    assert_eq!(codes(&cursor), ["SHIPFREE"]);
    assert_eq!(cursor["hasNextPage"], true);

    let (status, body) = app
        .admin(Method::DELETE, &format!("/promotions/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["deleted"], true);
    let res = app
        .admin(Method::GET, &format!("/promotions/{id}"), None)
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = app
        .admin(Method::DELETE, &format!("/promotions/{id}"), None)
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert_eq!(app.count("select count(*) from promotions").await, 2);

    // Another site's promotion is not found here.
    let other = app.create_site("Other").await;
    let other_key = app.key(&other, &["admin:*"]).await;
    let free_id = str_of(&free["id"]);
    let res = app
        .call(
            Method::DELETE,
            &format!("{}/api/v1/{other}/promotions/{free_id}", app.url),
            Some(&other_key),
            None,
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert_eq!(app.count("select count(*) from promotions").await, 2);
}

#[tokio::test]
async fn codes_are_unique_per_site_case_insensitively() {
    let app = spawn().await;
    create(
        &app,
        json!({"code": "WELCOME20", "type": "PERCENTAGE", "value": 20}),
    )
    .await;
    for code in ["welcome20", "Welcome20", " WELCOME20 "] {
        let res = create_res(
            &app,
            json!({"code": code, "type": "FIXED_AMOUNT", "value": 100}),
        )
        .await;
        assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    }
    assert_eq!(app.count("select count(*) from promotions").await, 1);
    // Another site may use the same code.
    let other = app.create_site("Other").await;
    let other_key = app.key(&other, &["admin:*"]).await;
    let res = app
        .call(
            Method::POST,
            &format!("{}/api/v1/{other}/promotions", app.url),
            Some(&other_key),
            Some(json!({"code": "welcome20", "type": "PERCENTAGE", "value": 5})),
        )
        .await;
    assert_eq!(res.0, StatusCode::CREATED, "{}", res.1);
    assert_eq!(app.count("select count(*) from promotions").await, 2);
}

#[tokio::test]
async fn bad_promotions_are_refused_and_change_nothing() {
    let app = spawn().await;
    let cases = [
        (
            json!({"code": "P0", "type": "PERCENTAGE", "value": 0}),
            "value",
        ),
        (
            json!({"code": "P101", "type": "PERCENTAGE", "value": 101}),
            "value",
        ),
        (json!({"code": "P", "type": "PERCENTAGE"}), "value"),
        (
            json!({"code": "F0", "type": "FIXED_AMOUNT", "value": 0}),
            "value",
        ),
        (
            json!({"code": "FN", "type": "FIXED_AMOUNT", "value": -5}),
            "value",
        ),
        (
            json!({"code": "S5", "type": "FREE_SHIPPING", "value": 5}),
            "value",
        ),
        (
            json!({"code": "P1.5", "type": "PERCENTAGE", "value": 1.5}),
            "value",
        ),
        (
            json!({"code": "WINDOW", "type": "PERCENTAGE", "value": 10,
                "startsAt": "2030-02-01T00:00:00Z", "expiresAt": "2030-01-01T00:00:00Z"}),
            "expiresAt",
        ),
        (
            json!({"code": "SAME", "type": "PERCENTAGE", "value": 10,
                "startsAt": "2030-01-01T00:00:00Z", "expiresAt": "2030-01-01T00:00:00Z"}),
            "expiresAt",
        ),
        (
            json!({"code": "HAS SPACE", "type": "PERCENTAGE", "value": 10}),
            "code",
        ),
        (
            json!({"code": "", "type": "PERCENTAGE", "value": 10}),
            "code",
        ),
        (
            json!({"code": "X".repeat(65), "type": "PERCENTAGE", "value": 10}),
            "code",
        ),
        (
            json!({"code": "BOGO", "type": "BUY_ONE_GET_ONE", "value": 10}),
            "type",
        ),
        (
            json!({"code": "M0", "type": "PERCENTAGE", "value": 10, "maxUses": 0}),
            "maxUses",
        ),
        (
            json!({"code": "C0", "type": "PERCENTAGE", "value": 10, "perCustomerLimit": 0}),
            "perCustomerLimit",
        ),
        (
            json!({"code": "MIN", "type": "PERCENTAGE", "value": 10, "minOrderAmount": -1}),
            "minOrderAmount",
        ),
        (
            json!({"code": "D", "type": "PERCENTAGE", "value": 10, "expiresAt": "next year"}),
            "expiresAt",
        ),
        (
            json!({"code": "U", "type": "PERCENTAGE", "value": 10, "usedCount": 3}),
            "usedCount",
        ),
    ];
    // Well-formed values that break a rule between fields (a value that does not suit the type, a window
    // that ends before it starts) are 422; the rest 400.
    let between_fields = ["P0", "P101", "P", "F0", "S5", "WINDOW", "SAME"];
    for (body, field) in cases {
        let res = create_res(&app, body.clone()).await;
        let status = if between_fields.contains(&body["code"].as_str().unwrap_or_default()) {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_error(&res, status, "VALIDATION_ERROR");
        assert!(
            res.1["details"]
                .as_array()
                .is_some_and(|d| d.iter().any(|e| e["field"] == field)),
            "{body}: expected `{field}` in {}",
            res.1
        );
    }
    assert_eq!(app.count("select count(*) from promotions").await, 0);

    let reader = app.key(&app.site_id, &["read:promotions"]).await;
    let res = app
        .call(
            Method::POST,
            &app.api("/promotions"),
            Some(&reader),
            Some(json!({"code": "OK", "type": "PERCENTAGE", "value": 10})),
        )
        .await;
    assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    assert!(
        res.1["error"]
            .as_str()
            .unwrap()
            .contains("write:promotions")
    );
    assert_eq!(app.count("select count(*) from promotions").await, 0);
}

#[tokio::test]
async fn status_is_derived_and_filters_the_list() {
    let app = spawn().await;
    create(
        &app,
        json!({"code": "NOW", "type": "PERCENTAGE", "value": 10}),
    )
    .await;
    create(
        &app,
        json!({"code": "LATER", "type": "PERCENTAGE", "value": 10, "startsAt": "2099-01-01T00:00:00Z"}),
    )
    .await;
    let past = create(
        &app,
        json!({"code": "PAST", "type": "PERCENTAGE", "value": 10}),
    )
    .await;
    let used = create(
        &app,
        json!({"code": "USEDUP", "type": "PERCENTAGE", "value": 10, "maxUses": 2}),
    )
    .await;
    // Expired with a future start is still EXPIRED; exhausted and expired is EXPIRED.
    exec(
        &app,
        &format!(
            "update promotions set expires_at = now() - interval '1 day' where id = '{}'",
            str_of(&past["id"])
        ),
    )
    .await;
    exec(
        &app,
        &format!(
            "update promotions set used_count = 2 where id = '{}'",
            str_of(&used["id"])
        ),
    )
    .await;

    for (status, expected) in [
        ("ACTIVE", "NOW"),
        ("SCHEDULED", "LATER"),
        ("EXPIRED", "PAST"),
        ("EXHAUSTED", "USEDUP"),
    ] {
        let body = app.get(&format!("/promotions?status={status}")).await;
        assert_eq!(codes(&body), [expected], "?status={status}");
        assert_eq!(body["items"][0]["status"], status);
        assert_eq!(body["pagination"]["total"], 1);
    }
    let all = app.get("/promotions").await;
    let statuses: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["ACTIVE", "SCHEDULED", "EXPIRED", "EXHAUSTED"]);
    let res = app
        .admin(Method::GET, "/promotions?status=active", None)
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
}

#[tokio::test]
async fn patch_changes_limits_and_window_only() {
    let app = spawn().await;
    let p = create(
        &app,
        json!({"code": "LIMITS", "type": "PERCENTAGE", "value": 10, "maxUses": 2, "expiresAt": "2099-01-01T00:00:00Z"}),
    )
    .await;
    let id = str_of(&p["id"]);
    let path = format!("/promotions/{id}");
    exec(
        &app,
        &format!("update promotions set used_count = 2 where id = '{id}'"),
    )
    .await;
    assert_eq!(app.get(&path).await["data"]["status"], "EXHAUSTED");

    // Raising maxUses re-activates it; null expiry means no end.
    let (status, body) = app
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"maxUses": 10, "expiresAt": null, "minOrderAmount": 2500, "perCustomerLimit": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = &body["data"];
    assert_eq!(data["maxUses"], 10);
    assert_eq!(data["expiresAt"], Value::Null);
    assert_eq!(data["minOrderAmount"], 2500);
    assert_eq!(data["perCustomerLimit"], 1);
    assert_eq!(data["status"], "ACTIVE");
    assert_eq!(data["usedCount"], 2);
    assert_eq!(
        app.count(&format!(
            "select count(*) from promotions where id = '{id}' and max_uses = 10 and expires_at is null \
             and min_order_amount = 2500 and per_customer_limit = 1"
        ))
        .await,
        1
    );

    // Below the uses so far; a window that ends before it starts; fixed fields: all refused.
    let cases = [
        (json!({"maxUses": 1}), "maxUses"),
        (json!({"maxUses": 0}), "maxUses"),
        (
            json!({"startsAt": "2030-02-01T00:00:00Z", "expiresAt": "2030-01-01T00:00:00Z"}),
            "expiresAt",
        ),
        (json!({"code": "RENAMED"}), "code"),
        (json!({"value": 50}), "value"),
        (json!({"type": "FIXED_AMOUNT"}), "type"),
    ];
    for (i, (body, field)) in cases.into_iter().enumerate() {
        let res = app.admin(Method::PATCH, &path, Some(body.clone())).await;
        // The first (below the uses so far) and the window break rules between values: 422.
        if i == 0 || i == 2 {
            common::assert_unprocessable(&res, field);
        } else {
            assert_invalid(&res, field);
        }
    }
    // A start after the stored expiry is refused as well.
    app.admin(
        Method::PATCH,
        &path,
        Some(json!({"expiresAt": "2030-01-01T00:00:00Z"})),
    )
    .await;
    let res = app
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"startsAt": "2031-01-01T00:00:00Z"})),
        )
        .await;
    common::assert_unprocessable(&res, "expiresAt");
    assert_eq!(
        app.count(&format!(
            "select count(*) from promotions where id = '{id}' and code = 'LIMITS' and value = 10 \
             and max_uses = 10 and starts_at is null"
        ))
        .await,
        1
    );
    let res = app
        .admin(
            Method::PATCH,
            "/promotions/promo_nope",
            Some(json!({"maxUses": 5})),
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
}

// ---------------------------------------------------------------------------------------------------------
// Public validation
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn validate_needs_no_key_and_returns_the_discount() {
    let app = spawn().await;
    let p = create(
        &app,
        json!({"code": "WELCOME20", "type": "PERCENTAGE", "value": 20}),
    )
    .await;
    let res = validate(
        &app,
        json!({"code": "WELCOME20", "cartTotal": 5000, "email": "jane@example.com"}),
    )
    .await;
    assert_eq!(res["valid"], true);
    assert_eq!(res["discount"], 1000);
    assert_eq!(
        res["promotion"],
        json!({"id": p["id"], "code": "WELCOME20", "type": "PERCENTAGE", "value": 20})
    );
    assert!(res.get("reason").is_none(), "{res}");

    // Case-insensitive code; half-up rounding; the discount of a fixed amount is capped at the total.
    let res = validate(&app, json!({"code": "welcome20", "cartTotal": 2999})).await;
    assert_eq!(
        (res["valid"].clone(), res["discount"].clone()),
        (json!(true), json!(600))
    );
    create(
        &app,
        json!({"code": "TENNER", "type": "FIXED_AMOUNT", "value": 1000}),
    )
    .await;
    let res = validate(&app, json!({"code": "TENNER", "cartTotal": 400})).await;
    assert_eq!(res["discount"], 400);
    create(&app, json!({"code": "SHIPFREE", "type": "FREE_SHIPPING"})).await;
    let res = validate(&app, json!({"code": "SHIPFREE", "cartTotal": 400})).await;
    assert_eq!(
        (res["valid"].clone(), res["discount"].clone()),
        (json!(true), json!(0))
    );
    assert_eq!(res["promotion"]["type"], "FREE_SHIPPING");

    // Validation counts no use.
    assert_eq!(
        app.count("select sum(used_count)::bigint from promotions")
            .await,
        0
    );
    assert_eq!(
        app.count("select count(*) from promotion_redemptions")
            .await,
        0
    );

    // A wrong key is not needed, but does not hurt either: the route is public.
    let res = app
        .call(
            Method::POST,
            &app.api("/promotions/validate"),
            Some("sk_live_nonsense"),
            Some(json!({"code": "WELCOME20", "cartTotal": 100})),
        )
        .await;
    assert_eq!(res.0, StatusCode::OK, "{}", res.1);
}

#[tokio::test]
async fn validate_gives_each_reason() {
    let app = spawn().await;
    let res = validate(&app, json!({"code": "NOPE", "cartTotal": 5000})).await;
    assert_reason(&res, "NOT_FOUND");
    assert!(res.get("promotion").is_none(), "{res}");

    let expired = create(
        &app,
        json!({"code": "OLD", "type": "PERCENTAGE", "value": 10}),
    )
    .await;
    exec(
        &app,
        &format!(
            "update promotions set expires_at = now() - interval '1 minute' where id = '{}'",
            str_of(&expired["id"])
        ),
    )
    .await;
    let res = validate(&app, json!({"code": "OLD", "cartTotal": 5000})).await;
    assert_reason(&res, "EXPIRED");
    assert_eq!(
        res["promotion"]["code"], "OLD",
        "the promotion is named: {res}"
    );

    create(
        &app,
        json!({"code": "SOON", "type": "PERCENTAGE", "value": 10, "startsAt": "2099-01-01T00:00:00Z"}),
    )
    .await;
    assert_reason(
        &validate(&app, json!({"code": "SOON", "cartTotal": 5000})).await,
        "NOT_STARTED",
    );

    let used = create(
        &app,
        json!({"code": "GONE", "type": "PERCENTAGE", "value": 10, "maxUses": 3}),
    )
    .await;
    exec(
        &app,
        &format!(
            "update promotions set used_count = 3 where id = '{}'",
            str_of(&used["id"])
        ),
    )
    .await;
    assert_reason(
        &validate(&app, json!({"code": "GONE", "cartTotal": 5000})).await,
        "EXHAUSTED",
    );

    create(
        &app,
        json!({"code": "BIG", "type": "FIXED_AMOUNT", "value": 500, "minOrderAmount": 5000}),
    )
    .await;
    let res = validate(&app, json!({"code": "BIG", "cartTotal": 3500})).await;
    assert_reason(&res, "MIN_ORDER_NOT_MET");
    assert_eq!(res["missingAmount"], 1500);
    let res = validate(&app, json!({"code": "BIG", "cartTotal": 5000})).await;
    assert_eq!(
        (res["valid"].clone(), res["discount"].clone()),
        (json!(true), json!(500))
    );
    assert!(res.get("missingAmount").is_none(), "{res}");

    // A buyer who already used a once-per-customer code (an order placed with it).
    let once = create(
        &app,
        json!({"code": "ONCE", "type": "PERCENTAGE", "value": 10, "perCustomerLimit": 1}),
    )
    .await;
    exec(
        &app,
        &format!(
            "insert into promotion_redemptions (site_id, id, promotion_id, order_id, email) \
             values ('{}', 'prr_1', '{}', 'order_1', 'jane@example.com')",
            app.site_id,
            str_of(&once["id"])
        ),
    )
    .await;
    let res = validate(
        &app,
        json!({"code": "ONCE", "cartTotal": 5000, "email": "Jane@Example.com"}),
    )
    .await;
    assert_reason(&res, "CUSTOMER_LIMIT_REACHED");
    let res = validate(
        &app,
        json!({"code": "ONCE", "cartTotal": 5000, "email": "john@example.com"}),
    )
    .await;
    assert_eq!(res["valid"], true, "another buyer: {res}");
    let res = validate(&app, json!({"code": "ONCE", "cartTotal": 5000})).await;
    assert_eq!(res["valid"], true, "no email, no per-customer check: {res}");
}

#[tokio::test]
async fn validate_refuses_bad_input_and_unknown_sites() {
    let app = spawn().await;
    create(
        &app,
        json!({"code": "WELCOME20", "type": "PERCENTAGE", "value": 20}),
    )
    .await;
    let res = validate_on(
        &app,
        "site_nope",
        json!({"code": "WELCOME20", "cartTotal": 5000}),
    )
    .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    // A code of another site is not found on this one.
    let other = app.create_site("Other").await;
    let res = validate_on(
        &app,
        &other,
        json!({"code": "WELCOME20", "cartTotal": 5000}),
    )
    .await;
    assert_eq!(res.0, StatusCode::OK, "{}", res.1);
    assert_reason(&res.1, "NOT_FOUND");

    for (body, field) in [
        (json!({"code": "WELCOME20", "cartTotal": -1}), "cartTotal"),
        (
            json!({"code": "WELCOME20", "cartTotal": "5000"}),
            "cartTotal",
        ),
        (json!({"code": "WELCOME20", "cartTotal": 50.5}), "cartTotal"),
        (json!({"code": "X".repeat(65), "cartTotal": 5000}), "code"),
        (
            json!({"code": "WELCOME20", "cartTotal": 5000, "discount": 5000}),
            "discount",
        ),
    ] {
        let res = validate_on(&app, &app.site_id, body.clone()).await;
        assert_invalid(&res, field);
    }
    let res = validate_on(&app, &app.site_id, json!({"cartTotal": 5000})).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(
        res.1["error"].as_str().unwrap().contains("code"),
        "{}",
        res.1
    );
    assert_eq!(
        app.count("select used_count::bigint from promotions").await,
        0
    );
}

#[tokio::test]
async fn validate_is_rate_limited_per_ip() {
    let app = TestApp::spawn().await;
    create(
        &app,
        json!({"code": "WELCOME20", "type": "PERCENTAGE", "value": 20}),
    )
    .await;
    let url = app.api("/promotions/validate");
    let body = json!({"code": "WELCOME20", "cartTotal": 5000});
    start_of_a_window().await;
    for i in 0..30 {
        let res = app.client.post(&url).json(&body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "call {i}");
        assert_eq!(res.headers()["x-ratelimit-limit"], "30");
    }
    let res = app.client.post(&url).json(&body).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(res.headers()["x-ratelimit-remaining"], "0");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "RATE_LIMITED");
    assert_eq!(body["success"], false);
    // Keyed routes are counted apart: the admin key still works.
    assert_eq!(
        app.get("/promotions").await["items"][0]["code"],
        "WELCOME20"
    );
}

// ---------------------------------------------------------------------------------------------------------
// Codes on carts
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn carts_apply_valid_codes_and_refuse_invalid_ones() {
    let app = spawn().await;
    let p = app
        .product(json!({"name": "Widget", "price": 2500, "variants": [{"sku": "W-1", "inventoryCount": 10}]}))
        .await;
    let cart = app
        .post("/cart", json!({"sessionId": "s1", "currency": "EUR"}))
        .await["data"]["id"]
        .clone();
    let cart_path = format!("/cart?cartId={}", str_of(&cart));
    let act = |body: Value| {
        let path = cart_path.clone();
        let app = &app;
        async move { app.admin(Method::PATCH, &path, Some(body)).await }
    };
    let (status, body) =
        act(json!({"action": "add", "item": {"productId": p["id"], "quantity": 2}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    create(
        &app,
        json!({"code": "TEN", "type": "PERCENTAGE", "value": 10}),
    )
    .await;
    create(
        &app,
        json!({"code": "BIG", "type": "FIXED_AMOUNT", "value": 500, "minOrderAmount": 10000}),
    )
    .await;
    let promo_code = |app: &TestApp| {
        let cart = str_of(&cart);
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, Option<String>>(
                "select promotion_code from carts where id = $1",
            )
            .bind(cart)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };

    for (code, reason) in [("NOPE", "NOT_FOUND"), ("BIG", "MIN_ORDER_NOT_MET")] {
        let res = act(json!({"action": "applyPromotion", "code": code})).await;
        assert_error(&res, StatusCode::CONFLICT, "PROMOTION_INVALID");
        assert!(
            res.1["error"].as_str().unwrap().contains(reason),
            "{}",
            res.1
        );
        assert_eq!(promo_code(&app).await, None);
    }

    // A valid code is stored as the promotion spells it and discounts the cart.
    let (status, body) = act(json!({"action": "applyPromotion", "code": "ten"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["promotionCode"], "TEN");
    assert_eq!(body["data"]["subtotal"], 5000);
    assert_eq!(body["data"]["discount"], 500);
    assert_eq!(body["data"]["total"], 4500);
    assert_eq!(promo_code(&app).await, Some("TEN".into()));
    // An invalid code does not replace a valid one.
    let res = act(json!({"action": "applyPromotion", "code": "NOPE"})).await;
    assert_error(&res, StatusCode::CONFLICT, "PROMOTION_INVALID");
    assert_eq!(promo_code(&app).await, Some("TEN".into()));

    let (status, body) = act(json!({"action": "removePromotion"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["promotionCode"], Value::Null);
    assert_eq!(body["data"]["discount"], 0);
    assert_eq!(body["data"]["total"], 5000);
    assert_eq!(promo_code(&app).await, None);
    assert_eq!(
        app.count("select sum(used_count)::bigint from promotions")
            .await,
        0
    );
}

// ---------------------------------------------------------------------------------------------------------
// Shipping methods and tax rates: the shapes a checkout prices with
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn shipping_methods_keep_their_wire_shape_and_field_names() {
    let app = spawn().await;
    let res = app
        .admin(
            Method::POST,
            "/shipping-methods",
            Some(
                json!({"name": "Standard", "code": "standard", "price": 499, "freeAbove": -1,
                "countries": ["LV", "XX"]}),
            ),
        )
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let fields: Vec<&str> = res.1["details"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["field"].as_str())
        .collect();
    assert_eq!(fields, ["freeAbove", "countries[1]"], "{}", res.1);
    let res = app
        .admin(
            Method::POST,
            "/shipping-methods",
            Some(json!({"name": "Standard", "code": "standard", "price": 499, "carrier": "DPD"})),
        )
        .await;
    assert_invalid(&res, "carrier");
    assert_eq!(app.count("select count(*) from shipping_methods").await, 0);

    let data = app
        .post(
            "/shipping-methods",
            json!({"name": "Standard", "code": "standard", "price": 499, "freeAbove": 5000,
                "countries": ["LV"]}),
        )
        .await["data"]
        .clone();
    assert!(str_of(&data["id"]).starts_with("shm_"), "{data}");
    assert_eq!(data["name"], "Standard");
    assert_eq!(data["code"], "standard");
    assert_eq!(data["price"], 499);
    assert_eq!(data["freeAbove"], 5000);
    assert_eq!(data["countries"], json!(["LV"]));
    assert_eq!(data["active"], true);
    assert!(data["createdAt"].is_string() && data["updatedAt"].is_string());
    assert_eq!(data.as_object().unwrap().len(), 9, "{data}");

    // `freeAbove` can be cleared; fields that cannot be cleared refuse null.
    let (status, res) = app
        .admin(
            Method::PATCH,
            "/shipping-methods/standard",
            Some(json!({"freeAbove": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{res}");
    assert_eq!(res["data"]["freeAbove"], Value::Null);
    assert_eq!(res["data"]["price"], 499);
    let res = app
        .admin(
            Method::PATCH,
            "/shipping-methods/standard",
            Some(json!({"name": null})),
        )
        .await;
    assert_invalid(&res, "name");
    let res = app
        .admin(
            Method::PATCH,
            "/shipping-methods/standard",
            Some(json!({"freeAbove": -5})),
        )
        .await;
    assert_invalid(&res, "freeAbove");
    assert_eq!(
        app.count(
            "select count(*) from shipping_methods where code = 'standard' and free_above is null \
             and name = 'Standard'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn tax_rates_read_back_the_percentage_as_given() {
    let app = spawn().await;
    let data = app
        .post(
            "/tax-rates",
            json!({"country": "LV", "percentage": 21.5, "name": "PVN"}),
        )
        .await["data"]
        .clone();
    assert!(str_of(&data["id"]).starts_with("tax_"), "{data}");
    assert_eq!(data["country"], "LV");
    assert_eq!(data["percentage"], 21.5);
    assert_eq!(data["name"], "PVN");
    let data = app
        .post("/tax-rates", json!({"country": "EE", "percentage": 22}))
        .await["data"]
        .clone();
    // A whole percentage reads back as an integer, not `22.0`.
    assert_eq!(data["percentage"], 22);
    // Kept to the hundredth, rounded half up, exactly.
    let rounded = app
        .post("/tax-rates", json!({"country": "FI", "percentage": 25.505}))
        .await["data"]
        .clone();
    assert_eq!(rounded["percentage"], 25.51);
    assert_eq!(data["name"], Value::Null);

    for (body, field) in [
        (
            json!({"country": "LT", "percentage": 100.001}),
            "percentage",
        ),
        (json!({"country": "LT", "percentage": 101}), "percentage"),
        (json!({"country": "lt", "percentage": 21}), "country"),
        (json!({"country": "LT", "percentage": "21"}), "percentage"),
    ] {
        let res = app.admin(Method::POST, "/tax-rates", Some(body)).await;
        assert_invalid(&res, field);
    }

    let list = app.get("/tax-rates").await;
    let rates: Vec<(String, Value)> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (str_of(&r["country"]), r["percentage"].clone()))
        .collect();
    assert_eq!(
        rates,
        [
            ("EE".to_string(), json!(22)),
            ("FI".to_string(), json!(25.51)),
            ("LV".to_string(), json!(21.5))
        ]
    );
    assert_eq!(
        app.count("select sum(basis_points)::bigint from tax_rates")
            .await,
        4350 + 2551
    );
}
