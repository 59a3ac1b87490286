//! `/customers/{customerId}/addresses`.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::v1::formats::{CountryCode, Phone};
use crate::api::v1::patch;
use crate::domain::customers::Address;
use crate::domain::customers::addresses::{self, AddressInput, AddressPatch};
use crate::http::auth::{ReadCustomers, WriteCustomers};
use crate::http::{ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, Path, Scoped};
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CustomerAddress)]
pub struct AddressOut {
    #[schema(example = "addr_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    #[schema(example = "cust_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub customer_id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company: Option<String>,
    #[schema(example = "Brivibas iela 1")]
    pub line1: String,
    pub line2: Option<String>,
    #[schema(example = "Riga")]
    pub city: String,
    /// State, province or region.
    pub province: Option<String>,
    #[schema(example = "LV-1010")]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    #[schema(example = "LV")]
    pub country: String,
    pub phone: Option<String>,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Address> for AddressOut {
    fn from(a: Address) -> Self {
        AddressOut {
            id: a.id,
            customer_id: a.customer_id,
            first_name: a.first_name,
            last_name: a.last_name,
            company: a.company,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            province: a.province,
            postal_code: a.postal_code,
            country: a.country,
            phone: a.phone,
            is_default: a.is_default,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = AddressInput)]
pub struct AddressIn {
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub first_name: Option<String>,
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub last_name: Option<String>,
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub company: Option<String>,
    #[schema(
        example = "Brivibas iela 1",
        min_length = 1,
        max_length = 255,
        pattern = "\\S"
    )]
    pub line1: String,
    #[schema(min_length = 1, max_length = 255, pattern = "\\S")]
    pub line2: Option<String>,
    #[schema(example = "Riga", min_length = 1, max_length = 100, pattern = "\\S")]
    pub city: String,
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub province: Option<String>,
    #[schema(min_length = 1, max_length = 20, pattern = "\\S")]
    pub postal_code: Option<String>,
    #[schema(value_type = CountryCode)]
    pub country: String,
    #[schema(value_type = Option<Phone>)]
    pub phone: Option<String>,
    /// Make this the customer's default address. A customer's first address is the default anyway.
    pub is_default: Option<bool>,
}

impl From<AddressIn> for AddressInput {
    fn from(a: AddressIn) -> Self {
        AddressInput {
            first_name: a.first_name,
            last_name: a.last_name,
            company: a.company,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            province: a.province,
            postal_code: a.postal_code,
            country: a.country,
            phone: a.phone,
            is_default: a.is_default,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = AddressPatch)]
pub struct AddressPatchIn {
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100, pattern = "\\S")]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100, pattern = "\\S")]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200, pattern = "\\S")]
    pub company: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, min_length = 1, max_length = 255, pattern = "\\S")]
    pub line1: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 255, pattern = "\\S")]
    pub line2: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, min_length = 1, max_length = 100, pattern = "\\S")]
    pub city: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100, pattern = "\\S")]
    pub province: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 20, pattern = "\\S")]
    pub postal_code: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, value_type = CountryCode)]
    pub country: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<Phone>)]
    pub phone: Option<Option<String>>,
    /// `true` makes it the default (demoting the previous one); `false` leaves the customer without one.
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    pub is_default: Option<bool>,
}

impl From<AddressPatchIn> for AddressPatch {
    fn from(p: AddressPatchIn) -> Self {
        AddressPatch {
            first_name: p.first_name,
            last_name: p.last_name,
            company: p.company,
            line1: p.line1,
            line2: p.line2,
            city: p.city,
            province: p.province,
            postal_code: p.postal_code,
            country: p.country,
            phone: p.phone,
            is_default: p.is_default,
        }
    }
}

/// List a customer's addresses
///
/// The default address first.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/customers/{customerId}/addresses",
    tag = "Customers",
    params(("siteId" = String, Path), ("customerId" = String, Path)),
    security(("bearerAuth" = ["read:customers"])),
    responses((status = 200, description = "The addresses", body = Data<Vec<AddressOut>>), CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadCustomers>,
    State(state): State<AppState>,
    Path((_site, customer_id)): Path<(String, String)>,
) -> Result<Data<Vec<AddressOut>>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let list = addresses::list_for(&mut conn, key.site_id(), &customer_id).await?;
    Ok(Data::new(list.into_iter().map(AddressOut::from).collect()))
}

/// Add an address
///
/// A customer's first address becomes the default; `isDefault: true` makes a later one the default.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/customers/{customerId}/addresses",
    tag = "Customers",
    params(("siteId" = String, Path), ("customerId" = String, Path)),
    request_body(content = AddressIn, example = json!({"firstName": "Jane", "lastName": "Smith",
        "line1": "Brivibas iela 1", "city": "Riga", "postalCode": "LV-1010", "country": "LV"})),
    security(("bearerAuth" = ["write:customers"])),
    responses(
        (status = 201, description = "The new address", body = Data<AddressOut>),
        (status = 409, description = "The customer already has the most addresses allowed", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create(
    key: Scoped<WriteCustomers>,
    State(state): State<AppState>,
    Path((_site, customer_id)): Path<(String, String)>,
    Json(input): Json<AddressIn>,
) -> Result<Created<AddressOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let address = addresses::create(&mut tx, key.site_id(), &customer_id, input.into()).await?;
    tx.commit().await?;
    Ok(Created(address.into()))
}

/// Update an address
///
/// `isDefault: true` makes it the default (the previous default stops being one).
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/customers/{customerId}/addresses/{addressId}",
    tag = "Customers",
    params(("siteId" = String, Path), ("customerId" = String, Path), ("addressId" = String, Path)),
    request_body(content = AddressPatchIn, example = json!({"line2": "Apt. 4", "isDefault": true})),
    security(("bearerAuth" = ["write:customers"])),
    responses((status = 200, description = "The updated address", body = Data<AddressOut>), CommonErrors)
)]
pub async fn update(
    key: Scoped<WriteCustomers>,
    State(state): State<AppState>,
    Path((_site, customer_id, id)): Path<(String, String, String)>,
    Json(patch): Json<AddressPatchIn>,
) -> Result<Data<AddressOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let address =
        addresses::update(&mut tx, key.site_id(), &customer_id, &id, patch.into()).await?;
    tx.commit().await?;
    Ok(Data::new(address.into()))
}

/// Delete an address
///
/// When it was the default, the oldest remaining address becomes the default.
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/customers/{customerId}/addresses/{addressId}",
    tag = "Customers",
    params(("siteId" = String, Path), ("customerId" = String, Path), ("addressId" = String, Path)),
    security(("bearerAuth" = ["write:customers"])),
    responses((status = 200, description = "Deleted", body = Deleted), CommonErrors)
)]
pub async fn delete(
    key: Scoped<WriteCustomers>,
    State(state): State<AppState>,
    Path((_site, customer_id, id)): Path<(String, String, String)>,
) -> Result<Deleted, ApiError> {
    let mut tx = state.pool.begin().await?;
    addresses::delete(&mut tx, key.site_id(), &customer_id, &id).await?;
    tx.commit().await?;
    Ok(Deleted::new())
}
