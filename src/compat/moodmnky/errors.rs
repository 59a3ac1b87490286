//! MOOD MNKY's error shape: `{"error":{"code","message","details":[{"field","message"}]}}` with the HTTP
//! status, field names in camelCase as the client sent them.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::domain;
use crate::http::ApiError;
use crate::http::error::camel_case;

#[derive(Debug)]
pub struct MnError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<(String, String)>,
    /// Seconds, for a 429.
    pub retry_after: Option<u64>,
}

impl MnError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        MnError {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        MnError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        MnError::new(StatusCode::FORBIDDEN, "FORBIDDEN", message)
    }

    pub fn not_found(what: &str) -> Self {
        MnError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("{} not found", capitalized(what)),
        )
    }

    /// A 400 `INVALID_INPUT` blaming one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        MnError {
            details: vec![(field.to_string(), message.clone())],
            ..MnError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_INPUT",
                format!("{field}: {message}"),
            )
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

fn with_fields(
    status: StatusCode,
    code: &'static str,
    message: &str,
    fields: Vec<domain::FieldError>,
) -> MnError {
    let details: Vec<(String, String)> = fields
        .into_iter()
        .map(|f| (f.field.render(camel_case), f.message))
        .collect();
    let message = match details.first() {
        Some((field, m)) => format!("{field}: {m}"),
        None => message.to_string(),
    };
    MnError {
        details,
        ..MnError::new(status, code, message)
    }
}

/// Bad fields are a 400 `INVALID_INPUT`; a rule no schema can state (ratios that do not sum to one, a bad
/// discount code) a 422; conflicts a 409 with the domain's code (`OUT_OF_STOCK`); anything else a logged 500.
impl From<domain::Error> for MnError {
    fn from(e: domain::Error) -> Self {
        use domain::Error;
        match e {
            e if e.is_unavailable() => {
                tracing::warn!(error = %e, "database unavailable");
                MnError {
                    retry_after: Some(crate::http::error::UNAVAILABLE_RETRY_AFTER),
                    ..MnError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "SERVICE_UNAVAILABLE",
                        "The service is temporarily unavailable; retry shortly",
                    )
                }
            }
            Error::NotFound(what) => MnError::not_found(what),
            Error::Conflict {
                code: "PROMOTION_INVALID",
                message,
            } => MnError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "INVALID_DISCOUNT_CODE",
                message,
            ),
            Error::Conflict { code, message } => MnError::new(StatusCode::CONFLICT, code, message),
            Error::Validation(fields) => with_fields(
                StatusCode::BAD_REQUEST,
                "INVALID_INPUT",
                "Invalid input",
                fields,
            ),
            Error::Unprocessable(fields) | Error::OutOfRange(fields) => with_fields(
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_ERROR",
                "Invalid input",
                fields,
            ),
            Error::Forbidden(message) => MnError::forbidden(message),
            other => {
                tracing::error!(error = %other, "moodmnky request failed");
                MnError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL_ERROR",
                    "Internal server error",
                )
            }
        }
    }
}

/// A body the shared JSON reader refused (malformed, a wrong type, an unknown field).
impl From<ApiError> for MnError {
    fn from(e: ApiError) -> Self {
        let code = match e.status {
            StatusCode::BAD_REQUEST => "INVALID_INPUT",
            StatusCode::PAYLOAD_TOO_LARGE => "PAYLOAD_TOO_LARGE",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "UNSUPPORTED_MEDIA_TYPE",
            StatusCode::UNAUTHORIZED => "UNAUTHORIZED",
            StatusCode::TOO_MANY_REQUESTS => "RATE_LIMIT_EXCEEDED",
            StatusCode::NOT_FOUND => "NOT_FOUND",
            _ => "INTERNAL_ERROR",
        };
        MnError {
            status: e.status,
            code,
            message: e.message,
            details: e
                .details
                .into_iter()
                .map(|d| (d.field, d.message))
                .collect(),
            retry_after: e.retry_after,
        }
    }
}

impl IntoResponse for MnError {
    fn into_response(self) -> Response {
        let details: Vec<_> = self
            .details
            .iter()
            .map(|(field, message)| json!({"field": field, "message": message}))
            .collect();
        let mut error = json!({"code": self.code, "message": self.message});
        if !details.is_empty() {
            error["details"] = details.into();
        }
        let mut response = (self.status, Json(json!({ "error": error }))).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}
