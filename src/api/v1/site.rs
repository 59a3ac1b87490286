//! `/site`: the site's configuration.

use axum::extract::State;

use crate::domain::sites::{self, Site, SitePatch};
use crate::http::auth::{Admin, ReadContent};
use crate::http::{ApiError, CommonErrors, Data, Json, Scoped};
use crate::state::AppState;

/// Get the site
///
/// Name, locale, currency, verified domains and theme design tokens.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/site",
    tag = "Site",
    params(("siteId" = String, Path)),
    security(("bearerAuth" = ["read:content"])),
    responses((status = 200, description = "The site", body = Data<Site>,
        example = json!({"success": true, "data": {"id": "site_abc", "name": "My Store", "locale": "en", "currency": "EUR",
            "primaryDomain": "mystore.eu", "theme": {"--color-primary": "#6366f1"}}})),
        CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadContent>,
    State(state): State<AppState>,
) -> Result<Data<Site>, ApiError> {
    Ok(Data::new(sites::get(&state.pool, key.site_id()).await?))
}

/// Update the site
///
/// Name, locale, whether prices include tax, the per-key rate limit, domains and theme tokens.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/site",
    tag = "Site",
    params(("siteId" = String, Path)),
    request_body(content = SitePatch, example = json!({"pricesIncludeTax": true, "theme": {"--color-primary": "#6366f1"}})),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 200, description = "The site", body = Data<Site>), CommonErrors)
)]
pub async fn update(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Json(patch): Json<SitePatch>,
) -> Result<Data<Site>, ApiError> {
    let site = sites::update(&state.pool, key.site_id(), patch).await?;
    state.site_origins.forget(&site.id);
    state.auth_cache.forget_site(&site.id);
    Ok(Data::new(site))
}
