//! The delivery queue, shared by every producer: a delivery is a URL, headers and a body rendered when it
//! was queued, plus how to sign it. Workers claim due deliveries with `FOR UPDATE SKIP LOCKED` and a lease
//! (so several processes never send the same attempt), record every attempt, and reschedule or finish the
//! delivery. The id (`whd_…`) stays the same across retries and redeliveries.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{FromRow, PgConnection, Postgres, QueryBuilder};

use super::Subscription;
use crate::domain::error::{Error, Result};
use crate::domain::pagination::{self, Page, PageRequest};

pub const ID_PREFIX: &str = "whd";
/// The wake-up channel of the delivery workers.
pub const CHANNEL: &str = "shopvo_webhooks";
/// How much of a response body an attempt keeps.
pub const KEPT_RESPONSE_BYTES: usize = 4096;

/// How a delivery is signed when it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// Headers and body go as queued (a dialect that signs the body puts its signature in the headers).
    None,
    /// `X-Shopvo-Signature: t=<unix>,sha256=<hex>` over `<t>.<body>` with the subscription's current secret,
    /// computed per attempt so the timestamp is fresh.
    Shopvo,
}

impl Signing {
    fn as_str(self) -> &'static str {
        match self {
            Signing::None => "none",
            Signing::Shopvo => "shopvo",
        }
    }
}

/// A message to queue.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// `whd_…` (sent as the delivery id header by the native dialect).
    pub id: String,
    pub site_id: String,
    /// Set for webhook subscriptions (their failures count towards disabling them); `None` for other
    /// producers.
    pub subscription_id: Option<String>,
    pub event_id: Option<String>,
    pub event_type: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub signing: Signing,
    /// Retry on failure with the configured schedule (false: one attempt only).
    pub retries: bool,
}

impl NewDelivery {
    /// An unsigned delivery with its own headers, for producers other than subscriptions (dialect
    /// notifications such as Mozello's, whose `X-Mozello-Hash` is computed over the body when queued).
    pub fn unsigned(
        site_id: &str,
        event_id: Option<&str>,
        event_type: &str,
        url: &str,
        headers: Vec<(String, String)>,
        body: String,
    ) -> Self {
        NewDelivery {
            id: crate::ids::new_id(ID_PREFIX),
            site_id: site_id.to_string(),
            subscription_id: None,
            event_id: event_id.map(str::to_string),
            event_type: event_type.to_string(),
            url: url.to_string(),
            headers,
            body,
            signing: Signing::None,
            retries: true,
        }
    }
}

/// Wakes delivery workers when the caller's transaction commits.
pub async fn notify(conn: &mut PgConnection) -> Result<()> {
    sqlx::query("select pg_notify($1, '')")
        .bind(CHANNEL)
        .execute(conn)
        .await?;
    Ok(())
}

/// Queues deliveries (in the caller's transaction) and wakes the workers on commit. A subscription's
/// delivery of an event already queued is skipped.
pub async fn enqueue(conn: &mut PgConnection, deliveries: &[NewDelivery]) -> Result<()> {
    if deliveries.is_empty() {
        return Ok(());
    }
    for chunk in deliveries.chunks(500) {
        let mut sites = Vec::with_capacity(chunk.len());
        let mut ids = Vec::with_capacity(chunk.len());
        let mut subscriptions = Vec::with_capacity(chunk.len());
        let mut events = Vec::with_capacity(chunk.len());
        let mut types = Vec::with_capacity(chunk.len());
        let mut urls = Vec::with_capacity(chunk.len());
        let mut headers = Vec::with_capacity(chunk.len());
        let mut bodies = Vec::with_capacity(chunk.len());
        let mut signings = Vec::with_capacity(chunk.len());
        let mut retries = Vec::with_capacity(chunk.len());
        for d in chunk {
            sites.push(d.site_id.as_str());
            ids.push(d.id.as_str());
            subscriptions.push(d.subscription_id.as_deref());
            events.push(d.event_id.as_deref());
            types.push(d.event_type.as_str());
            urls.push(d.url.as_str());
            let map: serde_json::Map<String, serde_json::Value> = d
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect();
            headers.push(serde_json::Value::Object(map));
            bodies.push(d.body.as_str());
            signings.push(d.signing.as_str());
            retries.push(d.retries);
        }
        sqlx::query(
            "insert into webhook_deliveries (site_id, id, subscription_id, event_id, event_type, url, headers, body, \
             signing, retries) \
             select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
                                  $7::jsonb[], $8::text[], $9::text[], $10::bool[]) \
             on conflict do nothing",
        )
        .bind(&sites)
        .bind(&ids)
        .bind(&subscriptions)
        .bind(&events)
        .bind(&types)
        .bind(&urls)
        .bind(&headers)
        .bind(&bodies)
        .bind(&signings)
        .bind(&retries)
        .execute(&mut *conn)
        .await?;
    }
    notify(conn).await
}

/// A delivery a worker has claimed for one attempt.
#[derive(Debug, Clone, FromRow)]
pub struct Claimed {
    pub site_id: String,
    pub id: String,
    pub subscription_id: Option<String>,
    pub event_type: String,
    pub url: String,
    pub headers: Json<serde_json::Map<String, serde_json::Value>>,
    pub body: String,
    pub signing: String,
    pub retries: bool,
    /// The number of this attempt (1 for the first).
    pub attempt: i32,
    pub cycle_start: i32,
    /// The subscription's sealed secret, for [`Signing::Shopvo`].
    pub secret_enc: Option<Vec<u8>>,
}

impl Claimed {
    pub fn signing(&self) -> Signing {
        if self.signing == "shopvo" {
            Signing::Shopvo
        } else {
            Signing::None
        }
    }
}

/// Claims up to `limit` due deliveries for one attempt each: the attempt count goes up and the delivery
/// is leased for `lease` (after which another worker may try again, should this one have died). Deliveries
/// of inactive subscriptions wait. This is a queue over every site; the rest is per site.
pub async fn claim(conn: &mut PgConnection, limit: i64, lease: Duration) -> Result<Vec<Claimed>> {
    Ok(sqlx::query_as(
        "with c as ( \
           update webhook_deliveries d set attempt_count = d.attempt_count + 1, \
                  locked_until = now() + $2 * interval '1 millisecond' \
           from (select d2.site_id, d2.id from webhook_deliveries d2 \
                 where d2.status = 'pending' and d2.next_attempt_at <= now() \
                   and (d2.locked_until is null or d2.locked_until <= now()) \
                   and (d2.subscription_id is null or exists (select 1 from webhook_subscriptions s \
                        where s.site_id = d2.site_id and s.id = d2.subscription_id and s.active)) \
                 order by d2.next_attempt_at limit $1 for update of d2 skip locked) due \
           where d.site_id = due.site_id and d.id = due.id \
           returning d.site_id, d.id, d.subscription_id, d.event_type, d.url, d.headers, d.body, d.signing, \
                     d.retries, d.attempt_count as attempt, d.cycle_start) \
         select c.*, s.secret_enc from c \
         left join webhook_subscriptions s on s.site_id = c.site_id and s.id = c.subscription_id",
    )
    .bind(limit)
    .bind(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
    .fetch_all(conn)
    .await?)
}

/// When the next pending delivery is due (for the worker's sleep), if any is.
pub async fn next_due(conn: &mut PgConnection) -> Result<Option<DateTime<Utc>>> {
    Ok(sqlx::query_scalar(
        "select min(greatest(d.next_attempt_at, coalesce(d.locked_until, d.next_attempt_at))) \
         from webhook_deliveries d where d.status = 'pending' \
         and (d.subscription_id is null or exists (select 1 from webhook_subscriptions s \
              where s.site_id = d.site_id and s.id = d.subscription_id and s.active))",
    )
    .fetch_one(conn)
    .await?)
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status_code: Option<u16>,
    pub latency_ms: i32,
    pub error: Option<String>,
    /// At most [`KEPT_RESPONSE_BYTES`] of the response body.
    pub response_body: Option<String>,
    /// A 2xx answer.
    pub delivered: bool,
    /// The receiver's `Retry-After`, when it sent one.
    pub retry_after: Option<Duration>,
}

/// When to retry and when to give up.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Delays after the 1st, 2nd, … failed attempt; after the last one the delivery fails.
    pub schedule: Vec<Duration>,
    /// A subscription whose attempts have all failed for this long is disabled.
    pub disable_after: Duration,
}

impl RetryPolicy {
    /// The delay before the next attempt after `cycle_attempt` failed attempts, or `None` to give up.
    /// Jitter of ±20 % spreads retries out; a `Retry-After` is honoured (never retried sooner), up to the
    /// longest step of the schedule or an hour, whichever is longer.
    pub fn next_delay(
        &self,
        cycle_attempt: usize,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        let base = *self.schedule.get(cycle_attempt.checked_sub(1)?)?;
        let jitter = 0.8 + 0.4 * rand::random::<f64>();
        let delay = base.mul_f64(jitter);
        let longest = self
            .schedule
            .iter()
            .max()
            .copied()
            .unwrap_or(base)
            .max(Duration::from_secs(3600));
        Some(match retry_after {
            Some(asked) => delay.max(asked.min(longest)),
            None => delay,
        })
    }
}

fn truncate_error(message: &str) -> String {
    const MAX: usize = 1000;
    if message.len() <= MAX {
        return message.to_string();
    }
    let mut end = MAX;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &message[..end])
}

/// Records an attempt and moves the delivery on: delivered, rescheduled, or failed after its last retry.
/// A subscription's failure state follows: a success clears it, and a subscription failing for longer than
/// the policy allows is disabled with a reason. Runs in the caller's transaction.
pub async fn record(
    conn: &mut PgConnection,
    claimed: &Claimed,
    outcome: &Outcome,
    policy: &RetryPolicy,
) -> Result<()> {
    let error = outcome.error.as_deref().map(truncate_error);
    // The delivery may have gone meanwhile (its subscription was deleted): then there is nothing to record.
    let recorded = sqlx::query(
        "insert into webhook_attempts (site_id, delivery_id, attempt, status_code, latency_ms, error, response_body) \
         select $1, $2, $3, $4, $5, $6, $7 \
         where exists (select 1 from webhook_deliveries where site_id = $1 and id = $2 for key share)",
    )
    .bind(&claimed.site_id)
    .bind(&claimed.id)
    .bind(claimed.attempt)
    .bind(outcome.status_code.map(i32::from))
    .bind(outcome.latency_ms)
    .bind(&error)
    .bind(&outcome.response_body)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if recorded == 0 {
        return Ok(());
    }

    let cycle_attempt = usize::try_from(claimed.attempt - claimed.cycle_start).unwrap_or(0);
    let (status, delay) = if outcome.delivered {
        ("delivered", None)
    } else {
        match policy
            .next_delay(cycle_attempt, outcome.retry_after)
            .filter(|_| claimed.retries)
        {
            Some(delay) => ("pending", Some(delay)),
            None => ("failed", None),
        }
    };
    sqlx::query(
        "update webhook_deliveries set status = $4, locked_until = null, last_attempt_at = now(), \
         last_status_code = $5, last_error = $6, \
         next_attempt_at = case when $7::bigint is null then next_attempt_at else now() + $7 * interval '1 millisecond' end, \
         delivered_at = case when $4 = 'delivered' then now() else delivered_at end \
         where site_id = $1 and id = $2 and attempt_count = $3 and status = 'pending'",
    )
    .bind(&claimed.site_id)
    .bind(&claimed.id)
    .bind(claimed.attempt)
    .bind(status)
    .bind(outcome.status_code.map(i32::from))
    .bind(&error)
    .bind(delay.map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)))
    .execute(&mut *conn)
    .await?;

    let Some(subscription_id) = &claimed.subscription_id else {
        return Ok(());
    };
    if outcome.delivered {
        sqlx::query(
            "update webhook_subscriptions set failing_since = null \
             where site_id = $1 and id = $2 and failing_since is not null",
        )
        .bind(&claimed.site_id)
        .bind(subscription_id)
        .execute(&mut *conn)
        .await?;
        return Ok(());
    }
    let reason = format!(
        "Disabled automatically: every delivery attempt failed for more than {}. Last error: {}",
        human_duration(policy.disable_after),
        error.as_deref().unwrap_or("unknown")
    );
    sqlx::query(
        "update webhook_subscriptions set failing_since = coalesce(failing_since, now()), \
         active = case when coalesce(failing_since, now()) <= now() - $3 * interval '1 millisecond' then false else active end, \
         disabled_at = case when active and coalesce(failing_since, now()) <= now() - $3 * interval '1 millisecond' \
                       then now() else disabled_at end, \
         disabled_reason = case when active and coalesce(failing_since, now()) <= now() - $3 * interval '1 millisecond' \
                           then $4 else disabled_reason end \
         where site_id = $1 and id = $2",
    )
    .bind(&claimed.site_id)
    .bind(subscription_id)
    .bind(i64::try_from(policy.disable_after.as_millis()).unwrap_or(i64::MAX))
    .bind(&reason)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Deletes finished (delivered or failed) deliveries last touched longer than `older_than` ago, with their
/// attempts, at most `limit` at a time; returns how many. Pending deliveries are never pruned.
pub async fn prune(conn: &mut PgConnection, older_than: Duration, limit: i64) -> Result<u64> {
    Ok(sqlx::query(
        "delete from webhook_deliveries where (site_id, id) in ( \
           select site_id, id from webhook_deliveries \
           where status <> 'pending' and updated_at < now() - $1 * interval '1 millisecond' limit $2)",
    )
    .bind(i64::try_from(older_than.as_millis()).unwrap_or(i64::MAX))
    .bind(limit)
    .execute(conn)
    .await?
    .rows_affected())
}

/// `48h`, `90m`, `5s`, `250ms`.
pub fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        "0s".into()
    } else if ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// One attempt, as the operator views show it.
#[derive(Debug, Clone, FromRow)]
pub struct Attempt {
    pub delivery_id: String,
    /// 1 for the first attempt.
    pub attempt: i32,
    /// The receiver's HTTP status; absent when no answer came (timeout, refused, connection error).
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    pub error: Option<String>,
    /// The first 4 KiB of the response body.
    pub response_body: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A delivery of a subscription, with its attempts.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The same for every attempt.
    pub id: String,
    pub webhook_id: Option<String>,
    /// The outbox event (absent for `ping`).
    pub event_id: Option<String>,
    pub event: String,
    /// `pending`, `delivered` or `failed` (after its last retry).
    pub status: String,
    pub attempt_count: i32,
    /// When the next attempt is due (pending deliveries only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The body as sent.
    pub payload: serde_json::Value,
    /// Every attempt, oldest first (the latest 50).
    pub attempts: Vec<Attempt>,
}

#[derive(FromRow)]
struct DeliveryRow {
    id: String,
    subscription_id: Option<String>,
    event_id: Option<String>,
    event_type: String,
    status: String,
    attempt_count: i32,
    next_attempt_at: DateTime<Utc>,
    last_status_code: Option<i32>,
    last_error: Option<String>,
    delivered_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    body: String,
}

const DELIVERY_COLUMNS: &str = "id, subscription_id, event_id, event_type, status, attempt_count, \
    next_attempt_at, last_status_code, last_error, delivered_at, created_at, updated_at, body";

async fn with_attempts(
    conn: &mut PgConnection,
    site_id: &str,
    rows: Vec<DeliveryRow>,
) -> Result<Vec<Delivery>> {
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let attempts: Vec<Attempt> = sqlx::query_as(
        "select delivery_id, attempt, status_code, latency_ms, error, response_body, created_at from ( \
           select a.*, row_number() over (partition by delivery_id order by attempt desc) as n \
           from webhook_attempts a where site_id = $1 and delivery_id = any($2)) t \
         where n <= 50 order by delivery_id, attempt",
    )
    .bind(site_id)
    .bind(&ids)
    .fetch_all(conn)
    .await?;
    let mut by_delivery: std::collections::HashMap<String, Vec<Attempt>> = Default::default();
    for a in attempts {
        by_delivery
            .entry(a.delivery_id.clone())
            .or_default()
            .push(a);
    }
    Ok(rows
        .into_iter()
        .map(|r| Delivery {
            attempts: by_delivery.remove(&r.id).unwrap_or_default(),
            payload: serde_json::from_str(&r.body).unwrap_or(serde_json::Value::String(r.body)),
            next_attempt_at: (r.status == "pending").then_some(r.next_attempt_at),
            id: r.id,
            webhook_id: r.subscription_id,
            event_id: r.event_id,
            event: r.event_type,
            status: r.status,
            attempt_count: r.attempt_count,
            last_status_code: r.last_status_code,
            last_error: r.last_error,
            delivered_at: r.delivered_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect())
}

async fn subscription_exists(conn: &mut PgConnection, site_id: &str, id: &str) -> Result<()> {
    let found: Option<bool> =
        sqlx::query_scalar("select true from webhook_subscriptions where site_id = $1 and id = $2")
            .bind(site_id)
            .bind(id)
            .fetch_optional(conn)
            .await?;
    found.map(|_| ()).ok_or(Error::NotFound("webhook"))
}

/// A subscription's deliveries, newest first, optionally only those with `status`.
pub async fn list(
    conn: &mut PgConnection,
    site_id: &str,
    subscription_id: &str,
    status: Option<&str>,
    page: &PageRequest,
) -> Result<Page<Delivery>> {
    subscription_exists(conn, site_id, subscription_id).await?;
    let conditions = |qb: &mut QueryBuilder<Postgres>| {
        qb.push(" where site_id = ")
            .push_bind(site_id.to_string())
            .push(" and subscription_id = ")
            .push_bind(subscription_id.to_string());
        if let Some(status) = status {
            qb.push(" and status = ").push_bind(status.to_string());
        }
    };
    let select = format!("select {DELIVERY_COLUMNS} from webhook_deliveries");
    let (rows, total) = pagination::fetch::<DeliveryRow>(
        &mut *conn,
        page,
        &select,
        " from webhook_deliveries",
        "id",
        true,
        conditions,
    )
    .await?;
    let items = with_attempts(conn, site_id, rows).await?;
    Ok(Page::from_rows(page, items, total, |d| &d.id))
}

pub async fn get(
    conn: &mut PgConnection,
    site_id: &str,
    subscription_id: &str,
    id: &str,
) -> Result<Delivery> {
    let row: DeliveryRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {DELIVERY_COLUMNS} from webhook_deliveries where site_id = $1 and subscription_id = $2 and id = $3"
    )))
    .bind(site_id)
    .bind(subscription_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound("delivery"))?;
    Ok(with_attempts(conn, site_id, vec![row]).await?.remove(0))
}

/// Sends a delivery again, now, with the same id and body and a fresh retry schedule. A delivery with an
/// attempt in flight is a 409; the subscription must be active.
pub async fn redeliver(
    conn: &mut PgConnection,
    site_id: &str,
    subscription_id: &str,
    id: &str,
) -> Result<Delivery> {
    let subscription: Subscription = super::get(conn, site_id, subscription_id).await?;
    super::require_active(&subscription)?;
    let in_flight: Option<bool> = sqlx::query_scalar(
        "select locked_until is not null and locked_until > now() from webhook_deliveries \
         where site_id = $1 and subscription_id = $2 and id = $3 for update",
    )
    .bind(site_id)
    .bind(subscription_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    match in_flight {
        None => return Err(Error::NotFound("delivery")),
        Some(true) => {
            return Err(Error::Conflict {
                code: "DELIVERY_IN_FLIGHT",
                message:
                    "an attempt of this delivery is in progress; try again when it has finished"
                        .into(),
            });
        }
        Some(false) => {}
    }
    sqlx::query(
        "update webhook_deliveries set status = 'pending', next_attempt_at = now(), cycle_start = attempt_count, \
         locked_until = null where site_id = $1 and subscription_id = $2 and id = $3",
    )
    .bind(site_id)
    .bind(subscription_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    notify(conn).await?;
    get(conn, site_id, subscription_id, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_follow_the_schedule_with_jitter() {
        let policy = RetryPolicy {
            schedule: vec![Duration::from_secs(10), Duration::from_secs(100)],
            disable_after: Duration::from_secs(3600),
        };
        for _ in 0..100 {
            let d = policy.next_delay(1, None).unwrap();
            assert!(
                d >= Duration::from_secs(8) && d <= Duration::from_secs(12),
                "{d:?}"
            );
        }
        assert!(policy.next_delay(2, None).unwrap() >= Duration::from_secs(80));
        assert_eq!(policy.next_delay(3, None), None);
        assert_eq!(policy.next_delay(0, None), None);
        // Retry-After is honoured, up to the longest step.
        let d = policy.next_delay(1, Some(Duration::from_secs(50))).unwrap();
        assert!(d >= Duration::from_secs(50), "{d:?}");
        let d = policy
            .next_delay(1, Some(Duration::from_secs(100_000)))
            .unwrap();
        assert_eq!(d, Duration::from_secs(3600));
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(Duration::from_secs(48 * 3600)), "48h");
        assert_eq!(human_duration(Duration::from_millis(250)), "250ms");
    }
}
