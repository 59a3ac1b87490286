//! The catalog as Mozello's Store API reaches it: products by handle or SKU, pages walked by a product's
//! number (`page_start=id:<n>`), filtered by creation or change time, and a stock value that is either a
//! count or "not tracked" (the default location takes backorders).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::domain::catalog::products::{self, Product};
use crate::domain::error::{Error, Result};

/// The largest page a list returns.
pub const MAX_PAGE: i64 = 100;

/// A time a list filter compares: when a record was created or last changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeField {
    Created,
    Modified,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    Ne,
}

impl Comparison {
    fn sql(self) -> &'static str {
        match self {
            Comparison::Lt => "<",
            Comparison::Le => "<=",
            Comparison::Eq => "=",
            Comparison::Ge => ">=",
            Comparison::Gt => ">",
            Comparison::Ne => "<>",
        }
    }
}

/// One `filter=` of a list: all of them must hold.
#[derive(Debug, Clone)]
pub struct TimeFilter {
    pub field: TimeField,
    pub comparison: Comparison,
    pub value: DateTime<Utc>,
}

/// A page request: after (or, descending, before) the record numbered `start`.
#[derive(Debug, Clone, Default)]
pub struct PageQuery {
    pub size: i64,
    pub start: Option<i64>,
    pub descending: bool,
    pub filters: Vec<TimeFilter>,
}

/// Pushes `and <number> > start ... and filters` for a table whose times are `created_at`/`updated_at`.
pub(super) fn push_page_conditions(qb: &mut QueryBuilder<Postgres>, page: &PageQuery) {
    if let Some(start) = page.start {
        qb.push(if page.descending {
            " and number < "
        } else {
            " and number > "
        })
        .push_bind(start);
    }
    for f in &page.filters {
        let column = match f.field {
            TimeField::Created => "created_at",
            TimeField::Modified => "updated_at",
        };
        qb.push(format_args!(" and {column} {} ", f.comparison.sql()))
            .push_bind(f.value);
    }
    qb.push(if page.descending {
        " order by number desc limit "
    } else {
        " order by number limit "
    })
    .push_bind(page.size.clamp(1, MAX_PAGE) + 1);
}

/// A page of products of any status, with their variants, and the number to start the next page after
/// (`None` on the last page).
pub async fn product_page(
    conn: &mut PgConnection,
    site_id: &str,
    page: &PageQuery,
) -> Result<(Vec<Product>, Option<i64>)> {
    let mut qb = QueryBuilder::new("select id, number from products where site_id = ");
    qb.push_bind(site_id.to_string());
    push_page_conditions(&mut qb, page);
    let mut rows: Vec<(String, i64)> = qb.build_query_as().fetch_all(&mut *conn).await?;
    let size = page.size.clamp(1, MAX_PAGE) as usize;
    let next = (rows.len() > size).then(|| rows[size - 1].1);
    rows.truncate(size);
    let ids: Vec<String> = rows.into_iter().map(|(id, _)| id).collect();
    Ok((products::load_many(conn, site_id, &ids).await?, next))
}

/// The id of the product with this handle.
pub async fn product_by_handle(
    conn: &mut PgConnection,
    site_id: &str,
    handle: &str,
) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("select id from products where site_id = $1 and handle = $2")
            .bind(site_id)
            .bind(handle)
            .fetch_optional(conn)
            .await?,
    )
}

/// What an SKU names: the products holding a variant with it, and that variant.
#[derive(Debug, Clone)]
pub struct SkuMatch {
    pub product_id: String,
    pub variant_id: String,
}

/// Every variant with this SKU (SKUs are unique per site, so at most one today; callers still treat
/// several as ambiguous, as Mozello does).
pub async fn by_sku(conn: &mut PgConnection, site_id: &str, sku: &str) -> Result<Vec<SkuMatch>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select product_id, id from variants where site_id = $1 and sku = $2 order by product_id, id",
    )
    .bind(site_id)
    .bind(sku)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(product_id, variant_id)| SkuMatch {
            product_id,
            variant_id,
        })
        .collect())
}

/// A product's or variant's stock as Mozello writes it: a count, or not tracked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stock {
    Count(i32),
    Untracked,
}

/// Sets variants' stock at the site's default location in one ledger write (source `mozello`): a count
/// sets the level and stops backorders; "not tracked" lets the level take backorders. Neither can be
/// refused, so the writes apply together.
pub async fn set_stocks(
    conn: &mut PgConnection,
    site_id: &str,
    stocks: &[(String, Stock)],
) -> Result<()> {
    use crate::domain::inventory::levels::{self, LevelWrite};
    use crate::domain::inventory::stock::{Backorder, StockPolicy, default_location};
    if stocks.is_empty() {
        return Ok(());
    }
    // A variant replaced later in the same batch is gone; its stock goes with it.
    let ids: Vec<&str> = stocks.iter().map(|(id, _)| id.as_str()).collect();
    let live: std::collections::HashSet<String> =
        sqlx::query_scalar("select id from variants where site_id = $1 and id = any($2)")
            .bind(site_id)
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
    let location_id = default_location(conn, site_id).await?;
    let writes: Vec<LevelWrite> = stocks
        .iter()
        .filter(|(variant_id, _)| live.contains(variant_id))
        .map(|(variant_id, stock)| {
            let (quantity, backorder) = match stock {
                Stock::Count(n) => (Some(*n), Backorder::No),
                Stock::Untracked => (None, Backorder::Yes),
            };
            LevelWrite {
                variant_id: variant_id.clone(),
                location_id: location_id.clone(),
                quantity,
                policy: StockPolicy {
                    backorder: Some(backorder),
                    ..StockPolicy::default()
                },
            }
        })
        .collect();
    for outcome in levels::write(conn, site_id, &writes, "mozello").await? {
        outcome?;
    }
    Ok(())
}

/// The products with these handles: handle → id.
pub async fn products_by_handles(
    conn: &mut PgConnection,
    site_id: &str,
    handles: &[String],
) -> Result<std::collections::HashMap<String, String>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("select handle, id from products where site_id = $1 and handle = any($2)")
            .bind(site_id)
            .bind(handles)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().collect())
}

/// The deepest a category may sit (Mozello's tree has three levels).
pub const MAX_LEVEL: usize = 3;

/// A category as Mozello names it: its handle (the id when it has none) and, from the root, each level's
/// name and its titles in other languages.
#[derive(Debug, Clone)]
pub struct CategoryPath {
    pub id: String,
    pub handle: String,
    pub names: Vec<String>,
    pub translations: Vec<std::collections::BTreeMap<String, super::categories::Title>>,
}

/// The paths of the categories `ids`, by id.
pub async fn category_paths(
    conn: &mut PgConnection,
    site_id: &str,
    ids: &[String],
) -> Result<std::collections::HashMap<String, CategoryPath>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    type Row = (
        String,
        String,
        Vec<String>,
        sqlx::types::Json<Vec<std::collections::BTreeMap<String, super::categories::Title>>>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "with recursive up (start, id, parent_id, name, translations, depth) as ( \
           select c.id, c.id, c.parent_id, c.name, c.translations, 0 from categories c \
           where c.site_id = $1 and c.id = any($2) \
           union all \
           select up.start, p.id, p.parent_id, p.name, p.translations, up.depth + 1 from up \
           join categories p on p.site_id = $1 and p.id = up.parent_id where up.depth < 10) \
         select up.start, coalesce(c.handle, c.id), array_agg(up.name order by up.depth desc), \
                jsonb_agg(up.translations order by up.depth desc) \
         from up join categories c on c.site_id = $1 and c.id = up.start group by up.start, c.handle, c.id",
    )
    .bind(site_id)
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, handle, names, translations)| {
            let translations = translations.0;
            (
                id.clone(),
                CategoryPath {
                    id,
                    handle,
                    names,
                    translations,
                },
            )
        })
        .collect())
}

/// The id of the category with this handle (or id).
pub async fn category_by_handle(
    conn: &mut PgConnection,
    site_id: &str,
    handle: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "select id from categories where site_id = $1 and (handle = $2 or id = $2) \
         order by handle is null limit 1",
    )
    .bind(site_id)
    .bind(handle)
    .fetch_optional(conn)
    .await?)
}

/// One level of a category path: the title in the default language and in others.
#[derive(Debug, Clone, Default)]
pub struct PathLevel {
    pub name: String,
    pub translations: Vec<(String, Option<String>)>,
}

/// The category at the end of `levels` (from the root, matched by default-language title), creating the
/// missing ones with their titles in every language given.
pub async fn category_for_path(
    conn: &mut PgConnection,
    site_id: &str,
    levels: &[PathLevel],
) -> Result<String> {
    let names = levels;
    use crate::domain::catalog::categories::{self, NewCategory};
    if names.is_empty() || names.len() > MAX_LEVEL {
        return Err(Error::invalid(
            "category.path",
            format!("from 1 to {MAX_LEVEL} levels"),
        ));
    }
    let mut parent: Option<String> = None;
    for PathLevel { name, translations } in names {
        let found: Option<String> = sqlx::query_scalar(
            "select id from categories where site_id = $1 and parent_id is not distinct from $2 \
             and lower(name) = lower($3) order by position, id limit 1",
        )
        .bind(site_id)
        .bind(&parent)
        .bind(name.trim())
        .fetch_optional(&mut *conn)
        .await?;
        let id = match found {
            Some(id) => id,
            None => {
                let slug = free_category_slug(conn, site_id, name).await?;
                let new = NewCategory {
                    name: name.clone(),
                    slug: Some(slug),
                    parent_id: parent.clone(),
                    position: None,
                    description: None,
                };
                let id = categories::create(conn, site_id, new).await?.id;
                super::categories::set_translations(conn, site_id, &id, translations).await?;
                id
            }
        };
        parent = Some(id);
    }
    parent.ok_or_else(|| Error::Internal("an empty category path".into()))
}

/// A slug for a new category named `name` that no category of the site has yet.
async fn free_category_slug(conn: &mut PgConnection, site_id: &str, name: &str) -> Result<String> {
    let base = crate::domain::catalog::slug::slugify(name);
    let base = if base.is_empty() {
        "category".to_string()
    } else {
        base
    };
    let taken: Vec<String> = sqlx::query_scalar(
        "select slug from categories where site_id = $1 and (slug = $2 or slug like $2 || '-%')",
    )
    .bind(site_id)
    .bind(&base)
    .fetch_all(conn)
    .await?;
    if !taken.contains(&base) {
        return Ok(base);
    }
    Ok((2..)
        .map(|n| format!("{base}-{n}"))
        .find(|s| !taken.contains(s))
        .unwrap_or(base))
}

/// The handles of the products `ids` (the id where a product has none), for order lines.
pub async fn product_handles(
    conn: &mut PgConnection,
    site_id: &str,
    ids: &[String],
) -> Result<std::collections::HashMap<String, String>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select id, coalesce(handle, id) from products where site_id = $1 and id = any($2)",
    )
    .bind(site_id)
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}

/// One item of a batch by SKU: a new regular price, a new sale price (`Some(None)` ends the sale) and
/// stock, each optional.
#[derive(Debug, Clone)]
pub struct SkuUpdate {
    pub sku: String,
    pub price: Option<i64>,
    pub sale_price: Option<Option<i64>>,
    pub stock: Option<Stock>,
}

/// What became of one item.
#[derive(Debug)]
pub enum SkuOutcome {
    Updated,
    /// Not applied and not an error of the call: no item has this SKU.
    Ignored(&'static str),
    Refused(Error),
}

/// A variant as a batch by SKU finds it, with the prices its change starts from.
#[derive(sqlx::FromRow, Clone)]
struct SkuRow {
    sku: String,
    variant_id: String,
    product_id: String,
    variant_price: Option<i64>,
    variant_compare_at: Option<i64>,
    product_price: i64,
    product_compare_at: Option<i64>,
    /// The product's only variant: its price is the product's.
    single: bool,
}

/// Price and compare-at price from a regular and a sale price (on sale, the buyer pays the sale price).
pub fn priced(regular: i64, sale: Option<i64>) -> (i64, Option<i64>) {
    match sale {
        Some(sale) => (sale, Some(regular)),
        None => (regular, None),
    }
}

/// Regular and sale price from a price and a compare-at price.
fn regular_and_sale(price: i64, compare_at: Option<i64>) -> (i64, Option<i64>) {
    match compare_at.filter(|c| *c > price) {
        Some(c) => (c, Some(price)),
        None => (price, None),
    }
}

/// Applies a batch by SKU in the caller's transaction, in a fixed number of statements: the SKUs found
/// in one query, the stock through one ledger write, the prices in one statement per table. Items apply
/// in order (a later item for the same SKU sees the earlier one's price); an item whose stock is refused
/// changes nothing.
pub async fn update_by_sku(
    conn: &mut PgConnection,
    site_id: &str,
    items: &[SkuUpdate],
) -> Result<Vec<SkuOutcome>> {
    use std::collections::HashMap;

    use crate::domain::catalog::products::{PriceChange, set_prices};
    use crate::domain::inventory::levels::{self, LevelWrite};
    use crate::domain::inventory::stock::{Backorder, StockPolicy, default_location};

    let skus: Vec<&str> = items.iter().map(|i| i.sku.as_str()).collect();
    let rows: Vec<SkuRow> = sqlx::query_as(
        "select v.sku, v.id as variant_id, v.product_id, v.price as variant_price, \
                v.compare_at_price as variant_compare_at, p.price as product_price, \
                p.compare_at_price as product_compare_at, \
                (select count(*) from variants w where w.site_id = v.site_id and w.product_id = v.product_id) = 1 as single \
         from variants v join products p on p.site_id = v.site_id and p.id = v.product_id \
         where v.site_id = $1 and v.sku = any($2)",
    )
    .bind(site_id)
    .bind(&skus)
    .fetch_all(&mut *conn)
    .await?;
    let mut found: HashMap<String, SkuRow> = rows.into_iter().map(|r| (r.sku.clone(), r)).collect();

    let mut outcomes: Vec<SkuOutcome> = items
        .iter()
        .map(|i| {
            if found.contains_key(&i.sku) {
                SkuOutcome::Updated
            } else {
                SkuOutcome::Ignored("SKU not found")
            }
        })
        .collect();
    // Every product write locks its product before its variants; so does this one, in id order, before
    // the stock write below touches the variants.
    let mut products: Vec<&str> = found.values().map(|r| r.product_id.as_str()).collect();
    products.sort_unstable();
    products.dedup();
    sqlx::query(
        "select 1 from products where site_id = $1 and id = any($2) order by id for update",
    )
    .bind(site_id)
    .bind(&products)
    .execute(&mut *conn)
    .await?;
    // Stock first: an item whose stock is refused keeps its price too.
    let with_stock: Vec<usize> = (0..items.len())
        .filter(|&i| matches!(outcomes[i], SkuOutcome::Updated) && items[i].stock.is_some())
        .collect();
    if !with_stock.is_empty() {
        let location_id = default_location(conn, site_id).await?;
        let writes: Vec<LevelWrite> = with_stock
            .iter()
            .map(|&i| {
                let (quantity, backorder) = match items[i].stock {
                    Some(Stock::Count(n)) => (Some(n), Backorder::No),
                    _ => (None, Backorder::Yes),
                };
                LevelWrite {
                    variant_id: found[&items[i].sku].variant_id.clone(),
                    location_id: location_id.clone(),
                    quantity,
                    policy: StockPolicy {
                        backorder: Some(backorder),
                        ..StockPolicy::default()
                    },
                }
            })
            .collect();
        let written = levels::write(conn, site_id, &writes, "mozello").await?;
        for (&i, result) in with_stock.iter().zip(written) {
            if let Err(refused) = result {
                outcomes[i] = SkuOutcome::Refused(refused);
            }
        }
    }
    // Prices in order, each from the price the items before it left.
    let mut changes: std::collections::BTreeMap<(String, Option<String>), PriceChange> =
        Default::default();
    for (i, item) in items.iter().enumerate() {
        if !matches!(outcomes[i], SkuOutcome::Updated)
            || (item.price.is_none() && item.sale_price.is_none())
        {
            continue;
        }
        let Some(row) = found.get_mut(&item.sku) else {
            continue;
        };
        let (price, compare_at) = if row.single {
            (row.product_price, row.product_compare_at)
        } else {
            (
                row.variant_price.unwrap_or(row.product_price),
                row.variant_compare_at.or(row.product_compare_at),
            )
        };
        let (regular, sale) = regular_and_sale(price, compare_at);
        let (price, compare_at) = priced(
            item.price.unwrap_or(regular),
            item.sale_price.unwrap_or(sale),
        );
        if row.single {
            (row.product_price, row.product_compare_at) = (price, compare_at);
        } else {
            (row.variant_price, row.variant_compare_at) = (Some(price), compare_at);
        }
        let variant_id = (!row.single).then(|| row.variant_id.clone());
        // The last change of a product's or variant's price is the one written.
        changes.insert(
            (row.product_id.clone(), variant_id.clone()),
            PriceChange {
                product_id: row.product_id.clone(),
                variant_id,
                price,
                compare_at_price: compare_at,
            },
        );
    }
    let changes: Vec<PriceChange> = changes.into_values().collect();
    set_prices(conn, site_id, &changes).await?;
    Ok(outcomes)
}
