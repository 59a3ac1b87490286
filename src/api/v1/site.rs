//! `/site`: the site's configuration.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::v1::formats::{HostName, LocaleTag, Origin, ThemeTokens};
use crate::api::v1::patch;
use crate::domain::sites::{self, Site, SitePatch};
use crate::http::auth::{Admin, ReadContent};
use crate::http::{ApiError, CommonErrors, Data, Json, Scoped};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Site)]
#[serde(rename_all = "camelCase")]
pub struct SiteOut {
    #[schema(example = "site_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    id: String,
    #[schema(example = "My Store")]
    name: String,
    /// A short unique name (sent as `X-Mozello-Alias` with Mozello notifications).
    #[schema(example = "my-store")]
    alias: Option<String>,
    #[schema(example = "en")]
    locale: String,
    locales: Vec<String>,
    #[schema(example = "EUR")]
    currency: String,
    /// The first verified custom domain, when the site has one.
    primary_domain: Option<String>,
    domains: Vec<String>,
    /// Active theme design tokens (CSS custom properties).
    #[schema(value_type = std::collections::HashMap<String, String>, example = json!({"--color-primary": "#6366f1"}))]
    theme: serde_json::Value,
    /// Whether catalog prices include tax (then the tax line is the part already inside the total).
    prices_include_tax: bool,
    /// Whether new product reviews are published at once (otherwise they wait as PENDING for moderation).
    reviews_auto_approve: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Site> for SiteOut {
    fn from(s: Site) -> Self {
        SiteOut {
            id: s.id,
            name: s.name,
            alias: s.alias,
            locale: s.locale,
            locales: s.locales,
            currency: s.currency,
            primary_domain: s.primary_domain,
            domains: s.domains,
            theme: s.theme,
            prices_include_tax: s.prices_include_tax,
            reviews_auto_approve: s.reviews_auto_approve,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// Changes to a site's configuration (PATCH /site).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = SitePatch)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SitePatchIn {
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, min_length = 1, max_length = 200, pattern = "\\S")]
    name: Option<String>,
    /// A short unique name: lower-case letters, digits and hyphens (`null` removes it; 409 when another
    /// site has it).
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 63, pattern = "^[a-z0-9-]+$")]
    alias: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, value_type = LocaleTag)]
    locale: Option<String>,
    /// Every language the site publishes (localized product text); must include `locale` (a new `locale`
    /// alone joins the list).
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, value_type = Vec<LocaleTag>, max_items = 50)]
    locales: Option<Vec<String>>,
    /// ISO 4217; changes only while the site has no orders and no gift cards (409 otherwise).
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(
        nullable = false,
        example = "EUR",
        pattern = "^[A-Z]{3}$",
        min_length = 3,
        max_length = 3
    )]
    currency: Option<String>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    prices_include_tax: Option<bool>,
    /// Publish new product reviews at once instead of holding them as PENDING.
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    reviews_auto_approve: Option<bool>,
    /// Requests per minute per key on routes without a stricter limit; `null` returns to the server default.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 100000)]
    rate_limit_per_minute: Option<Option<i32>>,
    /// Verified custom domains, the primary first.
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, value_type = Vec<HostName>, max_items = 20)]
    domains: Option<Vec<String>>,
    /// Origins allowed to call this site's API from a browser (`https://shop.example.com`).
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, value_type = Vec<Origin>, max_items = 50)]
    cors_origins: Option<Vec<String>>,
    /// Theme design tokens (CSS custom properties to string values).
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(value_type = ThemeTokens, nullable = false)]
    theme: Option<serde_json::Map<String, serde_json::Value>>,
}

impl From<SitePatchIn> for SitePatch {
    fn from(p: SitePatchIn) -> Self {
        SitePatch {
            name: p.name,
            alias: p.alias,
            locale: p.locale,
            locales: p.locales,
            currency: p.currency,
            prices_include_tax: p.prices_include_tax,
            reviews_auto_approve: p.reviews_auto_approve,
            rate_limit_per_minute: p.rate_limit_per_minute,
            domains: p.domains,
            cors_origins: p.cors_origins,
            theme: p.theme,
        }
    }
}

/// Get the site
///
/// Name, locale, currency, verified domains and theme design tokens.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/site",
    tag = "Site",
    params(("siteId" = String, Path)),
    security(("bearerAuth" = ["read:content"])),
    responses((status = 200, description = "The site", body = Data<SiteOut>,
        example = json!({"success": true, "data": {"id": "site_01JD2W3M4N5P6Q7R8S9T0V1W2X", "name": "My Store",
            "locale": "en", "locales": ["en", "lv"], "currency": "EUR", "primaryDomain": "mystore.eu",
            "domains": ["mystore.eu"], "theme": {"--color-primary": "#6366f1"}, "pricesIncludeTax": true, "reviewsAutoApprove": false,
            "createdAt": "2026-01-15T09:30:00Z", "updatedAt": "2026-01-15T09:30:00Z"}})),
        CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadContent>,
    State(state): State<AppState>,
) -> Result<Data<SiteOut>, ApiError> {
    let site = sites::get(&mut *state.pool.acquire().await?, key.site_id()).await?;
    Ok(Data::new(site.into()))
}

/// Update the site
///
/// Name, locale, whether prices include tax, the per-key rate limit, domains and theme tokens.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/site",
    tag = "Site",
    params(("siteId" = String, Path)),
    request_body(content = SitePatchIn, example = json!({"pricesIncludeTax": true, "theme": {"--color-primary": "#6366f1"}})),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 200, description = "The site", body = Data<SiteOut>), CommonErrors)
)]
pub async fn update(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Json(patch): Json<SitePatchIn>,
) -> Result<Data<SiteOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let site = sites::update(&mut tx, key.site_id(), patch.into()).await?;
    tx.commit().await?;
    state.site_origins.forget(&site.id);
    state.auth_cache.forget_site(&site.id);
    Ok(Data::new(site.into()))
}
