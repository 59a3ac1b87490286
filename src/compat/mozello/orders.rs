//! Order routes: `GET /store/orders/` (`archived`), `GET|PUT /store/order/<order-number>/`, in Mozello's order
//! structure: money in major units, `YYYY-MM-DD HH:MM:SS` times, `payment_status` paid|pending|failed.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::errors::MzError;
use super::products::{next_uri, page_query};
use super::shapes::{self, field};
use super::{authorize, object, ok};
use crate::domain;
use crate::domain::integrations::mozello::{catalog, orders};
use crate::domain::orders::{FulfillmentStatus, Order, OrderPatch, OrderStatus, PaymentStatus};
use crate::state::AppState;

fn payment_out(s: PaymentStatus) -> &'static str {
    match s {
        PaymentStatus::Paid | PaymentStatus::Refunded | PaymentStatus::PartiallyRefunded => "paid",
        PaymentStatus::Failed => "failed",
        PaymentStatus::Pending => "pending",
    }
}

fn dispatched(o: &Order) -> bool {
    matches!(
        o.fulfillment_status,
        FulfillmentStatus::InTransit | FulfillmentStatus::Delivered
    ) || matches!(o.status, OrderStatus::Shipped | OrderStatus::Delivered)
}

/// An order as Mozello shows it; `handles` names the products of its lines.
pub(super) fn order_out(o: &Order, handles: &HashMap<String, String>) -> Value {
    let address = o.shipping_address.clone().unwrap_or(Value::Null);
    let part = |name: &str| {
        address
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let name = [part("firstName"), part("lastName")]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let street = [part("line1"), part("line2")]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let shipping_method = o
        .shipping_method
        .as_ref()
        .and_then(|m| m.get("code").or_else(|| m.get("name")))
        .and_then(Value::as_str)
        .unwrap_or("");
    let cart: Vec<Value> = o
        .items
        .iter()
        .map(|i| {
            json!({
                "product_handle": handles.get(&i.product_id),
                "product_name": i.name,
                "product_price": shapes::money_out(i.unit_price),
                "product_sku": i.sku,
                "product_quantity": i.quantity,
                "product_discount": 0,
            })
        })
        .collect();
    json!({
        "order_id": o.number,
        "created_at": o.created_at.format("%Y-%m-%d %H:%M:%S").to_string(),
        "payment_status": payment_out(o.payment_status),
        "archived": o.archived,
        "dispatched": dispatched(o),
        "name": name,
        "company": part("company"),
        "vat_id": "",
        "company_id": "",
        "email": o.email,
        "phone": o.phone.clone().unwrap_or_else(|| part("phone")),
        "country": part("country"),
        "address": street,
        "city": part("city"),
        "province": part("province"),
        "zip": part("postalCode"),
        "shipping": {"country": part("country"), "address": street, "city": part("city"),
                     "province": part("province"), "zip": part("postalCode")},
        "notes": o.notes.clone().unwrap_or_default(),
        "payment_method": o.payment_method,
        "shipping_method": shipping_method,
        "shipping_tracking_code": o.tracking_number,
        "shipping_tracking_url": o.tracking_url,
        "currency": o.currency,
        "subtotal": shapes::money_out(o.subtotal),
        "shipping_price": shapes::money_out(o.shipping),
        "taxes": shapes::money_out(o.tax),
        "total": shapes::money_out(o.total),
        "discount_code": o.promotion_code.clone().unwrap_or_default(),
        "discount_amount": shapes::money_out(o.discount),
        "cart": cart,
    })
}

/// Orders as Mozello shows them, their lines' product handles read in one query.
pub(super) async fn render(
    conn: &mut domain::Conn,
    site_id: &str,
    orders: &[Order],
) -> Result<Vec<Value>, MzError> {
    let ids: Vec<String> = orders
        .iter()
        .flat_map(|o| o.items.iter().map(|i| i.product_id.clone()))
        .collect();
    let handles = catalog::product_handles(conn, site_id, &ids).await?;
    Ok(orders.iter().map(|o| order_out(o, &handles)).collect())
}

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, MzError> {
    let key = authorize(&state, &headers).await?;
    let (page, kept) = page_query(query.as_deref())?;
    let archived = match kept
        .iter()
        .find(|(k, _)| k == "archived")
        .map(|(_, v)| v.trim())
    {
        None | Some("") => None,
        Some("true" | "1") => Some(true),
        Some("false" | "0") => Some(false),
        Some(_) => return Err(MzError::bad_request("`archived` must be true or false")),
    };
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let (found, next) = orders::order_page(&mut conn, &key.site_id, archived, &page).await?;
    let orders = render(&mut conn, &key.site_id, &found).await?;
    Ok(ok(json!({
        "orders": orders,
        "next_page_uri": next_uri("/store/orders/", &kept, next),
    })))
}

async fn one(conn: &mut domain::Conn, site_id: &str, number: &str) -> Result<Value, MzError> {
    let order = orders::order(conn, site_id, number).await?;
    let mut out = render(conn, site_id, std::slice::from_ref(&order)).await?;
    Ok(ok(out.pop().unwrap_or(Value::Null)).0)
}

pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Result<Json<Value>, MzError> {
    let key = authorize(&state, &headers).await?;
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    Ok(Json(one(&mut conn, &key.site_id, &number).await?))
}

/// `payment_status`, `archived`, `dispatched` (which archives the order too) and the tracking fields.
pub async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, MzError> {
    let key = authorize(&state, &headers).await?;
    let body = match object(&body)?.remove("order") {
        Some(Value::Object(order)) => order,
        _ => return Err(MzError::bad_request("The body must hold an `order` object")),
    };
    let payment_status = match field(&body, "payment_status") {
        Value::Null => None,
        Value::String(s) => Some(match s.as_str() {
            "paid" => PaymentStatus::Paid,
            "pending" => PaymentStatus::Pending,
            "failed" => PaymentStatus::Failed,
            _ => {
                return Err(MzError::bad_request(
                    "`payment_status` must be paid, pending or failed",
                ));
            }
        }),
        _ => {
            return Err(MzError::bad_request(
                "`payment_status` must be paid, pending or failed",
            ));
        }
    };
    let dispatch = shapes::bool_in("dispatched", field(&body, "dispatched"))?;
    let archived = shapes::bool_in("archived", field(&body, "archived"))?;
    let text = |name: &str| -> Result<Option<Option<String>>, MzError> {
        match body.get(name) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(s)) => {
                Ok(Some(Some(s.trim().to_string()).filter(|s| !s.is_empty())))
            }
            Some(_) => Err(MzError::bad_request(format!("`{name}` must be a string"))),
        }
    };
    let patch = OrderPatch {
        payment_status,
        fulfillment_status: (dispatch == Some(true)).then_some(FulfillmentStatus::InTransit),
        archived: if dispatch == Some(true) {
            Some(true)
        } else {
            archived
        },
        tracking_number: text("shipping_tracking_code")?,
        tracking_url: text("shipping_tracking_url")?,
        ..OrderPatch::default()
    };
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    let order = orders::order(&mut tx, &key.site_id, &number).await?;
    // Asking for the status it already has is not a transition.
    let patch = OrderPatch {
        payment_status: patch.payment_status.filter(|s| *s != order.payment_status),
        fulfillment_status: patch.fulfillment_status.filter(|_| !dispatched(&order)),
        ..patch
    };
    domain::orders::update(&mut tx, &key.site_id, &order.id, patch, None).await?;
    let out = one(&mut tx, &key.site_id, &order.id).await?;
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(Json(out))
}
