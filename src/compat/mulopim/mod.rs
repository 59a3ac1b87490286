//! Mulopim's inventory API under `/wp-json/mulopimfwc/v1`: `GET /locations`, `POST /inventory/update`,
//! `POST /inventory/bulk-sync` and `POST /webhook/inventory-update`, with the plugin's messages and the
//! WordPress error envelope. `X-API-Key` names the site (the webhook also takes `X-Webhook-Secret`).

mod errors;
mod types;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header as headers};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;

use self::errors::WpError;
use self::types::{AppliedOut, ExportRowOut, LocationOut, ProductOut};
use crate::domain;
use crate::domain::integrations::mulopim::{self, ItemError};
use crate::http::policy::{Dialect, RoutePolicy};
use crate::state::AppState;

pub const BASE: &str = "/wp-json/mulopimfwc/v1";

pub fn routes(state: &AppState) -> axum::Router<AppState> {
    let routes = OpenApiRouter::new()
        .route(&format!("{BASE}/locations"), get(locations))
        .route(&format!("{BASE}/products"), get(products))
        .route(&format!("{BASE}/inventory/export"), get(export))
        .route(&format!("{BASE}/inventory/update"), post(update))
        .route(&format!("{BASE}/inventory/bulk-sync"), post(bulk_sync))
        .route(&format!("{BASE}/webhook/inventory-update"), post(webhook));
    let policy = RoutePolicy {
        dialect: Dialect::Mulopim,
        ..RoutePolicy::native()
            .public()
            .own_credentials()
            .without_idempotency()
    };
    crate::http::mount(routes, state, policy)
        .split_for_parts()
        .0
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The site of the request's `X-API-Key`, or of a WordPress user's application password sent as HTTP Basic,
/// counted against the site's requests a minute (the server's default per key).
async fn site(state: &AppState, headers: &HeaderMap) -> Result<String, WpError> {
    let site = credentials_site(state, headers).await?;
    let limit = state.config.rate_limit_default;
    crate::http::rate_limit::per_credential(state, &format!("mulopim:{site}"), limit)
        .await
        .map_err(WpError::rate_limited)?;
    Ok(site)
}

async fn credentials_site(state: &AppState, headers: &HeaderMap) -> Result<String, WpError> {
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let key = &state.server_key;
    if let Some(api_key) = header(headers, "x-api-key") {
        return mulopim::site_of_api_key(&mut conn, key, api_key)
            .await?
            .ok_or_else(WpError::forbidden);
    }
    let basic = header(headers, "authorization")
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| BASE64.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let Some((user, password)) = basic.as_deref().and_then(|b| b.split_once(':')) else {
        return Err(WpError::forbidden());
    };
    mulopim::site_of_app_password(&mut conn, key, user, password)
        .await?
        .ok_or_else(WpError::forbidden)
}

fn json_body(body: &Bytes) -> Result<Value, WpError> {
    serde_json::from_slice(body).map_err(|_| {
        WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_invalid_json",
            "Invalid JSON body passed.",
        )
    })
}

async fn locations(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, WpError> {
    let site_id = site(&state, &headers).await?;
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let found: Vec<LocationOut> = mulopim::locations(&mut conn, &site_id)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Json(
        json!({"success": true, "count": found.len(), "data": found}),
    ))
}

/// Applies one item in its own transaction.
async fn apply_one(
    state: &AppState,
    site_id: &str,
    body: &Value,
) -> Result<Result<AppliedOut, ItemError>, WpError> {
    let item = match types::item(body) {
        Ok(item) => item,
        Err(e) => return Ok(Err(e)),
    };
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    let outcome = mulopim::apply(&mut tx, site_id, item).await?;
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(outcome.map(Into::into))
}

async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, WpError> {
    let site_id = site(&state, &headers).await?;
    let body = json_body(&body)?;
    match apply_one(&state, &site_id, &body).await? {
        Ok(data) => Ok(Json(json!({
            "success": true, "message": "Inventory updated successfully.", "data": data
        }))),
        Err(ItemError(message)) => Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "update_failed",
            message,
        )),
    }
}

async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, WpError> {
    let refused = || {
        WpError::new(
            StatusCode::FORBIDDEN,
            "rest_forbidden",
            "Invalid webhook secret or API key.",
        )
    };
    let site_id = {
        let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
        let key = &state.server_key;
        let by_secret = match header(&headers, "x-webhook-secret") {
            Some(secret) => mulopim::site_of_webhook_secret(&mut conn, key, secret).await?,
            None => None,
        };
        match by_secret {
            Some(site) => site,
            None => {
                let api_key = header(&headers, "x-api-key").unwrap_or_default();
                mulopim::site_of_api_key(&mut conn, key, api_key)
                    .await?
                    .ok_or_else(refused)?
            }
        }
    };
    let limit = state.config.rate_limit_default;
    crate::http::rate_limit::per_credential(&state, &format!("mulopim:{site_id}"), limit)
        .await
        .map_err(WpError::rate_limited)?;
    let raw = String::from_utf8_lossy(&body).into_owned();
    let answer = webhook_update(&state, &site_id, &body).await;
    let (status, result) = match &answer {
        Ok(_) => (200, "Inventory updated via webhook.".to_string()),
        Err(e) => (e.status.as_u16(), e.message.clone()),
    };
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    mulopim::log_webhook(&mut conn, &site_id, &raw, status, &result).await?;
    answer
}

async fn webhook_update(
    state: &AppState,
    site_id: &str,
    body: &Bytes,
) -> Result<Json<Value>, WpError> {
    let body = json_body(body)?;
    let names_product = ["product_id", "sku"]
        .iter()
        .any(|k| !body[*k].is_null() && body[*k] != "");
    if !names_product {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "invalid_data",
            "Invalid webhook data format.",
        ));
    }
    match apply_one(state, site_id, &body).await? {
        Ok(data) => Ok(Json(json!({
            "success": true, "message": "Inventory updated via webhook.", "data": data
        }))),
        Err(ItemError(message)) => Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "webhook_failed",
            message,
        )),
    }
}

async fn bulk_sync(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, WpError> {
    let site_id = site(&state, &headers).await?;
    let body = json_body(&body)?;
    let Some(items) = body["items"].as_array() else {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "invalid_data",
            "Invalid data format. Expected \"items\" array.",
        ));
    };
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let settings = mulopim::settings(&mut conn, &site_id).await?;
    drop(conn);
    if items.len() > settings.max_items {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "too_many_items",
            format!(
                "Too many items. Maximum {} items per request. Please split your request into smaller batches.",
                settings.max_items
            ),
        ));
    }
    let items: Vec<_> = items.iter().map(types::item).collect();
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    let Some(result) =
        mulopim::bulk_sync(&mut tx, &site_id, &items, settings.rollback_after).await?
    else {
        tx.rollback().await.map_err(domain::Error::from)?;
        return Err(WpError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "bulk_sync_failed",
            "Bulk sync failed due to too many errors. All changes have been rolled back.",
        ));
    };
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(Json(json!({
        "success": true,
        "message": format!(
            "Processed {} items. {} succeeded, {} failed.",
            items.len(),
            result.succeeded,
            result.failed
        ),
        "results": {"success": result.succeeded, "failed": result.failed, "errors": result.errors},
    })))
}

/// The query string's parameters (the last value of each name wins, as in PHP).
fn params(query: Option<String>) -> std::collections::HashMap<String, String> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// A positive whole number parameter, or `default` when absent or not one (as WordPress's `absint` reads it).
fn number(params: &std::collections::HashMap<String, String>, name: &str, default: i64) -> i64 {
    params
        .get(name)
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

async fn products(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, WpError> {
    let site_id = site(&state, &headers).await?;
    let params = params(query);
    let page = number(&params, "page", 1).min(1_000_000);
    let per_page = number(&params, "per_page", 100).min(mulopim::MAX_PER_PAGE);
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let found: Vec<ProductOut> = mulopim::products(
        &mut conn,
        &site_id,
        params.get("search").map(String::as_str),
        page,
        per_page,
    )
    .await?
    .into_iter()
    .map(Into::into)
    .collect();
    // `page` and `per_page` are echoed as they were sent.
    let echo = |name: &str, value: i64| -> Value {
        params.get(name).map_or(json!(value), |raw| json!(raw))
    };
    Ok(Json(json!({
        "success": true, "count": found.len(), "page": echo("page", page),
        "per_page": echo("per_page", per_page), "data": found
    })))
}

async fn export(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, WpError> {
    let site_id = site(&state, &headers).await?;
    let params = params(query);
    let page = number(&params, "page", 1).min(1_000_000);
    let per_page = number(&params, "per_page", 100).min(mulopim::MAX_PER_PAGE);
    let location = params
        .get("location_id")
        .map(|v| v.trim().parse::<i64>().unwrap_or(0));
    let csv = params.get("format").is_some_and(|f| f == "csv");
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let Some(export) = mulopim::export(&mut conn, &site_id, location, page, per_page).await? else {
        return Err(WpError::new(
            StatusCode::NOT_FOUND,
            "location_not_found",
            "Location not found.",
        ));
    };
    let rows: Vec<ExportRowOut> = export.rows.into_iter().map(Into::into).collect();
    if csv {
        if rows.is_empty() && page == 1 {
            return Err(WpError::new(
                StatusCode::NOT_FOUND,
                "no_data",
                "No data to export.",
            ));
        }
        let filename = format!(
            "inventory-export-{}.csv",
            chrono::Utc::now().format("%Y-%m-%d-%H%M%S")
        );
        return Ok((
            [
                (headers::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    headers::CONTENT_DISPOSITION,
                    format!("attachment; filename={filename}"),
                ),
            ],
            types::csv(&rows),
        )
            .into_response());
    }
    let total = export.total.count;
    let total_pages = (total + per_page - 1) / per_page;
    Ok(Json(json!({
        "success": true, "count": rows.len(), "total": total, "total_pages": total_pages,
        "current_page": page, "per_page": per_page, "has_more": export.has_more, "data": rows
    }))
    .into_response())
}
