//! `/menus`: navigation menus with nested items linking to pages, categories, products or URLs.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::wire::wire_enum;

use crate::api::v1::patch;
use crate::domain::content::menus::{self, Menu, MenuInput, MenuItem, ResolvedItem};
use crate::http::auth::{Admin, ReadContent};
use crate::http::reads::ReadConn;
use crate::http::{ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, Path, Scoped};
use crate::state::AppState;

wire_enum! {
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    pub enum LinkTypeWire as MenuLinkType <=> menus::LinkType {
        Page, Category, Product, Url,
    }
}

/// A menu item as read: its link resolved to the target's current storefront path.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MenuItem)]
pub struct MenuItemOut {
    #[schema(example = "About")]
    pub title: String,
    #[serde(rename = "type")]
    pub kind: LinkTypeWire,
    /// The linked page, category or product.
    pub target_id: Option<String>,
    /// `/pages/{slug}`, `/categories/{slug}`, `/products/{slug}`, or the item's URL; null when the target
    /// was deleted or is not published.
    #[schema(example = "/pages/about")]
    pub url: Option<String>,
    #[schema(no_recursion)]
    pub items: Vec<MenuItemOut>,
}

impl From<ResolvedItem> for MenuItemOut {
    fn from(i: ResolvedItem) -> Self {
        MenuItemOut {
            title: i.title,
            kind: i.kind.into(),
            target_id: i.target_id,
            url: i.url,
            items: i.items.into_iter().map(Into::into).collect(),
        }
    }
}

/// A menu item as written.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = MenuItemInput)]
pub struct MenuItemIn {
    #[schema(example = "About", min_length = 1, max_length = 255, pattern = "\\S")]
    pub title: String,
    #[serde(rename = "type")]
    pub kind: LinkTypeWire,
    /// For PAGE, CATEGORY and PRODUCT: the target's id (it must exist).
    pub target_id: Option<String>,
    /// For URL: an http(s) URL or a path starting with `/`.
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    /// Up to three levels in all.
    #[serde(default)]
    #[schema(no_recursion)]
    pub items: Vec<MenuItemIn>,
}

impl From<MenuItemIn> for MenuItem {
    fn from(i: MenuItemIn) -> Self {
        MenuItem {
            title: i.title,
            kind: i.kind.into(),
            target_id: i.target_id,
            url: i.url,
            items: i.items.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Menu)]
pub struct MenuOut {
    #[schema(example = "menu_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    #[schema(example = "main")]
    pub handle: String,
    #[schema(example = "Main menu")]
    pub title: String,
    pub items: Vec<MenuItemOut>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Menu> for MenuOut {
    fn from(m: Menu) -> Self {
        MenuOut {
            id: m.id,
            handle: m.handle,
            title: m.title,
            items: m.items.into_iter().map(Into::into).collect(),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = MenuInput)]
pub struct MenuIn {
    #[schema(
        example = "main",
        min_length = 1,
        max_length = 100,
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"
    )]
    pub handle: String,
    #[schema(
        example = "Main menu",
        min_length = 1,
        max_length = 255,
        pattern = "\\S"
    )]
    pub title: String,
    #[serde(default)]
    #[schema(max_items = 250)]
    pub items: Vec<MenuItemIn>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = MenuPatch)]
pub struct MenuPatchIn {
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 100,
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"
    )]
    pub handle: Option<String>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, min_length = 1, max_length = 255, pattern = "\\S")]
    pub title: Option<String>,
    /// Replaces the whole tree.
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, max_items = 250)]
    pub items: Option<Vec<MenuItemIn>>,
}

fn items(items: Vec<MenuItemIn>) -> Vec<MenuItem> {
    items.into_iter().map(Into::into).collect()
}

/// List menus
///
/// Every menu of the site with its items, by handle.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/menus",
    tag = "Content",
    params(("siteId" = String, Path)),
    security(("bearerAuth" = ["read:content"])),
    responses((status = 200, description = "The menus", body = Data<Vec<MenuOut>>), CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadContent>,
    mut conn: ReadConn,
) -> Result<Data<Vec<MenuOut>>, ApiError> {
    let found = menus::list(&mut conn, &key.caller()).await?;
    Ok(Data::new(found.into_iter().map(Into::into).collect()))
}

/// Get a menu
///
/// By handle (or id), with its items' links resolved.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/menus/{menuHandle}",
    tag = "Content",
    params(("siteId" = String, Path), ("menuHandle" = String, Path, description = "A handle or an id")),
    security(("bearerAuth" = ["read:content"])),
    responses((status = 200, description = "The menu", body = Data<MenuOut>), CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadContent>,
    mut conn: ReadConn,
    Path((_site, handle)): Path<(String, String)>,
) -> Result<Data<MenuOut>, ApiError> {
    let menu = menus::get(&mut conn, &key.caller(), &handle).await?;
    Ok(Data::new(menu.into()))
}

/// Create a menu
///
/// Handles are unique per site (409). Every linked page, category or product must exist (422).
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/menus",
    tag = "Content",
    params(("siteId" = String, Path)),
    request_body(content = MenuIn, example = json!({"handle": "main", "title": "Main menu", "items": [{"title": "Shop", "type": "URL", "url": "/products", "items": [{"title": "Lamps", "type": "CATEGORY", "targetId": "cat_01JD2W3M4N5P6Q7R8S9T0V1W2X"}]}]})),
    security(("bearerAuth" = ["admin:*"])),
    responses(
        (status = 201, description = "The menu", body = Data<MenuOut>),
        (status = 409, description = "The handle is taken", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Json(input): Json<MenuIn>,
) -> Result<Created<MenuOut>, ApiError> {
    let input = MenuInput {
        handle: Some(input.handle),
        title: Some(input.title),
        items: Some(items(input.items)),
    };
    let mut conn = state.pool.acquire().await?;
    let menu = menus::create(&mut conn, &key.caller(), input).await?;
    Ok(Created(menu.into()))
}

/// Update a menu
///
/// The fields given; `items` replaces the whole tree.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/menus/{menuHandle}",
    tag = "Content",
    params(("siteId" = String, Path), ("menuHandle" = String, Path, description = "A handle or an id")),
    request_body(content = MenuPatchIn, example = json!({"title": "Main navigation"})),
    security(("bearerAuth" = ["admin:*"])),
    responses(
        (status = 200, description = "The menu", body = Data<MenuOut>),
        (status = 409, description = "The handle is taken", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn update(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Path((_site, handle)): Path<(String, String)>,
    Json(input): Json<MenuPatchIn>,
) -> Result<Data<MenuOut>, ApiError> {
    let input = MenuInput {
        handle: input.handle,
        title: input.title,
        items: input.items.map(items),
    };
    let mut conn = state.pool.acquire().await?;
    let menu = menus::update(&mut conn, &key.caller(), &handle, input).await?;
    Ok(Data::new(menu.into()))
}

/// Update a menu (PUT)
///
/// The same as PATCH.
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/menus/{menuHandle}",
    tag = "Content",
    params(("siteId" = String, Path), ("menuHandle" = String, Path, description = "A handle or an id")),
    request_body(content = MenuPatchIn, example = json!({"title": "Main navigation"})),
    security(("bearerAuth" = ["admin:*"])),
    responses(
        (status = 200, description = "The menu", body = Data<MenuOut>),
        (status = 409, description = "The handle is taken", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn replace(
    key: Scoped<Admin>,
    state: State<AppState>,
    path: Path<(String, String)>,
    input: Json<MenuPatchIn>,
) -> Result<Data<MenuOut>, ApiError> {
    update(key, state, path, input).await
}

/// Delete a menu
///
/// Permanently.
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/menus/{menuHandle}",
    tag = "Content",
    params(("siteId" = String, Path), ("menuHandle" = String, Path, description = "A handle or an id")),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 200, description = "Deleted", body = Deleted), CommonErrors)
)]
pub async fn delete(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Path((_site, handle)): Path<(String, String)>,
) -> Result<Deleted, ApiError> {
    let mut conn = state.pool.acquire().await?;
    menus::delete(&mut conn, &key.caller(), &handle).await?;
    Ok(Deleted::new())
}
