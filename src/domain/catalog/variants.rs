//! Variants: every product has at least one and exactly one default.
//!
//! This module is the variant itself: its rows, rules and statements. Writes go through the product
//! ([`products::add_variant`](super::products::add_variant) and its siblings), which locks the product row
//! first (`for update`), so concurrent writes to one product's variants run one after another and the
//! default-variant rules hold without retries, and records `product.updated`. So the functions here that
//! write take the id of a product the caller has locked.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sqlx::{FromRow, PgConnection};

use super::InventoryStatus;
use crate::domain::caller::Caller;
use crate::domain::error::{Error, Result, Validator, on_unique};
use crate::domain::field::FieldKey;
use crate::domain::inventory::stock;
use crate::domain::patch;
use crate::ids;

/// A variant as clients read it. Serialised (in this shape) inside product event payloads.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Variant {
    pub id: String,
    pub product_id: String,
    /// Numeric id for dialects that expect integers (shared number space with products).
    pub number: i64,
    pub name: String,
    pub sku: Option<String>,
    /// Price in minor units; `None` means the product's price applies.
    pub price: Option<i64>,
    pub compare_at_price: Option<i64>,
    /// Option values in their defined order, e.g. `{"Size": "Small", "Color": "White"}`.
    pub options: Map<String, Value>,
    pub is_default: bool,
    pub position: i32,
    pub inventory_count: i32,
    /// Whether some enabled stock of it at an active location takes backorders (it sells past zero). Not
    /// part of events (they carry the product as the native API shows it).
    #[serde(skip)]
    pub backorders: bool,
    pub inventory_status: InventoryStatus,
    pub low_stock_threshold: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A variant as stored; also read from a product's read document, which leaves out the stock columns
/// (defaulted here, then laid over from the live row).
#[derive(Debug, Clone, Deserialize, FromRow)]
pub(crate) struct VariantRow {
    pub id: String,
    pub product_id: String,
    pub number: i64,
    pub name: String,
    pub sku: Option<String>,
    pub price: Option<i64>,
    pub compare_at_price: Option<i64>,
    #[sqlx(json)]
    pub options: Vec<OptionValue>,
    pub is_default: bool,
    pub position: i32,
    #[serde(default)]
    pub low_stock_threshold: i32,
    #[serde(default)]
    pub inventory_count: i32,
    #[serde(default)]
    pub backorders: bool,
    #[serde(default)]
    pub inventory_status: Option<String>,
    #[serde(deserialize_with = "crate::domain::timestamps::deserialize")]
    pub created_at: DateTime<Utc>,
    #[serde(default, deserialize_with = "crate::domain::timestamps::deserialize")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct OptionValue {
    pub(crate) name: String,
    pub(crate) value: String,
}

impl From<VariantRow> for Variant {
    fn from(r: VariantRow) -> Self {
        let inventory_status = r
            .inventory_status
            .as_deref()
            .and_then(InventoryStatus::parse)
            .unwrap_or_else(|| {
                InventoryStatus::derive(r.inventory_count, r.low_stock_threshold, r.backorders)
            });
        Variant {
            id: r.id,
            product_id: r.product_id,
            number: r.number,
            name: r.name,
            sku: r.sku,
            price: r.price,
            compare_at_price: r.compare_at_price,
            options: r
                .options
                .into_iter()
                .map(|o| (o.name, Value::String(o.value)))
                .collect(),
            is_default: r.is_default,
            position: r.position,
            inventory_count: r.inventory_count,
            backorders: r.backorders,
            inventory_status,
            low_stock_threshold: r.low_stock_threshold,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Creating a variant (also inline with a product), or replacing one.
#[derive(Debug, Clone, Default)]
pub struct NewVariant {
    /// Derived from the option values (`Large / Black`) when `None`.
    pub name: Option<String>,
    pub sku: Option<String>,
    /// Minor units; `None` inherits the product's price.
    pub price: Option<i64>,
    pub compare_at_price: Option<i64>,
    pub inventory_count: Option<i32>,
    /// Overrides the status derived from the inventory count.
    pub inventory_status: Option<InventoryStatus>,
    /// Option names and values as the client sent them: values must be strings (numbers are accepted
    /// and kept as text), which is checked with the other fields.
    pub options: Option<Map<String, Value>>,
    pub is_default: Option<bool>,
    pub low_stock_threshold: Option<i32>,
    pub position: Option<i32>,
}

/// A partial update: `None` leaves a field; `Some(None)` clears a nullable one.
#[derive(Debug, Default)]
pub struct VariantPatch {
    pub name: Option<String>,
    pub sku: Option<Option<String>>,
    pub price: Option<Option<i64>>,
    pub compare_at_price: Option<Option<i64>>,
    pub inventory_count: Option<i32>,
    /// `Some(None)` returns to the derived status.
    pub inventory_status: Option<Option<InventoryStatus>>,
    pub options: Option<Map<String, Value>>,
    pub is_default: Option<bool>,
    pub low_stock_threshold: Option<i32>,
    pub position: Option<i32>,
}

const UNIQUE_SKU: &str = "variants_sku";
pub(crate) const COLUMNS: &str = "id, product_id, number, name, sku, price, compare_at_price, options, is_default, \
    position, low_stock_threshold, inventory_count, backorders, inventory_status, created_at, updated_at";

/// The fields of a variant after defaults are applied, ready to validate and store.
pub(crate) struct Fields {
    pub(crate) name: String,
    pub(crate) sku: Option<String>,
    pub(crate) price: Option<i64>,
    pub(crate) compare_at_price: Option<i64>,
    pub(crate) inventory_count: i32,
    pub(crate) inventory_status: Option<InventoryStatus>,
    pub(crate) options: Vec<OptionValue>,
    pub(crate) low_stock_threshold: i32,
    pub(crate) position: i32,
}

/// Option values from a client's map; `field` is where the map is (`options`, `variants[0].options`), and
/// an option's own errors are keyed by its name.
fn options_from_map(
    v: &mut Validator,
    field: &FieldKey,
    map: Map<String, Value>,
) -> Vec<OptionValue> {
    v.check(map.len() <= 50, field.clone(), "at most 50 options");
    map.into_iter()
        .filter_map(|(name, value)| match value {
            Value::String(value) => {
                v.text(field.clone().data(&name), &value, 1, 255);
                v.text(field.clone(), &name, 1, 255);
                Some(OptionValue { name, value })
            }
            Value::Number(n) => Some(OptionValue {
                name,
                value: n.to_string(),
            }),
            _ => {
                v.error(field.clone().data(&name), "must be a string");
                None
            }
        })
        .collect()
}

/// `prefix` is where the variant is in the command (`variants[0]`), empty for a variant on its own.
fn validate(v: &mut Validator, prefix: &FieldKey, f: &Fields) {
    let at = |name: &str| prefix.clone().then(name);
    v.text(at("name"), &f.name, 1, 255);
    if let Some(sku) = &f.sku {
        v.text(at("sku"), sku, 1, 100);
        v.check(
            !sku.chars().any(char::is_control),
            at("sku"),
            "must not contain control characters",
        );
    }
    if let Some(price) = f.price {
        v.money(at("price"), price);
    }
    if let Some(price) = f.compare_at_price {
        v.money(at("compare_at_price"), price);
    }
    v.check(
        (0..=stock::MAX_QUANTITY).contains(&f.inventory_count),
        at("inventory_count"),
        format!("must be from 0 to {}", stock::MAX_QUANTITY),
    );
    v.check(
        f.low_stock_threshold >= 0,
        at("low_stock_threshold"),
        "must not be negative",
    );
    v.check(f.position >= 0, at("position"), "must not be negative");
}

fn default_name(options: &[OptionValue]) -> String {
    if options.is_empty() {
        "Default".to_string()
    } else {
        options
            .iter()
            .map(|o| o.value.as_str())
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

/// Validates an input; `prefix` is where the variant is in the command (e.g. `variants[0]`).
pub(crate) fn fields_from_input(v: &mut Validator, prefix: &FieldKey, input: NewVariant) -> Fields {
    let options = options_from_map(
        v,
        &prefix.clone().then("options"),
        input.options.unwrap_or_default(),
    );
    let f = Fields {
        name: input
            .name
            .map(|n| n.trim().to_string())
            .unwrap_or_else(|| default_name(&options)),
        sku: input.sku.map(|s| s.trim().to_string()),
        price: input.price,
        compare_at_price: input.compare_at_price,
        inventory_count: input.inventory_count.unwrap_or(0),
        inventory_status: input.inventory_status,
        options,
        low_stock_threshold: input.low_stock_threshold.unwrap_or(5),
        position: input.position.unwrap_or(0),
    };
    validate(v, prefix, &f);
    f
}

/// A product's variants, the default first. A product the caller may not see is not found.
pub async fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    product_id_or_slug: &str,
) -> Result<Vec<Variant>> {
    let rows = sqlx::query_as::<_, VariantRow>(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from variants v where site_id = $1 and product_id = \
         (select id from products where site_id = $1 and (id = $2 or slug = $2) and (not $3 or status = 'ACTIVE')) \
         order by is_default desc, position, created_at, id"
    )))
    .bind(caller.site_id())
    .bind(product_id_or_slug)
    .bind(!caller.sees_unpublished())
    .fetch_all(&mut *conn)
    .await?;
    // Every product has a variant, so none means no such product (for this caller).
    if rows.is_empty() {
        return Err(Error::NotFound("product"));
    }
    Ok(rows.into_iter().map(Variant::from).collect())
}

async fn get_row(
    conn: &mut PgConnection,
    site_id: &str,
    product_id: &str,
    id: &str,
) -> Result<VariantRow> {
    sqlx::query_as::<_, VariantRow>(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from variants where site_id = $1 and product_id = $2 and id = $3"
    )))
    .bind(site_id)
    .bind(product_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(Error::NotFound("variant"))
}

/// Creates variants of a product whose row the caller has locked. The first one marked default (or the
/// first one, when the product has no default yet) becomes the default.
pub(crate) async fn insert_many(
    conn: &mut PgConnection,
    site_id: &str,
    product_id: &str,
    inputs: Vec<NewVariant>,
    field_prefix: &str,
) -> Result<Vec<Variant>> {
    let mut v = Validator::new();
    let mut wants_default = Vec::new();
    let mut all = Vec::new();
    for (i, input) in inputs.into_iter().enumerate() {
        let prefix = match field_prefix {
            "" => FieldKey::default(),
            list => FieldKey::from(list).at(i),
        };
        wants_default.push(input.is_default == Some(true));
        all.push(fields_from_input(&mut v, &prefix, input));
    }
    v.finish()?;

    let has_default: bool =
        sqlx::query_scalar("select exists (select 1 from variants where site_id = $1 and product_id = $2 and is_default)")
            .bind(site_id)
            .bind(product_id)
            .fetch_one(&mut *conn)
            .await?;
    let default_index =
        wants_default
            .iter()
            .position(|d| *d)
            .or(if has_default { None } else { Some(0) });
    if default_index.is_some() && has_default {
        demote_default(conn, site_id, product_id).await?;
    }

    let mut created = Vec::with_capacity(all.len());
    for (i, f) in all.into_iter().enumerate() {
        let row = sqlx::query_as::<_, VariantRow>(sqlx::AssertSqlSafe(format!(
            "insert into variants (site_id, id, product_id, name, sku, price, compare_at_price, options, is_default, \
             position, low_stock_threshold, inventory_count, inventory_status) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) returning {COLUMNS}"
        )))
        .bind(site_id)
        .bind(ids::new_id("var"))
        .bind(product_id)
        .bind(&f.name)
        .bind(&f.sku)
        .bind(f.price)
        .bind(f.compare_at_price)
        .bind(sqlx::types::Json(&f.options))
        .bind(default_index == Some(i))
        .bind(f.position)
        .bind(f.low_stock_threshold)
        .bind(f.inventory_count)
        .bind(f.inventory_status.map(InventoryStatus::as_str))
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| sku_conflict(e, f.sku.as_deref()))?;
        stock::initialize(conn, site_id, product_id, &row.id, f.inventory_count).await?;
        created.push(Variant::from(row));
    }
    Ok(created)
}

fn sku_conflict(e: sqlx::Error, sku: Option<&str>) -> Error {
    on_unique(e, UNIQUE_SKU, || {
        format!(
            "a variant with SKU `{}` already exists",
            sku.unwrap_or_default()
        )
    })
}

async fn demote_default(conn: &mut PgConnection, site_id: &str, product_id: &str) -> Result<()> {
    sqlx::query("update variants set is_default = false where site_id = $1 and product_id = $2 and is_default")
        .bind(site_id)
        .bind(product_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Applies a partial update to a variant of a product whose row the caller has locked.
pub(crate) async fn update(
    conn: &mut PgConnection,
    site_id: &str,
    product_id: &str,
    id: &str,
    p: VariantPatch,
) -> Result<Variant> {
    let current = get_row(conn, site_id, product_id, id).await?;
    let mut v = Validator::new();
    let options = match p.options {
        Some(map) => options_from_map(&mut v, &FieldKey::from("options"), map),
        None => current.options.clone(),
    };
    // A new count without an explicit status goes back to the derived status.
    let inventory_status = match (p.inventory_status, p.inventory_count) {
        (Some(status), _) => status,
        (None, Some(_)) => None,
        (None, None) => current
            .inventory_status
            .as_deref()
            .and_then(InventoryStatus::parse),
    };
    let f = Fields {
        name: p.name.map(|n| n.trim().to_string()).unwrap_or(current.name),
        sku: patch::apply(current.sku, p.sku.map(|s| s.map(|s| s.trim().to_string()))),
        price: patch::apply(current.price, p.price),
        compare_at_price: patch::apply(current.compare_at_price, p.compare_at_price),
        inventory_count: p.inventory_count.unwrap_or(current.inventory_count),
        inventory_status,
        options,
        low_stock_threshold: p.low_stock_threshold.unwrap_or(current.low_stock_threshold),
        position: p.position.unwrap_or(current.position),
    };
    validate(&mut v, &FieldKey::default(), &f);
    v.rule(
        p.is_default != Some(false) || !current.is_default,
        "is_default",
        "a product always has one default variant: promote another variant instead",
    );
    v.finish()?;

    // Every stock write locks the stock level before the variant (checkout, adjustments, bulk levels); a
    // count written here does the same, or it and a concurrent adjustment would each wait for the other.
    if p.inventory_count.is_some() {
        sqlx::query(
            "select 1 from stock_levels s \
             join locations l on l.site_id = s.site_id and l.id = s.location_id and l.is_default \
             where s.site_id = $1 and s.variant_id = $2 for no key update of s",
        )
        .bind(site_id)
        .bind(&current.id)
        .execute(&mut *conn)
        .await?;
    }
    let make_default = p.is_default == Some(true) && !current.is_default;
    if make_default {
        demote_default(conn, site_id, product_id).await?;
    }
    let row = sqlx::query_as::<_, VariantRow>(sqlx::AssertSqlSafe(format!(
        "update variants set name = $4, sku = $5, price = $6, compare_at_price = $7, options = $8, \
         is_default = is_default or $9, position = $10, low_stock_threshold = $11, inventory_status = $12 \
         where site_id = $1 and product_id = $2 and id = $3 returning {COLUMNS}"
    )))
    .bind(site_id)
    .bind(product_id)
    .bind(&current.id)
    .bind(&f.name)
    .bind(&f.sku)
    .bind(f.price)
    .bind(f.compare_at_price)
    .bind(sqlx::types::Json(&f.options))
    .bind(make_default)
    .bind(f.position)
    .bind(f.low_stock_threshold)
    .bind(f.inventory_status.map(InventoryStatus::as_str))
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| sku_conflict(e, f.sku.as_deref()))?;
    // A count sets the default location's stock, through the ledger like every stock change.
    if let Some(count) = p.inventory_count {
        let adjustment = stock::Adjustment {
            variant_id: &row.id,
            location_id: None,
            operation: stock::Operation::Set,
            quantity: count,
            reason: None,
            source: "variant",
            key_id: None,
        };
        stock::adjust(conn, site_id, adjustment).await?;
        return Ok(Variant::from(
            get_row(conn, site_id, product_id, &row.id).await?,
        ));
    }
    Ok(Variant::from(row))
}

/// The patch that replaces every field of a variant with `input`'s (omitted fields return to their
/// defaults), once `input` is valid.
pub(crate) fn replacement(input: NewVariant) -> Result<VariantPatch> {
    let mut v = Validator::new();
    let f = fields_from_input(&mut v, &FieldKey::default(), input.clone());
    v.finish()?;
    Ok(VariantPatch {
        name: Some(f.name),
        sku: Some(f.sku),
        price: Some(f.price),
        compare_at_price: Some(f.compare_at_price),
        inventory_count: Some(f.inventory_count),
        inventory_status: Some(f.inventory_status),
        options: Some(input.options.unwrap_or_default()),
        is_default: input.is_default.filter(|d| *d),
        low_stock_threshold: Some(f.low_stock_threshold),
        position: Some(f.position),
    })
}

/// Deletes a variant of a product whose row the caller has locked. The last variant of a product cannot
/// go; when the default goes, the next oldest variant is promoted.
pub(crate) async fn delete(
    conn: &mut PgConnection,
    site_id: &str,
    product_id: &str,
    id: &str,
) -> Result<()> {
    let current = get_row(conn, site_id, product_id, id).await?;
    let count: i64 =
        sqlx::query_scalar("select count(*) from variants where site_id = $1 and product_id = $2")
            .bind(site_id)
            .bind(product_id)
            .fetch_one(&mut *conn)
            .await?;
    if count <= 1 {
        return Err(Error::conflict(
            "this is the product's only variant: every product has at least one (delete the product instead)",
        ));
    }
    sqlx::query("delete from variants where site_id = $1 and id = $2")
        .bind(site_id)
        .bind(&current.id)
        .execute(&mut *conn)
        .await?;
    if current.is_default {
        sqlx::query(
            "update variants set is_default = true where site_id = $1 and id = \
             (select id from variants where site_id = $1 and product_id = $2 order by created_at, id limit 1)",
        )
        .bind(site_id)
        .bind(product_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
