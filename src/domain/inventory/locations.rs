//! Locations: warehouses and shops holding stock. Every site has exactly one default location.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::{FromRow, PgConnection};

use super::stock;
use crate::domain::catalog::slug;
use crate::domain::error::{Error, Result, Validator, on_unique};
use crate::domain::field::FieldKey;
use crate::domain::patch;
use crate::ids;

#[derive(Debug, Clone, FromRow)]
pub struct Location {
    pub id: String,
    /// Numeric id for dialects that expect integers.
    pub number: i64,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    /// Free-form address fields, all strings.
    #[sqlx(json)]
    pub address: Map<String, Value>,
    pub active: bool,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A location's settings, for creating or replacing one.
#[derive(Debug)]
pub struct LocationInput {
    pub name: String,
    /// Made from the name when absent.
    pub slug: Option<String>,
    pub description: Option<String>,
    pub address: Option<Map<String, Value>>,
    pub active: Option<bool>,
    /// Make this the site's default location (the previous default stops being one).
    pub is_default: Option<bool>,
}

/// Changes to a location; `None` leaves a field as it is (`Some(None)` clears the description).
#[derive(Debug)]
pub struct LocationPatch {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub description: Option<Option<String>>,
    pub address: Option<Map<String, Value>>,
    pub active: Option<bool>,
    pub is_default: Option<bool>,
}

const COLUMNS: &str =
    "id, number, slug, name, description, address, active, is_default, created_at, updated_at";
const UNIQUE_SLUG: &str = "locations_site_id_slug_key";

fn validate(
    name: &str,
    slug_: &str,
    description: Option<&str>,
    address: &Map<String, Value>,
) -> Result<()> {
    let mut v = Validator::new();
    v.text("name", name, 1, 200);
    v.check(
        slug::is_valid(slug_),
        "slug",
        "must be lower-case letters and digits joined by single dashes",
    );
    if let Some(d) = description {
        v.text("description", d, 0, 10_000);
    }
    v.check(address.len() <= 20, "address", "at most 20 fields");
    for (key, value) in address {
        match value {
            Value::String(s) => v.text(FieldKey::from("address").data(key), s, 0, 255),
            Value::Null => {}
            _ => v.error(FieldKey::from("address").data(key), "must be a string"),
        }
    }
    v.finish()
}

pub async fn list(conn: &mut PgConnection, site_id: &str) -> Result<Vec<Location>> {
    Ok(sqlx::query_as::<_, Location>(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from locations where site_id = $1 order by is_default desc, name, id"
    )))
    .bind(site_id)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn get(conn: &mut PgConnection, site_id: &str, id_or_slug: &str) -> Result<Location> {
    sqlx::query_as::<_, Location>(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from locations where site_id = $1 and (id = $2 or slug = $2)"
    )))
    .bind(site_id)
    .bind(id_or_slug)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound("location"))
}

async fn demote_default(conn: &mut PgConnection, site_id: &str) -> Result<()> {
    sqlx::query("update locations set is_default = false where site_id = $1 and is_default")
        .bind(site_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Locks the site's locations for a change of default, so that two concurrent promotions serialise.
async fn lock_locations(conn: &mut PgConnection, site_id: &str) -> Result<()> {
    sqlx::query("select id from locations where site_id = $1 and is_default for update")
        .bind(site_id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn create(
    conn: &mut PgConnection,
    site_id: &str,
    input: LocationInput,
) -> Result<Location> {
    let name = input.name.trim().to_string();
    let slug_ = input.slug.unwrap_or_else(|| slug::slugify(&name));
    let address = input.address.unwrap_or_default();
    validate(&name, &slug_, input.description.as_deref(), &address)?;
    let make_default = input.is_default == Some(true);
    if make_default {
        if input.active == Some(false) {
            return Err(Error::unprocessable(
                "active",
                "the default location must be active",
            ));
        }
        lock_locations(conn, site_id).await?;
        demote_default(conn, site_id).await?;
    }
    sqlx::query_as::<_, Location>(sqlx::AssertSqlSafe(format!(
        "insert into locations (site_id, id, slug, name, description, address, active, is_default) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning {COLUMNS}"
    )))
    .bind(site_id)
    .bind(ids::new_id("loc"))
    .bind(&slug_)
    .bind(&name)
    .bind(&input.description)
    .bind(sqlx::types::Json(&address))
    .bind(input.active.unwrap_or(true))
    .bind(make_default)
    .fetch_one(conn)
    .await
    .map_err(|e| {
        on_unique(e, UNIQUE_SLUG, || {
            format!("a location with slug `{slug_}` already exists")
        })
    })
}

pub async fn update(
    conn: &mut PgConnection,
    site_id: &str,
    id: &str,
    p: LocationPatch,
) -> Result<Location> {
    let current = get(&mut *conn, site_id, id).await?;
    let name = p.name.map(|n| n.trim().to_string()).unwrap_or(current.name);
    let slug_ = p.slug.unwrap_or(current.slug);
    let description = patch::apply(current.description, p.description);
    let address = p.address.unwrap_or(current.address);
    let active = p.active.unwrap_or(current.active);
    validate(&name, &slug_, description.as_deref(), &address)?;
    let make_default = p.is_default == Some(true) && !current.is_default;
    if p.is_default == Some(false) && current.is_default {
        return Err(Error::unprocessable(
            "is_default",
            "a site always has one default location: promote another one instead",
        ));
    }
    if !active && (current.is_default || make_default) {
        return Err(Error::unprocessable(
            "active",
            "the default location must be active",
        ));
    }
    if make_default {
        lock_locations(conn, site_id).await?;
        demote_default(conn, site_id).await?;
    }
    let location = sqlx::query_as::<_, Location>(sqlx::AssertSqlSafe(format!(
        "update locations set slug = $3, name = $4, description = $5, address = $6, active = $7, \
         is_default = is_default or $8 where site_id = $1 and id = $2 returning {COLUMNS}"
    )))
    .bind(site_id)
    .bind(&current.id)
    .bind(&slug_)
    .bind(&name)
    .bind(&description)
    .bind(sqlx::types::Json(&address))
    .bind(active)
    .bind(make_default)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| {
        on_unique(e, UNIQUE_SLUG, || {
            format!("a location with slug `{slug_}` already exists")
        })
    })?;
    if active != current.active {
        recount_location(conn, site_id, &current.id).await?;
    }
    Ok(location)
}

pub async fn replace(
    conn: &mut PgConnection,
    site_id: &str,
    id: &str,
    input: LocationInput,
) -> Result<Location> {
    let slug_ = input
        .slug
        .clone()
        .unwrap_or_else(|| slug::slugify(input.name.trim()));
    let patch = LocationPatch {
        name: Some(input.name),
        slug: Some(slug_),
        description: Some(input.description),
        address: Some(input.address.unwrap_or_default()),
        active: Some(input.active.unwrap_or(true)),
        is_default: input.is_default,
    };
    update(conn, site_id, id, patch).await
}

/// Recounts every variant stocked at a location (after it was activated or deactivated).
async fn recount_location(conn: &mut PgConnection, site_id: &str, location_id: &str) -> Result<()> {
    let variant_ids: Vec<String> = sqlx::query_scalar(
        "select variant_id from stock_levels where site_id = $1 and location_id = $2",
    )
    .bind(site_id)
    .bind(location_id)
    .fetch_all(&mut *conn)
    .await?;
    stock::recount(conn, site_id, &variant_ids).await
}

/// Deletes a location and its stock; the default location cannot be deleted.
pub async fn delete(conn: &mut PgConnection, site_id: &str, id: &str) -> Result<()> {
    let current = get(&mut *conn, site_id, id).await?;
    if current.is_default {
        return Err(Error::conflict(
            "the default location cannot be deleted: make another location the default first",
        ));
    }
    let variant_ids: Vec<String> = sqlx::query_scalar(
        "delete from stock_levels where site_id = $1 and location_id = $2 returning variant_id",
    )
    .bind(site_id)
    .bind(&current.id)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query("delete from locations where site_id = $1 and id = $2")
        .bind(site_id)
        .bind(&current.id)
        .execute(&mut *conn)
        .await?;
    stock::recount(conn, site_id, &variant_ids).await
}
