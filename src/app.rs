//! Router assembly: native API, docs, health, stored media, and the layers every request passes.

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::cors::CorsLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa_swagger_ui::SwaggerUi;

use crate::http::{self as plumbing, ApiError};
pub use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    // Each route group carries its own plumbing (auth, limits, cache, idempotency), declared with it.
    let (api, openapi) = crate::api::v1::routes(&state);

    crate::metrics::install();
    let body_limit = state.config.body_limit;
    let cors = cors_layer(&state);
    let routes = Router::new()
        .merge(api)
        .merge(crate::compat::routes(&state))
        .merge(
            SwaggerUi::new("/docs")
                .url("/openapi.json", openapi)
                .config(
                    utoipa_swagger_ui::Config::default()
                        .validator_url("none")
                        .try_it_out_enabled(true),
                ),
        )
        .route("/media/{*path}", get(crate::api::media::serve))
        .route("/metrics", get(crate::metrics::serve))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(plumbing::error::fallback)
        .method_not_allowed_fallback(method_not_allowed)
        // Around each route (metrics label requests with the matched route), as one layer: axum boxes every
        // layer of a route separately and copies the boxes on each request (see `http::mount`).
        .layer(
            ServiceBuilder::new()
                .layer(axum::middleware::from_fn(crate::metrics::track))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    plumbing::reads::return_kept,
                )),
        )
        .with_state(state);
    // The rest needs no route, so it wraps the whole router once instead of every route.
    let service = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                // One span per request with its id; headers (and so keys) are never recorded.
                .make_span_with(|req: &Request| {
                    let request_id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", id = %request_id, method = %req.method(), path = %req.uri().path())
                })
                .on_request(())
                .on_response(tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(cors)
        .layer(axum::middleware::from_fn(plumbing::unread_body::close_if_unread))
        .layer(DefaultBodyLimit::max(body_limit))
        .service(routes);
    Router::new().fallback_service(service)
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "This method is not allowed on this path",
    )
}

fn cors_layer(state: &AppState) -> CorsLayer {
    let allow_origin = crate::http::cors::allow_origin(
        state.config.cors_origins.clone(),
        state.pool.clone(),
        state.site_origins.clone(),
    );
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("x-shopvo-signature"),
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static(plumbing::customer::HEADER),
        ])
        .expose_headers([
            REQUEST_ID,
            HeaderName::from_static("x-ratelimit-limit"),
            HeaderName::from_static("x-ratelimit-remaining"),
            HeaderName::from_static("x-ratelimit-reset"),
            header::RETRY_AFTER,
        ])
        .max_age(Duration::from_secs(600))
}

/// The process is up.
async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({"status": "ok"}))
}

/// The database answers.
async fn readyz(axum::extract::State(state): axum::extract::State<AppState>) -> impl IntoResponse {
    let ok = tokio::time::timeout(
        Duration::from_secs(2),
        sqlx::query("select 1").execute(&state.pool),
    )
    .await
    .is_ok_and(|r| r.is_ok());
    if ok {
        (
            StatusCode::OK,
            axum::Json(serde_json::json!({"status": "ready"})),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"status": "database unavailable"})),
        )
    }
}
