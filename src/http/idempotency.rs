//! `Idempotency-Key` on POST/PUT/PATCH/DELETE: the same key and body replay the stored response, a
//! different body is a 422, a duplicate while the first is still running is a 409. Kept 24 hours.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::auth::AuthContext;
use super::customer;
use super::error::ApiError;
use super::policy::RoutePolicy;
use crate::crypto;
use crate::domain::customers::tokens;
use crate::domain::idempotency::{self, Begin, IdempotencyKey};
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";

/// A response extension for answers that reveal a secret (a new API key, a webhook signing secret): the
/// stored copy for replays is sealed with the server key, so no secret sits in the clear at rest.
#[derive(Debug, Clone, Copy)]
pub struct Sensitive;

/// Marks a stored content type whose body is sealed.
const SEALED: &str = "sealed;";
/// Stored responses larger than this are not kept (the request still runs once).
const MAX_STORED_BODY: usize = 4 * 1024 * 1024;

pub async fn idempotent<Fut: Future<Output = Response>>(
    state: &AppState,
    policy: RoutePolicy,
    request: Request,
    next: impl FnOnce(Request) -> Fut,
) -> Response {
    match run(state, policy, request, next).await {
        Ok(response) => response,
        Err(error) => policy.dialect.render(error),
    }
}

/// Whose record a request uses: its key and, when it carries one, its customer token. Shoppers share
/// a publishable key, so one shopper's stored answer must never replay to another. A token that verifies
/// counts as its customer; one that does not (the handler refuses it) as that exact header value.
fn owner(state: &AppState, auth: &AuthContext, request: &Request) -> String {
    let Some(value) = request.headers().get(customer::HEADER) else {
        return String::new();
    };
    let token = value.to_str().map(customer::bare_token).unwrap_or_default();
    match tokens::verify_access(&state.server_key, token, auth.site_id()) {
        Ok(claims) => claims.sub,
        Err(_) => format!("token:{}", hex::encode(crypto::sha256(value.as_bytes()))),
    }
}

async fn run<Fut: Future<Output = Response>>(
    state: &AppState,
    policy: RoutePolicy,
    request: Request,
    next: impl FnOnce(Request) -> Fut,
) -> Result<Response, ApiError> {
    let is_write = policy.idempotency
        && matches!(
            *request.method(),
            Method::POST | Method::PUT | Method::PATCH | Method::DELETE
        );
    let (Some(value), Some(auth), true) = (
        request.headers().get(HEADER).cloned(),
        request.extensions().get::<AuthContext>().cloned(),
        is_write,
    ) else {
        return Ok(next(request).await);
    };
    let owner = owner(state, &auth, &request);
    let key = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::field("Idempotency-Key", "must be 1–255 visible ASCII characters")
        })?
        .to_string();

    let limit = policy.body_limit(&state.config);
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::payload_too_large(limit))?;
    let mut fingerprint = Vec::with_capacity(bytes.len() + 64);
    fingerprint.extend_from_slice(parts.method.as_str().as_bytes());
    fingerprint.push(b' ');
    fingerprint.extend_from_slice(
        parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or_default()
            .as_bytes(),
    );
    fingerprint.push(b'\n');
    fingerprint.extend_from_slice(&bytes);
    let hash = crypto::sha256(&fingerprint);

    let record = IdempotencyKey {
        site_id: auth.site_id(),
        key_id: auth.key_id(),
        owner: &owner,
        key: &key,
    };
    match idempotency::begin(&state.pool, &record, &hash).await? {
        Begin::Proceed => {}
        Begin::Replay {
            status,
            content_type,
            body,
        } => {
            let (content_type, body) = match content_type
                .as_deref()
                .and_then(|ct| ct.strip_prefix(SEALED))
            {
                Some(ct) => {
                    let Some(body) = state.server_key.open(&body) else {
                        tracing::error!("a sealed idempotent response cannot be opened");
                        return Err(ApiError::internal());
                    };
                    (Some(ct.to_string()), body)
                }
                None => (content_type, body),
            };
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            if let Some(ct) = content_type.and_then(|ct| HeaderValue::from_str(&ct).ok()) {
                response.headers_mut().insert(header::CONTENT_TYPE, ct);
            }
            response
                .headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            return Ok(response);
        }
        Begin::Mismatch => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "IDEMPOTENCY_KEY_REUSED",
                "This Idempotency-Key was already used with a different request",
            ));
        }
        Begin::InFlight => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "IDEMPOTENCY_KEY_IN_USE",
                "A request with this Idempotency-Key is still being processed; retry later",
            ));
        }
    }

    let response = next(Request::from_parts(parts, Body::from(bytes))).await;
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, MAX_STORED_BODY).await {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "could not buffer a response for idempotency");
            idempotency::abandon(&state.pool, &record).await?;
            return Ok(ApiError::internal().into_response());
        }
    };
    if parts.status.is_server_error() {
        idempotency::abandon(&state.pool, &record).await?;
    } else {
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        if parts.extensions.get::<Sensitive>().is_some() {
            let content_type = format!("{SEALED}{}", content_type.unwrap_or_default());
            idempotency::finish(
                &state.pool,
                &record,
                parts.status.as_u16(),
                Some(&content_type),
                &state.server_key.seal(&body),
            )
            .await?;
        } else {
            idempotency::finish(
                &state.pool,
                &record,
                parts.status.as_u16(),
                content_type,
                &body,
            )
            .await?;
        }
    }
    Ok(Response::from_parts(parts, Body::from(body)))
}
