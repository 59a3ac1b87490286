//! The Mozello Store API over HTTP, as its clients call it: `Authorization: ApiKey`, both path spellings,
//! flat single objects with `"error": false`, multilanguage text, exact money, batches by handle or SKU,
//! pages walked by `next_page_uri`, and Mozello's error shape for everything refused.

mod common;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::receiver::Receiver;
use common::{TestApp, spawn_unlimited, str_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shopvo::config::{Config, WebhookSettings};
use shopvo::domain::media;
use shopvo::jobs::webhooks::Worker;

struct Store {
    app: TestApp,
    key: String,
}

async fn store() -> Store {
    store_with(spawn_unlimited().await).await
}

async fn store_with(app: TestApp) -> Store {
    let (status, body) = app
        .admin(
            Method::PATCH,
            "/site",
            Some(json!({"locale": "en", "locales": ["en", "lv"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let body = app.post("/integrations/mozello/keys", json!({})).await;
    let key = str_of(&body["data"]["apiKey"]);
    assert!(key.starts_with("MZL-"));
    Store { app, key }
}

impl Store {
    async fn call(&self, method: Method, path: &str, body: Option<&str>) -> (StatusCode, Value) {
        let mut req = self
            .app
            .client
            .request(method, format!("{}/v1{path}", self.app.url))
            .header("Authorization", format!("ApiKey {}", self.key));
        if let Some(body) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let res = req.send().await.unwrap();
        (res.status(), res.json().await.unwrap_or(Value::Null))
    }

    async fn send(&self, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(method, path, Some(&body.to_string())).await
    }

    async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(Method::GET, path, None).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        assert_eq!(body["error"], false, "{body}");
        body
    }
}

/// A store whose notifications may go to a local receiver, and a delivery worker for it.
async fn notifying_store() -> (Store, Worker) {
    let webhooks = WebhookSettings {
        retry_schedule: vec![Duration::from_millis(50); 3],
        allow_private: true,
        ..WebhookSettings::default()
    };
    let app = TestApp::spawn_with(Config {
        webhooks: webhooks.clone(),
        rate_limit: false,
        ..Config::default()
    })
    .await;
    let worker = Worker::new(app.pool.clone(), Arc::new(app.server_key.clone()), webhooks).unwrap();
    (store_with(app).await, worker)
}

fn mz_error(status: u16, message: &str) -> Value {
    json!({"error": true, "error_code": status, "error_message": message})
}

fn phone() -> Value {
    json!({
        "handle": "uid-1234567890",
        "category": {"path": [{"en": "Gadgets", "lv": "Ierīces"}, {"en": "Smartphones", "lv": "Viedtālruņi"}]},
        "title": {"en": "Apple iPhone 12 Pro", "lv": null},
        "description": {"en": "A <b>rather good</b> phone.", "lv": "<b>Diezgan normāls</b> telefons."},
        "url": {"en": "apple-iphone-12-pro", "lv": null},
        "variants": [
            {"variant_no": 1, "option_name1": {"en": "Memory", "lv": "Atmiņa"}, "option_name2": "Color",
             "option_name3": null, "option_value1": "128 GB", "option_value2": {"en": "Space Grey", "lv": "Space Pelēka"},
             "option_value3": null, "price": null, "sale_price": null, "sku": "WHATEVR1", "stock": 1},
            {"variant_no": 2, "option_name1": {"en": "Memory", "lv": "Atmiņa"}, "option_name2": "Color",
             "option_name3": null, "option_value1": "256 GB", "option_value2": {"en": "Pacific Blue"},
             "option_value3": null, "price": 120.99, "sale_price": null, "sku": "WHATEVR2", "stock": 5}
        ],
        "price": 100.5, "sale_price": 95, "sku": null, "stock": null, "visible": true, "featured": false,
        "tax": null, "vendor": "Apple", "model": "iPhone 12 Pro"
    })
}

#[tokio::test]
async fn keys_and_errors_are_mozellos() {
    let store = store().await;
    let app = &store.app;
    let anonymous = app
        .client
        .get(format!("{}/v1/store/products/", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.json::<Value>().await.unwrap(),
        mz_error(401, "Unauthorized")
    );

    // Listed and revoked through the native API: the next call is a 401.
    let keys = app.get("/integrations/mozello/keys").await;
    let id = str_of(&keys["data"][0]["id"]);
    assert_eq!(keys["data"][0]["active"], true);
    assert!(keys["data"][0].get("apiKey").is_none());
    store.get("/store/products/").await;
    let (status, _) = app
        .admin(
            Method::DELETE,
            &format!("/integrations/mozello/keys/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = store.call(Method::GET, "/store/products", None).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, mz_error(401, "Unauthorized"))
    );
}

#[tokio::test]
async fn a_product_round_trips_in_every_language_with_exact_money() {
    let store = store().await;
    let (status, created) = store
        .send(Method::POST, "/store/product/", json!({"product": phone()}))
        .await;
    // Every success is a 200 with `"error": false`, creates included; a single product is flat.
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["error"], false);
    assert_eq!(created["handle"], "uid-1234567890");

    for path in [
        "/store/product/uid-1234567890/",
        "/store/product/uid-1234567890",
    ] {
        let p = store.get(path).await;
        assert_eq!(p["title"], json!({"en": "Apple iPhone 12 Pro", "lv": null}));
        assert_eq!(
            p["description"],
            json!({"en": "A <b>rather good</b> phone.", "lv": "<b>Diezgan normāls</b> telefons."})
        );
        assert_eq!(p["url"]["en"], "apple-iphone-12-pro");
        assert_eq!(
            (p["price"].clone(), p["sale_price"].clone()),
            (json!(100.5), json!(95))
        );
        assert_eq!(p["visible"], true);
        assert_eq!(p["vendor"], "Apple");
        assert_eq!(p["model"], "iPhone 12 Pro");
        assert_eq!(
            p["category"]["path"],
            json!([{"en": "Gadgets", "lv": "Ierīces"}, {"en": "Smartphones", "lv": "Viedtālruņi"}])
        );
        let variants = p["variants"].as_array().unwrap();
        assert_eq!(variants.len(), 2);
        assert_eq!(variants[0]["sku"], "WHATEVR1");
        assert_eq!(variants[0]["option_name1"], "Memory");
        assert_eq!(variants[0]["option_value2"], "Space Grey");
        assert_eq!(variants[0]["stock"], 1);
        assert_eq!(variants[1]["price"], json!(120.99));
        assert_eq!(variants[1]["stock"], 5);
    }
    // Stored exactly, in cents.
    assert_eq!(
        store
            .app
            .count("select price + compare_at_price from products where handle = 'uid-1234567890'")
            .await,
        9500 + 10050
    );

    // A partial update; variants replaced as a whole (the one kept by SKU keeps its id).
    let kept_id: String = sqlx::query_scalar("select id from variants where sku = 'WHATEVR2'")
        .fetch_one(&store.app.pool)
        .await
        .unwrap();
    let update = json!({"product": {"price": 110, "sale_price": null, "title": {"lv": "Telefons"},
        "variants": [{"option_name1": "Memory", "option_value1": "256 GB", "sku": "WHATEVR2", "stock": 7},
                     {"option_name1": "Memory", "option_value1": "512 GB", "sku": "WHATEVR3", "stock": null}]}});
    let (status, p) = store
        .send(Method::PUT, "/store/product/uid-1234567890/", update)
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(
        (p["price"].clone(), p["sale_price"].clone()),
        (json!(110), Value::Null)
    );
    assert_eq!(
        p["title"],
        json!({"en": "Apple iPhone 12 Pro", "lv": "Telefons"})
    );
    let skus: Vec<&str> = p["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus, ["WHATEVR2", "WHATEVR3"]);
    assert_eq!(p["variants"][0]["stock"], 7);
    // `stock: null`: not tracked.
    assert_eq!(p["variants"][1]["stock"], Value::Null);
    let still: i64 = store
        .app
        .count(&format!(
            "select count(*) from variants where id = '{kept_id}'"
        ))
        .await;
    assert_eq!(still, 1);
    assert_eq!(
        store
            .app
            .count("select count(*) from variants where sku = 'WHATEVR1'")
            .await,
        0
    );
    // Every stock change went through the ledger with source `mozello`, and only changes did.
    let ledger: Vec<(String, i32)> = sqlx::query_as(
        "select source, delta from inventory_ledger l join variants v on v.id = l.variant_id \
         where v.sku = 'WHATEVR2' order by l.id",
    )
    .fetch_all(&store.app.pool)
    .await
    .unwrap();
    assert_eq!(
        ledger,
        [("mozello".to_string(), 5), ("mozello".to_string(), 2)]
    );

    // `text_update_mode: overwrite` replaces a multilanguage field whole: languages left out are cleared.
    let (status, p) = store
        .send(
            Method::PUT,
            "/store/product/uid-1234567890",
            json!({"product": {"description": {"en": "Plain."}, "options": {"text_update_mode": "overwrite"}}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    assert_eq!(p["description"], json!({"en": "Plain.", "lv": null}));
    assert_eq!(
        p["title"],
        json!({"en": "Apple iPhone 12 Pro", "lv": "Telefons"})
    );

    // Delete, then a 404 in Mozello's shape.
    let (status, body) = store
        .call(Method::DELETE, "/store/product/uid-1234567890/", None)
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"error": false})));
    let (status, body) = store
        .call(Method::DELETE, "/store/product/uid-1234567890/", None)
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::NOT_FOUND, mz_error(404, "Product not found"))
    );
}

#[tokio::test]
async fn bad_input_is_refused_in_mozellos_shape_and_changes_nothing() {
    let store = store().await;
    let cases = [
        (
            json!({"product": {"handle": "a", "category": {"path": ["X"]}, "category_handle": "c"}}),
            "Only category or category_handle can be specified, not both",
        ),
        (
            json!({"product": {"handle": "a", "title": {"de": "Hallo"}}}),
            "Language `de` in `title` is not one of the website's languages",
        ),
        (
            json!({"product": {"handle": "a", "price": 1.999}}),
            "`price` must be a non-negative amount with at most 2 decimals",
        ),
        (
            json!({"product": {"title": "No handle"}}),
            "Product handle is mandatory when creating new product",
        ),
    ];
    for (body, message) in cases {
        let res = store.send(Method::POST, "/store/product/", body).await;
        assert_eq!(res, (StatusCode::BAD_REQUEST, mz_error(400, message)));
    }
    let res = store
        .call(Method::POST, "/store/product/", Some("{not json"))
        .await;
    assert_eq!(res.0, StatusCode::BAD_REQUEST);
    assert_eq!(res.1["error"], true);
    let res = store.call(Method::GET, "/store/product/nope/", None).await;
    assert_eq!(
        res,
        (StatusCode::NOT_FOUND, mz_error(404, "Product not found"))
    );
    let items = vec![json!({"handle": "x"}); 1001];
    let res = store
        .send(
            Method::POST,
            "/store/products/batch-update/",
            json!({"products": items}),
        )
        .await;
    assert_eq!(
        res,
        (
            StatusCode::BAD_REQUEST,
            mz_error(400, "Too many items: at most 1000 per call")
        )
    );
    assert_eq!(store.app.count("select count(*) from products").await, 0);
}

#[tokio::test]
async fn batches_follow_the_handle_then_the_sku() {
    let store = store().await;
    let (status, body) = store
        .send(
            Method::POST,
            "/store/products/batch-update/",
            json!({"products": [
                {"handle": "h-1", "title": "One", "price": 10, "sku": "ONE", "stock": 3},
                {"handle": "h-2", "title": "Two", "price": 20.5, "sku": "TWO"},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["products"][0]["result"], "created");
    // The other spelling; a known handle updates, no handle goes by SKU, an unknown SKU is ignored.
    let (status, body) = store
        .send(
            Method::POST,
            "/store/products/batch_update/",
            json!({"products": [
                {"handle": "h-1", "price": 11},
                {"sku": "TWO", "visible": false},
                {"sku": "NOPE", "price": 1},
                {"handle": "h-3", "title": "Three", "price": 1, "category_handle": "missing"},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results: Vec<&str> = body["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["updated", "updated", "ignored", "error"]);
    assert_eq!(store.get("/store/product/h-1/").await["price"], 11);
    assert_eq!(store.get("/store/product/h-2/").await["visible"], false);
    // The failed item changed nothing.
    assert_eq!(store.app.count("select count(*) from products").await, 2);

    // By SKU: price, special price and stock.
    let (status, body) = store
        .send(
            Method::POST,
            "/store/products/batch-update-by-sku/",
            json!({"products": [{"sku": "ONE", "stock": 9, "special_price": 8.5}, {"sku": "GONE", "stock": 1}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["products"][1]["result"], "ignored");
    let one = store.get("/store/product/h-1").await;
    assert_eq!(
        (
            one["price"].clone(),
            one["sale_price"].clone(),
            one["stock"].clone()
        ),
        (json!(11), json!(8.5), json!(9))
    );

    // A variant of a product with several keeps its own price; the later of two items for one SKU wins.
    let (status, body) = store
        .send(Method::POST, "/store/product/", json!({"product": {"handle": "v", "title": "V", "price": 30,
            "variants": [{"option_name1": "Size", "option_value1": "S", "sku": "V-S", "stock": 1},
                         {"option_name1": "Size", "option_value1": "M", "sku": "V-M", "stock": 1}]}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = store
        .send(
            Method::POST,
            "/store/products/batch_update_by_sku/",
            json!({"products": [{"sku": "V-M", "price": 35}, {"sku": "V-M", "price": 36, "stock": 4},
                                {"sku": "V-S", "stock": -1}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results: Vec<&str> = body["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["updated", "updated", "error"]);
    let v = store.get("/store/product/v/").await;
    // A variant without its own price shows none (it sells at the product's).
    assert_eq!(
        (v["price"].clone(), v["variants"][0]["price"].clone()),
        (json!(30), Value::Null)
    );
    assert_eq!(
        (
            v["variants"][1]["price"].clone(),
            v["variants"][1]["stock"].clone()
        ),
        (json!(36), json!(4))
    );
    assert_eq!(v["variants"][0]["stock"], 1);
    store.call(Method::DELETE, "/store/product/v/", None).await;

    // Delete by SKU and by handle.
    let (status, body) = store
        .send(
            Method::POST,
            "/store/products/batch_delete/",
            json!({"products": [{"sku": "ONE"}, {"handle": "h-2"}, {"handle": "h-9"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results: Vec<&str> = body["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["deleted", "deleted", "ignored"]);
    assert_eq!(store.app.count("select count(*) from products").await, 0);
}

#[tokio::test]
async fn lists_walk_by_next_page_uri_and_filters_all_hold() {
    let store = store().await;
    let products: Vec<Value> = (1..=5)
        .map(|i| json!({"handle": format!("p-{i}"), "title": format!("P{i}"), "price": i}))
        .collect();
    let (status, _) = store
        .send(
            Method::POST,
            "/store/products/batch-update/",
            json!({"products": products}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut seen = Vec::new();
    let mut uri = "/store/products/?page_size=2".to_string();
    loop {
        let page = store.get(&uri).await;
        seen.extend(
            page["products"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| str_of(&p["handle"])),
        );
        match page["next_page_uri"].as_str() {
            Some(next) => {
                assert!(next.starts_with("/store/products/?"), "{next}");
                uri = next.to_string();
            }
            None => break,
        }
    }
    assert_eq!(seen, ["p-1", "p-2", "p-3", "p-4", "p-5"]);
    let page = store.get("/store/products/?desc=1&page_size=2").await;
    assert_eq!(page["products"][0]["handle"], "p-5");
    let page = store
        .get("/store/products/?filter=created_at>=2000-01-01+00:00:00&filter=created_at<=2000-12-31+23:59:59")
        .await;
    assert_eq!(page["products"], json!([]));
    let page = store
        .get("/store/products/?filter=modified_at>=2000-01-01+00:00:00")
        .await;
    assert_eq!(page["products"].as_array().unwrap().len(), 5);
    let res = store
        .call(Method::GET, "/store/products/?filter=price>1", None)
        .await;
    assert_eq!(
        res,
        (
            StatusCode::BAD_REQUEST,
            mz_error(400, "Invalid filter `price>1`")
        )
    );
}

#[tokio::test]
async fn notification_settings_under_both_names() {
    let store = store().await;
    let empty = store.get("/api-configuration/").await;
    assert_eq!(
        empty,
        json!({"error": false, "notifications_url": null, "notifications_wanted": []})
    );
    let (status, body) = store
        .send(
            Method::PUT,
            "/store/notifications/",
            json!({"notifications_url": "https://www.example.com/notifications.php",
                   "notifications_wanted": ["ORDER_CREATED", "STOCK_CHANGED"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let read = store.get("/api-configuration").await;
    assert_eq!(
        read["notifications_url"],
        "https://www.example.com/notifications.php"
    );
    assert_eq!(
        read["notifications_wanted"],
        json!(["ORDER_CREATED", "STOCK_CHANGED"])
    );
    let (status, body) = store
        .send(
            Method::PUT,
            "/api-configuration/",
            json!({"notifications_wanted": ["NOPE"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = store
        .send(
            Method::PUT,
            "/api-configuration/",
            json!({"notifications_url": "http://127.0.0.1:9/x"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_key_makes_five_requests_a_second() {
    let store = store_with(TestApp::spawn().await).await;
    let mut limited = None;
    for _ in 0..12 {
        let res = store
            .app
            .client
            .get(format!("{}/v1/store/products/", store.app.url))
            .header("Authorization", format!("ApiKey {}", store.key))
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some((
                res.headers().get("retry-after").cloned(),
                res.json::<Value>().await.unwrap(),
            ));
            break;
        }
    }
    let (retry_after, body) = limited.expect("the sixth request within a second is refused");
    assert_eq!(retry_after.unwrap(), "1");
    assert_eq!(body["error"], true);
    assert_eq!(body["error_code"], 429);
}

/// Places an order through the checkout with the admin key: one unit of `sku`'s product, shipped to Riga.
async fn place_order(app: &TestApp, product: &str, variant: &str) -> Value {
    let method = app
        .post(
            "/shipping-methods",
            json!({"name": "Omniva", "code": "omniva-latvija", "price": 1000, "countries": ["LV"]}),
        )
        .await;
    let (status, cart) = app
        .admin(
            Method::POST,
            "/cart",
            Some(json!({"sessionId": "s", "currency": "EUR"})),
        )
        .await;
    assert!(status.is_success(), "{cart}");
    let cart = str_of(&cart["data"]["id"]);
    let (status, body) = app
        .admin(
            Method::PATCH,
            &format!("/cart?cartId={cart}"),
            Some(json!({"action": "add", "item": {"productId": product, "variantId": variant, "quantity": 2}})),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let session = str_of(&app.post("/checkout", json!({"cartId": cart})).await["data"]["id"]);
    let steps = [
        json!({"state": "contact", "email": "johnsmith@example.com"}),
        json!({"state": "shipping", "shippingMethodId": str_of(&method["data"]["id"]), "shippingAddress": {
            "firstName": "John", "lastName": "Smith", "line1": "Summer street 10", "city": "Riga",
            "postalCode": "LV-1000", "country": "LV"}}),
        json!({"state": "payment", "paymentMethod": "manual"}),
        json!({"state": "review"}),
        json!({"state": "complete"}),
    ];
    let mut data = Value::Null;
    for mut body in steps {
        body["sessionId"] = json!(session);
        let (status, res) = app.admin(Method::PATCH, "/checkout", Some(body)).await;
        assert!(status.is_success(), "{res}");
        data = res["data"].clone();
    }
    data["order"].clone()
}

#[tokio::test]
async fn orders_in_mozellos_structure_and_their_updates() {
    let store = store().await;
    let (status, _) = store
        .send(
            Method::POST,
            "/store/product/",
            json!({"product": {"handle": "tr-1", "title": "Trousers",
            "price": 50, "sku": "TR-12345", "stock": 10}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let product: String = sqlx::query_scalar("select id from products where handle = 'tr-1'")
        .fetch_one(&store.app.pool)
        .await
        .unwrap();
    let variant: String = sqlx::query_scalar("select id from variants where sku = 'TR-12345'")
        .fetch_one(&store.app.pool)
        .await
        .unwrap();
    place_order(&store.app, &product, &variant).await;
    let number: i64 = store.app.count("select number from orders").await;
    let order_id = format!("ORD-{number}");

    let list = store.get("/store/orders/").await;
    let order = &list["orders"][0];
    assert_eq!(order["order_id"], json!(order_id));
    assert_eq!(order["payment_status"], "pending");
    assert_eq!(order["name"], "John Smith");
    assert_eq!(order["city"], "Riga");
    assert_eq!(order["zip"], "LV-1000");
    assert_eq!(order["shipping"]["address"], "Summer street 10");
    assert_eq!(order["shipping_method"], "omniva-latvija");
    assert_eq!(order["subtotal"], 100);
    assert_eq!(order["shipping_price"], 10);
    assert_eq!(order["cart"][0]["product_handle"], "tr-1");
    assert_eq!(order["cart"][0]["product_sku"], "TR-12345");
    assert_eq!(order["cart"][0]["product_price"], 50);
    assert_eq!(order["cart"][0]["product_quantity"], 2);
    let created = str_of(&order["created_at"]);
    assert_eq!(created.len(), 19, "{created}");
    assert_eq!(&created[10..11], " ");
    assert_eq!(list["next_page_uri"], Value::Null);

    // Paid, then dispatched with tracking (which archives it).
    let (status, body) = store
        .send(
            Method::PUT,
            &format!("/store/order/{order_id}/"),
            json!({"order": {"payment_status": "paid"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["error"].clone(), body["payment_status"].clone()),
        (json!(false), json!("paid"))
    );
    let (status, body) = store
        .send(
            Method::PUT,
            &format!("/store/order/{order_id}"),
            json!({"order": {"dispatched": true, "shipping_tracking_code": "RR123", "shipping_tracking_url": "https://track.example.com/RR123"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["dispatched"], true);
    assert_eq!(body["archived"], true);
    assert_eq!(body["shipping_tracking_code"], "RR123");
    assert_eq!(
        store.get("/store/orders/?archived=false").await["orders"],
        json!([])
    );
    assert_eq!(
        store.get("/store/orders/?archived=true").await["orders"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let res = store
        .send(
            Method::PUT,
            &format!("/store/order/{order_id}/"),
            json!({"order": {"payment_status": "refunded"}}),
        )
        .await;
    assert_eq!(
        res,
        (
            StatusCode::BAD_REQUEST,
            mz_error(400, "`payment_status` must be paid, pending or failed")
        )
    );
    let res = store
        .call(Method::GET, "/store/order/ORD-999999/", None)
        .await;
    assert_eq!(
        res,
        (StatusCode::NOT_FOUND, mz_error(404, "Order not found"))
    );
}

/// A real 1×1 GIF.
const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";

#[tokio::test]
async fn pictures_upload_list_and_delete() {
    let dir = std::env::temp_dir().join(format!(
        "shopvo-mozello-{}-{}",
        std::process::id(),
        shopvo::crypto::random_token(8)
    ));
    let config = Config {
        rate_limit: false,
        media: media::Settings {
            max_bytes: 1 << 20,
            public_url: "http://127.0.0.1:9/media".into(),
            backend: media::Backend::Local { dir: dir.clone() },
        },
        ..Config::default()
    };
    let store = store_with(TestApp::spawn_with(config).await).await;
    let (status, _) = store
        .send(
            Method::POST,
            "/store/product/",
            json!({"product": {"handle": "pic", "title": "Pic", "price": 1}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let upload = json!({"picture": {"data": BASE64.encode(GIF), "filename": "dot.gif"}});
    let (status, body) = store
        .send(Method::POST, "/store/product/pic/picture/", upload)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["error"], false);
    let uid = str_of(&body["picture"]["uid"]);
    let url = str_of(&body["picture"]["url"]);
    assert!(url.starts_with("http://127.0.0.1:9/media/"), "{url}");
    let listed = store.get("/store/product/pic/pictures/").await;
    assert_eq!(
        listed,
        json!({"error": false, "pictures": [{"uid": uid, "url": url}]})
    );
    assert_eq!(
        store.get("/store/product/pic/").await["pictures"],
        json!([{"uid": uid, "url": url}])
    );
    // Not an image: refused, nothing stored.
    let text = json!({"picture": {"data": BASE64.encode(b"hello, world"), "filename": "a.gif"}});
    let (status, body) = store
        .send(Method::POST, "/store/product/pic/picture/", text)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        store.app.count("select count(*) from product_images").await,
        1
    );
    let (status, body) = store
        .call(
            Method::DELETE,
            &format!("/store/product/pic/picture/{uid}/"),
            None,
        )
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"error": false})));
    assert_eq!(
        store.get("/store/product/pic/pictures").await["pictures"],
        json!([])
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn notifications_are_signed_with_the_key_and_leave_out_the_dialects_own_changes() {
    let (store, worker) = notifying_store().await;
    let (status, body) = store
        .app
        .admin(Method::PATCH, "/site", Some(json!({"alias": "my-shop"})))
        .await;
    assert_eq!(
        (status, body["data"]["alias"].clone()),
        (StatusCode::OK, json!("my-shop"))
    );
    let receiver = Receiver::start().await;
    let (status, body) = store
        .send(
            Method::PUT,
            "/store/notifications/",
            json!({"notifications_url": receiver.url("/ok"),
                   "notifications_wanted": ["PRODUCT_CHANGED", "STOCK_CHANGED", "PRODUCT_DELETED"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A change through this API is not notified; one made elsewhere (the native API) is.
    let (status, _) = store
        .send(
            Method::POST,
            "/store/product/",
            json!({"product": {"handle": "n-1", "title": "N", "price": 5, "stock": 2}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let id: String = sqlx::query_scalar("select id from products where handle = 'n-1'")
        .fetch_one(&store.app.pool)
        .await
        .unwrap();
    let (status, body) = store
        .app
        .admin(
            Method::PATCH,
            &format!("/products/{id}"),
            Some(json!({"name": "Renamed"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    worker.drain().await.unwrap();
    let got = receiver.at("/ok");
    assert_eq!(got.len(), 1, "{got:?}");
    let request = &got[0];
    let body = request.json();
    assert_eq!(body["event"], "PRODUCT_CHANGED");
    assert_eq!(body["product"]["handle"], "n-1");
    assert_eq!(body["product"]["title"]["en"], "Renamed");
    assert_eq!(request.header("x-mozello-api-version"), "1");
    assert_eq!(request.header("x-mozello-alias"), "my-shop");
    // The receiver's check, as Mozello documents it: base64 HMAC-SHA256 of the raw body with the API key.
    let expected = BASE64.encode(shopvo::crypto::hmac_sha256(
        store.key.as_bytes(),
        request.body.as_bytes(),
    ));
    assert_eq!(request.header("x-mozello-hash"), expected);

    // A stock change made elsewhere is STOCK_CHANGED with the new stock; a delete is PRODUCT_DELETED.
    let (status, body) = store
        .app
        .admin(
            Method::POST,
            &format!("/inventory/{id}"),
            Some(json!({"operation": "set", "quantity": 7})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    worker.drain().await.unwrap();
    let (status, _) = store
        .app
        .admin(Method::DELETE, &format!("/products/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    worker.drain().await.unwrap();
    let events: Vec<Value> = receiver.at("/ok")[1..].iter().map(|r| r.json()).collect();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["event"], "STOCK_CHANGED");
    assert_eq!(events[0]["product"]["stock"], 7);
    assert_eq!(
        events[1],
        json!({"event": "PRODUCT_DELETED", "product": {"handle": "n-1"}})
    );
}

#[tokio::test]
async fn the_category_tree_keeps_three_levels_and_sibling_order() {
    let store = store().await;
    let create = |category: Value| {
        let store = &store;
        async move {
            let (status, body) = store
                .send(
                    Method::POST,
                    "/store/category/",
                    json!({"category": category}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            str_of(&body["handle"])
        }
    };
    let gadgets =
        create(json!({"title": {"en": "Gadgets", "lv": "Ierīces"}, "seo_url": "gadgets"})).await;
    let books = create(json!({"title": "Books", "previous_handle": gadgets})).await;
    let phones = create(json!({"title": "Phones", "parent_handle": gadgets})).await;
    let android = create(json!({"title": "Android", "parent_handle": phones})).await;
    // A fourth level is refused.
    let res = store
        .send(
            Method::POST,
            "/store/category",
            json!({"category": {"title": "Deep", "parent_handle": android}}),
        )
        .await;
    assert_eq!(res.0, StatusCode::BAD_REQUEST, "{}", res.1);

    let got = store.get(&format!("/store/category/{gadgets}/")).await;
    assert_eq!(got["title"], json!({"en": "Gadgets", "lv": "Ierīces"}));
    assert_eq!(
        (got["level"].clone(), got["seo_url"].clone()),
        (json!(1), json!("gadgets"))
    );
    let list = store.get("/store/categories").await;
    let order: Vec<(String, i64, Value)> = list["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                str_of(&c["handle"]),
                c["level"].as_i64().unwrap(),
                c["previous_handle"].clone(),
            )
        })
        .collect();
    assert_eq!(
        order,
        [
            (gadgets.clone(), 1, Value::Null),
            (phones.clone(), 2, Value::Null),
            (android.clone(), 3, Value::Null),
            (books.clone(), 1, json!(gadgets)),
        ]
    );

    // Moving: under a descendant, or a subtree below the third level, is refused; a legal move places it.
    let res = store
        .send(
            Method::POST,
            &format!("/store/category/{gadgets}/move/"),
            json!({"parent_handle": android, "previous_handle": null}),
        )
        .await;
    assert_eq!(res.0, StatusCode::BAD_REQUEST, "{}", res.1);
    let res = store
        .send(
            Method::POST,
            &format!("/store/category/{phones}/move"),
            json!({"parent_handle": books, "previous_handle": null}),
        )
        .await;
    assert_eq!(res.0, StatusCode::OK, "{}", res.1);
    assert_eq!(res.1["parent_handle"], json!(books));
    assert_eq!(
        store.get(&format!("/store/category/{android}")).await["level"],
        3
    );
    let res = store
        .send(
            Method::POST,
            &format!("/store/category/{books}/move/"),
            json!({"parent_handle": null, "previous_handle": null}),
        )
        .await;
    assert_eq!(res.0, StatusCode::OK, "{}", res.1);
    let first = store.get("/store/categories/").await["categories"][0]["handle"].clone();
    assert_eq!(first, json!(books));

    // A product in a category loses it when the category goes; one with sub-categories cannot go.
    let (status, body) = store
        .send(Method::POST, "/store/product/", json!({"product": {"handle": "p", "title": "P", "price": 1, "category_handle": android}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["category_handle"], json!(android));
    let res = store
        .call(Method::DELETE, &format!("/store/category/{phones}/"), None)
        .await;
    assert_eq!(res.0, StatusCode::BAD_REQUEST, "{}", res.1);
    let res = store
        .call(Method::DELETE, &format!("/store/category/{android}/"), None)
        .await;
    assert_eq!(res, (StatusCode::OK, json!({"error": false})));
    assert_eq!(
        store.get("/store/product/p").await["category_handle"],
        Value::Null
    );
    let res = store.call(Method::GET, "/store/category/nope/", None).await;
    assert_eq!(
        res,
        (StatusCode::NOT_FOUND, mz_error(404, "Category not found"))
    );
}

#[tokio::test]
async fn concurrent_batches_by_sku_and_native_writes_neither_deadlock_nor_lose_stock() {
    let store = Arc::new(store().await);
    let products: Vec<Value> = (0..4)
        .map(|i| json!({"handle": format!("c-{i}"), "title": format!("C{i}"), "price": 10,
            "variants": [{"option_name1": "Size", "option_value1": "S", "sku": format!("C{i}-S"), "stock": 1},
                         {"option_name1": "Size", "option_value1": "M", "sku": format!("C{i}-M"), "stock": 1}]}))
        .collect();
    let (status, _) = store
        .send(
            Method::POST,
            "/store/products/batch-update/",
            json!({"products": products}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // (product, variant) pairs the native API changes meanwhile: it locks the product, then the variant.
    let ids: Vec<(String, String)> =
        sqlx::query_as("select product_id, id from variants order by sku")
            .fetch_all(&store.app.pool)
            .await
            .unwrap();
    let mut tasks = Vec::new();
    for round in 0..8usize {
        let batch_store = store.clone();
        tasks.push(tokio::spawn(async move {
            let store = batch_store;
            let mut items: Vec<Value> = (0..4)
                .flat_map(|i| ["S", "M"].map(|s| json!({"sku": format!("C{i}-{s}"), "stock": round, "price": 10 + round})))
                .collect();
            if round % 2 == 1 {
                items.reverse();
            }
            store
                .send(Method::POST, "/store/products/batch-update-by-sku/", json!({"products": items}))
                .await
        }));
        let store = store.clone();
        let (product, variant) = ids[round % ids.len()].clone();
        tasks.push(tokio::spawn(async move {
            let path = format!("/products/{product}/variants/{variant}");
            let body = json!({"price": 1000 + round, "inventoryCount": round});
            store.app.admin(Method::PATCH, &path, Some(body)).await
        }));
    }
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let off = "select count(*) from variants v where v.inventory_count <> \
        (select coalesce(sum(s.on_hand), 0) from stock_levels s where s.site_id = v.site_id and s.variant_id = v.id)";
    assert_eq!(store.app.count(off).await, 0);
}

#[tokio::test]
async fn a_batch_imports_together_and_refuses_only_what_breaks_a_rule() {
    let store = store().await;
    let (status, body) = store
        .send(
            Method::POST,
            "/store/products/batch-update/",
            json!({"products": [
                // Two new products with one title: two slugs.
                {"handle": "a", "title": "Same", "price": 1, "sku": "A"},
                {"handle": "b", "title": "Same", "price": 2, "sku": "B"},
                // The same handle again: applied after the first, as an update.
                {"handle": "a", "price": 3},
                // An SKU another product holds: this item only is refused.
                {"handle": "c", "title": "C", "price": 1, "sku": "B"},
                // A slug another product holds.
                {"handle": "d", "title": "D", "price": 1, "url": "same"},
                {"handle": "e", "title": "E", "price": 1.5, "variants": [
                    {"option_name1": "Size", "option_value1": "S", "sku": "E-S", "stock": 2},
                    {"option_name1": "Size", "option_value1": "M", "sku": "E-M", "stock": null}]},
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results: Vec<&str> = body["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap())
        .collect();
    assert_eq!(
        results,
        ["created", "created", "updated", "error", "error", "created"],
        "{body}"
    );
    assert_eq!(
        body["products"][3]["error_message"],
        "a variant with SKU `B` already exists"
    );
    assert_eq!(
        body["products"][4]["error_message"],
        "a product with slug `same` already exists"
    );
    let slugs: Vec<String> = sqlx::query_scalar("select slug from products order by handle")
        .fetch_all(&store.app.pool)
        .await
        .unwrap();
    assert_eq!(slugs, ["same", "same-2", "e"]);
    assert_eq!(store.get("/store/product/a").await["price"], 3);
    let e = store.get("/store/product/e/").await;
    assert_eq!(
        (
            e["variants"][0]["stock"].clone(),
            e["variants"][1]["stock"].clone()
        ),
        (json!(2), Value::Null)
    );
    // One event per product written, each with the product as the native API shows it.
    let created = store
        .app
        .count("select count(*) from events where type = 'product.created' and payload->>'handle' in ('a', 'b', 'e')")
        .await;
    assert_eq!(created, 3);
    assert_eq!(store.app.count("select count(*) from events where type = 'product.updated' and payload->>'handle' = 'a'").await, 1);
}

#[tokio::test]
async fn order_notifications_follow_the_order_created_paid_and_dispatched() {
    let (store, worker) = notifying_store().await;
    let receiver = Receiver::start().await;
    let wanted = json!({"notifications_url": receiver.url("/ok"),
        "notifications_wanted": ["ORDER_CREATED", "PAYMENT_CHANGED", "DISPATCH_CHANGED"]});
    let (status, _) = store.send(Method::PUT, "/api-configuration/", wanted).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = store
        .send(
            Method::POST,
            "/store/product/",
            json!({"product": {"handle": "o-1", "title": "O",
            "price": 50, "sku": "O-1", "stock": 10}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (product, variant): (String, String) =
        sqlx::query_as("select product_id, id from variants where sku = 'O-1'")
            .fetch_one(&store.app.pool)
            .await
            .unwrap();
    place_order(&store.app, &product, &variant).await;
    let number = format!("ORD-{}", store.app.count("select number from orders").await);
    for change in [
        json!({"payment_status": "paid"}),
        json!({"dispatched": true}),
    ] {
        let (status, body) = store
            .send(
                Method::PUT,
                &format!("/store/order/{number}/"),
                json!({"order": change}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    worker.drain().await.unwrap();
    let got: Vec<Value> = receiver.at("/ok").iter().map(|r| r.json()).collect();
    let events: Vec<&str> = got.iter().map(|b| b["event"].as_str().unwrap()).collect();
    assert_eq!(
        events,
        ["ORDER_CREATED", "PAYMENT_CHANGED", "DISPATCH_CHANGED"],
        "{got:?}"
    );
    assert_eq!(got[0]["order"]["order_id"], json!(number));
    assert_eq!(got[0]["order"]["payment_status"], "pending");
    assert_eq!(got[1]["order"]["payment_status"], "paid");
    assert_eq!(got[0]["order"]["cart"][0]["product_handle"], "o-1");
    assert_eq!(got[2]["order"]["dispatched"], true);
}
