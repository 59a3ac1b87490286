//! Price lists: B2B prices per variant or per product, a fixed price or a percentage off the list price.
//! [`unit_price_sql`] is the one place the rule is written; carts price their lines with it.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, QueryBuilder};

use crate::domain::caller::Caller;
use crate::domain::error::{Error, Result, Validator};
use crate::domain::field::FieldKey;
use crate::domain::pagination::{self, Page, PageRequest};
use crate::domain::sites;
use crate::ids;

pub const ID_PREFIX: &str = "pl";
/// At most this many entries in one list.
pub const MAX_ENTRIES: usize = 1000;

/// What an entry does to the list price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adjustment {
    /// This price, in minor units.
    Fixed(i64),
    /// This whole percentage off (rounded half up to a minor unit).
    PercentOff(i32),
}

/// What an entry prices: one variant, or every variant of a product without its own entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Variant(String),
    Product(String),
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub target: Target,
    pub adjustment: Adjustment,
}

#[derive(Debug, Clone)]
pub struct PriceList {
    pub id: String,
    pub name: String,
    pub currency: String,
    pub entries: Vec<Entry>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct Row {
    id: String,
    name: String,
    currency: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct EntryRow {
    price_list_id: String,
    variant_id: Option<String>,
    product_id: Option<String>,
    fixed_price: Option<i64>,
    percent_off: Option<i32>,
}

impl EntryRow {
    fn into_entry(self) -> Entry {
        Entry {
            target: match (self.variant_id, self.product_id) {
                (Some(v), _) => Target::Variant(v),
                (None, p) => Target::Product(p.unwrap_or_default()),
            },
            adjustment: match (self.fixed_price, self.percent_off) {
                (Some(price), _) => Adjustment::Fixed(price),
                (None, p) => Adjustment::PercentOff(p.unwrap_or(0)),
            },
        }
    }
}

/// The SQL expression for a cart line's unit price: the price list's entry for the variant, else for its
/// product, applied to the list price `coalesce(v.price, p.price)`; the list price without an entry.
/// `price_list` is an SQL expression naming the price list (null for none); `ci`, `v` and `p` are the line,
/// its variant and its product. A percentage rounds half up: (price × (100 − percent) × 2 + 100) / 200.
pub fn unit_price_sql(price_list: &str) -> String {
    format!(
        "coalesce((select case when e.fixed_price is not null then e.fixed_price \
            else (coalesce(v.price, p.price) * (100 - e.percent_off) * 2 + 100) / 200 end \
          from price_list_entries e where e.site_id = ci.site_id and e.price_list_id = {price_list} \
            and (e.variant_id = ci.variant_id or e.product_id = ci.product_id) \
          order by e.variant_id nulls last limit 1), coalesce(v.price, p.price))"
    )
}

async fn entries_of(
    conn: &mut PgConnection,
    site_id: &str,
    ids: &[String],
) -> Result<Vec<(String, Entry)>> {
    let rows: Vec<EntryRow> = sqlx::query_as(
        "select price_list_id, variant_id, product_id, fixed_price, percent_off from price_list_entries \
         where site_id = $1 and price_list_id = any($2) order by price_list_id, id",
    )
    .bind(site_id)
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.price_list_id.clone(), r.into_entry()))
        .collect())
}

fn with_entries(rows: Vec<Row>, mut entries: Vec<(String, Entry)>) -> Vec<PriceList> {
    rows.into_iter()
        .map(|r| {
            let mine = entries
                .iter()
                .filter(|(id, _)| *id == r.id)
                .map(|(_, e)| e.clone())
                .collect();
            entries.retain(|(id, _)| *id != r.id);
            PriceList {
                id: r.id,
                name: r.name,
                currency: r.currency,
                entries: mine,
                created_at: r.created_at,
                updated_at: r.updated_at,
            }
        })
        .collect()
}

pub async fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    page: &PageRequest,
) -> Result<Page<PriceList>> {
    let site_id = caller.site_id().to_string();
    let (rows, total) = pagination::fetch::<Row>(
        conn,
        page,
        "select id, name, currency, created_at, updated_at from price_lists",
        " from price_lists",
        "id",
        false,
        |qb| {
            qb.push(" where site_id = ").push_bind(site_id.clone());
        },
    )
    .await?;
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let entries = entries_of(conn, caller.site_id(), &ids).await?;
    let lists = with_entries(rows, entries);
    Ok(Page::from_rows(page, lists, total, |l| &l.id))
}

pub async fn get(conn: &mut PgConnection, caller: &Caller, id: &str) -> Result<PriceList> {
    let row: Row = sqlx::query_as(
        "select id, name, currency, created_at, updated_at from price_lists where site_id = $1 and id = $2",
    )
    .bind(caller.site_id())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound("price list"))?;
    let entries = entries_of(conn, caller.site_id(), std::slice::from_ref(&row.id)).await?;
    Ok(with_entries(vec![row], entries).remove(0))
}

/// A price list as created or changed (`None`: unchanged; `entries` replaces them all).
#[derive(Debug, Default)]
pub struct PriceListInput {
    pub name: Option<String>,
    /// The site's currency when created without one.
    pub currency: Option<String>,
    pub entries: Option<Vec<Entry>>,
}

fn validate(v: &mut Validator, input: &PriceListInput) {
    if let Some(name) = &input.name {
        v.text("name", name.trim(), 1, 200);
    }
    if let Some(currency) = &input.currency {
        v.check(
            sites::is_currency(currency),
            "currency",
            "must be an ISO 4217 code such as EUR",
        );
    }
    if let Some(entries) = &input.entries {
        v.check(
            entries.len() <= MAX_ENTRIES,
            "entries",
            format!("at most {MAX_ENTRIES} entries"),
        );
        for (i, e) in entries.iter().enumerate() {
            let at = FieldKey::from("entries").at(i);
            match e.adjustment {
                Adjustment::Fixed(price) => v.money(at.clone().then("fixed_price"), price),
                Adjustment::PercentOff(p) => v.check(
                    (0..=100).contains(&p),
                    at.clone().then("percent_off"),
                    "must be an integer from 0 to 100",
                ),
            }
            v.rule(
                !entries[..i].iter().any(|o| o.target == e.target),
                at,
                "another entry prices the same variant or product",
            );
        }
    }
}

/// Writes a list's entries (replacing any), checking each target is the site's.
async fn write_entries(
    tx: &mut PgConnection,
    site_id: &str,
    list_id: &str,
    entries: &[Entry],
) -> Result<()> {
    sqlx::query("delete from price_list_entries where site_id = $1 and price_list_id = $2")
        .bind(site_id)
        .bind(list_id)
        .execute(&mut *tx)
        .await?;
    for (i, e) in entries.iter().enumerate() {
        let (table, id, field) = match &e.target {
            Target::Variant(id) => ("variants", id, "variant_id"),
            Target::Product(id) => ("products", id, "product_id"),
        };
        let found: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select exists (select 1 from {table} where site_id = $1 and id = $2)"
        )))
        .bind(site_id)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if !found {
            return Err(Error::unprocessable(
                FieldKey::from("entries").at(i).then(field),
                "no such item in this site",
            ));
        }
    }
    if entries.is_empty() {
        return Ok(());
    }
    let mut qb = QueryBuilder::new(
        "insert into price_list_entries (site_id, price_list_id, id, variant_id, product_id, fixed_price, percent_off) ",
    );
    qb.push_values(entries, |mut b, e| {
        let (variant, product) = match &e.target {
            Target::Variant(id) => (Some(id.clone()), None),
            Target::Product(id) => (None, Some(id.clone())),
        };
        let (fixed, percent) = match e.adjustment {
            Adjustment::Fixed(p) => (Some(p), None),
            Adjustment::PercentOff(p) => (None, Some(p)),
        };
        b.push_bind(site_id.to_string())
            .push_bind(list_id.to_string())
            .push_bind(ids::new_id("ple"))
            .push_bind(variant)
            .push_bind(product)
            .push_bind(fixed)
            .push_bind(percent);
    });
    qb.build().execute(&mut *tx).await?;
    Ok(())
}

pub async fn create(
    tx: &mut PgConnection,
    caller: &Caller,
    input: PriceListInput,
) -> Result<PriceList> {
    let mut v = Validator::new();
    v.check(input.name.is_some(), "name", "is required");
    validate(&mut v, &input);
    v.finish()?;
    let site_id = caller.site_id();
    let currency = match input.currency {
        Some(c) => c,
        None => sites::get(&mut *tx, site_id).await?.currency,
    };
    let id = ids::new_id(ID_PREFIX);
    sqlx::query("insert into price_lists (site_id, id, name, currency) values ($1, $2, $3, $4)")
        .bind(site_id)
        .bind(&id)
        .bind(input.name.unwrap_or_default().trim())
        .bind(&currency)
        .execute(&mut *tx)
        .await?;
    write_entries(tx, site_id, &id, &input.entries.unwrap_or_default()).await?;
    get(tx, caller, &id).await
}

pub async fn update(
    tx: &mut PgConnection,
    caller: &Caller,
    id: &str,
    input: PriceListInput,
) -> Result<PriceList> {
    let mut v = Validator::new();
    validate(&mut v, &input);
    v.finish()?;
    let site_id = caller.site_id();
    let updated = sqlx::query(
        "update price_lists set name = coalesce($3, name), currency = coalesce($4, currency), updated_at = now() \
         where site_id = $1 and id = $2",
    )
    .bind(site_id)
    .bind(id)
    .bind(input.name.map(|n| n.trim().to_string()))
    .bind(&input.currency)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(Error::NotFound("price list"));
    }
    if let Some(entries) = &input.entries {
        write_entries(tx, site_id, id, entries).await?;
    }
    get(tx, caller, id).await
}

/// Deletes a list; accounts that used it fall back to list prices.
pub async fn delete(conn: &mut PgConnection, caller: &Caller, id: &str) -> Result<()> {
    let deleted = sqlx::query("delete from price_lists where site_id = $1 and id = $2")
        .bind(caller.site_id())
        .bind(id)
        .execute(conn)
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(Error::NotFound("price list"));
    }
    Ok(())
}

/// Lays the B2B prices of the caller's signed-in customer over products they read: when the customer is a
/// contact of an ACTIVE account with a price list in the site's currency, each product's price and each
/// variant's (which then no longer inherits) is the list's, by the same rule as carts.
pub async fn apply_to_products(
    conn: &mut PgConnection,
    caller: &Caller,
    products: &mut [crate::domain::catalog::Product],
) -> Result<()> {
    let Some(customer) = caller.customer_id.as_deref() else {
        return Ok(());
    };
    if products.is_empty() {
        return Ok(());
    }
    let site_id = caller.site_id();
    let list: Option<String> = sqlx::query_scalar(
        "select ba.price_list_id from b2b_contacts bc \
         join b2b_accounts ba on ba.site_id = bc.site_id and ba.id = bc.account_id \
         join price_lists bl on bl.site_id = ba.site_id and bl.id = ba.price_list_id \
         join sites s on s.id = bl.site_id and s.currency = bl.currency \
         where bc.site_id = $1 and bc.customer_id = $2 and ba.status = 'ACTIVE'",
    )
    .bind(site_id)
    .bind(customer)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(list) = list else {
        return Ok(());
    };
    let ids: Vec<String> = products.iter().map(|p| p.id.clone()).collect();
    // One row per variant, and one per product (variant '') for the product's own price.
    let prices: Vec<(String, String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select ci.product_id, ci.variant_id, {} from ( \
           select site_id, product_id, id as variant_id, price from variants where site_id = $1 and product_id = any($2) \
           union all select site_id, id, '', null::bigint from products where site_id = $1 and id = any($2)) ci \
         join products p on p.site_id = ci.site_id and p.id = ci.product_id \
         cross join lateral (select ci.price) v",
        unit_price_sql("$3")
    )))
    .bind(site_id)
    .bind(&ids)
    .bind(&list)
    .fetch_all(&mut *conn)
    .await?;
    for (product_id, variant_id, price) in prices {
        let Some(product) = products.iter_mut().find(|p| p.id == product_id) else {
            continue;
        };
        if variant_id.is_empty() {
            product.price = price;
        } else if let Some(variant) = product
            .variants
            .iter_mut()
            .flatten()
            .find(|v| v.id == variant_id)
        {
            variant.price = Some(price);
        }
    }
    Ok(())
}
