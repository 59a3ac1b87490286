//! Stock and prices as Mozello's Store API writes them: a stock is a count or "not tracked", a sale price is
//! the price paid (the regular one is kept as the compare-at price), and a batch by SKU changes both for a
//! thousand SKUs in a fixed number of statements.

use std::collections::{BTreeMap, HashMap};

use sqlx::PgConnection;

use crate::domain::catalog::products::{PriceChange, set_prices};
use crate::domain::error::{Error, Result};
use crate::domain::inventory::levels::{self, LevelWrite};
use crate::domain::inventory::stock::{Backorder, StockPolicy, default_location};

/// A product's or variant's stock as Mozello writes it: a count, or not tracked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stock {
    Count(i32),
    Untracked,
}

/// The level write of a Mozello stock at a location: a count sets the level and stops backorders; "not
/// tracked" lets the level take backorders.
fn stock_write(variant_id: &str, location_id: &str, stock: Stock) -> LevelWrite {
    let (quantity, backorder) = match stock {
        Stock::Count(n) => (Some(n), Backorder::No),
        Stock::Untracked => (None, Backorder::Yes),
    };
    LevelWrite {
        variant_id: variant_id.to_string(),
        location_id: location_id.to_string(),
        quantity,
        policy: StockPolicy {
            backorder: Some(backorder),
            ..StockPolicy::default()
        },
    }
}

/// Sets variants' stock at the site's default location in one ledger write (source `mozello`): a count
/// sets the level and stops backorders; "not tracked" lets the level take backorders. Neither can be
/// refused, so the writes apply together.
pub async fn set_stocks(
    conn: &mut PgConnection,
    site_id: &str,
    stocks: &[(String, Stock)],
) -> Result<()> {
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
        .map(|(variant_id, stock)| stock_write(variant_id, &location_id, *stock))
        .collect();
    for outcome in levels::write(conn, site_id, &writes, "mozello").await? {
        outcome?;
    }
    Ok(())
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
pub fn regular_and_sale(price: i64, compare_at: Option<i64>) -> (i64, Option<i64>) {
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
            .filter_map(|&i| {
                let variant_id = &found[&items[i].sku].variant_id;
                Some(stock_write(variant_id, &location_id, items[i].stock?))
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
    let mut changes: BTreeMap<(String, Option<String>), PriceChange> = Default::default();
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
