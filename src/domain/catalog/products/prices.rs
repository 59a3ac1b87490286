//! Price changes in bulk, for integrations that send a thousand prices at once: checked, written in one
//! statement per table (rows locked in id order first), and recorded as one `product.updated` per product.

use std::collections::BTreeSet;

use sqlx::PgConnection;

use super::read::load_many;
use crate::domain::error::{Result, Validator};
use crate::domain::events;

/// A new price of a product (`variant_id: None`) or of one of its variants, in minor units.
#[derive(Debug, Clone)]
pub struct PriceChange {
    pub product_id: String,
    pub variant_id: Option<String>,
    pub price: i64,
    pub compare_at_price: Option<i64>,
}

/// Applies every change in the caller's transaction. The products and variants must be the site's (the
/// caller found them); a change outside the money bounds refuses the whole call.
pub async fn set_prices(
    conn: &mut PgConnection,
    site_id: &str,
    changes: &[PriceChange],
) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let mut v = Validator::new();
    for c in changes {
        v.money("price", c.price);
        if let Some(compare) = c.compare_at_price {
            v.money("compare_at_price", compare);
        }
    }
    v.finish()?;
    let products: BTreeSet<&str> = changes.iter().map(|c| c.product_id.as_str()).collect();
    let products: Vec<&str> = products.into_iter().collect();
    // The products' rows first, in one order: every product write locks its product before its variants.
    sqlx::query(
        "select 1 from products where site_id = $1 and id = any($2) order by id for update",
    )
    .bind(site_id)
    .bind(&products)
    .execute(&mut *conn)
    .await?;
    let (own, of_variants): (Vec<&PriceChange>, Vec<&PriceChange>) =
        changes.iter().partition(|c| c.variant_id.is_none());
    if !own.is_empty() {
        sqlx::query(
            "update products p set price = u.price, compare_at_price = u.compare_at_price \
             from unnest($2::text[], $3::bigint[], $4::bigint[]) as u(id, price, compare_at_price) \
             where p.site_id = $1 and p.id = u.id",
        )
        .bind(site_id)
        .bind(own.iter().map(|c| c.product_id.clone()).collect::<Vec<_>>())
        .bind(own.iter().map(|c| c.price).collect::<Vec<_>>())
        .bind(own.iter().map(|c| c.compare_at_price).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await?;
    }
    if !of_variants.is_empty() {
        sqlx::query(
            "update variants v set price = u.price, compare_at_price = u.compare_at_price \
             from unnest($2::text[], $3::bigint[], $4::bigint[]) as u(id, price, compare_at_price) \
             where v.site_id = $1 and v.id = u.id",
        )
        .bind(site_id)
        .bind(
            of_variants
                .iter()
                .filter_map(|c| c.variant_id.clone())
                .collect::<Vec<_>>(),
        )
        .bind(of_variants.iter().map(|c| c.price).collect::<Vec<_>>())
        .bind(
            of_variants
                .iter()
                .map(|c| c.compare_at_price)
                .collect::<Vec<_>>(),
        )
        .execute(&mut *conn)
        .await?;
    }
    let ids: Vec<String> = products.iter().map(|s| s.to_string()).collect();
    let updated = load_many(conn, site_id, &ids).await?;
    let payloads = updated
        .iter()
        .map(serde_json::to_value)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| crate::domain::Error::Internal(format!("event payload: {e}")))?;
    let kinds = vec!["product.updated"; payloads.len()];
    events::record_many(conn, site_id, &kinds, &payloads).await
}
