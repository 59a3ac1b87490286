//! `/locations`: where stock is kept.

use axum::extract::State;

use crate::domain::inventory::Location;
use crate::domain::inventory::locations::{self, LocationInput, LocationPatch};
use crate::http::auth::{ReadInventory, WriteInventory};
use crate::http::{ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, Path, Scoped};
use crate::state::AppState;

/// List locations
///
/// The default location first.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/locations",
    tag = "Locations",
    params(("siteId" = String, Path)),
    security(("bearerAuth" = ["read:inventory"])),
    responses((status = 200, description = "The locations", body = Data<Vec<Location>>), CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadInventory>,
    State(state): State<AppState>,
) -> Result<Data<Vec<Location>>, ApiError> {
    Ok(Data::new(
        locations::list(&state.pool, key.site_id()).await?,
    ))
}

/// Get a location
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/locations/{locationId}",
    tag = "Locations",
    params(("siteId" = String, Path), ("locationId" = String, Path, description = "Location id or slug")),
    security(("bearerAuth" = ["read:inventory"])),
    responses((status = 200, description = "The location", body = Data<Location>), CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadInventory>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Data<Location>, ApiError> {
    Ok(Data::new(
        locations::get(&state.pool, key.site_id(), &id).await?,
    ))
}

/// Create a location
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/locations",
    tag = "Locations",
    params(("siteId" = String, Path)),
    request_body(content = LocationInput, example = json!({"name": "Riga shop", "address": {"city": "Riga", "country": "LV"}})),
    security(("bearerAuth" = ["write:inventory"])),
    responses(
        (status = 201, description = "The new location", body = Data<Location>),
        (status = 409, description = "Slug already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create(
    key: Scoped<WriteInventory>,
    State(state): State<AppState>,
    Json(input): Json<LocationInput>,
) -> Result<Created<Location>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let location = locations::create(&mut tx, key.site_id(), input).await?;
    tx.commit().await?;
    Ok(Created(location))
}

/// Update a location
///
/// `isDefault: true` makes it the site's default (the previous one stops being default). Deactivating a
/// location takes its stock out of variants' totals.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/locations/{locationId}",
    tag = "Locations",
    params(("siteId" = String, Path), ("locationId" = String, Path)),
    request_body(content = LocationPatch, example = json!({"active": false})),
    security(("bearerAuth" = ["write:inventory"])),
    responses((status = 200, description = "The updated location", body = Data<Location>), CommonErrors)
)]
pub async fn update(
    key: Scoped<WriteInventory>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(patch): Json<LocationPatch>,
) -> Result<Data<Location>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let location = locations::update(&mut tx, key.site_id(), &id, patch).await?;
    tx.commit().await?;
    Ok(Data::new(location))
}

/// Replace a location
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/locations/{locationId}",
    tag = "Locations",
    params(("siteId" = String, Path), ("locationId" = String, Path)),
    request_body(content = LocationInput, example = json!({"name": "Riga shop"})),
    security(("bearerAuth" = ["write:inventory"])),
    responses((status = 200, description = "The replaced location", body = Data<Location>), CommonErrors)
)]
pub async fn replace(
    key: Scoped<WriteInventory>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(input): Json<LocationInput>,
) -> Result<Data<Location>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let location = locations::replace(&mut tx, key.site_id(), &id, input).await?;
    tx.commit().await?;
    Ok(Data::new(location))
}

/// Delete a location
///
/// With its stock, which leaves variants' totals. The default location cannot be deleted (409).
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/locations/{locationId}",
    tag = "Locations",
    params(("siteId" = String, Path), ("locationId" = String, Path)),
    security(("bearerAuth" = ["write:inventory"])),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 409, description = "The default location", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn delete(
    key: Scoped<WriteInventory>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Deleted, ApiError> {
    let mut tx = state.pool.begin().await?;
    locations::delete(&mut tx, key.site_id(), &id).await?;
    tx.commit().await?;
    Ok(Deleted::new())
}
