//! Stored responses for `Idempotency-Key` (kept 24 hours).

use sqlx::PgPool;

use super::error::Result;

pub enum Begin {
    /// First use of the key: run the request, then [`finish`] or [`abandon`].
    Proceed,
    /// The same request was answered before: send this response again.
    Replay {
        status: u16,
        content_type: Option<String>,
        body: Vec<u8>,
    },
    /// The key was used with a different request.
    Mismatch,
    /// The first request with this key has not finished yet.
    InFlight,
}

pub struct IdempotencyKey<'a> {
    pub site_id: &'a str,
    pub key_id: &'a str,
    /// Who behind the key: the customer of the request's token, or empty.
    pub owner: &'a str,
    pub key: &'a str,
}

/// request hash, response status (null while in flight), content type, body
type StoredRow = (Vec<u8>, Option<i32>, Option<String>, Option<Vec<u8>>);

pub async fn begin(pool: &PgPool, k: &IdempotencyKey<'_>, request_hash: &[u8]) -> Result<Begin> {
    // An expired record does not count: drop it so the insert below can claim the key again.
    sqlx::query(
        "delete from idempotency_keys where site_id = $1 and key_id = $2 and idempotency_key = $3 \
         and owner = $4 and created_at < now() - interval '24 hours'",
    )
    .bind(k.site_id)
    .bind(k.key_id)
    .bind(k.key)
    .bind(k.owner)
    .execute(pool)
    .await?;
    let claimed = sqlx::query(
        "insert into idempotency_keys (site_id, key_id, idempotency_key, request_hash, owner) \
         values ($1, $2, $3, $4, $5) on conflict do nothing",
    )
    .bind(k.site_id)
    .bind(k.key_id)
    .bind(k.key)
    .bind(request_hash)
    .bind(k.owner)
    .execute(pool)
    .await?
    .rows_affected()
        == 1;
    if claimed {
        return Ok(Begin::Proceed);
    }
    let row: Option<StoredRow> = sqlx::query_as(
        "select request_hash, status, content_type, response_body from idempotency_keys \
         where site_id = $1 and key_id = $2 and idempotency_key = $3 and owner = $4",
    )
    .bind(k.site_id)
    .bind(k.key_id)
    .bind(k.key)
    .bind(k.owner)
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        // Abandoned between our insert and select: treat as in flight; the client retries.
        None => Begin::InFlight,
        Some((hash, _, _, _)) if hash != request_hash => Begin::Mismatch,
        Some((_, None, _, _)) => Begin::InFlight,
        Some((_, Some(status), content_type, body)) => Begin::Replay {
            status: status as u16,
            content_type,
            body: body.unwrap_or_default(),
        },
    })
}

pub async fn finish(
    pool: &PgPool,
    k: &IdempotencyKey<'_>,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<()> {
    sqlx::query(
        "update idempotency_keys set status = $4, content_type = $5, response_body = $6 \
         where site_id = $1 and key_id = $2 and idempotency_key = $3 and owner = $7",
    )
    .bind(k.site_id)
    .bind(k.key_id)
    .bind(k.key)
    .bind(status as i32)
    .bind(content_type)
    .bind(body)
    .bind(k.owner)
    .execute(pool)
    .await?;
    Ok(())
}

/// Forgets a key whose request failed on our side, so that a retry runs again.
pub async fn abandon(pool: &PgPool, k: &IdempotencyKey<'_>) -> Result<()> {
    sqlx::query(
        "delete from idempotency_keys where site_id = $1 and key_id = $2 and idempotency_key = $3 and owner = $4",
    )
    .bind(k.site_id)
    .bind(k.key_id)
    .bind(k.key)
    .bind(k.owner)
    .execute(pool)
    .await?;
    Ok(())
}

/// Deletes records and remembered signatures that can no longer matter.
pub async fn prune(pool: &PgPool) -> Result<()> {
    sqlx::query("delete from idempotency_keys where created_at < now() - interval '24 hours'")
        .execute(pool)
        .await?;
    sqlx::query("delete from seen_signatures where expires_at < now()")
        .execute(pool)
        .await?;
    Ok(())
}
