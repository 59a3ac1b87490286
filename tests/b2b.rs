//! B2B over HTTP: accounts and their contacts, price lists in carts (only for active accounts), invoice
//! payment on terms, and a credit limit that two concurrent invoice orders cannot both pass.

mod common;

use common::{TestApp, assert_error, assert_unprocessable, spawn_unlimited, str_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn customer(app: &TestApp, email: &str) -> String {
    str_of(&app.post("/customers", json!({"email": email})).await["data"]["id"])
}

async fn account(app: &TestApp, body: Value) -> Value {
    app.post("/b2b/accounts", body).await["data"].clone()
}

async fn patch_account(app: &TestApp, id: &str, body: Value) -> (StatusCode, Value) {
    app.admin(Method::PATCH, &format!("/b2b/accounts/{id}"), Some(body))
        .await
}

/// A cart for `customer` holding `quantity` of each (product, variant).
async fn cart(app: &TestApp, customer: &str, lines: &[(&str, &str, i32)]) -> Value {
    let id = str_of(
        &app.post("/cart", json!({"currency": "EUR", "customerId": customer}))
            .await["data"]["id"],
    );
    let mut last = Value::Null;
    for (product, variant, quantity) in lines {
        let (status, body) = app
            .admin(
                Method::PATCH,
                &format!("/cart?cartId={id}"),
                Some(json!({"action": "add", "item": {"productId": product, "variantId": variant, "quantity": quantity}})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        last = body["data"].clone();
    }
    last
}

fn unit_prices(cart: &Value) -> Vec<i64> {
    cart["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["unitPrice"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn accounts_keep_their_contacts_and_are_searchable() {
    let app = TestApp::spawn().await;
    let ana = customer(&app, "ana@acme.com").await;
    let ben = customer(&app, "ben@acme.com").await;
    let cleo = customer(&app, "cleo@globex.com").await;
    let acme = account(
        &app,
        json!({"companyName": "Acme Corp", "taxId": "EL123456789", "paymentTerms": "NET_60",
            "contactCustomerIds": [ben, ana]}),
    )
    .await;
    assert_eq!(acme["status"], "ACTIVE");
    assert_eq!(acme["paymentTerms"], "NET_60");
    assert_eq!(
        acme["contacts"][0],
        json!({"id": ben, "email": "ben@acme.com", "isPrimary": true})
    );
    assert_eq!(acme["contacts"][1]["isPrimary"], false);
    let globex = account(
        &app,
        json!({"companyName": "Globex", "status": "PENDING", "contactCustomerIds": [cleo]}),
    )
    .await;

    // A customer is a contact of one account at most; unknown customers and lists are refused.
    let res = app
        .admin(
            Method::POST,
            "/b2b/accounts",
            Some(json!({"companyName": "Other", "contactCustomerIds": [ana]})),
        )
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    let res = app
        .admin(
            Method::POST,
            "/b2b/accounts",
            Some(json!({"companyName": "Other", "contactCustomerIds": ["cust_nope"]})),
        )
        .await;
    assert_unprocessable(&res, "contactCustomerIds[0]");
    let res = app
        .admin(
            Method::POST,
            "/b2b/accounts",
            Some(json!({"companyName": "Other", "priceListId": "pl_nope"})),
        )
        .await;
    assert_unprocessable(&res, "priceListId");
    for bad in [
        json!({"companyName": ""}),
        json!({"companyName": "X", "paymentTerms": "NET_45"}),
        json!({"companyName": "X", "creditLimit": -1}),
    ] {
        let res = app
            .admin(Method::POST, "/b2b/accounts", Some(bad.clone()))
            .await;
        assert_eq!(res.0, StatusCode::BAD_REQUEST, "{bad}: {}", res.1);
    }
    assert_eq!(app.count("select count(*) from b2b_accounts").await, 2);

    let ids = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| str_of(&a["id"]))
            .collect()
    };
    let acme_id = str_of(&acme["id"]);
    let globex_id = str_of(&globex["id"]);
    assert_eq!(
        ids(&app.get("/b2b/accounts?search=acme").await),
        vec![acme_id.as_str()]
    );
    assert_eq!(
        ids(&app.get("/b2b/accounts?search=cleo@").await),
        vec![globex_id.as_str()]
    );
    assert_eq!(
        ids(&app.get("/b2b/accounts?status=PENDING").await),
        vec![globex_id.as_str()]
    );
    let first = app.get("/b2b/accounts?cursor=&limit=1").await;
    assert_eq!(ids(&first), vec![acme_id.as_str()]);

    // Contacts are replaced whole; the first becomes primary.
    let (status, body) = patch_account(
        &app,
        &acme_id,
        json!({"contactCustomerIds": [ana], "creditLimit": 50000}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"]["contacts"],
        json!([{"id": ana, "email": "ana@acme.com", "isPrimary": true}])
    );
    assert_eq!(body["data"]["creditLimit"], 50000);
    let (_, body) = patch_account(&app, &acme_id, json!({"creditLimit": null})).await;
    assert_eq!(body["data"]["creditLimit"], Value::Null);

    let reader = app.key(&app.site_id, &["read:b2b"]).await;
    let (status, _) = app
        .call(Method::GET, &app.api("/b2b/accounts"), Some(&reader), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let res = app
        .call(
            Method::PATCH,
            &app.api(&format!("/b2b/accounts/{acme_id}")),
            Some(&reader),
            Some(json!({"status": "SUSPENDED"})),
        )
        .await;
    assert_eq!(res.0, StatusCode::FORBIDDEN, "{}", res.1);
}

#[tokio::test]
async fn an_active_accounts_contacts_buy_at_its_price_list() {
    let app = TestApp::spawn().await;
    let lamp = app
        .product(json!({"name": "Lamp", "price": 10000, "variants": [
            {"sku": "L-S", "inventoryCount": 50}, {"sku": "L-M", "price": 12000, "inventoryCount": 50}]}))
        .await;
    let (product, small, medium) = (
        str_of(&lamp["id"]),
        str_of(&lamp["variants"][0]["id"]),
        str_of(&lamp["variants"][1]["id"]),
    );
    // The product 15 % off (half up), the medium variant at a fixed 9000.
    let list = app
        .post(
            "/b2b/price-lists",
            json!({"name": "Wholesale", "entries": [
                {"productId": product, "percentOff": 15}, {"variantId": medium, "fixedPrice": 9000}]}),
        )
        .await["data"]
        .clone();
    assert_eq!(list["currency"], "EUR");
    let buyer = customer(&app, "buyer@acme.com").await;
    let retail = customer(&app, "someone@example.com").await;
    let acme = account(
        &app,
        json!({"companyName": "Acme", "priceListId": list["id"], "contactCustomerIds": [buyer]}),
    )
    .await;
    let lines = [
        (product.as_str(), small.as_str(), 1),
        (product.as_str(), medium.as_str(), 2),
    ];
    let b2b_cart = cart(&app, &buyer, &lines).await;
    assert_eq!(unit_prices(&b2b_cart), [8500, 9000]);
    assert_eq!(b2b_cart["subtotal"], 26500);
    assert_eq!(
        unit_prices(&cart(&app, &retail, &lines).await),
        [10000, 12000]
    );

    // Suspended: list prices again.
    patch_account(&app, &str_of(&acme["id"]), json!({"status": "SUSPENDED"})).await;
    assert_eq!(
        unit_prices(&cart(&app, &buyer, &lines).await),
        [10000, 12000]
    );
    patch_account(&app, &str_of(&acme["id"]), json!({"status": "ACTIVE"})).await;

    // Entries are checked; a bad write changes nothing.
    let list_path = format!("/b2b/price-lists/{}", list["id"].as_str().unwrap());
    for (entries, field) in [
        (
            json!([{"productId": "prd_nope", "percentOff": 5}]),
            "entries[0].productId",
        ),
        (
            json!([{"productId": product, "variantId": small, "percentOff": 5}]),
            "entries[0].variantId",
        ),
        (
            json!([{"productId": product, "percentOff": 5, "fixedPrice": 1}]),
            "entries[0].fixedPrice",
        ),
        (
            json!([{"productId": product, "percentOff": 5}, {"productId": product, "percentOff": 6}]),
            "entries[1]",
        ),
    ] {
        let res = app
            .admin(Method::PATCH, &list_path, Some(json!({"entries": entries})))
            .await;
        assert_unprocessable(&res, field);
    }
    let res = app
        .admin(
            Method::PATCH,
            &list_path,
            Some(json!({"entries": [{"productId": product, "percentOff": 101}]})),
        )
        .await;
    assert_eq!(res.0, StatusCode::BAD_REQUEST, "{}", res.1);
    assert_eq!(unit_prices(&cart(&app, &buyer, &lines).await), [8500, 9000]);

    // Deleting the list returns the account to list prices.
    let (status, _) = app.admin(Method::DELETE, &list_path, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        unit_prices(&cart(&app, &buyer, &lines).await),
        [10000, 12000]
    );
}

/// A checkout of `cart` for `customer` moved to `payment` with `method`; returns the session and the
/// payment step's answer.
async fn to_payment(
    app: &TestApp,
    cart: &str,
    customer: &str,
    shipping: &str,
    method: &str,
) -> (String, (StatusCode, Value)) {
    let session = str_of(&app.post("/checkout", json!({"cartId": cart})).await["data"]["id"]);
    let address = json!({"firstName": "Ana", "lastName": "Ozola", "line1": "Brīvības iela 1", "city": "Rīga",
        "postalCode": "LV-1010", "country": "LV"});
    for body in [
        json!({"sessionId": session, "state": "contact", "email": "buyer@acme.com", "customerId": customer}),
        json!({"sessionId": session, "state": "shipping", "shippingAddress": address, "shippingMethodId": shipping}),
    ] {
        let (status, res) = app.admin(Method::PATCH, "/checkout", Some(body)).await;
        assert_eq!(status, StatusCode::OK, "{res}");
    }
    let res = app
        .admin(
            Method::PATCH,
            "/checkout",
            Some(json!({"sessionId": session, "state": "payment", "paymentMethod": method})),
        )
        .await;
    (session, res)
}

#[tokio::test]
async fn invoice_orders_carry_terms_and_respect_the_credit_limit_under_concurrency() {
    let app = spawn_unlimited().await;
    let lamp = app
        .product(json!({"name": "Lamp", "price": 10000, "variants": [{"sku": "L", "inventoryCount": 100}]}))
        .await;
    let (product, variant) = (str_of(&lamp["id"]), str_of(&lamp["variants"][0]["id"]));
    let shipping = str_of(
        &app.post(
            "/shipping-methods",
            json!({"name": "Standard", "code": "standard", "price": 500, "countries": ["LV"]}),
        )
        .await["data"]["id"],
    );
    let buyer = customer(&app, "buyer@acme.com").await;
    let retail = customer(&app, "retail@example.com").await;
    let acme = account(
        &app,
        json!({"companyName": "Acme", "paymentTerms": "NET_15", "creditLimit": 15000, "contactCustomerIds": [buyer]}),
    )
    .await;

    // Not a B2B contact: no invoice.
    let c = cart(&app, &retail, &[(&product, &variant, 1)]).await;
    let (_, res) = to_payment(&app, &str_of(&c["id"]), &retail, &shipping, "invoice").await;
    assert_unprocessable(&res, "paymentMethod");

    // Two invoice orders of 10500 each at once against a 15000 limit: one is placed.
    let mut sessions = Vec::new();
    for _ in 0..2 {
        let c = cart(&app, &buyer, &[(&product, &variant, 1)]).await;
        let (session, (status, body)) =
            to_payment(&app, &str_of(&c["id"]), &buyer, &shipping, "invoice").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = app
            .admin(
                Method::PATCH,
                "/checkout",
                Some(json!({"sessionId": session, "state": "review"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        sessions.push(session);
    }
    let completes = sessions.iter().map(|s| {
        app.admin(
            Method::PATCH,
            "/checkout",
            Some(json!({"sessionId": s, "state": "complete"})),
        )
    });
    let results = futures::future::join_all(completes).await;
    let placed: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::OK)
        .map(|(_, b)| b)
        .collect();
    assert_eq!(placed.len(), 1, "{results:?}");
    let refused = results.iter().find(|(s, _)| *s != StatusCode::OK).unwrap();
    assert_error(refused, StatusCode::CONFLICT, "CREDIT_LIMIT_EXCEEDED");
    let order = &placed[0]["data"]["order"];
    assert_eq!(order["paymentMethod"], "invoice");
    assert_eq!(order["paymentStatus"], "PENDING");
    assert_eq!(order["paymentTerms"], "NET_15");
    assert_eq!(order["b2bAccountId"], acme["id"]);
    let due = chrono::DateTime::parse_from_rfc3339(order["dueAt"].as_str().unwrap()).unwrap();
    let days = (due.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_days();
    assert!((14..=15).contains(&days), "{days}");
    assert_eq!(app.count("select count(*) from orders").await, 1);

    // Once the first invoice is paid, the second fits.
    let order_id = str_of(&order["id"]);
    let (status, _) = app
        .admin(
            Method::PATCH,
            &format!("/orders/{order_id}"),
            Some(json!({"paymentStatus": "PAID"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let refused_session = sessions
        .iter()
        .find(|s| **s != str_of(&order["checkoutSessionId"]))
        .unwrap();
    let (status, body) = app
        .admin(
            Method::PATCH,
            "/checkout",
            Some(json!({"sessionId": refused_session, "state": "complete"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A suspended account cannot pay by invoice.
    patch_account(&app, &str_of(&acme["id"]), json!({"status": "SUSPENDED"})).await;
    let c = cart(&app, &buyer, &[(&product, &variant, 1)]).await;
    let (_, res) = to_payment(&app, &str_of(&c["id"]), &buyer, &shipping, "invoice").await;
    assert_unprocessable(&res, "paymentMethod");
}

#[tokio::test]
async fn a_contact_reads_its_prices_with_its_customer_token_and_nobody_else_does() {
    let app = TestApp::spawn().await;
    let lamp = app
        .product(json!({"name": "Lamp", "price": 10000, "variants": [
            {"sku": "L-S", "inventoryCount": 5}, {"sku": "L-M", "price": 12000, "inventoryCount": 5}]}))
        .await;
    let product = str_of(&lamp["id"]);
    let list = app
        .post(
            "/b2b/price-lists",
            json!({"name": "Wholesale", "entries": [{"productId": product, "percentOff": 10}]}),
        )
        .await["data"]
        .clone();
    let (status, body) = app
        .call(
            Method::POST,
            &app.api("/auth/register"),
            Some(&app.admin_key),
            Some(json!({"email": "buyer@acme.com", "password": "correct horse"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = str_of(&body["data"]["accessToken"]);
    let buyer = str_of(&body["data"]["customer"]["id"]);
    account(
        &app,
        json!({"companyName": "Acme", "priceListId": list["id"], "contactCustomerIds": [buyer]}),
    )
    .await;

    let read = |path: String, token: Option<String>| {
        let app = &app;
        async move {
            let mut req = app.client.get(app.api(&path)).bearer_auth(&app.admin_key);
            if let Some(token) = token {
                req = req.header("X-Customer-Token", token);
            }
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<Value>().await.unwrap()
        }
    };
    // Read without the token first: the 1-second cache must not hand this answer to the contact, nor the
    // contact's to anyone else.
    let plain = read(format!("/products/{product}"), None).await;
    assert_eq!(plain["data"]["price"], 10000);
    let theirs = read(format!("/products/{product}"), Some(token.clone())).await;
    assert_eq!(theirs["data"]["price"], 9000);
    assert_eq!(theirs["data"]["variants"][0]["price"], 9000);
    assert_eq!(theirs["data"]["variants"][1]["price"], 10800);
    let listed = read("/products?expand[]=variants".into(), Some(token)).await;
    assert_eq!(listed["items"][0]["price"], 9000);
    assert_eq!(listed["items"][0]["variants"][1]["price"], 10800);
    let plain = read(format!("/products/{product}"), None).await;
    assert_eq!(plain["data"]["price"], 10000);
    assert_eq!(plain["data"]["variants"][1]["price"], 12000);
}
