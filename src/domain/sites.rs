//! Sites: the tenants. Every other row belongs to one.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgExecutor};

use super::error::{Result, Validator};
use crate::ids;

#[derive(Debug, Clone, Serialize, FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Site {
    #[schema(example = "site_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    #[schema(example = "My Store")]
    pub name: String,
    #[schema(example = "en")]
    pub locale: String,
    pub locales: Vec<String>,
    #[schema(example = "EUR")]
    pub currency: String,
    /// The first verified custom domain, when the site has one.
    pub primary_domain: Option<String>,
    pub domains: Vec<String>,
    /// Active theme design tokens (CSS custom properties).
    #[schema(value_type = Object, example = json!({"--color-primary": "#6366f1"}))]
    pub theme: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub struct NewSite {
    pub name: String,
    pub currency: String,
    pub locale: String,
}

const SITE_COLUMNS: &str = "id, name, locale, locales, currency, \
    (settings -> 'domains' ->> 0) as primary_domain, \
    coalesce(array(select jsonb_array_elements_text(settings -> 'domains')), '{}') as domains, \
    coalesce(settings -> 'theme', '{}'::jsonb) as theme, created_at, updated_at";

pub async fn create(db: impl PgExecutor<'_>, new: NewSite) -> Result<Site> {
    let mut v = Validator::new();
    v.text("name", new.name.trim(), 1, 200);
    v.check(
        new.currency.len() == 3 && new.currency.bytes().all(|b| b.is_ascii_uppercase()),
        "currency",
        "must be an ISO 4217 code such as EUR",
    );
    v.check(
        !new.locale.is_empty()
            && new.locale.len() <= 35
            && new
                .locale
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "locale",
        "must be a locale tag such as en or en-GB",
    );
    v.finish()?;
    let site = sqlx::query_as::<_, Site>(sqlx::AssertSqlSafe(format!(
        "insert into sites (id, name, currency, locale, locales) values ($1, $2, $3, $4, array[$4]) \
         returning {SITE_COLUMNS}"
    )))
    .bind(ids::new_id("site"))
    .bind(new.name.trim())
    .bind(&new.currency)
    .bind(&new.locale)
    .fetch_one(db)
    .await?;
    Ok(site)
}

pub async fn get(db: impl PgExecutor<'_>, site_id: &str) -> Result<Site> {
    sqlx::query_as::<_, Site>(sqlx::AssertSqlSafe(format!(
        "select {SITE_COLUMNS} from sites where id = $1"
    )))
    .bind(site_id)
    .fetch_optional(db)
    .await?
    .ok_or(super::Error::NotFound("site"))
}

pub async fn find_by_alias(db: impl PgExecutor<'_>, alias: &str) -> Result<Option<Site>> {
    Ok(sqlx::query_as::<_, Site>(sqlx::AssertSqlSafe(format!(
        "select {SITE_COLUMNS} from sites where alias = $1"
    )))
    .bind(alias)
    .fetch_optional(db)
    .await?)
}

pub async fn set_alias(db: impl PgExecutor<'_>, site_id: &str, alias: &str) -> Result<()> {
    sqlx::query("update sites set alias = $2 where id = $1")
        .bind(site_id)
        .bind(alias)
        .execute(db)
        .await?;
    Ok(())
}
