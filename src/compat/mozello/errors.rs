//! Mozello's error shape: `{"error":true,"error_code":<status>,"error_message":"..."}` with the HTTP status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::domain;

#[derive(Debug)]
pub struct MzError {
    pub status: StatusCode,
    pub message: String,
    /// Seconds, for a 429.
    pub retry_after: Option<u64>,
}

impl MzError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        MzError {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        MzError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(what: &str) -> Self {
        MzError::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }

    pub fn unauthorized() -> Self {
        MzError::new(StatusCode::UNAUTHORIZED, "Unauthorized")
    }
}

/// A domain refusal becomes a 400 (or 404, 409) with its first message; anything else a logged 500.
impl From<domain::Error> for MzError {
    fn from(e: domain::Error) -> Self {
        use domain::Error;
        match e {
            e if e.is_unavailable() => {
                tracing::warn!(error = %e, "database unavailable");
                MzError {
                    retry_after: Some(crate::http::error::UNAVAILABLE_RETRY_AFTER),
                    ..MzError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "Service temporarily unavailable, retry shortly",
                    )
                }
            }
            Error::NotFound(what) => MzError::not_found(&capitalized(what)),
            Error::Conflict { message, .. } => MzError::new(StatusCode::CONFLICT, message),
            Error::Validation(fields)
            | Error::Unprocessable(fields)
            | Error::OutOfRange(fields) => {
                let message = fields
                    .first()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .unwrap_or_else(|| "Invalid data".into());
                MzError::bad_request(message)
            }
            other => {
                tracing::error!(error = %other, "mozello request failed");
                MzError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
            }
        }
    }
}

fn capitalized(what: &str) -> String {
    let mut chars = what.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

impl IntoResponse for MzError {
    fn into_response(self) -> Response {
        let body = json!({"error": true, "error_code": self.status.as_u16(), "error_message": self.message});
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}
