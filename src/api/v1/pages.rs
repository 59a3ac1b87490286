//! `/pages`: content pages. Publishable keys read published pages only; administrators write.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::wire::wire_enum;

use crate::api::v1::formats::Slug;
use crate::api::v1::patch;
use crate::domain::content::pages::{self, Page, PageFilter, PageInput};
use crate::http::auth::{Admin, ReadContent};
use crate::http::reads::ReadConn;
use crate::http::{
    ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, Pagination, Path, Query,
    Scoped,
};
use crate::state::AppState;

wire_enum! {
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    pub enum PageStatusWire as PageStatus <=> pages::PageStatus {
        Draft, Published,
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Page)]
pub struct PageOut {
    #[schema(example = "pg_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    #[schema(example = "About Us")]
    pub title: String,
    #[schema(example = "about")]
    pub slug: String,
    /// The page's content (HTML or Markdown: the storefront decides how to render it).
    pub body: String,
    pub status: PageStatusWire,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    /// When it was first published.
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Page> for PageOut {
    fn from(p: Page) -> Self {
        PageOut {
            id: p.id,
            title: p.title,
            slug: p.slug,
            body: p.body,
            status: p.status.into(),
            meta_title: p.meta_title,
            meta_description: p.meta_description,
            published_at: p.published_at,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = PageInput)]
pub struct PageIn {
    #[schema(
        example = "About Us",
        min_length = 1,
        max_length = 255,
        pattern = "\\S"
    )]
    pub title: String,
    /// Derived from the title when omitted.
    #[schema(value_type = Option<Slug>)]
    pub slug: Option<String>,
    #[schema(max_length = 1000000)]
    pub body: Option<String>,
    /// DRAFT when omitted.
    pub status: Option<PageStatusWire>,
    #[schema(min_length = 1, max_length = 255, pattern = "\\S")]
    pub meta_title: Option<String>,
    #[schema(min_length = 1, max_length = 1000, pattern = "\\S")]
    pub meta_description: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = PagePatch)]
pub struct PagePatchIn {
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, min_length = 1, max_length = 255, pattern = "\\S")]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, value_type = Slug)]
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, max_length = 1000000)]
    pub body: Option<String>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    pub status: Option<PageStatusWire>,
    /// `null` removes it.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 255, pattern = "\\S")]
    pub meta_title: Option<Option<String>>,
    /// `null` removes it.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 1000, pattern = "\\S")]
    pub meta_description: Option<Option<String>>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// Only the page with this slug.
    slug: Option<String>,
    /// Secret keys only (publishable keys always get PUBLISHED): all statuses when omitted.
    #[param(inline)]
    status: Option<PageStatusWire>,
    #[param(minimum = 1, maximum = 1000000)]
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    page: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    limit: Option<i64>,
}

/// List pages
///
/// By title; `slug` picks one. Publishable keys get published pages only. Offset pages with `page` and
/// `limit` (max 100, default 20).
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/pages",
    tag = "Content",
    params(("siteId" = String, Path), ListQuery),
    security(("bearerAuth" = ["read:content"])),
    responses((status = 200, description = "The pages", body = Data<Vec<PageOut>>), CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadContent>,
    mut conn: ReadConn,
    Query(q): Query<ListQuery>,
) -> Result<Data<Vec<PageOut>>, ApiError> {
    let page = Pagination {
        page: q.page,
        limit: q.limit,
        cursor: None,
    }
    .request(pages::ID_PREFIX)?;
    let filter = PageFilter {
        slug: q.slug,
        status: q.status.map(Into::into),
    };
    let found = pages::list(
        &mut conn,
        &key.caller(),
        &filter,
        page.offset(),
        page.limit(),
    )
    .await?;
    Ok(Data::new(found.into_iter().map(Into::into).collect()))
}

/// Get a page
///
/// By id or slug. A draft is not found for publishable keys.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/pages/{pageId}",
    tag = "Content",
    params(("siteId" = String, Path), ("pageId" = String, Path, description = "An id or a slug")),
    security(("bearerAuth" = ["read:content"])),
    responses((status = 200, description = "The page", body = Data<PageOut>), CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadContent>,
    mut conn: ReadConn,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Data<PageOut>, ApiError> {
    let page = pages::get(&mut conn, &key.caller(), &id).await?;
    Ok(Data::new(page.into()))
}

/// Create a page
///
/// A DRAFT unless `status` is PUBLISHED. Slugs are unique per site (409).
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/pages",
    tag = "Content",
    params(("siteId" = String, Path)),
    request_body(content = PageIn, example = json!({"title": "About Us", "slug": "about", "body": "<p>We make lamps.</p>", "status": "PUBLISHED"})),
    security(("bearerAuth" = ["admin:*"])),
    responses(
        (status = 201, description = "The page", body = Data<PageOut>),
        (status = 409, description = "The slug is taken", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Json(input): Json<PageIn>,
) -> Result<Created<PageOut>, ApiError> {
    let input = PageInput {
        title: Some(input.title),
        slug: input.slug,
        body: input.body,
        status: input.status.map(Into::into),
        meta_title: Some(input.meta_title),
        meta_description: Some(input.meta_description),
    };
    let mut conn = state.pool.acquire().await?;
    let page = pages::create(&mut conn, &key.caller(), input).await?;
    Ok(Created(page.into()))
}

/// Update a page
///
/// The fields given. Publishing stamps `publishedAt` the first time.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/pages/{pageId}",
    tag = "Content",
    params(("siteId" = String, Path), ("pageId" = String, Path, description = "An id or a slug")),
    request_body(content = PagePatchIn, example = json!({"status": "PUBLISHED"})),
    security(("bearerAuth" = ["admin:*"])),
    responses(
        (status = 200, description = "The page", body = Data<PageOut>),
        (status = 409, description = "The slug is taken", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn update(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(input): Json<PagePatchIn>,
) -> Result<Data<PageOut>, ApiError> {
    let input = PageInput {
        title: input.title,
        slug: input.slug,
        body: input.body,
        status: input.status.map(Into::into),
        meta_title: input.meta_title,
        meta_description: input.meta_description,
    };
    let mut conn = state.pool.acquire().await?;
    let page = pages::update(&mut conn, &key.caller(), &id, input).await?;
    Ok(Data::new(page.into()))
}

/// Update a page (PUT)
///
/// The same as PATCH.
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/pages/{pageId}",
    tag = "Content",
    params(("siteId" = String, Path), ("pageId" = String, Path, description = "An id or a slug")),
    request_body(content = PagePatchIn, example = json!({"status": "PUBLISHED"})),
    security(("bearerAuth" = ["admin:*"])),
    responses(
        (status = 200, description = "The page", body = Data<PageOut>),
        (status = 409, description = "The slug is taken", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn replace(
    key: Scoped<Admin>,
    state: State<AppState>,
    path: Path<(String, String)>,
    input: Json<PagePatchIn>,
) -> Result<Data<PageOut>, ApiError> {
    update(key, state, path, input).await
}

/// Delete a page
///
/// Permanently. Menu items that linked to it stay, without a `url`.
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/pages/{pageId}",
    tag = "Content",
    params(("siteId" = String, Path), ("pageId" = String, Path, description = "An id or a slug")),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 200, description = "Deleted", body = Deleted), CommonErrors)
)]
pub async fn delete(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Deleted, ApiError> {
    let mut conn = state.pool.acquire().await?;
    pages::delete(&mut conn, &key.caller(), &id).await?;
    Ok(Deleted::new())
}
