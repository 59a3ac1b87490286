//! The native error envelope: `{"success":false,"error":"…","code":"…"}` plus `details` for field errors.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::{self, FieldError};

/// Seconds a client is asked to wait after a 503.
pub const UNAVAILABLE_RETRY_AFTER: u64 = 2;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<FieldErrorBody>,
    pub retry_after: Option<u64>,
}

/// A failing field: its JSON path in the request (`variants[0].price`) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = FieldError)]
pub struct FieldErrorBody {
    pub field: String,
    pub message: String,
}

impl From<FieldError> for FieldErrorBody {
    /// Domain keys are snake_case; native field names are their camelCase.
    fn from(e: FieldError) -> Self {
        FieldErrorBody {
            field: e.field.render(camel_case),
            message: e.message,
        }
    }
}

/// `postal_code` → `postalCode`.
pub fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' && !out.is_empty() {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A 422 with `code`, its message summarising the failing fields.
fn unprocessable(code: &'static str, details: Vec<FieldError>) -> ApiError {
    let details: Vec<FieldErrorBody> = details.into_iter().map(Into::into).collect();
    let message = summary(&details);
    ApiError {
        details,
        ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
}

/// `field: message`, and how many more.
fn summary(details: &[FieldErrorBody]) -> String {
    match details {
        [] => "validation failed".to_string(),
        [one] => format!("{}: {}", one.field, one.message),
        [first, rest @ ..] => format!(
            "{}: {} (and {} more)",
            first.field,
            first.message,
            rest.len()
        ),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Always `false`.
    pub success: bool,
    /// A human-readable message.
    #[schema(example = "price: must be a non-negative integer amount in minor units (cents)")]
    pub error: String,
    /// A machine-readable code such as `VALIDATION_ERROR`, `NOT_FOUND`, `OUT_OF_STOCK`.
    #[schema(example = "VALIDATION_ERROR")]
    pub code: String,
    /// For validation errors: each failing field by its JSON path.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<FieldErrorBody>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
        }
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", "Not found")
    }

    pub fn validation(details: Vec<FieldErrorBody>) -> Self {
        let message = summary(&details);
        Self {
            details,
            ..Self::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
        }
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldErrorBody {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("request body exceeds the limit of {limit} bytes"),
        )
    }

    /// The database is out of reach or gave up ([`domain::Error::is_unavailable`]): retry shortly.
    pub fn unavailable() -> Self {
        ApiError {
            retry_after: Some(UNAVAILABLE_RETRY_AFTER),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                "The service is temporarily unavailable; retry shortly",
            )
        }
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "Internal server error",
        )
    }
}

impl From<domain::Error> for ApiError {
    fn from(err: domain::Error) -> Self {
        match err {
            domain::Error::NotFound(what) => {
                let mut what = what.to_string();
                if let Some(first) = what.get_mut(..1) {
                    first.make_ascii_uppercase();
                }
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    format!("{what} not found"),
                )
            }
            domain::Error::Conflict { code, message } => {
                ApiError::new(StatusCode::CONFLICT, code, message)
            }
            domain::Error::Validation(details) => {
                ApiError::validation(details.into_iter().map(Into::into).collect())
            }
            domain::Error::Unprocessable(details) => unprocessable("VALIDATION_ERROR", details),
            domain::Error::OutOfRange(details) => unprocessable("AMOUNT_OUT_OF_RANGE", details),
            domain::Error::Forbidden(message) => {
                ApiError::new(StatusCode::FORBIDDEN, "FORBIDDEN", message)
            }
            domain::Error::Internal(message) => {
                tracing::error!(error = %message, "internal error");
                ApiError::internal()
            }
            e if e.is_unavailable() => {
                tracing::warn!(error = %e, "database unavailable");
                ApiError::unavailable()
            }
            domain::Error::Database(e) if is_unstorable_text(&e) => ApiError::bad_request(
                "VALIDATION_ERROR",
                "text values must not contain NUL characters or invalid UTF-8",
            ),
            domain::Error::Database(e) => {
                tracing::error!(error = %e, "database error");
                ApiError::internal()
            }
        }
    }
}

/// PostgreSQL refuses NUL characters in text (22021) and untranslatable characters (22P05): the client sent
/// them, so it is a client error, whichever field it was in.
fn is_unstorable_text(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|code| code == "22021" || code == "22P05")
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        domain::Error::from(err).into()
    }
}

/// The error responses every authenticated native route can give, for the OpenAPI document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum CommonErrors {
    /// Validation error: malformed JSON, a wrong type or value; `details` names each field.
    #[response(status = 400)]
    BadRequest(#[to_schema] ErrorBody),
    /// Missing, malformed, unknown, revoked or expired key; or a missing/invalid request signature.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The key lacks the scope this endpoint requires.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such resource on this site (also for another site's path).
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// Request body over the configured limit.
    #[response(status = 413)]
    PayloadTooLarge(ErrorBody),
    /// The body matches its schema but breaks a rule no schema can state (`VALIDATION_ERROR`): a referenced
    /// resource that does not exist, one field against another (an expiry before the start). Or an amount (or
    /// the total it makes) out of bounds (`AMOUNT_OUT_OF_RANGE`); `details` names the field. Or an
    /// Idempotency-Key reused with a different request.
    #[response(status = 422)]
    Unprocessable(ErrorBody),
    /// Rate limit exceeded; see `Retry-After`.
    #[response(status = 429)]
    TooManyRequests(ErrorBody),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            success: false,
            error: self.message,
            code: self.code.to_string(),
            details: self.details,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The JSON 404 for paths no route matches.
pub async fn fallback() -> ApiError {
    ApiError::not_found()
}
