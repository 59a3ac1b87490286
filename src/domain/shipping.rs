//! Shipping methods and tax rates, managed per site.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};

use super::error::{Error, Result, Validator, on_unique};
use super::patch;
use crate::ids;

#[derive(Debug, Clone, FromRow)]
pub struct ShippingMethod {
    pub id: String,
    pub name: String,
    pub code: String,
    /// Minor units.
    pub price: i64,
    /// Free when the discounted subtotal reaches this amount.
    pub free_above: Option<i64>,
    /// ISO 3166-1 alpha-2 codes served; empty means every country.
    pub countries: Vec<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ShippingMethod {
    pub fn serves(&self, country: &str) -> bool {
        self.active && (self.countries.is_empty() || self.countries.iter().any(|c| c == country))
    }
}

/// A shipping method to create.
#[derive(Debug)]
pub struct NewShippingMethod {
    pub name: String,
    pub code: String,
    pub price: i64,
    pub free_above: Option<i64>,
    /// Empty: every country.
    pub countries: Vec<String>,
    /// Active unless said otherwise.
    pub active: Option<bool>,
}

/// Changes to a shipping method: `None` leaves a field; only `free_above` can be cleared (`Some(None)`).
#[derive(Debug, Default)]
pub struct ShippingMethodPatch {
    pub name: Option<String>,
    pub price: Option<i64>,
    pub free_above: Option<Option<i64>>,
    pub countries: Option<Vec<String>>,
    pub active: Option<bool>,
}

/// An officially assigned ISO 3166-1 alpha-2 code in upper case (one list for the whole domain).
pub fn is_country(code: &str) -> bool {
    super::customers::is_country(code)
}

const METHOD_COLUMNS: &str =
    "id, name, code, price, free_above, countries, active, created_at, updated_at";

fn validate_method(
    v: &mut Validator,
    name: &str,
    price: i64,
    free_above: Option<i64>,
    countries: &[String],
) {
    v.text("name", name, 1, 200);
    v.money("price", price);
    if let Some(f) = free_above {
        v.money("free_above", f);
    }
    v.check(countries.len() <= 250, "countries", "at most 250 countries");
    for (i, c) in countries.iter().enumerate() {
        v.check(
            is_country(c),
            format!("countries[{i}]"),
            "must be an ISO 3166-1 alpha-2 code such as LV",
        );
    }
}

pub async fn create_method(
    conn: &mut PgConnection,
    site_id: &str,
    input: NewShippingMethod,
) -> Result<ShippingMethod> {
    let mut v = Validator::new();
    validate_method(
        &mut v,
        input.name.trim(),
        input.price,
        input.free_above,
        &input.countries,
    );
    v.check(
        !input.code.is_empty()
            && input.code.len() <= 64
            && input
                .code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "code",
        "must be 1–64 letters, digits, `-` or `_`",
    );
    v.finish()?;
    sqlx::query_as::<_, ShippingMethod>(sqlx::AssertSqlSafe(format!(
        "insert into shipping_methods (site_id, id, name, code, price, free_above, countries, active) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning {METHOD_COLUMNS}"
    )))
    .bind(site_id)
    .bind(ids::new_id("shm"))
    .bind(input.name.trim())
    .bind(&input.code)
    .bind(input.price)
    .bind(input.free_above)
    .bind(&input.countries)
    .bind(input.active.unwrap_or(true))
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| on_unique(e, "shipping_methods_site_id_code_key", || format!("a shipping method with code `{}` already exists", input.code)))
}

pub async fn list_methods(conn: &mut PgConnection, site_id: &str) -> Result<Vec<ShippingMethod>> {
    Ok(sqlx::query_as::<_, ShippingMethod>(sqlx::AssertSqlSafe(format!(
        "select {METHOD_COLUMNS} from shipping_methods where site_id = $1 order by price, name, id"
    )))
    .bind(site_id)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn get_method(
    conn: &mut PgConnection,
    site_id: &str,
    id: &str,
) -> Result<ShippingMethod> {
    sqlx::query_as::<_, ShippingMethod>(sqlx::AssertSqlSafe(format!(
        "select {METHOD_COLUMNS} from shipping_methods where site_id = $1 and (id = $2 or code = $2)"
    )))
    .bind(site_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound("shipping method"))
}

/// A method by id or code, if the site still has it.
pub async fn find_method(
    conn: &mut PgConnection,
    site_id: &str,
    id: &str,
) -> Result<Option<ShippingMethod>> {
    match get_method(&mut *conn, site_id, id).await {
        Ok(method) => Ok(Some(method)),
        Err(Error::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn update_method(
    conn: &mut PgConnection,
    site_id: &str,
    id: &str,
    p: ShippingMethodPatch,
) -> Result<ShippingMethod> {
    let current = get_method(&mut *conn, site_id, id).await?;
    let name = p.name.map(|n| n.trim().to_string()).unwrap_or(current.name);
    let price = p.price.unwrap_or(current.price);
    let free_above = patch::apply(current.free_above, p.free_above);
    let countries = p.countries.unwrap_or(current.countries);
    let mut v = Validator::new();
    validate_method(&mut v, &name, price, free_above, &countries);
    v.finish()?;
    Ok(sqlx::query_as::<_, ShippingMethod>(sqlx::AssertSqlSafe(format!(
        "update shipping_methods set name = $3, price = $4, free_above = $5, countries = $6, active = $7 \
         where site_id = $1 and id = $2 returning {METHOD_COLUMNS}"
    )))
    .bind(site_id)
    .bind(&current.id)
    .bind(&name)
    .bind(price)
    .bind(free_above)
    .bind(&countries)
    .bind(p.active.unwrap_or(current.active))
    .fetch_one(&mut *conn)
    .await?)
}

pub async fn delete_method(conn: &mut PgConnection, site_id: &str, id: &str) -> Result<()> {
    let n =
        sqlx::query("delete from shipping_methods where site_id = $1 and (id = $2 or code = $2)")
            .bind(site_id)
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected();
    if n == 0 {
        Err(Error::NotFound("shipping method"))
    } else {
        Ok(())
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct TaxRate {
    pub id: String,
    pub country: String,
    /// Hundredths of a percent: 2150 is 21.5 %.
    pub basis_points: i32,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A tax rate to create.
#[derive(Debug)]
pub struct NewTaxRate {
    pub country: String,
    /// Percent as decimal text (`21` or `21.5`), kept to two decimals.
    pub percentage: String,
    pub name: Option<String>,
}

/// `21.5` → 2150 basis points, exactly (from the decimal text, never through a float).
/// A percentage's decimal text (`21`, `21.5`, `7.255`, `2.1e1`) in basis points, rounded half up to the
/// nearest hundredth of a percent, exactly (no float is involved). `None` unless it is from 0 to 100.
fn basis_points(text: &str) -> Option<i32> {
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.strip_prefix('+').unwrap_or(e).parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (whole, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && frac.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    // The value is `digits` × 10^(shift − 2) percent, i.e. `digits` × 10^shift… basis points.
    let digits = format!("{whole}{frac}");
    let digits = digits.trim_start_matches('0');
    let shift = i64::from(exponent) - frac.len() as i64 + 2;
    let (kept, dropped) = if shift >= 0 {
        if digits.len() as i64 + shift > 6 {
            return None; // at least 1,000,000 basis points
        }
        (format!("{digits}{}", "0".repeat(shift as usize)), "")
    } else {
        let cut = digits.len().saturating_sub(shift.unsigned_abs() as usize);
        (digits[..cut].to_string(), &digits[cut..])
    };
    let kept: i64 = if kept.is_empty() {
        0
    } else {
        kept.parse().ok()?
    };
    let exceeds = kept > 10_000 || (kept == 10_000 && dropped.bytes().any(|b| b != b'0'));
    // A dropped part shorter than the cut means leading zeros were dropped with it: below one half.
    let cut_len = if shift < 0 {
        shift.unsigned_abs() as usize
    } else {
        0
    };
    let rounds_up =
        dropped.len() == cut_len && dropped.as_bytes().first().is_some_and(|&b| b >= b'5');
    let bps = kept + i64::from(rounds_up);
    (!exceeds && bps <= 10_000).then_some(bps as i32)
}

const TAX_COLUMNS: &str = "id, country, basis_points, name, created_at";

pub async fn create_tax_rate(
    conn: &mut PgConnection,
    site_id: &str,
    input: NewTaxRate,
) -> Result<TaxRate> {
    let mut v = Validator::new();
    v.check(
        is_country(&input.country),
        "country",
        "must be an ISO 3166-1 alpha-2 code such as LV",
    );
    let bps = basis_points(&input.percentage);
    v.check(
        bps.is_some(),
        "percentage",
        "must be a number from 0 to 100",
    );
    if let Some(name) = &input.name {
        v.text("name", name, 1, 100);
    }
    v.finish()?;
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into tax_rates (site_id, id, country, basis_points, name) values ($1, $2, $3, $4, $5) returning {TAX_COLUMNS}"
    )))
    .bind(site_id)
    .bind(ids::new_id("tax"))
    .bind(&input.country)
    .bind(bps)
    .bind(&input.name)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| on_unique(e, "tax_rates_site_id_country_key", || format!("a tax rate for {} already exists", input.country)))
}

pub async fn list_tax_rates(conn: &mut PgConnection, site_id: &str) -> Result<Vec<TaxRate>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {TAX_COLUMNS} from tax_rates where site_id = $1 order by country"
    )))
    .bind(site_id)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn delete_tax_rate(conn: &mut PgConnection, site_id: &str, id: &str) -> Result<()> {
    let n = sqlx::query("delete from tax_rates where site_id = $1 and (id = $2 or country = $2)")
        .bind(site_id)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if n == 0 {
        Err(Error::NotFound("tax rate"))
    } else {
        Ok(())
    }
}

/// The rate for a country in basis points, when the site has one.
pub async fn tax_basis_points(
    conn: &mut PgConnection,
    site_id: &str,
    country: &str,
) -> Result<Option<i32>> {
    Ok(
        sqlx::query_scalar(
            "select basis_points from tax_rates where site_id = $1 and country = $2",
        )
        .bind(site_id)
        .bind(country)
        .fetch_optional(&mut *conn)
        .await?,
    )
}

#[cfg(test)]
mod tests {
    use super::basis_points;

    #[test]
    fn percentages_become_exact_basis_points() {
        let bps = basis_points;
        assert_eq!(bps("21"), Some(2100));
        assert_eq!(bps("21.5"), Some(2150));
        assert_eq!(bps("7.25"), Some(725));
        assert_eq!(bps("0"), Some(0));
        assert_eq!(bps("100"), Some(10_000));
        assert_eq!(bps("21.255"), Some(2126));
        assert_eq!(bps("21.254"), Some(2125));
        assert_eq!(bps("0.004"), Some(0));
        assert_eq!(bps("0.005"), Some(1));
        assert_eq!(bps("0.0005"), Some(0));
        assert_eq!(bps("2.15e1"), Some(2150));
        assert_eq!(bps("1E-05"), Some(0));
        assert_eq!(bps("100.0"), Some(10_000));
        assert_eq!(bps("100.001"), None);
        assert_eq!(bps("-1"), None);
        assert_eq!(bps("101"), None);
        assert_eq!(bps("1e400"), None);
    }
}
