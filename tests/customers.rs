//! Customers over HTTP: profiles, addresses, groups, totals derived from orders, and customer accounts
//! (register, login, refresh rotation, logout, brute-force limits, tokens bound to their site).

mod common;

use common::{TestApp, assert_error};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn customer(app: &TestApp, body: Value) -> Value {
    app.post("/customers", body).await["data"].clone()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// A POST to `/auth/{action}` on the test site with `key`.
async fn auth(app: &TestApp, key: &str, action: &str, body: Value) -> (StatusCode, Value) {
    app.call(
        Method::POST,
        &app.api(&format!("/auth/{action}")),
        Some(key),
        Some(body),
    )
    .await
}

/// `GET /auth/me` on `site` with `key` and a customer token.
async fn me(app: &TestApp, site: &str, key: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut req = app
        .client
        .get(format!("{}/api/v1/{site}/auth/me", app.url))
        .bearer_auth(key);
    if let Some(token) = token {
        req = req.header("X-Customer-Token", token);
    }
    let res = req.send().await.unwrap();
    (res.status(), res.json().await.unwrap_or(Value::Null))
}

/// No response may carry a password hash, under any name.
#[track_caller]
fn assert_no_secrets(body: &Value) {
    let text = body.to_string();
    for needle in ["$argon2", "passwordHash", "password_hash", "\"password\""] {
        assert!(!text.contains(needle), "{needle} leaked in {text}");
    }
}

async fn insert_order(app: &TestApp, customer_id: &str, number: i64, status: &str, total: i64) {
    sqlx::query(
        "insert into orders (site_id, id, number, customer_id, email, status, currency, subtotal, discount, \
         shipping, tax, total, payment_method) \
         values ($1, $2, $3, $4, 'buyer@example.com', $5, 'EUR', $6, 0, 0, 0, $6, 'test')",
    )
    .bind(&app.site_id)
    .bind(format!("order_{number}"))
    .bind(number)
    .bind(customer_id)
    .bind(status)
    .bind(total)
    .execute(&app.pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn create_get_update_replace_and_delete_a_customer() {
    let app = TestApp::spawn().await;
    let created = customer(
        &app,
        json!({"email": "  Jane.Smith@Example.com ", "firstName": " Jane ", "lastName": "Smith",
               "phone": "+30 210 1234567", "acceptsMarketing": true, "preferences": {"newsletter": "weekly"},
               "note": "VIP"}),
    )
    .await;
    let cid = id(&created);
    assert!(cid.starts_with("cust_"), "{created}");
    assert_eq!(created["email"], "Jane.Smith@Example.com");
    assert_eq!(created["firstName"], "Jane");
    assert_eq!(created["lastName"], "Smith");
    assert_eq!(created["phone"], "+30 210 1234567");
    assert_eq!(created["acceptsMarketing"], true);
    assert_eq!(created["preferences"], json!({"newsletter": "weekly"}));
    assert_eq!(created["note"], "VIP");
    assert_eq!(created["groupId"], Value::Null);
    assert_eq!(created["hasPassword"], false);
    assert_eq!(created["totalOrders"], 0);
    assert_eq!(created["totalSpent"], 0);
    assert!(created["createdAt"].is_string() && created["updatedAt"].is_string());
    assert!(created.get("addresses").is_none(), "{created}");

    let got = app.get(&format!("/customers/{cid}")).await["data"].clone();
    assert_eq!(got["email"], "Jane.Smith@Example.com");
    assert_eq!(got["addresses"], json!([]));

    // PATCH changes only what is sent; null clears a clearable field.
    let (status, body) = app
        .admin(
            Method::PATCH,
            &format!("/customers/{cid}"),
            Some(json!({"firstName": "Janet", "phone": null, "preferences": {"size": "M"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let d = &body["data"];
    assert_eq!(
        (&d["firstName"], &d["lastName"], &d["phone"], &d["note"]),
        (
            &json!("Janet"),
            &json!("Smith"),
            &Value::Null,
            &json!("VIP")
        )
    );
    assert_eq!(d["preferences"], json!({"size": "M"}));
    let (first, phone): (Option<String>, Option<String>) =
        sqlx::query_as("select first_name, phone from customers where id = $1")
            .bind(&cid)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((first.as_deref(), phone), (Some("Janet"), None));

    // null on a field that cannot be cleared is refused
    let res = app
        .admin(
            Method::PATCH,
            &format!("/customers/{cid}"),
            Some(json!({"email": null})),
        )
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    // PUT replaces: omitted optional fields are cleared
    let (status, body) = app
        .admin(
            Method::PUT,
            &format!("/customers/{cid}"),
            Some(json!({"email": "jane@example.org", "firstName": "Jane"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let d = &body["data"];
    assert_eq!(d["email"], "jane@example.org");
    assert_eq!(d["lastName"], Value::Null);
    assert_eq!(d["note"], Value::Null);
    assert_eq!(d["acceptsMarketing"], false);
    assert_eq!(d["preferences"], json!({}));

    let (status, _) = app
        .admin(Method::DELETE, &format!("/customers/{cid}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let res = app
        .admin(Method::GET, &format!("/customers/{cid}"), None)
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = app
        .admin(Method::DELETE, &format!("/customers/{cid}"), None)
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert_eq!(app.count("select count(*) from customers").await, 0);
}

/// The `customer.created` payload recorded for `customer_id`.
async fn created_payload(app: &TestApp, customer_id: &str) -> Value {
    sqlx::query_scalar(
        "select payload from events where site_id = $1 and type = 'customer.created' \
         and payload ->> 'id' = $2",
    )
    .bind(&app.site_id)
    .bind(customer_id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

/// The webhook payload is the domain's `Customer`, the API answer its wire type: they must not drift.
#[tokio::test]
async fn the_customer_created_payload_is_the_api_customer() {
    let app = TestApp::spawn().await;
    let created = customer(
        &app,
        json!({"email": "jane@example.com", "firstName": "Jane", "phone": "+30 210 1234567",
               "acceptsMarketing": true, "preferences": {"newsletter": "weekly"}, "note": "VIP"}),
    )
    .await;
    assert_eq!(created_payload(&app, &id(&created)).await, created);

    // a registration's payload is its session's customer, without the addresses of a single read
    let (status, body) = auth(
        &app,
        &app.admin_key,
        "register",
        json!({"email": "john@example.com", "password": "correct horse", "lastName": "Doe"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut session_customer = body["data"]["customer"].clone();
    assert_eq!(session_customer["addresses"], json!([]));
    session_customer
        .as_object_mut()
        .unwrap()
        .remove("addresses");
    assert_eq!(
        created_payload(&app, &id(&session_customer)).await,
        session_customer
    );
}

#[tokio::test]
async fn duplicate_email_in_any_case_is_409_and_writes_nothing() {
    let app = TestApp::spawn().await;
    customer(&app, json!({"email": "jane@example.com"})).await;
    let res = app
        .admin(
            Method::POST,
            "/customers",
            Some(json!({"email": " JANE@Example.COM", "firstName": "Other"})),
        )
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    assert!(
        res.1["error"].as_str().unwrap().contains("email"),
        "{}",
        res.1
    );
    assert_eq!(app.count("select count(*) from customers").await, 1);

    // changing another customer's email to it is refused too, and leaves them unchanged
    let john = customer(&app, json!({"email": "john@example.com"})).await;
    let res = app
        .admin(
            Method::PATCH,
            &format!("/customers/{}", id(&john)),
            Some(json!({"email": "Jane@example.com", "firstName": "John"})),
        )
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    let (email, first): (String, Option<String>) =
        sqlx::query_as("select email, first_name from customers where id = $1")
            .bind(id(&john))
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((email.as_str(), first), ("john@example.com", None));

    // registering with it is a 409 as well (an admin-created customer has no password to log in with)
    let res = auth(
        &app,
        &app.admin_key,
        "register",
        json!({"email": "JANE@EXAMPLE.COM", "password": "long enough password"}),
    )
    .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    assert_eq!(app.count("select count(*) from customers").await, 2);
    assert_eq!(app.count("select count(*) from refresh_tokens").await, 0);
    let res = auth(
        &app,
        &app.admin_key,
        "login",
        json!({"email": "jane@example.com", "password": "long enough password"}),
    )
    .await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS");
}

#[tokio::test]
async fn invalid_input_is_400_naming_the_field() {
    let app = TestApp::spawn().await;
    let field_of = |res: &(StatusCode, Value)| -> Vec<String> {
        assert_error(res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        res.1["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["field"].as_str().unwrap().to_string())
            .collect()
    };
    for email in [
        "plain",
        "two@@example.com",
        "a b@example.com",
        "jane@localhost",
        "",
    ] {
        let res = app
            .admin(Method::POST, "/customers", Some(json!({"email": email})))
            .await;
        assert_eq!(field_of(&res), ["email"], "{email:?}: {}", res.1);
    }
    let long = format!("{}@{}.com", "a".repeat(64), "b".repeat(190));
    let res = app
        .admin(Method::POST, "/customers", Some(json!({"email": long})))
        .await;
    assert_eq!(field_of(&res), ["email"]);

    let res = app
        .admin(
            Method::POST,
            "/customers",
            Some(
                json!({"email": "ok@example.com", "phone": "call me", "firstName": "",
                        "groupId": "cgrp_missing", "preferences": {"a": 1}}),
            ),
        )
        .await;
    assert_eq!(field_of(&res), ["firstName", "phone"]);
    // a well-formed group id that does not exist: 422
    let res = app
        .admin(
            Method::POST,
            "/customers",
            Some(json!({"email": "ok@example.com", "groupId": "cgrp_missing"})),
        )
        .await;
    common::assert_unprocessable(&res, "groupId");
    let res = app
        .admin(
            Method::POST,
            "/customers",
            Some(json!({"email": "ok@example.com", "preferences": [1, 2]})),
        )
        .await;
    assert_eq!(field_of(&res), ["preferences"]);
    let res = app
        .admin(
            Method::POST,
            "/customers",
            Some(json!({"email": "ok@example.com", "password": "secret123"})),
        )
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(app.count("select count(*) from customers").await, 0);

    for (password, ok) in [
        ("short", false),
        ("1234567", false),
        (&*"x".repeat(129), false),
        ("12345678", true),
    ] {
        let res = auth(
            &app,
            &app.admin_key,
            "register",
            json!({"email": format!("p{}@example.com", password.len()), "password": password}),
        )
        .await;
        if ok {
            assert_eq!(res.0, StatusCode::CREATED, "{}", res.1);
        } else {
            assert_eq!(field_of(&res), ["password"], "{}", res.1);
        }
    }
    let res = auth(
        &app,
        &app.admin_key,
        "register",
        json!({"email": "not an email", "password": "short"}),
    )
    .await;
    assert_eq!(field_of(&res), ["email", "password"]);
    assert_eq!(app.count("select count(*) from customers").await, 1);
}

#[tokio::test]
async fn search_group_filter_and_pagination() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .admin(
            Method::POST,
            "/customer-groups",
            Some(json!({"name": "Wholesale"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let wholesale = id(&body["data"]);
    assert!(wholesale.starts_with("cgrp_"));
    assert_eq!(body["data"]["slug"], "wholesale");
    let res = app
        .admin(
            Method::POST,
            "/customer-groups",
            Some(json!({"name": "Wholesale"})),
        )
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    let vip = id(&app
        .post("/customer-groups", json!({"name": "VIP", "slug": "vip"}))
        .await["data"]);

    let jane = customer(&app, json!({"email": "jane@example.com", "firstName": "Jane", "lastName": "Smith", "groupId": wholesale})).await;
    let john = customer(&app, json!({"email": "john@shop.test", "firstName": "John", "lastName": "Smithers", "groupId": wholesale})).await;
    let percent = customer(
        &app,
        json!({"email": "100%off@example.com", "groupId": vip}),
    )
    .await;
    let under = customer(&app, json!({"email": "a_b@example.com"})).await;
    let plain = customer(&app, json!({"email": "zed@example.net", "lastName": "Zed"})).await;

    let ids = |body: &Value| -> Vec<String> {
        body["items"].as_array().unwrap().iter().map(id).collect()
    };
    let search = |q: &str| format!("/customers?search={}", urlencode(q));
    assert_eq!(
        ids(&app.get(&search("smith")).await),
        [id(&jane), id(&john)]
    );
    assert_eq!(ids(&app.get(&search("SMITHERS")).await), [id(&john)]);
    assert_eq!(ids(&app.get(&search("jane smith")).await), [id(&jane)]);
    assert_eq!(ids(&app.get(&search("shop.test")).await), [id(&john)]);
    // LIKE wildcards in the input are literal characters
    assert_eq!(ids(&app.get(&search("%")).await), [id(&percent)]);
    assert_eq!(ids(&app.get(&search("_")).await), [id(&under)]);
    assert_eq!(ids(&app.get(&search("\\")).await), Vec::<String>::new());
    assert_eq!(ids(&app.get(&search("  ")).await).len(), 5);

    let body = app.get(&format!("/customers?group={wholesale}")).await;
    assert_eq!(ids(&body), [id(&jane), id(&john)]);
    assert_eq!(body["pagination"]["total"], 2);
    let body = app
        .get(&format!("/customers?group={wholesale}&search=john"))
        .await;
    assert_eq!(ids(&body), [id(&john)]);
    assert_eq!(
        ids(&app.get("/customers?group=cgrp_nobody").await),
        Vec::<String>::new()
    );

    // offset pagination
    let body = app.get("/customers?limit=2&page=2").await;
    assert_eq!(ids(&body), [id(&percent), id(&under)]);
    assert_eq!(
        body["pagination"],
        json!({"page": 2, "limit": 2, "total": 5, "totalPages": 3, "totalIsEstimate": false})
    );
    // cursor pagination walks every customer once
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let body = app
            .get(&format!("/customers?limit=2&cursor={cursor}"))
            .await;
        seen.extend(ids(&body));
        if body["hasNextPage"] == false {
            assert_eq!(body["cursor"], Value::Null);
            break;
        }
        cursor = body["cursor"].as_str().unwrap().to_string();
    }
    assert_eq!(
        seen,
        [&jane, &john, &percent, &under, &plain].map(id).to_vec()
    );
    let res = app
        .admin(Method::GET, "/customers?cursor=prd_abc", None)
        .await;
    common::assert_unprocessable(&res, "cursor");
    let res = app.admin(Method::GET, "/customers?limit=500", None).await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    let groups = app.get("/customer-groups").await;
    assert_eq!(ids(&groups), [wholesale.clone(), vip.clone()]);
    assert_eq!(groups["items"][0]["customerCount"], 2);
    assert_eq!(groups["items"][1]["customerCount"], 1);

    // PATCH groupId null takes a customer out of the group
    let (status, body) = app
        .admin(
            Method::PATCH,
            &format!("/customers/{}", id(&john)),
            Some(json!({"groupId": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        ids(&app.get(&format!("/customers?group={wholesale}")).await),
        [id(&jane)]
    );
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn totals_are_derived_from_orders_that_were_not_cancelled_or_refunded() {
    let app = TestApp::spawn().await;
    let jane = id(&customer(&app, json!({"email": "jane@example.com"})).await);
    let john = id(&customer(&app, json!({"email": "john@example.com"})).await);
    insert_order(&app, &jane, 1001, "CONFIRMED", 1000).await;
    insert_order(&app, &jane, 1002, "DELIVERED", 2500).await;
    insert_order(&app, &jane, 1003, "PENDING", 400).await;
    insert_order(&app, &jane, 1004, "CANCELLED", 5000).await;
    insert_order(&app, &jane, 1005, "REFUNDED", 700).await;
    insert_order(&app, &john, 1006, "SHIPPED", 9900).await;

    let got = app.get(&format!("/customers/{jane}")).await["data"].clone();
    assert_eq!(
        (&got["totalOrders"], &got["totalSpent"]),
        (&json!(3), &json!(3900))
    );
    let list = app.get("/customers").await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(
        (&items[0]["totalOrders"], &items[0]["totalSpent"]),
        (&json!(3), &json!(3900))
    );
    assert_eq!(
        (&items[1]["totalOrders"], &items[1]["totalSpent"]),
        (&json!(1), &json!(9900))
    );

    // derived on every read: a status change shows at once, and writes return the totals too
    sqlx::query("update orders set status = 'CANCELLED' where number = 1002")
        .execute(&app.pool)
        .await
        .unwrap();
    let (_, body) = app
        .admin(
            Method::PATCH,
            &format!("/customers/{jane}"),
            Some(json!({"note": "x"})),
        )
        .await;
    assert_eq!(
        (&body["data"]["totalOrders"], &body["data"]["totalSpent"]),
        (&json!(2), &json!(1400))
    );
}

#[tokio::test]
async fn addresses_keep_at_most_one_default() {
    let app = TestApp::spawn().await;
    let cid = id(&customer(&app, json!({"email": "jane@example.com"})).await);
    let path = format!("/customers/{cid}/addresses");
    let home = app
        .post(
            &path,
            json!({"firstName": "Jane", "line1": " Brivibas iela 1 ", "city": "Riga", "postalCode": "LV-1010", "country": "lv"}),
        )
        .await["data"]
        .clone();
    assert!(id(&home).starts_with("addr_"));
    assert_eq!(home["isDefault"], true, "the first address is the default");
    assert_eq!(home["country"], "LV");
    assert_eq!(home["line1"], "Brivibas iela 1");
    assert_eq!(home["customerId"], cid.as_str());

    let work = app
        .post(
            &path,
            json!({"company": "Acme", "line1": "Main St 5", "city": "Boston", "province": "MA", "country": "US", "isDefault": true}),
        )
        .await["data"]
        .clone();
    assert_eq!(work["isDefault"], true);
    let third = app
        .post(
            &path,
            json!({"line1": "Elm 3", "city": "Tartu", "country": "EE"}),
        )
        .await["data"]
        .clone();
    assert_eq!(third["isDefault"], false);

    let list = app.get(&path).await["data"].clone();
    let listed: Vec<(String, bool)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (id(a), a["isDefault"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        listed,
        [(id(&work), true), (id(&home), false), (id(&third), false)]
    );
    assert_eq!(
        app.get(&format!("/customers/{cid}")).await["data"]["addresses"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    let (status, body) = app
        .admin(
            Method::PATCH,
            &format!("{path}/{}", id(&third)),
            Some(json!({"isDefault": true, "line2": "Apt. 4"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["line2"], "Apt. 4");
    let defaults = app
        .count("select count(*) from customer_addresses where is_default")
        .await;
    assert_eq!(defaults, 1);

    for (body, field) in [
        (json!({"country": "XX"}), "country"),
        (json!({"country": "LVA"}), "country"),
        (json!({"city": " "}), "city"),
        (json!({"phone": "nope"}), "phone"),
    ] {
        let res = app
            .admin(Method::PATCH, &format!("{path}/{}", id(&home)), Some(body))
            .await;
        assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_eq!(res.1["details"][0]["field"], field);
    }
    let res = app
        .admin(
            Method::POST,
            &path,
            Some(json!({"city": "Riga", "country": "LV"})),
        )
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(res.1["details"][0]["field"], "line1");

    // deleting the default promotes the oldest remaining address
    let (status, _) = app
        .admin(Method::DELETE, &format!("{path}/{}", id(&third)), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let list = app.get(&path).await["data"].clone();
    assert_eq!(list[0]["id"], id(&home).as_str());
    assert_eq!(list[0]["isDefault"], true);
    assert_eq!(list.as_array().unwrap().len(), 2);

    // another customer's address, or an unknown customer, is a 404
    let other = id(&customer(&app, json!({"email": "john@example.com"})).await);
    let res = app
        .admin(
            Method::PATCH,
            &format!("/customers/{other}/addresses/{}", id(&home)),
            Some(json!({"city": "X"})),
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = app
        .admin(
            Method::DELETE,
            &format!("/customers/{other}/addresses/{}", id(&home)),
            None,
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = app
        .admin(Method::GET, "/customers/cust_nobody/addresses", None)
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = app
        .admin(
            Method::POST,
            "/customers/cust_nobody/addresses",
            Some(json!({"line1": "x", "city": "Riga", "country": "LV"})),
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");

    // deleting the customer deletes their addresses
    app.admin(Method::DELETE, &format!("/customers/{cid}"), None)
        .await;
    assert_eq!(
        app.count("select count(*) from customer_addresses").await,
        0
    );
}

#[tokio::test]
async fn register_login_me_refresh_and_logout() {
    let app = TestApp::spawn().await;
    // storefront endpoints take any key of the site, whatever its scopes
    let storefront = app.key(&app.site_id, &["read:catalog"]).await;
    let mut responses = Vec::new();

    let (status, body) = auth(
        &app,
        &storefront,
        "register",
        json!({"email": " Jane@Example.com", "password": "correct horse", "firstName": "Jane"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let d = &body["data"];
    let cid = id(&d["customer"]);
    assert_eq!(d["customer"]["email"], "Jane@Example.com");
    assert_eq!(d["customer"]["hasPassword"], true);
    assert_eq!(d["customer"]["firstName"], "Jane");
    assert_eq!(d["tokenType"], "Bearer");
    assert_eq!(d["expiresIn"], 900);
    assert_eq!(d["refreshExpiresIn"], 30 * 24 * 3600);
    assert_eq!(d["refreshToken"].as_str().unwrap().len(), 64);
    responses.push(body.clone());
    let stored: String = sqlx::query_scalar("select password_hash from customers where id = $1")
        .bind(&cid)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert!(!stored.contains("correct horse"));

    // the access token's claims
    let token = d["accessToken"].as_str().unwrap();
    let claims: Value = {
        use base64::Engine;
        let payload = token.split('.').nth(1).unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(claims["sub"], cid.as_str());
    assert_eq!(claims["site"], app.site_id.as_str());
    assert_eq!(claims["typ"], "access");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );

    // login (the email in any case)
    let (status, body) = auth(
        &app,
        &storefront,
        "login",
        json!({"email": "JANE@example.com", "password": "correct horse"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["customer"]["id"], cid.as_str());
    responses.push(body.clone());
    let access = body["data"]["accessToken"].as_str().unwrap().to_string();
    let refresh = body["data"]["refreshToken"].as_str().unwrap().to_string();
    // only a keyed digest of refresh tokens is stored
    let digests: Vec<Vec<u8>> = sqlx::query_scalar("select digest from refresh_tokens")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(digests.len(), 2);
    assert!(digests.contains(&app.server_key.refresh_token_digest(&refresh).to_vec()));

    let (status, body) = me(&app, &app.site_id, &storefront, Some(&access)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["id"], cid.as_str());
    assert_eq!(body["data"]["addresses"], json!([]));
    responses.push(body);

    // refresh rotates: a new pair, and the old refresh token is dead
    let (status, body) = auth(
        &app,
        &storefront,
        "refresh",
        json!({"refreshToken": refresh}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    responses.push(body.clone());
    let refresh2 = body["data"]["refreshToken"].as_str().unwrap().to_string();
    let access2 = body["data"]["accessToken"].as_str().unwrap().to_string();
    assert_ne!(refresh2, refresh);
    assert_eq!(
        me(&app, &app.site_id, &storefront, Some(&access2)).await.0,
        StatusCode::OK
    );
    let res = auth(
        &app,
        &storefront,
        "refresh",
        json!({"refreshToken": refresh}),
    )
    .await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "INVALID_REFRESH_TOKEN");

    // logout revokes; refreshing afterwards fails; logging out again is harmless
    let (status, body) = auth(
        &app,
        &storefront,
        "logout",
        json!({"refreshToken": refresh2}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["revoked"], true);
    let res = auth(
        &app,
        &storefront,
        "refresh",
        json!({"refreshToken": refresh2}),
    )
    .await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "INVALID_REFRESH_TOKEN");
    let (status, body) = auth(
        &app,
        &storefront,
        "logout",
        json!({"refreshToken": refresh2}),
    )
    .await;
    assert_eq!(
        (status, &body["data"]["revoked"]),
        (StatusCode::OK, &json!(false))
    );
    for garbage in ["", "short", &"!".repeat(64)] {
        let res = auth(
            &app,
            &storefront,
            "refresh",
            json!({"refreshToken": garbage}),
        )
        .await;
        assert_error(&res, StatusCode::UNAUTHORIZED, "INVALID_REFRESH_TOKEN");
    }

    // the admin view of the customer and the list never show the hash either
    responses.push(app.get(&format!("/customers/{cid}")).await);
    responses.push(app.get("/customers").await);
    for body in &responses {
        assert_no_secrets(body);
    }

    // deleting the customer ends their sessions
    app.admin(Method::DELETE, &format!("/customers/{cid}"), None)
        .await;
    assert_eq!(app.count("select count(*) from refresh_tokens").await, 0);
    let res = me(&app, &app.site_id, &storefront, Some(&access2)).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_401() {
    let app = TestApp::spawn().await;
    let (status, _) = auth(
        &app,
        &app.admin_key,
        "register",
        json!({"email": "jane@example.com", "password": "correct horse"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let wrong = auth(
        &app,
        &app.admin_key,
        "login",
        json!({"email": "jane@example.com", "password": "wrong horse"}),
    )
    .await;
    let unknown = auth(
        &app,
        &app.admin_key,
        "login",
        json!({"email": "nobody@example.com", "password": "correct horse"}),
    )
    .await;
    let malformed = auth(
        &app,
        &app.admin_key,
        "login",
        json!({"email": "not an email", "password": "correct horse"}),
    )
    .await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS");
    assert_eq!(wrong.1, unknown.1);
    assert_eq!(wrong.1, malformed.1);
    assert_eq!(wrong.1["error"], "Invalid email or password");
    assert_no_secrets(&wrong.1);
    assert_eq!(app.count("select count(*) from refresh_tokens").await, 1);
}

#[tokio::test]
async fn brute_force_is_429_even_with_the_right_password() {
    let app = TestApp::spawn().await;
    auth(
        &app,
        &app.admin_key,
        "register",
        json!({"email": "jane@example.com", "password": "correct horse"}),
    )
    .await;
    for _ in 0..5 {
        let res = auth(
            &app,
            &app.admin_key,
            "login",
            json!({"email": "Jane@Example.com", "password": "guess guess"}),
        )
        .await;
        assert_error(&res, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS");
    }
    let res = app
        .client
        .post(app.api("/auth/login"))
        .bearer_auth(&app.admin_key)
        .json(&json!({"email": "jane@example.com", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((850..=900).contains(&retry_after), "{retry_after}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "TOO_MANY_LOGIN_ATTEMPTS");
    assert_no_secrets(&body);
    // only the refresh token of the registration exists: no session was issued
    assert_eq!(app.count("select count(*) from refresh_tokens").await, 1);

    // other accounts from the same client are not locked out by one email's failures
    auth(
        &app,
        &app.admin_key,
        "register",
        json!({"email": "john@example.com", "password": "correct horse"}),
    )
    .await;
    let (status, _) = auth(
        &app,
        &app.admin_key,
        "login",
        json!({"email": "john@example.com", "password": "correct horse"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn twenty_failures_from_one_address_lock_it_out() {
    let app = TestApp::spawn().await;
    for i in 0..20 {
        let res = auth(
            &app,
            &app.admin_key,
            "login",
            json!({"email": format!("user{i}@example.com"), "password": "guess guess"}),
        )
        .await;
        assert_error(&res, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS");
    }
    let res = auth(
        &app,
        &app.admin_key,
        "login",
        json!({"email": "fresh@example.com", "password": "guess guess"}),
    )
    .await;
    assert_error(
        &res,
        StatusCode::TOO_MANY_REQUESTS,
        "TOO_MANY_LOGIN_ATTEMPTS",
    );
}

#[tokio::test]
async fn customer_tokens_are_bound_to_their_site_and_checked() {
    let app = TestApp::spawn().await;
    let (_, body) = auth(
        &app,
        &app.admin_key,
        "register",
        json!({"email": "jane@example.com", "password": "correct horse"}),
    )
    .await;
    let access = body["data"]["accessToken"].as_str().unwrap().to_string();
    let cid = id(&body["data"]["customer"]);

    // site A's token with site B's key on site B
    let site_b = app.create_site("Other Store").await;
    let key_b = app.key(&site_b, &["read:catalog"]).await;
    let res = me(&app, &site_b, &key_b, Some(&access)).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    assert!(
        res.1["error"].as_str().unwrap().contains("another site"),
        "{}",
        res.1
    );

    let res = me(&app, &app.site_id, &app.admin_key, None).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    assert!(
        res.1["error"]
            .as_str()
            .unwrap()
            .contains("X-Customer-Token")
    );
    for garbled in [
        "garbage",
        "a.b.c",
        &format!("{access}x"),
        &access[..access.len() - 3],
    ] {
        let res = me(&app, &app.site_id, &app.admin_key, Some(garbled)).await;
        assert_error(&res, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    }

    // an expired token, and one signed with another key
    let now = chrono::Utc::now();
    let expired = shopvo::domain::customers::tokens::issue_access(
        &app.server_key,
        &app.site_id,
        &cid,
        now - chrono::Duration::minutes(20),
    )
    .unwrap();
    let res = me(&app, &app.site_id, &app.admin_key, Some(&expired)).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "TOKEN_EXPIRED");
    let foreign = shopvo::domain::customers::tokens::issue_access(
        &shopvo::crypto::ServerKey::from_secret("some-other-server-secret-of-enough-length"),
        &app.site_id,
        &cid,
        now,
    )
    .unwrap();
    let res = me(&app, &app.site_id, &app.admin_key, Some(&foreign)).await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");

    // a refresh token is for one site too
    let refresh = body["data"]["refreshToken"].as_str().unwrap();
    let res = app
        .call(
            Method::POST,
            &format!("{}/api/v1/{site_b}/auth/refresh", app.url),
            Some(&key_b),
            Some(json!({"refreshToken": refresh})),
        )
        .await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "INVALID_REFRESH_TOKEN");

    // logging in on site B with site A's credentials fails
    let res = app
        .call(
            Method::POST,
            &format!("{}/api/v1/{site_b}/auth/login", app.url),
            Some(&key_b),
            Some(json!({"email": "jane@example.com", "password": "correct horse"})),
        )
        .await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS");

    // the right token still works
    assert_eq!(
        me(&app, &app.site_id, &app.admin_key, Some(&access))
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn another_sites_customers_are_404_and_scopes_hold() {
    let app = TestApp::spawn().await;
    let jane = id(&customer(&app, json!({"email": "jane@example.com"})).await);
    let group = id(&app.post("/customer-groups", json!({"name": "VIP"})).await["data"]);

    let site_b = app.create_site("Other Store").await;
    let key_b = app.key(&site_b, &["admin:*"]).await;
    let on_b = |path: &str| format!("{}/api/v1/{site_b}{path}", app.url);
    let res = app
        .call(
            Method::GET,
            &on_b(&format!("/customers/{jane}")),
            Some(&key_b),
            None,
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = app
        .call(
            Method::PATCH,
            &on_b(&format!("/customers/{jane}")),
            Some(&key_b),
            Some(json!({"note": "mine now"})),
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = app
        .call(
            Method::DELETE,
            &on_b(&format!("/customers/{jane}")),
            Some(&key_b),
            None,
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = app
        .call(
            Method::POST,
            &on_b(&format!("/customers/{jane}/addresses")),
            Some(&key_b),
            Some(json!({"line1": "x", "city": "Riga", "country": "LV"})),
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let (_, list) = app
        .call(Method::GET, &on_b("/customers"), Some(&key_b), None)
        .await;
    assert_eq!(list["items"], json!([]));
    // site A's group cannot be used on site B
    let res = app
        .call(
            Method::POST,
            &on_b("/customers"),
            Some(&key_b),
            Some(json!({"email": "jane@example.com", "groupId": group})),
        )
        .await;
    assert_error(&res, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR");
    // the same email is free on another site
    let res = app
        .call(
            Method::POST,
            &on_b("/customers"),
            Some(&key_b),
            Some(json!({"email": "JANE@example.com"})),
        )
        .await;
    assert_eq!(res.0, StatusCode::CREATED, "{}", res.1);
    // site B's key on site A's path
    let res = app
        .call(
            Method::GET,
            &app.api(&format!("/customers/{jane}")),
            Some(&key_b),
            None,
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let note: Option<String> = sqlx::query_scalar("select note from customers where id = $1")
        .bind(&jane)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(note, None);

    // scopes: read cannot write, catalog keys cannot read customers
    let reader = app.key(&app.site_id, &["read:customers"]).await;
    let res = app
        .call(Method::GET, &app.api("/customers"), Some(&reader), None)
        .await;
    assert_eq!(res.0, StatusCode::OK);
    let res = app
        .call(
            Method::POST,
            &app.api("/customers"),
            Some(&reader),
            Some(json!({"email": "x@example.com"})),
        )
        .await;
    assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    let catalog = app.key(&app.site_id, &["read:catalog"]).await;
    let res = app
        .call(Method::GET, &app.api("/customers"), Some(&catalog), None)
        .await;
    assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    // the storefront routes still need a valid key
    let res = app
        .call(
            Method::POST,
            &app.api("/auth/login"),
            None,
            Some(json!({"email": "jane@example.com", "password": "x"})),
        )
        .await;
    assert_error(&res, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
}

#[tokio::test]
async fn concurrent_uses_of_one_refresh_token_yield_one_session() {
    let app = TestApp::spawn().await;
    let (_, body) = auth(
        &app,
        &app.admin_key,
        "register",
        json!({"email": "jane@example.com", "password": "correct horse"}),
    )
    .await;
    let refresh = body["data"]["refreshToken"].as_str().unwrap().to_string();
    let url = app.api("/auth/refresh");
    let requests = (0..10).map(|_| {
        app.client
            .post(&url)
            .bearer_auth(&app.admin_key)
            .json(&json!({"refreshToken": refresh}))
            .send()
    });
    let statuses: Vec<StatusCode> = futures::future::join_all(requests)
        .await
        .into_iter()
        .map(|r| r.unwrap().status())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        app.count("select count(*) from refresh_tokens where revoked_at is null")
            .await,
        1
    );
}

#[tokio::test]
async fn a_burst_of_concurrent_guesses_gets_five_tries() {
    let app = TestApp::spawn().await;
    auth(
        &app,
        &app.admin_key,
        "register",
        json!({"email": "jane@example.com", "password": "correct horse"}),
    )
    .await;
    let url = app.api("/auth/login");
    let requests = (0..12).map(|i| {
        app.client
            .post(&url)
            .bearer_auth(&app.admin_key)
            .json(&json!({"email": "jane@example.com", "password": format!("guess {i:03}")}))
            .send()
    });
    let statuses: Vec<StatusCode> = futures::future::join_all(requests)
        .await
        .into_iter()
        .map(|r| r.unwrap().status())
        .collect();
    let count = |s: StatusCode| statuses.iter().filter(|x| **x == s).count();
    assert_eq!(
        (
            count(StatusCode::UNAUTHORIZED),
            count(StatusCode::TOO_MANY_REQUESTS)
        ),
        (5, 7),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn session_responses_are_never_stored_for_idempotent_replay() {
    let app = TestApp::spawn().await;
    let register = app
        .client
        .post(app.api("/auth/register"))
        .bearer_auth(&app.admin_key)
        .header("Idempotency-Key", "reg-1")
        .json(&json!({"email": "jane@example.com", "password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(register.status(), StatusCode::CREATED);
    let login = || {
        app.client
            .post(app.api("/auth/login"))
            .bearer_auth(&app.admin_key)
            .header("Idempotency-Key", "login-1")
            .json(&json!({"email": "jane@example.com", "password": "correct horse"}))
            .send()
    };
    let first: Value = login().await.unwrap().json().await.unwrap();
    let second: Value = login().await.unwrap().json().await.unwrap();
    assert_ne!(
        first["data"]["refreshToken"], second["data"]["refreshToken"],
        "a login is never replayed"
    );
    assert_eq!(app.count("select count(*) from idempotency_keys").await, 0);

    // a missing field is named
    let res = auth(
        &app,
        &app.admin_key,
        "register",
        json!({"email": "john@example.com"}),
    )
    .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(res.1["details"][0]["field"], "password");
}

#[tokio::test]
async fn carts_act_for_the_customer_of_the_token() {
    let app = TestApp::spawn().await;
    let (status, body) = auth(
        &app,
        &app.admin_key.clone(),
        "register",
        json!({"email": "buyer@example.com", "password": "correct horse battery"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let buyer = body["data"]["customer"]["id"].as_str().unwrap().to_string();
    let token = body["data"]["accessToken"].as_str().unwrap().to_string();
    let other = id(&customer(&app, json!({"email": "other@example.com"})).await);

    let post_cart = |body: Value, token: Option<String>| {
        let mut req = app
            .client
            .post(app.api("/cart"))
            .bearer_auth(&app.admin_key)
            .json(&body);
        if let Some(t) = token {
            req = req.header("X-Customer-Token", t);
        }
        async move {
            let res = req.send().await.unwrap();
            (res.status(), res.json::<Value>().await.unwrap())
        }
    };
    // With a token, the cart is the token's customer's.
    let (status, body) = post_cart(json!({"currency": "EUR"}), Some(token.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["customerId"], buyer.as_str());
    // Another customer's id next to the token is refused.
    let res = post_cart(
        json!({"currency": "EUR", "customerId": other}),
        Some(token.clone()),
    )
    .await;
    assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    // Without a token, an id that is not a customer of this site is refused.
    let res = post_cart(json!({"currency": "EUR", "customerId": "cust_nope"}), None).await;
    assert_error(&res, StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR");
    assert_eq!(res.1["details"][0]["field"], "customerId");
    // A garbled token is a 401, not silently ignored.
    let res = post_cart(json!({"currency": "EUR"}), Some("garbage".into())).await;
    assert_eq!(res.0, StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("select count(*) from carts").await, 1);
}

/// Preferences keep only numbers every JSON reader reads back as written: a double near its limit came back
/// from the database as digits that no longer parse, and the customer could not be read again.
#[tokio::test]
async fn preferences_refuse_numbers_that_would_not_read_back() {
    let app = TestApp::spawn().await;
    let id = app
        .post("/customers", json!({"email": "big@example.com"}))
        .await["data"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for preferences in [
        json!({"max": -1.7976931348623157e308}),
        json!({"deep": [{"n": 876050756799401203597312u128 as f64}]}),
    ] {
        let res = app
            .admin(
                Method::PATCH,
                &format!("/customers/{id}"),
                Some(json!({"preferences": preferences})),
            )
            .await;
        common::assert_unprocessable(&res, "preferences");
    }
    let ok = json!({"size": 9007199254740991i64, "ratio": 0.25, "tiny": 2.2250738585e-313});
    let (status, body) = app
        .admin(
            Method::PATCH,
            &format!("/customers/{id}"),
            Some(json!({"preferences": ok})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let read = app.get(&format!("/customers/{id}")).await;
    assert_eq!(read["data"]["preferences"]["size"], 9007199254740991i64);
}
