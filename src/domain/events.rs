//! The outbox: events written in the same transaction as the change they describe.

use serde::Serialize;
use sqlx::PgConnection;

use super::error::Result;
use crate::ids;

/// Records an event of `kind` (e.g. `order.created`) with `data` as its payload.
pub async fn record(
    conn: &mut PgConnection,
    site_id: &str,
    kind: &str,
    data: &impl Serialize,
) -> Result<()> {
    let payload = serde_json::to_value(data)
        .map_err(|e| super::Error::Internal(format!("event payload: {e}")))?;
    sqlx::query("insert into events (site_id, id, type, payload) values ($1, $2, $3, $4)")
        .bind(site_id)
        .bind(ids::new_id("evt"))
        .bind(kind)
        .bind(payload)
        .execute(conn)
        .await?;
    Ok(())
}
