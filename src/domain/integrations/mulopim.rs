//! Mulopim: a WordPress plugin's multi-location inventory API, used by POS, ERP and WMS systems to write a
//! site's stock, prices, backorders and availability per location. Products and variations are named by
//! their WooCommerce-style numbers (`product_id`: a variant's number, or a simple product's) or SKU,
//! locations by number or slug. Every change goes through the stock ledger with source `mulopim`.

use chrono::{DateTime, Utc};
use std::collections::HashMap;

use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::crypto::{self, ServerKey};
use crate::domain::caller::Caller;
use crate::domain::error::{Error, Result};
use crate::domain::inventory::levels::{self, LevelWrite};
use crate::domain::inventory::stock::{Backorder, StockPolicy};
use crate::domain::pagination::{self, PageRequest, Total};

/// Items one bulk sync may carry unless the site's settings say otherwise.
pub const MAX_ITEMS: usize = 1000;

/// A site's credentials, shown once when issued.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub api_key: String,
    pub webhook_secret: String,
    pub created_at: DateTime<Utc>,
}

/// Issues a new API key and webhook secret for the caller's site, replacing any earlier ones.
pub async fn rotate(
    conn: &mut PgConnection,
    key: &ServerKey,
    caller: &Caller,
) -> Result<Credentials> {
    let api_key = format!("mlp_{}", crypto::random_token(48));
    let webhook_secret = format!("mlpw_{}", crypto::random_token(48));
    let created_at: DateTime<Utc> = sqlx::query_scalar(
        "insert into mulopim_credentials (site_id, api_key_digest, webhook_secret_digest) values ($1, $2, $3) \
         on conflict (site_id) do update set api_key_digest = excluded.api_key_digest, \
         webhook_secret_digest = excluded.webhook_secret_digest, created_at = now() returning created_at",
    )
    .bind(caller.site_id())
    .bind(key.key_digest(&api_key).to_vec())
    .bind(key.key_digest(&webhook_secret).to_vec())
    .fetch_one(conn)
    .await?;
    Ok(Credentials {
        api_key,
        webhook_secret,
        created_at,
    })
}

/// The site whose API key this is (found by its keyed digest).
pub async fn site_of_api_key(
    conn: &mut PgConnection,
    key: &ServerKey,
    api_key: &str,
) -> Result<Option<String>> {
    if api_key.is_empty() || api_key.len() > 200 {
        return Ok(None);
    }
    Ok(
        sqlx::query_scalar("select site_id from mulopim_credentials where api_key_digest = $1")
            .bind(key.key_digest(api_key).to_vec())
            .fetch_optional(conn)
            .await?,
    )
}

/// The site whose webhook secret this is.
pub async fn site_of_webhook_secret(
    conn: &mut PgConnection,
    key: &ServerKey,
    secret: &str,
) -> Result<Option<String>> {
    if secret.is_empty() || secret.len() > 200 {
        return Ok(None);
    }
    Ok(sqlx::query_scalar(
        "select site_id from mulopim_credentials where webhook_secret_digest = $1",
    )
    .bind(key.key_digest(secret).to_vec())
    .fetch_optional(conn)
    .await?)
}

/// One inventory write, as the plugin's fields carry it (already parsed by the dialect).
#[derive(Debug, Clone, Default)]
pub struct Item {
    /// A variant's number, or a product's when it has a single variant (wins over `sku`).
    pub product_id: Option<i64>,
    pub sku: Option<String>,
    /// A location's number (wins over `location_slug`).
    pub location_id: Option<i64>,
    pub location_slug: Option<String>,
    pub stock: Option<i32>,
    pub policy: StockPolicy,
}

/// Why an item was not applied, with the plugin's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemError(pub String);

impl ItemError {
    fn of(message: &str) -> Self {
        ItemError(message.to_string())
    }
}

/// What an applied item named.
#[derive(Debug, Clone)]
pub struct Applied {
    pub product_id: i64,
    pub location_id: i64,
    pub sku: Option<String>,
}

/// A location as the plugin lists it.
#[derive(Debug, Clone)]
pub struct Location {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
}

pub async fn locations(conn: &mut PgConnection, site_id: &str) -> Result<Vec<Location>> {
    let rows: Vec<(i64, String, String, Option<String>)> = sqlx::query_as(
        "select number, slug, name, description from locations where site_id = $1 and active order by number",
    )
    .bind(site_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, slug, name, description)| Location {
            id,
            slug,
            name,
            description,
        })
        .collect())
}

/// A variant as an item can name it: (variant id, the number the plugin knows it by, its SKU).
type NamedVariant = (String, i64, Option<String>);

/// The variants the items name, in two queries whatever their number: by number (a variant's, or a
/// product's when it has a single variant) and by SKU.
async fn variants_named(
    conn: &mut PgConnection,
    site_id: &str,
    items: &[&Item],
) -> Result<(HashMap<i64, NamedVariant>, HashMap<String, NamedVariant>)> {
    let numbers: Vec<i64> = items.iter().filter_map(|i| i.product_id).collect();
    let skus: Vec<String> = items
        .iter()
        .filter(|i| i.product_id.is_none())
        .filter_map(|i| i.sku.as_deref().map(str::trim))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let by_number: Vec<(i64, String, i64, Option<String>)> = sqlx::query_as(
        "select v.number, v.id, v.number, v.sku from variants v where v.site_id = $1 and v.number = any($2) \
         union all \
         select p.number, v.id, p.number, v.sku from products p \
         join variants v on v.site_id = p.site_id and v.product_id = p.id \
         where p.site_id = $1 and p.number = any($2) \
           and (select count(*) from variants w where w.site_id = p.site_id and w.product_id = p.id) = 1",
    )
    .bind(site_id)
    .bind(&numbers)
    .fetch_all(&mut *conn)
    .await?;
    let by_sku: Vec<(String, String, i64, Option<String>)> = sqlx::query_as(
        "select sku, id, number, sku from variants where site_id = $1 and sku = any($2)",
    )
    .bind(site_id)
    .bind(&skus)
    .fetch_all(&mut *conn)
    .await?;
    Ok((
        by_number
            .into_iter()
            .map(|(n, id, number, sku)| (n, (id, number, sku)))
            .collect(),
        by_sku
            .into_iter()
            .map(|(key, id, number, sku)| (key, (id, number, sku)))
            .collect(),
    ))
}

/// The site's locations by number and by slug: (location id, its number).
async fn locations_named(
    conn: &mut PgConnection,
    site_id: &str,
) -> Result<(HashMap<i64, (String, i64)>, HashMap<String, (String, i64)>)> {
    let rows: Vec<(String, i64, String)> =
        sqlx::query_as("select id, number, slug from locations where site_id = $1")
            .bind(site_id)
            .fetch_all(conn)
            .await?;
    let by_number = rows
        .iter()
        .map(|(id, number, _)| (*number, (id.clone(), *number)))
        .collect();
    let by_slug = rows
        .into_iter()
        .map(|(id, number, slug)| (slug, (id, number)))
        .collect();
    Ok((by_number, by_slug))
}

/// Applies every item in the caller's transaction, in a fixed number of statements: the items' variants
/// and locations are found together, then written together through the stock ledger. An item that is
/// refused (`Err`, with the plugin's message) changed nothing; the others apply in order.
pub async fn apply_all(
    conn: &mut PgConnection,
    site_id: &str,
    items: &[std::result::Result<Item, ItemError>],
) -> Result<Vec<std::result::Result<Applied, ItemError>>> {
    let parsed: Vec<&Item> = items.iter().filter_map(|i| i.as_ref().ok()).collect();
    let (by_number, by_sku) = variants_named(conn, site_id, &parsed).await?;
    let (locations_by_number, locations_by_slug) = locations_named(conn, site_id).await?;
    let resolve = |item: &Item| -> std::result::Result<(NamedVariant, (String, i64)), ItemError> {
        let variant = match (item.product_id, item.sku.as_deref().map(str::trim)) {
            (Some(number), _) => by_number.get(&number),
            (None, Some(sku)) if !sku.is_empty() => by_sku.get(sku),
            _ => return Err(ItemError::of("Product ID or SKU is required.")),
        }
        .ok_or_else(|| ItemError::of("Product not found."))?;
        let location = match (
            item.location_id,
            item.location_slug.as_deref().map(str::trim),
        ) {
            (Some(number), _) => locations_by_number.get(&number),
            (None, Some(slug)) if !slug.is_empty() => locations_by_slug.get(slug),
            _ => return Err(ItemError::of("Location ID or slug is required.")),
        }
        .ok_or_else(|| ItemError::of("Location not found."))?;
        Ok((variant.clone(), location.clone()))
    };
    let resolved: Vec<_> = items
        .iter()
        .map(|item| {
            item.clone()
                .and_then(|item| resolve(&item).map(|r| (item, r)))
        })
        .collect();
    let writes: Vec<LevelWrite> = resolved
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(
            |(item, ((variant_id, _, _), (location_id, _)))| LevelWrite {
                variant_id: variant_id.clone(),
                location_id: location_id.clone(),
                quantity: item.stock,
                policy: item.policy.clone(),
            },
        )
        .collect();
    let mut written = levels::write(conn, site_id, &writes, "mulopim")
        .await?
        .into_iter();
    let mut outcomes = Vec::with_capacity(items.len());
    for r in resolved {
        outcomes.push(match r {
            Err(e) => Err(e),
            Ok((_, ((_, product_id, sku), (_, location_id)))) => match written.next() {
                Some(Ok(())) => Ok(Applied {
                    product_id,
                    location_id,
                    sku,
                }),
                Some(Err(refused)) => Err(ItemError(refusal(&refused))),
                None => Err(ItemError::of("Update failed.")),
            },
        });
    }
    Ok(outcomes)
}

/// Applies one item in the caller's transaction.
pub async fn apply(
    conn: &mut PgConnection,
    site_id: &str,
    item: Item,
) -> Result<std::result::Result<Applied, ItemError>> {
    let mut outcomes = apply_all(conn, site_id, &[Ok(item)]).await?;
    Ok(outcomes
        .pop()
        .unwrap_or_else(|| Err(ItemError::of("Update failed."))))
}

/// A domain refusal as the plugin would word it.
fn refusal(error: &Error) -> String {
    match error {
        Error::NotFound(_) => "Product not found.".into(),
        Error::Conflict { message, .. } => message.clone(),
        Error::Validation(fields) | Error::Unprocessable(fields) | Error::OutOfRange(fields) => {
            fields
                .first()
                .map(|f| f.message.clone())
                .unwrap_or_else(|| "Invalid data.".into())
        }
        _ => "Update failed.".into(),
    }
}

/// How a bulk sync went: per-item errors as `Item <n>: <message>` (n from 1).
#[derive(Debug, Clone, Default)]
pub struct BulkResult {
    pub succeeded: usize,
    pub failed: usize,
    pub errors: Vec<String>,
}

/// Applies every item in the caller's transaction. `Ok(None)` when more items failed than `rollback_after`
/// allows: the caller then rolls everything back.
pub async fn bulk_sync(
    conn: &mut PgConnection,
    site_id: &str,
    items: &[std::result::Result<Item, ItemError>],
    rollback_after: usize,
) -> Result<Option<BulkResult>> {
    let mut result = BulkResult::default();
    for (i, outcome) in apply_all(conn, site_id, items)
        .await?
        .into_iter()
        .enumerate()
    {
        match outcome {
            Ok(_) => result.succeeded += 1,
            Err(ItemError(message)) => {
                result.failed += 1;
                result.errors.push(format!("Item {}: {message}", i + 1));
            }
        }
    }
    Ok((result.failed <= rollback_after).then_some(result))
}

/// The plugin's `backorders` values.
pub fn backorder(value: &str) -> Option<Backorder> {
    match value {
        "no" => Some(Backorder::No),
        "notify" => Some(Backorder::Notify),
        "yes" => Some(Backorder::Yes),
        _ => None,
    }
}

/// Export pages hold at most this many products.
pub const MAX_PER_PAGE: i64 = 500;

/// One export row: a simple product's or a variation's stock at one location. Prices are decimal strings
/// in major units and `stock` the on-hand count as text, `""` when the location has no value (as the
/// plugin stores them).
#[derive(Debug, Clone)]
pub struct ExportRow {
    pub product_id: i64,
    pub sku: String,
    pub product_name: String,
    pub location_id: i64,
    pub location_slug: String,
    pub location_name: String,
    pub stock: String,
    pub regular_price: String,
    pub sale_price: String,
    pub backorders: String,
    pub disabled: bool,
}

/// `1999` → `"19.99"`.
fn decimal(minor: Option<i64>) -> String {
    minor
        .map(crate::domain::money::format_decimal)
        .unwrap_or_default()
}

#[derive(sqlx::FromRow)]
struct ExportDbRow {
    product_id: i64,
    sku: Option<String>,
    product_name: String,
    location_id: i64,
    location_slug: String,
    location_name: String,
    on_hand: Option<i32>,
    regular_price: Option<i64>,
    sale_price: Option<i64>,
    backorder: Option<String>,
    disabled: Option<bool>,
}

/// A page of the inventory export.
#[derive(Debug)]
pub struct ExportPage {
    pub rows: Vec<ExportRow>,
    /// The active products in all: exact up to [`pagination::EXACT_TOTAL_UP_TO`], the planner's estimate past
    /// it. Integrations walk the export page by page, and counting a large catalog on every page cost more
    /// than the page (a full count of a million products per page).
    pub total: Total,
    /// Whether a page follows (exact either way: integrations stop when it is false).
    pub has_more: bool,
}

/// A page of active products (by number) as rows per variation and active location (one location when
/// `location` names one), the number of products in all, and whether a page follows. `None` when
/// `location` names no location.
pub async fn export(
    conn: &mut PgConnection,
    site_id: &str,
    location: Option<i64>,
    page: i64,
    per_page: i64,
) -> Result<Option<ExportPage>> {
    if let Some(number) = location {
        let known: bool = sqlx::query_scalar(
            "select exists (select 1 from locations where site_id = $1 and number = $2 and active)",
        )
        .bind(site_id)
        .bind(number)
        .fetch_one(&mut *conn)
        .await?;
        if !known {
            return Ok(None);
        }
    }
    let rows: Vec<ExportDbRow> = sqlx::query_as(
        "with page as (select id, number, name from products where site_id = $1 and status = 'ACTIVE' \
                       order by number limit $3 offset $4), \
              counted as (select p.*, (select count(*) from variants w where w.site_id = $1 and w.product_id = p.id) as n \
                          from page p) \
         select case when p.n = 1 then p.number else v.number end as product_id, v.sku, \
                case when p.n = 1 then p.name else p.name || ' - ' || v.name end as product_name, \
                l.number as location_id, l.slug as location_slug, l.name as location_name, \
                s.on_hand, s.regular_price, s.sale_price, s.backorder, s.disabled \
         from counted p join variants v on v.site_id = $1 and v.product_id = p.id \
         join locations l on l.site_id = $1 and l.active and ($2::bigint is null or l.number = $2) \
         left join stock_levels s on s.site_id = $1 and s.variant_id = v.id and s.location_id = l.id \
         order by p.number, v.position, v.number, l.number",
    )
    .bind(site_id)
    .bind(location)
    .bind(per_page)
    .bind((page - 1) * per_page)
    .fetch_all(&mut *conn)
    .await?;
    let active = |qb: &mut QueryBuilder<Postgres>| {
        qb.push(" from products where site_id = ")
            .push_bind(site_id.to_string())
            .push(" and status = 'ACTIVE'");
    };
    let window = PageRequest::Offset {
        page,
        limit: per_page,
    };
    let total = pagination::total(&mut *conn, &window, "number", active).await?;
    let has_more = if total.is_estimate {
        let mut next = QueryBuilder::new("select exists (select 1");
        active(&mut next);
        next.push(" order by number offset ")
            .push(page.saturating_mul(per_page))
            .push(")");
        // Its text names the page: not worth keeping prepared.
        next.build_query_scalar()
            .persistent(false)
            .fetch_one(&mut *conn)
            .await?
    } else {
        page.saturating_mul(per_page) < total.count
    };
    let rows = rows
        .into_iter()
        .map(|r| ExportRow {
            product_id: r.product_id,
            sku: r.sku.unwrap_or_default(),
            product_name: r.product_name,
            location_id: r.location_id,
            location_slug: r.location_slug,
            location_name: r.location_name,
            stock: r.on_hand.map(|n| n.to_string()).unwrap_or_default(),
            regular_price: decimal(r.regular_price),
            sale_price: decimal(r.sale_price),
            backorders: r.backorder.unwrap_or_else(|| "no".into()),
            disabled: r.disabled.unwrap_or(false),
        })
        .collect();
    Ok(Some(ExportPage {
        rows,
        total,
        has_more,
    }))
}

/// A product as the plugin's product list shows it.
#[derive(Debug, Clone)]
pub struct ProductRow {
    pub id: i64,
    pub sku: String,
    pub name: String,
    /// `simple` (one variant) or `variable`.
    pub kind: &'static str,
}

/// A page of active products by number, optionally whose name or a variant's SKU contains `search`.
pub async fn products(
    conn: &mut PgConnection,
    site_id: &str,
    search: Option<&str>,
    page: i64,
    per_page: i64,
) -> Result<Vec<ProductRow>> {
    let pattern = search
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| format!("%{}%", crate::domain::escape_like(s)));
    let rows: Vec<(i64, String, i64, Option<String>)> = sqlx::query_as(
        "select p.number, p.name, (select count(*) from variants v where v.site_id = p.site_id and v.product_id = p.id), \
                (select v.sku from variants v where v.site_id = p.site_id and v.product_id = p.id and v.is_default) \
         from products p where p.site_id = $1 and p.status = 'ACTIVE' \
           and ($2::text is null or p.name ilike $2 or exists (select 1 from variants v where v.site_id = p.site_id \
                and v.product_id = p.id and v.sku ilike $2)) \
         order by p.number limit $3 offset $4",
    )
    .bind(site_id)
    .bind(pattern)
    .bind(per_page)
    .bind((page - 1) * per_page)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, variants, sku)| ProductRow {
            id,
            name,
            kind: if variants == 1 { "simple" } else { "variable" },
            sku: if variants == 1 {
                sku.unwrap_or_default()
            } else {
                String::new()
            },
        })
        .collect())
}

/// A site's Mulopim settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Record each incoming webhook request (time, body, result) for the operator.
    pub webhook_log: bool,
    pub max_items: usize,
    /// More failures than this roll a bulk sync back.
    pub rollback_after: usize,
}

/// A change of settings; `None` leaves a setting alone (`rollback_threshold: Some(None)`: half of max).
#[derive(Debug, Default)]
pub struct SettingsPatch {
    pub webhook_log: Option<bool>,
    pub max_items: Option<i32>,
    pub rollback_threshold: Option<Option<i32>>,
}

pub async fn settings(conn: &mut PgConnection, site_id: &str) -> Result<Settings> {
    let row: Option<(bool, i32, Option<i32>)> = sqlx::query_as(
        "select webhook_log, max_items, rollback_threshold from mulopim_settings where site_id = $1",
    )
    .bind(site_id)
    .fetch_optional(conn)
    .await?;
    let (webhook_log, max_items, threshold) = row.unwrap_or((false, MAX_ITEMS as i32, None));
    let max_items = usize::try_from(max_items).unwrap_or(MAX_ITEMS);
    Ok(Settings {
        webhook_log,
        max_items,
        rollback_after: threshold
            .and_then(|t| usize::try_from(t).ok())
            .unwrap_or(max_items / 2),
    })
}

pub async fn update_settings(
    conn: &mut PgConnection,
    caller: &Caller,
    patch: SettingsPatch,
) -> Result<Settings> {
    let mut v = crate::domain::error::Validator::new();
    if let Some(max) = patch.max_items {
        v.check(
            (1..=10_000).contains(&max),
            "max_items",
            "must be from 1 to 10000",
        );
    }
    if let Some(Some(threshold)) = patch.rollback_threshold {
        v.check(threshold >= 0, "rollback_threshold", "must be 0 or more");
    }
    v.finish()?;
    sqlx::query(
        "insert into mulopim_settings (site_id, webhook_log, max_items, rollback_threshold)          values ($1, coalesce($2, false), coalesce($3, 1000), $5)          on conflict (site_id) do update set webhook_log = coalesce($2, mulopim_settings.webhook_log),          max_items = coalesce($3, mulopim_settings.max_items),          rollback_threshold = case when $4 then $5 else mulopim_settings.rollback_threshold end",
    )
    .bind(caller.site_id())
    .bind(patch.webhook_log)
    .bind(patch.max_items)
    .bind(patch.rollback_threshold.is_some())
    .bind(patch.rollback_threshold.flatten())
    .execute(&mut *conn)
    .await?;
    settings(conn, caller.site_id()).await
}

/// Records an incoming webhook request when the site logs them.
pub async fn log_webhook(
    conn: &mut PgConnection,
    site_id: &str,
    body: &str,
    status: u16,
    result: &str,
) -> Result<()> {
    sqlx::query(
        "insert into mulopim_webhook_log (site_id, body, status, result)          select $1, left($2, 65536), $3, $4 where exists            (select 1 from mulopim_settings where site_id = $1 and webhook_log)",
    )
    .bind(site_id)
    .bind(body)
    .bind(i32::from(status))
    .bind(result)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebhookLogEntry {
    pub received_at: DateTime<Utc>,
    pub body: String,
    pub status: i32,
    pub result: String,
}

/// The latest logged webhook requests, newest first.
pub async fn webhook_log(conn: &mut PgConnection, caller: &Caller) -> Result<Vec<WebhookLogEntry>> {
    Ok(sqlx::query_as(
        "select received_at, body, status, result from mulopim_webhook_log where site_id = $1          order by id desc limit 100",
    )
    .bind(caller.site_id())
    .fetch_all(conn)
    .await?)
}

/// An application password, shown once: WordPress's form, six groups of four.
#[derive(Debug, Clone)]
pub struct AppPassword {
    pub username: String,
    pub password: String,
    pub created_at: DateTime<Utc>,
}

/// A password as compared: without the spaces WordPress shows in it.
fn bare(password: &str) -> String {
    password.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Creates an application password for `username` (a second one for the same name is a 409).
pub async fn create_app_password(
    conn: &mut PgConnection,
    key: &ServerKey,
    caller: &Caller,
    username: &str,
) -> Result<AppPassword> {
    let username = username.trim();
    let mut v = crate::domain::error::Validator::new();
    v.text("username", username, 1, 60);
    v.check(!username.contains(':'), "username", "must not contain `:`");
    v.finish()?;
    let raw = crypto::random_token(24);
    let shown = raw
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let created_at: DateTime<Utc> = sqlx::query_scalar(
        "insert into mulopim_app_passwords (site_id, username, password_digest) values ($1, $2, $3) returning created_at",
    )
    .bind(caller.site_id())
    .bind(username)
    .bind(key.key_digest(&raw).to_vec())
    .fetch_one(conn)
    .await
    .map_err(|e| {
        crate::domain::error::on_unique(e, "mulopim_app_passwords_pkey", || {
            format!("{username} already has an application password: revoke it first")
        })
    })?;
    Ok(AppPassword {
        username: username.to_string(),
        password: shown,
        created_at,
    })
}

/// The site's application passwords (names and dates only).
pub async fn app_passwords(
    conn: &mut PgConnection,
    caller: &Caller,
) -> Result<Vec<(String, DateTime<Utc>, Option<DateTime<Utc>>)>> {
    Ok(sqlx::query_as(
        "select username, created_at, last_used_at from mulopim_app_passwords where site_id = $1 order by username",
    )
    .bind(caller.site_id())
    .fetch_all(conn)
    .await?)
}

pub async fn revoke_app_password(
    conn: &mut PgConnection,
    caller: &Caller,
    username: &str,
) -> Result<()> {
    let done =
        sqlx::query("delete from mulopim_app_passwords where site_id = $1 and username = $2")
            .bind(caller.site_id())
            .bind(username)
            .execute(conn)
            .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound("application password"));
    }
    Ok(())
}

/// The site of an HTTP Basic `username:password` pair, when the password is that user's.
pub async fn site_of_app_password(
    conn: &mut PgConnection,
    key: &ServerKey,
    username: &str,
    password: &str,
) -> Result<Option<String>> {
    let password = bare(password);
    if password.is_empty() || password.len() > 200 {
        return Ok(None);
    }
    let found: Option<(String, String)> = sqlx::query_as(
        "update mulopim_app_passwords set last_used_at = now() where password_digest = $1          returning site_id, username",
    )
    .bind(key.key_digest(&password).to_vec())
    .fetch_optional(conn)
    .await?;
    Ok(found
        .filter(|(_, user)| crypto::constant_time_eq(user.as_bytes(), username.as_bytes()))
        .map(|(site, _)| site))
}
