//! `/integrations/…`: credentials that vendor integrations use to reach this site through their dialect.

use axum::Extension;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::v1::patch;

use crate::domain::integrations::mofavo::{self, IssuedToken, TokenInfo};
use crate::domain::integrations::mulopim;
use crate::http::auth::Admin;
use crate::http::idempotency::Sensitive;
use crate::http::{ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, Path, Scoped};
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = MulopimAppPasswordInput)]
pub struct AppPasswordIn {
    /// The WordPress user name the integration sends with HTTP Basic.
    #[schema(
        example = "erp-sync",
        min_length = 1,
        max_length = 60,
        pattern = "^[^:]*\\S[^:]*$"
    )]
    pub username: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MulopimAppPassword)]
pub struct AppPasswordOut {
    pub username: String,
    /// Shown only when created: WordPress's form, six groups of four (spaces optional when sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "abcd EFGH 1234 ijkl MNOP 5678")]
    pub password: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// Create a Mulopim application password
///
/// For integrations that authenticate as a WordPress user (`Authorization: Basic base64(user:password)`)
/// on the Mulopim routes. The password is shown only in this answer; one per user name (409).
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/integrations/mulopim/application-passwords",
    tag = "Integrations",
    params(("siteId" = String, Path)),
    request_body(content = AppPasswordIn, example = json!({"username": "erp-sync"})),
    security(("bearerAuth" = ["admin:*"])),
    responses(
        (status = 201, description = "The user name and its password", body = Data<AppPasswordOut>),
        (status = 409, description = "The user already has one", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create_mulopim_app_password(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Json(input): Json<AppPasswordIn>,
) -> Result<(Extension<Sensitive>, Created<AppPasswordOut>), ApiError> {
    let mut conn = state.pool.acquire().await?;
    let created =
        mulopim::create_app_password(&mut conn, &state.server_key, &key.caller(), &input.username)
            .await?;
    Ok((
        Extension(Sensitive),
        Created(AppPasswordOut {
            username: created.username,
            password: Some(created.password),
            created_at: created.created_at,
            last_used_at: None,
        }),
    ))
}

/// List Mulopim application passwords
///
/// User names and dates, never the passwords.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/integrations/mulopim/application-passwords",
    tag = "Integrations",
    params(("siteId" = String, Path)),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 200, description = "The application passwords", body = Data<Vec<AppPasswordOut>>), CommonErrors)
)]
pub async fn list_mulopim_app_passwords(
    key: Scoped<Admin>,
    State(state): State<AppState>,
) -> Result<Data<Vec<AppPasswordOut>>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let found = mulopim::app_passwords(&mut conn, &key.caller()).await?;
    Ok(Data::new(
        found
            .into_iter()
            .map(|(username, created_at, last_used_at)| AppPasswordOut {
                username,
                password: None,
                created_at,
                last_used_at,
            })
            .collect(),
    ))
}

/// Revoke a Mulopim application password
///
/// At once.
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/integrations/mulopim/application-passwords/{username}",
    tag = "Integrations",
    params(("siteId" = String, Path), ("username" = String, Path)),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 200, description = "Revoked", body = Deleted), CommonErrors)
)]
pub async fn revoke_mulopim_app_password(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Path((_site, username)): Path<(String, String)>,
) -> Result<Deleted, ApiError> {
    let mut conn = state.pool.acquire().await?;
    mulopim::revoke_app_password(&mut conn, &key.caller(), &username).await?;
    Ok(Deleted::new())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MulopimSettings)]
pub struct SettingsOut {
    /// Record each incoming webhook request (`GET …/mulopim/webhook-log`).
    pub webhook_log: bool,
    /// Items one bulk sync may carry.
    #[schema(example = 1000)]
    pub max_items: usize,
    /// A bulk sync with more failed items than this is rolled back whole.
    #[schema(example = 500)]
    pub rollback_threshold: usize,
}

impl From<mulopim::Settings> for SettingsOut {
    fn from(s: mulopim::Settings) -> Self {
        SettingsOut {
            webhook_log: s.webhook_log,
            max_items: s.max_items,
            rollback_threshold: s.rollback_after,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = MulopimSettingsPatch)]
pub struct SettingsPatchIn {
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    pub webhook_log: Option<bool>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, minimum = 1, maximum = 10000)]
    pub max_items: Option<i32>,
    /// `null` returns to half of `maxItems`.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<i32>, minimum = 0)]
    pub rollback_threshold: Option<Option<i32>>,
}

/// Get the Mulopim settings
///
/// The webhook log switch, the bulk sync limit and its rollback threshold.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/integrations/mulopim/settings",
    tag = "Integrations",
    params(("siteId" = String, Path)),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 200, description = "The settings", body = Data<SettingsOut>), CommonErrors)
)]
pub async fn get_mulopim_settings(
    key: Scoped<Admin>,
    State(state): State<AppState>,
) -> Result<Data<SettingsOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let settings = mulopim::settings(&mut conn, key.caller().site_id()).await?;
    Ok(Data::new(settings.into()))
}

/// Change the Mulopim settings
///
/// The fields given.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/integrations/mulopim/settings",
    tag = "Integrations",
    params(("siteId" = String, Path)),
    request_body(content = SettingsPatchIn, example = json!({"webhookLog": true, "maxItems": 500})),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 200, description = "The settings", body = Data<SettingsOut>), CommonErrors)
)]
pub async fn update_mulopim_settings(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Json(input): Json<SettingsPatchIn>,
) -> Result<Data<SettingsOut>, ApiError> {
    let patch = mulopim::SettingsPatch {
        webhook_log: input.webhook_log,
        max_items: input.max_items,
        rollback_threshold: input.rollback_threshold,
    };
    let mut conn = state.pool.acquire().await?;
    let settings = mulopim::update_settings(&mut conn, &key.caller(), patch).await?;
    Ok(Data::new(settings.into()))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MulopimWebhookLogEntry)]
pub struct WebhookLogOut {
    pub received_at: DateTime<Utc>,
    /// The request body as received (up to 64 KiB).
    pub body: String,
    /// The status answered.
    pub status: i32,
    /// The message answered.
    pub result: String,
}

/// Read the Mulopim webhook log
///
/// The latest 100 incoming webhook requests, newest first, recorded while `webhookLog` is on.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/integrations/mulopim/webhook-log",
    tag = "Integrations",
    params(("siteId" = String, Path)),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 200, description = "The entries", body = Data<Vec<WebhookLogOut>>), CommonErrors)
)]
pub async fn mulopim_webhook_log(
    key: Scoped<Admin>,
    State(state): State<AppState>,
) -> Result<Data<Vec<WebhookLogOut>>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let entries = mulopim::webhook_log(&mut conn, &key.caller()).await?;
    Ok(Data::new(
        entries
            .into_iter()
            .map(|e| WebhookLogOut {
                received_at: e.received_at,
                body: e.body,
                status: e.status,
                result: e.result,
            })
            .collect(),
    ))
}
