//! `/categories`: the category tree, listed flat.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::api::v1::formats::{CategoryId, Slug};
use crate::api::v1::patch;
use crate::domain::catalog::Category;
use crate::domain::catalog::categories::{self, CategoryPatch, NewCategory};
use crate::http::auth::{ReadCatalog, WriteCatalog};
use crate::http::reads::ReadConn;
use crate::http::{
    ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, Path, Query, Scoped,
};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Category)]
#[serde(rename_all = "camelCase")]
pub struct CategoryOut {
    #[schema(example = "cat_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    #[schema(example = "Apparel")]
    pub name: String,
    #[schema(example = "apparel")]
    pub slug: String,
    pub parent_id: Option<String>,
    /// Order among siblings, ascending.
    pub position: i32,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Category> for CategoryOut {
    fn from(c: Category) -> Self {
        CategoryOut {
            id: c.id,
            name: c.name,
            slug: c.slug,
            parent_id: c.parent_id,
            position: c.position,
            description: c.description,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = CategoryInput)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CategoryIn {
    #[schema(example = "Apparel", min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: String,
    #[schema(value_type = Option<Slug>)]
    pub slug: Option<String>,
    #[schema(value_type = Option<CategoryId>)]
    pub parent_id: Option<String>,
    #[schema(minimum = 0)]
    pub position: Option<i32>,
    #[schema(max_length = 10000)]
    pub description: Option<String>,
}

impl From<CategoryIn> for NewCategory {
    fn from(c: CategoryIn) -> Self {
        NewCategory {
            name: c.name,
            slug: c.slug,
            parent_id: c.parent_id,
            position: c.position,
            description: c.description,
        }
    }
}

/// A new category read from its native JSON, so seeds (`shopvo demo`) can be written as request bodies.
impl<'de> Deserialize<'de> for NewCategory {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        CategoryIn::deserialize(d).map(NewCategory::from)
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = CategoryPatch)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CategoryPatchIn {
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, value_type = Slug)]
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<CategoryId>)]
    pub parent_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, minimum = 0)]
    pub position: Option<i32>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub description: Option<Option<String>>,
}

impl From<CategoryPatchIn> for CategoryPatch {
    fn from(p: CategoryPatchIn) -> Self {
        CategoryPatch {
            name: p.name,
            slug: p.slug,
            parent_id: p.parent_id,
            position: p.position,
            description: p.description,
        }
    }
}

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
    responses((status = 200, description = "The categories", body = Data<Vec<CategoryOut>>,
        example = json!({"success": true, "data": [{"id": "cat_01JD2W3M4N5P6Q7R8S9T0V1W2X", "name": "Apparel",
            "slug": "apparel", "parentId": null, "position": 0, "description": null, "createdAt": "2026-01-15T09:30:00Z", "updatedAt": "2026-01-15T09:30:00Z"}]})),
        CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadCatalog>,
    mut conn: ReadConn,
    Query(q): Query<ListQuery>,
) -> Result<Data<Vec<CategoryOut>>, ApiError> {
    let items = categories::list(
        &mut conn,
        key.site_id(),
        q.slug.as_deref(),
        q.parent_id.as_deref(),
    )
    .await?;
    Ok(Data::new(
        items.into_iter().map(CategoryOut::from).collect(),
    ))
}

/// Get a category
///
/// By id or slug.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/categories/{categoryId}",
    tag = "Categories",
    params(("siteId" = String, Path), ("categoryId" = String, Path, description = "Category id or slug")),
    security(("bearerAuth" = ["read:catalog"])),
    responses((status = 200, description = "The category", body = Data<CategoryOut>), CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadCatalog>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Data<CategoryOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    Ok(Data::new(
        categories::get(&mut conn, key.site_id(), &id).await?.into(),
    ))
}

/// Create a category
///
/// At the root, or under an existing `parentId`; `position` orders it among its siblings (default 0). The
/// slug is derived from the name when omitted; slugs are unique per site (409).
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/categories",
    tag = "Categories",
    params(("siteId" = String, Path)),
    request_body(content = CategoryIn, example = json!({"name": "T-Shirts", "parentId": "cat_1", "position": 0})),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 201, description = "The new category", body = Data<CategoryOut>),
        (status = 409, description = "Slug already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Json(input): Json<CategoryIn>,
) -> Result<Created<CategoryOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let category = categories::create(&mut tx, key.site_id(), input.into()).await?;
    tx.commit().await?;
    Ok(Created(category.into()))
}

/// Update a category
///
/// Moving a category under one of its own descendants is refused.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/categories/{categoryId}",
    tag = "Categories",
    params(("siteId" = String, Path), ("categoryId" = String, Path)),
    request_body(content = CategoryPatchIn, example = json!({"position": 2})),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 200, description = "The updated category", body = Data<CategoryOut>),
        (status = 409, description = "Slug already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn update(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(patch): Json<CategoryPatchIn>,
) -> Result<Data<CategoryOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let category = categories::update(&mut tx, key.site_id(), &id, patch.into()).await?;
    tx.commit().await?;
    Ok(Data::new(category.into()))
}

/// Replace a category
///
/// By id or slug. Every field is set from the body: an omitted `parentId` moves it to the root, an omitted
/// `position` is 0, an omitted `description` is cleared and an omitted slug is derived from the name.
/// Moving a category under itself or one of its descendants is refused (400).
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/categories/{categoryId}",
    tag = "Categories",
    params(("siteId" = String, Path), ("categoryId" = String, Path)),
    request_body(content = CategoryIn, example = json!({"name": "T-Shirts"})),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 200, description = "The replaced category", body = Data<CategoryOut>),
        (status = 409, description = "Slug already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn replace(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(input): Json<CategoryIn>,
) -> Result<Data<CategoryOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let category = categories::replace(&mut tx, key.site_id(), &id, input.into()).await?;
    tx.commit().await?;
    Ok(Data::new(category.into()))
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
