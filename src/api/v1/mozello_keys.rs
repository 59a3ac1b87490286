//! `/integrations/mozello/keys`: the API keys Mozello Store API clients send as `Authorization: ApiKey <key>`.

use axum::Extension;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::integrations::mozello::{self, IssuedKey, KeyInfo};
use crate::http::auth::Admin;
use crate::http::idempotency::Sensitive;
use crate::http::{ApiError, CommonErrors, Created, Data, Deleted, Path, Scoped};
use crate::state::AppState;

/// A new Mozello API key: shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MozelloKeyIssued)]
pub struct IssuedOut {
    #[schema(example = "mzk_01J9Z3W6Q6X5N8M2R4T7V0B1C3")]
    pub id: String,
    /// `Authorization: ApiKey <apiKey>` on the Mozello routes under `/v1`; also the key of `X-Mozello-Hash`
    /// on the notifications it configures.
    #[schema(example = "MZL-3kq1…")]
    pub api_key: String,
    pub created_at: DateTime<Utc>,
}

impl From<IssuedKey> for IssuedOut {
    fn from(k: IssuedKey) -> Self {
        IssuedOut {
            id: k.id,
            api_key: k.api_key,
            created_at: k.created_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MozelloKey)]
pub struct KeyOut {
    pub id: String,
    /// False once revoked.
    pub active: bool,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<KeyInfo> for KeyOut {
    fn from(k: KeyInfo) -> Self {
        KeyOut {
            id: k.id,
            active: k.revoked_at.is_none(),
            revoked_at: k.revoked_at,
            last_used_at: k.last_used_at,
            created_at: k.created_at,
        }
    }
}

/// Issue a Mozello API key
///
/// A key (`MZL-…`) for Mozello's Store API routes under `/v1`, shown only in this answer.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/integrations/mozello/keys",
    tag = "Integrations",
    params(("siteId" = String, Path)),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 201, description = "The key", body = Data<IssuedOut>), CommonErrors)
)]
pub async fn issue_mozello_key(
    key: Scoped<Admin>,
    State(state): State<AppState>,
) -> Result<(Extension<Sensitive>, Created<IssuedOut>), ApiError> {
    let mut conn = state.pool.acquire().await?;
    let issued = mozello::issue(&mut conn, &state.server_key, &key.caller()).await?;
    Ok((Extension(Sensitive), Created(issued.into())))
}

/// List Mozello API keys
///
/// Newest first, without the keys.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/integrations/mozello/keys",
    tag = "Integrations",
    params(("siteId" = String, Path)),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 200, description = "The keys", body = Data<Vec<KeyOut>>), CommonErrors)
)]
pub async fn list_mozello_keys(
    key: Scoped<Admin>,
    State(state): State<AppState>,
) -> Result<Data<Vec<KeyOut>>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let keys = mozello::keys(&mut conn, &key.caller()).await?;
    Ok(Data::new(keys.into_iter().map(Into::into).collect()))
}

/// Revoke a Mozello API key
///
/// At once: the next request with it is a 401.
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/integrations/mozello/keys/{keyId}",
    tag = "Integrations",
    params(("siteId" = String, Path), ("keyId" = String, Path)),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 200, description = "Revoked", body = Deleted), CommonErrors)
)]
pub async fn revoke_mozello_key(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Deleted, ApiError> {
    let mut conn = state.pool.acquire().await?;
    mozello::revoke(&mut conn, &key.caller(), &id).await?;
    Ok(Deleted::new())
}
