//! Customer profiles: create, read (with totals derived from orders), list, update, delete.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::{FromRow, PgConnection, Postgres, QueryBuilder};

use super::{Address, Email, addresses};
use crate::domain::error::{Error, Result, Validator, on_unique};
use crate::domain::pagination::{self, Page, PageRequest};
use crate::domain::patch;
use crate::ids;

pub const ID_PREFIX: &str = "cust";

/// A customer, with totals derived from orders. Its JSON is the `customer.created` webhook payload, so
/// changing it changes what subscribers receive.
#[derive(Debug, Clone, Serialize, FromRow)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub group_id: Option<String>,
    pub accepts_marketing: bool,
    /// Free-form preferences (a JSON object).
    #[sqlx(json)]
    pub preferences: Map<String, Value>,
    /// An internal note, for staff.
    pub note: Option<String>,
    /// Whether the customer can log in (has set a password). The hash itself is never loaded.
    pub has_password: bool,
    /// Orders of this customer that were not cancelled or refunded.
    pub total_orders: i64,
    /// The sum of those orders' totals, in minor units (cents).
    pub total_spent: i64,
    /// The customer's addresses, the default first (on single reads only). Never in event payloads.
    #[sqlx(skip)]
    #[serde(skip)]
    pub addresses: Option<Vec<Address>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Creating a customer, or replacing one with PUT.
#[derive(Debug)]
pub struct CustomerInput {
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    /// A customer group id (`cgrp_…`).
    pub group_id: Option<String>,
    /// Defaults to `false`.
    pub accepts_marketing: Option<bool>,
    pub preferences: Option<Map<String, Value>>,
    pub note: Option<String>,
}

/// A partial change: `None` leaves a field, `Some(None)` clears a clearable one.
#[derive(Debug, Default)]
pub struct CustomerPatch {
    pub email: Option<String>,
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    /// `Some(None)` takes the customer out of its group.
    pub group_id: Option<Option<String>>,
    pub accepts_marketing: Option<bool>,
    /// Replaces the whole preferences object.
    pub preferences: Option<Map<String, Value>>,
    pub note: Option<Option<String>>,
}

#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    /// Case-insensitive substring of the email, first name, last name or full name.
    pub search: Option<String>,
    pub group_id: Option<String>,
}

pub(crate) const UNIQUE_EMAIL: &str = "customers_email";
const GROUP_FK: &str = "customers_site_id_group_id_fkey";
const MAX_PREFERENCES_BYTES: usize = 16 * 1024;

/// The customer's columns, `c` being a `customers` row; needs [`TOTALS`] in the `from` clause.
const COLUMNS: &str = "c.id, c.email, c.first_name, c.last_name, c.phone, c.group_id, c.accepts_marketing, \
    c.preferences, c.note, (c.password_hash is not null) as has_password, t.total_orders, t.total_spent, \
    c.created_at, c.updated_at";

/// Totals derived from orders, never stored: orders that were not cancelled or refunded.
const TOTALS: &str = "cross join lateral (select count(*) as total_orders, \
    coalesce(sum(o.total), 0)::bigint as total_spent from orders o \
    where o.site_id = c.site_id and o.customer_id = c.id and o.status not in ('CANCELLED', 'REFUNDED')) t";

/// Every field of a customer after a create, replace or patch, checked together.
struct Fields {
    email: String,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    group_id: Option<String>,
    accepts_marketing: bool,
    preferences: Map<String, Value>,
    note: Option<String>,
}

impl Fields {
    fn from_input(input: CustomerInput) -> Fields {
        Fields {
            email: input.email,
            first_name: super::trimmed(input.first_name),
            last_name: super::trimmed(input.last_name),
            phone: super::trimmed(input.phone),
            group_id: input.group_id,
            accepts_marketing: input.accepts_marketing.unwrap_or(false),
            preferences: input.preferences.unwrap_or_default(),
            note: input.note,
        }
    }

    /// Checks every field, reporting all failures at once; the email comes back trimmed.
    fn validate(mut self) -> Result<Fields> {
        let mut v = Validator::new();
        match Email::parse(&self.email) {
            Ok(email) => self.email = email.as_str().to_string(),
            Err(message) => v.error("email", message),
        }
        check_names(
            &mut v,
            self.first_name.as_deref(),
            self.last_name.as_deref(),
        );
        super::check_phone(&mut v, "phone", self.phone.as_deref());
        if let Some(group_id) = &self.group_id {
            v.check(
                ids::is_valid(super::groups::ID_PREFIX, group_id),
                "group_id",
                "must be a customer group id (`cgrp_…`)",
            );
        }
        v.check(
            serde_json::to_string(&self.preferences).map_or(0, |s| s.len())
                <= MAX_PREFERENCES_BYTES,
            "preferences",
            "must be at most 16 KiB of JSON",
        );
        // PostgreSQL keeps JSON numbers exactly, in decimal: one near the edge of a double (1.8e308) came
        // back as digits that no longer parse as one, and the customer could not be read again.
        v.rule(
            self.preferences.values().all(safe_numbers),
            "preferences",
            "numbers must be between -9007199254740991 and 9007199254740991",
        );
        if let Some(note) = &self.note {
            v.text("note", note, 0, 10_000);
        }
        v.finish()?;
        Ok(self)
    }
}

/// Whether every number in `value` is within the integers a double holds exactly (±2^53 − 1), which every
/// JSON reader reads back as it was written.
fn safe_numbers(value: &Value) -> bool {
    const SAFE: f64 = 9_007_199_254_740_991.0;
    match value {
        Value::Number(n) => n.as_f64().is_some_and(|x| x.abs() <= SAFE),
        Value::Array(items) => items.iter().all(safe_numbers),
        Value::Object(map) => map.values().all(safe_numbers),
        _ => true,
    }
}

pub(crate) fn check_names(v: &mut Validator, first_name: Option<&str>, last_name: Option<&str>) {
    super::check_text(v, "first_name", first_name, 100);
    super::check_text(v, "last_name", last_name, 100);
}

fn write_error(err: sqlx::Error, email: &str) -> Error {
    match on_unique(err, UNIQUE_EMAIL, || {
        format!("a customer with email `{email}` already exists")
    }) {
        Error::Database(err) => {
            super::on_foreign_key(err, GROUP_FK, "group_id", "no customer group with this id")
        }
        other => other,
    }
}

pub async fn list(
    conn: &mut PgConnection,
    site_id: &str,
    filter: &CustomerFilter,
    page: &PageRequest,
) -> Result<Page<Customer>> {
    let search = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| format!("%{}%", crate::domain::escape_like(s)));
    let conditions = |qb: &mut QueryBuilder<Postgres>| {
        qb.push(" where c.site_id = ")
            .push_bind(site_id.to_string());
        if let Some(group_id) = &filter.group_id {
            qb.push(" and c.group_id = ").push_bind(group_id.clone());
        }
        if let Some(search) = &search {
            qb.push(" and (c.email ilike ").push_bind(search.clone());
            qb.push(" or c.first_name ilike ").push_bind(search.clone());
            qb.push(" or c.last_name ilike ").push_bind(search.clone());
            qb.push(" or concat_ws(' ', c.first_name, c.last_name) ilike ")
                .push_bind(search.clone())
                .push(")");
        }
    };
    let select = format!("select {COLUMNS} from customers c {TOTALS}");
    let (rows, total) = pagination::fetch::<Customer>(
        conn,
        page,
        &select,
        " from customers c",
        "c.id",
        false,
        conditions,
    )
    .await?;
    Ok(Page::from_rows(page, rows, total, |c| &c.id))
}

/// A customer without its addresses.
pub async fn find(conn: &mut PgConnection, site_id: &str, id: &str) -> Result<Customer> {
    sqlx::query_as::<_, Customer>(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from customers c {TOTALS} where c.site_id = $1 and c.id = $2"
    )))
    .bind(site_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound("customer"))
}

/// A customer with its addresses.
pub async fn get(conn: &mut PgConnection, site_id: &str, id: &str) -> Result<Customer> {
    let mut customer = find(&mut *conn, site_id, id).await?;
    customer.addresses = Some(addresses::list(conn, site_id, &customer.id).await?);
    Ok(customer)
}

/// Creates a customer and records `customer.created`. The caller runs this in a transaction.
pub async fn create(
    conn: &mut PgConnection,
    site_id: &str,
    input: CustomerInput,
) -> Result<Customer> {
    let f = Fields::from_input(input).validate()?;
    let customer = sqlx::query_as::<_, Customer>(sqlx::AssertSqlSafe(format!(
        "with c as (insert into customers (site_id, id, email, first_name, last_name, phone, group_id, \
         accepts_marketing, preferences, note) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning *) \
         select {COLUMNS} from c {TOTALS}"
    )))
    .bind(site_id)
    .bind(ids::new_id(ID_PREFIX))
    .bind(&f.email)
    .bind(&f.first_name)
    .bind(&f.last_name)
    .bind(&f.phone)
    .bind(&f.group_id)
    .bind(f.accepts_marketing)
    .bind(sqlx::types::Json(&f.preferences))
    .bind(&f.note)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| write_error(e, &f.email))?;
    crate::domain::events::record(conn, site_id, "customer.created", &customer).await?;
    Ok(customer)
}

/// Creates a customer who can log in (registration); `password_hash` is an argon2 PHC string.
pub(crate) async fn create_with_password(
    conn: &mut PgConnection,
    site_id: &str,
    email: &Email,
    first_name: Option<String>,
    last_name: Option<String>,
    password_hash: &str,
) -> Result<String> {
    sqlx::query_scalar(
        "insert into customers (site_id, id, email, first_name, last_name, password_hash) \
         values ($1, $2, $3, $4, $5, $6) returning id",
    )
    .bind(site_id)
    .bind(ids::new_id(ID_PREFIX))
    .bind(email.as_str())
    .bind(&first_name)
    .bind(&last_name)
    .bind(password_hash)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| write_error(e, email.as_str()))
}

/// Locks a customer row for a read-modify-write; 404 when it is not on this site.
pub(crate) async fn lock(conn: &mut PgConnection, site_id: &str, id: &str) -> Result<()> {
    sqlx::query_scalar::<_, String>(
        "select id from customers where site_id = $1 and id = $2 for update",
    )
    .bind(site_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .map(|_| ())
    .ok_or(Error::NotFound("customer"))
}

/// Applies a partial update. The caller runs this in a transaction (the row is locked while it is merged).
pub async fn update(
    conn: &mut PgConnection,
    site_id: &str,
    id: &str,
    p: CustomerPatch,
) -> Result<Customer> {
    lock(conn, site_id, id).await?;
    let current = find(&mut *conn, site_id, id).await?;
    let f = Fields {
        email: p.email.unwrap_or(current.email),
        first_name: patch::apply(current.first_name, p.first_name.map(super::trimmed)),
        last_name: patch::apply(current.last_name, p.last_name.map(super::trimmed)),
        phone: patch::apply(current.phone, p.phone.map(super::trimmed)),
        group_id: patch::apply(current.group_id, p.group_id),
        accepts_marketing: p.accepts_marketing.unwrap_or(current.accepts_marketing),
        preferences: p.preferences.unwrap_or(current.preferences),
        note: patch::apply(current.note, p.note),
    }
    .validate()?;
    sqlx::query_as::<_, Customer>(sqlx::AssertSqlSafe(format!(
        "with c as (update customers set email = $3, first_name = $4, last_name = $5, phone = $6, \
         group_id = $7, accepts_marketing = $8, preferences = $9, note = $10 \
         where site_id = $1 and id = $2 returning *) select {COLUMNS} from c {TOTALS}"
    )))
    .bind(site_id)
    .bind(&current.id)
    .bind(&f.email)
    .bind(&f.first_name)
    .bind(&f.last_name)
    .bind(&f.phone)
    .bind(&f.group_id)
    .bind(f.accepts_marketing)
    .bind(sqlx::types::Json(&f.preferences))
    .bind(&f.note)
    .fetch_one(conn)
    .await
    .map_err(|e| write_error(e, &f.email))
}

/// Replaces every profile field (PUT); omitted optional fields are cleared. The password is kept.
pub async fn replace(
    conn: &mut PgConnection,
    site_id: &str,
    id: &str,
    input: CustomerInput,
) -> Result<Customer> {
    let patch = CustomerPatch {
        email: Some(input.email),
        first_name: Some(input.first_name),
        last_name: Some(input.last_name),
        phone: Some(input.phone),
        group_id: Some(input.group_id),
        accepts_marketing: Some(input.accepts_marketing.unwrap_or(false)),
        preferences: Some(input.preferences.unwrap_or_default()),
        note: Some(input.note),
    };
    update(conn, site_id, id, patch).await
}

/// Deletes a customer with their addresses and sessions. Their orders stay (with the customer id).
pub async fn delete(conn: &mut PgConnection, site_id: &str, id: &str) -> Result<()> {
    let deleted = sqlx::query("delete from customers where site_id = $1 and id = $2")
        .bind(site_id)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if deleted == 0 {
        Err(Error::NotFound("customer"))
    } else {
        Ok(())
    }
}
