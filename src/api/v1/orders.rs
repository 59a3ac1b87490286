//! `/orders`: list, get by id or number, and operator updates.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::wire::wire_enum;
use crate::api::v1::patch;
use crate::domain::balances::tender::Applied;
use crate::domain::orders::{self, OrderFilter, OrderPatch};
use crate::http::auth::{ReadOrders, WriteOrders};
use crate::http::reads::ReadConn;
use crate::http::{
    ApiError, CommonErrors, Data, ErrorBody, Json, List, Pagination, Path, Query, Scoped,
};
use crate::state::AppState;

wire_enum! {
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    pub enum OrderStatusWire as OrderStatus <=> orders::OrderStatus {
        Pending, Confirmed, Processing, Shipped, Delivered, Cancelled, Refunded,
    }
}

wire_enum! {
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    pub enum PaymentStatusWire as PaymentStatus <=> orders::PaymentStatus {
        Pending, Paid, Failed, Refunded, PartiallyRefunded,
    }
}

wire_enum! {
    /// Fulfilment as Mofavo names it.
    #[serde(rename_all = "camelCase")]
    pub enum FulfillmentStatusWire as FulfillmentStatus <=> orders::FulfillmentStatus {
        Draft, ReadyForPackaging, ReadyForPickUp, InTransit, Delivered, Returned,
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = OrderItem)]
pub struct OrderItemOut {
    pub id: String,
    pub product_id: String,
    pub variant_id: String,
    pub name: String,
    pub sku: Option<String>,
    pub quantity: i32,
    pub unit_price: i64,
    pub total: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customizations: Option<crate::api::v1::cart::CustomizationsOut>,
}

impl From<orders::OrderItem> for OrderItemOut {
    fn from(i: orders::OrderItem) -> Self {
        OrderItemOut {
            id: i.id,
            product_id: i.product_id,
            variant_id: i.variant_id,
            name: i.name,
            sku: i.sku,
            quantity: i.quantity,
            unit_price: i.unit_price,
            total: i.total,
            customizations: i.customizations.map(Into::into),
        }
    }
}

/// A gift card that pays (or paid) part of an order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppliedGiftCard)]
pub struct AppliedGiftCardOut {
    #[schema(example = "gc_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub gift_card_id: String,
    /// The last four characters of the card's code (never the whole code).
    #[schema(example = "3XPD")]
    pub last_characters: String,
    /// Minor units taken from the card.
    #[schema(example = 2500)]
    pub amount: i64,
}

/// What balances pay: gift cards and store credit against the total, loyalty points as part of the
/// discount. `amountDue` is what the payment method pays.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AppliedBalances)]
pub struct BalancesOut {
    pub gift_cards: Vec<AppliedGiftCardOut>,
    #[schema(example = 2500)]
    pub gift_card_amount: i64,
    #[schema(example = 1000)]
    pub store_credit_amount: i64,
    /// Points redeemed for `loyaltyDiscount`.
    #[schema(example = 500)]
    pub loyalty_points: i64,
    /// The part of `discount` paid with points.
    #[schema(example = 500)]
    pub loyalty_discount: i64,
    /// The total less gift cards and store credit: what the payment method pays (0: paid in full).
    #[schema(example = 3637)]
    pub amount_due: i64,
}

impl BalancesOut {
    pub fn new(applied: Applied, loyalty_discount: i64) -> Self {
        BalancesOut {
            gift_cards: applied
                .gift_cards
                .into_iter()
                .map(|c| AppliedGiftCardOut {
                    gift_card_id: c.gift_card_id,
                    last_characters: c.last_characters,
                    amount: c.amount,
                })
                .collect(),
            gift_card_amount: applied.gift_card_amount,
            store_credit_amount: applied.store_credit_amount,
            loyalty_points: applied.loyalty_points,
            loyalty_discount,
            amount_due: applied.amount_due,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Order)]
pub struct OrderOut {
    #[schema(example = "order_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    #[schema(example = "ORD-1042")]
    pub number: String,
    pub status: OrderStatusWire,
    pub payment_status: PaymentStatusWire,
    pub fulfillment_status: FulfillmentStatusWire,
    pub customer_id: Option<String>,
    pub email: String,
    pub phone: Option<String>,
    pub currency: String,
    pub subtotal: i64,
    pub discount: i64,
    pub shipping: i64,
    pub tax: i64,
    #[schema(example = 7137)]
    pub total: i64,
    /// Gift cards, store credit and loyalty points the order was paid with, and what was left to pay.
    pub balances: BalancesOut,
    pub promotion_code: Option<String>,
    #[schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>)]
    pub shipping_address: Option<serde_json::Value>,
    #[schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>)]
    pub shipping_method: Option<serde_json::Value>,
    pub payment_method: String,
    /// For invoice orders: the B2B account that owes it.
    pub b2b_account_id: Option<String>,
    /// For invoice orders: NET_15, NET_30, NET_60 or NET_90.
    #[schema(example = "NET_30")]
    pub payment_terms: Option<String>,
    /// For invoice orders: when payment is due.
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
    pub items: Vec<OrderItemOut>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<orders::Order> for OrderOut {
    fn from(o: orders::Order) -> Self {
        let balances = BalancesOut::new(o.applied(), o.loyalty_discount);
        OrderOut {
            id: o.id,
            number: o.number,
            status: o.status.into(),
            payment_status: o.payment_status.into(),
            fulfillment_status: o.fulfillment_status.into(),
            customer_id: o.customer_id,
            email: o.email,
            phone: o.phone,
            currency: o.currency,
            subtotal: o.subtotal,
            discount: o.discount,
            shipping: o.shipping,
            tax: o.tax,
            total: o.total,
            balances,
            promotion_code: o.promotion_code,
            shipping_address: o.shipping_address,
            shipping_method: o.shipping_method,
            payment_method: o.payment_method,
            b2b_account_id: o.b2b_account_id,
            payment_terms: o.payment_terms,
            due_at: o.due_at,
            external_ref: o.external_ref,
            tracking_number: o.tracking_number,
            tracking_url: o.tracking_url,
            notes: o.notes,
            archived: o.archived,
            is_test: o.is_test,
            checkout_session_id: o.checkout_session_id,
            items: o.items.into_iter().map(Into::into).collect(),
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = OrderPatch)]
pub struct OrderPatchIn {
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    pub status: Option<OrderStatusWire>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    pub payment_status: Option<PaymentStatusWire>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    pub fulfillment_status: Option<FulfillmentStatusWire>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 255, pattern = "\\S")]
    pub external_ref: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 255, pattern = "\\S")]
    pub tracking_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 2048, pattern = "\\S")]
    pub tracking_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 10000, pattern = "\\S")]
    pub notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    pub archived: Option<bool>,
}

impl From<OrderPatchIn> for OrderPatch {
    fn from(p: OrderPatchIn) -> Self {
        OrderPatch {
            status: p.status.map(Into::into),
            payment_status: p.payment_status.map(Into::into),
            fulfillment_status: p.fulfillment_status.map(Into::into),
            external_ref: p.external_ref,
            tracking_number: p.tracking_number,
            tracking_url: p.tracking_url,
            notes: p.notes,
            archived: p.archived,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    #[param(minimum = 1, maximum = 1000000)]
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    page: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    limit: Option<i64>,
    cursor: Option<String>,
    #[param(inline)]
    status: Option<OrderStatusWire>,
    #[param(inline)]
    payment_status: Option<PaymentStatusWire>,
    customer_id: Option<String>,
    /// Created at or after (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Created before (RFC 3339).
    to: Option<DateTime<Utc>>,
}

/// List orders
///
/// In creation order, archived and test orders included (see `archived` and `isTest`). Filters: `status`,
/// `paymentStatus`, `customerId`, and the creation time from `from` (inclusive) to `to` (exclusive). Offset
/// pagination with `page`, or keyset pagination with `cursor`. Order routes share a stricter rate limit of
/// 30 requests per minute per key.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/orders",
    tag = "Orders",
    params(("siteId" = String, Path), ListQuery),
    security(("bearerAuth" = ["read:orders"])),
    responses((status = 200, description = "A page of orders", body = List<OrderOut>), CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadOrders>,
    mut conn: ReadConn,
    Query(q): Query<ListQuery>,
) -> Result<List<OrderOut>, ApiError> {
    let page = Pagination {
        page: q.page,
        limit: q.limit,
        cursor: q.cursor,
    }
    .request("order")?;
    let filter = OrderFilter {
        status: q.status.map(Into::into),
        payment_status: q.payment_status.map(Into::into),
        customer_id: q.customer_id,
        from: q.from,
        to: q.to,
    };
    let page = orders::list(&mut conn, &key.caller(), &filter, &page).await?;
    Ok(List::from(page.map(OrderOut::from)))
}

/// Get an order
///
/// By id or by number (`ORD-1042`).
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/orders/{orderId}",
    tag = "Orders",
    params(("siteId" = String, Path), ("orderId" = String, Path, description = "Order id or number like ORD-1042")),
    security(("bearerAuth" = ["read:orders"])),
    responses((status = 200, description = "The order", body = Data<OrderOut>), CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadOrders>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Data<OrderOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    Ok(Data::new(
        orders::get(&mut conn, &key.caller(), &id).await?.into(),
    ))
}

/// Update an order
///
/// Legal status moves only: PENDING → CONFIRMED → PROCESSING → SHIPPED → DELIVERED; CANCELLED from
/// PENDING/CONFIRMED/PROCESSING (restocks what the order took); REFUNDED from paid orders. Also payment
/// and fulfilment status, tracking, notes, `externalRef` (unique per site) and `archived`.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/orders/{orderId}",
    tag = "Orders",
    params(("siteId" = String, Path), ("orderId" = String, Path)),
    request_body(content = OrderPatchIn, example = json!({"status": "SHIPPED", "fulfillmentStatus": "inTransit", "trackingNumber": "LV123"})),
    security(("bearerAuth" = ["write:orders"])),
    responses(
        (status = 200, description = "The updated order", body = Data<OrderOut>),
        (status = 409, description = "INVALID_TRANSITION, or externalRef in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn update(
    key: Scoped<WriteOrders>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(patch): Json<OrderPatchIn>,
) -> Result<Data<OrderOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let order = orders::update(
        &mut tx,
        key.site_id(),
        &id,
        patch.into(),
        Some(key.auth.key_id()),
    )
    .await?;
    tx.commit().await?;
    Ok(Data::new(order.into()))
}
