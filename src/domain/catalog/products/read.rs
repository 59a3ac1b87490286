//! Reading products: a filtered, searched page, or one product by id or slug, with related resources.

use std::collections::HashMap;

use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::{COLUMNS, Expand, Product, ProductFilter, ProductRow, ProductStatus, VARIANTS_JSON};
use crate::domain::caller::Caller;
use crate::domain::catalog::{Brand, Category, brands, categories};
use crate::domain::error::{Error, Result};
use crate::domain::pagination::{self, Page, PageRequest};

/// Turns free text into a prefix-matching tsquery (`white shirt` → `white:* & shirt:*`). Only letters and
/// digits reach the query, so no client text is interpreted as tsquery syntax.
fn search_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(10)
        .map(|t| format!("{}:*", t.to_lowercase()))
        .collect();
    if terms.is_empty() {
        None
    } else {
        Some(terms.join(" & "))
    }
}

fn push_filters(qb: &mut QueryBuilder<Postgres>, site_id: &str, f: &ProductFilter) {
    qb.push(" where p.site_id = ").push_bind(site_id);
    qb.push(" and p.status = ")
        .push_bind(f.status.unwrap_or(ProductStatus::Active).as_str());
    if let Some(brand_id) = &f.brand_id {
        qb.push(" and p.brand_id = ").push_bind(brand_id);
    }
    if let Some(featured) = f.featured {
        qb.push(" and p.featured = ").push_bind(featured);
    }
    if let Some(category_id) = &f.category_id {
        qb.push(" and exists (select 1 from product_categories pc where pc.site_id = p.site_id and pc.product_id = p.id and pc.category_id = ")
            .push_bind(category_id)
            .push(")");
    }
    if let Some(text) = f.search.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let escaped = crate::domain::escape_like(text);
        // Either branch can use its own index (full text; SKU prefix); an OR across them could not.
        // Uncorrelated subqueries (the site bound again), so each runs once rather than per product.
        qb.push(" and p.id in (");
        if let Some(tsquery) = search_query(text) {
            qb.push("select s.id from products s where s.site_id = ")
                .push_bind(site_id.to_string())
                .push(" and s.search @@ to_tsquery('simple', ")
                .push_bind(tsquery)
                .push(") union all ");
        }
        qb.push("select v.product_id from variants v where v.site_id = ")
            .push_bind(site_id.to_string())
            .push(" and lower(v.sku) like ")
            .push_bind(format!("{}%", escaped.to_lowercase()))
            .push(")");
    }
}

/// A page of products. Callers that see only the active catalog may not ask for another status.
pub async fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    filter: &ProductFilter,
    page: &PageRequest,
    expand: Expand,
) -> Result<Page<Product>> {
    caller.check_status_filter(filter.status.is_none_or(|s| s == ProductStatus::Active))?;
    let site_id = caller.site_id();
    let mut qb = QueryBuilder::new(format!("select {COLUMNS}"));
    if expand.variants {
        qb.push(", ").push(VARIANTS_JSON);
    }
    qb.push(" from products p");
    push_filters(&mut qb, site_id, filter);
    if let Some(after) = page.after() {
        qb.push(" and p.id > ").push_bind(after);
    }
    qb.push(" order by p.id limit ")
        .push_bind(page.fetch_limit());
    qb.push(" offset ").push_bind(page.offset());
    let rows: Vec<ProductRow> = qb.build_query_as().fetch_all(&mut *conn).await?;

    let total = pagination::total(&mut *conn, page, |qb| {
        qb.push(" from products p");
        push_filters(qb, site_id, filter);
    })
    .await?;
    let mut page = Page::from_rows(
        page,
        rows.into_iter().map(Product::from).collect(),
        total,
        |p| &p.id,
    );
    expand_related(conn, site_id, &mut page.items, expand).await?;
    Ok(page)
}

/// Loads brands and categories for `expand[]` (variants come with the product query itself).
async fn expand_related(
    conn: &mut PgConnection,
    site_id: &str,
    products: &mut [Product],
    expand: Expand,
) -> Result<()> {
    if expand.brand {
        let ids: Vec<String> = products.iter().filter_map(|p| p.brand_id.clone()).collect();
        let brands: HashMap<String, Brand> = brands::list_by_ids(&mut *conn, site_id, &ids)
            .await?
            .into_iter()
            .map(|b| (b.id.clone(), b))
            .collect();
        for p in products.iter_mut() {
            p.brand = Some(p.brand_id.as_ref().and_then(|id| brands.get(id).cloned()));
        }
    }
    if expand.categories {
        let ids: Vec<String> = products.iter().map(|p| p.id.clone()).collect();
        let mut by_product: HashMap<String, Vec<Category>> = HashMap::new();
        for (product_id, category) in categories::for_products(&mut *conn, site_id, &ids).await? {
            by_product.entry(product_id).or_default().push(category);
        }
        for p in products.iter_mut() {
            p.categories = Some(by_product.remove(&p.id).unwrap_or_default());
        }
    }
    Ok(())
}

/// One product by id or slug, with its variants. A product the caller may not see is not found.
pub async fn get(
    conn: &mut PgConnection,
    caller: &Caller,
    id_or_slug: &str,
    expand: Expand,
) -> Result<Product> {
    let product = load(conn, caller.site_id(), id_or_slug, expand).await?;
    if product.status != ProductStatus::Active && !caller.sees_unpublished() {
        return Err(Error::NotFound("product"));
    }
    Ok(product)
}

/// One product by id or slug, with its variants (one query), whatever its status.
pub(super) async fn load(
    conn: &mut PgConnection,
    site_id: &str,
    id_or_slug: &str,
    expand: Expand,
) -> Result<Product> {
    let row: ProductRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS}, {VARIANTS_JSON} from products p where p.site_id = $1 and p.{} = $2",
        // Slugs never contain `_` and ids always do: one equality keeps this on a single index.
        if id_or_slug.contains('_') {
            "id"
        } else {
            "slug"
        }
    )))
    .bind(site_id)
    .bind(id_or_slug)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound("product"))?;
    let mut products = [Product::from(row)];
    expand_related(
        conn,
        site_id,
        &mut products,
        Expand {
            variants: false,
            ..expand
        },
    )
    .await?;
    let [product] = products;
    Ok(product)
}

#[cfg(test)]
mod tests {
    use super::search_query;

    #[test]
    fn search_terms_are_sanitised() {
        assert_eq!(
            search_query("White shirt").as_deref(),
            Some("white:* & shirt:*")
        );
        assert_eq!(
            search_query("a' | b:* & !c").as_deref(),
            Some("a:* & b:* & c:*")
        );
        assert_eq!(search_query("!!"), None);
    }
}
