//! `/checkout`: the checkout state machine.

use axum::extract::State;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::cart::TotalsOut;
use super::orders::{BalancesOut, OrderOut};
use super::wire::wire_enum;
use crate::api::v1::formats::{CountryCode, CustomerId, Email, Phone};
use crate::domain::checkout::{
    self, Address, Contact, PaymentChoice, Session, ShippingChoice, Step,
};
use crate::http::auth::{ReadCheckout, WriteCheckout};
use crate::http::customer::CustomerToken;
use crate::http::{ApiError, CommonErrors, Created, Data, ErrorBody, Json, Query, Scoped};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct SessionQuery {
    session_id: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartCheckout {
    cart_id: String,
}

wire_enum! {
    #[serde(rename_all = "lowercase")]
    pub enum StateWire as State <=> checkout::State {
        Init, Contact, Shipping, Payment, Review, Complete,
    }
}

wire_enum! {
    /// How the buyer pays: `manual` (bank transfer, cash on delivery: paid later), `test` (test keys only;
    /// succeeds unless `paymentToken` is `tok_chargeDeclined`), `invoice` (contacts of an active B2B account, on
    /// its payment terms and within its credit limit).
    #[serde(rename_all = "lowercase")]
    pub enum PaymentMethodWire as PaymentMethod <=> checkout::PaymentMethod {
        Manual, Test, Invoice,
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = PostalAddress)]
pub struct PostalAddress {
    #[schema(
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 100,
        pattern = "\\S"
    )]
    pub first_name: Option<String>,
    #[schema(
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 100,
        pattern = "\\S"
    )]
    pub last_name: Option<String>,
    #[schema(min_length = 1, max_length = 200, pattern = "\\S")]
    pub company: Option<String>,
    #[schema(
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 255,
        pattern = "\\S"
    )]
    pub line1: Option<String>,
    #[schema(min_length = 1, max_length = 255, pattern = "\\S")]
    pub line2: Option<String>,
    #[schema(
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 100,
        pattern = "\\S"
    )]
    pub city: Option<String>,
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub province: Option<String>,
    #[schema(
        required = true,
        nullable = false,
        min_length = 1,
        max_length = 20,
        pattern = "\\S"
    )]
    pub postal_code: Option<String>,
    #[schema(required = true, nullable = false, value_type = CountryCode)]
    pub country: Option<String>,
    #[schema(value_type = Option<Phone>)]
    pub phone: Option<String>,
}

impl From<PostalAddress> for Address {
    fn from(a: PostalAddress) -> Self {
        Address {
            first_name: a.first_name,
            last_name: a.last_name,
            company: a.company,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            province: a.province,
            postal_code: a.postal_code,
            country: a.country,
            phone: a.phone,
        }
    }
}

impl From<Address> for PostalAddress {
    fn from(a: Address) -> Self {
        PostalAddress {
            first_name: a.first_name,
            last_name: a.last_name,
            company: a.company,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            province: a.province,
            postal_code: a.postal_code,
            country: a.country,
            phone: a.phone,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CheckoutSession)]
pub struct SessionOut {
    #[schema(example = "cs_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    pub cart_id: String,
    pub state: StateWire,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub customer_id: Option<String>,
    pub shipping_address: Option<PostalAddress>,
    pub shipping_method_id: Option<String>,
    pub payment_method: Option<PaymentMethodWire>,
    pub is_test: bool,
    /// Totals from the current cart and the data given so far.
    pub totals: TotalsOut,
    /// The gift cards, store credit and loyalty points chosen at `payment`, applied to the totals.
    pub balances: BalancesOut,
    pub order_id: Option<String>,
    /// The placed order, once complete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderOut>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Session> for SessionOut {
    fn from(s: Session) -> Self {
        SessionOut {
            id: s.id,
            cart_id: s.cart_id,
            state: s.state.into(),
            email: s.email,
            phone: s.phone,
            customer_id: s.customer_id,
            shipping_address: s.shipping_address.map(Into::into),
            shipping_method_id: s.shipping_method_id,
            payment_method: s.payment_method.map(Into::into),
            is_test: s.is_test,
            balances: BalancesOut::new(s.applied, s.totals.loyalty_discount),
            totals: s.totals.into(),
            order_id: s.order_id,
            order: s.order.map(Into::into),
            expires_at: s.expires_at,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// A request to move the session to `state`, with that state's data.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = Advance)]
pub struct AdvanceIn {
    pub session_id: String,
    pub state: StateWire,
    /// contact
    #[schema(value_type = Option<Email>)]
    pub email: Option<String>,
    #[schema(value_type = Option<Phone>)]
    pub phone: Option<String>,
    #[schema(value_type = Option<CustomerId>)]
    pub customer_id: Option<String>,
    /// shipping
    pub shipping_address: Option<PostalAddress>,
    /// A shipping method's id (`shm_…`) or its code (e.g. `standard`); the session shows the id.
    pub shipping_method_id: Option<String>,
    /// payment
    pub payment_method: Option<PaymentMethodWire>,
    /// For `test` payments: `tok_chargeDeclined` is declined, anything else succeeds.
    #[schema(min_length = 1, max_length = 255, pattern = "\\S")]
    pub payment_token: Option<String>,
    /// Gift card codes to pay with, in order: each pays up to its balance until nothing is due. An unknown
    /// code is a 422; a void, expired or empty card a 409.
    #[schema(max_items = 10)]
    pub gift_card_codes: Option<Vec<String>>,
    /// Store credit of the checkout's customer to pay with (minor units; at most what is still due is
    /// taken). More than the balance is a 409.
    #[schema(minimum = 0, maximum = 10_000_000_000_000_f64)]
    pub store_credit_amount: Option<i64>,
    /// Loyalty points of the checkout's customer to redeem as a discount at the program's rate (only as
    /// many as the discount needs are taken). More than the balance is a 409.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_f64)]
    pub loyalty_points: Option<i64>,
}

impl From<AdvanceIn> for Step {
    /// The fields of the target state; others are ignored, as the flat body always allowed.
    fn from(a: AdvanceIn) -> Step {
        match a.state {
            StateWire::Init => Step::Init,
            StateWire::Contact => Step::Contact(Contact {
                email: a.email,
                phone: a.phone,
                customer_id: a.customer_id,
            }),
            StateWire::Shipping => Step::Shipping(ShippingChoice {
                address: a.shipping_address.map(Into::into),
                method_id: a.shipping_method_id,
            }),
            StateWire::Payment => Step::Payment(PaymentChoice {
                method: a.payment_method.map(Into::into),
                token: a.payment_token,
                gift_card_codes: a.gift_card_codes.unwrap_or_default(),
                store_credit_amount: a.store_credit_amount,
                loyalty_points: a.loyalty_points,
            }),
            StateWire::Review => Step::Review,
            StateWire::Complete => Step::Complete,
        }
    }
}

/// Get a checkout session
///
/// By `sessionId`, with the data given so far and totals from the cart's current prices (once complete, the
/// placed order's totals and the `order` itself). Expired sessions stay readable. A publishable key reaches
/// a guest's session or, with `X-Customer-Token`, its own customer's; any other answers 404. Checkout
/// routes share a stricter rate limit of 10 requests per minute per key.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/checkout",
    tag = "Checkout",
    params(("siteId" = String, Path), SessionQuery, ("X-Customer-Token" = Option<String>, Header, description = "A signed-in customer's access token: the cart or checkout is then that customer's (required to reach a customer's cart with a publishable key).")),
    security(("bearerAuth" = ["read:checkout"])),
    responses((status = 200, description = "The session", body = Data<SessionOut>), CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadCheckout>,
    State(state): State<AppState>,
    token: Option<CustomerToken>,
    Query(q): Query<SessionQuery>,
) -> Result<Data<SessionOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let caller = key.caller_with(token.as_ref());
    Ok(Data::new(
        checkout::get(&mut conn, &caller, &q.session_id)
            .await?
            .into(),
    ))
}

/// Start a checkout
///
/// From an active cart with items; the session starts in `init` and expires after the configured time.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/checkout",
    tag = "Checkout",
    params(("siteId" = String, Path), ("X-Customer-Token" = Option<String>, Header, description = "A signed-in customer's access token: the cart or checkout is then that customer's (required to reach a customer's cart with a publishable key).")),
    request_body(content = StartCheckout, example = json!({"cartId": "cart_xyz"})),
    security(("bearerAuth" = ["write:checkout"])),
    responses(
        (status = 201, description = "The new session", body = Data<SessionOut>),
        (status = 409, description = "CART_EMPTY or CART_CLOSED", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn start(
    key: Scoped<WriteCheckout>,
    State(state): State<AppState>,
    token: Option<CustomerToken>,
    Json(body): Json<StartCheckout>,
) -> Result<Created<SessionOut>, ApiError> {
    let ttl = chrono::Duration::minutes(i64::from(state.config.checkout_ttl_minutes));
    let mut conn = state.pool.acquire().await?;
    let caller = key.caller_with(token.as_ref());
    let session = checkout::start(&mut conn, &caller, &body.cart_id, ttl).await?;
    Ok(Created(session.into()))
}

/// Advance a checkout
///
/// Move to `state` with its data: `contact` (email), `shipping` (address and method), `payment` (method),
/// `review` (final totals, stock and promotion checked) and `complete` (places the order in one
/// transaction; completing again returns the same order). Moving back clears later data; skipping ahead is
/// a 409 `INVALID_TRANSITION`. PUT and PATCH behave the same.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/checkout",
    tag = "Checkout",
    params(("siteId" = String, Path), ("X-Customer-Token" = Option<String>, Header, description = "A signed-in customer's access token: the cart or checkout is then that customer's (required to reach a customer's cart with a publishable key).")),
    request_body(content = AdvanceIn, example = json!({"sessionId": "cs_abc", "state": "contact", "email": "jane@example.com"})),
    security(("bearerAuth" = ["write:checkout"])),
    responses(
        (status = 200, description = "The session in its new state", body = Data<SessionOut>),
        (status = 409, description = "INVALID_TRANSITION, CHECKOUT_EXPIRED, OUT_OF_STOCK, PROMOTION_INVALID, PAYMENT_DECLINED", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn advance(
    key: Scoped<WriteCheckout>,
    State(state): State<AppState>,
    token: Option<CustomerToken>,
    Json(body): Json<AdvanceIn>,
) -> Result<Data<SessionOut>, ApiError> {
    let caller = key.caller_with(token.as_ref());
    let mut tx = state.pool.begin().await?;
    let session_id = body.session_id.clone();
    let session = checkout::advance(&mut tx, &caller, &session_id, body.into()).await?;
    tx.commit().await?;
    Ok(Data::new(session.into()))
}

/// Advance a checkout (PUT)
///
/// The same as PATCH.
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/checkout",
    tag = "Checkout",
    params(("siteId" = String, Path), ("X-Customer-Token" = Option<String>, Header, description = "A signed-in customer's access token: the cart or checkout is then that customer's (required to reach a customer's cart with a publishable key).")),
    request_body(content = AdvanceIn),
    security(("bearerAuth" = ["write:checkout"])),
    responses(
        (status = 200, description = "The session in its new state", body = Data<SessionOut>),
        (status = 409, description = "INVALID_TRANSITION, CHECKOUT_EXPIRED, OUT_OF_STOCK, PROMOTION_INVALID, PAYMENT_DECLINED", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn advance_put(
    key: Scoped<WriteCheckout>,
    state: State<AppState>,
    token: Option<CustomerToken>,
    body: Json<AdvanceIn>,
) -> Result<Data<SessionOut>, ApiError> {
    advance(key, state, token, body).await
}
