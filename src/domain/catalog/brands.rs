//! Brands: a flat list, looked up by id or slug.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};

use super::slug;
use crate::domain::error::{Error, Result, Validator, on_unique};
use crate::domain::patch;
use crate::ids;

#[derive(Debug, Clone, FromRow)]
pub struct Brand {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub logo_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Creating a brand, or replacing one.
#[derive(Debug)]
pub struct NewBrand {
    pub name: String,
    /// Derived from the name when `None`.
    pub slug: Option<String>,
    pub description: Option<String>,
    pub logo_url: Option<String>,
}

/// A partial update: `None` leaves a field; `Some(None)` clears a nullable one.
#[derive(Debug, Default)]
pub struct BrandPatch {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub description: Option<Option<String>>,
    pub logo_url: Option<Option<String>>,
}

const UNIQUE_SLUG: &str = "brands_site_id_slug_key";
const COLUMNS: &str = "id, name, slug, description, logo_url, created_at, updated_at";

fn validate(
    name: &str,
    slug_: &str,
    description: Option<&str>,
    logo_url: Option<&str>,
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
    if let Some(url) = logo_url {
        v.check(
            super::is_http_url(url),
            "logo_url",
            "must be an absolute http(s) URL of at most 2048 characters",
        );
    }
    v.finish()
}

pub async fn list(
    conn: &mut PgConnection,
    site_id: &str,
    slug_filter: Option<&str>,
) -> Result<Vec<Brand>> {
    Ok(sqlx::query_as::<_, Brand>(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from brands where site_id = $1 and ($2::text is null or slug = $2) order by name, id"
    )))
    .bind(site_id)
    .bind(slug_filter)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn get(conn: &mut PgConnection, site_id: &str, id_or_slug: &str) -> Result<Brand> {
    sqlx::query_as::<_, Brand>(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from brands where site_id = $1 and (id = $2 or slug = $2)"
    )))
    .bind(site_id)
    .bind(id_or_slug)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound("brand"))
}

pub async fn list_by_ids(
    conn: &mut PgConnection,
    site_id: &str,
    ids: &[String],
) -> Result<Vec<Brand>> {
    Ok(sqlx::query_as::<_, Brand>(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from brands where site_id = $1 and id = any($2)"
    )))
    .bind(site_id)
    .bind(ids)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn create(conn: &mut PgConnection, site_id: &str, input: NewBrand) -> Result<Brand> {
    let name = input.name.trim().to_string();
    let slug_ = input.slug.unwrap_or_else(|| slug::slugify(&name));
    validate(
        &name,
        &slug_,
        input.description.as_deref(),
        input.logo_url.as_deref(),
    )?;
    sqlx::query_as::<_, Brand>(sqlx::AssertSqlSafe(format!(
        "insert into brands (site_id, id, name, slug, description, logo_url) values ($1, $2, $3, $4, $5, $6) \
         returning {COLUMNS}"
    )))
    .bind(site_id)
    .bind(ids::new_id("br"))
    .bind(&name)
    .bind(&slug_)
    .bind(&input.description)
    .bind(&input.logo_url)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| on_unique(e, UNIQUE_SLUG, || format!("a brand with slug `{slug_}` already exists")))
}

pub async fn update(
    conn: &mut PgConnection,
    site_id: &str,
    id: &str,
    p: BrandPatch,
) -> Result<Brand> {
    let current = get(&mut *conn, site_id, id).await?;
    let name = p.name.map(|n| n.trim().to_string()).unwrap_or(current.name);
    let slug_ = p.slug.unwrap_or(current.slug);
    let description = patch::apply(current.description, p.description);
    let logo_url = patch::apply(current.logo_url, p.logo_url);
    validate(&name, &slug_, description.as_deref(), logo_url.as_deref())?;
    sqlx::query_as::<_, Brand>(sqlx::AssertSqlSafe(format!(
        "update brands set name = $3, slug = $4, description = $5, logo_url = $6 \
         where site_id = $1 and id = $2 returning {COLUMNS}"
    )))
    .bind(site_id)
    .bind(&current.id)
    .bind(&name)
    .bind(&slug_)
    .bind(&description)
    .bind(&logo_url)
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| {
        on_unique(e, UNIQUE_SLUG, || {
            format!("a brand with slug `{slug_}` already exists")
        })
    })?
    .ok_or(Error::NotFound("brand"))
}

/// Replaces every field (PUT).
pub async fn replace(
    conn: &mut PgConnection,
    site_id: &str,
    id: &str,
    input: NewBrand,
) -> Result<Brand> {
    let slug_ = input
        .slug
        .clone()
        .unwrap_or_else(|| slug::slugify(input.name.trim()));
    let patch = BrandPatch {
        name: Some(input.name),
        slug: Some(slug_),
        description: Some(input.description),
        logo_url: Some(input.logo_url),
    };
    update(&mut *conn, site_id, id, patch).await
}

/// Deletes a brand; its products keep existing without one.
pub async fn delete(conn: &mut PgConnection, site_id: &str, id: &str) -> Result<()> {
    let deleted = sqlx::query("delete from brands where site_id = $1 and (id = $2 or slug = $2)")
        .bind(site_id)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if deleted == 0 {
        Err(Error::NotFound("brand"))
    } else {
        Ok(())
    }
}
