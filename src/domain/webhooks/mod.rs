//! Webhook subscriptions: a URL, the events it wants, and a signing secret (`whsec_…`, sealed at rest,
//! shown once on creation and on rotation). A subscription is one producer of deliveries for the shared
//! transport in [`deliveries`]: each dispatched event becomes one signed delivery per matching active
//! subscription.

pub mod deliveries;
pub mod target;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};

use super::error::{Error, Result, Validator};
use super::events::{self, Event};
use super::field::FieldKey;
use super::pagination::{self, Page, PageRequest};
use super::patch;
use crate::crypto::{self, ServerKey};
use crate::ids;
pub use deliveries::{Delivery, NewDelivery, Signing};
pub use target::TargetPolicy;

pub const ID_PREFIX: &str = "wh";
/// Most event names (or patterns) one subscription may list.
pub const MAX_EVENTS: usize = 50;
/// Most subscriptions one site may have.
pub const MAX_SUBSCRIPTIONS: i64 = 50;
const SECRET_PREFIX: &str = "whsec_";

pub const HEADER_EVENT: &str = "X-Shopvo-Event";
pub const HEADER_DELIVERY: &str = "X-Shopvo-Delivery";
pub const HEADER_SIGNATURE: &str = "X-Shopvo-Signature";

#[derive(Debug, Clone, FromRow)]
pub struct Subscription {
    pub id: String,
    pub url: String,
    pub description: Option<String>,
    /// Event names, `*` for every event, or `<group>.*` (e.g. `order.*`).
    pub events: Vec<String>,
    /// Inactive subscriptions get no new events; their queued deliveries wait until reactivated.
    pub active: bool,
    /// Every attempt since this time failed (cleared by a success).
    pub failing_since: Option<DateTime<Utc>>,
    /// When the server disabled the subscription, and why (after failing continuously).
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, url, description, events, active, failing_since, disabled_at, disabled_reason, \
    created_at, updated_at";

/// A subscription's settings, for creating or replacing one.
#[derive(Debug)]
pub struct SubscriptionInput {
    /// Checked against the [`TargetPolicy`].
    pub url: String,
    /// Event names, `*`, or `<group>.*`; at most [`MAX_EVENTS`].
    pub events: Vec<String>,
    pub description: Option<String>,
    /// Default true.
    pub active: Option<bool>,
}

/// Changes to a subscription; `None` leaves a field as it is (`Some(None)` clears the description).
#[derive(Debug)]
pub struct SubscriptionPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<Option<String>>,
    /// `true` re-enables a subscription the server disabled (and clears its failure state).
    pub active: Option<bool>,
}

/// Checks the fields that need no network; returns the normalised events.
fn validate(
    v: &mut Validator,
    url: Option<&str>,
    events: Option<&[String]>,
    description: Option<&str>,
    policy: TargetPolicy,
) -> Vec<String> {
    if let Some(url) = url {
        // The shape is the schema's (an http(s) URL without spaces); whether this server may deliver there
        // (https only, no private hosts) is its configuration's, so a refusal of a well-formed URL is 422.
        if !crate::domain::catalog::is_http_url(url) {
            v.error(
                "url",
                "must be an absolute http(s) URL of at most 2048 characters",
            );
        } else if let Err(message) = target::parse(url, policy) {
            v.rule(false, "url", message);
        }
    }
    if let Some(description) = description {
        v.text("description", description, 0, 500);
    }
    let mut normalised: Vec<String> = Vec::new();
    if let Some(list) = events {
        if list.is_empty() {
            v.error("events", "list at least one event, or `*` for all");
        } else if list.len() > MAX_EVENTS {
            v.error("events", format!("at most {MAX_EVENTS} events"));
        }
        for (i, name) in list.iter().enumerate() {
            let name = name.trim();
            if !events::is_valid_pattern(name) {
                let shown: String = name.chars().take(64).collect();
                v.error(
                    FieldKey::from("events").at(i),
                    format!(
                        "unknown event `{shown}`: use `*`, `<group>.*` or one of {}",
                        events::CATALOG
                            .iter()
                            .map(|k| k.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            } else if !normalised.iter().any(|n| n == name) {
                normalised.push(name.to_string());
            }
        }
        if normalised.iter().any(|n| n == "*") {
            normalised = vec!["*".to_string()];
        }
    }
    normalised
}

/// Resolves the URL's host and refuses private addresses (a field error on `url`).
async fn check_target(url: &str, policy: TargetPolicy) -> Result<String> {
    target::check(url, policy)
        .await
        .map(|u| u.to_string())
        .map_err(|message| Error::unprocessable("url", message))
}

fn new_secret() -> String {
    format!("{SECRET_PREFIX}{}", crypto::random_token(32))
}

/// Creates a subscription; returns it with its secret, which is not shown again.
pub async fn create(
    conn: &mut PgConnection,
    key: &ServerKey,
    site_id: &str,
    input: SubscriptionInput,
    policy: TargetPolicy,
) -> Result<(Subscription, String)> {
    let mut v = Validator::new();
    let description = input
        .description
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty());
    let events = validate(
        &mut v,
        Some(&input.url),
        Some(&input.events[..]),
        description.as_deref(),
        policy,
    );
    v.finish()?;
    let url = check_target(&input.url, policy).await?;
    sqlx::query(
        "select pg_advisory_xact_lock(hashtextextended($1 || '/webhook-subscriptions', 0))",
    )
    .bind(site_id)
    .execute(&mut *conn)
    .await?;
    let count: i64 =
        sqlx::query_scalar("select count(*) from webhook_subscriptions where site_id = $1")
            .bind(site_id)
            .fetch_one(&mut *conn)
            .await?;
    if count >= MAX_SUBSCRIPTIONS {
        return Err(Error::Conflict {
            code: "LIMIT_REACHED",
            message: format!(
                "a site may have at most {MAX_SUBSCRIPTIONS} webhook subscriptions: delete one first"
            ),
        });
    }
    let secret = new_secret();
    let subscription = sqlx::query_as::<_, Subscription>(sqlx::AssertSqlSafe(format!(
        "insert into webhook_subscriptions (site_id, id, url, description, events, active, secret_enc) \
         values ($1, $2, $3, $4, $5, $6, $7) returning {COLUMNS}"
    )))
    .bind(site_id)
    .bind(ids::new_id(ID_PREFIX))
    .bind(&url)
    .bind(&description)
    .bind(&events)
    .bind(input.active.unwrap_or(true))
    .bind(key.seal(secret.as_bytes()))
    .fetch_one(&mut *conn)
    .await?;
    Ok((subscription, secret))
}

pub async fn list(
    conn: &mut PgConnection,
    site_id: &str,
    page: &PageRequest,
) -> Result<Page<Subscription>> {
    let select = format!("select {COLUMNS} from webhook_subscriptions");
    let (rows, total) = pagination::fetch::<Subscription>(
        conn,
        page,
        &select,
        " from webhook_subscriptions",
        "id",
        false,
        |qb| {
            qb.push(" where site_id = ").push_bind(site_id.to_string());
        },
    )
    .await?;
    Ok(Page::from_rows(page, rows, total, |s| &s.id))
}

pub async fn get(conn: &mut PgConnection, site_id: &str, id: &str) -> Result<Subscription> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from webhook_subscriptions where site_id = $1 and id = $2"
    )))
    .bind(site_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(Error::NotFound("webhook"))
}

/// Applies a partial update. Reactivating clears the failure state; a new URL also applies to deliveries
/// still queued. The caller runs this in a transaction.
pub async fn update(
    conn: &mut PgConnection,
    site_id: &str,
    id: &str,
    p: SubscriptionPatch,
    policy: TargetPolicy,
) -> Result<Subscription> {
    let mut v = Validator::new();
    let description = p
        .description
        .map(|d| d.map(|d| d.trim().to_string()).filter(|d| !d.is_empty()));
    let events = validate(
        &mut v,
        p.url.as_deref(),
        p.events.as_deref(),
        description.as_ref().and_then(|d| d.as_deref()),
        policy,
    );
    v.finish()?;
    let new_url = match &p.url {
        Some(url) => Some(check_target(url, policy).await?),
        None => None,
    };
    let current: Subscription = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from webhook_subscriptions where site_id = $1 and id = $2 for update"
    )))
    .bind(site_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound("webhook"))?;
    let url = new_url.unwrap_or_else(|| current.url.clone());
    let reactivate = p.active == Some(true) && !current.active;
    let updated: Subscription = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update webhook_subscriptions set url = $3, description = $4, events = $5, active = $6, \
         failing_since = case when $7 then null else failing_since end, \
         disabled_at = case when $7 then null else disabled_at end, \
         disabled_reason = case when $7 then null else disabled_reason end \
         where site_id = $1 and id = $2 returning {COLUMNS}"
    )))
    .bind(site_id)
    .bind(id)
    .bind(&url)
    .bind(patch::apply(current.description, description))
    .bind(if p.events.is_some() {
        events
    } else {
        current.events
    })
    .bind(p.active.unwrap_or(current.active))
    .bind(reactivate)
    .fetch_one(&mut *conn)
    .await?;
    if url != current.url {
        sqlx::query(
            "update webhook_deliveries set url = $3 where site_id = $1 and subscription_id = $2 and status = 'pending'",
        )
        .bind(site_id)
        .bind(id)
        .bind(&url)
        .execute(&mut *conn)
        .await?;
    }
    if reactivate {
        deliveries::notify(conn).await?;
    }
    Ok(updated)
}

/// Replaces a subscription's settings (PUT): omitted `description` is cleared, omitted `active` is true.
pub async fn replace(
    conn: &mut PgConnection,
    site_id: &str,
    id: &str,
    input: SubscriptionInput,
    policy: TargetPolicy,
) -> Result<Subscription> {
    let patch = SubscriptionPatch {
        url: Some(input.url),
        events: Some(input.events),
        description: Some(input.description),
        active: Some(input.active.unwrap_or(true)),
    };
    update(conn, site_id, id, patch, policy).await
}

/// Deletes a subscription with its deliveries and their attempts.
pub async fn delete(conn: &mut PgConnection, site_id: &str, id: &str) -> Result<()> {
    let deleted = sqlx::query("delete from webhook_subscriptions where site_id = $1 and id = $2")
        .bind(site_id)
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected();
    if deleted == 0 {
        Err(Error::NotFound("webhook"))
    } else {
        Ok(())
    }
}

/// Replaces the signing secret; returns the new one, which is not shown again. Queued deliveries are signed
/// with the new secret from now on (signatures are computed per attempt).
pub async fn rotate_secret(
    conn: &mut PgConnection,
    key: &ServerKey,
    site_id: &str,
    id: &str,
) -> Result<(Subscription, String)> {
    let secret = new_secret();
    let subscription: Subscription = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update webhook_subscriptions set secret_enc = $3 where site_id = $1 and id = $2 returning {COLUMNS}"
    )))
    .bind(site_id)
    .bind(id)
    .bind(key.seal(secret.as_bytes()))
    .fetch_optional(conn)
    .await?
    .ok_or(Error::NotFound("webhook"))?;
    Ok((subscription, secret))
}

/// The `{event, timestamp, siteId, data}` body of the native dialect.
pub fn render_body(
    kind: &str,
    timestamp: DateTime<Utc>,
    site_id: &str,
    data: &serde_json::Value,
) -> String {
    serde_json::json!({
        "event": kind,
        "timestamp": timestamp,
        "siteId": site_id,
        "data": data,
    })
    .to_string()
}

/// A delivery of the native dialect to a subscription: the Shopvo headers, signed per attempt.
fn native_delivery(
    site_id: &str,
    subscription_id: &str,
    url: &str,
    event_id: Option<&str>,
    kind: &str,
    body: String,
    retries: bool,
) -> NewDelivery {
    let id = ids::new_id(deliveries::ID_PREFIX);
    NewDelivery {
        headers: vec![
            (HEADER_EVENT.to_string(), kind.to_string()),
            (HEADER_DELIVERY.to_string(), id.clone()),
        ],
        id,
        site_id: site_id.to_string(),
        subscription_id: Some(subscription_id.to_string()),
        event_id: event_id.map(str::to_string),
        event_type: kind.to_string(),
        url: url.to_string(),
        body,
        signing: Signing::Shopvo,
        retries,
    }
}

#[derive(FromRow)]
struct Target {
    site_id: String,
    id: String,
    url: String,
    events: Vec<String>,
    created_at: DateTime<Utc>,
}

/// The fan-out: one delivery per (event, active subscription of its site that asks for it and existed when
/// the event happened).
pub async fn deliveries_for(conn: &mut PgConnection, batch: &[Event]) -> Result<Vec<NewDelivery>> {
    let mut sites: Vec<&str> = batch.iter().map(|e| e.site_id.as_str()).collect();
    sites.sort_unstable();
    sites.dedup();
    let targets: Vec<Target> = sqlx::query_as(
        "select site_id, id, url, events, created_at from webhook_subscriptions \
         where site_id = any($1) and active order by site_id, id",
    )
    .bind(&sites)
    .fetch_all(conn)
    .await?;
    let mut by_site: HashMap<&str, Vec<&Target>> = HashMap::new();
    for t in &targets {
        by_site.entry(t.site_id.as_str()).or_default().push(t);
    }
    let mut out = Vec::new();
    for event in batch {
        let Some(targets) = by_site.get(event.site_id.as_str()) else {
            continue;
        };
        let mut body: Option<String> = None;
        for t in targets {
            if t.created_at > event.created_at
                || !t
                    .events
                    .iter()
                    .any(|p| events::pattern_matches(p, &event.kind))
            {
                continue;
            }
            let body = body
                .get_or_insert_with(|| {
                    render_body(
                        &event.kind,
                        event.created_at,
                        &event.site_id,
                        &event.payload,
                    )
                })
                .clone();
            out.push(native_delivery(
                &event.site_id,
                &t.id,
                &t.url,
                Some(&event.id),
                &event.kind,
                body,
                true,
            ));
        }
    }
    Ok(out)
}

/// Queues a `ping` to the subscription (sent once, not retried).
pub async fn ping(conn: &mut PgConnection, site_id: &str, id: &str) -> Result<Delivery> {
    let subscription = get(conn, site_id, id).await?;
    require_active(&subscription)?;
    let body = render_body(
        events::PING,
        Utc::now(),
        site_id,
        &serde_json::json!({
            "webhookId": subscription.id,
            "message": "A test event from Shopvo: your endpoint is reachable.",
        }),
    );
    let delivery = native_delivery(
        site_id,
        &subscription.id,
        &subscription.url,
        None,
        events::PING,
        body,
        false,
    );
    let delivery_id = delivery.id.clone();
    deliveries::enqueue(conn, &[delivery]).await?;
    deliveries::get(conn, site_id, id, &delivery_id).await
}

/// Manual sends need an active subscription (reactivate it first).
pub(crate) fn require_active(subscription: &Subscription) -> Result<()> {
    if subscription.active {
        Ok(())
    } else {
        Err(Error::Conflict {
            code: "WEBHOOK_INACTIVE",
            message: "this webhook is inactive: reactivate it first".into(),
        })
    }
}
