//! Mofavo's errors, with its exact messages: `{"message": …}` for the Authorization header and token,
//! `{"success": false, "error": …}` for everything else.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::domain;
use crate::domain::integrations::mofavo::AuthFailure;

#[derive(Debug)]
pub enum MofavoError {
    Auth(AuthFailure),
    /// Missing `refs` or a wrong format.
    Payload,
    /// No ref matched: "Product not found" or "Order not found".
    NotFound(&'static str),
    /// Over the token's requests a minute; the seconds to wait.
    RateLimited(u64),
    /// The database is out of reach for now: a 503 with `Retry-After`.
    Unavailable,
    /// Anything that went wrong on our side (logged; never described to the client).
    Internal,
}

impl From<domain::Error> for MofavoError {
    fn from(e: domain::Error) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "database unavailable");
            return MofavoError::Unavailable;
        }
        tracing::error!(error = %e, "mofavo request failed");
        MofavoError::Internal
    }
}

impl IntoResponse for MofavoError {
    fn into_response(self) -> Response {
        let unauthorized = |message: &str| {
            (StatusCode::UNAUTHORIZED, Json(json!({"message": message}))).into_response()
        };
        let failure = |status: StatusCode, error: &str| {
            (status, Json(json!({"success": false, "error": error}))).into_response()
        };
        match self {
            MofavoError::Auth(AuthFailure::Header) => {
                unauthorized("Missing or invalid Authorization header")
            }
            MofavoError::Auth(AuthFailure::Token) => unauthorized("Invalid token"),
            MofavoError::Auth(AuthFailure::Payload) => unauthorized("Invalid token payload"),
            MofavoError::Auth(AuthFailure::Revoked) => unauthorized("Token revoked or not found"),
            MofavoError::Auth(AuthFailure::Signature) => {
                failure(StatusCode::UNAUTHORIZED, "Invalid signature")
            }
            MofavoError::Payload => failure(StatusCode::BAD_REQUEST, "Invalid request payload"),
            MofavoError::NotFound(what) => failure(StatusCode::NOT_FOUND, what),
            MofavoError::RateLimited(seconds) => {
                let mut response = failure(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
                response
                    .headers_mut()
                    .insert(axum::http::header::RETRY_AFTER, seconds.into());
                response
            }
            MofavoError::Unavailable => {
                let mut response = failure(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service temporarily unavailable",
                );
                response.headers_mut().insert(
                    axum::http::header::RETRY_AFTER,
                    crate::http::error::UNAVAILABLE_RETRY_AFTER.into(),
                );
                response
            }
            MofavoError::Internal => {
                failure(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
            }
        }
    }
}
