//! `/brands`.

use axum::extract::State;
use serde::Deserialize;

use crate::domain::catalog::Brand;
use crate::domain::catalog::brands::{self, BrandInput, BrandPatch};
use crate::http::auth::{ReadCatalog, WriteCatalog};
use crate::http::{
    ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, Path, Query, Scoped,
};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only the brand with this slug.
    slug: Option<String>,
}

/// List brands
///
/// All brands by name, or the one with a given slug.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/brands",
    tag = "Brands",
    params(("siteId" = String, Path), ListQuery),
    security(("bearerAuth" = ["read:catalog"])),
    responses((status = 200, description = "The brands", body = Data<Vec<Brand>>,
        example = json!({"success": true, "data": [{"id": "br_1", "name": "Essentials", "slug": "essentials"}]})),
        CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadCatalog>,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Data<Vec<Brand>>, ApiError> {
    Ok(Data::new(
        brands::list(&state.pool, key.site_id(), q.slug.as_deref()).await?,
    ))
}

/// Get a brand
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/brands/{brandId}",
    tag = "Brands",
    params(("siteId" = String, Path), ("brandId" = String, Path, description = "Brand id or slug")),
    security(("bearerAuth" = ["read:catalog"])),
    responses((status = 200, description = "The brand", body = Data<Brand>), CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadCatalog>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Data<Brand>, ApiError> {
    Ok(Data::new(
        brands::get(&state.pool, key.site_id(), &id).await?,
    ))
}

/// Create a brand
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/brands",
    tag = "Brands",
    params(("siteId" = String, Path)),
    request_body(content = BrandInput, example = json!({"name": "Essentials"})),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 201, description = "The new brand", body = Data<Brand>),
        (status = 409, description = "Slug already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Json(input): Json<BrandInput>,
) -> Result<Created<Brand>, ApiError> {
    Ok(Created(
        brands::create(&state.pool, key.site_id(), input).await?,
    ))
}

/// Update a brand
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/brands/{brandId}",
    tag = "Brands",
    params(("siteId" = String, Path), ("brandId" = String, Path)),
    request_body(content = BrandPatch, example = json!({"description": "Everyday basics"})),
    security(("bearerAuth" = ["write:catalog"])),
    responses((status = 200, description = "The updated brand", body = Data<Brand>), CommonErrors)
)]
pub async fn update(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(patch): Json<BrandPatch>,
) -> Result<Data<Brand>, ApiError> {
    Ok(Data::new(
        brands::update(&state.pool, key.site_id(), &id, patch).await?,
    ))
}

/// Replace a brand
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/brands/{brandId}",
    tag = "Brands",
    params(("siteId" = String, Path), ("brandId" = String, Path)),
    request_body(content = BrandInput, example = json!({"name": "Essentials"})),
    security(("bearerAuth" = ["write:catalog"])),
    responses((status = 200, description = "The replaced brand", body = Data<Brand>), CommonErrors)
)]
pub async fn replace(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(input): Json<BrandInput>,
) -> Result<Data<Brand>, ApiError> {
    Ok(Data::new(
        brands::replace(&state.pool, key.site_id(), &id, input).await?,
    ))
}

/// Delete a brand
///
/// Its products stay, without a brand.
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/brands/{brandId}",
    tag = "Brands",
    params(("siteId" = String, Path), ("brandId" = String, Path)),
    security(("bearerAuth" = ["write:catalog"])),
    responses((status = 200, description = "Deleted", body = Deleted), CommonErrors)
)]
pub async fn delete(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Deleted, ApiError> {
    brands::delete(&state.pool, key.site_id(), &id).await?;
    Ok(Deleted::new())
}
