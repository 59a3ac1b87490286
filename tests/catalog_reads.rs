//! Catalog reads at any size: read documents stay equal to a fresh assembly after every kind of write,
//! cursor walks see every product once, searches rank in tiers and keep their order from page to page, and
//! bad search input is answered quickly.

mod common;

use std::collections::HashSet;

use common::{TestApp, str_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Every product has a document, and each equals the one assembled now from the tables; every product GET
/// shows the variants' live stock.
async fn assert_documents_fresh(app: &TestApp, after: &str) {
    let stale = app
        .count(
            "select count(*) from products p left join product_docs d on d.site_id = p.site_id and d.product_id = p.id \
             where d.doc is null or d.doc::jsonb <> product_doc(p)::jsonb",
        )
        .await;
    assert_eq!(stale, 0, "stale or missing read documents after {after}");
    let orphans = app
        .count(
            "select count(*) from product_docs d where not exists \
             (select 1 from products p where p.site_id = d.site_id and p.id = d.product_id)",
        )
        .await;
    assert_eq!(orphans, 0, "documents of deleted products after {after}");
    let stale_links = app
        .count(
            "select count(*) from product_categories pc join products p on p.site_id = pc.site_id \
             and p.id = pc.product_id where pc.product_status <> p.status",
        )
        .await;
    assert_eq!(
        stale_links, 0,
        "category links with a stale product status after {after}"
    );

    let ids: Vec<String> = sqlx::query_scalar("select id from products where site_id = $1")
        .bind(&app.site_id)
        .fetch_all(&app.pool)
        .await
        .unwrap();
    for id in ids {
        let product = app.get(&format!("/products/{id}")).await["data"].clone();
        let expected: Vec<(String, String, i32, Option<String>)> = sqlx::query_as(
            "select v.id, v.name, v.inventory_count, v.sku from variants v where v.site_id = $1 and v.product_id = $2 \
             order by v.is_default desc, v.position, v.created_at, v.id",
        )
        .bind(&app.site_id)
        .bind(&id)
        .fetch_all(&app.pool)
        .await
        .unwrap();
        let actual: Vec<(String, String, i32, Option<String>)> = product["variants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    str_of(&v["id"]),
                    str_of(&v["name"]),
                    v["inventoryCount"].as_i64().unwrap() as i32,
                    v["sku"].as_str().map(String::from),
                )
            })
            .collect();
        assert_eq!(actual, expected, "variants of {id} after {after}");
        let categories: Vec<String> = sqlx::query_scalar(
            "select category_id from product_categories where site_id = $1 and product_id = $2 \
             order by position, category_id",
        )
        .bind(&app.site_id)
        .bind(&id)
        .fetch_all(&app.pool)
        .await
        .unwrap();
        assert_eq!(
            product["categoryIds"],
            json!(categories),
            "categories of {id} after {after}"
        );
    }
}

async fn ok(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Value {
    let (status, res) = app.admin(method.clone(), path, body).await;
    assert!(status.is_success(), "{method} {path}: {status} {res}");
    res
}

#[tokio::test]
async fn read_documents_equal_a_fresh_assembly_after_every_kind_of_write() {
    let app = TestApp::spawn().await;
    let brand = app.post("/brands", json!({"name": "Acme"})).await["data"]["id"].clone();
    let shirts = app.post("/categories", json!({"name": "Shirts"})).await["data"]["id"].clone();
    let sale = app.post("/categories", json!({"name": "Sale"})).await["data"]["id"].clone();
    assert_documents_fresh(&app, "nothing").await;

    let tee = app
        .product(
            json!({"name": "Tee", "price": 1000, "brandId": brand, "categoryIds": [shirts, sale],
            "variants": [{"sku": "TEE-S", "inventoryCount": 3, "options": {"Size": "S"}},
                         {"sku": "TEE-M", "inventoryCount": 5, "options": {"Size": "M"}}]}),
        )
        .await;
    let tee_id = str_of(&tee["id"]);
    let tee_m = str_of(&tee["variants"][1]["id"]);
    app.product(json!({"name": "Mug", "price": 500, "categoryIds": [sale]}))
        .await;
    assert_documents_fresh(&app, "creates").await;

    let p = format!("/products/{tee_id}");
    ok(
        &app,
        Method::PATCH,
        &p,
        Some(json!({"name": "Tee 2", "categoryIds": [sale]})),
    )
    .await;
    assert_documents_fresh(&app, "a patch").await;
    ok(
        &app,
        Method::PUT,
        &p,
        Some(json!({"name": "Tee 3", "price": 1200, "categoryIds": [shirts]})),
    )
    .await;
    assert_documents_fresh(&app, "a replace").await;

    let added = ok(
        &app,
        Method::POST,
        &format!("{p}/variants"),
        Some(json!({"sku": "TEE-L", "options": {"Size": "L"}})),
    )
    .await;
    let tee_l = str_of(&added["data"]["id"]);
    assert_documents_fresh(&app, "a new variant").await;
    ok(
        &app,
        Method::PATCH,
        &format!("{p}/variants/{tee_m}"),
        Some(json!({"price": 1500, "sku": "TEE-MED"})),
    )
    .await;
    ok(
        &app,
        Method::PATCH,
        &format!("{p}/variants/{tee_l}"),
        Some(json!({"isDefault": true})),
    )
    .await;
    assert_documents_fresh(&app, "variant changes").await;
    ok(&app, Method::DELETE, &format!("{p}/variants/{tee_m}"), None).await;
    assert_documents_fresh(&app, "a variant delete").await;

    // Stock is read live, whichever way it moves.
    ok(
        &app,
        Method::POST,
        &format!("/inventory/{tee_id}"),
        Some(json!({"operation": "increment", "quantity": 7, "variantId": tee_l})),
    )
    .await;
    let shop = ok(
        &app,
        Method::POST,
        "/locations",
        Some(json!({"name": "Shop"})),
    )
    .await["data"]["id"]
        .clone();
    ok(
        &app,
        Method::POST,
        &format!("/inventory/{tee_id}"),
        Some(json!({"operation": "set", "quantity": 4, "variantId": tee_l, "locationId": shop})),
    )
    .await;
    assert_documents_fresh(&app, "stock changes").await;
    ok(
        &app,
        Method::PATCH,
        &format!("/locations/{}", str_of(&shop)),
        Some(json!({"active": false})),
    )
    .await;
    assert_documents_fresh(&app, "a location deactivated").await;

    // Cascades from elsewhere in the catalog.
    ok(
        &app,
        Method::DELETE,
        &format!("/categories/{}", str_of(&shirts)),
        None,
    )
    .await;
    assert_documents_fresh(&app, "a category delete").await;
    ok(
        &app,
        Method::DELETE,
        &format!("/brands/{}", str_of(&brand)),
        None,
    )
    .await;
    assert_documents_fresh(&app, "a brand delete").await;
    let tee = app.get(&p).await;
    assert_eq!(tee["data"]["brandId"], Value::Null, "{tee}");

    // Even a write outside the API (an operator's SQL) keeps documents current.
    sqlx::query("update variants set name = 'Renamed' where site_id = $1")
        .bind(&app.site_id)
        .execute(&app.pool)
        .await
        .unwrap();
    assert_documents_fresh(&app, "an SQL update").await;

    ok(&app, Method::DELETE, &p, None).await;
    assert_documents_fresh(&app, "a product delete").await;
    assert_eq!(app.count("select count(*) from product_docs").await, 1);
}

/// Inserts products `Item 1..=n` straight into the table, each with one variant `SKU-<i>`; every third is a
/// `Linen` one, with `cotton` in its description.
async fn bulk(app: &TestApp, n: i64) {
    sqlx::query(
        "insert into products (site_id, id, slug, name, description, price) \
         select $1, 'prd_' || lpad(i::text, 26, '0'), 'item-' || i, \
                case when i % 3 = 0 then 'Linen Item ' else 'Item ' end || i, \
                case when i % 3 = 0 then 'Soft cotton' end, 100 \
         from generate_series(1, $2) as i",
    )
    .bind(&app.site_id)
    .bind(n)
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into variants (site_id, id, product_id, name, sku, is_default) \
         select $1, 'var_' || lpad(i::text, 26, '0'), 'prd_' || lpad(i::text, 26, '0'), 'Default', 'SKU-' || i, true \
         from generate_series(1, $2) as i",
    )
    .bind(&app.site_id)
    .bind(n)
    .execute(&app.pool)
    .await
    .unwrap();
}

/// Walks a list with its cursor; returns the ids in order.
async fn walk(app: &TestApp, query: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app.get(&format!("/products?{query}&cursor={cursor}")).await;
        ids.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| str_of(&p["id"])),
        );
        if page["hasNextPage"] == false {
            assert_eq!(page["cursor"], Value::Null);
            return ids;
        }
        cursor = str_of(&page["cursor"]);
    }
}

#[tokio::test]
async fn cursor_walks_see_every_product_once_with_any_filter() {
    let app = TestApp::spawn().await;
    bulk(&app, 250).await;
    let cat = app.post("/categories", json!({"name": "Half"})).await["data"]["id"].clone();
    sqlx::query(
        "insert into product_categories (site_id, product_id, category_id) \
         select site_id, id, $2 from products where site_id = $1 and number % 2 = 0",
    )
    .bind(&app.site_id)
    .bind(str_of(&cat))
    .execute(&app.pool)
    .await
    .unwrap();

    let all = walk(&app, "limit=7").await;
    assert_eq!(all.len(), 250);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 250);
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted, "cursor walks go in id order");

    let in_category = walk(&app, &format!("limit=9&categoryId={}", str_of(&cat))).await;
    assert_eq!(in_category.len(), 125);
    assert_eq!(in_category.iter().collect::<HashSet<_>>().len(), 125);
    let offset = app
        .get(&format!("/products?limit=100&categoryId={}", str_of(&cat)))
        .await;
    assert_eq!(offset["pagination"]["total"], 125);
}

/// A category page reads the product's status from the category's own index: it follows every change.
#[tokio::test]
async fn category_pages_follow_their_products_status() {
    let app = TestApp::spawn().await;
    let cat = str_of(&app.post("/categories", json!({"name": "Shirts"})).await["data"]["id"]);
    let mut ids = Vec::new();
    for i in 0..3 {
        let body = json!({"name": format!("Shirt {i}"), "price": 1000, "categoryIds": [cat]});
        ids.push(str_of(&app.post("/products", body).await["data"]["id"]));
    }
    let listed = |status: &'static str| {
        let app = &app;
        let cat = cat.clone();
        async move {
            let page = app
                .get(&format!("/products?categoryId={cat}&status={status}"))
                .await;
            let ids: Vec<String> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| str_of(&p["id"]))
                .collect();
            (ids, page["pagination"]["total"].as_i64().unwrap())
        }
    };
    assert_eq!(listed("ACTIVE").await, (ids.clone(), 3));

    ok(
        &app,
        Method::PATCH,
        &format!("/products/{}", ids[1]),
        Some(json!({"status": "DRAFT"})),
    )
    .await;
    assert_eq!(
        listed("ACTIVE").await,
        (vec![ids[0].clone(), ids[2].clone()], 2)
    );
    assert_eq!(listed("DRAFT").await, (vec![ids[1].clone()], 1));
    // The cursor walk reads the same index.
    let walked = walk(&app, &format!("limit=1&categoryId={cat}")).await;
    assert_eq!(walked, vec![ids[0].clone(), ids[2].clone()]);

    ok(
        &app,
        Method::PATCH,
        &format!("/products/{}", ids[1]),
        Some(json!({"status": "ACTIVE"})),
    )
    .await;
    assert_eq!(listed("ACTIVE").await, (ids.clone(), 3));
    assert_documents_fresh(&app, "status changes").await;
}

/// A tier with more matches than an exact total counts is walked in id order: its total is flagged as an
/// estimate, and a cursor walk still sees every match once, in order.
#[tokio::test]
async fn a_tier_with_many_matches_is_walked_in_order() {
    let app = TestApp::spawn().await;
    bulk(&app, 3_300).await;
    let body = app.get("/products?search=linen&limit=100").await;
    assert_eq!(
        body["pagination"]["totalIsEstimate"], true,
        "{}",
        body["pagination"]
    );
    let first: Vec<String> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| str_of(&p["id"]))
        .collect();
    let walked = walk(&app, "search=linen&limit=100").await;
    assert_eq!(walked.len(), 1_100);
    assert_eq!(walked.iter().collect::<HashSet<_>>().len(), 1_100);
    let mut sorted = walked.clone();
    sorted.sort();
    assert_eq!(walked, sorted, "name matches in id order");
    assert_eq!(first, walked[..100]);
}

/// The last word of a search is a prefix, as typed so far, expanded through the site's own words (kept by
/// every write); earlier words are whole words.
#[tokio::test]
async fn the_last_word_is_a_prefix_of_the_sites_words() {
    let app = TestApp::spawn().await;
    let id = |name: &'static str| {
        let app = &app;
        async move {
            str_of(
                &app.post("/products", json!({"name": name, "price": 100}))
                    .await["data"]["id"],
            )
        }
    };
    let shirt = id("Linen Shirt").await;
    let towel = id("Linenfold Towel").await;
    let found = |text: &'static str| {
        let app = &app;
        async move {
            let page = app.get(&format!("/products?search={text}")).await;
            let ids: Vec<String> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| str_of(&p["id"]))
                .collect();
            ids
        }
    };
    assert_eq!(found("line").await, vec![shirt.clone(), towel.clone()]);
    assert_eq!(found("linen%20shi").await, vec![shirt.clone()]);
    assert_eq!(found("linenfold").await, vec![towel.clone()]);
    // `line` is not a word of either name (only a last word is a prefix): the typo fallback corrects it to
    // the nearest word of the site, `linen`.
    assert_eq!(found("line%20shirt").await, vec![shirt.clone()]);

    // A rename brings its words with it, in the same transaction.
    ok(
        &app,
        Method::PATCH,
        &format!("/products/{towel}"),
        Some(json!({"name": "Velvet Scarf"})),
    )
    .await;
    assert_eq!(found("velv").await, vec![towel.clone()]);
    let words: Vec<String> = sqlx::query_scalar(
        "select word from product_words where site_id = $1 and word like 'vel%' order by word",
    )
    .bind(&app.site_id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(words, ["velvet"]);
}

#[tokio::test]
async fn searches_rank_in_tiers_and_keep_their_order_on_every_page() {
    let app = TestApp::spawn().await;
    bulk(&app, 300).await;
    // A product whose SKU starts with the text ranks first, even though its name does not hold it.
    let skued = app
        .product(json!({"name": "Plain", "price": 1, "variants": [{"sku": "LINEN-9"}]}))
        .await;

    // Tiers: SKU prefix, then `Linen` in the name (100 products), then `linen` only in a description.
    sqlx::query("update products set description = 'pure linen' where site_id = $1 and id = 'prd_' || lpad('1', 26, '0')")
        .bind(&app.site_id)
        .execute(&app.pool)
        .await
        .unwrap();
    let walked = walk(&app, "search=linen&limit=8").await;
    assert_eq!(walked.len(), 102, "{walked:?}");
    assert_eq!(walked[0], str_of(&skued["id"]));
    assert_eq!(walked[101], format!("prd_{:026}", 1));
    assert_eq!(walked.iter().collect::<HashSet<_>>().len(), 102);
    let names = &walked[1..101];
    let mut sorted = names.to_vec();
    sorted.sort();
    assert_eq!(names, sorted.as_slice(), "name matches in id order");

    // Offset pages give the same order, with the total of every tier.
    let mut offset = Vec::new();
    for page in 1..=3 {
        let body = app
            .get(&format!("/products?search=linen&limit=40&page={page}"))
            .await;
        assert_eq!(body["pagination"]["total"], 102, "{}", body["pagination"]);
        offset.extend(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| str_of(&p["id"])),
        );
    }
    assert_eq!(offset, walked);

    // Words match as prefixes, all of them, in any order.
    let body = app.get("/products?search=item%20lin&limit=100").await;
    assert_eq!(body["pagination"]["total"], 100);
    // A SKU prefix, case-insensitive.
    let body = app.get("/products?search=sku-29&limit=100").await;
    assert_eq!(body["pagination"]["total"], 11, "SKU-29 and SKU-290..299");
    // A typo is corrected to the site's nearest word: one page of what that word matches.
    let body = app.get("/products?search=linnen&limit=5").await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 5, "{body}");
    assert!(
        items
            .iter()
            .all(|p| str_of(&p["name"]).starts_with("Linen")),
        "{body}"
    );
    // Each word is corrected on its own; words the site has stay.
    let body = app.get("/products?search=linen%20iten&limit=5").await;
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 5, "{body}");
    assert!(
        items
            .iter()
            .all(|p| str_of(&p["name"]).starts_with("Linen Item")),
        "{body}"
    );
    let body = app.get("/products?search=linnen&limit=5&cursor=").await;
    assert_eq!(body["hasNextPage"], false);
}

#[tokio::test]
async fn bad_search_input_is_answered_quickly_and_clearly() {
    let app = TestApp::spawn().await;
    bulk(&app, 50).await;
    for query in ["%21%21%21", "%25%25", "%20%20", "%27%3A*%20%26%20!", "___"] {
        let body = app.get(&format!("/products?search={query}")).await;
        assert!(body["items"].is_array(), "{query}: {body}");
    }
    let body = app.get("/products?search=%25").await;
    assert_eq!(body["items"], json!([]), "`%` is not a wildcard");
    let long = "a".repeat(201);
    let res = app
        .admin(Method::GET, &format!("/products?search={long}"), None)
        .await;
    assert_eq!(res.0, StatusCode::BAD_REQUEST, "{}", res.1);
    // A search cursor is not a list cursor, and the other way round.
    let id = format!("prd_{:026}", 1);
    let res = app
        .admin(
            Method::GET,
            &format!("/products?search=item&cursor={id}"),
            None,
        )
        .await;
    common::assert_unprocessable(&res, "cursor");
    let res = app
        .admin(Method::GET, &format!("/products?cursor=1~{id}"), None)
        .await;
    common::assert_unprocessable(&res, "cursor");
    let body = app
        .get(&format!("/products?search=item&cursor=1~{id}&limit=2"))
        .await;
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
}
