//! Mozello's notifications: a producer for the shared delivery queue that turns outbox events into
//! `{"event": "...", "order"|"product": {...}}` POSTs to the site's `notifications_url`, each signed when
//! queued (`X-Mozello-Hash`: base64 HMAC-SHA256 of the exact body with the API key) and sent with
//! `X-Mozello-API-Version` and `X-Mozello-Alias`. The queue retries them on its schedule (about 52 hours).

use std::collections::HashSet;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::product_shape;
use super::shapes::Languages;
use crate::crypto::{self, ServerKey};
use crate::domain::catalog::products;
use crate::domain::events::Event;
use crate::domain::integrations::mozello::notifications::{self, Target};
use crate::domain::integrations::mozello::{catalog, orders};
use crate::domain::webhooks::NewDelivery;
use crate::domain::{self, Result, sites};
use crate::jobs::webhooks::Producer;

pub struct Notifications {
    pub server_key: Arc<ServerKey>,
}

impl Producer for Notifications {
    fn produce<'a>(
        &'a self,
        conn: &'a mut domain::Conn,
        events: &'a [Event],
    ) -> BoxFuture<'a, Result<Vec<NewDelivery>>> {
        Box::pin(produce(conn, &self.server_key, events))
    }
}

async fn produce(
    conn: &mut domain::Conn,
    server_key: &ServerKey,
    events: &[Event],
) -> Result<Vec<NewDelivery>> {
    let wanted: Vec<(&Event, &'static str)> = events
        .iter()
        .filter_map(|e| notifications::notification_of(e).map(|n| (e, n)))
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let mut sites: Vec<String> = wanted.iter().map(|(e, _)| e.site_id.clone()).collect();
    sites.sort();
    sites.dedup();
    let targets = notifications::targets(conn, server_key, &sites).await?;
    let mut queued = Vec::new();
    // One notification per product and kind in a batch (a bulk change fires many events).
    let mut sent: HashSet<(String, &'static str, String)> = HashSet::new();
    for (event, name) in wanted {
        let Some(target) = targets
            .iter()
            .find(|t| t.site_id == event.site_id && t.wanted.iter().any(|w| w == name))
        else {
            continue;
        };
        let subject = subject_of(event);
        if !sent.insert((event.site_id.clone(), name, subject.clone())) {
            continue;
        }
        let Some(body) = render(conn, event, name, &subject).await? else {
            continue;
        };
        queued.push(signed(target, event, name, body));
    }
    Ok(queued)
}

/// The order or product an event is about.
fn subject_of(event: &Event) -> String {
    let p = &event.payload;
    ["orderId", "productId", "id"]
        .iter()
        .find_map(|k| p.get(*k).and_then(Value::as_str))
        .unwrap_or_default()
        .to_string()
}

/// The notification's body, or `None` when its subject is gone.
async fn render(
    conn: &mut domain::Conn,
    event: &Event,
    name: &str,
    subject: &str,
) -> Result<Option<String>> {
    let site_id = event.site_id.as_str();
    let body = match name {
        "ORDER_CREATED" | "PAYMENT_CHANGED" | "DISPATCH_CHANGED" => {
            let order = match orders::order(conn, site_id, subject).await {
                Ok(order) => order,
                Err(domain::Error::NotFound(_)) => return Ok(None),
                Err(e) => return Err(e),
            };
            let handles = catalog::product_handles(
                conn,
                site_id,
                &order
                    .items
                    .iter()
                    .map(|i| i.product_id.clone())
                    .collect::<Vec<_>>(),
            )
            .await?;
            let mut order = super::orders::order_out(&order, &handles);
            // The order as it is now, but Mozello's ORDER_CREATED always says the payment is pending (it
            // comes before any payment), however late the notification is rendered.
            if name == "ORDER_CREATED" {
                order["payment_status"] = json!("pending");
            }
            json!({"event": name, "order": order})
        }
        "PRODUCT_DELETED" => {
            let handle = event
                .payload
                .get("handle")
                .and_then(Value::as_str)
                .unwrap_or(subject);
            json!({"event": name, "product": {"handle": handle}})
        }
        _ => {
            let Some(product) = products::load_many(conn, site_id, &[subject.to_string()])
                .await?
                .pop()
            else {
                return Ok(None);
            };
            let site = sites::get(conn, site_id).await?;
            let languages = Languages::new(site.locale, site.locales);
            let paths = catalog::category_paths(conn, site_id, &product.category_ids).await?;
            let product = product_shape::product_out(&product, &languages, &paths, Vec::new());
            json!({"event": name, "product": product})
        }
    };
    Ok(Some(body.to_string()))
}

fn signed(target: &Target, event: &Event, name: &str, body: String) -> NewDelivery {
    let hash = BASE64.encode(crypto::hmac_sha256(&target.api_key, body.as_bytes()));
    let headers = vec![
        ("X-Mozello-API-Version".to_string(), "1".to_string()),
        ("X-Mozello-Alias".to_string(), target.alias.clone()),
        ("X-Mozello-Hash".to_string(), hash),
    ];
    NewDelivery::unsigned(
        &event.site_id,
        Some(&event.id),
        name,
        &target.url,
        headers,
        body,
    )
}
