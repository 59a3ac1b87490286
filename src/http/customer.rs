//! The logged-in customer of a storefront request: `X-Customer-Token: <access token>`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::auth::AuthContext;
use super::error::ApiError;
use crate::domain::customers::tokens::{self, TokenRejection};
use crate::state::AppState;

pub const HEADER: &str = "x-customer-token";

/// A request carrying a valid access token of a customer of the request's site (the site of the API key,
/// which the authentication middleware matched with the path). Missing, malformed, forged, expired or
/// another site's tokens are a 401 saying which. The customer may have been deleted since the token was
/// issued: handlers that load the customer treat "not found" as a 401 too.
#[derive(Debug, Clone)]
pub struct CustomerToken {
    pub customer_id: String,
    pub auth: AuthContext,
}

impl CustomerToken {
    pub fn site_id(&self) -> &str {
        self.auth.site_id()
    }
}

/// The token in an `X-Customer-Token` value (a `Bearer ` prefix is allowed).
pub fn bare_token(value: &str) -> &str {
    let value = value.trim();
    value.strip_prefix("Bearer ").unwrap_or(value).trim()
}

impl FromRequestParts<AppState> for CustomerToken {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let auth = parts
            .extensions
            .get::<AuthContext>()
            .cloned()
            .ok_or_else(|| {
                tracing::error!(
                    "CustomerToken extractor used on a route without the authentication middleware"
                );
                ApiError::internal()
            })?;
        let value = parts.headers.get(HEADER).ok_or_else(|| {
            ApiError::unauthorized(
                "UNAUTHORIZED",
                "Missing customer token: send `X-Customer-Token: <accessToken>` from /auth/login",
            )
        })?;
        let token = value.to_str().map(bare_token).unwrap_or_default();
        match tokens::verify_access(&state.server_key, token, auth.site_id()) {
            Ok(claims) => Ok(CustomerToken {
                customer_id: claims.sub,
                auth,
            }),
            Err(rejection) => Err(ApiError::unauthorized(
                if rejection == TokenRejection::Expired {
                    "TOKEN_EXPIRED"
                } else {
                    "UNAUTHORIZED"
                },
                rejection.message(),
            )),
        }
    }
}

/// `Option<CustomerToken>`: `None` without the header; a header that does not verify is still a 401.
impl axum::extract::OptionalFromRequestParts<AppState> for CustomerToken {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        if !parts.headers.contains_key(HEADER) {
            return Ok(None);
        }
        <CustomerToken as FromRequestParts<AppState>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}
