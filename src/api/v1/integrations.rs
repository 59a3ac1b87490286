//! `/integrations/…`: credentials that vendor integrations use to reach this site through their dialect.

use axum::Extension;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::integrations::mofavo::{self, IssuedToken, TokenInfo};
use crate::domain::integrations::mulopim;
use crate::http::auth::Admin;
use crate::http::idempotency::Sensitive;
use crate::http::{ApiError, CommonErrors, Created, Data, Deleted, Path, Scoped};
use crate::state::AppState;

/// A new Mofavo token: the JWT and its signing secret are shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MofavoTokenIssued)]
pub struct IssuedOut {
    /// `Authorization: Bearer <token>` on Mofavo's routes (`POST /woocommerce/stock`, `/woocommerce/status`).
    pub token: String,
    #[schema(example = "3f0c8e52-6f1d-4c1a-9a57-1f3a2b4c5d6e")]
    pub jti: String,
    /// The key of `x-mofavo-signature` (base64 HMAC-SHA256 of the request body).
    pub signing_secret: String,
    pub created_at: DateTime<Utc>,
}

impl From<IssuedToken> for IssuedOut {
    fn from(t: IssuedToken) -> Self {
        IssuedOut {
            token: t.token,
            jti: t.jti,
            signing_secret: t.signing_secret,
            created_at: t.created_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MofavoToken)]
pub struct TokenOut {
    #[schema(example = "3f0c8e52-6f1d-4c1a-9a57-1f3a2b4c5d6e")]
    pub jti: String,
    /// False once revoked.
    pub active: bool,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<TokenInfo> for TokenOut {
    fn from(t: TokenInfo) -> Self {
        TokenOut {
            jti: t.jti,
            active: t.active,
            revoked_at: t.revoked_at,
            last_used_at: t.last_used_at,
            created_at: t.created_at,
        }
    }
}

/// Issue a Mofavo token
///
/// A JWT (HS256, claims `merchantId` = this site and `jti`) for Mofavo's WooCommerce routes at the server
/// root, with the secret its requests are signed with. Both are shown only in this answer.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/integrations/mofavo/tokens",
    tag = "Integrations",
    params(("siteId" = String, Path)),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 201, description = "The token and its signing secret", body = Data<IssuedOut>), CommonErrors)
)]
pub async fn issue_mofavo_token(
    key: Scoped<Admin>,
    State(state): State<AppState>,
) -> Result<(Extension<Sensitive>, Created<IssuedOut>), ApiError> {
    let mut conn = state.pool.acquire().await?;
    let issued = mofavo::issue(&mut conn, &state.server_key, &key.caller()).await?;
    Ok((Extension(Sensitive), Created(issued.into())))
}

/// List Mofavo tokens
///
/// Newest first, without their secrets.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/integrations/mofavo/tokens",
    tag = "Integrations",
    params(("siteId" = String, Path)),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 200, description = "The tokens", body = Data<Vec<TokenOut>>), CommonErrors)
)]
pub async fn list_mofavo_tokens(
    key: Scoped<Admin>,
    State(state): State<AppState>,
) -> Result<Data<Vec<TokenOut>>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let tokens = mofavo::list(&mut conn, &key.caller()).await?;
    Ok(Data::new(tokens.into_iter().map(Into::into).collect()))
}

/// Revoke a Mofavo token
///
/// At once: the next request with it is refused with `Token revoked or not found`.
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/integrations/mofavo/tokens/{jti}",
    tag = "Integrations",
    params(("siteId" = String, Path), ("jti" = String, Path)),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 200, description = "Revoked", body = Deleted), CommonErrors)
)]
pub async fn revoke_mofavo_token(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Path((_site, jti)): Path<(String, String)>,
) -> Result<Deleted, ApiError> {
    let mut conn = state.pool.acquire().await?;
    mofavo::revoke(&mut conn, &key.caller(), &jti).await?;
    Ok(Deleted::new())
}

/// New Mulopim credentials: shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MulopimCredentials)]
pub struct MulopimCredentialsOut {
    /// `X-API-Key` on `/wp-json/mulopimfwc/v1/…`.
    pub api_key: String,
    /// `X-Webhook-Secret` on `/wp-json/mulopimfwc/v1/webhook/inventory-update`.
    pub webhook_secret: String,
    pub created_at: DateTime<Utc>,
}

/// Issue Mulopim credentials
///
/// An API key and a webhook secret for the Mulopim inventory routes (`/wp-json/mulopimfwc/v1/…`), replacing
/// any earlier pair at once. Both are shown only in this answer.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/integrations/mulopim/credentials",
    tag = "Integrations",
    params(("siteId" = String, Path)),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 201, description = "The API key and the webhook secret", body = Data<MulopimCredentialsOut>), CommonErrors)
)]
pub async fn rotate_mulopim_credentials(
    key: Scoped<Admin>,
    State(state): State<AppState>,
) -> Result<(Extension<Sensitive>, Created<MulopimCredentialsOut>), ApiError> {
    let mut conn = state.pool.acquire().await?;
    let issued = mulopim::rotate(&mut conn, &state.server_key, &key.caller()).await?;
    Ok((
        Extension(Sensitive),
        Created(MulopimCredentialsOut {
            api_key: issued.api_key,
            webhook_secret: issued.webhook_secret,
            created_at: issued.created_at,
        }),
    ))
}
