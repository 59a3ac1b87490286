//! Whole-level writes in bulk: integrations (Mulopim) that send a stock level's quantity and settings for
//! hundreds of (variant, location) pairs at once. One call costs a fixed number of statements, whatever
//! the number of writes: the levels are locked and read in one query, each write is checked against the
//! level as the writes before it left it, and the results go back as one update, one ledger insert, one
//! update of the variants' totals and one insert of events. A refused write changes nothing; the others
//! still apply.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};
use sqlx::{FromRow, PgConnection};

use super::stock::{Backorder, MAX_QUANTITY, StockPolicy, crosses_low};
use crate::domain::catalog::InventoryStatus;
use crate::domain::error::{Error, Result, Validator};
use crate::domain::events;
use crate::ids;

/// One write: a level's on-hand quantity (when given) and settings.
#[derive(Debug, Clone)]
pub struct LevelWrite {
    pub variant_id: String,
    pub location_id: String,
    pub quantity: Option<i32>,
    pub policy: StockPolicy,
}

/// A level as locked and read, then as the writes leave it.
#[derive(Debug, Clone, FromRow)]
struct Level {
    variant_id: String,
    location_id: String,
    product_id: String,
    sku: Option<String>,
    on_hand: i32,
    backorder: String,
    disabled: bool,
    regular_price: Option<i64>,
    sale_price: Option<i64>,
    /// Whether the location is active (fixed for the call).
    active: bool,
}

impl Level {
    /// What this level adds to its variant's total.
    fn counted(&self) -> i64 {
        if self.active && !self.disabled {
            i64::from(self.on_hand)
        } else {
            0
        }
    }
}

/// A checked write's shape, before it meets the stored level.
fn check(write: &LevelWrite) -> Result<()> {
    let mut v = Validator::new();
    if let Some(quantity) = write.quantity
        && !(0..=MAX_QUANTITY).contains(&quantity)
    {
        v.error(
            "quantity",
            format!("must be an integer from 0 to {MAX_QUANTITY}"),
        );
    }
    for (field, price) in [
        ("regular_price", write.policy.regular_price),
        ("sale_price", write.policy.sale_price),
    ] {
        if let Some(Some(cents)) = price {
            v.money(field, cents);
        }
    }
    v.finish()
}

/// Applies `write` to `level`, or says why it cannot be (the level is then untouched).
fn apply(level: &mut Level, write: &LevelWrite) -> Result<()> {
    let policy = &write.policy;
    let on_hand = write.quantity.unwrap_or(level.on_hand);
    let backorder = policy
        .backorder
        .map(|b| b.as_str().to_string())
        .unwrap_or_else(|| level.backorder.clone());
    if on_hand < 0 && backorder == Backorder::No.as_str() {
        return Err(Error::Conflict {
            code: "CONFLICT",
            message: "stock at this location is negative: set a quantity of at least 0 before turning backorders off"
                .into(),
        });
    }
    level.on_hand = on_hand;
    level.backorder = backorder;
    level.disabled = policy.disabled.unwrap_or(level.disabled);
    level.regular_price = policy.regular_price.unwrap_or(level.regular_price);
    level.sale_price = policy.sale_price.unwrap_or(level.sale_price);
    Ok(())
}

/// Writes every level in the caller's transaction, recorded with `source` and no key. The variants and
/// locations must be the site's (the caller resolved them). Returns each write's outcome in order: a
/// refusal (`Err`) changed nothing, the rest applied as if one after another. The ledger gets a row per
/// write that changed a quantity; `inventory.updated` fires once per level whose quantity changed, and
/// `inventory.low` once per variant whose total crossed its threshold.
pub async fn write(
    conn: &mut PgConnection,
    site_id: &str,
    writes: &[LevelWrite],
    source: &str,
) -> Result<Vec<std::result::Result<(), Error>>> {
    let mut outcomes: Vec<std::result::Result<(), Error>> = writes.iter().map(check).collect();
    // Every lock below is taken in this one order, so calls over the same levels wait for each other
    // instead of deadlocking.
    let pairs: BTreeSet<(&str, &str)> = writes
        .iter()
        .zip(&outcomes)
        .filter(|(_, ok)| ok.is_ok())
        .map(|(w, _)| (w.variant_id.as_str(), w.location_id.as_str()))
        .collect();
    if pairs.is_empty() {
        return Ok(outcomes);
    }
    let (variant_ids, location_ids): (Vec<&str>, Vec<&str>) = pairs.iter().copied().unzip();
    // A level that does not exist yet is an empty one; create them so that one locking read sees all.
    sqlx::query(
        "insert into stock_levels (site_id, variant_id, location_id) \
         select $1, u.v, u.l from unnest($2::text[], $3::text[]) with ordinality as u(v, l, n) \
         order by u.n on conflict do nothing",
    )
    .bind(site_id)
    .bind(&variant_ids)
    .bind(&location_ids)
    .execute(&mut *conn)
    .await?;
    let read: Vec<Level> = sqlx::query_as(
        "select s.variant_id, s.location_id, v.product_id, v.sku, s.on_hand, s.backorder, s.disabled, \
                s.regular_price, s.sale_price, l.active \
         from stock_levels s \
         join variants v on v.site_id = s.site_id and v.id = s.variant_id \
         join locations l on l.site_id = s.site_id and l.id = s.location_id \
         where s.site_id = $1 and (s.variant_id, s.location_id) in \
               (select u.v, u.l from unnest($2::text[], $3::text[]) as u(v, l)) \
         order by s.variant_id, s.location_id for no key update of s",
    )
    .bind(site_id)
    .bind(&variant_ids)
    .bind(&location_ids)
    .fetch_all(&mut *conn)
    .await?;
    let before: BTreeMap<(String, String), Level> = read
        .into_iter()
        .map(|l| ((l.variant_id.clone(), l.location_id.clone()), l))
        .collect();
    let mut after = before.clone();

    let mut ledger = Ledger::default();
    for (write, outcome) in writes.iter().zip(outcomes.iter_mut()) {
        if outcome.is_err() {
            continue;
        }
        let key = (write.variant_id.clone(), write.location_id.clone());
        let Some(level) = after.get_mut(&key) else {
            *outcome = Err(Error::NotFound("variant"));
            continue;
        };
        let was = level.on_hand;
        *outcome = apply(level, write);
        // A write that moved nothing leaves no ledger row (integrations resend whole levels).
        if let (Ok(()), Some(quantity)) = (&*outcome, write.quantity)
            && quantity != was
        {
            ledger.push(level, quantity - was, source);
        }
    }

    let changed: Vec<&Level> = after
        .iter()
        .filter(|(key, level)| {
            let old = &before[*key];
            (
                old.on_hand,
                &old.backorder,
                old.disabled,
                old.regular_price,
                old.sale_price,
            ) != (
                level.on_hand,
                &level.backorder,
                level.disabled,
                level.regular_price,
                level.sale_price,
            )
        })
        .map(|(_, level)| level)
        .collect();
    store_levels(conn, site_id, &changed).await?;
    ledger.insert(conn, site_id).await?;
    let mut moved: HashMap<&str, i64> = HashMap::new();
    for level in &changed {
        let old = &before[&(level.variant_id.clone(), level.location_id.clone())];
        *moved.entry(level.variant_id.as_str()).or_default() += level.counted() - old.counted();
    }
    let totals = update_totals(conn, site_id, &moved).await?;
    record_events(conn, site_id, &before, &changed, &moved, &totals, source).await?;
    Ok(outcomes)
}

async fn store_levels(conn: &mut PgConnection, site_id: &str, levels: &[&Level]) -> Result<()> {
    if levels.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&Level) -> String| levels.iter().map(|l| f(l)).collect::<Vec<_>>();
    sqlx::query(
        "update stock_levels s set on_hand = u.on_hand, backorder = u.backorder, disabled = u.disabled, \
                regular_price = u.regular_price, sale_price = u.sale_price \
         from unnest($2::text[], $3::text[], $4::int[], $5::text[], $6::bool[], $7::bigint[], $8::bigint[]) \
              as u(variant_id, location_id, on_hand, backorder, disabled, regular_price, sale_price) \
         where s.site_id = $1 and s.variant_id = u.variant_id and s.location_id = u.location_id",
    )
    .bind(site_id)
    .bind(column(|l| l.variant_id.clone()))
    .bind(column(|l| l.location_id.clone()))
    .bind(levels.iter().map(|l| l.on_hand).collect::<Vec<_>>())
    .bind(column(|l| l.backorder.clone()))
    .bind(levels.iter().map(|l| l.disabled).collect::<Vec<_>>())
    .bind(levels.iter().map(|l| l.regular_price).collect::<Vec<_>>())
    .bind(levels.iter().map(|l| l.sale_price).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(())
}

/// Ledger rows gathered over a call, inserted together.
#[derive(Default)]
struct Ledger {
    product_ids: Vec<String>,
    variant_ids: Vec<String>,
    location_ids: Vec<String>,
    deltas: Vec<i32>,
    on_hand_after: Vec<i32>,
    source: String,
}

impl Ledger {
    fn push(&mut self, level: &Level, delta: i32, source: &str) {
        self.product_ids.push(level.product_id.clone());
        self.variant_ids.push(level.variant_id.clone());
        self.location_ids.push(level.location_id.clone());
        self.deltas.push(delta);
        self.on_hand_after.push(level.on_hand);
        self.source = source.to_string();
    }

    async fn insert(self, conn: &mut PgConnection, site_id: &str) -> Result<()> {
        if self.deltas.is_empty() {
            return Ok(());
        }
        // Ids made here keep the ledger's order the order of the writes.
        let ids: Vec<String> = self.deltas.iter().map(|_| ids::new_id("led")).collect();
        sqlx::query(
            "insert into inventory_ledger (site_id, id, product_id, variant_id, location_id, delta, on_hand_after, source) \
             select $1, u.id, u.product_id, u.variant_id, u.location_id, u.delta, u.on_hand_after, $8 \
             from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[]) \
                  as u(id, product_id, variant_id, location_id, delta, on_hand_after)",
        )
        .bind(site_id)
        .bind(ids)
        .bind(self.product_ids)
        .bind(self.variant_ids)
        .bind(self.location_ids)
        .bind(self.deltas)
        .bind(self.on_hand_after)
        .bind(self.source)
        .execute(conn)
        .await?;
        Ok(())
    }
}

/// A variant's total after a call, with what its stock status depends on.
#[derive(FromRow)]
struct Total {
    id: String,
    inventory_count: i32,
    low_stock_threshold: i32,
    backorders: bool,
    inventory_status: Option<String>,
}

impl Total {
    fn status(&self) -> InventoryStatus {
        self.inventory_status
            .as_deref()
            .and_then(InventoryStatus::parse)
            .unwrap_or_else(|| {
                InventoryStatus::derive(
                    self.inventory_count,
                    self.low_stock_threshold,
                    self.backorders,
                )
            })
    }
}

/// Moves each variant's total by what its levels added or took away (an atomic increment, so changes
/// made concurrently at other locations add up) and recomputes whether it takes backorders.
async fn update_totals(
    conn: &mut PgConnection,
    site_id: &str,
    moved: &HashMap<&str, i64>,
) -> Result<HashMap<String, Total>> {
    if moved.is_empty() {
        return Ok(HashMap::new());
    }
    let mut ids = Vec::with_capacity(moved.len());
    let mut deltas = Vec::with_capacity(moved.len());
    for (id, delta) in moved {
        ids.push(id.to_string());
        deltas.push(i32::try_from(*delta).map_err(|_| {
            Error::unprocessable("quantity", "moves a variant's total out of range")
        })?);
    }
    // Locked in one order first: two calls over different levels of the same variants would otherwise
    // update those variants in whatever order their plans chose, and could deadlock.
    sqlx::query(
        "select 1 from variants where site_id = $1 and id = any($2) order by id for no key update",
    )
    .bind(site_id)
    .bind(&ids)
    .execute(&mut *conn)
    .await?;
    let rows: Vec<Total> = sqlx::query_as(
        "update variants v set inventory_count = v.inventory_count + u.delta, \
                backorders = exists (select 1 from stock_levels s join locations l \
                                     on l.site_id = s.site_id and l.id = s.location_id \
                                     where s.site_id = v.site_id and s.variant_id = v.id \
                                       and s.backorder <> 'no' and not s.disabled and l.active) \
         from unnest($2::text[], $3::int[]) as u(id, delta) \
         where v.site_id = $1 and v.id = u.id \
         returning v.id, v.inventory_count, v.low_stock_threshold, v.backorders, v.inventory_status",
    )
    .bind(site_id)
    .bind(ids)
    .bind(deltas)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|t| (t.id.clone(), t)).collect())
}

/// `inventory.updated` per level whose quantity changed and `inventory.low` per variant that crossed its
/// threshold, with the payload the native adjustments send.
async fn record_events(
    conn: &mut PgConnection,
    site_id: &str,
    before: &BTreeMap<(String, String), Level>,
    changed: &[&Level],
    moved: &HashMap<&str, i64>,
    totals: &HashMap<String, Total>,
    source: &str,
) -> Result<()> {
    let mut kinds: Vec<&str> = Vec::new();
    let mut payloads: Vec<Value> = Vec::new();
    let mut low_sent: Vec<&str> = Vec::new();
    for level in changed {
        let old = &before[&(level.variant_id.clone(), level.location_id.clone())];
        let delta = level.on_hand - old.on_hand;
        let Some(total) = totals.get(&level.variant_id) else {
            continue;
        };
        if delta == 0 {
            continue;
        }
        let payload = json!({
            "variantId": level.variant_id,
            "productId": level.product_id,
            "sku": level.sku,
            "locationId": level.location_id,
            "onHand": level.on_hand,
            "delta": delta,
            "inventoryCount": total.inventory_count,
            "inventoryStatus": total.status(),
            "lowStockThreshold": total.low_stock_threshold,
            "reason": Value::Null,
            "source": source,
        });
        let counted = moved.get(level.variant_id.as_str()).copied().unwrap_or(0);
        let was = i64::from(total.inventory_count) - counted;
        let crossed = i32::try_from(was)
            .is_ok_and(|was| crosses_low(was, total.inventory_count, total.low_stock_threshold));
        kinds.push("inventory.updated");
        payloads.push(payload.clone());
        if crossed && !low_sent.contains(&level.variant_id.as_str()) {
            low_sent.push(&level.variant_id);
            kinds.push("inventory.low");
            payloads.push(payload);
        }
    }
    events::record_many(conn, site_id, &kinds, &payloads).await
}
