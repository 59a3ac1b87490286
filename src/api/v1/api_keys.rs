//! `/api-keys`: key management over HTTP, for `admin:*` keys.

use axum::Extension;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::v1::formats::Scope;
use crate::domain::keys::{self, ApiKey, NewKey};
use crate::http::auth::Admin;
use crate::http::idempotency::Sensitive;
use crate::http::{ApiError, CommonErrors, Created, Data, Json, Path, Scoped};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ApiKey)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyOut {
    #[schema(example = "key_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    id: String,
    site_id: String,
    /// `secret` or `publishable`.
    kind: String,
    /// `live` or `test`.
    mode: String,
    /// The start and end of the key, to recognise it; the key itself is shown only once.
    #[schema(example = "sk_live_AbCd…wXyZ")]
    display_prefix: String,
    name: Option<String>,
    scopes: Vec<String>,
    /// Whether requests with this key must carry `X-Shopvo-Signature`.
    signing: bool,
    /// Whether the signature must be the request-bound `v2=` form.
    require_request_signature: bool,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl From<ApiKey> for ApiKeyOut {
    fn from(k: ApiKey) -> Self {
        ApiKeyOut {
            id: k.id,
            site_id: k.site_id,
            kind: k.kind,
            mode: k.mode,
            display_prefix: k.display_prefix,
            name: k.name,
            scopes: k.scopes,
            signing: k.signing,
            require_request_signature: k.require_request_signature,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
            last_used_at: k.last_used_at,
            created_at: k.created_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = CreateKey)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateKeyIn {
    /// Scopes of the new key, e.g. `["read:catalog", "write:catalog"]` or `["admin:*"]`. May be omitted for a
    /// publishable key (it then gets every scope a publishable key may have).
    #[serde(default)]
    #[schema(value_type = Vec<Scope>)]
    scopes: Vec<String>,
    /// A publishable key (`pk_live_…`/`pk_test_…`) for browsers: it reads only the active catalog and drives
    /// carts and checkouts.
    #[serde(default)]
    publishable: bool,
    /// A `sk_test_` key (test mode) instead of `sk_live_`.
    #[serde(default)]
    test: bool,
    /// Also create a signing secret (`sks_…`): requests must then be signed.
    #[serde(default)]
    signing: bool,
    /// With `signing`: accept only the request-bound `v2=` signature form, which binds the method and path.
    #[serde(default)]
    require_request_signature: bool,
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    name: Option<String>,
    expires_at: Option<DateTime<Utc>>,
}

impl From<CreateKeyIn> for NewKey {
    fn from(k: CreateKeyIn) -> Self {
        NewKey {
            scopes: k.scopes,
            publishable: k.publishable,
            test: k.test,
            signing: k.signing,
            require_request_signature: k.require_request_signature,
            name: k.name,
            expires_at: k.expires_at,
        }
    }
}

/// A new key, with its secrets shown this once.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedKeyBody {
    #[serde(flatten)]
    key: ApiKeyOut,
    /// The key itself. It is not stored and cannot be shown again.
    #[schema(example = "sk_live_…")]
    secret: String,
    /// The signing secret, when requested. It cannot be shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    signing_secret: Option<String>,
}

/// List API keys
///
/// Keys of this site (never the keys themselves: a display prefix only).
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/api-keys",
    tag = "API keys",
    params(("siteId" = String, Path)),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 200, description = "The keys", body = Data<Vec<ApiKeyOut>>), CommonErrors)
)]
pub async fn list(
    key: Scoped<Admin>,
    State(state): State<AppState>,
) -> Result<Data<Vec<ApiKeyOut>>, ApiError> {
    let list = keys::list(&mut *state.pool.acquire().await?, key.site_id()).await?;
    Ok(Data::new(list.into_iter().map(Into::into).collect()))
}

/// Create an API key
///
/// Needs an `admin:*` key; the new key belongs to this site. The key itself is in this response only (the
/// server keeps a digest of it), and so is the signing secret `sks_…` asked for with `signing`. `scopes`
/// must be known scopes (`admin:*` grants all). A publishable key (`pk_…`) holds browser scopes only (all
/// of them when `scopes` is omitted) and cannot sign; `requireRequestSignature` needs `signing`. A retry
/// with the same `Idempotency-Key` replays this answer from a copy sealed with the server secret.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/api-keys",
    tag = "API keys",
    params(("siteId" = String, Path)),
    request_body(content = CreateKeyIn, example = json!({"scopes": ["read:catalog"], "name": "storefront"})),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 201, description = "The key; `secret` is shown only here", body = Data<CreatedKeyBody>), CommonErrors)
)]
pub async fn create(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Json(body): Json<CreateKeyIn>,
) -> Result<(Extension<Sensitive>, Created<CreatedKeyBody>), ApiError> {
    let created = keys::create(
        &mut *state.pool.acquire().await?,
        &state.server_key,
        key.site_id(),
        body.into(),
    )
    .await?;
    Ok((
        Extension(Sensitive),
        Created(CreatedKeyBody {
            key: created.key.into(),
            secret: created.plaintext,
            signing_secret: created.signing_secret,
        }),
    ))
}

/// Revoke an API key
///
/// Takes effect at once, on every replica (they hear of it from the database at commit).
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/api-keys/{keyId}",
    tag = "API keys",
    params(("siteId" = String, Path), ("keyId" = String, Path)),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 200, description = "The revoked key", body = Data<ApiKeyOut>), CommonErrors)
)]
pub async fn revoke(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Path((_site, key_id)): Path<(String, String)>,
) -> Result<Data<ApiKeyOut>, ApiError> {
    let revoked = keys::revoke(
        &mut *state.pool.acquire().await?,
        Some(key.site_id()),
        &key_id,
    )
    .await?;
    state.auth_cache.forget(&revoked.id);
    Ok(Data::new(revoked.into()))
}
