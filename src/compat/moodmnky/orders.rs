//! `/api/orders`: a customer's own orders (an operator's key with `read:orders` sees every order), placed
//! through the native checkout in one call; `/api/admin/orders/{id}/status` moves an order along.
//! Orders are named `MNKY-<n>`, `<n>` being the native order number, or by their native id.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::errors::MnError;
use super::fields::{object, text};
use super::{Identity, Path, Query, Who, body, data, page_request, pagination, shapes};
use crate::domain;
use crate::domain::carts::{self, CartAction, Customizations, NewCart, NewItem};
use crate::domain::checkout::{
    self, Address, Contact, OneCallOrder, PaymentChoice, PaymentMethod, ShippingChoice,
};
use crate::domain::orders::{self, OrderFilter, OrderPatch, OrderStatus, PaymentStatus};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    page: Option<i64>,
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    limit: Option<i64>,
    status: Option<String>,
    from_date: Option<String>,
    to_date: Option<String>,
}

/// A date (`2026-01-31`, the whole day) or a time (RFC 3339).
fn when(field: &str, text: &str, end_of_day: bool) -> Result<DateTime<Utc>, MnError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| MnError::invalid(field, "must be a date (YYYY-MM-DD) or an RFC 3339 time"))?;
    let day = if end_of_day {
        day.succ_opt().unwrap_or(day)
    } else {
        day
    };
    Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

/// The native filter of a MOOD MNKY status.
fn status_filter(status: &str) -> Result<OrderFilter, MnError> {
    let (status, payment_status) = match status {
        "created" => (Some(OrderStatus::Confirmed), None),
        "payment_pending" => (Some(OrderStatus::Pending), Some(PaymentStatus::Pending)),
        "paid" => (None, Some(PaymentStatus::Paid)),
        "processing" => (Some(OrderStatus::Processing), None),
        "shipped" => (Some(OrderStatus::Shipped), None),
        "delivered" | "completed" => (Some(OrderStatus::Delivered), None),
        "cancelled" => (Some(OrderStatus::Cancelled), None),
        "refunded" => (Some(OrderStatus::Refunded), None),
        _ => {
            return Err(MnError::invalid(
                "status",
                "must be one of created, processing, payment_pending, paid, shipped, delivered, completed, cancelled, refunded",
            ));
        }
    };
    Ok(OrderFilter {
        status,
        payment_status,
        ..Default::default()
    })
}

/// The orders `caller` may read (a customer's own), filtered.
pub(super) async fn page_of(
    state: &AppState,
    caller: &domain::caller::Caller,
    q: ListQuery,
) -> Result<Json<Value>, MnError> {
    let page = page_request(q.page, q.limit, 10, 50)?;
    let mut filter = match q.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => status_filter(s)?,
        None => OrderFilter::default(),
    };
    filter.from = q
        .from_date
        .as_deref()
        .map(|t| when("fromDate", t, false))
        .transpose()?;
    filter.to = q
        .to_date
        .as_deref()
        .map(|t| when("toDate", t, true))
        .transpose()?;
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let found = orders::list(&mut conn, caller, &filter, &page).await?;
    let items: Vec<Value> = found.items.iter().map(shapes::order).collect();
    Ok(Json(
        json!({"orders": items, "pagination": pagination(&found.info)}),
    ))
}

pub async fn list(
    identity: Identity,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, MnError> {
    let caller = identity.customer_or_admin("read:orders")?;
    page_of(&state, &caller, q).await
}

pub async fn get(
    identity: Identity,
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, MnError> {
    let caller = identity.customer_or_admin("read:orders")?;
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let order = orders::get(&mut conn, &caller, &shapes::native_order_ref(&id)).await?;
    Ok(data(shapes::order(&order)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddressIn {
    first_name: Option<String>,
    last_name: Option<String>,
    company: Option<String>,
    address1: Option<String>,
    address2: Option<String>,
    city: Option<String>,
    state: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
    phone: Option<String>,
}

impl From<AddressIn> for Address {
    fn from(a: AddressIn) -> Self {
        Address {
            first_name: a.first_name,
            last_name: a.last_name,
            company: a.company,
            line1: a.address1,
            line2: a.address2,
            city: a.city,
            province: a.state,
            postal_code: a.postal_code,
            country: a.country,
            phone: a.phone,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PaymentIn {
    /// `test` (test-mode keys only) or any other name, paid later (manual).
    method: Option<String>,
    token: Option<String>,
}

/// What placing an order needs besides its items: where it goes, how it ships and how it is paid.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct PlacementIn {
    email: Option<String>,
    phone: Option<String>,
    shipping_address: Option<AddressIn>,
    /// Accepted and not kept: orders keep their shipping address.
    #[allow(dead_code)]
    billing_address: Option<Value>,
    /// A native shipping method id.
    shipping_method: Option<String>,
    payment_details: Option<PaymentIn>,
}

impl PlacementIn {
    /// The checkout steps' data; the email defaults to the signed-in customer's.
    pub(super) async fn one_call(
        self,
        conn: &mut domain::Conn,
        identity: &Identity,
    ) -> Result<OneCallOrder, MnError> {
        let email = match (self.email, &identity.who) {
            (Some(email), _) => Some(email),
            (None, Who::Customer(id)) => Some(
                domain::customers::profiles::get(conn, &identity.site_id, id)
                    .await?
                    .email,
            ),
            (None, _) => None,
        };
        let payment = self.payment_details.unwrap_or_default();
        let method = match payment.method.as_deref() {
            Some("test") => PaymentMethod::Test,
            _ => PaymentMethod::Manual,
        };
        Ok(OneCallOrder {
            contact: Contact {
                email,
                phone: self.phone,
                customer_id: None,
            },
            shipping: ShippingChoice {
                address: self.shipping_address.map(Into::into),
                method_id: self.shipping_method,
            },
            payment: PaymentChoice {
                method: Some(method),
                token: payment.token,
                ..Default::default()
            },
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct CustomizationsIn {
    fragrance: Option<String>,
    fragrance_id: Option<String>,
    /// Shown back by the storefront; the blend's own name is what is recorded.
    #[allow(dead_code)]
    fragrance_name: Option<String>,
    #[serde(default)]
    gift_wrapped: bool,
    gift_message: Option<String>,
}

impl From<CustomizationsIn> for Customizations {
    /// `fragrance: "custom"` with `fragranceId` names a custom blend; any other fragrance is kept by name.
    fn from(c: CustomizationsIn) -> Self {
        let custom = c.fragrance.as_deref() == Some("custom");
        Customizations {
            fragrance: if custom { None } else { c.fragrance },
            blend_id: if custom { c.fragrance_id } else { None },
            gift_wrapped: c.gift_wrapped,
            gift_message: c.gift_message,
            ..Default::default()
        }
    }
}

/// Checks a customization as sent: a custom fragrance needs the blend's id.
pub(super) fn customizations(
    c: Option<CustomizationsIn>,
) -> Result<Option<Customizations>, MnError> {
    match c {
        Some(c) if c.fragrance.as_deref() == Some("custom") && c.fragrance_id.is_none() => {
            Err(MnError::invalid(
                "customizations.fragranceId",
                "is required for a custom fragrance",
            ))
        }
        Some(c) => Ok(Some(c.into())),
        None => Ok(None),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemIn {
    product_id: String,
    variant_id: Option<String>,
    quantity: i32,
    customizations: Option<CustomizationsIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOrderIn {
    items: Vec<ItemIn>,
    discount_code: Option<String>,
    notes: Option<String>,
    #[serde(flatten)]
    placement: PlacementIn,
}

/// Places an order for the signed-in customer from its items: a cart of its own, filled and checked out
/// in one transaction, so a refusal (out of stock, a bad code) leaves nothing behind.
pub async fn create(
    identity: Identity,
    State(state): State<AppState>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Value>), MnError> {
    identity.customer()?;
    let input: NewOrderIn = body(&bytes)?;
    if input.items.is_empty() {
        return Err(MnError::invalid("items", "at least one item is required"));
    }
    let caller = identity.caller();
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    let currency = domain::sites::get(&mut tx, &identity.site_id)
        .await?
        .currency;
    let cart = carts::create(
        &mut tx,
        &caller,
        NewCart {
            session_id: None,
            currency,
            customer_id: None,
        },
    )
    .await?;
    for (i, item) in input.items.into_iter().enumerate() {
        let add = CartAction::Add {
            item: NewItem {
                product_id: item.product_id,
                variant_id: item.variant_id,
                quantity: item.quantity,
                customizations: customizations(item.customizations)?,
            },
        };
        carts::apply(&mut tx, &caller, &cart.id, add)
            .await
            .map_err(|e| at_item(e, i))?;
    }
    if let Some(code) = input.discount_code.filter(|c| !c.trim().is_empty()) {
        carts::apply(
            &mut tx,
            &caller,
            &cart.id,
            CartAction::ApplyPromotion { code },
        )
        .await?;
    }
    if input.notes.is_some() {
        let notes = CartAction::SetNotes { notes: input.notes };
        carts::apply(&mut tx, &caller, &cart.id, notes).await?;
    }
    let order = place(&mut tx, &state, &identity, &cart.id, input.placement).await?;
    tx.commit().await.map_err(domain::Error::from)?;
    Ok((StatusCode::CREATED, data(shapes::order(&order))))
}

/// Places the customer's cart through the native checkout, every step in the caller's transaction.
pub(super) async fn place(
    conn: &mut domain::Conn,
    state: &AppState,
    identity: &Identity,
    cart_id: &str,
    placement: PlacementIn,
) -> Result<domain::orders::Order, MnError> {
    let steps = placement.one_call(conn, identity).await?;
    let ttl = chrono::Duration::minutes(i64::from(state.config.checkout_ttl_minutes));
    Ok(checkout::place_from_cart(conn, &identity.caller(), cart_id, ttl, steps).await?)
}

/// An item's refusal names the item (`items[2].quantity`).
pub(super) fn at_item(e: domain::Error, i: usize) -> MnError {
    let mut e = MnError::from(e);
    let at = format!("items[{i}]");
    for (field, _) in &mut e.details {
        if let Some(rest) = field.strip_prefix("item") {
            *field = format!("{at}{rest}");
        }
    }
    if let Some(rest) = e.message.strip_prefix("item") {
        e.message = format!("{at}{rest}");
    }
    e
}

#[derive(Deserialize, Default)]
pub struct CancelIn {
    reason: Option<String>,
    comments: Option<String>,
}

pub async fn cancel(
    identity: Identity,
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<Value>, MnError> {
    let caller = identity.customer_or_admin("write:orders")?;
    let input: CancelIn = if bytes.iter().all(u8::is_ascii_whitespace) {
        CancelIn::default()
    } else {
        body(&bytes)?
    };
    let reason = [input.reason, input.comments]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>();
    let reason = (!reason.is_empty()).then(|| reason.join(" — "));
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    let order = orders::cancel(&mut tx, &caller, &shapes::native_order_ref(&id), reason).await?;
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(data(shapes::order(&order)))
}

/// The native change a MOOD MNKY status asks for: a fulfilment stage to walk to, or the payment.
fn status_change(status: &str) -> Result<(Option<OrderStatus>, Option<PaymentStatus>), MnError> {
    Ok(match status {
        "processing" => (Some(OrderStatus::Processing), None),
        "paid" => (None, Some(PaymentStatus::Paid)),
        "shipped" => (Some(OrderStatus::Shipped), None),
        "delivered" | "completed" => (Some(OrderStatus::Delivered), None),
        "cancelled" => (Some(OrderStatus::Cancelled), None),
        "refunded" => (Some(OrderStatus::Refunded), None),
        "created" | "payment_pending" => {
            return Err(MnError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "INVALID_STATUS_TRANSITION",
                format!("An order cannot be moved back to {status}"),
            ));
        }
        _ => {
            return Err(MnError::invalid(
                "status",
                "must be one of processing, paid, shipped, delivered, completed, cancelled, refunded",
            ));
        }
    })
}

/// A text field as [`text`] reads it, trimmed; blank clears it as `null` does.
fn optional_text(map: &Map<String, Value>, field: &str) -> Result<Option<Option<String>>, MnError> {
    Ok(text(map, field)?.map(|value| {
        value
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }))
}

/// `{status, trackingNumber, trackingUrl, carrier, notifyCustomer}`. The carrier and the notification
/// choice are accepted; order events go to the site's webhooks whatever `notifyCustomer` says.
pub async fn set_status(
    identity: Identity,
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<Value>, MnError> {
    identity.admin("write:orders")?;
    let key_id = match &identity.who {
        Who::Admin(key) => Some(key.id.clone()),
        _ => None,
    };
    let map = object(&bytes)?;
    let status = match map.get("status") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(MnError::invalid("status", "is required")),
    };
    let (order_status, payment_status) = status_change(&status)?;
    let patch = OrderPatch {
        payment_status,
        tracking_number: optional_text(&map, "trackingNumber")?,
        tracking_url: optional_text(&map, "trackingUrl")?,
        ..Default::default()
    };
    let native = shapes::native_order_ref(&id);
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    let order = match order_status {
        Some(target) => {
            orders::move_to(
                &mut tx,
                &identity.site_id,
                &native,
                target,
                patch,
                key_id.as_deref(),
            )
            .await?
        }
        None => {
            orders::update(
                &mut tx,
                &identity.site_id,
                &native,
                patch,
                key_id.as_deref(),
            )
            .await?
        }
    };
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(data(shapes::order(&order)))
}
