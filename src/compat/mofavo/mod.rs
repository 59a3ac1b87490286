//! Mofavo's WooCommerce endpoints at the server root: `POST /woocommerce/stock` and
//! `POST /woocommerce/status`. Checks run in the order Mofavo's table implies: the Authorization header, the
//! token, its payload, its revocation, the body's signature, then the payload.

mod errors;
mod types;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::post;
use utoipa_axum::router::OpenApiRouter;

use self::errors::MofavoError;
use self::types::{MAX_REFS, OrderStatusOut, ProductStock, RefsIn, StatusOut, StockOut};
use crate::domain;
use crate::domain::integrations::mofavo::{self, AuthFailure, Merchant};
use crate::http::policy::{Dialect, RoutePolicy};
use crate::state::AppState;

pub fn routes(state: &AppState) -> axum::Router<AppState> {
    let routes = OpenApiRouter::new()
        .route("/woocommerce/stock", post(stock))
        .route("/woocommerce/status", post(status));
    let policy = RoutePolicy {
        dialect: Dialect::Mofavo,
        ..RoutePolicy::native()
            .public()
            .own_credentials()
            .without_idempotency()
    };
    crate::http::mount(routes, state, policy)
        .split_for_parts()
        .0
}

/// Authenticates the request and checks its signature; returns the merchant and the refs asked for.
async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Merchant, Vec<String>), MofavoError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let merchant = mofavo::authenticate(&mut conn, &state.server_key, header("authorization"))
        .await?
        .map_err(MofavoError::Auth)?;
    // Each token makes the server's default number of requests a minute.
    let limit = state.config.rate_limit_default;
    crate::http::rate_limit::per_credential(state, &format!("mofavo:{}", merchant.jti), limit)
        .await
        .map_err(MofavoError::RateLimited)?;
    if !merchant.signed(body, header("x-mofavo-signature")) {
        return Err(MofavoError::Auth(AuthFailure::Signature));
    }
    let refs = serde_json::from_slice::<RefsIn>(body)
        .map_err(|_| MofavoError::Payload)?
        .refs;
    if refs.len() > MAX_REFS {
        return Err(MofavoError::Payload);
    }
    Ok((merchant, refs))
}

async fn stock(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<impl IntoResponse, MofavoError> {
    let (merchant, refs) = authorize(&state, &headers, &body).await?;
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let found = mofavo::stock(&mut conn, &merchant.site_id, &refs).await?;
    if found.is_empty() {
        return Err(MofavoError::NotFound("Product not found"));
    }
    Ok(axum::Json(StockOut {
        success: true,
        products: found
            .into_iter()
            .map(|(reference, quantity)| ProductStock {
                reference,
                quantity,
            })
            .collect(),
    }))
}

async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<impl IntoResponse, MofavoError> {
    let (merchant, refs) = authorize(&state, &headers, &body).await?;
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let found = mofavo::statuses(&mut conn, &merchant.site_id, &refs).await?;
    if found.is_empty() {
        return Err(MofavoError::NotFound("Order not found"));
    }
    Ok(axum::Json(StatusOut {
        success: true,
        orders: found.into_iter().map(OrderStatusOut::from).collect(),
    }))
}
