//! Stock levels and the one function that changes them.
//!
//! Decrements are conditional updates (`… where on_hand >= $q`), so two buyers of the last unit cannot
//! both win; a CHECK constraint on the table backs this up. The variant's `inventory_count` moves by the
//! same delta in the same transaction (an atomic increment, so concurrent changes at different locations
//! add up correctly).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, Postgres, QueryBuilder};

use crate::domain::catalog::InventoryStatus;
use crate::domain::error::{Error, Result, Validator};
use crate::domain::events;
use crate::domain::pagination::{self, Page, PageRequest};
use crate::ids;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Set,
    Increment,
    Decrement,
}

/// Whether a stock level may go below zero: `no`, `notify` (allowed, the customer is told) or `yes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backorder {
    No,
    Notify,
    Yes,
}

impl Backorder {
    pub fn as_str(self) -> &'static str {
        match self {
            Backorder::No => "no",
            Backorder::Notify => "notify",
            Backorder::Yes => "yes",
        }
    }
}

/// The `returning` expression telling whether an updated stock level counts towards its variant's total.
/// ($1 is the site and $3 the location in each of those statements.)
const COUNTS: &str =
    "not disabled and (select l.active from locations l where l.site_id = $1 and l.id = $3)";

/// Largest quantity one adjustment may move or set.
pub const MAX_QUANTITY: i32 = 1_000_000;

pub struct Adjustment<'a> {
    pub variant_id: &'a str,
    /// `None` means the site's default location.
    pub location_id: Option<&'a str>,
    pub operation: Operation,
    pub quantity: i32,
    pub reason: Option<&'a str>,
    /// What made the change (`api`, `variant`, `order`, ...), for the ledger.
    pub source: &'a str,
    pub key_id: Option<&'a str>,
}

/// The result of an adjustment: the location's new level and the variant's new total.
#[derive(Debug, Clone)]
pub struct StockChange {
    /// The variant id (the spec's inventory item id).
    pub id: String,
    pub variant_id: String,
    pub product_id: String,
    pub sku: Option<String>,
    pub location_id: String,
    /// On hand at this location after the change.
    pub on_hand: i32,
    pub delta: i32,
    /// The variant's total over enabled stock at active locations.
    pub inventory_count: i32,
    pub inventory_status: InventoryStatus,
}

/// The site's default location.
pub async fn default_location(conn: &mut PgConnection, site_id: &str) -> Result<String> {
    sqlx::query_scalar("select id from locations where site_id = $1 and is_default")
        .bind(site_id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::Internal(format!("site {site_id} has no default location")))
}

async fn resolve_location(
    conn: &mut PgConnection,
    site_id: &str,
    location: Option<&str>,
) -> Result<String> {
    match location {
        None => default_location(conn, site_id).await,
        Some(id_or_slug) => sqlx::query_scalar(
            "select id from locations where site_id = $1 and (id = $2 or slug = $2)",
        )
        .bind(site_id)
        .bind(id_or_slug)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::unprocessable("location_id", "no location with this id")),
    }
}

/// Applies one stock change and records it. The caller runs this inside its transaction.
pub async fn adjust(
    conn: &mut PgConnection,
    site_id: &str,
    adj: Adjustment<'_>,
) -> Result<StockChange> {
    let min = if adj.operation == Operation::Set {
        0
    } else {
        1
    };
    if !(0..=MAX_QUANTITY).contains(&adj.quantity) {
        return Err(Error::invalid(
            "quantity",
            format!("must be an integer from 0 to {MAX_QUANTITY}"),
        ));
    }
    if adj.quantity < min {
        // Zero is well-formed, but moves nothing for `increment` or `decrement`.
        return Err(Error::unprocessable(
            "quantity",
            format!("must be an integer from {min} to {MAX_QUANTITY}"),
        ));
    }
    let location_id = resolve_location(conn, site_id, adj.location_id).await?;
    let (product_id, sku): (String, Option<String>) =
        sqlx::query_as("select product_id, sku from variants where site_id = $1 and id = $2")
            .bind(site_id)
            .bind(adj.variant_id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(Error::NotFound("variant"))?;
    sqlx::query(
        "insert into stock_levels (site_id, variant_id, location_id) values ($1, $2, $3) on conflict do nothing",
    )
    .bind(site_id)
    .bind(adj.variant_id)
    .bind(&location_id)
    .execute(&mut *conn)
    .await?;

    // Each update also says whether the level counts towards the variant's total (enabled stock at an
    // active location), so no separate lookup is needed afterwards.
    let changed: Option<(i32, i32, bool)> = match adj.operation {
        Operation::Set => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "update stock_levels s set on_hand = $4 from \
               (select on_hand from stock_levels where site_id = $1 and variant_id = $2 and location_id = $3 for update) old \
             where s.site_id = $1 and s.variant_id = $2 and s.location_id = $3 \
             returning s.on_hand, s.on_hand - old.on_hand, {COUNTS}",
        ))),
        Operation::Increment => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "update stock_levels set on_hand = on_hand + $4 \
             where site_id = $1 and variant_id = $2 and location_id = $3 returning on_hand, $4, {COUNTS}",
        ))),
        Operation::Decrement => sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "update stock_levels set on_hand = on_hand - $4 \
             where site_id = $1 and variant_id = $2 and location_id = $3 and (on_hand >= $4 or backorder <> 'no') \
             returning on_hand, -$4, {COUNTS}",
        ))),
    }
    .bind(site_id)
    .bind(adj.variant_id)
    .bind(&location_id)
    .bind(adj.quantity)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((on_hand, delta, counts)) = changed else {
        let available: i32 = sqlx::query_scalar(
            "select on_hand from stock_levels where site_id = $1 and variant_id = $2 and location_id = $3",
        )
        .bind(site_id)
        .bind(adj.variant_id)
        .bind(&location_id)
        .fetch_one(&mut *conn)
        .await?;
        return Err(Error::Conflict {
            code: "OUT_OF_STOCK",
            message: format!(
                "Not enough stock for variant {}{}: {available} available, {} requested",
                adj.variant_id,
                sku.as_deref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default(),
                adj.quantity
            ),
        });
    };

    sqlx::query(
        "insert into inventory_ledger (site_id, id, product_id, variant_id, location_id, delta, on_hand_after, reason, source, key_id) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(site_id)
    .bind(ids::new_id("led"))
    .bind(&product_id)
    .bind(adj.variant_id)
    .bind(&location_id)
    .bind(delta)
    .bind(on_hand)
    .bind(adj.reason)
    .bind(adj.source)
    .bind(adj.key_id)
    .execute(&mut *conn)
    .await?;

    // Only enabled stock at an active location counts towards the variant's total.
    let counted_delta = if counts { delta } else { 0 };
    let (inventory_count, threshold, backorders, status_override): (
        i32,
        i32,
        bool,
        Option<String>,
    ) = sqlx::query_as(
        "update variants set inventory_count = inventory_count + case when $3 then $4 else 0 end \
         where site_id = $1 and id = $2 \
         returning inventory_count, low_stock_threshold, backorders, inventory_status",
    )
    .bind(site_id)
    .bind(adj.variant_id)
    .bind(counts)
    .bind(delta)
    .fetch_one(&mut *conn)
    .await?;
    let inventory_status = status_override
        .as_deref()
        .and_then(InventoryStatus::parse)
        .unwrap_or_else(|| InventoryStatus::derive(inventory_count, threshold, backorders));
    let change = StockChange {
        id: adj.variant_id.to_string(),
        variant_id: adj.variant_id.to_string(),
        product_id,
        sku,
        location_id,
        on_hand,
        delta,
        inventory_count,
        inventory_status,
    };
    if delta != 0 {
        let payload = serde_json::json!({
            "variantId": change.variant_id,
            "productId": change.product_id,
            "sku": change.sku,
            "locationId": change.location_id,
            "onHand": change.on_hand,
            "delta": change.delta,
            "inventoryCount": change.inventory_count,
            "inventoryStatus": change.inventory_status,
            "lowStockThreshold": threshold,
            "reason": adj.reason,
            "source": adj.source,
        });
        events::record(conn, site_id, "inventory.updated", &payload).await?;
        // The total before this change: the update above moved it by `counted_delta` atomically, so of
        // concurrent changes exactly one sees the crossing.
        if crosses_low(inventory_count - counted_delta, inventory_count, threshold) {
            events::record(conn, site_id, "inventory.low", &payload).await?;
        }
    }
    Ok(change)
}

/// Whether a total moving from `before` to `after` crosses from above the low-stock threshold to at or
/// below it.
pub(super) fn crosses_low(before: i32, after: i32, threshold: i32) -> bool {
    before > threshold && after <= threshold
}

/// Settings of one stock level; `None` leaves a setting as it is (`Some(None)` clears a price).
#[derive(Debug, Clone, Default)]
pub struct StockPolicy {
    pub backorder: Option<Backorder>,
    pub disabled: Option<bool>,
    /// The location's own regular price in minor units (for dialects that show per-location prices).
    pub regular_price: Option<Option<i64>>,
    pub sale_price: Option<Option<i64>>,
}

impl StockPolicy {
    fn is_empty(&self) -> bool {
        self.backorder.is_none()
            && self.disabled.is_none()
            && self.regular_price.is_none()
            && self.sale_price.is_none()
    }
}

/// Sets a stock level's backorder policy, disabled flag and location prices, then recounts the variant.
async fn set_policy(
    conn: &mut PgConnection,
    site_id: &str,
    variant_id: &str,
    location: Option<&str>,
    policy: &StockPolicy,
) -> Result<()> {
    if policy.is_empty() {
        return Ok(());
    }
    let mut v = Validator::new();
    for (field, price) in [
        ("regular_price", policy.regular_price),
        ("sale_price", policy.sale_price),
    ] {
        if let Some(Some(cents)) = price {
            v.money(field, cents);
        }
    }
    v.finish()?;
    let location_id = resolve_location(conn, site_id, location).await?;
    sqlx::query(
        "insert into stock_levels (site_id, variant_id, location_id, backorder, disabled, regular_price, sale_price) \
         values ($1, $2, $3, coalesce($4, 'no'), coalesce($5, false), $7, $9) \
         on conflict (site_id, variant_id, location_id) do update \
         set backorder = coalesce($4, stock_levels.backorder), disabled = coalesce($5, stock_levels.disabled), \
             regular_price = case when $6 then $7 else stock_levels.regular_price end, \
             sale_price = case when $8 then $9 else stock_levels.sale_price end",
    )
    .bind(site_id)
    .bind(variant_id)
    .bind(&location_id)
    .bind(policy.backorder.map(Backorder::as_str))
    .bind(policy.disabled)
    .bind(policy.regular_price.is_some())
    .bind(policy.regular_price.flatten())
    .bind(policy.sale_price.is_some())
    .bind(policy.sale_price.flatten())
    .execute(&mut *conn)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.constraint() == Some("stock_not_negative") => Error::Conflict {
            code: "CONFLICT",
            message: "stock at this location is negative: set a quantity of at least 0 before turning backorders off"
                .into(),
        },
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => Error::NotFound("variant"),
        _ => Error::Database(e),
    })?;
    recount(conn, site_id, &[variant_id.to_string()]).await
}

/// Recomputes variants' totals and backorder flags from their stock (after location or policy changes).
pub async fn recount(conn: &mut PgConnection, site_id: &str, variant_ids: &[String]) -> Result<()> {
    sqlx::query(
        "update variants v set inventory_count = t.total, backorders = t.backorders from ( \
           select v2.id, \
                  coalesce(sum(s.on_hand) filter (where not s.disabled and l.active), 0)::int as total, \
                  coalesce(bool_or(s.backorder <> 'no' and not s.disabled and l.active), false) as backorders \
           from variants v2 \
           left join stock_levels s on s.site_id = v2.site_id and s.variant_id = v2.id \
           left join locations l on l.site_id = s.site_id and l.id = s.location_id \
           where v2.site_id = $1 and v2.id = any($2) group by v2.id) t \
         where v.site_id = $1 and v.id = t.id",
    )
    .bind(site_id)
    .bind(variant_ids)
    .execute(conn)
    .await?;
    Ok(())
}

/// Creates a new variant's stock row at the default location (used when variants are created).
pub async fn initialize(
    conn: &mut PgConnection,
    site_id: &str,
    product_id: &str,
    variant_id: &str,
    on_hand: i32,
) -> Result<()> {
    let location_id = default_location(conn, site_id).await?;
    sqlx::query("insert into stock_levels (site_id, variant_id, location_id, on_hand) values ($1, $2, $3, $4)")
        .bind(site_id)
        .bind(variant_id)
        .bind(&location_id)
        .bind(on_hand)
        .execute(&mut *conn)
        .await?;
    if on_hand != 0 {
        sqlx::query(
            "insert into inventory_ledger (site_id, id, product_id, variant_id, location_id, delta, on_hand_after, source) \
             values ($1, $2, $3, $4, $5, $6, $6, 'variant')",
        )
        .bind(site_id)
        .bind(ids::new_id("led"))
        .bind(product_id)
        .bind(variant_id)
        .bind(&location_id)
        .bind(on_hand)
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// One variant's stock over all its locations.
#[derive(Debug, Clone)]
pub struct InventoryItem {
    /// The variant id.
    pub id: String,
    pub variant_id: String,
    pub product_id: String,
    /// Product and variant name, e.g. `Classic White T-Shirt — Small / White`.
    pub name: String,
    pub sku: Option<String>,
    pub inventory_count: i32,
    pub inventory_status: InventoryStatus,
    pub low_stock_threshold: i32,
    /// Per-location breakdown, when asked for.
    pub locations: Option<Vec<LocationStock>>,
}

/// A variant's stock level at one location.
#[derive(Debug, Clone, FromRow)]
pub struct LocationStock {
    pub variant_id: String,
    pub location_id: String,
    pub location_name: String,
    pub on_hand: i32,
    pub backorder: String,
    pub disabled: bool,
    pub active: bool,
    pub regular_price: Option<i64>,
    pub sale_price: Option<i64>,
}

#[derive(FromRow)]
struct ItemRow {
    id: String,
    product_id: String,
    name: String,
    sku: Option<String>,
    inventory_count: i32,
    low_stock_threshold: i32,
    backorders: bool,
    inventory_status: Option<String>,
}

pub async fn list(
    conn: &mut PgConnection,
    site_id: &str,
    sku: Option<&str>,
    page: &PageRequest,
    with_locations: bool,
) -> Result<Page<InventoryItem>> {
    let conditions = |qb: &mut QueryBuilder<Postgres>| {
        qb.push(" where v.site_id = ")
            .push_bind(site_id.to_string());
        if let Some(sku) = sku {
            qb.push(" and lower(v.sku) = lower(")
                .push_bind(sku.to_string())
                .push(")");
        }
    };
    let (rows, total) = pagination::fetch::<ItemRow>(
        &mut *conn,
        page,
        "select v.id, v.product_id, p.name || ' — ' || v.name as name, v.sku, v.inventory_count, \
                v.low_stock_threshold, v.backorders, v.inventory_status \
         from variants v join products p on p.site_id = v.site_id and p.id = v.product_id",
        " from variants v",
        "v.id",
        false,
        conditions,
    )
    .await?;
    let items: Vec<InventoryItem> = rows
        .into_iter()
        .map(|r| InventoryItem {
            inventory_status: r
                .inventory_status
                .as_deref()
                .and_then(InventoryStatus::parse)
                .unwrap_or_else(|| {
                    InventoryStatus::derive(r.inventory_count, r.low_stock_threshold, r.backorders)
                }),
            id: r.id.clone(),
            variant_id: r.id,
            product_id: r.product_id,
            name: r.name,
            sku: r.sku,
            inventory_count: r.inventory_count,
            low_stock_threshold: r.low_stock_threshold,
            locations: None,
        })
        .collect();
    let mut page = Page::from_rows(page, items, total, |i| &i.id);
    if with_locations {
        let ids: Vec<String> = page.items.iter().map(|i| i.id.clone()).collect();
        let stock: Vec<LocationStock> = sqlx::query_as(
            "select s.variant_id, s.location_id, l.name as location_name, s.on_hand, s.backorder, s.disabled, l.active, \
                    s.regular_price, s.sale_price \
             from stock_levels s join locations l on l.site_id = s.site_id and l.id = s.location_id \
             where s.site_id = $1 and s.variant_id = any($2) order by s.variant_id, l.is_default desc, l.id",
        )
        .bind(site_id)
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await?;
        let mut by_variant: HashMap<String, Vec<LocationStock>> = HashMap::new();
        for s in stock {
            by_variant.entry(s.variant_id.clone()).or_default().push(s);
        }
        for item in &mut page.items {
            item.locations = Some(by_variant.remove(&item.id).unwrap_or_default());
        }
    }
    Ok(page)
}

/// One ledger row.
#[derive(Debug, Clone, FromRow)]
pub struct LedgerEntry {
    pub id: String,
    pub product_id: String,
    pub variant_id: String,
    pub location_id: String,
    pub delta: i32,
    pub on_hand_after: i32,
    pub reason: Option<String>,
    pub source: String,
    /// The API key that made the change, when one did.
    pub key_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A product's stock history, oldest first (so cursor walks are stable while changes are added).
pub async fn history(
    conn: &mut PgConnection,
    site_id: &str,
    product_id_or_slug: &str,
    variant_id: Option<&str>,
    page: &PageRequest,
) -> Result<Page<LedgerEntry>> {
    let product_id: String =
        sqlx::query_scalar("select id from products where site_id = $1 and (id = $2 or slug = $2)")
            .bind(site_id)
            .bind(product_id_or_slug)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(Error::NotFound("product"))?;
    let conditions = |qb: &mut QueryBuilder<Postgres>| {
        qb.push(" where site_id = ")
            .push_bind(site_id.to_string())
            .push(" and product_id = ")
            .push_bind(product_id.clone());
        if let Some(variant_id) = variant_id {
            qb.push(" and variant_id = ")
                .push_bind(variant_id.to_string());
        }
    };
    let (rows, total) = pagination::fetch::<LedgerEntry>(
        &mut *conn,
        page,
        "select id, product_id, variant_id, location_id, delta, on_hand_after, reason, source, key_id, \
         created_at from inventory_ledger",
        " from inventory_ledger",
        "id",
        false,
        conditions,
    )
    .await?;
    Ok(Page::from_rows(page, rows, total, |e| &e.id))
}

/// The variant an inventory request targets: the given one (which must belong to the product) or the
/// product's default variant.
async fn target_variant(
    conn: &mut PgConnection,
    site_id: &str,
    product_id_or_slug: &str,
    variant_id: Option<&str>,
) -> Result<String> {
    let found: Option<String> = sqlx::query_scalar(
        "select v.id from variants v join products p on p.site_id = v.site_id and p.id = v.product_id \
         where v.site_id = $1 and (p.id = $2 or p.slug = $2) and (case when $3::text is null then v.is_default else v.id = $3 end)",
    )
    .bind(site_id)
    .bind(product_id_or_slug)
    .bind(variant_id)
    .fetch_optional(conn)
    .await?;
    match (found, variant_id) {
        (Some(id), _) => Ok(id),
        (None, Some(_)) => Err(Error::NotFound("variant")),
        (None, None) => Err(Error::NotFound("product")),
    }
}

/// Longest audit note an adjustment may carry.
const MAX_REASON_CHARS: usize = 500;

/// A stock change a key asks for on a product: which variant and location, the change, and settings of
/// that stock level to change first.
#[derive(Debug)]
pub struct StockRequest {
    /// The product's default variant when `None`.
    pub variant_id: Option<String>,
    /// The site's default location when `None`.
    pub location_id: Option<String>,
    pub operation: Operation,
    pub quantity: i32,
    /// An audit note for the ledger.
    pub reason: Option<String>,
    pub policy: StockPolicy,
}

/// Applies a key's stock request to a product: its policy first, then the change, recorded with the key.
/// The caller runs this inside its transaction.
pub async fn adjust_product(
    conn: &mut PgConnection,
    site_id: &str,
    product_id_or_slug: &str,
    key_id: &str,
    request: StockRequest,
) -> Result<StockChange> {
    if let Some(reason) = &request.reason {
        let mut v = Validator::new();
        v.text("reason", reason, 0, MAX_REASON_CHARS);
        v.finish()?;
    }
    let variant_id = target_variant(
        conn,
        site_id,
        product_id_or_slug,
        request.variant_id.as_deref(),
    )
    .await?;
    let location_id = request.location_id.as_deref();
    set_policy(conn, site_id, &variant_id, location_id, &request.policy).await?;
    let adjustment = Adjustment {
        variant_id: &variant_id,
        location_id,
        operation: request.operation,
        quantity: request.quantity,
        reason: request.reason.as_deref(),
        source: "api",
        key_id: Some(key_id),
    };
    adjust(conn, site_id, adjustment).await
}

/// Takes `quantity` of a variant for an order: from enabled stock at active locations, the default
/// location first, each step a conditional decrement. When stock runs short, a location that takes
/// backorders covers the rest; otherwise OUT_OF_STOCK and the caller's transaction rolls back.
pub(in crate::domain) async fn allocate(
    conn: &mut PgConnection,
    site_id: &str,
    variant_id: &str,
    quantity: i32,
    order_id: &str,
) -> Result<()> {
    let mut remaining = quantity;
    // A level read here may shrink before our decrement (another buyer); re-read and try again.
    for _round in 0..5 {
        let levels: Vec<(String, i32, String)> = sqlx::query_as(
            "select s.location_id, s.on_hand, s.backorder from stock_levels s \
             join locations l on l.site_id = s.site_id and l.id = s.location_id \
             where s.site_id = $1 and s.variant_id = $2 and not s.disabled and l.active \
             order by l.is_default desc, l.id",
        )
        .bind(site_id)
        .bind(variant_id)
        .fetch_all(&mut *conn)
        .await?;
        for (location_id, on_hand, _) in &levels {
            let take = remaining.min(*on_hand);
            if take <= 0 {
                continue;
            }
            match decrement_for_order(conn, site_id, variant_id, location_id, take, order_id).await
            {
                Ok(()) => remaining -= take,
                Err(Error::Conflict {
                    code: "OUT_OF_STOCK",
                    ..
                }) => {}
                Err(e) => return Err(e),
            }
            if remaining == 0 {
                return Ok(());
            }
        }
        if let Some((location_id, _, _)) = levels.iter().find(|(_, _, backorder)| backorder != "no")
        {
            return decrement_for_order(
                conn,
                site_id,
                variant_id,
                location_id,
                remaining,
                order_id,
            )
            .await;
        }
        let available: i64 = levels
            .iter()
            .map(|(_, on_hand, _)| i64::from((*on_hand).max(0)))
            .sum();
        if available == 0 {
            break;
        }
    }
    Err(Error::Conflict {
        code: "OUT_OF_STOCK",
        message: format!("Not enough stock for variant {variant_id}: {quantity} requested"),
    })
}

async fn decrement_for_order(
    conn: &mut PgConnection,
    site_id: &str,
    variant_id: &str,
    location_id: &str,
    quantity: i32,
    order_id: &str,
) -> Result<()> {
    let adjustment = Adjustment {
        variant_id,
        location_id: Some(location_id),
        operation: Operation::Decrement,
        quantity,
        reason: Some(order_id),
        source: "order",
        key_id: None,
    };
    adjust(conn, site_id, adjustment).await.map(|_| ())
}
