//! Mozello: a store builder whose Store API (`/v1/store/...`) integrations use to sync products, stock,
//! categories and orders, and whose notifications (`X-Mozello-Hash`-signed POSTs) tell them of changes.
//! Here: the API keys (`MZL-…`, per site), the notification settings, the catalog rules the API adds
//! (batches by handle or SKU, the three-level category tree) and the notifications' producer.

pub mod catalog;
pub mod categories;
pub mod notifications;
pub mod orders;
pub mod stock;

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};

use crate::crypto::{self, ServerKey};
use crate::domain::caller::Caller;
use crate::domain::error::{Error, Result, Validator};
use crate::domain::webhooks::target::{self, TargetPolicy};

/// The most items a batch call may carry.
pub const MAX_BATCH: usize = 1000;

/// The events Mozello can notify, in its names.
pub const NOTIFICATIONS: [&str; 7] = [
    "ORDER_CREATED",
    "PAYMENT_CHANGED",
    "DISPATCH_CHANGED",
    "ORDER_DELETED",
    "PRODUCT_CHANGED",
    "PRODUCT_DELETED",
    "STOCK_CHANGED",
];

/// A key as issued: the key itself is shown this once.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    pub id: String,
    pub api_key: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, FromRow)]
pub struct KeyInfo {
    pub id: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// An authenticated request's site and key.
#[derive(Debug, Clone)]
pub struct KeyRef {
    pub site_id: String,
    pub key_id: String,
}

/// Issues a key for the caller's site.
pub async fn issue(
    conn: &mut PgConnection,
    server_key: &ServerKey,
    caller: &Caller,
) -> Result<IssuedKey> {
    let api_key = format!("MZL-{}", crypto::random_token(40));
    let id = crate::ids::new_id("mzk");
    let created_at: DateTime<Utc> = sqlx::query_scalar(
        "insert into mozello_keys (site_id, id, key_digest, key_sealed) values ($1, $2, $3, $4) returning created_at",
    )
    .bind(caller.site_id())
    .bind(&id)
    .bind(server_key.key_digest(&api_key).to_vec())
    .bind(server_key.seal(api_key.as_bytes()))
    .fetch_one(conn)
    .await?;
    Ok(IssuedKey {
        id,
        api_key,
        created_at,
    })
}

/// The site's keys, newest first (never the keys themselves).
pub async fn keys(conn: &mut PgConnection, caller: &Caller) -> Result<Vec<KeyInfo>> {
    Ok(sqlx::query_as(
        "select id, revoked_at, last_used_at, created_at from mozello_keys where site_id = $1 \
         order by created_at desc, id limit 1000",
    )
    .bind(caller.site_id())
    .fetch_all(conn)
    .await?)
}

/// Revokes a key at once (revoking twice is a no-op).
pub async fn revoke(conn: &mut PgConnection, caller: &Caller, id: &str) -> Result<()> {
    let found = sqlx::query(
        "update mozello_keys set revoked_at = coalesce(revoked_at, now()) where site_id = $1 and id = $2",
    )
    .bind(caller.site_id())
    .bind(id)
    .execute(conn)
    .await?;
    if found.rows_affected() == 0 {
        return Err(Error::NotFound("key"));
    }
    Ok(())
}

/// The site and key of `Authorization: ApiKey <key>`, when it names a live key.
pub async fn authenticate(
    conn: &mut PgConnection,
    server_key: &ServerKey,
    authorization: Option<&str>,
) -> Result<Option<KeyRef>> {
    let Some(api_key) = authorization
        .and_then(|h| h.strip_prefix("ApiKey "))
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200)
    else {
        return Ok(None);
    };
    let found: Option<(String, String)> = sqlx::query_as(
        "update mozello_keys set last_used_at = now() \
         where key_digest = $1 and revoked_at is null returning site_id, id",
    )
    .bind(server_key.key_digest(api_key).to_vec())
    .fetch_optional(conn)
    .await?;
    Ok(found.map(|(site_id, key_id)| KeyRef { site_id, key_id }))
}

/// Where a site's notifications go and which it wants.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub notifications_url: Option<String>,
    pub notifications_wanted: Vec<String>,
}

pub async fn config(conn: &mut PgConnection, site_id: &str) -> Result<Config> {
    let row: Option<(Option<String>, Vec<String>)> = sqlx::query_as(
        "select notifications_url, notifications_wanted from mozello_config where site_id = $1",
    )
    .bind(site_id)
    .fetch_optional(conn)
    .await?;
    Ok(row
        .map(|(notifications_url, notifications_wanted)| Config {
            notifications_url,
            notifications_wanted,
        })
        .unwrap_or_default())
}

/// A change of configuration; `None` leaves a setting (`notifications_url: Some(None)` removes the URL).
#[derive(Debug, Default)]
pub struct ConfigPatch {
    pub notifications_url: Option<Option<String>>,
    pub notifications_wanted: Option<Vec<String>>,
}

/// Changes the notification settings; notifications are then signed with `key` (the caller's).
pub async fn set_config(
    conn: &mut PgConnection,
    key: &KeyRef,
    patch: ConfigPatch,
    policy: TargetPolicy,
) -> Result<Config> {
    let mut v = Validator::new();
    if let Some(Some(url)) = &patch.notifications_url
        && let Err(why) = target::parse(url, policy)
    {
        v.error("notifications_url", why);
    }
    if let Some(wanted) = &patch.notifications_wanted {
        v.check(
            wanted.len() <= 20,
            "notifications_wanted",
            "at most 20 names",
        );
        for name in wanted {
            v.check(
                NOTIFICATIONS.contains(&name.as_str()),
                "notifications_wanted",
                format!("unknown notification `{name}`"),
            );
        }
    }
    v.finish()?;
    let mut wanted = patch.notifications_wanted;
    if let Some(w) = &mut wanted {
        w.dedup();
    }
    sqlx::query(
        "insert into mozello_config (site_id, notifications_url, notifications_wanted, key_id) \
         values ($1, $3, coalesce($4, '{}'), $5) \
         on conflict (site_id) do update set \
           notifications_url = case when $2 then $3 else mozello_config.notifications_url end, \
           notifications_wanted = coalesce($4, mozello_config.notifications_wanted), \
           key_id = $5, updated_at = now()",
    )
    .bind(&key.site_id)
    .bind(patch.notifications_url.is_some())
    .bind(patch.notifications_url.flatten())
    .bind(wanted)
    .bind(&key.key_id)
    .execute(&mut *conn)
    .await?;
    config(conn, &key.site_id).await
}
