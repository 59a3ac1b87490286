//! `shopvo import products` and `shopvo export products`, run as the binary against a test database:
//! upserts by handle or SKU, stock through the ledger, bad rows reported by line while the good ones land,
//! and an export that imports back into another site as the same catalog.

mod common;

use std::path::{Path, PathBuf};

use common::{TestApp, str_of};
use serde_json::{Value, json};

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

async fn shopvo(app: &TestApp, args: &[&str]) -> Run {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_shopvo"))
        .args(args)
        .env("DATABASE_URL", common::database_url(&app.db_name))
        .env("SHOPVO_SECRET_KEY", common::SERVER_SECRET)
        .output()
        .await
        .unwrap();
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("shopvo-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

async fn import(app: &TestApp, site: &str, path: &Path) -> (bool, Value) {
    let run = shopvo(
        app,
        &[
            "import",
            "products",
            "--site",
            site,
            "--file",
            path.to_str().unwrap(),
            "--json",
        ],
    )
    .await;
    let summary = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("summary: {e}: {} / {}", run.stdout, run.stderr));
    (run.ok, summary)
}

fn failed_lines(summary: &Value) -> Vec<(u64, String)> {
    summary["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["line"].as_u64().unwrap(), str_of(&f["error"])))
        .collect()
}

/// (sku, on hand at the default location) of a product's variants, by position.
async fn stock(app: &TestApp, product_id: &str) -> Vec<(String, i32)> {
    sqlx::query_as(
        "select v.sku, s.on_hand from variants v \
         join stock_levels s on s.variant_id = v.id \
         join locations l on l.id = s.location_id and l.is_default \
         where v.product_id = $1 order by v.position",
    )
    .bind(product_id)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

async fn product_id(app: &TestApp, site: &str, handle: &str) -> String {
    sqlx::query_scalar("select id from products where site_id = $1 and handle = $2")
        .bind(site)
        .bind(handle)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn ledger_rows(app: &TestApp, product_id: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from inventory_ledger where product_id = $1 and source = 'import'",
    )
    .bind(product_id)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn csv_upserts_by_handle_or_sku_and_reports_bad_rows_by_line() {
    let app = TestApp::spawn().await;
    let brand = app
        .post("/brands", json!({"name": "Acme", "slug": "acme"}))
        .await["data"]["id"]
        .clone();
    let category = app
        .post("/categories", json!({"name": "Shirts", "slug": "shirts"}))
        .await["data"]["id"]
        .clone();
    let first = file(
        "first.csv",
        "handle,name,description,price,brand,categories,sku,option1_name,option1_value,stock\n\
         tee,Tee,Soft cotton,19.90,acme,shirts,TEE-S,Size,S,5\n\
         tee,,,,,,TEE-M,Size,M,7\n\
         mug,Mug,,8,,,MUG-1,,,3\n\
         bad,Bad,,\"12,5\",,,BAD-1,,,1\n\
         lamp,Lamp,,30,nope,,LAMP-1,,,1\n\
         neg,Negative,,1,,,NEG-1,,,-4\n",
    );
    let (ok, summary) = import(&app, &app.site_id, &first).await;
    assert!(!ok, "an import with failed rows exits with failure");
    assert_eq!(summary["created"], 2, "{summary}");
    assert_eq!(summary["updated"], 0, "{summary}");
    let failed = failed_lines(&summary);
    assert_eq!(
        failed.iter().map(|f| f.0).collect::<Vec<_>>(),
        [5, 6, 7],
        "{summary}"
    );
    assert!(failed[0].1.contains("price"), "{failed:?}");
    assert!(failed[1].1.contains("brand"), "{failed:?}");
    assert!(failed[2].1.contains("inventory_count"), "{failed:?}");
    assert_eq!(
        app.count("select count(*) from products where handle in ('bad', 'lamp', 'neg')")
            .await,
        0,
        "a refused product leaves nothing behind"
    );

    let tee = product_id(&app, &app.site_id, "tee").await;
    let read = app.get(&format!("/products/{tee}")).await["data"].clone();
    assert_eq!(read["price"], 1990);
    assert_eq!(read["description"], "Soft cotton");
    assert_eq!(read["brandId"], brand);
    assert_eq!(read["categoryIds"], json!([category]));
    assert_eq!(read["variants"][1]["options"], json!({"Size": "M"}));
    assert_eq!(read["variants"][1]["inventoryCount"], 7);
    assert_eq!(
        stock(&app, &tee).await,
        [("TEE-S".into(), 5), ("TEE-M".into(), 7)]
    );
    assert_eq!(
        ledger_rows(&app, &tee).await,
        2,
        "one ledger entry per stock change"
    );
    let variant_ids: Vec<String> =
        sqlx::query_scalar("select id from variants where product_id = $1 order by position")
            .bind(&tee)
            .fetch_all(&app.pool)
            .await
            .unwrap();

    // The second file has no description column (the description stays), changes one stock level of the
    // tee, and names the mug by its SKU only.
    let second = file(
        "second.csv",
        "handle,name,price,sku,option1_name,option1_value,stock\n\
         tee,Tee,21.00,TEE-S,Size,S,5\n\
         tee,,,TEE-M,Size,M,9\n\
         ,Big Mug,9.50,MUG-1,,,3\n",
    );
    let (ok, summary) = import(&app, &app.site_id, &second).await;
    assert!(ok, "{summary}");
    assert_eq!(summary, json!({"created": 0, "updated": 2, "failed": []}));
    let read = app.get(&format!("/products/{tee}")).await["data"].clone();
    assert_eq!(read["price"], 2100);
    assert_eq!(read["description"], "Soft cotton", "an absent column keeps");
    assert_eq!(read["brandId"], brand, "an absent column keeps");
    assert_eq!(
        stock(&app, &tee).await,
        [("TEE-S".into(), 5), ("TEE-M".into(), 9)]
    );
    assert_eq!(
        ledger_rows(&app, &tee).await,
        3,
        "only the changed level is a new entry"
    );
    let after: Vec<String> =
        sqlx::query_scalar("select id from variants where product_id = $1 order by position")
            .bind(&tee)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(after, variant_ids, "variants matched by SKU keep their ids");
    assert_eq!(
        app.count("select count(*) from products where name = 'Big Mug' and price = 950 and handle = 'mug'")
            .await,
        0,
        "a row without a handle clears the handle it replaces"
    );
    assert_eq!(
        app.count("select count(*) from products where name = 'Big Mug' and price = 950")
            .await,
        1,
        "matched by SKU"
    );
    assert_eq!(app.count("select count(*) from products").await, 2);
}

#[tokio::test]
async fn jsonl_reports_unreadable_lines_and_imports_the_rest() {
    let app = TestApp::spawn().await;
    let path = file(
        "products.jsonl",
        "{\"name\": \"Cup\", \"price\": 500, \"handle\": \"cup\", \"variants\": [{\"sku\": \"CUP\", \"inventoryCount\": 4}]}\n\
         {not json\n\
         \n\
         {\"price\": 100}\n\
         {\"name\": \"Plate\", \"price\": -1}\n\
         [1, 2]\n\
         {\"name\": \"Bowl\", \"price\": 700, \"colour\": \"red\"}\n\
         {\"name\": \"Saucer\", \"price\": 300}\n",
    );
    let (ok, summary) = import(&app, &app.site_id, &path).await;
    assert!(!ok);
    assert_eq!(summary["created"], 2, "{summary}");
    let failed = failed_lines(&summary);
    assert_eq!(
        failed.iter().map(|f| f.0).collect::<Vec<_>>(),
        [2, 4, 5, 6, 7],
        "{summary}"
    );
    assert!(failed[1].1.contains("name"), "{failed:?}");
    assert!(failed[2].1.contains("price"), "{failed:?}");
    assert!(failed[4].1.contains("colour"), "{failed:?}");
    let cup = product_id(&app, &app.site_id, "cup").await;
    assert_eq!(stock(&app, &cup).await, [("CUP".into(), 4)]);
    assert_eq!(app.count("select count(*) from products").await, 2);

    // A CSV whose header lacks a required column is refused whole, before any row.
    let headless = file("no-price.csv", "handle,name,sku\nmug,Mug,MUG-1\n");
    let run = shopvo(
        &app,
        &[
            "import",
            "products",
            "--site",
            &app.site_id,
            "--file",
            headless.to_str().unwrap(),
        ],
    )
    .await;
    assert!(!run.ok);
    assert!(run.stderr.contains("`price`"), "{}", run.stderr);
    let run = shopvo(
        &app,
        &[
            "export",
            "products",
            "--site",
            "site_nope",
            "--format",
            "csv",
        ],
    )
    .await;
    assert!(!run.ok);
    assert!(
        run.stderr.contains("no site with id site_nope"),
        "{}",
        run.stderr
    );
    // Bytes that are not UTF-8 fail their own line only.
    let mut bytes = b"{\"name\": \"Fork\", \"price\": 100}\n".to_vec();
    bytes.extend(b"{\"name\": \"\xff\xfe\", \"price\": 100}\n");
    bytes.extend(b"{\"name\": \"Knife\", \"price\": 100}\n");
    let mixed = file("mixed.jsonl", "");
    std::fs::write(&mixed, bytes).unwrap();
    let (ok, summary) = import(&app, &app.site_id, &mixed).await;
    assert!(!ok);
    assert_eq!(summary["created"], 2, "{summary}");
    assert_eq!(failed_lines(&summary)[0].0, 2, "{summary}");
    assert_eq!(app.count("select count(*) from products").await, 4);
}

/// Sorted lines of a site's JSON-lines export.
async fn exported(app: &TestApp, site: &str) -> Vec<String> {
    let run = shopvo(
        app,
        &["export", "products", "--site", site, "--format", "jsonl"],
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    let mut lines: Vec<String> = run.stdout.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

#[tokio::test]
async fn an_export_imports_into_another_site_as_the_same_catalog() {
    let app = TestApp::spawn().await;
    let other = app.create_site("Other").await;
    let third = app.create_site("Third").await;
    for site in [&app.site_id, &other, &third] {
        let key = app.key(site, &["admin:*"]).await;
        for (path, body) in [
            ("brands", json!({"name": "Acme", "slug": "acme"})),
            ("categories", json!({"name": "Shirts", "slug": "shirts"})),
            ("categories", json!({"name": "Sale", "slug": "sale"})),
        ] {
            let res = app
                .client
                .post(format!("{}/api/v1/{site}/{path}", app.url))
                .bearer_auth(&key)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201);
        }
    }
    let brand = str_of(&app.get("/brands").await["data"][0]["id"]);
    let categories: Vec<String> = app.get("/categories").await["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| str_of(&c["id"]))
        .collect();
    let shirt = app
        .product(json!({
            "name": "Shirt, \"striped\"", "handle": "shirt", "price": 2500, "compareAtPrice": 3000,
            "description": "Line one\nline two", "brandId": brand, "categoryIds": categories,
            "featured": true, "vendor": "Acme Co", "status": "DRAFT",
            "images": ["https://cdn.example.com/a.jpg", "https://cdn.example.com/b.jpg"],
            "translations": {"lv": {"name": "Krekls"}},
            "variants": [
                {"sku": "SH-S", "options": {"Size": "S", "Colour": "Blue"}, "inventoryCount": 3},
                {"sku": "SH-M", "price": 2700, "options": {"Size": "M", "Colour": "Blue"}, "inventoryCount": 0,
                 "lowStockThreshold": 2}
            ]
        }))
        .await;
    assert_eq!(shirt["status"], "DRAFT");
    app.product(json!({"name": "Plain", "price": 100})).await;
    let original = exported(&app, &app.site_id).await;
    assert_eq!(original.len(), 2);
    assert!(
        original.iter().any(|l| l.contains("\"brandId\":\"acme\"")),
        "brands by slug: {original:?}"
    );

    let jsonl = file("export.jsonl", &(original.join("\n") + "\n"));
    let (ok, summary) = import(&app, &other, &jsonl).await;
    assert!(ok, "{summary}");
    assert_eq!(summary, json!({"created": 2, "updated": 0, "failed": []}));
    assert_eq!(exported(&app, &other).await, original);

    let csv_path = std::env::temp_dir().join(format!("shopvo-export-{}.csv", std::process::id()));
    let run = shopvo(
        &app,
        &[
            "export",
            "products",
            "--site",
            &app.site_id,
            "--format",
            "csv",
            "--output",
            csv_path.to_str().unwrap(),
        ],
    )
    .await;
    assert!(run.ok, "{}", run.stderr);
    let (ok, summary) = import(&app, &third, &csv_path).await;
    assert!(ok, "{summary}");
    assert_eq!(summary["created"], 2, "{summary}");
    assert_eq!(exported(&app, &third).await, original, "CSV carries it all");

    // Importing the same file again changes nothing and writes no ledger entry.
    let ledger = app.count("select count(*) from inventory_ledger").await;
    let (ok, summary) = import(&app, &third, &csv_path).await;
    assert!(ok, "{summary}");
    assert_eq!(summary["updated"], 2, "{summary}");
    assert_eq!(exported(&app, &third).await, original);
    assert_eq!(
        app.count("select count(*) from inventory_ledger").await,
        ledger
    );
}
