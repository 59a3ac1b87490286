//! Reading products from their read documents: one product by id or slug (one lookup), or a page of a
//! list, whose ids come from an index walk that stops after the page (searches: [`super::search`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use sqlx::{FromRow, PgConnection, Postgres, QueryBuilder};

use super::search::{self, Search};
use super::{
    Expand, JsonText, Product, ProductDoc, ProductFilter, ProductSort, ProductStatus, VariantStock,
};
use crate::domain::b2b;
use crate::domain::caller::Caller;
use crate::domain::catalog::{Brand, Category, brands, categories};
use crate::domain::error::{Error, Result};
use crate::domain::pagination::{self, Page, PageRequest};

/// The live stock columns of the variants of the product whose document is `d`, as one JSON array: a
/// single product is then read in one statement. (For a page, [`stock_of`] reads them as rows: per
/// product, this subquery costs more than the document.)
const STOCK: &str = "coalesce((select json_agg(json_build_array(v.id, v.inventory_count, v.backorders, \
    v.inventory_status, v.low_stock_threshold, v.updated_at)) \
    from variants v where v.site_id = d.site_id and v.product_id = d.product_id), '[]') as stock";

#[derive(FromRow)]
struct DocRow {
    doc: JsonText<ProductDoc>,
    stock: JsonText<Vec<VariantStock>>,
}

/// Pushes the `from … where …` of a product list without its search, and returns the column the list is
/// ordered and walked by. A category filter drives the walk from the category's listing index, which
/// carries each product's status: a category page (and its count) reads that index alone unless the
/// product row is needed, by `product_columns` (a search) or by a brand or featured filter.
pub(super) fn push_source(
    qb: &mut QueryBuilder<Postgres>,
    site_id: &str,
    f: &ProductFilter,
    product_columns: bool,
) -> &'static str {
    let status = f.status.unwrap_or(ProductStatus::Active).as_str();
    if let Some(category_id) = &f.category_id {
        qb.push(" from product_categories pc");
        let join = product_columns || f.brand_id.is_some() || f.featured.is_some();
        if join {
            qb.push(" join products p on p.site_id = pc.site_id and p.id = pc.product_id");
        }
        qb.push(" where pc.site_id = ")
            .push_bind(site_id.to_string())
            .push(" and pc.category_id = ")
            .push_bind(category_id.clone())
            .push(" and pc.product_status = ")
            .push_bind(status);
        if join {
            qb.push(" and p.site_id = ").push_bind(site_id.to_string());
        }
    } else {
        qb.push(" from products p where p.site_id = ")
            .push_bind(site_id.to_string())
            .push(" and p.status = ")
            .push_bind(status);
    }
    if let Some(brand_id) = &f.brand_id {
        qb.push(" and p.brand_id = ").push_bind(brand_id.clone());
    }
    if let Some(featured) = f.featured {
        qb.push(" and p.featured = ").push_bind(featured);
    }
    key_column(f)
}

/// The column a product list selects, orders and walks by: the category's index when it has a category.
pub(super) fn key_column(filter: &ProductFilter) -> &'static str {
    if filter.category_id.is_some() {
        "pc.product_id"
    } else {
        "p.id"
    }
}

/// Whether `cursor` is one that a page of this list gave (a search walks its tiers, so its cursors differ).
pub fn is_cursor(filter: &ProductFilter, cursor: &str) -> bool {
    match Search::new(filter) {
        Some(_) => search::is_cursor(cursor),
        None => crate::ids::is_valid("prd", cursor),
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
    let (docs, info) = match Search::new(filter) {
        Some(search) => {
            let ids = search::page(conn, site_id, filter, search, page).await?;
            (by_ids(conn, site_id, &ids.items).await?, ids.info)
        }
        None if filter.sort != ProductSort::Id => {
            let docs = sorted_docs(conn, site_id, filter, page).await?;
            (docs.items, docs.info)
        }
        None => {
            let docs = page_docs(conn, site_id, filter, page).await?;
            (docs.items, docs.info)
        }
    };
    let mut stock = if expand.variants {
        stock_of(conn, site_id, docs.iter().map(|d| d.id.clone()).collect()).await?
    } else {
        HashMap::new()
    };
    let items = docs
        .into_iter()
        .map(|d| {
            let variants = expand
                .variants
                .then(|| stock.remove(&d.id).unwrap_or_default());
            d.into_product(variants)
        })
        .collect();
    let mut page = Page { items, info };
    expand_related(conn, site_id, &mut page.items, expand).await?;
    b2b::price_lists::apply_to_products(conn, caller, &mut page.items).await?;
    Ok(page)
}

/// A page of a list without a search: the documents of an index walk in id order that stops after the
/// page, in one statement, and its total.
async fn page_docs(
    conn: &mut PgConnection,
    site_id: &str,
    filter: &ProductFilter,
    page: &PageRequest,
) -> Result<Page<ProductDoc>> {
    let mut qb = QueryBuilder::new("select d.doc from product_docs d where d.site_id = ");
    qb.push_bind(site_id.to_string())
        .push(" and d.product_id = any(array(select ")
        .push(key_column(filter));
    let key = push_source(&mut qb, site_id, filter, false);
    if let Some(after) = page.after() {
        qb.push(" and ")
            .push(key)
            .push(" > ")
            .push_bind(after.to_string());
    }
    qb.push(" order by ").push(key);
    page.push_window(&mut qb);
    qb.push(")) order by d.product_id");
    let docs: Vec<JsonText<ProductDoc>> = qb
        .build_query_scalar()
        .persistent(page.keeps_statement())
        .fetch_all(&mut *conn)
        .await?;
    let total = pagination::total(&mut *conn, page, key, |qb| {
        push_source(qb, site_id, filter, false);
    })
    .await?;
    let docs = docs.into_iter().map(|d| d.0).collect();
    Ok(Page::from_rows(page, docs, total, |d| &d.id))
}

/// A page of a list in another order than by id: offset pages only (a cursor walks ids), the ids from
/// an index walk in that order, then their documents.
async fn sorted_docs(
    conn: &mut PgConnection,
    site_id: &str,
    filter: &ProductFilter,
    page: &PageRequest,
) -> Result<Page<ProductDoc>> {
    if page.is_cursor() {
        return Err(Error::invalid(
            "cursor",
            "a cursor walks the list by id: leave out the sort, or page by offset",
        ));
    }
    let order = match filter.sort {
        ProductSort::Id => "p.id",
        ProductSort::Newest => "p.id desc",
        ProductSort::PriceAsc => "p.price, p.id",
        ProductSort::PriceDesc => "p.price desc, p.id desc",
        ProductSort::NameAsc => "lower(p.name), p.id",
        ProductSort::NameDesc => "lower(p.name) desc, p.id desc",
    };
    let mut qb = QueryBuilder::new("select p.id");
    push_source(&mut qb, site_id, filter, true);
    qb.push(" order by ").push(order);
    page.push_window(&mut qb);
    let ids: Vec<String> = qb.build_query_scalar().fetch_all(&mut *conn).await?;
    let docs = by_ids(conn, site_id, &ids).await?;
    let total = pagination::total(&mut *conn, page, key_column(filter), |qb| {
        push_source(qb, site_id, filter, false);
    })
    .await?;
    Ok(Page::from_rows(page, docs, total, |d| &d.id))
}

/// The documents of the products `ids`, in that order (a product deleted meanwhile is left out).
async fn by_ids(conn: &mut PgConnection, site_id: &str, ids: &[String]) -> Result<Vec<ProductDoc>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let docs: Vec<JsonText<ProductDoc>> = sqlx::query_scalar(
        "select d.doc from product_docs d where d.site_id = $1 and d.product_id = any($2)",
    )
    .bind(site_id)
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_id: HashMap<String, ProductDoc> =
        docs.into_iter().map(|d| (d.0.id.clone(), d.0)).collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// A page's stock row: the product id, then [`VariantStock`]'s columns (read by position).
type StockRow = (
    String,
    String,
    i32,
    bool,
    Option<String>,
    i32,
    DateTime<Utc>,
);

/// The live stock of the variants of `product_ids`, by product: one index scan for the whole page.
async fn stock_of(
    conn: &mut PgConnection,
    site_id: &str,
    product_ids: Vec<String>,
) -> Result<HashMap<String, Vec<VariantStock>>> {
    if product_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<StockRow> = sqlx::query_as(
        "select v.product_id, v.id, v.inventory_count, v.backorders, v.inventory_status, \
         v.low_stock_threshold, v.updated_at from variants v where v.site_id = $1 and v.product_id = any($2)",
    )
    .bind(site_id)
    .bind(product_ids)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_product: HashMap<String, Vec<VariantStock>> = HashMap::new();
    for (product_id, id, count, backorders, status, threshold, updated_at) in rows {
        by_product.entry(product_id).or_default().push(VariantStock(
            id, count, backorders, status, threshold, updated_at,
        ));
    }
    Ok(by_product)
}

/// Loads brands and categories for `expand[]` (variants come with the documents).
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
    let mut products = [product];
    b2b::price_lists::apply_to_products(conn, caller, &mut products).await?;
    let [product] = products;
    Ok(product)
}

/// The products `ids` with their variants, whatever their status, in that order (for integrations that
/// manage the whole catalog): the documents and the variants' stock in two queries.
pub async fn load_many(
    conn: &mut PgConnection,
    site_id: &str,
    ids: &[String],
) -> Result<Vec<Product>> {
    let docs = by_ids(conn, site_id, ids).await?;
    let mut stock = stock_of(conn, site_id, docs.iter().map(|d| d.id.clone()).collect()).await?;
    Ok(docs
        .into_iter()
        .map(|d| {
            let variants = stock.remove(&d.id).unwrap_or_default();
            d.into_product(Some(variants))
        })
        .collect())
}

/// One product by id or slug, with its variants, whatever its status: its document (one primary-key
/// lookup; a slug is resolved through its unique index first) and its variants' stock.
pub(super) async fn load(
    conn: &mut PgConnection,
    site_id: &str,
    id_or_slug: &str,
    expand: Expand,
) -> Result<Product> {
    // Slugs never contain `_` and ids always do.
    let id = if id_or_slug.contains('_') {
        "$2"
    } else {
        "(select p.id from products p where p.site_id = $1 and p.slug = $2)"
    };
    let row: DocRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select d.doc, {STOCK} from product_docs d where d.site_id = $1 and d.product_id = {id}"
    )))
    .bind(site_id)
    .bind(id_or_slug)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound("product"))?;
    let mut products = [row.doc.0.into_product(Some(row.stock.0))];
    expand_related(conn, site_id, &mut products, expand).await?;
    let [product] = products;
    Ok(product)
}
