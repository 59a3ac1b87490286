//! Which changes a site's Mozello integration is told about, where, and with which key they are signed.
//! The dialect renders the bodies; the shared delivery queue sends and retries them.

use sqlx::PgConnection;

use crate::crypto::ServerKey;
use crate::domain::error::Result;
use crate::domain::events::Event;

/// The origin recorded on events of changes made through the Mozello API: Mozello does not notify an
/// integration of its own imports.
pub const ORIGIN: &str = "mozello";

/// A site's notification target.
#[derive(Debug, Clone)]
pub struct Target {
    pub site_id: String,
    pub url: String,
    pub wanted: Vec<String>,
    /// `X-Mozello-Alias`: the site's alias, or its id without one.
    pub alias: String,
    /// The API key that signs (`X-Mozello-Hash`), opened from its sealed copy.
    pub api_key: Vec<u8>,
}

/// The Mozello notification an event becomes, if any. Product and stock changes made through the Mozello
/// API itself are not notified (Mozello does not notify an integration of its own imports); payment
/// changes are, whoever made them.
pub fn notification_of(event: &Event) -> Option<&'static str> {
    let own = event.origin.as_deref() == Some(ORIGIN);
    Some(match event.kind.as_str() {
        "order.created" => "ORDER_CREATED",
        "payment.confirmed" | "payment.failed" => "PAYMENT_CHANGED",
        // Dispatched is in transit or delivered: only a move across that line is a dispatch change.
        "order.fulfillment_updated" => {
            let dispatched = |key: &str| {
                matches!(
                    event.payload.get(key).and_then(|v| v.as_str()),
                    Some("inTransit" | "delivered")
                )
            };
            if dispatched("fulfillmentStatus") == dispatched("previousFulfillmentStatus") {
                return None;
            }
            "DISPATCH_CHANGED"
        }
        "product.created" | "product.updated" if !own => "PRODUCT_CHANGED",
        "product.deleted" if !own => "PRODUCT_DELETED",
        "inventory.updated" if !own => "STOCK_CHANGED",
        _ => return None,
    })
}

/// The targets of the sites among `site_ids` that have a notification URL and a live signing key.
pub async fn targets(
    conn: &mut PgConnection,
    server_key: &ServerKey,
    site_ids: &[String],
) -> Result<Vec<Target>> {
    type Row = (String, String, Vec<String>, String, Vec<u8>);
    let rows: Vec<Row> = sqlx::query_as(
        "select c.site_id, c.notifications_url, c.notifications_wanted, coalesce(s.alias, s.id), k.key_sealed \
         from mozello_config c join sites s on s.id = c.site_id \
         join mozello_keys k on k.site_id = c.site_id and k.id = c.key_id and k.revoked_at is null \
         where c.site_id = any($1) and c.notifications_url is not null and cardinality(c.notifications_wanted) > 0",
    )
    .bind(site_ids)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(site_id, url, wanted, alias, sealed)| {
            Some(Target {
                site_id,
                url,
                wanted,
                alias,
                api_key: server_key.open(&sealed)?,
            })
        })
        .collect())
}
