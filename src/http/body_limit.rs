//! Refuses a request body whose declared length is over its route group's limit before reading any of it.
//! (Bodies without a declared length are cut off at the limit when they are read: `DefaultBodyLimit`
//! for extractors, and the idempotency layer's own read.)

use axum::extract::Request;
use axum::http::header;
use axum::response::Response;

use super::error::ApiError;
use super::policy::RoutePolicy;
use crate::state::AppState;

pub async fn reject_large_bodies<Fut: Future<Output = Response>>(
    state: &AppState,
    policy: RoutePolicy,
    req: Request,
    next: impl FnOnce(Request) -> Fut,
) -> Response {
    let limit = policy.body_limit(&state.config);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return policy.dialect.render(ApiError::payload_too_large(limit));
    }
    next(req).await
}
