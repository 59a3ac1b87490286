//! `/cart`: create, read, change and delete carts.

use axum::extract::State;
use serde::Deserialize;

use crate::domain::carts::{self, Cart, CartAction, CartActionBody, NewCart};
use crate::http::auth::{ReadCart, WriteCart};
use crate::http::customer::CustomerToken;
use crate::http::{ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, Query, Scoped};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct CartQuery {
    /// The cart id.
    cart_id: String,
}

/// Get a cart
///
/// With its items at current catalog prices and its totals.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/cart",
    tag = "Cart",
    params(("siteId" = String, Path), CartQuery),
    security(("bearerAuth" = ["read:cart"])),
    responses((status = 200, description = "The cart", body = Data<Cart>), CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadCart>,
    State(state): State<AppState>,
    token: Option<CustomerToken>,
    Query(q): Query<CartQuery>,
) -> Result<Data<Cart>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let caller = key.caller_with(token.as_ref());
    Ok(Data::new(carts::get(&mut conn, &caller, &q.cart_id).await?))
}

/// Create a cart
///
/// For a guest session or a registered customer. The currency must be the site's. With
/// `X-Customer-Token` (a logged-in customer), the cart belongs to that customer.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/cart",
    tag = "Cart",
    params(("siteId" = String, Path)),
    request_body(content = NewCart, example = json!({"sessionId": "sess_abc123", "currency": "EUR"})),
    security(("bearerAuth" = ["write:cart"])),
    responses((status = 201, description = "The new cart", body = Data<Cart>), CommonErrors)
)]
pub async fn create(
    key: Scoped<WriteCart>,
    State(state): State<AppState>,
    token: Option<CustomerToken>,
    Json(new): Json<NewCart>,
) -> Result<Created<Cart>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let caller = key.caller_with(token.as_ref());
    Ok(Created(carts::create(&mut conn, &caller, new).await?))
}

/// Change a cart
///
/// `add` an item (prices in the body are ignored: they come from the catalog), `update` an item's quantity,
/// `remove` an item, `applyPromotion` or `removePromotion`. Adding more than is available (without
/// backorders) is a 409 `OUT_OF_STOCK`. PUT and PATCH behave the same.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/cart",
    tag = "Cart",
    params(("siteId" = String, Path), CartQuery),
    request_body(content = CartActionBody, example = json!({"action": "add", "item": {"productId": "prd_abc", "variantId": "var_s", "quantity": 2}})),
    security(("bearerAuth" = ["write:cart"])),
    responses(
        (status = 200, description = "The updated cart", body = Data<Cart>),
        (status = 409, description = "OUT_OF_STOCK, PROMOTION_INVALID or CART_CLOSED", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn update(
    key: Scoped<WriteCart>,
    State(state): State<AppState>,
    token: Option<CustomerToken>,
    Query(q): Query<CartQuery>,
    Json(body): Json<CartActionBody>,
) -> Result<Data<Cart>, ApiError> {
    let action = CartAction::try_from(body)?;
    let caller = key.caller_with(token.as_ref());
    let mut tx = state.pool.begin().await?;
    let cart = carts::apply(&mut tx, &caller, &q.cart_id, action).await?;
    tx.commit().await?;
    Ok(Data::new(cart))
}

/// Change a cart (PUT)
///
/// The same as PATCH.
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/cart",
    tag = "Cart",
    params(("siteId" = String, Path), CartQuery),
    request_body(content = CartActionBody),
    security(("bearerAuth" = ["write:cart"])),
    responses((status = 200, description = "The updated cart", body = Data<Cart>), CommonErrors)
)]
pub async fn replace(
    key: Scoped<WriteCart>,
    state: State<AppState>,
    token: Option<CustomerToken>,
    q: Query<CartQuery>,
    action: Json<CartActionBody>,
) -> Result<Data<Cart>, ApiError> {
    update(key, state, token, q, action).await
}

/// Delete a cart
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/cart",
    tag = "Cart",
    params(("siteId" = String, Path), CartQuery),
    security(("bearerAuth" = ["write:cart"])),
    responses((status = 200, description = "Deleted", body = Deleted), CommonErrors)
)]
pub async fn delete(
    key: Scoped<WriteCart>,
    State(state): State<AppState>,
    token: Option<CustomerToken>,
    Query(q): Query<CartQuery>,
) -> Result<Deleted, ApiError> {
    let mut conn = state.pool.acquire().await?;
    carts::delete(&mut conn, &key.caller_with(token.as_ref()), &q.cart_id).await?;
    Ok(Deleted::new())
}
