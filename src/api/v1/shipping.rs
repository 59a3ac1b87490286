//! `/shipping-methods` and `/tax-rates`: readable by checkout keys, managed by admin keys.

use axum::extract::State;

use crate::domain::shipping::{
    self, ShippingMethod, ShippingMethodInput, ShippingMethodPatch, TaxRate, TaxRateInput,
};
use crate::http::auth::{Admin, ReadCheckout};
use crate::http::{ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, Path, Scoped};
use crate::state::AppState;

/// List shipping methods
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/shipping-methods",
    tag = "Shipping and tax",
    params(("siteId" = String, Path)),
    security(("bearerAuth" = ["read:checkout"])),
    responses((status = 200, description = "The methods, cheapest first", body = Data<Vec<ShippingMethod>>), CommonErrors)
)]
pub async fn list_methods(
    key: Scoped<ReadCheckout>,
    State(state): State<AppState>,
) -> Result<Data<Vec<ShippingMethod>>, ApiError> {
    Ok(Data::new(
        shipping::list_methods(&state.pool, key.site_id()).await?,
    ))
}

/// Create a shipping method
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/shipping-methods",
    tag = "Shipping and tax",
    params(("siteId" = String, Path)),
    request_body(content = ShippingMethodInput, example = json!({"name": "Standard", "code": "standard", "price": 499,
        "freeAbove": 5000, "countries": ["LV", "LT", "EE"]})),
    security(("bearerAuth" = ["admin:*"])),
    responses(
        (status = 201, description = "The new method", body = Data<ShippingMethod>),
        (status = 409, description = "Code already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create_method(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Json(input): Json<ShippingMethodInput>,
) -> Result<Created<ShippingMethod>, ApiError> {
    Ok(Created(
        shipping::create_method(&state.pool, key.site_id(), input).await?,
    ))
}

/// Update a shipping method
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/shipping-methods/{methodId}",
    tag = "Shipping and tax",
    params(("siteId" = String, Path), ("methodId" = String, Path, description = "Method id or code")),
    request_body(content = ShippingMethodPatch, example = json!({"price": 599})),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 200, description = "The updated method", body = Data<ShippingMethod>), CommonErrors)
)]
pub async fn update_method(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(patch): Json<ShippingMethodPatch>,
) -> Result<Data<ShippingMethod>, ApiError> {
    Ok(Data::new(
        shipping::update_method(&state.pool, key.site_id(), &id, patch).await?,
    ))
}

/// Delete a shipping method
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/shipping-methods/{methodId}",
    tag = "Shipping and tax",
    params(("siteId" = String, Path), ("methodId" = String, Path)),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 200, description = "Deleted", body = Deleted), CommonErrors)
)]
pub async fn delete_method(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Deleted, ApiError> {
    shipping::delete_method(&state.pool, key.site_id(), &id).await?;
    Ok(Deleted::new())
}

/// List tax rates
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/tax-rates",
    tag = "Shipping and tax",
    params(("siteId" = String, Path)),
    security(("bearerAuth" = ["read:checkout"])),
    responses((status = 200, description = "Rates by country", body = Data<Vec<TaxRate>>), CommonErrors)
)]
pub async fn list_tax_rates(
    key: Scoped<ReadCheckout>,
    State(state): State<AppState>,
) -> Result<Data<Vec<TaxRate>>, ApiError> {
    Ok(Data::new(
        shipping::list_tax_rates(&state.pool, key.site_id()).await?,
    ))
}

/// Create a tax rate
///
/// One rate per country; `percentage` may have two decimals (21 or 21.5). Whether prices include tax is the
/// site setting `pricesIncludeTax` (PATCH /site).
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/tax-rates",
    tag = "Shipping and tax",
    params(("siteId" = String, Path)),
    request_body(content = TaxRateInput, example = json!({"country": "LV", "percentage": 21, "name": "PVN"})),
    security(("bearerAuth" = ["admin:*"])),
    responses(
        (status = 201, description = "The new rate", body = Data<TaxRate>),
        (status = 409, description = "The country already has a rate", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create_tax_rate(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Json(input): Json<TaxRateInput>,
) -> Result<Created<TaxRate>, ApiError> {
    Ok(Created(
        shipping::create_tax_rate(&state.pool, key.site_id(), input).await?,
    ))
}

/// Delete a tax rate
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/tax-rates/{taxRateId}",
    tag = "Shipping and tax",
    params(("siteId" = String, Path), ("taxRateId" = String, Path, description = "Rate id or country code")),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 200, description = "Deleted", body = Deleted), CommonErrors)
)]
pub async fn delete_tax_rate(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Deleted, ApiError> {
    shipping::delete_tax_rate(&state.pool, key.site_id(), &id).await?;
    Ok(Deleted::new())
}
