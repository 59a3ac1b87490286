//! `/shipping-methods` and `/tax-rates`: readable by checkout keys, managed by admin keys.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::v1::formats::{Code, CountryCode};
use crate::api::v1::patch;
use crate::domain::shipping::{
    self, NewShippingMethod, NewTaxRate, ShippingMethod, ShippingMethodPatch, TaxRate,
};
use crate::http::auth::{Admin, ReadCheckout};
use crate::http::{ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, Path, Scoped};
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ShippingMethod)]
pub struct ShippingMethodOut {
    #[schema(example = "shm_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    id: String,
    #[schema(example = "Standard")]
    name: String,
    #[schema(example = "standard")]
    code: String,
    /// Minor units.
    #[schema(example = 499)]
    price: i64,
    /// Free when the discounted subtotal reaches this amount.
    free_above: Option<i64>,
    /// ISO 3166-1 alpha-2 codes served; empty means every country.
    countries: Vec<String>,
    active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<ShippingMethod> for ShippingMethodOut {
    fn from(m: ShippingMethod) -> Self {
        ShippingMethodOut {
            id: m.id,
            name: m.name,
            code: m.code,
            price: m.price,
            free_above: m.free_above,
            countries: m.countries,
            active: m.active,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ShippingMethodInput)]
pub struct ShippingMethodIn {
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    name: String,
    #[schema(value_type = Code)]
    code: String,
    #[schema(minimum = 0, maximum = 10_000_000_000_000_f64)]
    price: i64,
    #[schema(minimum = 0, maximum = 10_000_000_000_000_f64)]
    free_above: Option<i64>,
    /// Where the method ships; empty for everywhere.
    #[serde(default)]
    #[schema(value_type = Vec<CountryCode>, max_items = 250)]
    countries: Vec<String>,
    active: Option<bool>,
}

impl From<ShippingMethodIn> for NewShippingMethod {
    fn from(m: ShippingMethodIn) -> Self {
        NewShippingMethod {
            name: m.name,
            code: m.code,
            price: m.price,
            free_above: m.free_above,
            countries: m.countries,
            active: m.active,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ShippingMethodPatch)]
pub struct ShippingMethodPatchIn {
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, min_length = 1, max_length = 200, pattern = "\\S")]
    name: Option<String>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, minimum = 0, maximum = 10_000_000_000_000_f64)]
    price: Option<i64>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10_000_000_000_000_f64)]
    free_above: Option<Option<i64>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, value_type = Vec<CountryCode>, max_items = 250)]
    countries: Option<Vec<String>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    active: Option<bool>,
}

impl From<ShippingMethodPatchIn> for ShippingMethodPatch {
    fn from(p: ShippingMethodPatchIn) -> Self {
        ShippingMethodPatch {
            name: p.name,
            price: p.price,
            free_above: p.free_above,
            countries: p.countries,
            active: p.active,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = TaxRate)]
pub struct TaxRateOut {
    #[schema(example = "tax_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    id: String,
    #[schema(example = "LV")]
    country: String,
    /// Percent with up to two decimals, as given (e.g. 21 or 21.5).
    #[schema(value_type = f64, example = 21.5)]
    percentage: serde_json::Number,
    name: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<TaxRate> for TaxRateOut {
    fn from(r: TaxRate) -> Self {
        let percentage = if r.basis_points % 100 == 0 {
            serde_json::Number::from(r.basis_points / 100)
        } else {
            // Exact: two decimals at most, formatted from integers.
            let text = format!("{}.{:02}", r.basis_points / 100, r.basis_points % 100);
            text.trim_end_matches('0')
                .parse::<serde_json::Number>()
                .unwrap_or_else(|_| serde_json::Number::from(0))
        };
        TaxRateOut {
            id: r.id,
            country: r.country,
            percentage,
            name: r.name,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = TaxRateInput)]
pub struct TaxRateIn {
    #[schema(value_type = CountryCode)]
    country: String,
    /// Percent from 0 to 100 (21 or 21.5), kept to the hundredth (rounded half up).
    #[schema(value_type = f64, example = 21, minimum = 0, maximum = 100)]
    percentage: serde_json::Number,
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    name: Option<String>,
}

impl From<TaxRateIn> for NewTaxRate {
    /// The percentage travels as the number's decimal text, so no float rounds it.
    fn from(r: TaxRateIn) -> Self {
        NewTaxRate {
            country: r.country,
            percentage: r.percentage.to_string(),
            name: r.name,
        }
    }
}

/// List shipping methods
///
/// Every method, inactive ones included, cheapest first. A method serves a country when it is active and
/// lists the country (an empty `countries` serves every country). Any key with `read:checkout` may read
/// them, publishable keys included.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/shipping-methods",
    tag = "Shipping and tax",
    params(("siteId" = String, Path)),
    security(("bearerAuth" = ["read:checkout"])),
    responses((status = 200, description = "The methods, cheapest first", body = Data<Vec<ShippingMethodOut>>), CommonErrors)
)]
pub async fn list_methods(
    key: Scoped<ReadCheckout>,
    State(state): State<AppState>,
) -> Result<Data<Vec<ShippingMethodOut>>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let methods = shipping::list_methods(&mut conn, key.site_id()).await?;
    Ok(Data::new(methods.into_iter().map(Into::into).collect()))
}

/// Create a shipping method
///
/// Needs an `admin:*` key. `code` (1–64 letters, digits, `-` or `_`) is unique per site (409) and fixed
/// once created; a checkout's shipping step accepts the id or the code. Shipping is free when the
/// discounted subtotal reaches `freeAbove`. Active unless `active: false`; an empty `countries` serves
/// every country.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/shipping-methods",
    tag = "Shipping and tax",
    params(("siteId" = String, Path)),
    request_body(content = ShippingMethodIn, example = json!({"name": "Standard", "code": "standard", "price": 499,
        "freeAbove": 5000, "countries": ["LV", "LT", "EE"]})),
    security(("bearerAuth" = ["admin:*"])),
    responses(
        (status = 201, description = "The new method", body = Data<ShippingMethodOut>),
        (status = 409, description = "Code already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create_method(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Json(input): Json<ShippingMethodIn>,
) -> Result<Created<ShippingMethodOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let method = shipping::create_method(&mut conn, key.site_id(), input.into()).await?;
    Ok(Created(method.into()))
}

/// Update a shipping method
///
/// By id or code; needs an `admin:*` key. Only the fields sent change; `null` removes `freeAbove`; the code
/// is fixed. A checkout whose chosen method was deactivated, or no longer serves its country, is refused at
/// `review` (409 `SHIPPING_UNAVAILABLE`) until it picks another.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/shipping-methods/{methodId}",
    tag = "Shipping and tax",
    params(("siteId" = String, Path), ("methodId" = String, Path, description = "Method id or code")),
    request_body(content = ShippingMethodPatchIn, example = json!({"price": 599})),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 200, description = "The updated method", body = Data<ShippingMethodOut>), CommonErrors)
)]
pub async fn update_method(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(patch): Json<ShippingMethodPatchIn>,
) -> Result<Data<ShippingMethodOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let method = shipping::update_method(&mut conn, key.site_id(), &id, patch.into()).await?;
    Ok(Data::new(method.into()))
}

/// Delete a shipping method
///
/// By id or code; needs an `admin:*` key. Checkouts that chose it lose its charge from their totals and are
/// refused at `review` (409 `SHIPPING_UNAVAILABLE`) until they pick another; placed orders keep their
/// shipping.
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
    let mut conn = state.pool.acquire().await?;
    shipping::delete_method(&mut conn, key.site_id(), &id).await?;
    Ok(Deleted::new())
}

/// List tax rates
///
/// One per country, by country code. Checkout taxes the discounted subtotal plus shipping at the rate of
/// the shipping address's country; a country without a rate is not taxed. A rate cannot be changed: delete
/// it and create it again.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/tax-rates",
    tag = "Shipping and tax",
    params(("siteId" = String, Path)),
    security(("bearerAuth" = ["read:checkout"])),
    responses((status = 200, description = "Rates by country", body = Data<Vec<TaxRateOut>>), CommonErrors)
)]
pub async fn list_tax_rates(
    key: Scoped<ReadCheckout>,
    State(state): State<AppState>,
) -> Result<Data<Vec<TaxRateOut>>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let rates = shipping::list_tax_rates(&mut conn, key.site_id()).await?;
    Ok(Data::new(rates.into_iter().map(Into::into).collect()))
}

/// Create a tax rate
///
/// One rate per country; `percentage` is kept to two decimals (21 or 21.5). Whether prices include tax is the
/// site setting `pricesIncludeTax` (PATCH /site).
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/tax-rates",
    tag = "Shipping and tax",
    params(("siteId" = String, Path)),
    request_body(content = TaxRateIn, example = json!({"country": "LV", "percentage": 21, "name": "PVN"})),
    security(("bearerAuth" = ["admin:*"])),
    responses(
        (status = 201, description = "The new rate", body = Data<TaxRateOut>),
        (status = 409, description = "The country already has a rate", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create_tax_rate(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Json(input): Json<TaxRateIn>,
) -> Result<Created<TaxRateOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let rate = shipping::create_tax_rate(&mut conn, key.site_id(), input.into()).await?;
    Ok(Created(rate.into()))
}

/// Delete a tax rate
///
/// By id or country code (`LV`); needs an `admin:*` key. The country is untaxed from then on, open
/// checkouts included; placed orders keep their tax.
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
    let mut conn = state.pool.acquire().await?;
    shipping::delete_tax_rate(&mut conn, key.site_id(), &id).await?;
    Ok(Deleted::new())
}
