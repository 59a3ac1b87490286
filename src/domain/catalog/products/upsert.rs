//! Products upserted from a catalog file (`shopvo import products`): each product is matched to a stored
//! one by its handle, else by the first of its SKUs a product holds, else by its slug, and replaces it (as a `PUT`
//! would, with its variant set matched by SKU); unmatched products are created. Brands and categories may
//! be named by id or by slug, so a file exported from one server imports into another. A variant's
//! `inventory_count` sets its stock at the site's default location, through the stock ledger. A field the
//! file does not carry (a column its header lacks, a key its line leaves out) stays as it is on an update.

use std::collections::HashMap;

use sqlx::PgConnection;

use super::export::{Reference, references};
use super::import::{Held, holders};
use super::{ImportItem, NewProduct, ProductPatch, ProductStatus, import};
use crate::domain::error::{Error, Result};
use crate::domain::inventory::levels::{self, LevelWrite};
use crate::domain::inventory::stock::{self, StockPolicy};

/// What an upsert did with a product: created or replaced it, and its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created,
    Updated,
}

pub type UpsertOutcome = std::result::Result<(Upserted, String), Error>;

/// A product of a catalog file.
#[derive(Debug)]
pub struct UpsertItem {
    pub product: NewProduct,
    /// The fields the file leaves out, by their names in [`NewProduct`] (`description`, `brand_id`,
    /// `variants`, …): an update keeps them; a create takes their defaults.
    pub absent: Vec<&'static str>,
}

/// Upserts `products` in the caller's transaction and returns each one's outcome in order. A refused
/// product (invalid, a handle or SKU held by another product, named twice in the call) changes nothing.
pub async fn upsert(
    conn: &mut PgConnection,
    site_id: &str,
    items: Vec<UpsertItem>,
) -> Result<Vec<UpsertOutcome>> {
    let (mut products, absent): (Vec<NewProduct>, Vec<Vec<&str>>) =
        items.into_iter().map(|i| (i.product, i.absent)).unzip();
    resolve_references(conn, site_id, &mut products).await?;
    let existing = match_existing(conn, site_id, &products).await?;

    let mut items = Vec::with_capacity(products.len());
    // Per item: whether it updates, and the stock to set per variant.
    let mut plans: Vec<(Upserted, Vec<Option<i32>>)> = Vec::with_capacity(products.len());
    for ((product, absent), existing) in products.into_iter().zip(absent).zip(existing) {
        let counts = product
            .variants
            .iter()
            .flatten()
            .map(|v| v.inventory_count)
            .collect();
        let (kind, item) = match existing {
            None => (Upserted::Created, ImportItem::Create(product)),
            Some(id) => (Upserted::Updated, replacement(id, product, &absent)),
        };
        plans.push((kind, counts));
        items.push(item);
    }

    let imported = import(conn, site_id, items).await?;
    let location = stock::default_location(conn, site_id).await?;
    let mut writes = Vec::new();
    let mut outcomes = Vec::with_capacity(plans.len());
    for ((kind, counts), outcome) in plans.into_iter().zip(imported) {
        outcomes.push(outcome.map(|(id, variant_ids)| {
            for (variant_id, count) in variant_ids.into_iter().zip(counts) {
                if let Some(quantity) = count {
                    writes.push(LevelWrite {
                        variant_id,
                        location_id: location.clone(),
                        quantity: Some(quantity),
                        policy: StockPolicy::default(),
                    });
                }
            }
            (kind, id)
        }));
    }
    // The import checked every quantity with its variant rules (a product with a bad one was refused), so
    // a refusal here is a fault, not the file's: the call fails whole.
    for written in levels::write(conn, site_id, &writes, "import").await? {
        written
            .map_err(|e| Error::Internal(format!("an imported stock level was refused: {e}")))?;
    }
    Ok(outcomes)
}

/// A stored product replaced by `product`: every field the file carries (a slug only when given), and the
/// variant set when the product lists variants.
fn replacement(id: String, product: NewProduct, absent: &[&str]) -> ImportItem {
    let carried = |field: &str| !absent.contains(&field);
    fn given<T>(absent: &[&str], field: &str, value: T) -> Option<T> {
        (!absent.contains(&field)).then_some(value)
    }
    let patch = ProductPatch {
        name: Some(product.name),
        slug: product.slug,
        handle: given(absent, "handle", product.handle),
        description: given(absent, "description", product.description),
        status: given(
            absent,
            "status",
            product.status.unwrap_or(ProductStatus::Active),
        ),
        price: Some(product.price),
        compare_at_price: given(absent, "compare_at_price", product.compare_at_price),
        brand_id: given(absent, "brand_id", product.brand_id),
        category_ids: given(absent, "category_ids", product.category_ids),
        featured: given(absent, "featured", product.featured),
        vendor: given(absent, "vendor", product.vendor),
        model: given(absent, "model", product.model),
        images: given(absent, "images", product.images),
        translations: given(absent, "translations", product.translations),
    };
    ImportItem::Update {
        id,
        patch,
        variants: product
            .variants
            .filter(|v| carried("variants") && !v.is_empty()),
    }
}

/// Each product's stored match: by handle, else by the first SKU of its variants that a product holds,
/// else by slug (what tells apart exported products that have neither handle nor SKU).
async fn match_existing(
    conn: &mut PgConnection,
    site_id: &str,
    products: &[NewProduct],
) -> Result<Vec<Option<String>>> {
    let handles: Vec<&str> = products
        .iter()
        .filter_map(|p| p.handle.as_deref())
        .collect();
    let skus: Vec<&str> = products
        .iter()
        .flat_map(|p| p.variants.iter().flatten().filter_map(|v| v.sku.as_deref()))
        .collect();
    let slugs: Vec<&str> = products.iter().filter_map(|p| p.slug.as_deref()).collect();
    let by_handle = holders(conn, site_id, Held::Handle, &handles).await?;
    let by_sku = holders(conn, site_id, Held::Sku, &skus).await?;
    let by_slug = holders(conn, site_id, Held::Slug, &slugs).await?;
    Ok(products
        .iter()
        .map(|p| {
            let handle = p.handle.as_ref().and_then(|h| by_handle.get(h));
            let sku = || {
                p.variants
                    .iter()
                    .flatten()
                    .filter_map(|v| v.sku.as_ref())
                    .find_map(|s| by_sku.get(s))
            };
            let slug = || p.slug.as_ref().and_then(|s| by_slug.get(s));
            handle.or_else(sku).or_else(slug).cloned()
        })
        .collect())
}

/// Brands and categories named by slug become their ids; a name that is neither is left for the import's
/// own check to refuse.
async fn resolve_references(
    conn: &mut PgConnection,
    site_id: &str,
    products: &mut [NewProduct],
) -> Result<()> {
    let brands = products.iter_mut().filter_map(|p| p.brand_id.as_mut());
    to_ids(conn, site_id, Reference::Brand, brands.collect()).await?;
    let categories = products.iter_mut().flat_map(|p| p.category_ids.iter_mut());
    to_ids(conn, site_id, Reference::Category, categories.collect()).await
}

async fn to_ids(
    conn: &mut PgConnection,
    site_id: &str,
    kind: Reference,
    mut names: Vec<&mut String>,
) -> Result<()> {
    let wanted: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
    let mut ids = HashMap::new();
    for (id, slug) in references(conn, site_id, kind, &wanted).await? {
        ids.insert(slug, id.clone());
        ids.insert(id.clone(), id);
    }
    for name in names.iter_mut() {
        if let Some(id) = ids.get(name.as_str()) {
            **name = id.clone();
        }
    }
    Ok(())
}
