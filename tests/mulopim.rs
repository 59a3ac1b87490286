//! The Mulopim dialect over HTTP, as a POS or ERP calls it: `X-API-Key` (or the webhook secret), WordPress
//! errors, single updates, webhooks, and bulk syncs that report per item and roll back when too many fail.
//! Every change lands in the native stock, visible at once through `GET /api/v1/{siteId}/inventory`.

mod common;

use common::{TestApp, str_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shopvo::domain::pagination::EXACT_TOTAL_UP_TO;

const BASE: &str = "/wp-json/mulopimfwc/v1";

struct Shop {
    app: TestApp,
    api_key: String,
    webhook_secret: String,
    /// (product id, variant number, SKU) of a two-variant product.
    variants: Vec<(String, i64, String)>,
    /// A simple product's number and SKU.
    simple: (i64, String),
    /// The second location: (number, slug).
    depot: (i64, String),
}

async fn shop() -> Shop {
    shop_on(TestApp::spawn().await).await
}

async fn shop_on(app: TestApp) -> Shop {
    let body = app
        .post("/integrations/mulopim/credentials", json!({}))
        .await;
    let api_key = str_of(&body["data"]["apiKey"]);
    let webhook_secret = str_of(&body["data"]["webhookSecret"]);
    let shirt = app
        .product(json!({"name": "Shirt", "price": 2000, "variants": [
            {"sku": "SH-S", "inventoryCount": 5}, {"sku": "SH-M", "inventoryCount": 5}]}))
        .await;
    let variants = shirt["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                str_of(&shirt["id"]),
                v["number"].as_i64().unwrap(),
                str_of(&v["sku"]),
            )
        })
        .collect();
    let mug = app
        .product(
            json!({"name": "Mug", "price": 900, "variants": [{"sku": "MUG", "inventoryCount": 1}]}),
        )
        .await;
    let depot = app
        .post("/locations", json!({"name": "Depot", "slug": "depot"}))
        .await["data"]
        .clone();
    let depot_number: i64 = sqlx::query_scalar("select number from locations where slug = 'depot'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(depot["slug"], "depot");
    Shop {
        simple: (mug["number"].as_i64().unwrap(), "MUG".into()),
        app,
        api_key,
        webhook_secret,
        variants,
        depot: (depot_number, "depot".into()),
    }
}

impl Shop {
    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .app
            .client
            .request(method, format!("{}{BASE}{path}", self.app.url));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(body) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(body.to_string());
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(
            Method::POST,
            path,
            &[("X-API-Key", &self.api_key)],
            Some(&body.to_string()),
        )
        .await
    }

    /// On hand of a SKU at a location slug, from the database.
    async fn on_hand(&self, sku: &str, slug: &str) -> i64 {
        self.app
            .count(&format!(
                "select coalesce((select s.on_hand::bigint from stock_levels s join variants v on v.site_id = s.site_id \
                 and v.id = s.variant_id join locations l on l.site_id = s.site_id and l.id = s.location_id \
                 where v.sku = '{sku}' and l.slug = '{slug}'), -1)"
            ))
            .await
    }
}

/// Variants whose total is not the sum of their enabled stock at active locations.
const TOTALS_OFF: &str = "select count(*) from variants v where v.inventory_count <> \
    (select coalesce(sum(s.on_hand), 0) from stock_levels s join locations l on l.site_id = s.site_id \
     and l.id = s.location_id where s.site_id = v.site_id and s.variant_id = v.id and not s.disabled and l.active)";

fn wp(status: u16, code: &str, message: &str) -> Value {
    json!({"code": code, "message": message, "data": {"status": status}})
}

#[tokio::test]
async fn keys_locations_and_single_updates() {
    let shop = shop().await;
    // Without the key, or with a wrong one: WordPress's 403.
    let forbidden = wp(
        403,
        "rest_forbidden",
        "You do not have permission to access this endpoint.",
    );
    for headers in [vec![], vec![("X-API-Key", "mlp_wrong")]] {
        let res = shop.send(Method::GET, "/locations", &headers, None).await;
        assert_eq!(res, (StatusCode::FORBIDDEN, forbidden.clone()));
    }
    let (status, body) = shop
        .send(
            Method::GET,
            "/locations",
            &[("X-API-Key", &shop.api_key)],
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["count"], 2);
    assert_eq!(
        body["data"][1],
        json!({"id": shop.depot.0, "slug": "depot", "name": "Depot", "description": ""})
    );

    // A variation by number at a location by slug; prices are decimal strings in major units.
    let (variant_number, sku) = (shop.variants[0].1, shop.variants[0].2.clone());
    let (status, body) = shop
        .post(
            "/inventory/update",
            json!({"product_id": variant_number.to_string(), "location_slug": "depot", "stock": "12",
                "regular_price": "19.99", "sale_price": "", "backorders": "notify", "disabled": "0"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"success": true, "message": "Inventory updated successfully.",
            "data": {"product_id": variant_number, "location_id": shop.depot.0, "sku": sku}})
    );
    assert_eq!(shop.on_hand(&sku, "depot").await, 12);
    // The native API sees it at once, with the location's price in minor units.
    let inventory = shop.app.get("/inventory?expand[]=locations").await;
    let text = inventory.to_string();
    assert!(
        text.contains("\"onHand\":12") && text.contains("\"regularPrice\":1999"),
        "{text}"
    );
    let ledger = shop
        .app
        .count("select count(*) from inventory_ledger where source = 'mulopim'")
        .await;
    assert_eq!(ledger, 1);

    // A simple product by its own number, by SKU at a location by number.
    let (status, body) = shop
        .post(
            "/inventory/update",
            json!({"product_id": shop.simple.0, "location_id": shop.depot.0, "stock": 3}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = shop
        .post(
            "/inventory/update",
            json!({"sku": "MUG", "location_id": shop.depot.0, "stock": 4}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shop.on_hand("MUG", "depot").await, 4);

    // Each refusal with the plugin's message, and nothing changed.
    for (item, message) in [
        (
            json!({"location_id": shop.depot.0, "stock": 1}),
            "Product ID or SKU is required.",
        ),
        (
            json!({"sku": "MUG", "stock": 1}),
            "Location ID or slug is required.",
        ),
        (
            json!({"sku": "NOPE", "location_id": shop.depot.0, "stock": 1}),
            "Product not found.",
        ),
        (
            json!({"product_id": shop.variants[0].0.clone(), "location_id": shop.depot.0}),
            "Product ID or SKU is required.",
        ),
        (
            json!({"sku": "MUG", "location_slug": "nowhere", "stock": 1}),
            "Location not found.",
        ),
        (
            json!({"sku": "MUG", "location_id": shop.depot.0, "stock": -1}),
            "Invalid stock value.",
        ),
        (
            json!({"sku": "MUG", "location_id": shop.depot.0, "stock": "ten"}),
            "Invalid stock value.",
        ),
        (
            json!({"sku": "MUG", "location_id": shop.depot.0, "regular_price": "1.999"}),
            "Invalid regular_price value.",
        ),
    ] {
        let res = shop.post("/inventory/update", item.clone()).await;
        assert_eq!(
            res,
            (StatusCode::BAD_REQUEST, wp(400, "update_failed", message)),
            "{item}"
        );
    }
    assert_eq!(shop.on_hand("MUG", "depot").await, 4);
    let res = shop
        .send(
            Method::POST,
            "/inventory/update",
            &[("X-API-Key", &shop.api_key)],
            Some("{not json"),
        )
        .await;
    assert_eq!(res.0, StatusCode::BAD_REQUEST);
    assert_eq!(res.1["code"], "rest_invalid_json");
}

#[tokio::test]
async fn webhooks_take_the_secret_or_the_key() {
    let shop = shop().await;
    let item = json!({"sku": "MUG", "location_slug": "depot", "stock": 9}).to_string();
    let res = shop
        .send(
            Method::POST,
            "/webhook/inventory-update",
            &[("X-Webhook-Secret", "wrong")],
            Some(&item),
        )
        .await;
    assert_eq!(
        res,
        (
            StatusCode::FORBIDDEN,
            wp(403, "rest_forbidden", "Invalid webhook secret or API key.")
        )
    );
    for header in [
        ("X-Webhook-Secret", shop.webhook_secret.as_str()),
        ("X-API-Key", shop.api_key.as_str()),
    ] {
        let (status, body) = shop
            .send(
                Method::POST,
                "/webhook/inventory-update",
                &[header],
                Some(&item),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["message"], "Inventory updated via webhook.");
    }
    assert_eq!(shop.on_hand("MUG", "depot").await, 9);
    let secret = [("X-Webhook-Secret", shop.webhook_secret.as_str())];
    let res = shop
        .send(
            Method::POST,
            "/webhook/inventory-update",
            &secret,
            Some(r#"{"stock": 1}"#),
        )
        .await;
    assert_eq!(
        res,
        (
            StatusCode::BAD_REQUEST,
            wp(400, "invalid_data", "Invalid webhook data format.")
        )
    );
    let res = shop
        .send(
            Method::POST,
            "/webhook/inventory-update",
            &secret,
            Some(r#"{"sku": "NOPE", "location_slug": "depot"}"#),
        )
        .await;
    assert_eq!(
        res,
        (
            StatusCode::BAD_REQUEST,
            wp(400, "webhook_failed", "Product not found.")
        )
    );
    // The webhook secret is not an API key.
    let res = shop
        .send(
            Method::GET,
            "/locations",
            &[("X-API-Key", shop.webhook_secret.as_str())],
            None,
        )
        .await;
    assert_eq!(res.0, StatusCode::FORBIDDEN);

    // Rotating replaces both at once.
    shop.app
        .post("/integrations/mulopim/credentials", json!({}))
        .await;
    let res = shop
        .send(
            Method::GET,
            "/locations",
            &[("X-API-Key", &shop.api_key)],
            None,
        )
        .await;
    assert_eq!(res.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bulk_sync_reports_per_item_and_rolls_back_past_half_the_limit() {
    let shop = shop().await;
    // 1000 items: 999 good (the two variants and the mug, at both locations, again and again) and one bad.
    let mut items: Vec<Value> = (0..999)
        .map(|i| {
            let sku = ["SH-S", "SH-M", "MUG"][i % 3];
            let location = ["default", "depot"][i % 2];
            json!({"sku": sku, "location_slug": location, "stock": i})
        })
        .collect();
    items.insert(
        4,
        json!({"sku": "NOPE", "location_slug": "depot", "stock": 1}),
    );
    assert_eq!(items.len(), 1000);
    let (status, body) = shop
        .post("/inventory/bulk-sync", json!({"items": items}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"success": true, "message": "Processed 1000 items. 999 succeeded, 1 failed.",
            "results": {"success": 999, "failed": 1, "errors": ["Item 5: Product not found."]}})
    );
    // The last write of each (SKU, location) wins: the last good item (998) is MUG at the default location.
    assert_eq!(shop.on_hand("MUG", "default").await, 998);
    assert_eq!(shop.on_hand("SH-M", "depot").await, 997);
    // Every write that set a quantity is in the ledger, and each variant's total is the sum of its levels.
    let ledger = "select count(*) from inventory_ledger where source = 'mulopim'";
    assert_eq!(shop.app.count(ledger).await, 999);
    assert_eq!(shop.app.count(TOTALS_OFF).await, 0);

    // Too many items; no items array.
    let res = shop
        .post(
            "/inventory/bulk-sync",
            json!({"items": vec![json!({}); 1001]}),
        )
        .await;
    assert_eq!(
        res,
        (
            StatusCode::BAD_REQUEST,
            wp(
                400,
                "too_many_items",
                "Too many items. Maximum 1000 items per request. Please split your request into smaller batches."
            )
        )
    );
    let res = shop
        .post("/inventory/bulk-sync", json!({"things": []}))
        .await;
    assert_eq!(
        res,
        (
            StatusCode::BAD_REQUEST,
            wp(
                400,
                "invalid_data",
                "Invalid data format. Expected \"items\" array."
            )
        )
    );

    // More than 500 failures: everything is rolled back, the good items too.
    let before = shop.on_hand("SH-S", "depot").await;
    let mut items: Vec<Value> = vec![json!({"sku": "SH-S", "location_slug": "depot", "stock": 77})];
    items.extend((0..501).map(|_| json!({"sku": "NOPE", "location_slug": "depot", "stock": 1})));
    let res = shop
        .post("/inventory/bulk-sync", json!({"items": items}))
        .await;
    assert_eq!(
        res,
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            wp(
                500,
                "bulk_sync_failed",
                "Bulk sync failed due to too many errors. All changes have been rolled back."
            )
        )
    );
    assert_eq!(shop.on_hand("SH-S", "depot").await, before);
}

#[tokio::test]
async fn export_pages_json_and_csv_and_the_product_list() {
    let shop = shop().await;
    shop.post(
        "/inventory/update",
        json!({"sku": "SH-M", "location_slug": "depot", "stock": 6, "regular_price": "20.50", "disabled": true}),
    )
    .await;
    let key = [("X-API-Key", shop.api_key.as_str())];
    // Two products: the shirt's two variations and the mug, at both locations: 6 rows.
    let (status, body) = shop
        .send(Method::GET, "/inventory/export", &key, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 2);
    assert_eq!(body["count"], 6);
    assert_eq!(body["has_more"], false);
    let row = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["sku"] == "SH-M" && r["location_slug"] == "depot")
        .unwrap()
        .clone();
    // The variation's name after the product's is whatever the catalog named the variant.
    assert!(str_of(&row["product_name"]).starts_with("Shirt - "));
    let mut rest = row.clone();
    rest.as_object_mut().unwrap().remove("product_name");
    assert_eq!(
        rest,
        json!({"product_id": shop.variants[1].1, "sku": "SH-M", "location_id": shop.depot.0,
            "location_slug": "depot", "location_name": "Depot", "stock": "6", "regular_price": "20.50",
            "sale_price": "", "backorders": "no", "disabled": true})
    );
    // One product per page, one location: has_more until the last page.
    let depot = format!("/inventory/export?per_page=1&location_id={}", shop.depot.0);
    let (_, body) = shop.send(Method::GET, &depot, &key, None).await;
    assert_eq!(
        (
            body["count"].clone(),
            body["total_pages"].clone(),
            body["has_more"].clone()
        ),
        (json!(2), json!(2), json!(true))
    );
    let (_, body) = shop
        .send(Method::GET, &format!("{depot}&page=2"), &key, None)
        .await;
    assert_eq!(body["data"][0]["sku"], "MUG");
    assert_eq!(body["has_more"], false);
    let res = shop
        .send(Method::GET, "/inventory/export?location_id=999", &key, None)
        .await;
    assert_eq!(res.0, StatusCode::NOT_FOUND);

    // CSV, parsed back.
    let res = shop
        .app
        .client
        .get(format!(
            "{}{BASE}/inventory/export?format=csv",
            shop.app.url
        ))
        .header("X-API-Key", &shop.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment; filename=inventory-export-")
            && disposition.ends_with(".csv"),
        "{disposition}"
    );
    let text = res.text().await.unwrap();
    let text = text
        .strip_prefix('\u{FEFF}')
        .expect("a UTF-8 byte order mark");
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(
        lines[0],
        [
            "product_id",
            "sku",
            "product_name",
            "location_id",
            "location_slug",
            "location_name",
            "stock",
            "regular_price",
            "sale_price",
            "backorders",
            "disabled"
        ]
    );
    assert_eq!(lines.len(), 7);
    let medium = lines
        .iter()
        .find(|l| l[1] == "SH-M" && l[4] == "depot")
        .unwrap();
    assert_eq!((medium[6], medium[7], medium[10]), ("6", "20.50", "yes"));
    let res = shop
        .send(
            Method::GET,
            "/inventory/export?format=csv&page=9",
            &key,
            None,
        )
        .await;
    assert_eq!(res.0, StatusCode::OK);
    sqlx::query("update products set status = 'DRAFT'")
        .execute(&shop.app.pool)
        .await
        .unwrap();
    let res = shop
        .send(Method::GET, "/inventory/export?format=csv", &key, None)
        .await;
    assert_eq!(
        res,
        (
            StatusCode::NOT_FOUND,
            wp(404, "no_data", "No data to export.")
        )
    );
    sqlx::query("update products set status = 'ACTIVE'")
        .execute(&shop.app.pool)
        .await
        .unwrap();

    // The product list: types as WooCommerce names them; page and per_page echoed as sent.
    let (status, body) = shop
        .send(
            Method::GET,
            "/products?page=1&per_page=10&search=sh",
            &key,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"success": true, "count": 1, "page": "1", "per_page": "10",
            "data": [{"id": body["data"][0]["id"], "sku": "", "name": "Shirt", "type": "variable"}]})
    );
    let (_, body) = shop.send(Method::GET, "/products", &key, None).await;
    assert_eq!(
        body["data"][1],
        json!({"id": shop.simple.0, "sku": "MUG", "name": "Mug", "type": "simple"})
    );
    assert_eq!(body["page"], 1);
}

/// Integrations walk the whole export page by page: past the exact threshold its `total` is the planner's
/// estimate (no count of the catalog per page), and `has_more` stays exact to the last page.
#[tokio::test]
async fn a_large_export_estimates_its_total_and_still_knows_its_last_page() {
    let shop = shop().await;
    let bulk = EXACT_TOTAL_UP_TO + 1;
    sqlx::query(
        "insert into products (site_id, id, slug, name, price) \
         select $1, 'prd_bulk' || i, 'bulk-' || i, 'Bulk ' || i, 100 from generate_series(1, $2) as i",
    )
    .bind(&shop.app.site_id)
    .bind(bulk)
    .execute(&shop.app.pool)
    .await
    .unwrap();
    sqlx::query("analyze products")
        .execute(&shop.app.pool)
        .await
        .unwrap();
    let key = [("X-API-Key", shop.api_key.as_str())];
    // The shop's two products and the bulk ones: three pages of 500, the last holding three products.
    let products = bulk + 2;
    let page = |n: i64| format!("/inventory/export?per_page=500&page={n}");
    let (status, body) = shop.send(Method::GET, &page(1), &key, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["total"].as_i64().unwrap() > EXACT_TOTAL_UP_TO,
        "{}",
        body["total"]
    );
    assert_eq!(body["has_more"], true);
    let (_, body) = shop.send(Method::GET, &page(2), &key, None).await;
    assert_eq!(body["has_more"], true, "products {products}");
    let (_, body) = shop.send(Method::GET, &page(3), &key, None).await;
    assert_eq!(body["has_more"], false, "products {products}");
    let (_, body) = shop.send(Method::GET, &page(4), &key, None).await;
    assert_eq!(
        (body["count"].clone(), body["has_more"].clone()),
        (json!(0), json!(false))
    );
}

#[tokio::test]
async fn application_passwords_settings_and_the_webhook_log() {
    use base64::Engine;
    let shop = shop().await;
    let body = shop
        .app
        .post(
            "/integrations/mulopim/application-passwords",
            json!({"username": "erp-sync"}),
        )
        .await;
    let password = str_of(&body["data"]["password"]);
    assert_eq!(password.split(' ').count(), 6, "{password}");
    let basic = |user: &str, password: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
        )
    };
    for pass in [password.clone(), password.replace(' ', "")] {
        let auth = basic("erp-sync", &pass);
        let (status, body) = shop
            .send(Method::GET, "/locations", &[("Authorization", &auth)], None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    for auth in [
        basic("someone-else", &password),
        basic("erp-sync", "wrong"),
        "Basic !!!".to_string(),
    ] {
        let res = shop
            .send(Method::GET, "/locations", &[("Authorization", &auth)], None)
            .await;
        assert_eq!(res.0, StatusCode::FORBIDDEN, "{auth}");
    }
    let res = shop
        .app
        .admin(
            Method::POST,
            "/integrations/mulopim/application-passwords",
            Some(json!({"username": "erp-sync"})),
        )
        .await;
    assert_eq!(res.0, StatusCode::CONFLICT);
    let list = shop
        .app
        .get("/integrations/mulopim/application-passwords")
        .await;
    assert_eq!(list["data"][0]["username"], "erp-sync");
    assert!(list["data"][0].get("password").is_none());
    let (status, _) = shop
        .app
        .admin(
            Method::DELETE,
            "/integrations/mulopim/application-passwords/erp-sync",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let auth = basic("erp-sync", &password);
    let res = shop
        .send(Method::GET, "/locations", &[("Authorization", &auth)], None)
        .await;
    assert_eq!(res.0, StatusCode::FORBIDDEN);

    // A smaller batch limit, and a rollback after any failure.
    let (status, body) = shop
        .app
        .admin(
            Method::PATCH,
            "/integrations/mulopim/settings",
            Some(json!({"maxItems": 2, "rollbackThreshold": 0, "webhookLog": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"],
        json!({"webhookLog": true, "maxItems": 2, "rollbackThreshold": 0})
    );
    let item = json!({"sku": "MUG", "location_slug": "depot", "stock": 2});
    let res = shop
        .post("/inventory/bulk-sync", json!({"items": [item, item, item]}))
        .await;
    assert_eq!(
        res.1["message"],
        "Too many items. Maximum 2 items per request. Please split your request into smaller batches."
    );
    let before = shop.on_hand("MUG", "depot").await;
    let bad = json!({"sku": "NOPE", "location_slug": "depot", "stock": 1});
    let res = shop
        .post("/inventory/bulk-sync", json!({"items": [item, bad]}))
        .await;
    assert_eq!(res.0, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(shop.on_hand("MUG", "depot").await, before);

    // The webhook log records what came in and what was answered.
    let secret = [("X-Webhook-Secret", shop.webhook_secret.as_str())];
    shop.send(
        Method::POST,
        "/webhook/inventory-update",
        &secret,
        Some(&item.to_string()),
    )
    .await;
    shop.send(
        Method::POST,
        "/webhook/inventory-update",
        &secret,
        Some(r#"{"stock": 1}"#),
    )
    .await;
    let log = shop.app.get("/integrations/mulopim/webhook-log").await;
    let entries = log["data"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(
        (entries[0]["status"].clone(), entries[0]["result"].clone()),
        (json!(400), json!("Invalid webhook data format."))
    );
    assert_eq!(entries[1]["status"], 200);
    assert_eq!(entries[1]["body"], json!(item.to_string()));
    let res = shop
        .app
        .admin(
            Method::PATCH,
            "/integrations/mulopim/settings",
            Some(json!({"maxItems": 0})),
        )
        .await;
    assert_eq!(res.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn bulk_writes_apply_in_order_refuse_what_the_stock_cannot_take_and_tell_subscribers() {
    let shop = shop().await;
    // The mug's default level is below zero while it takes backorders (an order took more than there was).
    sqlx::query(
        "update stock_levels s set on_hand = -3, backorder = 'yes' from variants v \
                 where v.site_id = s.site_id and v.id = s.variant_id and v.sku = 'MUG'",
    )
    .execute(&shop.app.pool)
    .await
    .unwrap();
    sqlx::query(
        "update variants set inventory_count = -3, low_stock_threshold = 5 where sku = 'MUG'",
    )
    .execute(&shop.app.pool)
    .await
    .unwrap();
    sqlx::query("update variants set low_stock_threshold = 3 where sku = 'SH-S'")
        .execute(&shop.app.pool)
        .await
        .unwrap();
    let items = json!([
        // Backorders off while the level is negative: refused, nothing changes.
        {"sku": "MUG", "location_slug": "default", "backorders": "no"},
        // Stock first, then backorders off in a later item: both apply.
        {"sku": "MUG", "location_slug": "default", "stock": 40},
        {"sku": "MUG", "location_slug": "default", "backorders": "no"},
        // The depot's level does not exist yet; disabled stock does not count.
        {"sku": "MUG", "location_slug": "depot", "stock": 9, "disabled": true},
        // The shirt drops to its threshold: inventory.low once.
        {"sku": "SH-S", "location_slug": "default", "stock": 2},
    ]);
    let (status, body) = shop
        .post("/inventory/bulk-sync", json!({"items": items}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"]["success"], 4, "{body}");
    assert_eq!(
        body["results"]["errors"],
        json!([
            "Item 1: stock at this location is negative: set a quantity of at least 0 before turning backorders off"
        ])
    );
    assert_eq!(shop.on_hand("MUG", "default").await, 40);
    assert_eq!(shop.on_hand("MUG", "depot").await, 9);
    assert_eq!(
        shop.app
            .count("select count(*) from stock_levels where backorder <> 'no'")
            .await,
        0
    );
    assert_eq!(shop.app.count(TOTALS_OFF).await, 0);
    let inventory = shop.app.get("/inventory?sku=MUG").await;
    assert_eq!(inventory["items"][0]["inventoryCount"], 40, "{inventory}");
    let low =
        "select count(*) from events where type = 'inventory.low' and payload->>'sku' = 'SH-S'";
    assert_eq!(shop.app.count(low).await, 1);
    let updated = "select count(*) from events where type = 'inventory.updated' and payload->>'source' = 'mulopim'";
    // The mug at both locations and the shirt (the refused item and the policy-only one send nothing).
    assert_eq!(shop.app.count(updated).await, 3);
}

#[tokio::test]
async fn concurrent_bulk_syncs_and_native_adjustments_keep_every_total_right() {
    let shop = std::sync::Arc::new(shop().await);
    let mut tasks = Vec::new();
    for i in 0..12usize {
        let shop_for_adjust = shop.clone();
        let shop = shop.clone();
        tasks.push(tokio::spawn(async move {
            // Some callers write one location's levels, some the other's in the opposite order (the
            // same variants through different levels), some both.
            let slugs: &[&str] = match i % 3 {
                0 => &["default"],
                1 => &["depot"],
                _ => &["default", "depot"],
            };
            let mut items: Vec<Value> = ["SH-S", "SH-M", "MUG"]
                .iter()
                .flat_map(|sku| {
                    slugs
                        .iter()
                        .map(move |slug| json!({"sku": sku, "location_slug": slug, "stock": i}))
                })
                .collect();
            if i % 3 == 1 {
                items.reverse();
            }
            let (status, body) = shop
                .post("/inventory/bulk-sync", json!({"items": items}))
                .await;
            (status, body)
        }));
        let shop = shop_for_adjust.clone();
        let product = shop.variants[0].0.clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({"operation": "increment", "quantity": 1, "locationId": "depot",
                              "variantId": null});
            shop.app
                .admin(Method::POST, &format!("/inventory/{product}"), Some(body))
                .await
        }));
    }
    for task in tasks {
        let (status, body) = task.await.unwrap();
        assert!(status.is_success(), "{status} {body}");
    }
    assert_eq!(shop.app.count(TOTALS_OFF).await, 0);
}

#[tokio::test]
async fn requests_are_counted_per_site_not_per_client_address() {
    // More than the 30 a minute an unauthenticated client address gets: a POS syncing often is not throttled.
    let shop = shop().await;
    let key = [("X-API-Key", shop.api_key.as_str())];
    for _ in 0..40 {
        let (status, body) = shop.send(Method::GET, "/locations", &key, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // A site over its requests a minute (the server's default per key, 120) gets WordPress's shape with
    // Retry-After. (Unless the minute turned meanwhile: then the count starts again, and so does this.)
    common::start_of_a_window().await;
    let mut allowed = 0;
    let refused = loop {
        let res = shop
            .app
            .client
            .get(format!("{}{BASE}/locations", shop.app.url))
            .header("X-API-Key", &shop.api_key)
            .send()
            .await
            .unwrap();
        if res.status() != StatusCode::OK || allowed > 200 {
            break res;
        }
        allowed += 1;
    };
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(allowed <= 120, "{allowed}");
    assert!(refused.headers().get("retry-after").is_some());
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "rest_rate_limited");
    assert_eq!(body["data"]["status"], 429);
}
