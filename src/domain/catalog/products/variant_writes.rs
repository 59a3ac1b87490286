//! Writes to a product's variants: each locks the product, changes the variant through
//! [`variants`], and records `product.updated` with the product as it is now. The caller runs each in a
//! transaction.

use sqlx::PgConnection;

use super::write::{lock, record_updated};
use crate::domain::catalog::Variant;
use crate::domain::catalog::variants::{self, NewVariant, VariantPatch};
use crate::domain::error::{Error, Result};

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

/// Replaces a product's whole variant set, for integrations that send every variant each time: a
/// variant whose SKU is among the new ones is updated in place (keeping its id, number and stock
/// history), the others are deleted, the rest created; the first becomes the default. A variant's stock
/// changes only where its input carries a count. Returns the variants' ids in the inputs' order.
pub async fn set_variants(
    conn: &mut PgConnection,
    site_id: &str,
    product_id_or_slug: &str,
    inputs: Vec<NewVariant>,
) -> Result<Vec<String>> {
    if inputs.is_empty() || inputs.len() > 100 {
        return Err(Error::invalid("variants", "from 1 to 100 variants"));
    }
    let product_id = lock(conn, site_id, product_id_or_slug).await?;
    let existing: Vec<(String, Option<String>)> =
        sqlx::query_as("select id, sku from variants where site_id = $1 and product_id = $2")
            .bind(site_id)
            .bind(&product_id)
            .fetch_all(&mut *conn)
            .await?;
    let kept = |sku: &Option<String>| {
        sku.as_ref().and_then(|sku| {
            existing
                .iter()
                .find(|(_, s)| s.as_ref() == Some(sku))
                .map(|(id, _)| id.clone())
        })
    };
    let matched: Vec<Option<String>> = inputs.iter().map(|i| kept(&i.sku)).collect();
    let gone: Vec<&String> = existing
        .iter()
        .map(|(id, _)| id)
        .filter(|id| !matched.iter().any(|m| m.as_ref() == Some(*id)))
        .collect();
    sqlx::query("delete from variants where site_id = $1 and id = any($2)")
        .bind(site_id)
        .bind(&gone)
        .execute(&mut *conn)
        .await?;
    let mut ids = Vec::with_capacity(inputs.len());
    for (i, (mut input, existing_id)) in inputs.into_iter().zip(matched).enumerate() {
        input.is_default = Some(i == 0);
        input.position = Some(i as i32);
        let count = input.inventory_count;
        match existing_id {
            Some(id) => {
                let mut patch = variants::replacement(input)?;
                patch.inventory_count = count;
                patch.inventory_status = None;
                variants::update(conn, site_id, &product_id, &id, patch).await?;
                ids.push(id);
            }
            None => {
                let created =
                    variants::insert_many(conn, site_id, &product_id, vec![input], "").await?;
                ids.extend(created.into_iter().map(|v| v.id));
            }
        }
    }
    record_updated(conn, site_id, &product_id).await?;
    Ok(ids)
}
