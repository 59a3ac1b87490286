//! `/cart`: create, read, change and delete carts.

use axum::extract::State;
use serde::Deserialize;

use crate::app::AppState;
use crate::domain;
use crate::domain::carts::{self, Cart, CartAction, CartActionBody, NewCart};
use crate::http::AuthContext;
use crate::http::auth::{ReadCart, WriteCart};
use crate::http::customer::{self, CustomerToken};
use crate::http::{ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, Query, Scoped};

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
    let cart = carts::get(&mut conn, key.site_id(), &q.cart_id).await?;
    if !customer::may_access(&key.auth, token.as_ref(), cart.customer_id.as_deref()) {
        return Err(domain::Error::NotFound("cart").into());
    }
    Ok(Data::new(cart))
}

/// Refuses a publishable key another customer's cart (as if it did not exist).
async fn check_access(
    conn: &mut domain::Conn,
    auth: &AuthContext,
    token: Option<&CustomerToken>,
    site_id: &str,
    cart_id: &str,
) -> Result<(), ApiError> {
    if auth.is_publishable() {
        let owner = carts::owner(conn, site_id, cart_id).await?;
        if !customer::may_access(auth, token, owner.as_deref()) {
            return Err(domain::Error::NotFound("cart").into());
        }
    }
    Ok(())
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
    Json(mut new): Json<NewCart>,
) -> Result<Created<Cart>, ApiError> {
    new.customer_id = CustomerToken::customer_for(token.as_ref(), new.customer_id)?;
    let mut conn = state.pool.acquire().await?;
    Ok(Created(carts::create(&mut conn, key.site_id(), new).await?))
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
    let mut tx = state.pool.begin().await?;
    check_access(
        &mut tx,
        &key.auth,
        token.as_ref(),
        key.site_id(),
        &q.cart_id,
    )
    .await?;
    let action = CartAction::try_from(body)?;
    let cart = carts::apply(&mut tx, key.site_id(), &q.cart_id, action).await?;
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
    check_access(
        &mut conn,
        &key.auth,
        token.as_ref(),
        key.site_id(),
        &q.cart_id,
    )
    .await?;
    carts::delete(&mut conn, key.site_id(), &q.cart_id).await?;
    Ok(Deleted::new())
}
