//! The WordPress REST error shape Mulopim's routes answer with: `{"code","message","data":{"status"}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::domain;
use crate::http::error::UNAVAILABLE_RETRY_AFTER;

#[derive(Debug)]
pub struct WpError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds, for a 429.
    pub retry_after: Option<u64>,
}

impl WpError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        WpError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn rate_limited(seconds: u64) -> Self {
        WpError {
            retry_after: Some(seconds),
            ..WpError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rest_rate_limited",
                format!("Too many requests. Retry in {seconds} seconds."),
            )
        }
    }

    pub fn forbidden() -> Self {
        WpError::new(
            StatusCode::FORBIDDEN,
            "rest_forbidden",
            "You do not have permission to access this endpoint.",
        )
    }
}

/// The WordPress body for any status, code and message (also used for the plumbing's 413 and 429).
pub fn body(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({"code": code, "message": message, "data": {"status": status.as_u16()}})),
    )
        .into_response()
}

impl From<domain::Error> for WpError {
    fn from(e: domain::Error) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "database unavailable");
            return WpError {
                retry_after: Some(UNAVAILABLE_RETRY_AFTER),
                ..WpError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "rest_unavailable",
                    "The service is temporarily unavailable. Retry shortly.",
                )
            };
        }
        tracing::error!(error = %e, "mulopim request failed");
        WpError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal server error.",
        )
    }
}

impl IntoResponse for WpError {
    fn into_response(self) -> Response {
        let mut response = body(self.status, self.code, &self.message);
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}
