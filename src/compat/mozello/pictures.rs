//! Product pictures: `GET /store/product/<handle>/pictures/`, `POST /store/product/<handle>/picture/` with
//! `{"picture":{"data":"<base64>","filename":"…"}}`, `DELETE /store/product/<handle>/picture/<uid>/`, over the
//! media store the native image routes use (JPEG, PNG, WebP or GIF, checked by their bytes).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::errors::MzError;
use super::product_shape::picture_out;
use super::products::find;
use super::{authorize, object, ok};
use crate::domain;
use crate::domain::caller::Caller;
use crate::domain::media::{self, NewImage};
use crate::state::AppState;

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(handle): Path<String>,
) -> Result<Json<Value>, MzError> {
    let key = authorize(&state, &headers).await?;
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let id = find(&mut conn, &key.site_id, &handle).await?;
    let images = media::list_images(&mut conn, &Caller::system(&key.site_id), &id).await?;
    let pictures: Vec<Value> = images.iter().map(picture_out).collect();
    Ok(ok(json!({"pictures": pictures})))
}

pub async fn add(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(handle): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, MzError> {
    let key = authorize(&state, &headers).await?;
    let picture = match object(&body)?.remove("picture") {
        Some(Value::Object(picture)) => picture,
        _ => {
            return Err(MzError::bad_request(
                "The body must hold a `picture` object",
            ));
        }
    };
    let bytes = picture
        .get("data")
        .and_then(Value::as_str)
        .and_then(|data| BASE64.decode(data.trim()).ok())
        .ok_or_else(|| MzError::bad_request("`picture.data` must be base64"))?;
    let filename = picture
        .get("filename")
        .and_then(Value::as_str)
        .map(str::to_string);
    let id = {
        let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
        find(&mut conn, &key.site_id, &handle).await?
    };
    let image = NewImage {
        bytes: bytes.into(),
        filename,
    };
    let added = media::add_image(&state.pool, &state.media, &key.site_id, &id, image).await?;
    Ok(ok(json!({"picture": picture_out(&added)})))
}

pub async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((handle, uid)): Path<(String, String)>,
) -> Result<Json<Value>, MzError> {
    let key = authorize(&state, &headers).await?;
    let id = {
        let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
        find(&mut conn, &key.site_id, &handle).await?
    };
    media::delete_image(&state.pool, &state.media, &key.site_id, &id, &uid).await?;
    Ok(ok(json!({})))
}
