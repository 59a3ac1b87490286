//! Mozello's Store API under `/v1` (every path with or without its trailing slash): products by handle
//! (with pictures), batches by handle or SKU, the category tree, orders and the notification settings, with
//! `Authorization: ApiKey <key>`, `"error": false` on every success (HTTP 200, creates included) and
//! `{"error":true,"error_code","error_message"}` otherwise. Each key may make 5 requests a second. The
//! notifications themselves are produced in [`notifications`].

mod categories;
mod errors;
pub mod notifications;
mod orders;
mod pictures;
mod product_shape;
mod product_writes;
mod products;
mod shapes;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{MethodRouter, get, post};
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;

use self::errors::MzError;
use self::shapes::Languages;
use crate::domain;
use crate::domain::integrations::mozello::{self, ConfigPatch, KeyRef};
use crate::http::policy::{Dialect, RoutePolicy};
use crate::state::AppState;

/// Requests a key may make per second.
const PER_SECOND: u32 = 5;

pub fn routes(state: &AppState) -> axum::Router<AppState> {
    let mut routes = OpenApiRouter::new();
    let mut route = |path: &str, handler: MethodRouter<AppState>| {
        let path = format!("/v1{path}");
        routes = std::mem::take(&mut routes)
            .route(&path, handler.clone())
            .route(&format!("{path}/"), handler);
    };
    route("/store/products", get(products::list));
    route("/store/product", post(product_writes::create));
    route(
        "/store/product/{handle}",
        get(products::get)
            .put(product_writes::update)
            .delete(products::delete),
    );
    route("/store/product/{handle}/pictures", get(pictures::list));
    route("/store/product/{handle}/picture", post(pictures::add));
    route(
        "/store/product/{handle}/picture/{uid}",
        axum::routing::delete(pictures::delete),
    );
    for path in ["batch-update", "batch_update"] {
        route(
            &format!("/store/products/{path}"),
            post(product_writes::batch_update),
        );
    }
    for path in ["batch-update-by-sku", "batch_update_by_sku"] {
        route(
            &format!("/store/products/{path}"),
            post(products::batch_update_by_sku),
        );
    }
    for path in ["batch-delete", "batch_delete"] {
        route(
            &format!("/store/products/{path}"),
            post(products::batch_delete),
        );
    }
    route("/store/categories", get(categories::list));
    route("/store/category", post(categories::create));
    route(
        "/store/category/{handle}",
        get(categories::get)
            .put(categories::update)
            .delete(categories::delete),
    );
    route("/store/category/{handle}/move", post(categories::move_to));
    route("/store/orders", get(orders::list));
    route(
        "/store/order/{number}",
        get(orders::get).put(orders::update),
    );
    for path in ["/api-configuration", "/store/notifications"] {
        route(path, get(get_config).put(put_config));
    }
    let policy = RoutePolicy {
        dialect: Dialect::Mozello,
        ..RoutePolicy::native()
            .public()
            .own_credentials()
            .without_idempotency()
    };
    crate::http::mount(routes, state, policy)
        .split_for_parts()
        .0
}

/// The request's key, counted against its 5 requests a second.
async fn authorize(state: &AppState, headers: &HeaderMap) -> Result<KeyRef, MzError> {
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let key = mozello::authenticate(&mut conn, &state.server_key, authorization)
        .await?
        .ok_or_else(MzError::unauthorized)?;
    if state.config.rate_limit {
        let decision = state
            .limiter
            .check(
                "mozello",
                &key.key_id,
                PER_SECOND,
                std::time::Duration::from_secs(1),
            )
            .await;
        if !decision.allowed {
            return Err(MzError {
                retry_after: Some(decision.retry_after),
                ..MzError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!("Too many requests: at most {PER_SECOND} per second"),
                )
            });
        }
    }
    Ok(key)
}

/// The site's languages, the default first.
async fn languages(conn: &mut domain::Conn, site_id: &str) -> Result<Languages, MzError> {
    let site = domain::sites::get(conn, site_id).await?;
    Ok(Languages::new(site.locale, site.locales))
}

/// A JSON object body.
fn object(body: &Bytes) -> Result<Map<String, Value>, MzError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(MzError::bad_request(
            "Invalid JSON: the body must be a JSON object",
        )),
    }
}

/// A success: `"error": false` before the rest.
fn ok(fields: Value) -> Json<Value> {
    let mut out = Map::new();
    out.insert("error".into(), Value::Bool(false));
    if let Value::Object(fields) = fields {
        out.extend(fields);
    }
    Json(Value::Object(out))
}

fn config_out(c: mozello::Config) -> Json<Value> {
    ok(
        json!({"notifications_url": c.notifications_url, "notifications_wanted": c.notifications_wanted}),
    )
}

async fn get_config(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, MzError> {
    let key = authorize(&state, &headers).await?;
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    Ok(config_out(mozello::config(&mut conn, &key.site_id).await?))
}

async fn put_config(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, MzError> {
    let key = authorize(&state, &headers).await?;
    let body = object(&body)?;
    let notifications_url = match body.get("notifications_url") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(url)) if url.trim().is_empty() => Some(None),
        Some(Value::String(url)) => Some(Some(url.trim().to_string())),
        Some(_) => {
            return Err(MzError::bad_request(
                "`notifications_url` must be a URL or null",
            ));
        }
    };
    let notifications_wanted = match body.get("notifications_wanted") {
        None => None,
        Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(names)) => Some(
            names
                .iter()
                .map(|n| n.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    MzError::bad_request("`notifications_wanted` must be an array of names")
                })?,
        ),
        Some(_) => {
            return Err(MzError::bad_request(
                "`notifications_wanted` must be an array of names",
            ));
        }
    };
    let patch = ConfigPatch {
        notifications_url,
        notifications_wanted,
    };
    let policy = state.config.webhooks.target_policy();
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    Ok(config_out(
        mozello::set_config(&mut conn, &key, patch, policy).await?,
    ))
}
