//! Writes to a product's variants: each locks the product, changes the variant through
//! [`variants`], and records `product.updated` with the product as it is now. The caller runs each in a
//! transaction.

use sqlx::PgConnection;

use super::write::{lock, record_updated};
use crate::domain::catalog::Variant;
use crate::domain::catalog::variants::{self, NewVariant, VariantPatch};
use crate::domain::error::Result;

/// Adds a variant; `is_default` demotes the previous default.
pub async fn add_variant(
    conn: &mut PgConnection,
    site_id: &str,
    product_id_or_slug: &str,
    input: NewVariant,
) -> Result<Variant> {
    let product_id = lock(conn, site_id, product_id_or_slug).await?;
    let mut created = variants::insert_many(conn, site_id, &product_id, vec![input], "").await?;
    record_updated(conn, site_id, &product_id).await?;
    Ok(created.remove(0))
}

pub async fn update_variant(
    conn: &mut PgConnection,
    site_id: &str,
    product_id_or_slug: &str,
    id: &str,
    patch: VariantPatch,
) -> Result<Variant> {
    let product_id = lock(conn, site_id, product_id_or_slug).await?;
    let variant = variants::update(conn, site_id, &product_id, id, patch).await?;
    record_updated(conn, site_id, &product_id).await?;
    Ok(variant)
}

/// Replaces every field of a variant (PUT); omitted fields return to their defaults. The input is checked
/// before the product is looked up.
pub async fn replace_variant(
    conn: &mut PgConnection,
    site_id: &str,
    product_id_or_slug: &str,
    id: &str,
    input: NewVariant,
) -> Result<Variant> {
    let patch = variants::replacement(input)?;
    update_variant(conn, site_id, product_id_or_slug, id, patch).await
}

/// Deletes a variant; a product's only variant cannot go (delete the product instead).
pub async fn delete_variant(
    conn: &mut PgConnection,
    site_id: &str,
    product_id_or_slug: &str,
    id: &str,
) -> Result<()> {
    let product_id = lock(conn, site_id, product_id_or_slug).await?;
    variants::delete(conn, site_id, &product_id, id).await?;
    record_updated(conn, site_id, &product_id).await?;
    Ok(())
}
