//! Navigation menus: a handle and a tree of items, each linking to a page, category, product or URL.
//! Targets must exist when the menu is written; when read, each link is resolved to the target's current
//! slug (an item whose target is gone since, or a page now a draft for a browser, has no `url`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgConnection};

use crate::domain::caller::Caller;
use crate::domain::error::{Error, Result, Validator, on_unique};
use crate::domain::field::FieldKey;
use crate::ids;

pub const ID_PREFIX: &str = "menu";
const UNIQUE_HANDLE: &str = "menus_site_id_handle_key";
/// Items nest at most this deep (a top level and two below it).
pub const MAX_DEPTH: usize = 3;
/// At most this many items in one menu, at all levels.
pub const MAX_ITEMS: usize = 250;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LinkType {
    Page,
    Category,
    Product,
    Url,
}

/// A menu item as stored: what it links to, not where that is now.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MenuItem {
    pub title: String,
    #[serde(rename = "type")]
    pub kind: LinkType,
    /// The page, category or product id (for PAGE, CATEGORY, PRODUCT).
    pub target_id: Option<String>,
    /// For URL: an absolute http(s) URL or a path starting with `/`.
    pub url: Option<String>,
    #[serde(default)]
    pub items: Vec<MenuItem>,
}

/// A menu item as read, with its link resolved.
#[derive(Debug, Clone)]
pub struct ResolvedItem {
    pub title: String,
    pub kind: LinkType,
    pub target_id: Option<String>,
    /// The storefront path (`/pages/about`, `/products/…`, `/categories/…`) or the URL; `None` when the
    /// target is gone or not visible.
    pub url: Option<String>,
    pub items: Vec<ResolvedItem>,
}

#[derive(Debug, Clone)]
pub struct Menu {
    pub id: String,
    pub handle: String,
    pub title: String,
    pub items: Vec<ResolvedItem>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct Row {
    id: String,
    handle: String,
    title: String,
    items: sqlx::types::Json<Vec<MenuItem>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, handle, title, items, created_at, updated_at";

/// A menu as created or replaced.
#[derive(Debug)]
pub struct MenuInput {
    pub handle: Option<String>,
    pub title: Option<String>,
    pub items: Option<Vec<MenuItem>>,
}

fn is_handle(h: &str) -> bool {
    crate::domain::catalog::slug::is_valid(h) && h.len() <= 100
}

fn is_link(url: &str) -> bool {
    url.len() <= 2048
        && !url.chars().any(char::is_whitespace)
        && (url.starts_with("https://")
            || url.starts_with("http://")
            || (url.starts_with('/') && !url.starts_with("//")))
}

/// Checks a tree's shape; returns every target it names, by type.
fn check_items(
    v: &mut Validator,
    items: &[MenuItem],
    at: FieldKey,
    depth: usize,
    count: &mut usize,
    targets: &mut Vec<(LinkType, String, FieldKey)>,
) {
    if depth > MAX_DEPTH {
        v.rule(
            items.is_empty(),
            at,
            format!("items nest at most {MAX_DEPTH} levels deep"),
        );
        return;
    }
    for (i, item) in items.iter().enumerate() {
        *count += 1;
        let key = at.clone().at(i);
        v.text(key.clone().then("title"), item.title.trim(), 1, 255);
        match item.kind {
            LinkType::Url => v.rule(
                item.url.as_deref().is_some_and(is_link) && item.target_id.is_none(),
                key.clone().then("url"),
                "a URL item needs `url` (an http(s) URL or a path starting with /) and no `targetId`",
            ),
            kind => match &item.target_id {
                Some(id) if item.url.is_none() => {
                    targets.push((kind, id.clone(), key.clone().then("target_id")))
                }
                _ => v.rule(
                    false,
                    key.clone().then("target_id"),
                    "a PAGE, CATEGORY or PRODUCT item needs `targetId` and no `url`",
                ),
            },
        }
        check_items(v, &item.items, key.then("items"), depth + 1, count, targets);
    }
}

/// The table a linked item's target lives in (URL items have none).
fn table(kind: LinkType) -> Option<&'static str> {
    match kind {
        LinkType::Page => Some("pages"),
        LinkType::Category => Some("categories"),
        LinkType::Product => Some("products"),
        LinkType::Url => None,
    }
}

async fn validate(conn: &mut PgConnection, site_id: &str, items: &[MenuItem]) -> Result<()> {
    let mut v = Validator::new();
    let mut count = 0;
    let mut targets = Vec::new();
    check_items(
        &mut v,
        items,
        FieldKey::from("items"),
        1,
        &mut count,
        &mut targets,
    );
    v.rule(
        count <= MAX_ITEMS,
        "items",
        format!("at most {MAX_ITEMS} items in all"),
    );
    v.finish()?;
    for (kind, id, field) in targets {
        let Some(table) = table(kind) else { continue };
        let found: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select exists (select 1 from {table} where site_id = $1 and id = $2)"
        )))
        .bind(site_id)
        .bind(&id)
        .fetch_one(&mut *conn)
        .await?;
        if !found {
            return Err(Error::unprocessable(field, "no such target in this site"));
        }
    }
    Ok(())
}

/// Where each target is now: `(type, id)` → storefront path, for the targets the caller may see.
async fn resolve(
    conn: &mut PgConnection,
    caller: &Caller,
    items: &[MenuItem],
) -> Result<HashMap<(LinkType, String), String>> {
    fn collect(items: &[MenuItem], out: &mut Vec<(LinkType, String)>) {
        for item in items {
            if let Some(id) = &item.target_id {
                out.push((item.kind, id.clone()));
            }
            collect(&item.items, out);
        }
    }
    let mut wanted = Vec::new();
    collect(items, &mut wanted);
    let mut paths = HashMap::new();
    for (kind, table, prefix, visible) in [
        (LinkType::Page, "pages", "/pages/", "status = 'PUBLISHED'"),
        (LinkType::Category, "categories", "/categories/", "true"),
        (
            LinkType::Product,
            "products",
            "/products/",
            "status = 'ACTIVE'",
        ),
    ] {
        let ids: Vec<String> = wanted
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, id)| id.clone())
            .collect();
        if ids.is_empty() {
            continue;
        }
        let visible = if caller.sees_unpublished() {
            "true"
        } else {
            visible
        };
        let rows: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select id, slug from {table} where site_id = $1 and id = any($2) and {visible}"
        )))
        .bind(caller.site_id())
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await?;
        for (id, slug) in rows {
            paths.insert((kind, id), format!("{prefix}{slug}"));
        }
    }
    Ok(paths)
}

fn resolved(
    items: Vec<MenuItem>,
    paths: &HashMap<(LinkType, String), String>,
) -> Vec<ResolvedItem> {
    items
        .into_iter()
        .map(|item| ResolvedItem {
            url: match &item.target_id {
                Some(id) => paths.get(&(item.kind, id.clone())).cloned(),
                None => item.url,
            },
            title: item.title,
            kind: item.kind,
            target_id: item.target_id,
            items: resolved(item.items, paths),
        })
        .collect()
}

async fn view(conn: &mut PgConnection, caller: &Caller, row: Row) -> Result<Menu> {
    let paths = resolve(conn, caller, &row.items.0).await?;
    Ok(Menu {
        id: row.id,
        handle: row.handle,
        title: row.title,
        items: resolved(row.items.0, &paths),
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Every menu of the site, by handle.
pub async fn list(conn: &mut PgConnection, caller: &Caller) -> Result<Vec<Menu>> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from menus where site_id = $1 order by handle limit 100"
    )))
    .bind(caller.site_id())
    .fetch_all(&mut *conn)
    .await?;
    let mut menus = Vec::with_capacity(rows.len());
    for row in rows {
        menus.push(view(conn, caller, row).await?);
    }
    Ok(menus)
}

async fn row(conn: &mut PgConnection, site_id: &str, handle: &str) -> Result<Row> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from menus where site_id = $1 and (handle = $2 or id = $2)"
    )))
    .bind(site_id)
    .bind(handle)
    .fetch_optional(conn)
    .await?;
    row.ok_or(Error::NotFound("menu"))
}

/// A menu by handle (or id).
pub async fn get(conn: &mut PgConnection, caller: &Caller, handle: &str) -> Result<Menu> {
    let row = row(conn, caller.site_id(), handle).await?;
    view(conn, caller, row).await
}

fn handle_taken(handle: &str) -> impl FnOnce() -> String + '_ {
    move || format!("another menu already has the handle `{handle}`")
}

fn check_fields(v: &mut Validator, input: &MenuInput) {
    if let Some(handle) = &input.handle {
        v.check(
            is_handle(handle),
            "handle",
            "must be lower-case letters and digits joined by single dashes, at most 100",
        );
    }
    if let Some(title) = &input.title {
        v.text("title", title.trim(), 1, 255);
    }
}

pub async fn create(conn: &mut PgConnection, caller: &Caller, input: MenuInput) -> Result<Menu> {
    let mut v = Validator::new();
    v.check(input.handle.is_some(), "handle", "is required");
    v.check(input.title.is_some(), "title", "is required");
    check_fields(&mut v, &input);
    v.finish()?;
    let items = input.items.unwrap_or_default();
    validate(conn, caller.site_id(), &items).await?;
    let handle = input.handle.unwrap_or_default();
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into menus (site_id, id, handle, title, items) values ($1, $2, $3, $4, $5) returning {COLUMNS}"
    )))
    .bind(caller.site_id())
    .bind(ids::new_id(ID_PREFIX))
    .bind(&handle)
    .bind(input.title.unwrap_or_default().trim())
    .bind(sqlx::types::Json(&items))
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| on_unique(e, UNIQUE_HANDLE, handle_taken(&handle)))?;
    view(conn, caller, row).await
}

/// Changes the fields given; `items` replaces the whole tree.
pub async fn update(
    conn: &mut PgConnection,
    caller: &Caller,
    handle: &str,
    input: MenuInput,
) -> Result<Menu> {
    let mut v = Validator::new();
    check_fields(&mut v, &input);
    v.finish()?;
    if let Some(items) = &input.items {
        validate(conn, caller.site_id(), items).await?;
    }
    let current = row(conn, caller.site_id(), handle).await?;
    let new_handle = input.handle.unwrap_or(current.handle);
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update menus set handle = $3, title = $4, items = $5, updated_at = now() \
         where site_id = $1 and id = $2 returning {COLUMNS}"
    )))
    .bind(caller.site_id())
    .bind(&current.id)
    .bind(&new_handle)
    .bind(
        input
            .title
            .map(|t| t.trim().to_string())
            .unwrap_or(current.title),
    )
    .bind(sqlx::types::Json(input.items.unwrap_or(current.items.0)))
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| on_unique(e, UNIQUE_HANDLE, handle_taken(&new_handle)))?;
    view(conn, caller, row).await
}

pub async fn delete(conn: &mut PgConnection, caller: &Caller, handle: &str) -> Result<()> {
    let current = row(conn, caller.site_id(), handle).await?;
    sqlx::query("delete from menus where site_id = $1 and id = $2")
        .bind(caller.site_id())
        .bind(&current.id)
        .execute(conn)
        .await?;
    Ok(())
}
