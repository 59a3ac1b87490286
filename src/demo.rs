//! `shopvo demo`: a demo site with a small catalog (created once) and a fresh admin key.

use serde_json::json;
use sqlx::PgPool;

use crate::crypto::ServerKey;
use crate::domain::catalog::{brands, categories, products};
use crate::domain::{keys, sites};

const ALIAS: &str = "demo";

pub async fn run(
    pool: &PgPool,
    server_key: &ServerKey,
    url: &str,
    as_json: bool,
) -> anyhow::Result<()> {
    let existing = sites::find_by_alias(&mut *pool.acquire().await?, ALIAS).await?;
    let site = match existing {
        Some(site) => site,
        None => {
            let mut tx = pool.begin().await?;
            let site = sites::create(
                &mut tx,
                sites::NewSite {
                    name: "Demo Store".into(),
                    currency: "EUR".into(),
                    locale: "en".into(),
                },
            )
            .await?;
            sites::set_alias(&mut tx, &site.id, ALIAS).await?;
            seed_catalog(&mut tx, &site.id).await?;
            tx.commit().await?;
            site
        }
    };
    let new = keys::NewKey {
        scopes: vec![keys::ADMIN_SCOPE.to_string()],
        publishable: false,
        test: true,
        signing: false,
        require_request_signature: false,
        name: Some("demo admin".into()),
        expires_at: None,
    };
    let created = keys::create(&mut *pool.acquire().await?, server_key, &site.id, new).await?;
    let url = url.trim_end_matches('/');
    if as_json {
        println!(
            "{}",
            json!({"siteId": site.id, "key": created.plaintext, "keyId": created.key.id, "docs": format!("{url}/docs")})
        );
    } else {
        println!("site:  {}", site.id);
        println!("key:   {}", created.plaintext);
        println!("docs:  {url}/docs");
        println!(
            "try:   curl -H 'Authorization: Bearer {}' {url}/api/v1/{}/products",
            created.plaintext, site.id
        );
    }
    Ok(())
}

async fn seed_catalog(conn: &mut sqlx::PgConnection, site_id: &str) -> anyhow::Result<()> {
    let essentials = brands::create(
        &mut *conn,
        site_id,
        serde_json::from_value(json!({"name": "Essentials"}))?,
    )
    .await?;
    let northwind = brands::create(
        &mut *conn,
        site_id,
        serde_json::from_value(json!({"name": "Northwind"}))?,
    )
    .await?;
    let apparel = categories::create(
        conn,
        site_id,
        serde_json::from_value(json!({"name": "Apparel"}))?,
    )
    .await?;
    let tshirts = categories::create(
        conn,
        site_id,
        serde_json::from_value(json!({"name": "T-Shirts", "parentId": apparel.id}))?,
    )
    .await?;
    let home = categories::create(
        conn,
        site_id,
        serde_json::from_value(json!({"name": "Home", "position": 1}))?,
    )
    .await?;

    let catalog = [
        json!({"name": "Classic White T-Shirt", "price": 2999, "compareAtPrice": 3999, "brandId": essentials.id,
               "categoryIds": [apparel.id, tshirts.id], "featured": true,
               "description": "Heavyweight organic cotton tee.",
               "images": ["https://images.example.com/ts-wht.jpg"],
               "variants": [
                   {"sku": "TS-WHT-S", "inventoryCount": 42, "options": {"Size": "Small", "Color": "White"}},
                   {"sku": "TS-WHT-M", "inventoryCount": 17, "options": {"Size": "Medium", "Color": "White"}},
                   {"sku": "TS-WHT-L", "inventoryCount": 3, "options": {"Size": "Large", "Color": "White"}}]}),
        json!({"name": "Black Pocket T-Shirt", "price": 3299, "brandId": essentials.id, "categoryIds": [tshirts.id],
               "variants": [
                   {"sku": "TS-BLK-M", "inventoryCount": 8, "options": {"Size": "Medium", "Color": "Black"}},
                   {"sku": "TS-BLK-L", "inventoryCount": 0, "options": {"Size": "Large", "Color": "Black"}}]}),
        json!({"name": "Merino Hoodie", "price": 8900, "brandId": northwind.id, "categoryIds": [apparel.id],
               "description": "Warm merino wool hoodie.",
               "variants": [{"sku": "HD-MER-M", "inventoryCount": 12, "options": {"Size": "Medium"}}]}),
        json!({"name": "Stoneware Mug", "price": 1450, "brandId": northwind.id, "categoryIds": [home.id],
               "variants": [{"sku": "MUG-STN", "inventoryCount": 120}]}),
        json!({"name": "Linen Tea Towel", "price": 1200, "categoryIds": [home.id], "status": "DRAFT",
               "variants": [{"sku": "TT-LIN", "inventoryCount": 30}]}),
    ];
    for product in catalog {
        products::create(conn, site_id, serde_json::from_value(product)?).await?;
    }
    Ok(())
}
