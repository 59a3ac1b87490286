//! `/locations`: where stock is kept.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::v1::formats::{LocationAddress, Slug};
use crate::api::v1::patch;
use crate::domain::inventory::Location;
use crate::domain::inventory::locations::{self, LocationInput, LocationPatch};
use crate::http::auth::{ReadInventory, WriteInventory};
use crate::http::{ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, Path, Scoped};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Location)]
#[serde(rename_all = "camelCase")]
pub struct LocationOut {
    #[schema(example = "loc_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    id: String,
    /// Numeric id for dialects that expect integers.
    number: i64,
    #[schema(example = "main-warehouse")]
    slug: String,
    #[schema(example = "Main warehouse")]
    name: String,
    description: Option<String>,
    #[schema(value_type = LocationAddress)]
    address: Map<String, Value>,
    active: bool,
    is_default: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Location> for LocationOut {
    fn from(l: Location) -> Self {
        LocationOut {
            id: l.id,
            number: l.number,
            slug: l.slug,
            name: l.name,
            description: l.description,
            address: l.address,
            active: l.active,
            is_default: l.is_default,
            created_at: l.created_at,
            updated_at: l.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = LocationInput)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocationIn {
    #[schema(
        example = "Main warehouse",
        min_length = 1,
        max_length = 200,
        pattern = "\\S"
    )]
    name: String,
    #[schema(value_type = Option<Slug>)]
    slug: Option<String>,
    #[schema(max_length = 10000)]
    description: Option<String>,
    #[schema(value_type = Option<LocationAddress>)]
    address: Option<Map<String, Value>>,
    active: Option<bool>,
    /// Make this the site's default location (the previous default stops being one).
    is_default: Option<bool>,
}

impl From<LocationIn> for LocationInput {
    fn from(l: LocationIn) -> Self {
        LocationInput {
            name: l.name,
            slug: l.slug,
            description: l.description,
            address: l.address,
            active: l.active,
            is_default: l.is_default,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = LocationPatch)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocationPatchIn {
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, min_length = 1, max_length = 200, pattern = "\\S")]
    name: Option<String>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, value_type = Slug)]
    slug: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(value_type = LocationAddress, nullable = false)]
    address: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    active: Option<bool>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    is_default: Option<bool>,
}

impl From<LocationPatchIn> for LocationPatch {
    fn from(p: LocationPatchIn) -> Self {
        LocationPatch {
            name: p.name,
            slug: p.slug,
            description: p.description,
            address: p.address,
            active: p.active,
            is_default: p.is_default,
        }
    }
}

/// List locations
///
/// The default location first.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/locations",
    tag = "Locations",
    params(("siteId" = String, Path)),
    security(("bearerAuth" = ["read:inventory"])),
    responses((status = 200, description = "The locations", body = Data<Vec<LocationOut>>), CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadInventory>,
    State(state): State<AppState>,
) -> Result<Data<Vec<LocationOut>>, ApiError> {
    let list = locations::list(&mut *state.pool.acquire().await?, key.site_id()).await?;
    Ok(Data::new(list.into_iter().map(Into::into).collect()))
}

/// Get a location
///
/// By id or slug, with its address and whether it is active and the site's default.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/locations/{locationId}",
    tag = "Locations",
    params(("siteId" = String, Path), ("locationId" = String, Path, description = "Location id or slug")),
    security(("bearerAuth" = ["read:inventory"])),
    responses((status = 200, description = "The location", body = Data<LocationOut>), CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadInventory>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Data<LocationOut>, ApiError> {
    let location = locations::get(&mut *state.pool.acquire().await?, key.site_id(), &id).await?;
    Ok(Data::new(location.into()))
}

/// Create a location
///
/// Active unless `active: false`. `isDefault: true` makes it the site's default location (it must then be
/// active; the previous default stops being one). The slug is derived from the name when omitted; slugs are
/// unique per site (409).
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/locations",
    tag = "Locations",
    params(("siteId" = String, Path)),
    request_body(content = LocationIn, example = json!({"name": "Riga shop", "address": {"city": "Riga", "country": "LV"}})),
    security(("bearerAuth" = ["write:inventory"])),
    responses(
        (status = 201, description = "The new location", body = Data<LocationOut>),
        (status = 409, description = "Slug already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create(
    key: Scoped<WriteInventory>,
    State(state): State<AppState>,
    Json(input): Json<LocationIn>,
) -> Result<Created<LocationOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let location = locations::create(&mut tx, key.site_id(), input.into()).await?;
    tx.commit().await?;
    Ok(Created(location.into()))
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
    request_body(content = LocationPatchIn, example = json!({"active": false})),
    security(("bearerAuth" = ["write:inventory"])),
    responses(
        (status = 200, description = "The updated location", body = Data<LocationOut>),
        (status = 409, description = "Slug already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn update(
    key: Scoped<WriteInventory>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(patch): Json<LocationPatchIn>,
) -> Result<Data<LocationOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let location = locations::update(&mut tx, key.site_id(), &id, patch.into()).await?;
    tx.commit().await?;
    Ok(Data::new(location.into()))
}

/// Replace a location
///
/// By id or slug. Every field is set from the body: omitted `description` and `address` are cleared, an
/// omitted `active` is true and an omitted slug is derived from the name. The default location stays the
/// default (`isDefault: false` on it is refused: promote another location instead) and must stay active.
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/locations/{locationId}",
    tag = "Locations",
    params(("siteId" = String, Path), ("locationId" = String, Path)),
    request_body(content = LocationIn, example = json!({"name": "Riga shop"})),
    security(("bearerAuth" = ["write:inventory"])),
    responses(
        (status = 200, description = "The replaced location", body = Data<LocationOut>),
        (status = 409, description = "Slug already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn replace(
    key: Scoped<WriteInventory>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(input): Json<LocationIn>,
) -> Result<Data<LocationOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let location = locations::replace(&mut tx, key.site_id(), &id, input.into()).await?;
    tx.commit().await?;
    Ok(Data::new(location.into()))
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
