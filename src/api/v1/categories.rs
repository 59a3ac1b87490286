//! `/categories`: the category tree, listed flat.

use axum::extract::State;
use serde::Deserialize;

use crate::domain::catalog::Category;
use crate::domain::catalog::categories::{self, CategoryInput, CategoryPatch};
use crate::http::auth::{ReadCatalog, WriteCatalog};
use crate::http::{
    ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, Path, Query, Scoped,
};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// Only the category with this slug.
    slug: Option<String>,
    /// Only children of this category.
    parent_id: Option<String>,
}

/// List categories
///
/// All categories as a flat list (roots first, siblings by position), or filtered by slug or parent.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/categories",
    tag = "Categories",
    params(("siteId" = String, Path), ListQuery),
    security(("bearerAuth" = ["read:catalog"])),
    responses((status = 200, description = "The categories", body = Data<Vec<Category>>,
        example = json!({"success": true, "data": [{"id": "cat_1", "name": "Apparel", "slug": "apparel", "parentId": null, "position": 0}]})),
        CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadCatalog>,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Data<Vec<Category>>, ApiError> {
    let items = categories::list(
        &state.pool,
        key.site_id(),
        q.slug.as_deref(),
        q.parent_id.as_deref(),
    )
    .await?;
    Ok(Data::new(items))
}

/// Get a category
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/categories/{categoryId}",
    tag = "Categories",
    params(("siteId" = String, Path), ("categoryId" = String, Path, description = "Category id or slug")),
    security(("bearerAuth" = ["read:catalog"])),
    responses((status = 200, description = "The category", body = Data<Category>), CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadCatalog>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Data<Category>, ApiError> {
    Ok(Data::new(
        categories::get(&state.pool, key.site_id(), &id).await?,
    ))
}

/// Create a category
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/categories",
    tag = "Categories",
    params(("siteId" = String, Path)),
    request_body(content = CategoryInput, example = json!({"name": "T-Shirts", "parentId": "cat_1", "position": 0})),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 201, description = "The new category", body = Data<Category>),
        (status = 409, description = "Slug already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Json(input): Json<CategoryInput>,
) -> Result<Created<Category>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let category = categories::create(&mut tx, key.site_id(), input).await?;
    tx.commit().await?;
    Ok(Created(category))
}

/// Update a category
///
/// Moving a category under one of its own descendants is refused.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/categories/{categoryId}",
    tag = "Categories",
    params(("siteId" = String, Path), ("categoryId" = String, Path)),
    request_body(content = CategoryPatch, example = json!({"position": 2})),
    security(("bearerAuth" = ["write:catalog"])),
    responses((status = 200, description = "The updated category", body = Data<Category>), CommonErrors)
)]
pub async fn update(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(patch): Json<CategoryPatch>,
) -> Result<Data<Category>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let category = categories::update(&mut tx, key.site_id(), &id, patch).await?;
    tx.commit().await?;
    Ok(Data::new(category))
}

/// Replace a category
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/categories/{categoryId}",
    tag = "Categories",
    params(("siteId" = String, Path), ("categoryId" = String, Path)),
    request_body(content = CategoryInput, example = json!({"name": "T-Shirts"})),
    security(("bearerAuth" = ["write:catalog"])),
    responses((status = 200, description = "The replaced category", body = Data<Category>), CommonErrors)
)]
pub async fn replace(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(input): Json<CategoryInput>,
) -> Result<Data<Category>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let category = categories::replace(&mut tx, key.site_id(), &id, input).await?;
    tx.commit().await?;
    Ok(Data::new(category))
}

/// Delete a category
///
/// Its children move up to its parent; its products stay, without it.
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/categories/{categoryId}",
    tag = "Categories",
    params(("siteId" = String, Path), ("categoryId" = String, Path)),
    security(("bearerAuth" = ["write:catalog"])),
    responses((status = 200, description = "Deleted", body = Deleted), CommonErrors)
)]
pub async fn delete(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Deleted, ApiError> {
    let mut tx = state.pool.begin().await?;
    categories::delete(&mut tx, key.site_id(), &id).await?;
    tx.commit().await?;
    Ok(Deleted::new())
}
