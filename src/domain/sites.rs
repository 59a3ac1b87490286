//! Sites: the tenants. Every other row belongs to one.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};

use super::error::{Result, Validator};
use super::field::FieldKey;
use crate::ids;

#[derive(Debug, Clone, FromRow)]
pub struct Site {
    pub id: String,
    pub name: String,
    /// A short unique name (Mozello's notifications carry it as `X-Mozello-Alias`).
    pub alias: Option<String>,
    pub locale: String,
    pub locales: Vec<String>,
    pub currency: String,
    /// The first verified custom domain, when the site has one.
    pub primary_domain: Option<String>,
    pub domains: Vec<String>,
    /// Active theme design tokens (CSS custom properties).
    pub theme: serde_json::Value,
    /// Whether catalog prices include tax (then the tax line is the part already inside the total).
    pub prices_include_tax: bool,
    /// Whether new product reviews are published at once (otherwise they wait as PENDING).
    pub reviews_auto_approve: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub struct NewSite {
    pub name: String,
    pub currency: String,
    pub locale: String,
}

const SITE_COLUMNS: &str = "id, name, alias, locale, locales, currency, \
    (settings -> 'domains' ->> 0) as primary_domain, \
    coalesce(array(select jsonb_array_elements_text(settings -> 'domains')), '{}') as domains, \
    coalesce(settings -> 'theme', '{}'::jsonb) as theme, \
    coalesce((settings ->> 'pricesIncludeTax')::boolean, false) as prices_include_tax, \
    coalesce((settings ->> 'reviewsAutoApprove')::boolean, false) as reviews_auto_approve, created_at, updated_at";

pub async fn create(conn: &mut PgConnection, new: NewSite) -> Result<Site> {
    let mut v = Validator::new();
    v.text("name", new.name.trim(), 1, 200);
    v.check(
        is_currency(&new.currency),
        "currency",
        "must be an ISO 4217 code such as EUR",
    );
    v.check(
        is_locale(&new.locale),
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
    .fetch_one(&mut *conn)
    .await?;
    Ok(site)
}

pub async fn get(conn: &mut PgConnection, site_id: &str) -> Result<Site> {
    sqlx::query_as::<_, Site>(sqlx::AssertSqlSafe(format!(
        "select {SITE_COLUMNS} from sites where id = $1"
    )))
    .bind(site_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(super::Error::NotFound("site"))
}

pub async fn find_by_alias(conn: &mut PgConnection, alias: &str) -> Result<Option<Site>> {
    Ok(sqlx::query_as::<_, Site>(sqlx::AssertSqlSafe(format!(
        "select {SITE_COLUMNS} from sites where alias = $1"
    )))
    .bind(alias)
    .fetch_optional(&mut *conn)
    .await?)
}

pub async fn set_alias(conn: &mut PgConnection, site_id: &str, alias: &str) -> Result<()> {
    sqlx::query("update sites set alias = $2 where id = $1")
        .bind(site_id)
        .bind(alias)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Changes to a site's configuration; `None` leaves a setting as it is.
#[derive(Debug)]
pub struct SitePatch {
    pub name: Option<String>,
    /// `Some(None)` removes the alias.
    pub alias: Option<Option<String>>,
    pub locale: Option<String>,
    /// Every language the site publishes (localized product text); always holds the default `locale`.
    pub locales: Option<Vec<String>>,
    /// Only while the site has no orders and no gift cards (their amounts are in the old currency).
    pub currency: Option<String>,
    pub prices_include_tax: Option<bool>,
    pub reviews_auto_approve: Option<bool>,
    /// Requests per minute per key; `Some(None)` returns to the server default.
    pub rate_limit_per_minute: Option<Option<i32>>,
    /// Verified custom domains, the primary first.
    pub domains: Option<Vec<String>>,
    /// Origins allowed to call the site's API from a browser.
    pub cors_origins: Option<Vec<String>>,
    /// Theme design tokens (CSS custom properties to string values).
    pub theme: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Applies a change of settings. The caller runs it in a transaction (the site's row stays locked to its end).
pub async fn update(conn: &mut PgConnection, site_id: &str, p: SitePatch) -> Result<Site> {
    let mut v = Validator::new();
    if let Some(name) = &p.name {
        v.text("name", name.trim(), 1, 200);
    }
    if let Some(locale) = &p.locale {
        v.check(
            is_locale(locale),
            "locale",
            "must be a locale tag such as en or en-GB",
        );
    }
    if let Some(Some(alias)) = &p.alias {
        v.check(
            is_alias(alias),
            "alias",
            "must be 1 to 63 lower-case letters, digits and hyphens",
        );
    }
    if let Some(locales) = &p.locales {
        v.check(locales.len() <= 50, "locales", "at most 50 locales");
        for (i, tag) in locales.iter().enumerate() {
            v.check(
                is_locale(tag),
                FieldKey::from("locales").at(i),
                "must be a locale tag such as en or en-GB",
            );
            v.rule(
                !locales[..i].contains(tag),
                FieldKey::from("locales").at(i),
                "is listed twice",
            );
        }
    }
    if let Some(currency) = &p.currency {
        v.check(
            is_currency(currency),
            "currency",
            "must be an ISO 4217 code such as EUR",
        );
    }
    if let Some(Some(rpm)) = p.rate_limit_per_minute {
        v.check(
            (1..=100_000).contains(&rpm),
            "rate_limit_per_minute",
            "must be from 1 to 100000",
        );
    }
    if let Some(domains) = &p.domains {
        v.check(domains.len() <= 20, "domains", "at most 20 domains");
        for (i, d) in domains.iter().enumerate() {
            v.check(
                !d.is_empty()
                    && d.len() <= 253
                    && d.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'),
                FieldKey::from("domains").at(i),
                "must be a host name such as shop.example.com",
            );
        }
    }
    if let Some(origins) = &p.cors_origins {
        v.check(origins.len() <= 50, "cors_origins", "at most 50 origins");
        for (i, origin) in origins.iter().enumerate() {
            v.check(
                is_origin(origin),
                FieldKey::from("cors_origins").at(i),
                "must be an origin such as https://shop.example.com",
            );
        }
    }
    if let Some(theme) = &p.theme {
        v.check(theme.len() <= 200, "theme", "at most 200 tokens");
        for (k, value) in theme {
            v.check(
                value.as_str().is_some_and(|s| s.chars().count() <= 500)
                    && k.chars().count() <= 100,
                FieldKey::from("theme").data(k),
                "must be a string",
            );
        }
    }
    v.finish()?;
    // Hold the site's row to the end of the caller's transaction: the new languages are computed from the
    // current ones, and a concurrent change must not be lost in between.
    sqlx::query("select 1 from sites where id = $1 for update")
        .bind(site_id)
        .execute(&mut *conn)
        .await?;
    let current = get(&mut *conn, site_id).await?;
    let locale = p.locale.clone().unwrap_or(current.locale);
    let locales = p.locales.clone().unwrap_or(current.locales);
    // A new default language joins the published ones; a list without the default is refused.
    let locales = match (&p.locale, &p.locales) {
        (Some(_), None) if !locales.contains(&locale) => [vec![locale.clone()], locales].concat(),
        _ if !locales.contains(&locale) => {
            return Err(super::Error::unprocessable(
                "locales",
                format!("must include the default locale `{locale}`"),
            ));
        }
        _ => locales,
    };
    if let Some(currency) = p.currency.as_ref().filter(|c| **c != current.currency) {
        let used: bool = sqlx::query_scalar(
            "select exists (select 1 from orders where site_id = $1) or exists (select 1 from gift_cards where site_id = $1)",
        )
        .bind(site_id)
        .fetch_one(&mut *conn)
        .await?;
        if used {
            return Err(super::Error::conflict(format!(
                "The currency cannot change to {currency}: the site has orders or gift cards in {}",
                current.currency
            )));
        }
    }
    let mut settings = serde_json::Map::new();
    if let Some(b) = p.reviews_auto_approve {
        settings.insert("reviewsAutoApprove".into(), b.into());
    }
    if let Some(b) = p.prices_include_tax {
        settings.insert("pricesIncludeTax".into(), b.into());
    }
    if let Some(domains) = p.domains {
        settings.insert("domains".into(), domains.into());
    }
    if let Some(theme) = p.theme {
        settings.insert("theme".into(), theme.into());
    }
    if let Some(origins) = p.cors_origins {
        settings.insert("corsOrigins".into(), origins.into());
    }
    let clear_rate_limit = matches!(p.rate_limit_per_minute, Some(None));
    if let Some(Some(rpm)) = p.rate_limit_per_minute {
        settings.insert("rateLimitPerMinute".into(), rpm.into());
    }
    sqlx::query(
        "update sites set name = coalesce($2, name), locale = $3, locales = $6, currency = coalesce($7, currency), \
         alias = case when $8 then $9 else alias end, \
         settings = (settings || $4) - case when $5 then 'rateLimitPerMinute' else '' end where id = $1",
    )
    .bind(site_id)
    .bind(p.name.map(|n| n.trim().to_string()))
    .bind(&locale)
    .bind(serde_json::Value::Object(settings))
    .bind(clear_rate_limit)
    .bind(&locales)
    .bind(&p.currency)
    .bind(p.alias.is_some())
    .bind(p.alias.clone().flatten())
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        super::error::on_unique(e, "sites_alias_key", || {
            "another site has this alias".to_string()
        })
    })?;
    get(&mut *conn, site_id).await
}

/// A site alias: 1 to 63 lower-case ASCII letters, digits and hyphens.
pub fn is_alias(alias: &str) -> bool {
    (1..=63).contains(&alias.len())
        && alias
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// An ISO 4217 code: three upper-case letters.
pub fn is_currency(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// Longest locale tag.
pub const MAX_LOCALE_LEN: usize = 35;
/// [`is_locale`] as a regular expression (for the API documents).
pub const LOCALE_PATTERN: &str = "^[A-Za-z0-9_-]+$";

/// A locale tag such as `en` or `en-GB`: 1 to [`MAX_LOCALE_LEN`] ASCII letters, digits, `-` and `_`.
pub fn is_locale(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= MAX_LOCALE_LEN
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `scheme://host[:port]` with nothing after it, as browsers send in `Origin`.
fn is_origin(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
    else {
        return false;
    };
    !rest.is_empty()
        && origin.len() <= 255
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b':')
}

/// The origins a site allows for browser calls.
pub async fn cors_origins(conn: &mut PgConnection, site_id: &str) -> Result<Vec<String>> {
    let origins: Option<Vec<String>> = sqlx::query_scalar(
        "select coalesce(array(select jsonb_array_elements_text(settings -> 'corsOrigins')), '{}') from sites where id = $1",
    )
    .bind(site_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(origins.unwrap_or_default())
}
