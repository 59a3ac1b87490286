//! A customer's addresses. At most one is the default: the first address becomes it, making another the
//! default demotes the previous one, and deleting the default promotes the oldest remaining address.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};

use super::profiles;
use crate::domain::address;
use crate::domain::error::{Error, Result, Validator};
use crate::domain::patch;
use crate::ids;

pub const ID_PREFIX: &str = "addr";
/// Most addresses one customer may keep.
pub const MAX_PER_CUSTOMER: i64 = 50;

#[derive(Debug, Clone, FromRow)]
pub struct Address {
    pub id: String,
    pub customer_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    /// State, province or region.
    pub province: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    pub phone: Option<String>,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new address, as sent: trimmed and checked here.
#[derive(Debug)]
pub struct AddressInput {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub province: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 in any case; stored upper-case.
    pub country: String,
    pub phone: Option<String>,
    /// Make this the customer's default address. A customer's first address is the default anyway.
    pub is_default: Option<bool>,
}

/// A partial change: `None` leaves a field, `Some(None)` clears a clearable one.
#[derive(Debug, Default)]
pub struct AddressPatch {
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    pub company: Option<Option<String>>,
    pub line1: Option<String>,
    pub line2: Option<Option<String>>,
    pub city: Option<String>,
    pub province: Option<Option<String>>,
    pub postal_code: Option<Option<String>>,
    pub country: Option<String>,
    pub phone: Option<Option<String>>,
    /// `true` makes it the default (demoting the previous one); `false` leaves the customer without one.
    pub is_default: Option<bool>,
}

const COLUMNS: &str = "id, customer_id, first_name, last_name, company, line1, line2, city, province, \
    postal_code, country, phone, is_default, created_at, updated_at";

/// The address fields after trimming, checked together.
struct Fields {
    first_name: Option<String>,
    last_name: Option<String>,
    company: Option<String>,
    line1: String,
    line2: Option<String>,
    city: String,
    province: Option<String>,
    postal_code: Option<String>,
    country: String,
    phone: Option<String>,
}

impl Fields {
    fn validate(mut self) -> Result<Fields> {
        self.line1 = self.line1.trim().to_string();
        self.city = self.city.trim().to_string();
        self.country = self.country.trim().to_ascii_uppercase();
        let mut v = Validator::new();
        let parts = address::Parts {
            first_name: self.first_name.as_deref(),
            last_name: self.last_name.as_deref(),
            company: self.company.as_deref(),
            line1: Some(&self.line1),
            line2: self.line2.as_deref(),
            city: Some(&self.city),
            province: self.province.as_deref(),
            postal_code: self.postal_code.as_deref(),
            country: Some(&self.country),
            phone: self.phone.as_deref(),
        };
        address::check(&mut v, "", &parts, address::Use::Saved);
        v.finish()?;
        Ok(self)
    }
}

fn trimmed(value: Option<Option<String>>) -> Option<Option<String>> {
    value.map(super::trimmed)
}

/// A customer's addresses, the default first, then oldest first. Empty for an unknown customer.
pub async fn list(
    conn: &mut PgConnection,
    site_id: &str,
    customer_id: &str,
) -> Result<Vec<Address>> {
    Ok(sqlx::query_as::<_, Address>(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from customer_addresses where site_id = $1 and customer_id = $2 \
         order by is_default desc, id"
    )))
    .bind(site_id)
    .bind(customer_id)
    .fetch_all(conn)
    .await?)
}

/// The addresses of a customer that must exist (404 otherwise).
pub async fn list_for(
    conn: &mut PgConnection,
    site_id: &str,
    customer_id: &str,
) -> Result<Vec<Address>> {
    profiles::find(&mut *conn, site_id, customer_id).await?;
    list(conn, site_id, customer_id).await
}

async fn get(
    conn: &mut PgConnection,
    site_id: &str,
    customer_id: &str,
    id: &str,
) -> Result<Address> {
    sqlx::query_as::<_, Address>(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from customer_addresses where site_id = $1 and customer_id = $2 and id = $3"
    )))
    .bind(site_id)
    .bind(customer_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(Error::NotFound("address"))
}

async fn demote_default(conn: &mut PgConnection, site_id: &str, customer_id: &str) -> Result<()> {
    sqlx::query(
        "update customer_addresses set is_default = false \
         where site_id = $1 and customer_id = $2 and is_default",
    )
    .bind(site_id)
    .bind(customer_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds an address. The caller runs this in a transaction: the customer row is locked, so concurrent
/// changes of the default serialise.
pub async fn create(
    conn: &mut PgConnection,
    site_id: &str,
    customer_id: &str,
    input: AddressInput,
) -> Result<Address> {
    let f = Fields {
        first_name: super::trimmed(input.first_name),
        last_name: super::trimmed(input.last_name),
        company: super::trimmed(input.company),
        line1: input.line1,
        line2: super::trimmed(input.line2),
        city: input.city,
        province: super::trimmed(input.province),
        postal_code: super::trimmed(input.postal_code),
        country: input.country,
        phone: super::trimmed(input.phone),
    }
    .validate()?;
    profiles::lock(conn, site_id, customer_id).await?;
    let existing: i64 = sqlx::query_scalar(
        "select count(*) from customer_addresses where site_id = $1 and customer_id = $2",
    )
    .bind(site_id)
    .bind(customer_id)
    .fetch_one(&mut *conn)
    .await?;
    if existing >= MAX_PER_CUSTOMER {
        return Err(Error::conflict(format!(
            "a customer can keep at most {MAX_PER_CUSTOMER} addresses"
        )));
    }
    let make_default = existing == 0 || input.is_default == Some(true);
    if make_default {
        demote_default(conn, site_id, customer_id).await?;
    }
    Ok(sqlx::query_as::<_, Address>(sqlx::AssertSqlSafe(format!(
        "insert into customer_addresses (site_id, id, customer_id, first_name, last_name, company, line1, \
         line2, city, province, postal_code, country, phone, is_default) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) returning {COLUMNS}"
    )))
    .bind(site_id)
    .bind(ids::new_id(ID_PREFIX))
    .bind(customer_id)
    .bind(&f.first_name)
    .bind(&f.last_name)
    .bind(&f.company)
    .bind(&f.line1)
    .bind(&f.line2)
    .bind(&f.city)
    .bind(&f.province)
    .bind(&f.postal_code)
    .bind(&f.country)
    .bind(&f.phone)
    .bind(make_default)
    .fetch_one(conn)
    .await?)
}

/// Changes an address (in the caller's transaction).
pub async fn update(
    conn: &mut PgConnection,
    site_id: &str,
    customer_id: &str,
    id: &str,
    p: AddressPatch,
) -> Result<Address> {
    profiles::lock(conn, site_id, customer_id).await?;
    let current = get(conn, site_id, customer_id, id).await?;
    let f = Fields {
        first_name: patch::apply(current.first_name, trimmed(p.first_name)),
        last_name: patch::apply(current.last_name, trimmed(p.last_name)),
        company: patch::apply(current.company, trimmed(p.company)),
        line1: p.line1.unwrap_or(current.line1),
        line2: patch::apply(current.line2, trimmed(p.line2)),
        city: p.city.unwrap_or(current.city),
        province: patch::apply(current.province, trimmed(p.province)),
        postal_code: patch::apply(current.postal_code, trimmed(p.postal_code)),
        country: p.country.unwrap_or(current.country),
        phone: patch::apply(current.phone, trimmed(p.phone)),
    }
    .validate()?;
    let is_default = p.is_default.unwrap_or(current.is_default);
    if is_default && !current.is_default {
        demote_default(conn, site_id, customer_id).await?;
    }
    Ok(sqlx::query_as::<_, Address>(sqlx::AssertSqlSafe(format!(
        "update customer_addresses set first_name = $4, last_name = $5, company = $6, line1 = $7, \
         line2 = $8, city = $9, province = $10, postal_code = $11, country = $12, phone = $13, \
         is_default = $14 where site_id = $1 and customer_id = $2 and id = $3 returning {COLUMNS}"
    )))
    .bind(site_id)
    .bind(customer_id)
    .bind(&current.id)
    .bind(&f.first_name)
    .bind(&f.last_name)
    .bind(&f.company)
    .bind(&f.line1)
    .bind(&f.line2)
    .bind(&f.city)
    .bind(&f.province)
    .bind(&f.postal_code)
    .bind(&f.country)
    .bind(&f.phone)
    .bind(is_default)
    .fetch_one(conn)
    .await?)
}

/// Deletes an address; when it was the default, the oldest remaining one becomes the default.
pub async fn delete(
    conn: &mut PgConnection,
    site_id: &str,
    customer_id: &str,
    id: &str,
) -> Result<()> {
    profiles::lock(conn, site_id, customer_id).await?;
    let was_default: bool = sqlx::query_scalar(
        "delete from customer_addresses where site_id = $1 and customer_id = $2 and id = $3 \
         returning is_default",
    )
    .bind(site_id)
    .bind(customer_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound("address"))?;
    if was_default {
        sqlx::query(
            "update customer_addresses set is_default = true where site_id = $1 and id = \
             (select id from customer_addresses where site_id = $1 and customer_id = $2 order by id limit 1)",
        )
        .bind(site_id)
        .bind(customer_id)
        .execute(conn)
        .await?;
    }
    Ok(())
}
