//! `X-Shopvo-Signature: t=<unix>,sha256=<hex>` over `<t>.<raw body>`, for keys that have a signing secret.

use axum::body::Body;
use axum::extract::Request;
use axum::http::Method;

use super::error::ApiError;
use super::policy::RoutePolicy;
use crate::crypto;
use crate::domain::keys::{self, AuthenticatedKey};
use crate::state::AppState;

pub const HEADER: &str = "x-shopvo-signature";
/// How far a signature's timestamp may be from the server's clock, either way.
pub const WINDOW_SECONDS: i64 = 300;

fn unauthorized(code: &'static str, message: &str) -> ApiError {
    ApiError::unauthorized(code, message)
}

/// Which form a signature header uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `sha256=`: HMAC over `<t>.<body>` (the SDK's form). It does not bind the method or the path.
    Body,
    /// `v2=`: HMAC over `v2\n<t>\n<METHOD>\n<path?query>\n<body>`: valid for exactly one request.
    Request,
}

/// Parses `t=<digits>,sha256=<64 hex>` or `t=<digits>,v2=<64 hex>` (parts in either order, each exactly
/// once: a repeated part would leave which one counts to the parser).
pub fn parse(header: &str) -> Option<(i64, Form, String)> {
    let mut timestamp = None;
    let mut signature = None;
    for part in header.split(',') {
        let (name, value) = part.trim().split_once('=')?;
        let hex = value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit());
        match name {
            "t" if timestamp.is_none()
                && value.len() <= 12
                && value.bytes().all(|b| b.is_ascii_digit()) =>
            {
                timestamp = Some(value.parse().ok()?)
            }
            "sha256" if signature.is_none() && hex => {
                signature = Some((Form::Body, value.to_ascii_lowercase()))
            }
            "v2" if signature.is_none() && hex => {
                signature = Some((Form::Request, value.to_ascii_lowercase()))
            }
            _ => return None,
        }
    }
    let (form, signature) = signature?;
    Some((timestamp?, form, signature))
}

/// Checks the signature and hands back the request with its body buffered for the handler.
pub async fn verify(
    state: &AppState,
    key: &AuthenticatedKey,
    secret: &[u8],
    request: Request,
) -> Result<Request, ApiError> {
    let key_id = key.id.as_str();
    let header = request.headers().get(HEADER).ok_or_else(|| {
        unauthorized(
            "SIGNATURE_MISSING",
            "Missing X-Shopvo-Signature header: this API key requires signed requests",
        )
    })?;
    let (timestamp, form, signature) = header.to_str().ok().and_then(parse).ok_or_else(|| {
        unauthorized(
            "SIGNATURE_MALFORMED",
            "Malformed X-Shopvo-Signature header: expected t=<unix-timestamp>,sha256=<hex> or t=<unix-timestamp>,v2=<hex>",
        )
    })?;
    if key.require_request_signature && form != Form::Request {
        return Err(unauthorized(
            "SIGNATURE_INVALID",
            "This API key requires the request-bound signature form: t=<unix-timestamp>,v2=<hex>",
        ));
    }
    let now = chrono::Utc::now().timestamp();
    if (now - timestamp).abs() > WINDOW_SECONDS {
        return Err(unauthorized(
            "SIGNATURE_EXPIRED",
            "X-Shopvo-Signature timestamp is outside the 300-second window: check the client's clock",
        ));
    }
    let limit = RoutePolicy::of(&request).body_limit(&state.config);
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::payload_too_large(limit))?;
    let expected = match form {
        Form::Body => crypto::signature_hex(secret, timestamp, &bytes),
        Form::Request => crypto::request_signature_hex(
            secret,
            timestamp,
            parts.method.as_str(),
            parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/"),
            &bytes,
        ),
    };
    if !crypto::constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
        return Err(unauthorized(
            "SIGNATURE_INVALID",
            "Invalid X-Shopvo-Signature: the HMAC does not match",
        ));
    }
    let expires_at =
        chrono::DateTime::from_timestamp(timestamp + WINDOW_SECONDS, 0).unwrap_or_default();
    // A read may carry a signature already seen on reads (a storefront signing several GETs in one second
    // sends the same short-form header for all of them); a write never reuses one, nor a read a write's.
    let safe = matches!(parts.method, Method::GET | Method::HEAD);
    if !keys::remember_signature(
        &mut *state.pool.acquire().await?,
        &key.site_id,
        key_id,
        &signature,
        safe,
        expires_at,
    )
    .await?
    {
        return Err(unauthorized(
            "SIGNATURE_REPLAYED",
            "Replayed X-Shopvo-Signature: a signature seen before is accepted again only on a read, and only if it was first used on one",
        ));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

#[cfg(test)]
mod tests {
    use super::{Form, parse};

    #[test]
    fn refuses_repeated_parts() {
        let sig = "a".repeat(64);
        assert_eq!(parse(&format!("t=1,t=2,sha256={sig}")), None);
        assert_eq!(parse(&format!("t=1,sha256={sig},sha256={sig}")), None);
        assert_eq!(parse(&format!("t=1,sha256={sig},v2={sig}")), None);
    }

    #[test]
    fn parses_the_header() {
        let sig = "a".repeat(64);
        assert_eq!(
            parse(&format!("t=1700000000,sha256={sig}")),
            Some((1_700_000_000, Form::Body, sig.clone()))
        );
        assert_eq!(
            parse(&format!("sha256={sig},t=1")),
            Some((1, Form::Body, sig.clone()))
        );
        assert_eq!(
            parse(&format!("t=1,v2={sig}")),
            Some((1, Form::Request, sig.clone()))
        );
        assert_eq!(parse("t=1"), None);
        assert_eq!(parse(&format!("t=x,sha256={sig}")), None);
        assert_eq!(parse("t=1,sha256=zz"), None);
    }
}
