//! `/checkout`: the checkout state machine.

use axum::extract::State;
use serde::Deserialize;

use crate::domain::checkout::{
    self, Address, Contact, PaymentChoice, PaymentMethod, Session, ShippingChoice, Step,
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

/// A request to move the session to `state`, with that state's data.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = Advance)]
pub struct AdvanceIn {
    pub session_id: String,
    pub state: checkout::State,
    /// contact
    pub email: Option<String>,
    pub phone: Option<String>,
    pub customer_id: Option<String>,
    /// shipping
    pub shipping_address: Option<Address>,
    pub shipping_method_id: Option<String>,
    /// payment
    pub payment_method: Option<PaymentMethod>,
    /// For `test` payments: `tok_chargeDeclined` is declined, anything else succeeds.
    pub payment_token: Option<String>,
    pub gift_card_codes: Option<Vec<String>>,
    pub store_credit_amount: Option<i64>,
    pub loyalty_points: Option<i64>,
}

impl From<AdvanceIn> for Step {
    /// The fields of the target state; others are ignored, as the flat body always allowed.
    fn from(a: AdvanceIn) -> Step {
        match a.state {
            checkout::State::Init => Step::Init,
            checkout::State::Contact => Step::Contact(Contact {
                email: a.email,
                phone: a.phone,
                customer_id: a.customer_id,
            }),
            checkout::State::Shipping => Step::Shipping(ShippingChoice {
                address: a.shipping_address,
                method_id: a.shipping_method_id,
            }),
            checkout::State::Payment => Step::Payment(PaymentChoice {
                method: a.payment_method,
                token: a.payment_token,
                gift_card_codes: a.gift_card_codes.unwrap_or_default(),
                store_credit_amount: a.store_credit_amount,
                loyalty_points: a.loyalty_points,
            }),
            checkout::State::Review => Step::Review,
            checkout::State::Complete => Step::Complete,
        }
    }
}

/// Get a checkout session
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/checkout",
    tag = "Checkout",
    params(("siteId" = String, Path), SessionQuery),
    security(("bearerAuth" = ["read:checkout"])),
    responses((status = 200, description = "The session", body = Data<Session>), CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadCheckout>,
    State(state): State<AppState>,
    token: Option<CustomerToken>,
    Query(q): Query<SessionQuery>,
) -> Result<Data<Session>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let caller = key.caller_with(token.as_ref());
    Ok(Data::new(
        checkout::get(&mut conn, &caller, &q.session_id).await?,
    ))
}

/// Start a checkout
///
/// From an active cart with items; the session starts in `init` and expires after the configured time.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/checkout",
    tag = "Checkout",
    params(("siteId" = String, Path)),
    request_body(content = StartCheckout, example = json!({"cartId": "cart_xyz"})),
    security(("bearerAuth" = ["write:checkout"])),
    responses(
        (status = 201, description = "The new session", body = Data<Session>),
        (status = 409, description = "CART_EMPTY or CART_CLOSED", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn start(
    key: Scoped<WriteCheckout>,
    State(state): State<AppState>,
    token: Option<CustomerToken>,
    Json(body): Json<StartCheckout>,
) -> Result<Created<Session>, ApiError> {
    let ttl = chrono::Duration::minutes(i64::from(state.config.checkout_ttl_minutes));
    let mut conn = state.pool.acquire().await?;
    let caller = key.caller_with(token.as_ref());
    let session = checkout::start(&mut conn, &caller, &body.cart_id, ttl).await?;
    Ok(Created(session))
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
    params(("siteId" = String, Path)),
    request_body(content = AdvanceIn, example = json!({"sessionId": "cs_abc", "state": "contact", "email": "jane@example.com"})),
    security(("bearerAuth" = ["write:checkout"])),
    responses(
        (status = 200, description = "The session in its new state", body = Data<Session>),
        (status = 409, description = "INVALID_TRANSITION, CHECKOUT_EXPIRED, OUT_OF_STOCK, PROMOTION_INVALID, PAYMENT_DECLINED", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn advance(
    key: Scoped<WriteCheckout>,
    State(state): State<AppState>,
    token: Option<CustomerToken>,
    Json(body): Json<AdvanceIn>,
) -> Result<Data<Session>, ApiError> {
    let caller = key.caller_with(token.as_ref());
    let mut tx = state.pool.begin().await?;
    let session_id = body.session_id.clone();
    let session = checkout::advance(&mut tx, &caller, &session_id, body.into()).await?;
    tx.commit().await?;
    Ok(Data::new(session))
}

/// Advance a checkout (PUT)
///
/// The same as PATCH.
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/checkout",
    tag = "Checkout",
    params(("siteId" = String, Path)),
    request_body(content = AdvanceIn),
    security(("bearerAuth" = ["write:checkout"])),
    responses((status = 200, description = "The session in its new state", body = Data<Session>), CommonErrors)
)]
pub async fn advance_put(
    key: Scoped<WriteCheckout>,
    state: State<AppState>,
    token: Option<CustomerToken>,
    body: Json<AdvanceIn>,
) -> Result<Data<Session>, ApiError> {
    advance(key, state, token, body).await
}
