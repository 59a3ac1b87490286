//! The catalog as a catalog file holds it (`shopvo export products`): each product as the input that
//! [`upsert`](super::upsert) reads back — brands and categories by slug, so the file imports into another
//! server, and each variant's stock as its quantity at the default location (where an import puts it).

use std::collections::HashMap;

use sqlx::PgConnection;

use super::{NewProduct, load_many};
use crate::domain::catalog::variants::NewVariant;
use crate::domain::error::Result;
use crate::domain::inventory::stock;

/// Up to `limit` products after the id `after`, in id order, and the id to continue after (`None` at the
/// end).
pub async fn export_page(
    conn: &mut PgConnection,
    site_id: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<(Vec<NewProduct>, Option<String>)> {
    let ids: Vec<String> = sqlx::query_scalar(
        "select id from products where site_id = $1 and ($2::text is null or id > $2) \
         order by id limit $3",
    )
    .bind(site_id)
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let next = (ids.len() as i64 == limit)
        .then(|| ids.last().cloned())
        .flatten();
    let products = load_many(conn, site_id, &ids).await?;

    let location = stock::default_location(conn, site_id).await?;
    let variant_ids: Vec<&str> = products
        .iter()
        .flat_map(|p| p.variants.iter().flatten().map(|v| v.id.as_str()))
        .collect();
    let on_hand: HashMap<String, i32> = sqlx::query_as(
        "select variant_id, on_hand from stock_levels \
         where site_id = $1 and location_id = $2 and variant_id = any($3)",
    )
    .bind(site_id)
    .bind(&location)
    .bind(&variant_ids)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    let brand_ids: Vec<&str> = products
        .iter()
        .filter_map(|p| p.brand_id.as_deref())
        .collect();
    let category_ids: Vec<&str> = products
        .iter()
        .flat_map(|p| p.category_ids.iter().map(String::as_str))
        .collect();
    let brands: HashMap<String, String> = references(conn, site_id, Reference::Brand, &brand_ids)
        .await?
        .into_iter()
        .collect();
    let categories: HashMap<String, String> =
        references(conn, site_id, Reference::Category, &category_ids)
            .await?
            .into_iter()
            .collect();
    let by_slug =
        |names: &HashMap<String, String>, id: String| names.get(&id).cloned().unwrap_or(id);

    let products = products
        .into_iter()
        .map(|p| NewProduct {
            name: p.name,
            slug: Some(p.slug),
            handle: p.handle,
            description: p.description,
            status: Some(p.status),
            price: p.price,
            compare_at_price: p.compare_at_price,
            brand_id: p.brand_id.map(|id| by_slug(&brands, id)),
            category_ids: p
                .category_ids
                .into_iter()
                .map(|id| by_slug(&categories, id))
                .collect(),
            featured: p.featured,
            vendor: p.vendor,
            model: p.model,
            images: p.images,
            translations: p.translations,
            variants: Some(
                p.variants
                    .into_iter()
                    .flatten()
                    .map(|v| NewVariant {
                        inventory_count: Some(on_hand.get(&v.id).copied().unwrap_or(0)),
                        name: Some(v.name),
                        sku: v.sku,
                        price: v.price,
                        compare_at_price: v.compare_at_price,
                        options: Some(v.options),
                        low_stock_threshold: Some(v.low_stock_threshold),
                        ..NewVariant::default()
                    })
                    .collect(),
            ),
        })
        .collect();
    Ok((products, next))
}

/// What a product names by id or slug.
#[derive(Debug, Clone, Copy)]
pub(super) enum Reference {
    Brand,
    Category,
}

/// `(id, slug)` of the brands or categories that `names` name, each by id or by slug (ids hold `_`, slugs
/// never do, so a name is one or the other).
pub(super) async fn references(
    conn: &mut PgConnection,
    site_id: &str,
    kind: Reference,
    names: &[&str],
) -> Result<Vec<(String, String)>> {
    let sql = match kind {
        Reference::Brand => {
            "select id, slug from brands where site_id = $1 and (id = any($2) or slug = any($2))"
        }
        Reference::Category => {
            "select id, slug from categories where site_id = $1 and (id = any($2) or slug = any($2))"
        }
    };
    Ok(sqlx::query_as(sql)
        .bind(site_id)
        .bind(names)
        .fetch_all(conn)
        .await?)
}

/// The most options any variant of the site has (a CSV export writes that many option columns).
pub async fn most_options(conn: &mut PgConnection, site_id: &str) -> Result<usize> {
    let most: i32 = sqlx::query_scalar(
        "select coalesce(max(jsonb_array_length(options)), 0) from variants where site_id = $1",
    )
    .bind(site_id)
    .fetch_one(conn)
    .await?;
    Ok(most.max(0) as usize)
}
