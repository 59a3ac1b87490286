//! `shopvo demo`: a demo site with a small catalog (created once), a fragrance catalogue for custom blends
//! (added once, also to a demo site made before it existed) and a fresh admin key.

use serde_json::json;
use sqlx::PgPool;

use crate::crypto::ServerKey;
use crate::domain::Caller;
use crate::domain::blends::notes::{self, NewCategory, NoteInput, Volatility};
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
    let mut tx = pool.begin().await?;
    seed_fragrances(&mut tx, &site.id).await?;
    tx.commit().await?;
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

/// The fragrance families of the demo catalogue: (name, slug).
const FRAGRANCE_CATEGORIES: &[(&str, &str)] = &[
    ("Citrus", "citrus"),
    ("Floral", "floral"),
    ("Woody", "woody"),
    ("Fresh & Green", "fresh-green"),
    ("Spicy", "spicy"),
    ("Gourmand", "gourmand"),
];

/// A demo note: name, category slug, intensity, volatility, moods, complementary notes (by name).
type DemoNote = (
    &'static str,
    &'static str,
    i32,
    Volatility,
    &'static [&'static str],
    &'static [&'static str],
);

const FRAGRANCE_NOTES: &[DemoNote] = &[
    (
        "Bergamot",
        "citrus",
        5,
        Volatility::Top,
        &["fresh", "uplifting", "energizing"],
        &["Lavender", "Cedarwood", "Pink Pepper"],
    ),
    (
        "Lemon",
        "citrus",
        6,
        Volatility::Top,
        &["fresh", "energizing", "clean"],
        &["Eucalyptus", "Peppermint", "Fig Leaf"],
    ),
    (
        "Sweet Orange",
        "citrus",
        4,
        Volatility::Top,
        &["uplifting", "playful", "festive"],
        &["Cinnamon", "Clove", "Vanilla"],
    ),
    (
        "Lavender",
        "floral",
        5,
        Volatility::Middle,
        &["calm", "relaxing", "clean", "soothing"],
        &["Bergamot", "Cedarwood", "Vanilla"],
    ),
    (
        "Rose",
        "floral",
        6,
        Volatility::Middle,
        &["romantic", "sensual"],
        &["Sandalwood", "Pink Pepper", "Honey"],
    ),
    (
        "Jasmine",
        "floral",
        8,
        Volatility::Middle,
        &["sensual", "romantic", "warm"],
        &["Sandalwood", "Sweet Orange", "Tonka Bean"],
    ),
    (
        "Cedarwood",
        "woody",
        6,
        Volatility::Base,
        &["calm", "grounding", "natural"],
        &["Bergamot", "Lavender", "Fig Leaf"],
    ),
    (
        "Sandalwood",
        "woody",
        7,
        Volatility::Base,
        &["sensual", "warm", "spiritual", "calm"],
        &["Rose", "Jasmine", "Vanilla"],
    ),
    (
        "Vetiver",
        "woody",
        8,
        Volatility::Base,
        &["grounding", "natural", "bold"],
        &["Bergamot", "Pink Pepper", "Cedarwood"],
    ),
    (
        "Peppermint",
        "fresh-green",
        7,
        Volatility::Top,
        &["fresh", "energizing", "clean"],
        &["Eucalyptus", "Lemon", "Lavender"],
    ),
    (
        "Eucalyptus",
        "fresh-green",
        7,
        Volatility::Top,
        &["fresh", "clean", "natural"],
        &["Peppermint", "Lemon", "Cedarwood"],
    ),
    (
        "Fig Leaf",
        "fresh-green",
        4,
        Volatility::Middle,
        &["natural", "calm", "fresh"],
        &["Cedarwood", "Bergamot", "Lemon"],
    ),
    (
        "Pink Pepper",
        "spicy",
        5,
        Volatility::Top,
        &["playful", "energizing", "bold"],
        &["Rose", "Bergamot", "Vetiver"],
    ),
    (
        "Cinnamon",
        "spicy",
        8,
        Volatility::Middle,
        &["warm", "cozy", "festive"],
        &["Sweet Orange", "Clove", "Vanilla"],
    ),
    (
        "Clove",
        "spicy",
        8,
        Volatility::Middle,
        &["warm", "festive", "bold"],
        &["Cinnamon", "Sweet Orange", "Tonka Bean"],
    ),
    (
        "Honey",
        "gourmand",
        5,
        Volatility::Middle,
        &["warm", "cozy", "playful"],
        &["Rose", "Vanilla", "Tonka Bean"],
    ),
    (
        "Vanilla",
        "gourmand",
        6,
        Volatility::Base,
        &["cozy", "warm", "sensual", "soothing"],
        &["Sandalwood", "Lavender", "Cinnamon"],
    ),
    (
        "Tonka Bean",
        "gourmand",
        6,
        Volatility::Base,
        &["cozy", "warm", "sensual"],
        &["Vanilla", "Jasmine", "Honey"],
    ),
];

/// The fragrance catalogue customers compose blends from: six families and eighteen notes with their
/// intensity, volatility, moods and the notes they go with. Added once: a site that already has blend
/// categories (this catalogue, or the operator's own) is left alone.
async fn seed_fragrances(conn: &mut sqlx::PgConnection, site_id: &str) -> anyhow::Result<()> {
    let caller = Caller::system(site_id);
    if !notes::categories(&mut *conn, &caller).await?.is_empty() {
        return Ok(());
    }
    let mut category_ids = Vec::new();
    for (position, (name, slug)) in FRAGRANCE_CATEGORIES.iter().enumerate() {
        let category = notes::create_category(
            &mut *conn,
            &caller,
            NewCategory {
                name: name.to_string(),
                slug: Some(slug.to_string()),
                description: None,
                position: Some(position as i32),
            },
        )
        .await?;
        category_ids.push((*slug, category.id));
    }
    let mut note_ids = Vec::new();
    for (name, category, intensity, volatility, moods, _) in FRAGRANCE_NOTES {
        let category_id = category_ids
            .iter()
            .find(|(slug, _)| slug == category)
            .map(|(_, id)| id.clone());
        let note = notes::create_note(
            &mut *conn,
            &caller,
            NoteInput {
                name: Some(name.to_string()),
                category_id,
                intensity: Some(*intensity),
                volatility: Some(*volatility),
                mood: Some(moods.iter().map(|m| m.to_string()).collect()),
                ..NoteInput::default()
            },
        )
        .await?;
        note_ids.push((*name, note.id));
    }
    // Complementary notes name each other, so they are set once every note exists.
    for (name, _, _, _, _, with) in FRAGRANCE_NOTES {
        let id_of = |wanted: &str| {
            note_ids
                .iter()
                .find(|(n, _)| *n == wanted)
                .map(|(_, id)| id.clone())
        };
        let complementary: Vec<String> = with.iter().filter_map(|w| id_of(w)).collect();
        let id = id_of(name).unwrap_or_default();
        notes::update_note(
            &mut *conn,
            &caller,
            &id,
            NoteInput {
                complementary_note_ids: Some(complementary),
                ..NoteInput::default()
            },
        )
        .await?;
    }
    Ok(())
}
