//! The outbox: events written in the same transaction as the change they describe, and the catalogue of
//! event names that webhook subscriptions may ask for.
//!
//! An event row is dispatched once: a worker claims undispatched rows (`FOR UPDATE SKIP LOCKED`), turns
//! each into deliveries (one per matching subscription, plus whatever other producers add) and marks it
//! dispatched in the same transaction. An event of a rolled-back transaction never existed, so it is never
//! sent; an event whose dispatch was interrupted is claimed again.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection};

use super::error::Result;
use crate::ids;

/// Records an event of `kind` (e.g. `order.created`) with `data` as its payload; returns its id. The
/// caller runs this in the transaction of the change it describes.
pub async fn record(
    conn: &mut PgConnection,
    site_id: &str,
    kind: &str,
    data: &impl Serialize,
) -> Result<String> {
    let payload = serde_json::to_value(data)
        .map_err(|e| super::Error::Internal(format!("event payload: {e}")))?;
    let id = ids::new_id("evt");
    sqlx::query("insert into events (site_id, id, type, payload) values ($1, $2, $3, $4)")
        .bind(site_id)
        .bind(&id)
        .bind(kind)
        .bind(payload)
        .execute(conn)
        .await?;
    Ok(id)
}

/// Records many events at once (`kinds[i]` with `payloads[i]`), in order, in the caller's transaction.
pub async fn record_many(
    conn: &mut PgConnection,
    site_id: &str,
    kinds: &[&str],
    payloads: &[serde_json::Value],
) -> Result<()> {
    if kinds.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = kinds.iter().map(|_| ids::new_id("evt")).collect();
    sqlx::query(
        "insert into events (site_id, id, type, payload) \
         select $1, u.id, u.type, u.payload from unnest($2::text[], $3::text[], $4::jsonb[]) as u(id, type, payload)",
    )
    .bind(site_id)
    .bind(ids)
    .bind(kinds)
    .bind(payloads)
    .execute(conn)
    .await?;
    Ok(())
}

/// An event name and what it means, for validation and the API description.
pub struct EventKind {
    pub name: &'static str,
    pub description: &'static str,
}

const fn kind(name: &'static str, description: &'static str) -> EventKind {
    EventKind { name, description }
}

/// Every event a subscription may ask for. `data` is described next to each.
pub const CATALOG: &[EventKind] = &[
    kind(
        "order.created",
        "A checkout completed and an order was placed. `data`: the order.",
    ),
    kind(
        "order.updated",
        "An order changed (status, payment or fulfilment status, tracking, notes, archived). `data`: the order.",
    ),
    kind(
        "order.fulfillment_updated",
        "An order's fulfilment status changed. `data`: `{orderId, fulfillmentStatus, previousFulfillmentStatus, \
         trackingNumber, trackingUrl}`.",
    ),
    kind(
        "payment.confirmed",
        "An order's payment was captured. `data`: `{orderId, amount}`.",
    ),
    kind(
        "payment.failed",
        "An order's payment failed. `data`: `{orderId, amount}`.",
    ),
    kind(
        "inventory.updated",
        "A stock level changed (any adjustment, sale or restock). `data`: `{variantId, productId, sku, locationId, \
         onHand, delta, inventoryCount, inventoryStatus, lowStockThreshold, reason, source}`.",
    ),
    kind(
        "inventory.low",
        "A variant's total stock crossed from above its low-stock threshold to at or below it (once per crossing, \
         not on every later decrement). `data`: as `inventory.updated`.",
    ),
    kind(
        "cart.abandoned",
        "A cart with items was left inactive (1 hour by default); sent once per cart. `data`: the cart, plus \
         `email` when a checkout or the cart's customer gave one.",
    ),
    kind(
        "product.created",
        "A product was created. `data`: the product with its variants.",
    ),
    kind(
        "product.updated",
        "A product or one of its variants changed. `data`: the product with its variants.",
    ),
    kind(
        "product.deleted",
        "A product was deleted. `data`: `{id, slug, handle}`.",
    ),
    kind(
        "customer.created",
        "A customer was created (by the API or by registering). `data`: the customer.",
    ),
    kind(
        "review.created",
        "A product review was submitted (published at once or waiting for moderation). `data`: the review.",
    ),
    kind(
        "gift_card.created",
        "A gift card was issued. `data`: the card without its code — `{id, lastCharacters, initialBalance, \
         balance, currency, customerId, expiresAt, status, createdAt, updatedAt}`.",
    ),
    kind(
        "gift_card.updated",
        "A gift card's expiry changed, or an order gave back what it had taken from the card (`amount`, \
         `orderId`). `data`: the card as in `gift_card.created`.",
    ),
    kind(
        "gift_card.redeemed",
        "Part of a gift card's balance was spent, by the API or at checkout. `data`: the card as in \
         `gift_card.created`, plus `amount` and `orderId` (null without an order).",
    ),
    kind(
        "gift_card.voided",
        "A gift card was voided for good. `data`: the card as in `gift_card.created`.",
    ),
];

/// The test event sent by `POST /webhooks/{id}/test`; never recorded in the outbox.
pub const PING: &str = "ping";

/// Whether `name` is an event of the catalogue.
pub fn is_known(name: &str) -> bool {
    CATALOG.iter().any(|k| k.name == name)
}

/// Whether a subscription pattern (`*`, `order.*`, or an exact name) covers the event `name`.
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    if pattern == "*" || pattern == name {
        return true;
    }
    match pattern.strip_suffix(".*") {
        Some(group) => name
            .strip_prefix(group)
            .is_some_and(|rest| rest.starts_with('.')),
        None => false,
    }
}

/// Whether a subscription pattern is valid: `*`, a known event, or `<group>.*` for a group that has events.
/// Every pattern [`is_valid_pattern`] accepts: `*`, each `<group>.*`, each event name.
pub fn patterns() -> Vec<String> {
    let mut out = vec!["*".to_string()];
    for kind in CATALOG {
        if let Some((group, _)) = kind.name.split_once('.') {
            let wildcard = format!("{group}.*");
            if !out.contains(&wildcard) {
                out.push(wildcard);
            }
        }
    }
    out.extend(CATALOG.iter().map(|k| k.name.to_string()));
    out
}

pub fn is_valid_pattern(pattern: &str) -> bool {
    pattern == "*"
        || is_known(pattern)
        || pattern.strip_suffix(".*").is_some_and(|group| {
            CATALOG
                .iter()
                .any(|k| k.name.split_once('.').is_some_and(|(g, _)| g == group))
        })
}

/// A markdown list of the catalogue, for the API description.
pub fn catalog_markdown() -> String {
    CATALOG
        .iter()
        .map(|k| format!("- `{}`: {}\n", k.name, k.description))
        .collect()
}

/// An outbox row being dispatched.
#[derive(Debug, Clone, FromRow)]
pub struct Event {
    pub site_id: String,
    pub id: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub payload: serde_json::Value,
    /// The dialect whose request made the change (see [`set_origin`]), so its own notifications can
    /// leave out what it did itself.
    pub origin: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Marks every event recorded in the rest of the caller's transaction as made through `origin` (a
/// dialect's name).
pub async fn set_origin(conn: &mut PgConnection, origin: &str) -> Result<()> {
    sqlx::query("select set_config('shopvo.origin', $1, true)")
        .bind(origin)
        .execute(conn)
        .await?;
    Ok(())
}

/// Claims up to `limit` undispatched events, oldest first, locking them until the caller's transaction
/// ends; rows another worker holds are skipped. This is the one query that spans sites: it feeds the
/// per-site fan-out.
pub async fn claim_undispatched(conn: &mut PgConnection, limit: i64) -> Result<Vec<Event>> {
    Ok(sqlx::query_as(
        "select site_id, id, type, payload, origin, created_at from events where dispatched_at is null \
         order by created_at, id limit $1 for update skip locked",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Marks claimed events dispatched (in the transaction that enqueued their deliveries).
pub async fn mark_dispatched(conn: &mut PgConnection, events: &[Event]) -> Result<()> {
    let sites: Vec<&str> = events.iter().map(|e| e.site_id.as_str()).collect();
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    sqlx::query(
        "update events e set dispatched_at = now() from unnest($1::text[], $2::text[]) as t(site_id, id) \
         where e.site_id = t.site_id and e.id = t.id",
    )
    .bind(&sites)
    .bind(&ids)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(pattern_matches("*", "order.created"));
        assert!(pattern_matches("order.*", "order.created"));
        assert!(!pattern_matches("order.*", "orders.created"));
        assert!(!pattern_matches("order.created", "order.updated"));
        assert!(is_valid_pattern("gift_card.*"));
        assert!(is_valid_pattern("inventory.low"));
        assert!(!is_valid_pattern("nope.*"));
        assert!(!is_valid_pattern("order.deleted"));
        assert!(!is_valid_pattern(PING));
    }
}

/// What the outbox has not yet fanned out to deliveries.
#[derive(Debug, Clone, Copy)]
pub struct Backlog {
    pub events: i64,
    /// The age of the oldest, in seconds (0 when there is none).
    pub oldest_age_seconds: f64,
}

/// The outbox's backlog across every site (for the operator's metrics).
pub async fn backlog(conn: &mut sqlx::PgConnection) -> super::Result<Backlog> {
    let (events, oldest_age_seconds): (i64, f64) = sqlx::query_as(
        "select count(*), coalesce(extract(epoch from now() - min(created_at))::float8, 0) \
         from events where dispatched_at is null",
    )
    .fetch_one(conn)
    .await?;
    Ok(Backlog {
        events,
        oldest_age_seconds,
    })
}
