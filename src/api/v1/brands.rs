//! `/brands`.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::api::v1::formats::{HttpUrl, Slug};
use crate::api::v1::patch;
use crate::domain::catalog::Brand;
use crate::domain::catalog::brands::{self, BrandPatch, NewBrand};
use crate::http::auth::{ReadCatalog, WriteCatalog};
use crate::http::reads::ReadConn;
use crate::http::{
    ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, Path, Query, Scoped,
};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Brand)]
#[serde(rename_all = "camelCase")]
pub struct BrandOut {
    #[schema(example = "br_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    #[schema(example = "Essentials")]
    pub name: String,
    #[schema(example = "essentials")]
    pub slug: String,
    pub description: Option<String>,
    pub logo_url: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Brand> for BrandOut {
    fn from(b: Brand) -> Self {
        BrandOut {
            id: b.id,
            name: b.name,
            slug: b.slug,
            description: b.description,
            logo_url: b.logo_url,
            created_at: b.created_at,
            updated_at: b.updated_at,
        }
    }
}

/// Creating a brand, or replacing one with PUT.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = BrandInput)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BrandIn {
    #[schema(
        example = "Essentials",
        min_length = 1,
        max_length = 200,
        pattern = "\\S"
    )]
    pub name: String,
    /// Derived from the name when omitted.
    #[schema(value_type = Option<Slug>)]
    pub slug: Option<String>,
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    #[schema(value_type = Option<HttpUrl>)]
    pub logo_url: Option<String>,
}

impl From<BrandIn> for NewBrand {
    fn from(b: BrandIn) -> Self {
        NewBrand {
            name: b.name,
            slug: b.slug,
            description: b.description,
            logo_url: b.logo_url,
        }
    }
}

/// A new brand read from its native JSON, so seeds (`shopvo demo`) can be written as request bodies.
impl<'de> Deserialize<'de> for NewBrand {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BrandIn::deserialize(d).map(NewBrand::from)
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = BrandPatch)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BrandPatchIn {
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, value_type = Slug)]
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<HttpUrl>)]
    pub logo_url: Option<Option<String>>,
}

impl From<BrandPatchIn> for BrandPatch {
    fn from(p: BrandPatchIn) -> Self {
        BrandPatch {
            name: p.name,
            slug: p.slug,
            description: p.description,
            logo_url: p.logo_url,
        }
    }
}

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
    responses((status = 200, description = "The brands", body = Data<Vec<BrandOut>>,
        example = json!({"success": true, "data": [{"id": "br_01JD2W3M4N5P6Q7R8S9T0V1W2X", "name": "Essentials",
            "slug": "essentials", "description": null, "logoUrl": null, "createdAt": "2026-01-15T09:30:00Z", "updatedAt": "2026-01-15T09:30:00Z"}]})),
        CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadCatalog>,
    mut conn: ReadConn,
    Query(q): Query<ListQuery>,
) -> Result<Data<Vec<BrandOut>>, ApiError> {
    let items = brands::list(&mut conn, key.site_id(), q.slug.as_deref()).await?;
    Ok(Data::new(items.into_iter().map(BrandOut::from).collect()))
}

/// Get a brand
///
/// By id or slug.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/brands/{brandId}",
    tag = "Brands",
    params(("siteId" = String, Path), ("brandId" = String, Path, description = "Brand id or slug")),
    security(("bearerAuth" = ["read:catalog"])),
    responses((status = 200, description = "The brand", body = Data<BrandOut>), CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadCatalog>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Data<BrandOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    Ok(Data::new(
        brands::get(&mut conn, key.site_id(), &id).await?.into(),
    ))
}

/// Create a brand
///
/// The slug is derived from the name when omitted; slugs are lower-case letters and digits joined by single
/// dashes, unique per site (409). `logoUrl` must be an http(s) URL.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/brands",
    tag = "Brands",
    params(("siteId" = String, Path)),
    request_body(content = BrandIn, example = json!({"name": "Essentials"})),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 201, description = "The new brand", body = Data<BrandOut>),
        (status = 409, description = "Slug already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Json(input): Json<BrandIn>,
) -> Result<Created<BrandOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    Ok(Created(
        brands::create(&mut conn, key.site_id(), input.into())
            .await?
            .into(),
    ))
}

/// Update a brand
///
/// By id or slug. Only the fields sent change; `null` clears `description` or `logoUrl`. A slug another
/// brand uses is a 409.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/brands/{brandId}",
    tag = "Brands",
    params(("siteId" = String, Path), ("brandId" = String, Path)),
    request_body(content = BrandPatchIn, example = json!({"description": "Everyday basics"})),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 200, description = "The updated brand", body = Data<BrandOut>),
        (status = 409, description = "Slug already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn update(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(patch): Json<BrandPatchIn>,
) -> Result<Data<BrandOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    Ok(Data::new(
        brands::update(&mut conn, key.site_id(), &id, patch.into())
            .await?
            .into(),
    ))
}

/// Replace a brand
///
/// By id or slug. Every field is set from the body: omitted `description` and `logoUrl` are cleared and an
/// omitted slug is derived from the name again. A slug another brand uses is a 409.
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/brands/{brandId}",
    tag = "Brands",
    params(("siteId" = String, Path), ("brandId" = String, Path)),
    request_body(content = BrandIn, example = json!({"name": "Essentials"})),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 200, description = "The replaced brand", body = Data<BrandOut>),
        (status = 409, description = "Slug already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn replace(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(input): Json<BrandIn>,
) -> Result<Data<BrandOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    Ok(Data::new(
        brands::replace(&mut conn, key.site_id(), &id, input.into())
            .await?
            .into(),
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
    let mut conn = state.pool.acquire().await?;
    brands::delete(&mut conn, key.site_id(), &id).await?;
    Ok(Deleted::new())
}
