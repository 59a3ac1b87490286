//! `GET /metrics` in the Prometheus text format, for the operator: requests and their latency per route
//! template and status class, the database pool, the outbox (undispatched events and the oldest one's
//! age), webhook delivery attempts by outcome and rate-limit refusals. Served only when
//! `SHOPVO_METRICS_TOKEN` is set, to callers that send it as `Authorization: Bearer <token>`; otherwise the
//! path does not exist.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::http::ApiError;
use crate::state::AppState;

/// Request latency buckets, in seconds.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's recorder, installed on first use (metrics are process-wide: every server in a process
/// shares them, as tests run several).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                LATENCY_BUCKETS,
            )
            .expect("non-empty buckets")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!(
                "a metrics recorder was already installed: /metrics shows only what this one sees"
            );
        }
        handle
    })
}

/// Installs the recorder before the first request, so the first scrape already knows every series.
pub fn install() {
    handle();
}

/// Counts each request and its latency under its route template (`/api/v1/{siteId}/products/{productId}`,
/// never the ids themselves) and status class.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = request.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let class = format!("{}xx", response.status().as_u16() / 100);
    let labels = [("route", route), ("method", method), ("status", class)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// A request refused by a rate limit, by the limit's group (`all`, `checkout`, `public`, `dialect`, …).
pub fn rate_limited(group: &'static str) {
    metrics::counter!("rate_limit_refusals_total", "group" => group).increment(1);
}

/// A webhook or notification delivery attempt and how it went (`delivered`, `failed`).
pub fn delivery_attempt(outcome: &'static str) {
    metrics::counter!("webhook_delivery_attempts_total", "outcome" => outcome).increment(1);
}

pub async fn serve(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = state.config.metrics_token.as_deref() else {
        return ApiError::not_found().into_response();
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !crate::crypto::constant_time_eq(presented.as_bytes(), token.as_bytes()) {
        return ApiError::unauthorized(
            "UNAUTHORIZED",
            "Send the metrics token: `Authorization: Bearer <SHOPVO_METRICS_TOKEN>`",
        )
        .into_response();
    }
    metrics::gauge!("db_pool_connections", "state" => "in_use")
        .set(f64::from(state.pool.size()) - state.pool.num_idle() as f64);
    metrics::gauge!("db_pool_connections", "state" => "idle").set(state.pool.num_idle() as f64);
    let outbox = match state.pool.acquire().await {
        Ok(mut conn) => crate::domain::events::backlog(&mut conn).await,
        Err(e) => Err(e.into()),
    };
    match outbox {
        Ok(backlog) => {
            metrics::gauge!("outbox_undispatched_events").set(backlog.events as f64);
            metrics::gauge!("outbox_oldest_undispatched_age_seconds")
                .set(backlog.oldest_age_seconds);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: cannot read the outbox"),
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle().render(),
    )
        .into_response()
}
