//! `/webhooks`: subscriptions, their deliveries, redelivery and test pings.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::api::v1::formats::{EventPatterns, HttpUrl};
use crate::api::v1::patch;
use crate::domain::webhooks::deliveries::Attempt;
use crate::domain::webhooks::{
    self, Delivery, MAX_EVENTS, Subscription, SubscriptionInput, SubscriptionPatch, deliveries,
};
use crate::http::auth::{WebhooksRead, WebhooksWrite};
use crate::http::idempotency::Sensitive;
use crate::http::{
    ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, List, Pagination, Path, Query,
    Scoped,
};
use crate::state::AppState;

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Subscription)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionOut {
    #[schema(example = "wh_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    id: String,
    #[schema(example = "https://example.com/hooks/shopvo")]
    url: String,
    description: Option<String>,
    /// Event names, `*` for every event, or `<group>.*` (e.g. `order.*`).
    #[schema(example = json!(["order.created", "inventory.low"]))]
    events: Vec<String>,
    /// Inactive subscriptions get no new events; their queued deliveries wait until reactivated.
    active: bool,
    /// Every attempt since this time failed (cleared by a success).
    failing_since: Option<DateTime<Utc>>,
    /// When the server disabled the subscription, and why (after failing continuously).
    disabled_at: Option<DateTime<Utc>>,
    disabled_reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Subscription> for SubscriptionOut {
    fn from(s: Subscription) -> Self {
        SubscriptionOut {
            id: s.id,
            url: s.url,
            description: s.description,
            events: s.events,
            active: s.active,
            failing_since: s.failing_since,
            disabled_at: s.disabled_at,
            disabled_reason: s.disabled_reason,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// `events`: a list of names, or the string `*` (every event).
#[derive(Debug)]
pub struct EventsIn(Vec<String>);

impl<'de> Deserialize<'de> for EventsIn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = EventsIn;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of event names, or \"*\"")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<EventsIn, E> {
                Ok(EventsIn(vec![s.to_string()]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<EventsIn, A::Error> {
                let mut out = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    // Bounded while reading, so a huge list costs nothing before it is refused.
                    if out.len() > MAX_EVENTS {
                        return Err(serde::de::Error::custom(format!(
                            "at most {MAX_EVENTS} events"
                        )));
                    }
                    out.push(name);
                }
                Ok(EventsIn(out))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = SubscriptionInput)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscriptionIn {
    /// Where deliveries are POSTed: https (plain http only when the server allows it), and not a private
    /// or loopback address unless the server allows private targets.
    #[schema(value_type = HttpUrl, example = "https://example.com/hooks/shopvo")]
    url: String,
    #[schema(value_type = EventPatterns)]
    events: EventsIn,
    #[serde(default)]
    #[schema(max_length = 500)]
    description: Option<String>,
    /// Default true.
    #[serde(default)]
    active: Option<bool>,
}

impl From<SubscriptionIn> for SubscriptionInput {
    fn from(s: SubscriptionIn) -> Self {
        SubscriptionInput {
            url: s.url,
            events: s.events.0,
            description: s.description,
            active: s.active,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = SubscriptionPatch)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscriptionPatchIn {
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, value_type = HttpUrl)]
    url: Option<String>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(value_type = EventPatterns, nullable = false)]
    events: Option<EventsIn>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 500)]
    description: Option<Option<String>>,
    /// `true` re-enables a subscription the server disabled (and clears its failure state).
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    active: Option<bool>,
}

impl From<SubscriptionPatchIn> for SubscriptionPatch {
    fn from(p: SubscriptionPatchIn) -> Self {
        SubscriptionPatch {
            url: p.url,
            events: p.events.map(|e| e.0),
            description: p.description,
            active: p.active,
        }
    }
}

/// A subscription with its signing secret, shown only in this response.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionWithSecret {
    #[serde(flatten)]
    subscription: SubscriptionOut,
    /// The HMAC-SHA256 key for `X-Shopvo-Signature` (the whole string, prefix included). Store it now: it
    /// cannot be shown again (rotate it to get a new one).
    #[schema(example = "whsec_3kTn9QvX0bYw2LhR7cJp5mZ8aFe1GsUd")]
    secret: String,
}

/// One attempt, as the operator views show it.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Attempt)]
#[serde(rename_all = "camelCase")]
pub struct AttemptOut {
    /// 1 for the first attempt.
    attempt: i32,
    /// The receiver's HTTP status; absent when no answer came (timeout, refused, connection error).
    status_code: Option<i32>,
    latency_ms: i32,
    error: Option<String>,
    /// The first 4 KiB of the response body.
    response_body: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<Attempt> for AttemptOut {
    fn from(a: Attempt) -> Self {
        AttemptOut {
            attempt: a.attempt,
            status_code: a.status_code,
            latency_ms: a.latency_ms,
            error: a.error,
            response_body: a.response_body,
            created_at: a.created_at,
        }
    }
}

/// A delivery of a subscription, with its attempts.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Delivery)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryOut {
    /// Sent as `X-Shopvo-Delivery`; the same for every attempt.
    #[schema(example = "whd_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    id: String,
    webhook_id: Option<String>,
    /// The outbox event (absent for `ping`).
    event_id: Option<String>,
    #[schema(example = "order.created")]
    event: String,
    /// `pending`, `delivered` or `failed` (after its last retry).
    status: String,
    attempt_count: i32,
    /// When the next attempt is due (pending deliveries only).
    next_attempt_at: Option<DateTime<Utc>>,
    last_status_code: Option<i32>,
    last_error: Option<String>,
    delivered_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// The body as sent.
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>)]
    payload: serde_json::Value,
    /// Every attempt, oldest first (the latest 50).
    attempts: Vec<AttemptOut>,
}

impl From<Delivery> for DeliveryOut {
    fn from(d: Delivery) -> Self {
        DeliveryOut {
            id: d.id,
            webhook_id: d.webhook_id,
            event_id: d.event_id,
            event: d.event,
            status: d.status,
            attempt_count: d.attempt_count,
            next_attempt_at: d.next_attempt_at,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            delivered_at: d.delivered_at,
            created_at: d.created_at,
            updated_at: d.updated_at,
            payload: d.payload,
            attempts: d.attempts.into_iter().map(Into::into).collect(),
        }
    }
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
    /// Page number for offset pagination (default 1); pages reach the first 10,000 items (walk further with
    /// `cursor`, 422 otherwise). Checked, then ignored, when `cursor` is given.
    #[param(minimum = 1, maximum = 1000000)]
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    page: Option<i64>,
    /// Results per page (1–100, default 20).
    #[param(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    limit: Option<i64>,
    /// The `cursor` of a previous response; empty to start a cursor walk (newest first).
    cursor: Option<String>,
    /// Only deliveries with this status.
    #[param(inline)]
    status: Option<DeliveryStatus>,
}

/// List webhook subscriptions
///
/// In creation order, without secrets. A subscription the server disabled, after every delivery to it
/// failed for the disable period (48 hours by default), has `active: false`, `disabledAt` and
/// `disabledReason`; `failingSince` is when its current run of failures began. Offset pagination with
/// `page`, or keyset pagination with `cursor`.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/webhooks",
    tag = "Webhooks",
    params(("siteId" = String, Path), Pagination),
    security(("bearerAuth" = ["webhooks:read"])),
    responses((status = 200, description = "A page of subscriptions (secrets are never listed)", body = List<SubscriptionOut>), CommonErrors)
)]
pub async fn list(
    key: Scoped<WebhooksRead>,
    State(state): State<AppState>,
    Query(q): Query<Pagination>,
) -> Result<List<SubscriptionOut>, ApiError> {
    let page = q.request(webhooks::ID_PREFIX)?;
    let mut conn = state.pool.acquire().await?;
    let page = webhooks::list(&mut conn, key.site_id(), &page).await?;
    Ok(List::from(page.map(Into::into)))
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
    request_body(content = SubscriptionIn,
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
    Json(input): Json<SubscriptionIn>,
) -> Result<(Extension<Sensitive>, Created<SubscriptionWithSecret>), ApiError> {
    let policy = state.config.webhooks.target_policy();
    let mut tx = state.pool.begin().await?;
    let (subscription, secret) = webhooks::create(
        &mut tx,
        &state.server_key,
        key.site_id(),
        input.into(),
        policy,
    )
    .await?;
    tx.commit().await?;
    Ok((
        Extension(Sensitive),
        Created(SubscriptionWithSecret {
            subscription: subscription.into(),
            secret,
        }),
    ))
}

/// Get a webhook subscription
///
/// By id (`wh_…`), without its secret: that is shown only when the subscription is created and when the
/// secret is rotated.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/webhooks/{webhookId}",
    tag = "Webhooks",
    params(("siteId" = String, Path), ("webhookId" = String, Path)),
    security(("bearerAuth" = ["webhooks:read"])),
    responses((status = 200, description = "The subscription", body = Data<SubscriptionOut>), CommonErrors)
)]
pub async fn get(
    key: Scoped<WebhooksRead>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Data<SubscriptionOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let subscription = webhooks::get(&mut conn, key.site_id(), &id).await?;
    Ok(Data::new(subscription.into()))
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
    request_body(content = SubscriptionPatchIn, example = json!({"events": ["*"], "active": true})),
    security(("bearerAuth" = ["webhooks:write"])),
    responses((status = 200, description = "The updated subscription", body = Data<SubscriptionOut>), CommonErrors)
)]
pub async fn update(
    key: Scoped<WebhooksWrite>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(patch): Json<SubscriptionPatchIn>,
) -> Result<Data<SubscriptionOut>, ApiError> {
    let policy = state.config.webhooks.target_policy();
    let mut tx = state.pool.begin().await?;
    let subscription = webhooks::update(&mut tx, key.site_id(), &id, patch.into(), policy).await?;
    tx.commit().await?;
    Ok(Data::new(subscription.into()))
}

/// Replace a webhook subscription
///
/// Omitted `description` is cleared and omitted `active` is true; the secret stays.
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/webhooks/{webhookId}",
    tag = "Webhooks",
    params(("siteId" = String, Path), ("webhookId" = String, Path)),
    request_body(content = SubscriptionIn, example = json!({"url": "https://example.com/hooks/shopvo", "events": ["order.*"]})),
    security(("bearerAuth" = ["webhooks:write"])),
    responses((status = 200, description = "The replaced subscription", body = Data<SubscriptionOut>), CommonErrors)
)]
pub async fn replace(
    key: Scoped<WebhooksWrite>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(input): Json<SubscriptionIn>,
) -> Result<Data<SubscriptionOut>, ApiError> {
    let policy = state.config.webhooks.target_policy();
    let mut tx = state.pool.begin().await?;
    let subscription = webhooks::replace(&mut tx, key.site_id(), &id, input.into(), policy).await?;
    tx.commit().await?;
    Ok(Data::new(subscription.into()))
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
            subscription: subscription.into(),
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
    responses((status = 200, description = "A page of deliveries", body = List<DeliveryOut>), CommonErrors)
)]
pub async fn deliveries(
    key: Scoped<WebhooksRead>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Query(q): Query<DeliveriesQuery>,
) -> Result<List<DeliveryOut>, ApiError> {
    let page = Pagination {
        page: q.page,
        limit: q.limit,
        cursor: q.cursor,
    }
    .request(deliveries::ID_PREFIX)?;
    let mut conn = state.pool.acquire().await?;
    let page = deliveries::list(
        &mut conn,
        key.site_id(),
        &id,
        q.status.map(DeliveryStatus::as_str),
        &page,
    )
    .await?;
    Ok(List::from(page.map(Into::into)))
}

/// Get a delivery
///
/// One delivery of this subscription by its id (`whd_…`, sent as `X-Shopvo-Delivery`): the body as sent,
/// its status and its latest 50 attempts, oldest first. Delivered and failed deliveries are kept for the
/// server's retention period (`SHOPVO_WEBHOOK_RETENTION`, 30 days by default), pending ones until they
/// finish.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/webhooks/{webhookId}/deliveries/{deliveryId}",
    tag = "Webhooks",
    params(("siteId" = String, Path), ("webhookId" = String, Path), ("deliveryId" = String, Path)),
    security(("bearerAuth" = ["webhooks:read"])),
    responses((status = 200, description = "The delivery with its attempts", body = Data<DeliveryOut>), CommonErrors)
)]
pub async fn delivery(
    key: Scoped<WebhooksRead>,
    State(state): State<AppState>,
    Path((_site, id, delivery_id)): Path<(String, String, String)>,
) -> Result<Data<DeliveryOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let delivery = deliveries::get(&mut conn, key.site_id(), &id, &delivery_id).await?;
    Ok(Data::new(delivery.into()))
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
        (status = 202, description = "Queued", body = Data<DeliveryOut>),
        (status = 409, description = "An attempt is in flight, or the subscription is inactive", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn redeliver(
    key: Scoped<WebhooksWrite>,
    State(state): State<AppState>,
    Path((_site, id, delivery_id)): Path<(String, String, String)>,
) -> Result<(StatusCode, Data<DeliveryOut>), ApiError> {
    let mut tx = state.pool.begin().await?;
    let delivery = deliveries::redeliver(&mut tx, key.site_id(), &id, &delivery_id).await?;
    tx.commit().await?;
    Ok((StatusCode::ACCEPTED, Data::new(delivery.into())))
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
        (status = 202, description = "The queued ping", body = Data<DeliveryOut>),
        (status = 409, description = "The subscription is inactive", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn test(
    key: Scoped<WebhooksWrite>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<(StatusCode, Data<DeliveryOut>), ApiError> {
    let mut tx = state.pool.begin().await?;
    let delivery = webhooks::ping(&mut tx, key.site_id(), &id).await?;
    tx.commit().await?;
    Ok((StatusCode::ACCEPTED, Data::new(delivery.into())))
}
