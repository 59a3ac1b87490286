//! The catalog over HTTP: products, variants, categories and brands, with pagination, filters, search,
//! field selection, validation and tenancy. Every test checks the database as well as the response.

mod common;

use std::collections::HashSet;

use common::{TestApp, assert_error, assert_unprocessable};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

/// `?a=1&b=2`, percent-encoded.
fn query(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    format!("?{}", s.finish())
}

/// `GET /products` with these query parameters.
async fn list_products(app: &TestApp, pairs: &[(&str, &str)]) -> (StatusCode, Value) {
    app.admin(Method::GET, &format!("/products{}", query(pairs)), None)
        .await
}

/// `GET /products` that must succeed; returns the body.
async fn list_ok(app: &TestApp, pairs: &[(&str, &str)]) -> Value {
    let (status, body) = list_products(app, pairs).await;
    assert_eq!(status, StatusCode::OK, "{pairs:?}: {body}");
    body
}

/// The `id` of a resource.
fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_string()
}

/// The ids of a list's `items`.
fn item_ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {body}"))
        .iter()
        .map(id)
        .collect()
}

/// The ids of a `data` array.
fn data_ids(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data array in {body}"))
        .iter()
        .map(id)
        .collect()
}

/// The keys of a JSON object, in order.
fn keys(v: &Value) -> Vec<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

/// Asserts a 400 `VALIDATION_ERROR` whose first detail names `field`.
#[track_caller]
fn assert_invalid(result: &(StatusCode, Value), field: &str) {
    assert_error(result, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(result.1["details"][0]["field"], field, "body: {}", result.1);
}

/// A product with just a name and price; returns its id.
async fn new_product(app: &TestApp, name: &str) -> String {
    id(&app.product(json!({"name": name, "price": 1000})).await)
}

/// `count(*)` of a table with an optional `where` clause.
async fn count_where(app: &TestApp, table: &str, cond: &str) -> i64 {
    let sql = if cond.is_empty() {
        format!("select count(*) from {table}")
    } else {
        format!("select count(*) from {table} where {cond}")
    };
    app.count(&sql).await
}

/// A single text column of one row.
async fn scalar(app: &TestApp, sql: &str) -> Option<String> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// The id of a product's default variant, from the database.
async fn default_variant(app: &TestApp, product_id: &str) -> String {
    let n = count_where(
        app,
        "variants",
        &format!("product_id = '{product_id}' and is_default"),
    )
    .await;
    assert_eq!(n, 1, "expected exactly one default variant of {product_id}");
    scalar(
        app,
        &format!("select id from variants where product_id = '{product_id}' and is_default"),
    )
    .await
    .unwrap()
}

/// Creates a variant of a product; returns its `data`.
async fn new_variant(app: &TestApp, product_id: &str, body: Value) -> Value {
    app.post(&format!("/products/{product_id}/variants"), body)
        .await["data"]
        .clone()
}

/// Sends a raw (possibly malformed) JSON body.
async fn send_raw(app: &TestApp, method: Method, path: &str, body: String) -> (StatusCode, Value) {
    let res = app
        .client
        .request(method, app.api(path))
        .bearer_auth(&app.admin_key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// A second site with an admin key: (site id, key).
async fn other_site(app: &TestApp) -> (String, String) {
    let site = app.create_site("Other Store").await;
    let key = app.key(&site, &["admin:*"]).await;
    (site, key)
}

/// A URL on another site.
fn site_url(app: &TestApp, site: &str, path: &str) -> String {
    format!("{}/api/v1/{site}{path}", app.url)
}

/// Follows a cursor walk from the start; returns every page's ids.
async fn cursor_walk(app: &TestApp, limit: usize) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut cursor = String::new();
    loop {
        let limit_s = limit.to_string();
        let body = list_ok(app, &[("cursor", &cursor), ("limit", &limit_s)]).await;
        assert!(body.get("pagination").is_none(), "{body}");
        assert_eq!(body["limit"], limit, "{body}");
        pages.push(item_ids(&body));
        if body["hasNextPage"] == false {
            assert_eq!(body["cursor"], Value::Null, "{body}");
            return pages;
        }
        assert_eq!(body["hasNextPage"], true, "{body}");
        cursor = body["cursor"].as_str().unwrap().to_string();
        assert_eq!(&cursor, pages.last().unwrap().last().unwrap());
        assert!(pages.len() < 100, "the walk does not end");
    }
}

// ---------------------------------------------------------------------------------------------------------
// Products: CRUD and slugs
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn product_without_variants_gets_one_default_variant() {
    let app = TestApp::spawn().await;
    let p = app
        .product(json!({"name": "Classic White T-Shirt", "price": 2999, "compareAtPrice": 3999}))
        .await;
    let pid = id(&p);
    assert!(pid.starts_with("prd_"), "{p}");
    assert_eq!(p["slug"], "classic-white-t-shirt");
    assert_eq!(p["price"], 2999);
    assert_eq!(p["compareAtPrice"], 3999);
    assert_eq!(p["status"], "ACTIVE");
    let variants = p["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 1, "{p}");
    assert_eq!(variants[0]["name"], "Default");
    assert_eq!(variants[0]["isDefault"], true);
    assert_eq!(
        variants[0]["price"],
        Value::Null,
        "inherits the product price"
    );

    assert_eq!(
        count_where(&app, "products", &format!("id = '{pid}'")).await,
        1
    );
    assert_eq!(
        count_where(&app, "variants", &format!("product_id = '{pid}'")).await,
        1
    );
    assert_eq!(
        count_where(
            &app,
            "variants",
            &format!("product_id = '{pid}' and is_default and name = 'Default'")
        )
        .await,
        1
    );
}

#[tokio::test]
async fn product_with_inline_variants_keeps_them_and_the_requested_default() {
    let app = TestApp::spawn().await;
    let p = app
        .product(json!({
            "name": "Tee",
            "price": 2999,
            "variants": [
                {"name": "Small", "sku": "TEE-S", "inventoryCount": 4, "options": {"Size": "Small"}},
                {"sku": "TEE-L", "price": 3299, "isDefault": true, "options": {"Size": "Large", "Color": "Black"}}
            ]
        }))
        .await;
    let pid = id(&p);
    let variants = p["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2, "{p}");
    // The default comes first; a name is derived from the option values.
    assert_eq!(variants[0]["sku"], "TEE-L");
    assert_eq!(variants[0]["isDefault"], true);
    assert_eq!(variants[0]["name"], "Large / Black");
    assert_eq!(variants[0]["price"], 3299);
    assert_eq!(keys(&variants[0]["options"]), ["Size", "Color"]);
    assert_eq!(variants[1]["sku"], "TEE-S");
    assert_eq!(variants[1]["isDefault"], false);
    assert_eq!(variants[1]["inventoryCount"], 4);

    assert_eq!(
        count_where(&app, "variants", &format!("product_id = '{pid}'")).await,
        2
    );
    let default = default_variant(&app, &pid).await;
    assert_eq!(default, id(&variants[0]));
}

#[tokio::test]
async fn product_is_found_by_id_and_by_slug() {
    let app = TestApp::spawn().await;
    let pid = new_product(&app, "Leather Boots").await;
    new_product(&app, "Something Else").await;

    let by_id = app.get(&format!("/products/{pid}")).await;
    assert_eq!(by_id["success"], true);
    assert_eq!(by_id["data"]["id"], pid.as_str());
    assert_eq!(by_id["data"]["variants"].as_array().unwrap().len(), 1);

    let by_slug = app.get("/products/leather-boots").await;
    assert_eq!(by_slug["data"]["id"], pid.as_str());
    assert_eq!(by_slug["data"], by_id["data"]);

    let missing = app
        .admin(Method::GET, "/products/no-such-product", None)
        .await;
    assert_error(&missing, StatusCode::NOT_FOUND, "NOT_FOUND");
    let missing_id = app
        .admin(
            Method::GET,
            "/products/prd_01JD2W3M4N5P6Q7R8S9T0V1W2X",
            None,
        )
        .await;
    assert_error(&missing_id, StatusCode::NOT_FOUND, "NOT_FOUND");
}

#[tokio::test]
async fn patch_changes_only_sent_fields_and_null_clears() {
    let app = TestApp::spawn().await;
    let p = app
        .product(json!({"name": "Mug", "price": 1500, "compareAtPrice": 2000,
            "description": "Stoneware", "vendor": "Acme"}))
        .await;
    let pid = id(&p);

    let (status, body) = app
        .admin(
            Method::PATCH,
            &format!("/products/{pid}"),
            Some(json!({"price": 1200, "featured": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let d = &body["data"];
    assert_eq!(d["price"], 1200);
    assert_eq!(d["featured"], true);
    assert_eq!(d["name"], "Mug");
    assert_eq!(d["slug"], "mug");
    assert_eq!(d["compareAtPrice"], 2000);
    assert_eq!(d["description"], "Stoneware");
    assert_eq!(d["vendor"], "Acme");
    assert_eq!(
        count_where(
            &app,
            "products",
            &format!("id = '{pid}' and price = 1200 and featured and compare_at_price = 2000")
        )
        .await,
        1
    );

    // `null` clears a nullable field; the others stay.
    let (status, body) = app
        .admin(
            Method::PATCH,
            "/products/mug",
            Some(json!({"compareAtPrice": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["compareAtPrice"], Value::Null);
    assert_eq!(body["data"]["price"], 1200);
    assert_eq!(body["data"]["description"], "Stoneware");
    assert_eq!(
        count_where(
            &app,
            "products",
            &format!("id = '{pid}' and compare_at_price is null and description = 'Stoneware'")
        )
        .await,
        1
    );

    // `null` on a field that cannot be cleared is refused, naming it, and changes nothing.
    let res = app
        .admin(Method::PATCH, "/products/mug", Some(json!({"price": null})))
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(res.1["details"][0]["field"], "price");
    assert_eq!(
        count_where(&app, "products", &format!("id = '{pid}' and price = 1200")).await,
        1
    );

    let missing = app
        .admin(
            Method::PATCH,
            "/products/no-such-product",
            Some(json!({"price": 1})),
        )
        .await;
    assert_error(&missing, StatusCode::NOT_FOUND, "NOT_FOUND");
}

#[tokio::test]
async fn put_replaces_every_field_and_resets_omitted_ones() {
    let app = TestApp::spawn().await;
    let brand = app.post("/brands", json!({"name": "Acme"})).await["data"].clone();
    let cat = app.post("/categories", json!({"name": "Shirts"})).await["data"].clone();
    let p = app
        .product(json!({
            "name": "Full Shirt", "price": 5000, "compareAtPrice": 6000, "description": "Long text",
            "status": "DRAFT", "featured": true, "vendor": "Acme Inc", "model": "FS-1",
            "brandId": id(&brand), "categoryIds": [id(&cat)],
            "images": ["https://cdn.example.com/a.jpg"], "handle": "full-shirt-ext"
        }))
        .await;
    let pid = id(&p);
    let variant_id = id(&p["variants"][0]);

    let (status, body) = app
        .admin(
            Method::PUT,
            &format!("/products/{pid}"),
            Some(json!({"name": "Renamed Shirt", "price": 4000})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let d = &body["data"];
    assert_eq!(d["id"], pid.as_str());
    assert_eq!(d["name"], "Renamed Shirt");
    assert_eq!(d["slug"], "renamed-shirt");
    assert_eq!(d["price"], 4000);
    for field in [
        "compareAtPrice",
        "description",
        "vendor",
        "model",
        "brandId",
        "handle",
    ] {
        assert_eq!(d[field], Value::Null, "{field} should be reset: {d}");
    }
    assert_eq!(d["status"], "ACTIVE");
    assert_eq!(d["featured"], false);
    assert_eq!(d["categoryIds"], json!([]));
    assert_eq!(d["images"], json!([]));
    // Variants are not part of a replace.
    assert_eq!(d["variants"][0]["id"], variant_id.as_str());

    assert_eq!(
        count_where(
            &app,
            "products",
            &format!(
                "id = '{pid}' and brand_id is null and description is null and status = 'ACTIVE' \
                 and not featured and images = '[]'::jsonb and handle is null"
            )
        )
        .await,
        1
    );
    assert_eq!(count_where(&app, "product_categories", "").await, 0);
    assert_eq!(
        count_where(&app, "variants", &format!("product_id = '{pid}'")).await,
        1
    );

    // A PUT does not take variants.
    let res = app
        .admin(
            Method::PUT,
            &format!("/products/{pid}"),
            Some(json!({"name": "X", "price": 1, "variants": [{"name": "A"}]})),
        )
        .await;
    assert_invalid(&res, "variants");
    assert_eq!(
        scalar(
            &app,
            &format!("select name from products where id = '{pid}'")
        )
        .await,
        Some("Renamed Shirt".into())
    );
}

#[tokio::test]
async fn delete_removes_the_product_and_its_variants() {
    let app = TestApp::spawn().await;
    let p = app
        .product(json!({"name": "Gone", "price": 100,
            "variants": [{"sku": "GONE-1"}, {"sku": "GONE-2"}]}))
        .await;
    let pid = id(&p);
    let keep = new_product(&app, "Kept").await;
    assert_eq!(
        count_where(&app, "variants", &format!("product_id = '{pid}'")).await,
        2
    );

    let (status, body) = app
        .admin(Method::DELETE, &format!("/products/{pid}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"success": true, "deleted": true}));

    let again = app
        .admin(Method::GET, &format!("/products/{pid}"), None)
        .await;
    assert_error(&again, StatusCode::NOT_FOUND, "NOT_FOUND");
    let twice = app
        .admin(Method::DELETE, &format!("/products/{pid}"), None)
        .await;
    assert_error(&twice, StatusCode::NOT_FOUND, "NOT_FOUND");

    assert_eq!(
        count_where(&app, "products", &format!("id = '{pid}'")).await,
        0
    );
    assert_eq!(
        count_where(&app, "variants", &format!("product_id = '{pid}'")).await,
        0
    );
    // The other product is untouched.
    assert_eq!(
        count_where(&app, "variants", &format!("product_id = '{keep}'")).await,
        1
    );
    // Its SKUs are free again.
    app.product(json!({"name": "Reuse", "price": 1, "variants": [{"sku": "GONE-1"}]}))
        .await;
}

#[tokio::test]
async fn derived_slugs_get_a_numeric_suffix_on_collision() {
    let app = TestApp::spawn().await;
    let a = app
        .product(json!({"name": "Classic Tee", "price": 1}))
        .await;
    let b = app
        .product(json!({"name": "Classic  TEE!", "price": 1}))
        .await;
    let c = app
        .product(json!({"name": "classic tee", "price": 1}))
        .await;
    assert_eq!(a["slug"], "classic-tee");
    assert_eq!(b["slug"], "classic-tee-2");
    assert_eq!(c["slug"], "classic-tee-3");
    assert_eq!(
        count_where(&app, "products", "slug like 'classic-tee%'").await,
        3
    );
    // Each is reachable by its own slug.
    assert_eq!(
        app.get("/products/classic-tee-2").await["data"]["id"],
        b["id"]
    );
}

#[tokio::test]
async fn explicit_duplicate_slug_is_409() {
    let app = TestApp::spawn().await;
    app.product(json!({"name": "One", "price": 1, "slug": "my-shirt"}))
        .await;
    let other = new_product(&app, "Two").await;

    let res = app
        .admin(
            Method::POST,
            "/products",
            Some(json!({"name": "Three", "price": 1, "slug": "my-shirt"})),
        )
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    assert!(
        res.1["error"].as_str().unwrap().contains("my-shirt"),
        "{}",
        res.1
    );
    assert_eq!(count_where(&app, "products", "").await, 2);
    assert_eq!(count_where(&app, "variants", "").await, 2);

    let res = app
        .admin(
            Method::PATCH,
            &format!("/products/{other}"),
            Some(json!({"slug": "my-shirt"})),
        )
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    assert_eq!(
        scalar(
            &app,
            &format!("select slug from products where id = '{other}'")
        )
        .await,
        Some("two".into())
    );
}

#[tokio::test]
async fn concurrent_creates_with_one_name_get_distinct_slugs() {
    let app = TestApp::spawn().await;
    let url = app.api("/products");
    let requests = (0..10).map(|_| {
        let client = app.client.clone();
        let url = url.clone();
        let key = app.admin_key.clone();
        tokio::spawn(async move {
            let res = client
                .post(url)
                .bearer_auth(key)
                .json(&json!({"name": "Same Name", "price": 1}))
                .send()
                .await
                .unwrap();
            (res.status(), res.json::<Value>().await.unwrap())
        })
    });
    let results = futures::future::join_all(requests).await;
    let mut slugs = HashSet::new();
    for result in results {
        let (status, body) = result.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        slugs.insert(body["data"]["slug"].as_str().unwrap().to_string());
    }
    assert_eq!(slugs.len(), 10, "{slugs:?}");
    assert!(slugs.contains("same-name") && slugs.contains("same-name-10"));
    assert_eq!(count_where(&app, "products", "").await, 10);
}

// ---------------------------------------------------------------------------------------------------------
// Pagination
// ---------------------------------------------------------------------------------------------------------

/// Creates `n` products named `Product 01`, `Product 02`, …; returns their ids in creation order.
async fn many_products(app: &TestApp, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for i in 1..=n {
        ids.push(new_product(app, &format!("Product {i:02}")).await);
    }
    ids
}

#[tokio::test]
async fn offset_pagination_returns_the_requested_page_and_totals() {
    let app = TestApp::spawn().await;
    let ids = many_products(&app, 25).await;
    assert_eq!(count_where(&app, "products", "").await, 25);

    let body = list_ok(&app, &[("limit", "10"), ("page", "3")]).await;
    assert_eq!(body["success"], true);
    assert_eq!(item_ids(&body), ids[20..25]);
    assert_eq!(
        body["pagination"],
        json!({"page": 3, "limit": 10, "total": 25, "totalPages": 3, "totalIsEstimate": false})
    );
    assert!(body.get("cursor").is_none() && body.get("hasNextPage").is_none());

    let first = list_ok(&app, &[]).await;
    assert_eq!(item_ids(&first), ids[..20]);
    assert_eq!(
        first["pagination"],
        json!({"page": 1, "limit": 20, "total": 25, "totalPages": 2, "totalIsEstimate": false})
    );

    let second = list_ok(&app, &[("page", "2"), ("limit", "10")]).await;
    assert_eq!(item_ids(&second), ids[10..20]);

    let beyond = list_ok(&app, &[("page", "4"), ("limit", "10")]).await;
    assert_eq!(beyond["items"], json!([]));
    assert_eq!(beyond["pagination"]["total"], 25);
}

#[tokio::test]
async fn offset_pagination_rejects_bad_parameters() {
    let app = TestApp::spawn().await;
    new_product(&app, "Only").await;
    for (pairs, field) in [
        (&[("limit", "0")][..], "limit"),
        (&[("limit", "101")][..], "limit"),
        (&[("limit", "-5")][..], "limit"),
        (&[("page", "0")][..], "page"),
        (&[("page", "-1")][..], "page"),
        (&[("limit", "abc")][..], "limit"),
        (&[("page", "two")][..], "page"),
    ] {
        let res = list_products(&app, pairs).await;
        assert_invalid(&res, field);
    }
    // The bounds themselves are fine.
    let body = list_ok(&app, &[("limit", "100"), ("page", "1")]).await;
    assert_eq!(body["pagination"]["limit"], 100);
    let body = list_ok(&app, &[("limit", "1")]).await;
    assert_eq!(item_ids(&body).len(), 1);
}

#[tokio::test]
async fn cursor_walk_sees_every_product_once_in_id_order() {
    let app = TestApp::spawn().await;
    let ids = many_products(&app, 25).await;
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "ids sort in creation order");

    let pages = cursor_walk(&app, 7).await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [7, 7, 7, 4]);
    let seen: Vec<String> = pages.concat();
    assert_eq!(seen, ids);

    // An exact multiple of the limit ends without an empty page.
    let pages = cursor_walk(&app, 5).await;
    assert_eq!(pages.len(), 5);
    assert_eq!(pages.concat(), ids);
}

#[tokio::test]
async fn cursor_walk_is_stable_while_products_are_added() {
    let app = TestApp::spawn().await;
    let originals = many_products(&app, 20).await;

    let mut seen: Vec<String> = Vec::new();
    let mut cursor = String::new();
    let mut added = 0;
    loop {
        let body = list_ok(&app, &[("cursor", &cursor), ("limit", "6")]).await;
        seen.extend(item_ids(&body));
        // Add products in the middle of the walk (twice).
        if added < 2 {
            added += 1;
            for i in 0..3 {
                new_product(&app, &format!("Added {added}-{i}")).await;
            }
        }
        if body["hasNextPage"] == false {
            break;
        }
        cursor = body["cursor"].as_str().unwrap().to_string();
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "a product repeated: {seen:?}");
    for original in &originals {
        assert!(seen.contains(original), "{original} was skipped");
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "the walk is in id order");
    assert_eq!(count_where(&app, "products", "").await, 26);
}

#[tokio::test]
async fn malformed_cursor_is_422() {
    let app = TestApp::spawn().await;
    new_product(&app, "Only").await;
    // A cursor is opaque: any string that is not one a response gave is well-formed and names nothing.
    for cursor in ["bad id", "var_01JD2W3M4N5P6Q7R8S9T0V1W2X", "prd_", "'; --"] {
        let res = list_products(&app, &[("cursor", cursor)]).await;
        assert_unprocessable(&res, "cursor");
    }
    // A well-formed cursor of a product that no longer exists still works (keyset).
    let body = list_ok(&app, &[("cursor", "prd_00000000000000000000000000")]).await;
    assert_eq!(item_ids(&body).len(), 1);
}

// ---------------------------------------------------------------------------------------------------------
// Filters and search
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn status_filter_defaults_to_active() {
    let app = TestApp::spawn().await;
    let active = new_product(&app, "Active One").await;
    let draft = id(&app
        .product(json!({"name": "Draft One", "price": 1, "status": "DRAFT"}))
        .await);
    let archived = id(&app
        .product(json!({"name": "Archived One", "price": 1, "status": "ARCHIVED"}))
        .await);
    assert_eq!(count_where(&app, "products", "status = 'DRAFT'").await, 1);

    let body = list_ok(&app, &[]).await;
    assert_eq!(item_ids(&body), [active.as_str()]);
    assert_eq!(body["pagination"]["total"], 1);
    assert_eq!(
        item_ids(&list_ok(&app, &[("status", "ACTIVE")]).await),
        [active]
    );
    let drafts = list_ok(&app, &[("status", "DRAFT")]).await;
    assert_eq!(item_ids(&drafts), [draft]);
    assert_eq!(drafts["items"][0]["status"], "DRAFT");
    assert_eq!(
        item_ids(&list_ok(&app, &[("status", "ARCHIVED")]).await),
        [archived]
    );

    for bad in ["BOGUS", "draft"] {
        let res = list_products(&app, &[("status", bad)]).await;
        assert_invalid(&res, "status");
    }
}

#[tokio::test]
async fn featured_brand_and_category_filters() {
    let app = TestApp::spawn().await;
    let brand = id(&app.post("/brands", json!({"name": "Acme"})).await["data"]);
    let other_brand = id(&app.post("/brands", json!({"name": "Zeta"})).await["data"]);
    let cat = id(&app.post("/categories", json!({"name": "Shoes"})).await["data"]);
    let featured = id(&app
        .product(
            json!({"name": "Featured Branded", "price": 1, "featured": true, "brandId": brand}),
        )
        .await);
    let in_cat = id(&app
        .product(json!({"name": "In Category", "price": 1, "categoryIds": [cat]}))
        .await);
    let plain = id(&app
        .product(json!({"name": "Plain", "price": 1, "brandId": other_brand}))
        .await);
    // A draft in the category stays hidden.
    app.product(
        json!({"name": "Draft In Cat", "price": 1, "status": "DRAFT", "categoryIds": [cat]}),
    )
    .await;

    assert_eq!(
        item_ids(&list_ok(&app, &[("featured", "true")]).await),
        [featured.as_str()]
    );
    assert_eq!(
        item_ids(&list_ok(&app, &[("featured", "false")]).await),
        [in_cat.clone(), plain.clone()]
    );
    assert_eq!(
        item_ids(&list_ok(&app, &[("brandId", &brand)]).await),
        [featured.as_str()]
    );
    assert_eq!(
        item_ids(&list_ok(&app, &[("brandId", &other_brand)]).await),
        [plain]
    );
    let by_cat = list_ok(&app, &[("categoryId", &cat)]).await;
    assert_eq!(item_ids(&by_cat), [in_cat]);
    assert_eq!(by_cat["pagination"]["total"], 1);
    assert_eq!(
        item_ids(&list_ok(&app, &[("brandId", &brand), ("featured", "false")]).await),
        Vec::<String>::new()
    );
    assert_eq!(
        item_ids(&list_ok(&app, &[("categoryId", "cat_doesnotexist")]).await),
        Vec::<String>::new()
    );

    let res = list_products(&app, &[("featured", "maybe")]).await;
    assert_invalid(&res, "featured");
}

/// Three products to search: a shirt, boots and a scarf, each with one SKU.
async fn searchable_products(app: &TestApp) -> (String, String, String) {
    let shirt = id(&app
        .product(json!({"name": "Classic White T-Shirt", "price": 2999,
            "description": "Soft organic cotton", "variants": [{"sku": "TS-WHT-S"}]}))
        .await);
    let boots = id(&app
        .product(json!({"name": "Leather Hiking Boots", "price": 12999,
            "description": "Waterproof for the mountains", "variants": [{"sku": "BT-BRN-42"}]}))
        .await);
    let scarf = id(&app
        .product(json!({"name": "Wool Scarf", "price": 1999, "variants": [{"sku": "SC-GRY"}]}))
        .await);
    (shirt, boots, scarf)
}

#[tokio::test]
async fn search_matches_name_prefix_description_and_sku() {
    let app = TestApp::spawn().await;
    let (shirt, boots, scarf) = searchable_products(&app).await;
    // A draft that matches stays hidden.
    app.product(json!({"name": "White Draft", "price": 1, "status": "DRAFT"}))
        .await;

    let search = |text: &'static str| {
        let app = &app;
        async move { item_ids(&list_ok(app, &[("search", text)]).await) }
    };
    assert_eq!(search("whi").await, [shirt.as_str()], "name word prefix");
    assert_eq!(search("LEATH").await, [boots.as_str()], "case-insensitive");
    assert_eq!(search("hiking boot").await, [boots.as_str()], "every word");
    assert_eq!(search("cotton").await, [shirt.as_str()], "description word");
    assert_eq!(
        search("waterpro").await,
        [boots.as_str()],
        "description prefix"
    );
    assert_eq!(
        search("bt-brn").await,
        [boots.as_str()],
        "SKU prefix, any case"
    );
    assert_eq!(search("TS-WHT-S").await, [shirt.as_str()], "whole SKU");
    assert_eq!(search("sc-gr").await, [scarf.as_str()], "SKU prefix");
    assert_eq!(search("zzzz").await, Vec::<String>::new());
    assert_eq!(search("classic boots").await, Vec::<String>::new());
    assert_eq!(
        search("wht-s").await,
        Vec::<String>::new(),
        "SKU prefix only"
    );

    let body = list_ok(&app, &[("search", "wool"), ("limit", "5")]).await;
    assert_eq!(body["pagination"]["total"], 1);
}

#[tokio::test]
async fn search_with_special_characters_never_fails() {
    let app = TestApp::spawn().await;
    searchable_products(&app).await;
    let nasty = [
        "'",
        "O'Brien",
        "&",
        "|",
        ":*",
        "%",
        "%%",
        "_",
        "\\",
        "!",
        "(",
        ")",
        "<->",
        "white & | :*",
        "a:* | b",
        "!white",
        "''; drop table products; --",
        "½",
        "²³",
        "🙂",
        "日本語",
    ];
    for text in nasty {
        let (status, body) = list_products(&app, &[("search", text)]).await;
        assert_eq!(status, StatusCode::OK, "search {text:?}: {body}");
        assert!(body["items"].is_array(), "{body}");
    }
    // LIKE wildcards are literal: unescaped, `ts_wht` and `ts%wht` would match the SKU `TS-WHT-S`.
    assert_eq!(
        item_ids(&list_ok(&app, &[("search", "ts-wht")]).await).len(),
        1
    );
    for text in ["%", "_", "%%", "\\", "ts_wht", "ts%wht", "%wht"] {
        let body = list_ok(&app, &[("search", text)]).await;
        assert_eq!(body["items"], json!([]), "search {text:?}");
    }
    // Operators are not interpreted, so `white & | :*` still finds the shirt.
    let body = list_ok(&app, &[("search", "white & | :*")]).await;
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(count_where(&app, "products", "").await, 3);

    let long = "a".repeat(201);
    let res = list_products(&app, &[("search", &long)]).await;
    assert_invalid(&res, "search");
}

// ---------------------------------------------------------------------------------------------------------
// Field selection and expansion
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn fields_returns_only_the_requested_keys() {
    let app = TestApp::spawn().await;
    new_product(&app, "One").await;
    new_product(&app, "Two").await;

    let body = list_ok(&app, &[("fields", "id,name,price")]).await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    for item in items {
        assert_eq!(keys(item), ["id", "name", "price"], "{item}");
    }
    // `id` is always included.
    let body = list_ok(&app, &[("fields", "name")]).await;
    assert_eq!(keys(&body["items"][0]), ["id", "name"]);
    assert_eq!(body["items"][0]["name"], "One");

    let res = list_products(&app, &[("fields", "id,name,colour")]).await;
    assert_invalid(&res, "fields");
    assert!(res.1["error"].as_str().unwrap().contains("colour"));

    // Without `fields`, everything.
    let full = list_ok(&app, &[]).await;
    let full_keys = keys(&full["items"][0]);
    for k in [
        "slug",
        "status",
        "compareAtPrice",
        "categoryIds",
        "createdAt",
    ] {
        assert!(full_keys.contains(&k.to_string()), "{k} missing");
    }
    assert!(!full_keys.contains(&"variants".to_string()));
}

#[tokio::test]
async fn expand_loads_variants_brand_and_categories() {
    let app = TestApp::spawn().await;
    let brand = app.post("/brands", json!({"name": "Acme"})).await["data"].clone();
    let shirts = id(&app.post("/categories", json!({"name": "Shirts"})).await["data"]);
    let sale = id(&app.post("/categories", json!({"name": "Sale"})).await["data"]);
    let rich = id(&app
        .product(json!({
            "name": "Rich", "price": 1, "brandId": id(&brand), "categoryIds": [sale, shirts],
            "variants": [{"sku": "R-S"}, {"sku": "R-L", "isDefault": true}]
        }))
        .await);
    let plain = new_product(&app, "Plain").await;

    let body = list_ok(
        &app,
        &[
            ("expand[]", "variants"),
            ("expand[]", "brand"),
            ("expand[]", "categories"),
        ],
    )
    .await;
    assert_eq!(item_ids(&body), [rich.clone(), plain.clone()]);
    let (r, p) = (&body["items"][0], &body["items"][1]);
    let variants = r["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2);
    assert_eq!(variants[0]["sku"], "R-L", "default first");
    assert_eq!(variants[0]["isDefault"], true);
    assert_eq!(r["brand"]["id"], brand["id"]);
    assert_eq!(r["brand"]["name"], "Acme");
    let cat_ids: Vec<String> = r["categories"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(
        cat_ids,
        [sale.clone(), shirts.clone()],
        "in the product's order"
    );
    assert_eq!(r["categories"][0]["name"], "Sale");
    assert_eq!(p["variants"].as_array().unwrap().len(), 1);
    assert!(p.as_object().unwrap().contains_key("brand"));
    assert_eq!(p["brand"], Value::Null);
    assert_eq!(p["categories"], json!([]));

    // Without expansion, none of the three keys.
    let bare = list_ok(&app, &[]).await;
    for k in ["variants", "brand", "categories"] {
        assert!(bare["items"][0].get(k).is_none(), "{k} present: {bare}");
    }

    // The comma form.
    let body = list_ok(&app, &[("expand", "variants,brand")]).await;
    let r = &body["items"][0];
    assert_eq!(r["variants"].as_array().unwrap().len(), 2);
    assert_eq!(r["brand"]["name"], "Acme");
    assert!(r.get("categories").is_none());

    // Expansion survives a sparse fieldset.
    let body = list_ok(&app, &[("fields", "name"), ("expand[]", "brand")]).await;
    assert_eq!(keys(&body["items"][0]), ["id", "name", "brand"]);

    // Single product: brand and categories on request.
    let one = app
        .get(&format!(
            "/products/{rich}{}",
            query(&[("expand[]", "brand"), ("expand[]", "categories")])
        ))
        .await;
    assert_eq!(one["data"]["brand"]["id"], brand["id"]);
    assert_eq!(one["data"]["categories"].as_array().unwrap().len(), 2);

    for pairs in [
        &[("expand[]", "bogus")][..],
        &[("expand[]", "variants"), ("expand[]", "reviews")][..],
        &[("expand", "variants,nope")][..],
    ] {
        let res = list_products(&app, pairs).await;
        assert_invalid(&res, "expand[]");
    }
}

// ---------------------------------------------------------------------------------------------------------
// Variants
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn new_default_variant_demotes_the_previous_one() {
    let app = TestApp::spawn().await;
    let pid = new_product(&app, "Shirt").await;
    let first = default_variant(&app, &pid).await;

    let v = new_variant(&app, &pid, json!({"name": "Large", "isDefault": true})).await;
    assert_eq!(v["isDefault"], true);
    assert_eq!(v["productId"], pid.as_str());
    assert_eq!(default_variant(&app, &pid).await, id(&v));
    assert_eq!(
        count_where(
            &app,
            "variants",
            &format!("id = '{first}' and not is_default")
        )
        .await,
        1
    );

    // A non-default addition changes nothing.
    let w = new_variant(&app, &pid, json!({"name": "Small", "isDefault": false})).await;
    assert_eq!(w["isDefault"], false);
    assert_eq!(default_variant(&app, &pid).await, id(&v));
    assert_eq!(
        count_where(&app, "variants", &format!("product_id = '{pid}'")).await,
        3
    );
}

#[tokio::test]
async fn patching_is_default_promotes_and_cannot_demote() {
    let app = TestApp::spawn().await;
    let pid = new_product(&app, "Shirt").await;
    let first = default_variant(&app, &pid).await;
    let other = id(&new_variant(&app, &pid, json!({"name": "Other"})).await);

    let (status, body) = app
        .admin(
            Method::PATCH,
            &format!("/products/{pid}/variants/{other}"),
            Some(json!({"isDefault": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["isDefault"], true);
    assert_eq!(body["data"]["name"], "Other");
    assert_eq!(default_variant(&app, &pid).await, other);

    // The default cannot simply be switched off: a product always has one.
    let res = app
        .admin(
            Method::PATCH,
            &format!("/products/{pid}/variants/{other}"),
            Some(json!({"isDefault": false, "name": "Renamed"})),
        )
        .await;
    assert_unprocessable(&res, "isDefault");
    assert_eq!(default_variant(&app, &pid).await, other);
    assert_eq!(
        count_where(&app, "variants", "name = 'Renamed'").await,
        0,
        "nothing of a refused patch is written"
    );

    // Promoting the first one back works the same way.
    let (status, _) = app
        .admin(
            Method::PATCH,
            &format!("/products/{pid}/variants/{first}"),
            Some(json!({"isDefault": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(default_variant(&app, &pid).await, first);

    let missing = app
        .admin(
            Method::PATCH,
            &format!("/products/{pid}/variants/var_doesnotexist"),
            Some(json!({"name": "x"})),
        )
        .await;
    assert_error(&missing, StatusCode::NOT_FOUND, "NOT_FOUND");
}

#[tokio::test]
async fn deleting_the_default_promotes_the_next_oldest() {
    let app = TestApp::spawn().await;
    let pid = new_product(&app, "Shirt").await;
    let first = default_variant(&app, &pid).await;
    let second = id(&new_variant(&app, &pid, json!({"name": "Second", "position": 5})).await);
    let third = id(&new_variant(&app, &pid, json!({"name": "Third", "position": 0})).await);

    let (status, body) = app
        .admin(
            Method::DELETE,
            &format!("/products/{pid}/variants/{first}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"success": true, "deleted": true}));
    assert_eq!(default_variant(&app, &pid).await, second, "the oldest");
    assert_eq!(
        count_where(&app, "variants", &format!("id = '{first}'")).await,
        0
    );

    // Deleting a non-default variant leaves the default alone.
    let (status, _) = app
        .admin(
            Method::DELETE,
            &format!("/products/{pid}/variants/{third}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(default_variant(&app, &pid).await, second);
}

#[tokio::test]
async fn deleting_the_only_variant_is_409() {
    let app = TestApp::spawn().await;
    let pid = new_product(&app, "Shirt").await;
    let only = default_variant(&app, &pid).await;
    let res = app
        .admin(
            Method::DELETE,
            &format!("/products/{pid}/variants/{only}"),
            None,
        )
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    assert_eq!(
        count_where(&app, "variants", &format!("id = '{only}' and is_default")).await,
        1
    );
}

#[tokio::test]
async fn inventory_status_is_derived_from_count_unless_given() {
    let app = TestApp::spawn().await;
    let pid = new_product(&app, "Stocked").await;
    let status_of = |count: Value, extra: Value| {
        let app = &app;
        let pid = pid.clone();
        async move {
            let mut body = json!({"inventoryCount": count});
            for (k, v) in extra.as_object().unwrap() {
                body[k] = v.clone();
            }
            new_variant(app, &pid, body).await
        }
    };
    let out = status_of(json!(0), json!({})).await;
    let low = status_of(json!(3), json!({})).await;
    let edge = status_of(json!(5), json!({})).await;
    let high = status_of(json!(42), json!({})).await;
    let custom = status_of(json!(8), json!({"lowStockThreshold": 10})).await;
    let forced = status_of(json!(0), json!({"inventoryStatus": "BACKORDER"})).await;
    assert_eq!(out["inventoryStatus"], "OUT_OF_STOCK");
    assert_eq!(low["inventoryStatus"], "LOW_STOCK");
    assert_eq!(low["lowStockThreshold"], 5);
    assert_eq!(edge["inventoryStatus"], "LOW_STOCK");
    assert_eq!(high["inventoryStatus"], "IN_STOCK");
    assert_eq!(high["inventoryCount"], 42);
    assert_eq!(custom["inventoryStatus"], "LOW_STOCK");
    assert_eq!(forced["inventoryStatus"], "BACKORDER");

    // Only the override is stored; derived statuses are computed.
    assert_eq!(
        scalar(
            &app,
            &format!(
                "select inventory_status from variants where id = '{}'",
                id(&forced)
            )
        )
        .await,
        Some("BACKORDER".into())
    );
    assert_eq!(
        count_where(&app, "variants", "inventory_status is not null").await,
        1
    );

    // PATCH: an explicit status wins; a new count alone returns to the derived status.
    let path = format!("/products/{pid}/variants/{}", id(&high));
    let (status, body) = app
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"inventoryCount": 0, "inventoryStatus": "OUT_OF_STOCK"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["inventoryStatus"], "OUT_OF_STOCK");
    let (_, body) = app
        .admin(Method::PATCH, &path, Some(json!({"inventoryCount": 2})))
        .await;
    assert_eq!(body["data"]["inventoryStatus"], "LOW_STOCK");
    assert_eq!(
        count_where(
            &app,
            "variants",
            &format!(
                "id = '{}' and inventory_count = 2 and inventory_status is null",
                id(&high)
            )
        )
        .await,
        1
    );

    // The list shows the same statuses.
    let list = app.get(&format!("/products/{pid}/variants")).await;
    let forced_listed = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == forced["id"])
        .unwrap()
        .clone();
    assert_eq!(forced_listed["inventoryStatus"], "BACKORDER");

    let res = app
        .admin(
            Method::POST,
            &format!("/products/{pid}/variants"),
            Some(json!({"inventoryCount": 1, "inventoryStatus": "PLENTY"})),
        )
        .await;
    assert_invalid(&res, "inventoryStatus");
    let res = app
        .admin(
            Method::POST,
            &format!("/products/{pid}/variants"),
            Some(json!({"inventoryCount": -1})),
        )
        .await;
    assert_invalid(&res, "inventoryCount");
    assert_eq!(
        count_where(&app, "variants", &format!("product_id = '{pid}'")).await,
        7
    );
}

#[tokio::test]
async fn duplicate_sku_is_409_on_one_site_but_fine_across_sites() {
    let app = TestApp::spawn().await;
    let a = id(&app
        .product(json!({"name": "A", "price": 1, "variants": [{"sku": "DUP-1"}]}))
        .await);
    let b = new_product(&app, "B").await;

    let res = app
        .admin(
            Method::POST,
            &format!("/products/{b}/variants"),
            Some(json!({"sku": "DUP-1"})),
        )
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    assert!(res.1["error"].as_str().unwrap().contains("DUP-1"));

    // Inline on a new product: nothing of that product is written.
    let res = app
        .admin(
            Method::POST,
            "/products",
            Some(
                json!({"name": "C", "price": 1, "variants": [{"sku": "NEW-1"}, {"sku": "DUP-1"}]}),
            ),
        )
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    assert_eq!(count_where(&app, "products", "").await, 2);
    assert_eq!(count_where(&app, "variants", "sku = 'NEW-1'").await, 0);

    // Renaming another variant to the SKU conflicts too.
    let b_default = default_variant(&app, &b).await;
    let res = app
        .admin(
            Method::PATCH,
            &format!("/products/{b}/variants/{b_default}"),
            Some(json!({"sku": "DUP-1"})),
        )
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    assert_eq!(count_where(&app, "variants", "sku = 'DUP-1'").await, 1);
    assert_eq!(
        count_where(
            &app,
            "variants",
            &format!("sku = 'DUP-1' and product_id = '{a}'")
        )
        .await,
        1
    );

    // Another site has its own SKU space.
    let (site, key) = other_site(&app).await;
    let (status, body) = app
        .call(
            Method::POST,
            &site_url(&app, &site, "/products"),
            Some(&key),
            Some(json!({"name": "Theirs", "price": 1, "variants": [{"sku": "DUP-1"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(count_where(&app, "variants", "sku = 'DUP-1'").await, 2);
    assert_eq!(
        count_where(
            &app,
            "variants",
            &format!("sku = 'DUP-1' and site_id = '{site}'")
        )
        .await,
        1
    );
}

#[tokio::test]
async fn variants_list_puts_the_default_first() {
    let app = TestApp::spawn().await;
    let pid = new_product(&app, "Listed Shirt").await;
    let first = default_variant(&app, &pid).await;
    let b = id(&new_variant(&app, &pid, json!({"name": "B", "position": 0})).await);
    let c = id(&new_variant(
        &app,
        &pid,
        json!({"name": "C", "isDefault": true, "position": 9}),
    )
    .await);

    let body = app.get(&format!("/products/{pid}/variants")).await;
    assert_eq!(data_ids(&body), [c.clone(), first.clone(), b.clone()]);
    assert_eq!(body["data"][0]["isDefault"], true);
    let defaults = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["isDefault"] == true)
        .count();
    assert_eq!(defaults, 1);

    // By slug too, and the product itself lists them the same way.
    let by_slug = app.get("/products/listed-shirt/variants").await;
    assert_eq!(data_ids(&by_slug), [c.clone(), first.clone(), b.clone()]);
    let product = app.get(&format!("/products/{pid}")).await;
    let embedded: Vec<String> = product["data"]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(id)
        .collect();
    assert_eq!(embedded, [c, first, b]);

    let missing = app
        .admin(Method::GET, "/products/no-such-product/variants", None)
        .await;
    assert_error(&missing, StatusCode::NOT_FOUND, "NOT_FOUND");
}

#[tokio::test]
async fn concurrent_default_variants_leave_exactly_one_default() {
    let app = TestApp::spawn().await;
    let pid = new_product(&app, "Contended").await;
    let url = app.api(&format!("/products/{pid}/variants"));
    let requests = (0..20).map(|i| {
        let client = app.client.clone();
        let url = url.clone();
        let key = app.admin_key.clone();
        tokio::spawn(async move {
            let res = client
                .post(url)
                .bearer_auth(key)
                .json(&json!({"name": format!("V{i}"), "sku": format!("C-{i}"), "isDefault": true}))
                .send()
                .await
                .unwrap();
            (res.status(), res.json::<Value>().await.unwrap())
        })
    });
    let results = futures::future::join_all(requests).await;
    for result in results {
        let (status, body) = result.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["data"]["isDefault"], true);
    }
    assert_eq!(
        count_where(&app, "variants", &format!("product_id = '{pid}'")).await,
        21
    );
    let default = default_variant(&app, &pid).await;
    assert_eq!(
        count_where(
            &app,
            "variants",
            &format!("id = '{default}' and sku like 'C-%'")
        )
        .await,
        1,
        "the default is one of the new variants"
    );
    let body = app.get(&format!("/products/{pid}/variants")).await;
    assert_eq!(body["data"][0]["id"], default.as_str());
}

// ---------------------------------------------------------------------------------------------------------
// Categories and brands
// ---------------------------------------------------------------------------------------------------------

/// Apparel > (Pants, Shirts > T-Shirts): returns (apparel, shirts, pants, tshirts) ids.
async fn category_tree(app: &TestApp) -> (String, String, String, String) {
    let apparel = id(&app.post("/categories", json!({"name": "Apparel"})).await["data"]);
    let shirts = id(&app
        .post(
            "/categories",
            json!({"name": "Shirts", "parentId": apparel, "position": 1}),
        )
        .await["data"]);
    let pants = id(&app
        .post(
            "/categories",
            json!({"name": "Pants", "parentId": apparel, "position": 0}),
        )
        .await["data"]);
    let tshirts = id(&app
        .post(
            "/categories",
            json!({"name": "T-Shirts", "parentId": shirts}),
        )
        .await["data"]);
    (apparel, shirts, pants, tshirts)
}

#[tokio::test]
async fn categories_form_a_tree_filtered_by_parent_and_slug() {
    let app = TestApp::spawn().await;
    let (apparel, shirts, pants, tshirts) = category_tree(&app).await;
    assert_eq!(count_where(&app, "categories", "").await, 4);
    assert_eq!(
        count_where(&app, "categories", &format!("parent_id = '{apparel}'")).await,
        2
    );

    let all = app.get("/categories").await;
    assert_eq!(all["data"].as_array().unwrap().len(), 4);
    assert_eq!(all["data"][0]["id"], apparel.as_str(), "roots first");
    assert_eq!(all["data"][0]["parentId"], Value::Null);

    let children = app
        .get(&format!("/categories{}", query(&[("parentId", &apparel)])))
        .await;
    assert_eq!(data_ids(&children), [pants, shirts.clone()], "by position");

    let by_slug = app.get("/categories?slug=t-shirts").await;
    assert_eq!(data_ids(&by_slug), [tshirts.as_str()]);
    assert_eq!(by_slug["data"][0]["parentId"], shirts.as_str());
    assert_eq!(by_slug["data"][0]["name"], "T-Shirts");
    let none = app.get("/categories?slug=nothing-here").await;
    assert_eq!(none["data"], json!([]));

    let one = app.get(&format!("/categories/{tshirts}")).await;
    assert_eq!(one["data"]["slug"], "t-shirts");
    let one = app.get("/categories/apparel").await;
    assert_eq!(one["data"]["id"], apparel.as_str());

    let dup = app
        .admin(
            Method::POST,
            "/categories",
            Some(json!({"name": "Shirts Again", "slug": "shirts"})),
        )
        .await;
    assert_error(&dup, StatusCode::CONFLICT, "CONFLICT");
    assert_eq!(count_where(&app, "categories", "").await, 4);
}

#[tokio::test]
async fn category_cannot_move_under_itself_or_a_descendant() {
    let app = TestApp::spawn().await;
    let (apparel, shirts, _pants, tshirts) = category_tree(&app).await;

    for parent in [&tshirts, &shirts, &apparel] {
        let res = app
            .admin(
                Method::PATCH,
                &format!("/categories/{apparel}"),
                Some(json!({"parentId": parent})),
            )
            .await;
        assert_unprocessable(&res, "parentId");
    }
    assert_eq!(
        count_where(
            &app,
            "categories",
            &format!("id = '{apparel}' and parent_id is null")
        )
        .await,
        1
    );

    // A legal move: T-Shirts up to the root, then Shirts under T-Shirts.
    let (status, body) = app
        .admin(
            Method::PATCH,
            &format!("/categories/{tshirts}"),
            Some(json!({"parentId": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["parentId"], Value::Null);
    let (status, body) = app
        .admin(
            Method::PATCH,
            &format!("/categories/{shirts}"),
            Some(json!({"parentId": tshirts})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        scalar(
            &app,
            &format!("select parent_id from categories where id = '{shirts}'")
        )
        .await,
        Some(tshirts)
    );
}

#[tokio::test]
async fn unknown_category_parent_is_400() {
    let app = TestApp::spawn().await;
    let (apparel, ..) = category_tree(&app).await;
    let res = app
        .admin(
            Method::POST,
            "/categories",
            Some(json!({"name": "Orphan", "parentId": "cat_doesnotexist"})),
        )
        .await;
    assert_unprocessable(&res, "parentId");
    let res = app
        .admin(
            Method::PATCH,
            &format!("/categories/{apparel}"),
            Some(json!({"parentId": "cat_doesnotexist"})),
        )
        .await;
    assert_unprocessable(&res, "parentId");
    // Another site's category is as unknown as a missing one.
    let (site, key) = other_site(&app).await;
    let (status, theirs) = app
        .call(
            Method::POST,
            &site_url(&app, &site, "/categories"),
            Some(&key),
            Some(json!({"name": "Theirs"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{theirs}");
    let res = app
        .admin(
            Method::POST,
            "/categories",
            Some(json!({"name": "Cross", "parentId": id(&theirs["data"])})),
        )
        .await;
    assert_unprocessable(&res, "parentId");

    assert_eq!(
        count_where(&app, "categories", &format!("site_id = '{}'", app.site_id)).await,
        4
    );
    assert_eq!(
        count_where(&app, "categories", "name in ('Orphan', 'Cross')").await,
        0
    );
}

#[tokio::test]
async fn deleting_a_category_moves_its_children_up() {
    let app = TestApp::spawn().await;
    let (apparel, shirts, pants, tshirts) = category_tree(&app).await;
    let product = id(&app
        .product(json!({"name": "Tee", "price": 1, "categoryIds": [shirts, tshirts]}))
        .await);

    let (status, body) = app
        .admin(Method::DELETE, &format!("/categories/{shirts}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"success": true, "deleted": true}));
    let res = app
        .admin(Method::GET, &format!("/categories/{shirts}"), None)
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");

    let moved = app.get(&format!("/categories/{tshirts}")).await;
    assert_eq!(moved["data"]["parentId"], apparel.as_str());
    assert_eq!(
        count_where(&app, "categories", &format!("parent_id = '{apparel}'")).await,
        2
    );
    // The product keeps existing, without the deleted category.
    let p = app.get(&format!("/products/{product}")).await;
    assert_eq!(p["data"]["categoryIds"], json!([tshirts.as_str()]));
    assert_eq!(
        count_where(
            &app,
            "product_categories",
            &format!("category_id = '{shirts}'")
        )
        .await,
        0
    );

    // Deleting a root makes its children roots.
    app.admin(Method::DELETE, &format!("/categories/{apparel}"), None)
        .await;
    assert_eq!(
        count_where(
            &app,
            "categories",
            &format!("id in ('{pants}', '{tshirts}') and parent_id is null")
        )
        .await,
        2
    );
    assert_eq!(count_where(&app, "categories", "").await, 2);
}

#[tokio::test]
async fn brands_are_created_listed_found_updated_and_deleted() {
    let app = TestApp::spawn().await;
    let brand = app
        .post(
            "/brands",
            json!({"name": "Acme Goods", "description": "Anvils"}),
        )
        .await["data"]
        .clone();
    let bid = id(&brand);
    assert!(bid.starts_with("br_"));
    assert_eq!(brand["slug"], "acme-goods");
    app.post("/brands", json!({"name": "Zeta"})).await;
    assert_eq!(count_where(&app, "brands", "").await, 2);

    let all = app.get("/brands").await;
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
    assert_eq!(all["data"][0]["name"], "Acme Goods", "by name");
    let one = app.get("/brands?slug=acme-goods").await;
    assert_eq!(data_ids(&one), [bid.as_str()]);
    assert_eq!(app.get("/brands?slug=nope").await["data"], json!([]));
    assert_eq!(
        app.get(&format!("/brands/{bid}")).await["data"]["name"],
        "Acme Goods"
    );
    assert_eq!(
        app.get("/brands/acme-goods").await["data"]["id"],
        bid.as_str()
    );

    let (status, body) = app
        .admin(
            Method::PATCH,
            &format!("/brands/{bid}"),
            Some(json!({"description": null, "logoUrl": "https://cdn.example.com/acme.png"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["description"], Value::Null);
    assert_eq!(body["data"]["logoUrl"], "https://cdn.example.com/acme.png");
    assert_eq!(body["data"]["name"], "Acme Goods");
    assert_eq!(
        count_where(
            &app,
            "brands",
            &format!("id = '{bid}' and description is null and logo_url like 'https://%'")
        )
        .await,
        1
    );

    let dup = app
        .admin(
            Method::POST,
            "/brands",
            Some(json!({"name": "Acme  Goods"})),
        )
        .await;
    assert_error(&dup, StatusCode::CONFLICT, "CONFLICT");
    let dup = app
        .admin(
            Method::PATCH,
            "/brands/zeta",
            Some(json!({"slug": "acme-goods"})),
        )
        .await;
    assert_error(&dup, StatusCode::CONFLICT, "CONFLICT");
    assert_eq!(count_where(&app, "brands", "").await, 2);

    let (status, body) = app
        .admin(Method::DELETE, &format!("/brands/{bid}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let res = app
        .admin(Method::GET, &format!("/brands/{bid}"), None)
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert_eq!(count_where(&app, "brands", "").await, 1);
}

#[tokio::test]
async fn deleting_a_brand_leaves_its_products_without_one() {
    let app = TestApp::spawn().await;
    let bid = id(&app.post("/brands", json!({"name": "Acme"})).await["data"]);
    let pid = id(&app
        .product(json!({"name": "Anvil", "price": 1, "brandId": bid}))
        .await);
    assert_eq!(
        count_where(&app, "products", &format!("brand_id = '{bid}'")).await,
        1
    );

    let (status, _) = app
        .admin(Method::DELETE, &format!("/brands/{bid}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let p = app.get(&format!("/products/{pid}")).await;
    assert_eq!(p["data"]["brandId"], Value::Null);
    assert_eq!(
        count_where(
            &app,
            "products",
            &format!("id = '{pid}' and brand_id is null")
        )
        .await,
        1
    );
    let body = list_ok(&app, &[("expand[]", "brand")]).await;
    assert_eq!(body["items"][0]["brand"], Value::Null);
}

// ---------------------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn malformed_json_is_400_invalid_json_and_writes_nothing() {
    let app = TestApp::spawn().await;
    for body in [
        r#"{"name": "x", "price": "#,
        r#"{"name": "x", "price": 1} trailing"#,
        "not json",
        "",
    ] {
        let res = send_raw(&app, Method::POST, "/products", body.to_string()).await;
        assert_error(&res, StatusCode::BAD_REQUEST, "INVALID_JSON");
    }
    assert_eq!(count_where(&app, "products", "").await, 0);
}

#[tokio::test]
async fn invalid_product_bodies_are_400_naming_the_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({"name": "x", "price": 29.99}), "price"),
        (json!({"name": "x", "price": -1}), "price"),
        (json!({"name": "x", "price": "10"}), "price"),
        (json!({"name": "x", "price": 1, "status": "LIVE"}), "status"),
        (json!({"name": "x".repeat(300), "price": 1}), "name"),
        (json!({"name": "   ", "price": 1}), "name"),
        (
            json!({"name": "x", "price": 1, "compareAtPrice": -3}),
            "compareAtPrice",
        ),
        (
            json!({"name": "x", "price": 1, "slug": "Not A Slug"}),
            "slug",
        ),
        (
            json!({"name": "x", "price": 1, "brandId": "br_doesnotexist"}),
            "brandId",
        ),
        (
            json!({"name": "x", "price": 1, "categoryIds": ["cat_doesnotexist"]}),
            "categoryIds[0]",
        ),
        (
            json!({"name": "x", "price": 1, "variants": [{"name": "A"}, {"name": "B", "price": -5}]}),
            "variants[1].price",
        ),
        (
            json!({"name": "x", "price": 1, "variants": [{"options": {"Size": true}}]}),
            "variants[0].options.Size",
        ),
        (
            json!({"name": "x", "price": 1, "images": ["not a url"]}),
            "images[0]",
        ),
    ];
    for (body, field) in cases {
        let res = app
            .admin(Method::POST, "/products", Some(body.clone()))
            .await;
        assert_eq!(res.1["details"][0]["field"], field, "{body} gave {}", res.1);
        // Ids of the right shape that name nothing are well-formed: 422, not 400.
        if ["brandId", "categoryIds[0]"].contains(&field) {
            assert_unprocessable(&res, field);
        } else {
            assert_invalid(&res, field);
        }
    }
    assert_eq!(count_where(&app, "products", "").await, 0);
    assert_eq!(count_where(&app, "variants", "").await, 0);
}

/// Keys the client chose (locales, option names) appear in error paths exactly as sent, while the fields
/// around them are camelCase.
#[tokio::test]
async fn client_chosen_keys_are_named_verbatim_in_errors() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            json!({"name": "x", "price": 1, "translations": {"pt_BR": {"name": ""}}}),
            "translations.pt_BR.name",
        ),
        (
            json!({"name": "x", "price": 1, "translations": {"en_GB": {"slug": "Not A Slug"}}}),
            "translations.en_GB.slug",
        ),
        (
            json!({"name": "x", "price": 1, "variants": [{"options": {"shoe_size": false}}]}),
            "variants[0].options.shoe_size",
        ),
    ];
    for (body, field) in cases {
        let res = app.admin(Method::POST, "/products", Some(body)).await;
        assert_invalid(&res, field);
    }
    assert_eq!(count_where(&app, "products", "").await, 0);
}

#[tokio::test]
async fn unknown_fields_are_400_naming_the_field() {
    let app = TestApp::spawn().await;
    let res = app
        .admin(
            Method::POST,
            "/products",
            Some(json!({"name": "x", "price": 1, "colour": "red"})),
        )
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_invalid(&res, "colour");
    assert!(res.1["error"].as_str().unwrap().contains("colour"));
    assert_eq!(count_where(&app, "products", "").await, 0);

    // Inside an inline variant the path says where.
    let res = app
        .admin(
            Method::POST,
            "/products",
            Some(json!({"name": "x", "price": 1, "variants": [{"colour": "red"}]})),
        )
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_invalid(&res, "variants[0].colour");
    assert_eq!(count_where(&app, "products", "").await, 0);
}

#[tokio::test]
async fn invalid_variant_bodies_are_400_and_write_nothing() {
    let app = TestApp::spawn().await;
    let pid = new_product(&app, "Shirt").await;
    let path = format!("/products/{pid}/variants");
    for (body, field) in [
        (json!({"options": {"Size": true}}), "options.Size"),
        (json!({"options": {"Size": ["S"]}}), "options.Size"),
        (json!({"options": {"Size": null}}), "options.Size"),
        (json!({"price": -5}), "price"),
        (json!({"price": 1.5}), "price"),
        (json!({"sku": ""}), "sku"),
        (json!({"name": "x".repeat(300)}), "name"),
        (json!({"lowStockThreshold": -1}), "lowStockThreshold"),
    ] {
        let res = app.admin(Method::POST, &path, Some(body.clone())).await;
        assert_invalid(&res, field);
    }
    assert_eq!(
        count_where(&app, "variants", &format!("product_id = '{pid}'")).await,
        1
    );
    // PATCH validates the same way.
    let v = default_variant(&app, &pid).await;
    let res = app
        .admin(
            Method::PATCH,
            &format!("{path}/{v}"),
            Some(json!({"options": {"Color": {"r": 1}}})),
        )
        .await;
    assert_invalid(&res, "options.Color");
    assert_eq!(
        count_where(
            &app,
            "variants",
            &format!("id = '{v}' and options = '[]'::jsonb")
        )
        .await,
        1
    );
}

#[tokio::test]
async fn oversized_body_is_413() {
    let app = TestApp::spawn().await;
    let body = json!({"name": "Big", "price": 1, "description": "x".repeat(2 * 1024 * 1024)});
    let res = app.admin(Method::POST, "/products", Some(body)).await;
    assert_error(&res, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");
    assert_eq!(count_where(&app, "products", "").await, 0);
}

// ---------------------------------------------------------------------------------------------------------
// Tenancy
// ---------------------------------------------------------------------------------------------------------

#[tokio::test]
async fn another_sites_products_are_404_here() {
    let app = TestApp::spawn().await;
    let (site, key) = other_site(&app).await;
    let (status, theirs) = app
        .call(
            Method::POST,
            &site_url(&app, &site, "/products"),
            Some(&key),
            Some(json!({"name": "Their Secret", "price": 999, "variants": [{"sku": "SECRET-1"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{theirs}");
    let tid = id(&theirs["data"]);
    let their_variant = id(&theirs["data"]["variants"][0]);
    let ours = new_product(&app, "Ours").await;

    let attempts = [
        (Method::GET, format!("/products/{tid}"), None),
        (Method::GET, "/products/their-secret".to_string(), None),
        (
            Method::PATCH,
            format!("/products/{tid}"),
            Some(json!({"name": "Hacked"})),
        ),
        (
            Method::PUT,
            format!("/products/{tid}"),
            Some(json!({"name": "Hacked", "price": 1})),
        ),
        (Method::DELETE, format!("/products/{tid}"), None),
        (Method::GET, format!("/products/{tid}/variants"), None),
        (
            Method::POST,
            format!("/products/{tid}/variants"),
            Some(json!({"name": "Hacked", "isDefault": true})),
        ),
        (
            Method::PATCH,
            format!("/products/{tid}/variants/{their_variant}"),
            Some(json!({"name": "Hacked"})),
        ),
        (
            Method::PATCH,
            format!("/products/{ours}/variants/{their_variant}"),
            Some(json!({"name": "Hacked"})),
        ),
        (
            Method::DELETE,
            format!("/products/{ours}/variants/{their_variant}"),
            None,
        ),
    ];
    for (method, path, body) in attempts {
        let res = app.admin(method, &path, body).await;
        assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    }

    // Nothing of theirs changed, and our list does not show it.
    assert_eq!(
        scalar(
            &app,
            &format!("select name from products where id = '{tid}'")
        )
        .await,
        Some("Their Secret".into())
    );
    assert_eq!(
        count_where(
            &app,
            "variants",
            &format!("product_id = '{tid}' and name <> 'Hacked' and is_default")
        )
        .await,
        1
    );
    assert_eq!(count_where(&app, "variants", "name = 'Hacked'").await, 0);
    let listed = list_ok(&app, &[]).await;
    assert_eq!(item_ids(&listed), [ours]);
    let searched = list_ok(&app, &[("search", "secret")]).await;
    assert_eq!(searched["items"], json!([]));

    // Their brand cannot be used here either.
    let (_, their_brand) = app
        .call(
            Method::POST,
            &site_url(&app, &site, "/brands"),
            Some(&key),
            Some(json!({"name": "Theirs"})),
        )
        .await;
    let res = app
        .admin(
            Method::POST,
            "/products",
            Some(json!({"name": "Borrow", "price": 1, "brandId": id(&their_brand["data"])})),
        )
        .await;
    assert_unprocessable(&res, "brandId");
    let res = app
        .admin(
            Method::GET,
            &format!("/brands/{}", id(&their_brand["data"])),
            None,
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
}

/// NUL characters cannot be stored in PostgreSQL text: any request carrying one must be refused with a 400,
/// not reach the database and fail there.
#[tokio::test]

async fn nul_characters_are_400_not_500() {
    let app = TestApp::spawn().await;
    let pid = new_product(&app, "P").await;
    let probes: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::GET,
            format!("/products{}", query(&[("search", "a\0b")])),
            None,
        ),
        (
            Method::GET,
            format!("/products{}", query(&[("brandId", "a\0b")])),
            None,
        ),
        (
            Method::GET,
            format!("/products{}", query(&[("categoryId", "a\0b")])),
            None,
        ),
        (Method::GET, "/products/a%00b".into(), None),
        (
            Method::GET,
            format!("/brands{}", query(&[("slug", "a\0b")])),
            None,
        ),
        (
            Method::GET,
            format!("/categories{}", query(&[("slug", "a\0b")])),
            None,
        ),
        (
            Method::POST,
            "/products".into(),
            Some(json!({"name": "a\u{0}b", "price": 1})),
        ),
        (
            Method::POST,
            "/products".into(),
            Some(json!({"name": "ab", "price": 1, "images": ["https://x.test/\u{0}"]})),
        ),
        (
            Method::POST,
            format!("/products/{pid}/variants"),
            Some(json!({"options": {"Size": "\u{0}"}})),
        ),
        (
            Method::POST,
            "/brands".into(),
            Some(json!({"name": "a\u{0}b"})),
        ),
        (
            Method::POST,
            "/categories".into(),
            Some(json!({"name": "a\u{0}b"})),
        ),
    ];
    for (method, path, body) in probes {
        let (status, res) = app.admin(method.clone(), &path, body).await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::NOT_FOUND,
            "{method} {path}: {status} {res}"
        );
    }
    assert_eq!(count_where(&app, "products", "").await, 1);
    assert_eq!(count_where(&app, "variants", "").await, 1);
}

// ---------------------------------------------------------------------------------------------------------
// Event payloads
// ---------------------------------------------------------------------------------------------------------

/// The payloads of the site's events of one type, oldest first.
async fn event_payloads(app: &TestApp, kind: &str) -> Vec<Value> {
    sqlx::query_scalar(
        "select payload from events where site_id = $1 and type = $2 order by created_at, id",
    )
    .bind(&app.site_id)
    .bind(kind)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

/// A product event carries the product exactly as the API shows it, so webhook payloads and responses
/// cannot drift apart.
#[tokio::test]
async fn product_events_carry_the_product_as_the_api_shows_it() {
    let app = TestApp::spawn().await;
    let brand = app.post("/brands", json!({"name": "Essentials"})).await["data"].clone();
    let category = app.post("/categories", json!({"name": "Apparel"})).await["data"].clone();
    let created = app
        .product(json!({
            "name": "Classic White T-Shirt", "handle": "ts-wht", "description": "Organic cotton.",
            "status": "DRAFT", "price": 2999, "compareAtPrice": 3999, "brandId": id(&brand),
            "categoryIds": [id(&category)], "featured": true, "vendor": "Acme", "model": "T1",
            "images": ["https://cdn.example.com/ts-wht.jpg"],
            "translations": {"pt_BR": {"name": "Camiseta", "slug": "camiseta"}},
            "variants": [
                {"sku": "TS-WHT-S", "inventoryCount": 42, "options": {"Size": "Small", "Color": "White"}},
                {"sku": "TS-WHT-M", "price": 3199, "inventoryStatus": "BACKORDER", "options": {"Size": "Medium"}}
            ]
        }))
        .await;
    let pid = id(&created);
    let shown = app.get(&format!("/products/{pid}")).await["data"].clone();
    assert_eq!(shown, created);
    assert_eq!(event_payloads(&app, "product.created").await, vec![shown]);

    // A change to a variant records the whole product again.
    let vid = id(&created["variants"][1]);
    let (status, _) = app
        .admin(
            Method::PATCH,
            &format!("/products/{pid}/variants/{vid}"),
            Some(json!({"inventoryStatus": null, "compareAtPrice": 3500})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let shown = app.get(&format!("/products/{pid}")).await["data"].clone();
    assert_eq!(event_payloads(&app, "product.updated").await, vec![shown]);
}

/// The document's nullability is what the server does with `null`: for each property of `ProductPatch`, a
/// non-nullable one refuses `null` (400 naming it, nothing changed) and a nullable one clears the field.
#[tokio::test]
async fn product_patch_nullability_is_what_the_document_says() {
    let app = TestApp::spawn().await;
    let doc: Value = serde_json::from_str(&shopvo::api::v1::openapi().to_json().unwrap()).unwrap();
    let properties = doc["components"]["schemas"]["ProductPatch"]["properties"]
        .as_object()
        .unwrap()
        .clone();
    let product = app
        .product(
            json!({"name": "Nullable", "price": 100, "handle": "nullable-1", "description": "d",
            "compareAtPrice": 200, "vendor": "v", "model": "m"}),
        )
        .await;
    let path = format!("/products/{}", product["id"].as_str().unwrap());
    let (mut refused, mut cleared) = (0, 0);
    for (name, schema) in properties {
        // `["string", "null"]`, or `oneOf: [{"$ref": …}, {"type": "null"}]` for a named format.
        let nullable = schema["type"]
            .as_array()
            .is_some_and(|types| types.iter().any(|t| t == "null"))
            || schema["oneOf"]
                .as_array()
                .is_some_and(|alts| alts.iter().any(|alt| alt["type"] == "null"));
        let res = app
            .admin(Method::PATCH, &path, Some(json!({ name.clone(): null })))
            .await;
        if nullable {
            assert_eq!(res.0, StatusCode::OK, "{name}: {}", res.1);
            assert_eq!(res.1["data"][&name], Value::Null, "{name}");
            cleared += 1;
        } else {
            assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
            assert_eq!(res.1["details"][0]["field"], name.as_str(), "{}", res.1);
            refused += 1;
        }
    }
    assert!(
        refused >= 5 && cleared >= 5,
        "{refused} refused, {cleared} cleared"
    );
    assert_eq!(app.get(&path).await["data"]["name"], "Nullable");
}
