//! Orders: placed by checkout, then moved through legal status transitions only.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgConnection, Postgres, QueryBuilder};

use super::balances::{loyalty, tender};
use super::caller::{Audience, Caller};
use super::error::{Error, Result, Validator, on_unique};
use super::events;
use super::inventory::stock::{self, Adjustment, Operation};
use super::pagination::{self, Page, PageRequest};
use super::patch;

// Statuses serialise as the order event payloads show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Pending,
    Confirmed,
    Processing,
    Shipped,
    Delivered,
    Cancelled,
    Refunded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    Pending,
    Paid,
    Failed,
    Refunded,
    PartiallyRefunded,
}

/// Fulfilment as Mofavo names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FulfillmentStatus {
    Draft,
    ReadyForPackaging,
    ReadyForPickUp,
    InTransit,
    Delivered,
    Returned,
}

macro_rules! string_enum {
    ($ty:ty { $($variant:ident => $text:literal),* $(,)? }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),* }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some(Self::$variant),)* _ => None }
            }
        }
    };
}

string_enum!(OrderStatus {
    Pending => "PENDING", Confirmed => "CONFIRMED", Processing => "PROCESSING", Shipped => "SHIPPED",
    Delivered => "DELIVERED", Cancelled => "CANCELLED", Refunded => "REFUNDED",
});
string_enum!(PaymentStatus {
    Pending => "PENDING", Paid => "PAID", Failed => "FAILED", Refunded => "REFUNDED",
    PartiallyRefunded => "PARTIALLY_REFUNDED",
});
string_enum!(FulfillmentStatus {
    Draft => "draft", ReadyForPackaging => "readyForPackaging", ReadyForPickUp => "readyForPickUp",
    InTransit => "inTransit", Delivered => "delivered", Returned => "returned",
});

impl OrderStatus {
    /// The legal moves; REFUNDED additionally needs a paid order (whatever its fulfilment stage).
    fn can_become(self, next: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, next),
            (Pending, Confirmed)
                | (Confirmed, Processing)
                | (Processing, Shipped)
                | (Shipped, Delivered)
                | (Pending | Confirmed | Processing, Cancelled)
                | (
                    Pending | Confirmed | Processing | Shipped | Delivered,
                    Refunded
                )
        )
    }
}

impl PaymentStatus {
    fn can_become(self, next: PaymentStatus) -> bool {
        use PaymentStatus::*;
        matches!(
            (self, next),
            (Pending, Paid | Failed)
                | (Failed, Paid | Pending)
                | (Paid, Refunded | PartiallyRefunded)
                | (PartiallyRefunded, Refunded)
        )
    }
}

/// A placed line. Read back from the `items` JSON aggregate of the order query.
#[derive(Debug, Clone, Serialize, Deserialize, FromRow)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    pub id: String,
    pub product_id: String,
    pub variant_id: String,
    pub name: String,
    pub sku: Option<String>,
    pub quantity: i32,
    pub unit_price: i64,
    pub total: i64,
    /// How the line was made (a custom blend, gift wrapping), as the cart line carried it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[sqlx(json(nullable))]
    pub customizations: Option<super::carts::Customizations>,
}

/// An order. Serialises to the `order.*` event payloads (the native API shows the same shape).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: String,
    pub number: String,
    pub status: OrderStatus,
    pub payment_status: PaymentStatus,
    pub fulfillment_status: FulfillmentStatus,
    pub customer_id: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    pub currency: String,
    pub subtotal: i64,
    pub discount: i64,
    pub shipping: i64,
    pub tax: i64,
    pub total: i64,
    /// The part of `discount` paid with `loyalty_points`.
    pub loyalty_discount: i64,
    pub loyalty_points: i64,
    /// Paid with gift cards (each in `gift_cards`) and store credit.
    pub gift_card_amount: i64,
    pub gift_cards: Vec<tender::AppliedCard>,
    pub store_credit_amount: i64,
    /// What the payment method pays: the total less gift cards and store credit.
    pub amount_due: i64,
    pub promotion_code: Option<String>,
    pub shipping_address: Option<serde_json::Value>,
    pub shipping_method: Option<serde_json::Value>,
    pub payment_method: String,
    /// For invoice orders: the B2B account, its payment terms, and when payment is due.
    pub b2b_account_id: Option<String>,
    pub payment_terms: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
    /// An external (e.g. WooCommerce) order reference, unique per site.
    pub external_ref: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    pub notes: Option<String>,
    pub archived: bool,
    /// Placed with a test-mode key.
    pub is_test: bool,
    pub checkout_session_id: Option<String>,
    pub items: Vec<OrderItem>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct OrderRow {
    id: String,
    number: i64,
    status: String,
    payment_status: String,
    fulfillment_status: String,
    customer_id: Option<String>,
    email: String,
    phone: Option<String>,
    currency: String,
    subtotal: i64,
    discount: i64,
    shipping: i64,
    tax: i64,
    total: i64,
    loyalty_discount: i64,
    loyalty_points: i64,
    gift_card_amount: i64,
    #[sqlx(json)]
    gift_cards: Vec<tender::AppliedCard>,
    store_credit_amount: i64,
    promotion_code: Option<String>,
    shipping_address: Option<serde_json::Value>,
    shipping_method: Option<serde_json::Value>,
    payment_method: String,
    b2b_account_id: Option<String>,
    payment_terms: Option<String>,
    due_at: Option<DateTime<Utc>>,
    external_ref: Option<String>,
    tracking_number: Option<String>,
    tracking_url: Option<String>,
    notes: Option<String>,
    archived: bool,
    is_test: bool,
    checkout_session_id: Option<String>,
    #[sqlx(json)]
    items: Vec<OrderItem>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<OrderRow> for Order {
    fn from(r: OrderRow) -> Self {
        Order {
            id: r.id,
            number: format!("ORD-{}", r.number),
            status: OrderStatus::parse(&r.status).unwrap_or(OrderStatus::Pending),
            payment_status: PaymentStatus::parse(&r.payment_status)
                .unwrap_or(PaymentStatus::Pending),
            fulfillment_status: FulfillmentStatus::parse(&r.fulfillment_status)
                .unwrap_or(FulfillmentStatus::Draft),
            customer_id: r.customer_id,
            email: r.email,
            phone: r.phone,
            currency: r.currency,
            subtotal: r.subtotal,
            discount: r.discount,
            shipping: r.shipping,
            tax: r.tax,
            total: r.total,
            loyalty_discount: r.loyalty_discount,
            loyalty_points: r.loyalty_points,
            gift_card_amount: r.gift_card_amount,
            gift_cards: r.gift_cards,
            store_credit_amount: r.store_credit_amount,
            amount_due: r.total - r.gift_card_amount - r.store_credit_amount,
            promotion_code: r.promotion_code,
            shipping_address: r.shipping_address,
            shipping_method: r.shipping_method,
            payment_method: r.payment_method,
            b2b_account_id: r.b2b_account_id,
            payment_terms: r.payment_terms,
            due_at: r.due_at,
            external_ref: r.external_ref,
            tracking_number: r.tracking_number,
            tracking_url: r.tracking_url,
            notes: r.notes,
            archived: r.archived,
            is_test: r.is_test,
            checkout_session_id: r.checkout_session_id,
            items: r.items,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const COLUMNS: &str = "o.id, o.number, o.status, o.payment_status, o.fulfillment_status, o.customer_id, o.email, o.phone, \
    o.currency, o.subtotal, o.discount, o.shipping, o.tax, o.total, o.loyalty_discount, o.loyalty_points, \
    o.gift_card_amount, o.gift_cards, o.store_credit_amount, o.promotion_code, o.shipping_address, \
    o.shipping_method, o.payment_method, o.b2b_account_id, o.payment_terms, o.due_at, o.external_ref, o.tracking_number, o.tracking_url, o.notes, o.archived, \
    o.is_test, o.checkout_session_id, o.created_at, o.updated_at, \
    coalesce((select json_agg(json_build_object('id', i.id, 'productId', i.product_id, 'variantId', i.variant_id, \
        'name', i.name, 'sku', i.sku, 'quantity', i.quantity, 'unitPrice', i.unit_price, 'total', i.total, \
        'customizations', i.customizations) order by i.id) \
      from order_items i where i.site_id = o.site_id and i.order_id = o.id), '[]') as items";

impl Order {
    pub fn totals(&self) -> super::pricing::Totals {
        super::pricing::Totals {
            subtotal: self.subtotal,
            discount: self.discount,
            shipping: self.shipping,
            tax: self.tax,
            total: self.total,
            loyalty_discount: self.loyalty_discount,
        }
    }

    /// What the order's checkout paid with balances.
    pub fn applied(&self) -> tender::Applied {
        tender::Applied {
            gift_cards: self.gift_cards.clone(),
            gift_card_amount: self.gift_card_amount,
            store_credit_amount: self.store_credit_amount,
            loyalty_points: self.loyalty_points,
            amount_due: self.amount_due,
        }
    }

    /// The points this order earns when paid: its subtotal less discounts; nothing for a test order or
    /// a guest's.
    async fn earn_points(&self, conn: &mut PgConnection, site_id: &str) -> Result<()> {
        match &self.customer_id {
            Some(customer_id) if !self.is_test => {
                let spent = self.subtotal - self.discount;
                loyalty::earn(conn, site_id, customer_id, &self.id, spent).await
            }
            _ => Ok(()),
        }
    }
}

/// `ORD-1042` (or `1042`) → 1042.
fn parse_number(s: &str) -> Option<i64> {
    s.strip_prefix("ORD-")
        .unwrap_or(s)
        .parse()
        .ok()
        .filter(|n| *n > 0)
}

/// An order the caller may read (another customer's, or a guest's for a browser, is "not found").
pub async fn get(conn: &mut PgConnection, caller: &Caller, id_or_number: &str) -> Result<Order> {
    let order = load(conn, caller.site_id(), id_or_number).await?;
    if !caller.may_see_order(order.customer_id.as_deref()) {
        return Err(Error::NotFound("order"));
    }
    Ok(order)
}

/// Any order of the site, for the domain's own use.
pub(in crate::domain) async fn load(
    conn: &mut PgConnection,
    site_id: &str,
    id_or_number: &str,
) -> Result<Order> {
    let row: Option<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from orders o where o.site_id = $1 and (o.id = $2 or o.number = $3)"
    )))
    .bind(site_id)
    .bind(id_or_number)
    .bind(parse_number(id_or_number).unwrap_or(-1))
    .fetch_optional(conn)
    .await?;
    row.map(Order::from).ok_or(Error::NotFound("order"))
}

#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub status: Option<OrderStatus>,
    pub payment_status: Option<PaymentStatus>,
    pub customer_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

fn push_filters(qb: &mut QueryBuilder<Postgres>, site_id: &str, f: &OrderFilter) {
    qb.push(" where o.site_id = ")
        .push_bind(site_id.to_string());
    if let Some(s) = f.status {
        qb.push(" and o.status = ").push_bind(s.as_str());
    }
    if let Some(s) = f.payment_status {
        qb.push(" and o.payment_status = ").push_bind(s.as_str());
    }
    if let Some(c) = &f.customer_id {
        qb.push(" and o.customer_id = ").push_bind(c.clone());
    }
    if let Some(from) = f.from {
        qb.push(" and o.created_at >= ").push_bind(from);
    }
    if let Some(to) = f.to {
        qb.push(" and o.created_at < ").push_bind(to);
    }
}

/// The orders the caller may read: a browser caller lists only its signed-in customer's (none without one).
pub async fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    filter: &OrderFilter,
    page: &PageRequest,
) -> Result<Page<Order>> {
    let site_id = caller.site_id();
    let scoped;
    let filter = if caller.audience == Audience::Secret {
        filter
    } else {
        // No customer signed in: an id no order has, so the list is empty.
        scoped = OrderFilter {
            customer_id: Some(caller.customer_id.clone().unwrap_or_default()),
            ..filter.clone()
        };
        &scoped
    };
    let select = format!("select {COLUMNS} from orders o");
    let (rows, total) =
        pagination::fetch::<OrderRow>(conn, page, &select, " from orders o", "o.id", false, |qb| {
            push_filters(qb, site_id, filter)
        })
        .await?;
    Ok(Page::from_rows(
        page,
        rows.into_iter().map(Order::from).collect(),
        total,
        |o| &o.id,
    ))
}

/// Everything a new order holds; written by [`insert`] inside the checkout transaction.
pub(in crate::domain) struct NewOrder<'a> {
    pub id: &'a str,
    pub checkout_session_id: &'a str,
    pub customer_id: Option<&'a str>,
    pub email: &'a str,
    pub phone: Option<&'a str>,
    pub currency: &'a str,
    pub totals: super::pricing::Totals,
    pub applied: &'a tender::Applied,
    /// For invoice orders: the account, its terms, the due date.
    pub invoice: Option<(&'a str, &'a str, DateTime<Utc>)>,
    pub promotion_code: Option<&'a str>,
    pub shipping_address: &'a serde_json::Value,
    pub shipping_method: &'a serde_json::Value,
    pub payment_method: &'a str,
    pub payment_status: PaymentStatus,
    pub is_test: bool,
    /// The buyer's note.
    pub notes: Option<&'a str>,
    pub items: &'a [OrderItem],
}

/// Writes an order and its items with the next order number of the site (from the site's sequence: never
/// repeated, never waited for; a placement that fails later leaves a gap).
pub(in crate::domain) async fn insert(
    conn: &mut PgConnection,
    site_id: &str,
    o: NewOrder<'_>,
) -> Result<Order> {
    let number: i64 = sqlx::query_scalar("select nextval(order_number_sequence($1)::regclass)")
        .bind(site_id)
        .fetch_one(&mut *conn)
        .await?;
    sqlx::query(
        "insert into orders (site_id, id, number, checkout_session_id, customer_id, email, phone, payment_status, currency, \
         subtotal, discount, shipping, tax, total, promotion_code, shipping_address, shipping_method, payment_method, is_test, \
         loyalty_discount, loyalty_points, gift_card_amount, gift_cards, store_credit_amount, b2b_account_id, \
         payment_terms, due_at, notes) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, \
         $25, $26, $27, $28)",
    )
    .bind(site_id)
    .bind(o.id)
    .bind(number)
    .bind(o.checkout_session_id)
    .bind(o.customer_id)
    .bind(o.email)
    .bind(o.phone)
    .bind(o.payment_status.as_str())
    .bind(o.currency)
    .bind(o.totals.subtotal)
    .bind(o.totals.discount)
    .bind(o.totals.shipping)
    .bind(o.totals.tax)
    .bind(o.totals.total)
    .bind(o.promotion_code)
    .bind(o.shipping_address)
    .bind(o.shipping_method)
    .bind(o.payment_method)
    .bind(o.is_test)
    .bind(o.totals.loyalty_discount)
    .bind(o.applied.loyalty_points)
    .bind(o.applied.gift_card_amount)
    .bind(sqlx::types::Json(&o.applied.gift_cards))
    .bind(o.applied.store_credit_amount)
    .bind(o.invoice.map(|i| i.0))
    .bind(o.invoice.map(|i| i.1))
    .bind(o.invoice.map(|i| i.2))
    .bind(o.notes)
    .execute(&mut *conn)
    .await?;
    let mut qb = QueryBuilder::new(
        "insert into order_items (site_id, id, order_id, product_id, variant_id, name, sku, quantity, unit_price, total, customizations) ",
    );
    qb.push_values(o.items, |mut b, item| {
        b.push_bind(site_id.to_string())
            .push_bind(item.id.clone())
            .push_bind(o.id.to_string())
            .push_bind(item.product_id.clone())
            .push_bind(item.variant_id.clone())
            .push_bind(item.name.clone())
            .push_bind(item.sku.clone())
            .push_bind(item.quantity)
            .push_bind(item.unit_price)
            .push_bind(item.total)
            .push_bind(item.customizations.clone().map(sqlx::types::Json));
    });
    qb.build().execute(&mut *conn).await?;
    let order = load(conn, site_id, o.id).await?;
    events::record(conn, site_id, "order.created", &order).await?;
    if order.payment_status == PaymentStatus::Paid {
        order.earn_points(conn, site_id).await?;
        events::record(
            conn,
            site_id,
            "payment.confirmed",
            &serde_json::json!({"orderId": order.id, "amount": order.total}),
        )
        .await?;
    }
    Ok(order)
}

/// An operator's change: `None` leaves a field alone; for clearable fields `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct OrderPatch {
    pub status: Option<OrderStatus>,
    pub payment_status: Option<PaymentStatus>,
    pub fulfillment_status: Option<FulfillmentStatus>,
    pub external_ref: Option<Option<String>>,
    pub tracking_number: Option<Option<String>>,
    pub tracking_url: Option<Option<String>>,
    pub notes: Option<Option<String>>,
    pub archived: Option<bool>,
}

/// Applies an operator's change. Only legal transitions; cancelling restocks what the order took.
pub async fn update(
    conn: &mut PgConnection,
    site_id: &str,
    id_or_number: &str,
    p: OrderPatch,
    key_id: Option<&str>,
) -> Result<Order> {
    let current = load(&mut *conn, site_id, id_or_number).await?;
    // Lock the row: concurrent updates of one order serialise (and cannot both restock).
    let locked: (String, String, bool) = sqlx::query_as(
        "select status, payment_status, balances_returned_at is not null from orders \
         where site_id = $1 and id = $2 for update",
    )
    .bind(site_id)
    .bind(&current.id)
    .fetch_one(&mut *conn)
    .await?;
    let status_now = OrderStatus::parse(&locked.0).unwrap_or(current.status);
    let payment_now = PaymentStatus::parse(&locked.1).unwrap_or(current.payment_status);

    let mut status = status_now;
    let mut payment = p.payment_status.unwrap_or(payment_now);
    if payment != payment_now && !payment_now.can_become(payment) {
        return Err(Error::Conflict {
            code: "INVALID_TRANSITION",
            message: format!(
                "payment status cannot change from {} to {}",
                payment_now.as_str(),
                payment.as_str()
            ),
        });
    }
    // Re-sending the current status is a no-op, except for the final states whose entry acts (restock,
    // refund): cancelling or refunding twice is refused rather than reported as done again.
    if let Some(next) = p.status
        && next == status_now
        && matches!(next, OrderStatus::Cancelled | OrderStatus::Refunded)
    {
        return Err(Error::Conflict {
            code: "INVALID_TRANSITION",
            message: format!("the order is already {}", next.as_str()),
        });
    }
    if let Some(next) = p.status.filter(|s| *s != status_now) {
        if !status_now.can_become(next) {
            return Err(Error::Conflict {
                code: "INVALID_TRANSITION",
                message: format!(
                    "order status cannot change from {} to {}",
                    status_now.as_str(),
                    next.as_str()
                ),
            });
        }
        if next == OrderStatus::Refunded {
            if !matches!(
                payment,
                PaymentStatus::Paid | PaymentStatus::PartiallyRefunded | PaymentStatus::Refunded
            ) {
                return Err(Error::Conflict {
                    code: "INVALID_TRANSITION",
                    message: format!(
                        "order status cannot change from {} to REFUNDED: only a paid order can be refunded (payment status is {})",
                        status_now.as_str(),
                        payment.as_str()
                    ),
                });
            }
            payment = PaymentStatus::Refunded;
        }
        status = next;
    }
    let mut v = Validator::new();
    for (field, value, max) in [
        ("external_ref", &p.external_ref, 255),
        ("tracking_number", &p.tracking_number, 255),
        ("tracking_url", &p.tracking_url, 2048),
        ("notes", &p.notes, 10_000),
    ] {
        if let Some(Some(text)) = value {
            v.text(field, text, 1, max);
        }
    }
    v.finish()?;

    if status == OrderStatus::Cancelled && status_now != OrderStatus::Cancelled {
        restock(conn, site_id, &current.id, key_id).await?;
    }
    let closing = matches!(status, OrderStatus::Cancelled | OrderStatus::Refunded)
        || payment == PaymentStatus::Refunded;
    if closing && !locked.2 {
        give_back_balances(conn, site_id, &current).await?;
    }
    let external_ref = patch::apply(current.external_ref, p.external_ref);
    sqlx::query(
        "update orders set status = $3, payment_status = $4, fulfillment_status = $5, external_ref = $6, \
         tracking_number = $7, tracking_url = $8, notes = $9, archived = $10 where site_id = $1 and id = $2",
    )
    .bind(site_id)
    .bind(&current.id)
    .bind(status.as_str())
    .bind(payment.as_str())
    .bind(p.fulfillment_status.unwrap_or(current.fulfillment_status).as_str())
    .bind(&external_ref)
    .bind(patch::apply(current.tracking_number, p.tracking_number))
    .bind(patch::apply(current.tracking_url, p.tracking_url))
    .bind(patch::apply(current.notes, p.notes))
    .bind(p.archived.unwrap_or(current.archived))
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        on_unique(e, "orders_external_ref", || {
            format!("another order already has externalRef `{}`", external_ref.as_deref().unwrap_or_default())
        })
    })?;
    let fulfillment_before = current.fulfillment_status;
    let order = load(conn, site_id, &current.id).await?;
    events::record(conn, site_id, "order.updated", &order).await?;
    if order.fulfillment_status != fulfillment_before {
        let data = serde_json::json!({"orderId": order.id, "fulfillmentStatus": order.fulfillment_status,
            "previousFulfillmentStatus": fulfillment_before, "trackingNumber": order.tracking_number,
            "trackingUrl": order.tracking_url});
        events::record(conn, site_id, "order.fulfillment_updated", &data).await?;
    }
    if payment == PaymentStatus::Paid && payment_now != PaymentStatus::Paid && !closing {
        order.earn_points(conn, site_id).await?;
    }
    if payment != payment_now {
        let kind = match payment {
            PaymentStatus::Paid => Some("payment.confirmed"),
            PaymentStatus::Failed => Some("payment.failed"),
            _ => None,
        };
        if let Some(kind) = kind {
            events::record(
                conn,
                site_id,
                kind,
                &serde_json::json!({"orderId": order.id, "amount": order.total}),
            )
            .await?;
        }
    }
    Ok(order)
}

/// Gives back the gift card balance, store credit and points an order was paid with, and takes back the
/// points it earned; marks the order so this happens once.
async fn give_back_balances(conn: &mut PgConnection, site_id: &str, order: &Order) -> Result<()> {
    let paid = tender::Paid {
        customer_id: order.customer_id.clone(),
        gift_cards: order.gift_cards.clone(),
        store_credit_amount: order.store_credit_amount,
        loyalty_points: order.loyalty_points,
    };
    tender::give_back(conn, site_id, &order.id, &paid).await?;
    sqlx::query("update orders set balances_returned_at = now() where site_id = $1 and id = $2")
        .bind(site_id)
        .bind(&order.id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Puts back what an order took, at the locations it was taken from (reversing its ledger rows).
async fn restock(
    conn: &mut PgConnection,
    site_id: &str,
    order_id: &str,
    key_id: Option<&str>,
) -> Result<()> {
    let taken: Vec<(String, String, i64)> = sqlx::query_as(
        "select l.variant_id, l.location_id, -sum(l.delta) from inventory_ledger l \
         join variants v on v.site_id = l.site_id and v.id = l.variant_id \
         join locations loc on loc.site_id = l.site_id and loc.id = l.location_id \
         where l.site_id = $1 and l.source = 'order' and l.reason = $2 \
         group by l.variant_id, l.location_id having sum(l.delta) < 0 order by l.variant_id, l.location_id",
    )
    .bind(site_id)
    .bind(order_id)
    .fetch_all(&mut *conn)
    .await?;
    for (variant_id, location_id, quantity) in taken {
        let adjustment = Adjustment {
            variant_id: &variant_id,
            location_id: Some(&location_id),
            operation: Operation::Increment,
            quantity: i32::try_from(quantity).unwrap_or(i32::MAX),
            reason: Some(order_id),
            source: "order",
            key_id,
        };
        stock::adjust(conn, site_id, adjustment).await?;
    }
    Ok(())
}

/// The fulfilment path an order walks, one legal step at a time.
const PATH: [OrderStatus; 5] = [
    OrderStatus::Pending,
    OrderStatus::Confirmed,
    OrderStatus::Processing,
    OrderStatus::Shipped,
    OrderStatus::Delivered,
];

/// Moves an order to `target` through every step between (pending → confirmed → processing → shipped →
/// delivered; cancelling and refunding are one step), each a legal transition with its own event; the
/// last step carries `p`. For dialects whose clients set the status they want rather than the next one.
/// A target behind the order's status is refused as [`update`] refuses it.
pub async fn move_to(
    conn: &mut PgConnection,
    site_id: &str,
    id_or_number: &str,
    target: OrderStatus,
    p: OrderPatch,
    key_id: Option<&str>,
) -> Result<Order> {
    let current = load(&mut *conn, site_id, id_or_number).await?;
    let from = PATH.iter().position(|s| *s == current.status);
    let to = PATH.iter().position(|s| *s == target);
    if let (Some(from), Some(to)) = (from, to) {
        for step in &PATH[(from + 1).min(to)..to] {
            let step_patch = OrderPatch {
                status: Some(*step),
                ..Default::default()
            };
            update(&mut *conn, site_id, &current.id, step_patch, key_id).await?;
        }
    }
    let last = OrderPatch {
        status: Some(target),
        ..p
    };
    update(conn, site_id, &current.id, last, key_id).await
}

/// A customer cancels its own order (an operator any order) while it is not yet being processed
/// (pending or confirmed); the stock it took goes back. Another customer's order is not found.
pub async fn cancel(
    conn: &mut PgConnection,
    caller: &Caller,
    id_or_number: &str,
    reason: Option<String>,
) -> Result<Order> {
    let order = get(&mut *conn, caller, id_or_number).await?;
    if !matches!(order.status, OrderStatus::Pending | OrderStatus::Confirmed) {
        return Err(Error::Conflict {
            code: "ORDER_NOT_CANCELLABLE",
            message: format!(
                "The order is {} and can no longer be cancelled",
                order.status.as_str().to_lowercase()
            ),
        });
    }
    let reason = reason
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    let notes = match (order.notes, reason) {
        (Some(notes), Some(reason)) => Some(format!("{notes}\nCancelled: {reason}")),
        (None, Some(reason)) => Some(format!("Cancelled: {reason}")),
        (notes, None) => notes,
    };
    let p = OrderPatch {
        status: Some(OrderStatus::Cancelled),
        notes: Some(notes),
        ..Default::default()
    };
    update(conn, caller.site_id(), &order.id, p, None).await
}
