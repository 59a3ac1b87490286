//! Category routes: list, get, create, update, delete and move, with `handle`, multilanguage `title`,
//! `level` (1..3), `previous_handle`, `parent_handle` and `seo_url`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Map, Value, json};

use super::errors::MzError;
use super::shapes::{self, Languages, field};
use super::{authorize, languages, object, ok};
use crate::domain;
use crate::domain::integrations::mozello::categories::{self, CategoryWrite, Place, TreeCategory};
use crate::state::AppState;

fn category_out(c: &TreeCategory, languages: &Languages) -> Value {
    json!({
        "handle": c.handle,
        "title": shapes::text_out(languages, |l| if l == languages.default {
            Some(c.name.clone())
        } else {
            c.translations.get(l).and_then(|t| t.name.clone())
        }),
        "level": c.level,
        "previous_handle": c.previous_handle,
        "parent_handle": c.parent_handle,
        "seo_url": c.slug,
    })
}

/// A domain refusal of a tree rule is a 400 in Mozello's table, whatever the native status.
fn refused(e: domain::Error) -> MzError {
    let e = MzError::from(e);
    if e.status == StatusCode::CONFLICT || e.status == StatusCode::UNPROCESSABLE_ENTITY {
        MzError::bad_request(e.message)
    } else {
        e
    }
}

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, MzError> {
    let key = authorize(&state, &headers).await?;
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let languages = languages(&mut conn, &key.site_id).await?;
    let tree = categories::tree(&mut conn, &key.site_id).await?;
    let out: Vec<Value> = tree.iter().map(|c| category_out(c, &languages)).collect();
    // The whole tree fits one page (three levels of a shop's categories).
    Ok(ok(json!({"categories": out, "next_page_uri": null})))
}

async fn find(
    conn: &mut domain::Conn,
    site_id: &str,
    handle: &str,
) -> Result<TreeCategory, MzError> {
    categories::find(conn, site_id, handle)
        .await?
        .ok_or_else(|| MzError::not_found("Category"))
}

pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(handle): Path<String>,
) -> Result<Json<Value>, MzError> {
    let key = authorize(&state, &headers).await?;
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let languages = languages(&mut conn, &key.site_id).await?;
    let c = find(&mut conn, &key.site_id, &handle).await?;
    Ok(ok(category_out(&c, &languages)))
}

fn category_body(body: &Bytes) -> Result<Map<String, Value>, MzError> {
    match object(body)?.remove("category") {
        Some(Value::Object(c)) => Ok(c),
        _ => Err(MzError::bad_request(
            "The body must hold a `category` object",
        )),
    }
}

fn write_in(c: &Map<String, Value>, languages: &Languages) -> Result<CategoryWrite, MzError> {
    let title = shapes::text("title", field(c, "title"), languages)?;
    let seo_url = match field(c, "seo_url") {
        Value::Null => None,
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => return Err(MzError::bad_request("`seo_url` must be a string")),
    };
    Ok(CategoryWrite {
        name: title
            .as_ref()
            .and_then(|t| t.default_value(languages))
            .flatten(),
        translations: title
            .map(|t| {
                t.others(languages)
                    .map(|(l, v)| (l.to_string(), v.map(str::to_string)))
                    .collect()
            })
            .unwrap_or_default(),
        slug: seo_url,
    })
}

fn handle_in(c: &Map<String, Value>, name: &str) -> Result<Option<String>, MzError> {
    match field(c, name) {
        Value::Null => Ok(None),
        Value::String(s) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
        _ => Err(MzError::bad_request(format!(
            "`{name}` must be a handle or null"
        ))),
    }
}

pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, MzError> {
    let key = authorize(&state, &headers).await?;
    let body = category_body(&body)?;
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    let languages = languages(&mut tx, &key.site_id).await?;
    let write = write_in(&body, &languages)?;
    let place = Place {
        parent: handle_in(&body, "parent_handle")?,
        previous: handle_in(&body, "previous_handle")?,
    };
    let id = categories::create(&mut tx, &key.site_id, write, &place)
        .await
        .map_err(refused)?;
    let c = find(&mut tx, &key.site_id, &id).await?;
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(ok(category_out(&c, &languages)))
}

pub async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(handle): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, MzError> {
    let key = authorize(&state, &headers).await?;
    let body = category_body(&body)?;
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    let languages = languages(&mut tx, &key.site_id).await?;
    let c = find(&mut tx, &key.site_id, &handle).await?;
    let write = write_in(&body, &languages)?;
    categories::update(&mut tx, &key.site_id, &c.id, write)
        .await
        .map_err(refused)?;
    let c = find(&mut tx, &key.site_id, &c.id).await?;
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(ok(category_out(&c, &languages)))
}

pub async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(handle): Path<String>,
) -> Result<Json<Value>, MzError> {
    let key = authorize(&state, &headers).await?;
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    let c = find(&mut tx, &key.site_id, &handle).await?;
    categories::delete(&mut tx, &key.site_id, &c.id)
        .await
        .map_err(refused)?;
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(ok(json!({})))
}

/// `{"parent_handle": …, "previous_handle": …}`: both null moves it first at the top level.
pub async fn move_to(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(handle): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, MzError> {
    let key = authorize(&state, &headers).await?;
    let body = object(&body)?;
    let place = Place {
        parent: handle_in(&body, "parent_handle")?,
        previous: handle_in(&body, "previous_handle")?,
    };
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    let languages = languages(&mut tx, &key.site_id).await?;
    let c = find(&mut tx, &key.site_id, &handle).await?;
    categories::move_to(&mut tx, &key.site_id, &c, &place)
        .await
        .map_err(refused)?;
    let c = find(&mut tx, &key.site_id, &c.id).await?;
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(ok(category_out(&c, &languages)))
}
