//! `/auth/…`: customer accounts for storefronts. Called with any valid API key of the site (no particular
//! scope, publishable keys included); the logged-in customer then sends `X-Customer-Token`.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::Modify;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};

use super::customers::CustomerOut;
use crate::api::v1::formats::Email;
use crate::domain::customers::accounts::{self, LoginInput, RegisterInput, Session};
use crate::http::auth::AnyKey;
use crate::http::customer::CustomerToken;
use crate::http::login_limit::{ClientIp, too_many_attempts};
use crate::http::{ApiError, CommonErrors, Created, Data, ErrorBody, Json, Scoped};
use crate::state::AppState;

/// Adds the `customerToken` security scheme (the `X-Customer-Token` header) to the document.
pub struct CustomerTokenAuth;

impl Modify for CustomerTokenAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "customerToken",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Customer-Token",
                "A customer's access token (a JWT valid 15 minutes) from `/auth/login`, `/auth/register` or \
                 `/auth/refresh`, sent alongside the site's API key.",
            ))),
        );
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = RegisterInput)]
pub struct RegisterIn {
    #[schema(value_type = Email, example = "jane@example.com")]
    pub email: String,
    #[schema(
        example = "correct horse battery staple",
        min_length = 8,
        max_length = 128
    )]
    pub password: String,
    #[schema(example = "Jane", min_length = 1, max_length = 100, pattern = "\\S")]
    pub first_name: Option<String>,
    #[schema(example = "Smith", min_length = 1, max_length = 100, pattern = "\\S")]
    pub last_name: Option<String>,
}

impl From<RegisterIn> for RegisterInput {
    fn from(r: RegisterIn) -> Self {
        RegisterInput {
            email: r.email,
            password: r.password,
            first_name: r.first_name,
            last_name: r.last_name,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = LoginInput)]
pub struct LoginIn {
    #[schema(example = "jane@example.com")]
    pub email: String,
    #[schema(example = "correct horse battery staple")]
    pub password: String,
}

impl From<LoginIn> for LoginInput {
    fn from(l: LoginIn) -> Self {
        LoginInput {
            email: l.email,
            password: l.password,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = RefreshInput)]
pub struct RefreshIn {
    /// The refresh token of a previous login or refresh.
    pub refresh_token: String,
}

/// A logged-in customer's tokens. Send the access token as `X-Customer-Token`; exchange the refresh token
/// at `/auth/refresh` before the access token expires.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CustomerSession)]
pub struct SessionOut {
    /// A JWT (HS256) valid for `expiresIn` seconds.
    pub access_token: String,
    /// Single-use, valid for 30 days; each refresh returns a new one.
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Lifetime of the access token in seconds.
    #[schema(example = 900)]
    pub expires_in: i64,
    /// Lifetime of the refresh token in seconds.
    #[schema(example = 2592000)]
    pub refresh_expires_in: i64,
    pub customer: CustomerOut,
}

impl From<Session> for SessionOut {
    fn from(s: Session) -> Self {
        SessionOut {
            access_token: s.access_token,
            refresh_token: s.refresh_token,
            token_type: s.token_type,
            expires_in: s.expires_in,
            refresh_expires_in: s.refresh_expires_in,
            customer: s.customer.into(),
        }
    }
}

/// The answer of logout.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoggedOut {
    /// Whether this call revoked the token (`false` when it was already unknown, expired or revoked).
    pub revoked: bool,
}

/// Register a customer account
///
/// Creates a customer with a password and logs them in. Any valid API key of the site may call this (the
/// pseudo-scope `any`). An email already on the site, in any case, is a 409 — also for a customer an admin
/// created without a password.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/auth/register",
    tag = "Customer accounts",
    params(("siteId" = String, Path)),
    request_body(content = RegisterIn, example = json!({"email": "jane@example.com",
        "password": "correct horse battery staple", "firstName": "Jane", "lastName": "Smith"})),
    security(("bearerAuth" = ["any"])),
    responses(
        (status = 201, description = "The new customer and their tokens", body = Data<SessionOut>),
        (status = 409, description = "A customer with this email exists", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn register(
    key: Scoped<AnyKey>,
    State(state): State<AppState>,
    Json(input): Json<RegisterIn>,
) -> Result<Created<SessionOut>, ApiError> {
    let session =
        accounts::register(&state.pool, &state.server_key, key.site_id(), input.into()).await?;
    Ok(Created(session.into()))
}

/// Log a customer in
///
/// Any valid API key of the site may call this (the pseudo-scope `any`). A wrong password and an unknown
/// email get the same 401. After 5 failed logins for an email within 15 minutes, or 20 from one client
/// address, further attempts are refused with 429 and `Retry-After`, even with the right password.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/auth/login",
    tag = "Customer accounts",
    params(("siteId" = String, Path)),
    request_body(content = LoginIn, example = json!({"email": "jane@example.com", "password": "correct horse battery staple"})),
    security(("bearerAuth" = ["any"])),
    responses(
        (status = 200, description = "The customer and their tokens", body = Data<SessionOut>,
         example = json!({"success": true, "data": {"accessToken": "eyJhbGciOiJIUzI1NiIs…",
            "refreshToken": "q3Xv…64 characters…", "tokenType": "Bearer", "expiresIn": 900,
            "refreshExpiresIn": 2592000, "customer": {"id": "cust_01JD2W3M4N5P6Q7R8S9T0V1W2X",
            "email": "jane@example.com", "acceptsMarketing": false, "preferences": {}, "hasPassword": true,
            "totalOrders": 0, "totalSpent": 0, "createdAt": "2026-01-15T09:30:00Z", "updatedAt": "2026-01-15T09:30:00Z"}}})),
        CommonErrors,
    )
)]
pub async fn login(
    key: Scoped<AnyKey>,
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Json(input): Json<LoginIn>,
) -> Result<Data<SessionOut>, ApiError> {
    let attempt = state
        .login_limiter
        .attempt(key.site_id(), &input.email, ip)
        .await
        .map_err(too_many_attempts)?;
    match accounts::login(&state.pool, &state.server_key, key.site_id(), input.into()).await? {
        Ok(session) => {
            state.login_limiter.succeeded(attempt).await;
            Ok(Data::new(session.into()))
        }
        Err(failure) => Err(ApiError::unauthorized(
            "INVALID_CREDENTIALS",
            failure.message(),
        )),
    }
}

/// Refresh a customer's tokens
///
/// Exchanges a refresh token for a new access token and a new refresh token. The presented refresh token is
/// revoked (rotation): using it again is a 401. Any valid API key of the site may call this.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/auth/refresh",
    tag = "Customer accounts",
    params(("siteId" = String, Path)),
    request_body(content = RefreshIn),
    security(("bearerAuth" = ["any"])),
    responses((status = 200, description = "A new pair of tokens", body = Data<SessionOut>), CommonErrors)
)]
pub async fn refresh(
    key: Scoped<AnyKey>,
    State(state): State<AppState>,
    Json(input): Json<RefreshIn>,
) -> Result<Data<SessionOut>, ApiError> {
    match accounts::refresh(
        &state.pool,
        &state.server_key,
        key.site_id(),
        &input.refresh_token,
    )
    .await?
    {
        Ok(session) => Ok(Data::new(session.into())),
        Err(failure) => Err(ApiError::unauthorized(
            "INVALID_REFRESH_TOKEN",
            failure.message(),
        )),
    }
}

/// Log a customer out
///
/// Revokes the refresh token. Access tokens already issued stay valid until they expire (15 minutes at
/// most). Any valid API key of the site may call this.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/auth/logout",
    tag = "Customer accounts",
    params(("siteId" = String, Path)),
    request_body(content = RefreshIn),
    security(("bearerAuth" = ["any"])),
    responses((status = 200, description = "Logged out", body = Data<LoggedOut>), CommonErrors)
)]
pub async fn logout(
    key: Scoped<AnyKey>,
    State(state): State<AppState>,
    Json(input): Json<RefreshIn>,
) -> Result<Data<LoggedOut>, ApiError> {
    let revoked = accounts::logout(
        &state.pool,
        &state.server_key,
        key.site_id(),
        &input.refresh_token,
    )
    .await?;
    Ok(Data::new(LoggedOut { revoked }))
}

/// The logged-in customer
///
/// Needs any valid API key of the site and the customer's access token in `X-Customer-Token`. A missing,
/// forged, expired (code `TOKEN_EXPIRED`) or other site's token is a 401.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/auth/me",
    tag = "Customer accounts",
    params(("siteId" = String, Path)),
    security(("bearerAuth" = ["any"], "customerToken" = [])),
    responses((status = 200, description = "The customer, with addresses", body = Data<CustomerOut>), CommonErrors)
)]
pub async fn me(
    _key: Scoped<AnyKey>,
    customer: CustomerToken,
    State(state): State<AppState>,
) -> Result<Data<CustomerOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    match crate::domain::customers::profiles::get(
        &mut conn,
        customer.site_id(),
        &customer.customer_id,
    )
    .await
    {
        Ok(customer) => Ok(Data::new(customer.into())),
        Err(crate::domain::Error::NotFound(_)) => Err(ApiError::unauthorized(
            "UNAUTHORIZED",
            "The customer of this token no longer exists",
        )),
        Err(e) => Err(e.into()),
    }
}
