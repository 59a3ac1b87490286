//! `Json` and `Query` extractors whose rejections are our error envelope, with the failing field's path.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::error::FieldErrorBody;

/// A JSON request body. Malformed JSON → 400 `INVALID_JSON`; a wrong type, unknown field or unknown enum
/// value → 400 `VALIDATION_ERROR` naming the field; too large → 413.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(ct) = req.headers().get(axum::http::header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
            if !ct.starts_with("application/json") && !ct.contains("+json") {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "UNSUPPORTED_MEDIA_TYPE",
                    "request bodies must be JSON (Content-Type: application/json)",
                ));
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "PAYLOAD_TOO_LARGE",
                    "request body is too large",
                )
            } else {
                ApiError::bad_request("INVALID_BODY", "the request body could not be read")
            }
        })?;
        refuse_non_objects(&bytes)?;
        parse_json(&bytes).map(Json)
    }
}

/// Every native request body is a JSON object: an array or a scalar is refused rather than mapped onto the
/// fields by position (serde would read `["x"]` as a struct's first field). Malformed JSON falls through to
/// the parser's own error.
fn refuse_non_objects(bytes: &[u8]) -> Result<(), ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_none_or(|b| *b == b'{')
        || serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err()
    {
        return Ok(());
    }
    Err(ApiError::bad_request(
        "INVALID_BODY",
        "the request body must be a JSON object",
    ))
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = match serde_path_to_error::deserialize(&mut de) {
        Ok(value) => value,
        // JSON does not tell `2.0` from `2`, and JSON Schema counts both as integers; serde's integer
        // fields refuse the first. Only then, read the body again with integral floats made integers.
        Err(err)
            if err
                .inner()
                .to_string()
                .contains("invalid type: floating point") =>
        {
            let mut json: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
                ApiError::bad_request("INVALID_JSON", format!("malformed JSON: {e}"))
            })?;
            integral_floats_to_integers(&mut json);
            return serde_path_to_error::deserialize(json).map_err(body_error);
        }
        Err(err) => return Err(body_error(err)),
    };
    de.end()
        .map_err(|e| ApiError::bad_request("INVALID_JSON", format!("malformed JSON: {e}")))?;
    Ok(value)
}

fn body_error(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    match inner.classify() {
        serde_json::error::Category::Data => {
            let message = strip_position(&inner.to_string());
            let path = if path == "." { String::new() } else { path };
            ApiError::validation(vec![FieldErrorBody {
                field: missing_field_path(&path, &message).unwrap_or(path),
                message,
            }])
        }
        _ => ApiError::bad_request("INVALID_JSON", format!("malformed JSON: {inner}")),
    }
}

/// `2.0` → `2`, in place, for every float with no fractional part that an `i64` holds exactly.
fn integral_floats_to_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| !n.is_i64() && !n.is_u64())
                && f.fract() == 0.0
                && f.abs() < 9_007_199_254_740_992.0
            {
                // Below 2^53 every integral float is exact, so the cast keeps the value.
                *n = serde_json::Number::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_to_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_to_integers),
        _ => {}
    }
}

/// serde reports a missing field at the path of the object that lacks it; name the field itself.
fn missing_field_path(path: &str, message: &str) -> Option<String> {
    let name = message.strip_prefix("missing field `")?.strip_suffix('`')?;
    Some(if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    })
}

/// serde_json appends " at line 1 column 17" to messages; field paths say more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Path parameters; a segment that is not valid UTF-8 (say `%FF`) → 400 `INVALID_PATH` in the envelope.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|rejection| ApiError::bad_request("INVALID_PATH", rejection.body_text()))
    }
}

/// Query parameters (repeated keys such as `expand[]=a&expand[]=b` become lists). A bad value → 400 naming
/// the parameter.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_html_form::Deserializer::from_bytes(query.as_bytes());
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|err| {
                let path = err.path().to_string();
                let message = err.into_inner().to_string();
                ApiError::validation(vec![FieldErrorBody {
                    field: if path == "." { String::new() } else { path },
                    message,
                }])
            })
    }
}

/// An optional integer query value that is refused when empty or not a number (`?limit=` is not "no
/// limit"): serde's query deserializer would read an empty value as absent.
pub fn number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let text = <String as serde::Deserialize>::deserialize(d)?;
    text.parse()
        .map(Some)
        .map_err(|_| serde::de::Error::custom(format!("must be an integer, not `{text}`")))
}
