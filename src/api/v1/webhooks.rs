//! `/webhooks`: subscriptions, their deliveries, redelivery and test pings.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::domain::webhooks::{
    self, Delivery, Subscription, SubscriptionInput, SubscriptionPatch, deliveries,
};
use crate::http::auth::{WebhooksRead, WebhooksWrite};
use crate::http::idempotency::Sensitive;
use crate::http::{
    ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, List, Pagination, Path, Query,
    Scoped,
};
use crate::state::AppState;

/// A subscription with its signing secret, shown only in this response.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionWithSecret {
    #[serde(flatten)]
    subscription: Subscription,
    /// The HMAC-SHA256 key for `X-Shopvo-Signature` (the whole string, prefix included). Store it now: it
    /// cannot be shown again (rotate it to get a new one).
    #[schema(example = "whsec_3kTn9QvX0bYw2LhR7cJp5mZ8aFe1GsUd")]
    secret: String,
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeliveriesQuery {
    /// Page number for offset pagination (default 1). Ignored when `cursor` is given.
    page: Option<i64>,
    /// Results per page (1–100, default 20).
    limit: Option<i64>,
    /// The `cursor` of a previous response; empty to start a cursor walk (newest first).
    cursor: Option<String>,
    /// Only deliveries with this status.
    #[param(inline)]
    status: Option<DeliveryStatus>,
}

/// List webhook subscriptions
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/webhooks",
    tag = "Webhooks",
    params(("siteId" = String, Path), Pagination),
    security(("bearerAuth" = ["webhooks:read"])),
    responses((status = 200, description = "A page of subscriptions (secrets are never listed)", body = List<Subscription>), CommonErrors)
)]
pub async fn list(
    key: Scoped<WebhooksRead>,
    State(state): State<AppState>,
    Query(q): Query<Pagination>,
) -> Result<List<Subscription>, ApiError> {
    let page = q.request(webhooks::ID_PREFIX)?;
    let mut conn = state.pool.acquire().await?;
    Ok(List::from(
        webhooks::list(&mut conn, key.site_id(), &page).await?,
    ))
}

/// Create a webhook subscription
///
/// The response carries the signing secret, once. Targets must be https (unless the server allows plain
/// http) and must not be, or resolve to, loopback, private, link-local or metadata addresses (unless the
/// server allows private targets).
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/webhooks",
    tag = "Webhooks",
    params(("siteId" = String, Path)),
    request_body(content = SubscriptionInput,
        example = json!({"url": "https://example.com/hooks/shopvo", "events": ["order.created", "inventory.low"], "description": "ERP sync"})),
    security(("bearerAuth" = ["webhooks:write"])),
    responses(
        (status = 201, description = "The subscription and its secret (shown only here)", body = Data<SubscriptionWithSecret>),
        (status = 409, description = "The site has the most subscriptions it may have (50)", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create(
    key: Scoped<WebhooksWrite>,
    State(state): State<AppState>,
    Json(input): Json<SubscriptionInput>,
) -> Result<(Extension<Sensitive>, Created<SubscriptionWithSecret>), ApiError> {
    let policy = state.config.webhooks.target_policy();
    let mut tx = state.pool.begin().await?;
    let (subscription, secret) =
        webhooks::create(&mut tx, &state.server_key, key.site_id(), input, policy).await?;
    tx.commit().await?;
    Ok((
        Extension(Sensitive),
        Created(SubscriptionWithSecret {
            subscription,
            secret,
        }),
    ))
}

/// Get a webhook subscription
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/webhooks/{webhookId}",
    tag = "Webhooks",
    params(("siteId" = String, Path), ("webhookId" = String, Path)),
    security(("bearerAuth" = ["webhooks:read"])),
    responses((status = 200, description = "The subscription", body = Data<Subscription>), CommonErrors)
)]
pub async fn get(
    key: Scoped<WebhooksRead>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Data<Subscription>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    Ok(Data::new(
        webhooks::get(&mut conn, key.site_id(), &id).await?,
    ))
}

/// Update a webhook subscription
///
/// Only the fields sent change. `active: true` re-enables a subscription the server disabled; a new `url`
/// also applies to deliveries still queued.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/webhooks/{webhookId}",
    tag = "Webhooks",
    params(("siteId" = String, Path), ("webhookId" = String, Path)),
    request_body(content = SubscriptionPatch, example = json!({"events": "*", "active": true})),
    security(("bearerAuth" = ["webhooks:write"])),
    responses((status = 200, description = "The updated subscription", body = Data<Subscription>), CommonErrors)
)]
pub async fn update(
    key: Scoped<WebhooksWrite>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(patch): Json<SubscriptionPatch>,
) -> Result<Data<Subscription>, ApiError> {
    let policy = state.config.webhooks.target_policy();
    let mut tx = state.pool.begin().await?;
    let subscription = webhooks::update(&mut tx, key.site_id(), &id, patch, policy).await?;
    tx.commit().await?;
    Ok(Data::new(subscription))
}

/// Replace a webhook subscription
///
/// Omitted `description` is cleared and omitted `active` is true; the secret stays.
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/webhooks/{webhookId}",
    tag = "Webhooks",
    params(("siteId" = String, Path), ("webhookId" = String, Path)),
    request_body(content = SubscriptionInput, example = json!({"url": "https://example.com/hooks/shopvo", "events": ["order.*"]})),
    security(("bearerAuth" = ["webhooks:write"])),
    responses((status = 200, description = "The replaced subscription", body = Data<Subscription>), CommonErrors)
)]
pub async fn replace(
    key: Scoped<WebhooksWrite>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(input): Json<SubscriptionInput>,
) -> Result<Data<Subscription>, ApiError> {
    let policy = state.config.webhooks.target_policy();
    let mut tx = state.pool.begin().await?;
    let subscription = webhooks::replace(&mut tx, key.site_id(), &id, input, policy).await?;
    tx.commit().await?;
    Ok(Data::new(subscription))
}

/// Delete a webhook subscription
///
/// With its queued deliveries and their history.
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/webhooks/{webhookId}",
    tag = "Webhooks",
    params(("siteId" = String, Path), ("webhookId" = String, Path)),
    security(("bearerAuth" = ["webhooks:write"])),
    responses((status = 200, description = "Deleted", body = Deleted), CommonErrors)
)]
pub async fn delete(
    key: Scoped<WebhooksWrite>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Deleted, ApiError> {
    let mut conn = state.pool.acquire().await?;
    webhooks::delete(&mut conn, key.site_id(), &id).await?;
    Ok(Deleted::new())
}

/// Rotate a subscription's secret
///
/// The new secret is shown once, here, and signs every attempt from now on (queued retries included); the
/// old one stops at once.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/webhooks/{webhookId}/rotate-secret",
    tag = "Webhooks",
    params(("siteId" = String, Path), ("webhookId" = String, Path)),
    security(("bearerAuth" = ["webhooks:write"])),
    responses((status = 200, description = "The subscription and its new secret (shown only here)", body = Data<SubscriptionWithSecret>), CommonErrors)
)]
pub async fn rotate_secret(
    key: Scoped<WebhooksWrite>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<(Extension<Sensitive>, Data<SubscriptionWithSecret>), ApiError> {
    let mut conn = state.pool.acquire().await?;
    let (subscription, secret) =
        webhooks::rotate_secret(&mut conn, &state.server_key, key.site_id(), &id).await?;
    Ok((
        Extension(Sensitive),
        Data::new(SubscriptionWithSecret {
            subscription,
            secret,
        }),
    ))
}

/// List a subscription's deliveries
///
/// Newest first, each with its attempts (status code, latency, error, the first 4 KiB of the answer).
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/webhooks/{webhookId}/deliveries",
    tag = "Webhooks",
    params(("siteId" = String, Path), ("webhookId" = String, Path), DeliveriesQuery),
    security(("bearerAuth" = ["webhooks:read"])),
    responses((status = 200, description = "A page of deliveries", body = List<Delivery>), CommonErrors)
)]
pub async fn deliveries(
    key: Scoped<WebhooksRead>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Query(q): Query<DeliveriesQuery>,
) -> Result<List<Delivery>, ApiError> {
    let page = Pagination {
        page: q.page,
        limit: q.limit,
        cursor: q.cursor,
    }
    .request(deliveries::ID_PREFIX)?;
    let mut conn = state.pool.acquire().await?;
    Ok(List::from(
        deliveries::list(
            &mut conn,
            key.site_id(),
            &id,
            q.status.map(DeliveryStatus::as_str),
            &page,
        )
        .await?,
    ))
}

/// Get a delivery
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/webhooks/{webhookId}/deliveries/{deliveryId}",
    tag = "Webhooks",
    params(("siteId" = String, Path), ("webhookId" = String, Path), ("deliveryId" = String, Path)),
    security(("bearerAuth" = ["webhooks:read"])),
    responses((status = 200, description = "The delivery with its attempts", body = Data<Delivery>), CommonErrors)
)]
pub async fn delivery(
    key: Scoped<WebhooksRead>,
    State(state): State<AppState>,
    Path((_site, id, delivery_id)): Path<(String, String, String)>,
) -> Result<Data<Delivery>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    Ok(Data::new(
        deliveries::get(&mut conn, key.site_id(), &id, &delivery_id).await?,
    ))
}

/// Redeliver
///
/// Queues the delivery again now, with the same id (`X-Shopvo-Delivery`) and body and a fresh retry
/// schedule. 409 while an attempt is in flight or when the subscription is inactive.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver",
    tag = "Webhooks",
    params(("siteId" = String, Path), ("webhookId" = String, Path), ("deliveryId" = String, Path)),
    security(("bearerAuth" = ["webhooks:write"])),
    responses(
        (status = 202, description = "Queued", body = Data<Delivery>),
        (status = 409, description = "An attempt is in flight, or the subscription is inactive", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn redeliver(
    key: Scoped<WebhooksWrite>,
    State(state): State<AppState>,
    Path((_site, id, delivery_id)): Path<(String, String, String)>,
) -> Result<(StatusCode, Data<Delivery>), ApiError> {
    let mut tx = state.pool.begin().await?;
    let delivery = deliveries::redeliver(&mut tx, key.site_id(), &id, &delivery_id).await?;
    tx.commit().await?;
    Ok((StatusCode::ACCEPTED, Data::new(delivery)))
}

/// Send a test event
///
/// Queues a `ping` (`{"event": "ping", "data": {"webhookId", "message"}}`), sent once without retries; its
/// outcome shows in the deliveries. 409 when the subscription is inactive.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/webhooks/{webhookId}/test",
    tag = "Webhooks",
    params(("siteId" = String, Path), ("webhookId" = String, Path)),
    security(("bearerAuth" = ["webhooks:write"])),
    responses(
        (status = 202, description = "The queued ping", body = Data<Delivery>),
        (status = 409, description = "The subscription is inactive", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn test(
    key: Scoped<WebhooksWrite>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<(StatusCode, Data<Delivery>), ApiError> {
    let mut tx = state.pool.begin().await?;
    let delivery = webhooks::ping(&mut tx, key.site_id(), &id).await?;
    tx.commit().await?;
    Ok((StatusCode::ACCEPTED, Data::new(delivery)))
}
