//! `/customers/{customerId}/addresses`.

use axum::extract::State;

use crate::domain::customers::Address;
use crate::domain::customers::addresses::{self, AddressInput, AddressPatch};
use crate::http::auth::{ReadCustomers, WriteCustomers};
use crate::http::{ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, Path, Scoped};
use crate::state::AppState;

/// List a customer's addresses
///
/// The default address first.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/customers/{customerId}/addresses",
    tag = "Customers",
    params(("siteId" = String, Path), ("customerId" = String, Path)),
    security(("bearerAuth" = ["read:customers"])),
    responses((status = 200, description = "The addresses", body = Data<Vec<Address>>), CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadCustomers>,
    State(state): State<AppState>,
    Path((_site, customer_id)): Path<(String, String)>,
) -> Result<Data<Vec<Address>>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    Ok(Data::new(
        addresses::list_for(&mut conn, key.site_id(), &customer_id).await?,
    ))
}

/// Add an address
///
/// A customer's first address becomes the default; `isDefault: true` makes a later one the default.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/customers/{customerId}/addresses",
    tag = "Customers",
    params(("siteId" = String, Path), ("customerId" = String, Path)),
    request_body(content = AddressInput, example = json!({"firstName": "Jane", "lastName": "Smith",
        "line1": "Brivibas iela 1", "city": "Riga", "postalCode": "LV-1010", "country": "LV"})),
    security(("bearerAuth" = ["write:customers"])),
    responses(
        (status = 201, description = "The new address", body = Data<Address>),
        (status = 409, description = "The customer already has the most addresses allowed", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create(
    key: Scoped<WriteCustomers>,
    State(state): State<AppState>,
    Path((_site, customer_id)): Path<(String, String)>,
    Json(input): Json<AddressInput>,
) -> Result<Created<Address>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let address = addresses::create(&mut tx, key.site_id(), &customer_id, input).await?;
    tx.commit().await?;
    Ok(Created(address))
}

/// Update an address
///
/// `isDefault: true` makes it the default (the previous default stops being one).
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/customers/{customerId}/addresses/{addressId}",
    tag = "Customers",
    params(("siteId" = String, Path), ("customerId" = String, Path), ("addressId" = String, Path)),
    request_body(content = AddressPatch, example = json!({"line2": "Apt. 4", "isDefault": true})),
    security(("bearerAuth" = ["write:customers"])),
    responses((status = 200, description = "The updated address", body = Data<Address>), CommonErrors)
)]
pub async fn update(
    key: Scoped<WriteCustomers>,
    State(state): State<AppState>,
    Path((_site, customer_id, id)): Path<(String, String, String)>,
    Json(patch): Json<AddressPatch>,
) -> Result<Data<Address>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let address = addresses::update(&mut tx, key.site_id(), &customer_id, &id, patch).await?;
    tx.commit().await?;
    Ok(Data::new(address))
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
