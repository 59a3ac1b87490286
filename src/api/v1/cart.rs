//! `/cart`: create, read, change and delete carts.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::v1::formats::CustomerId;
use crate::domain::carts::{self, CartAction, NewCart, NewItem};
use crate::domain::pricing::Totals;
use crate::domain::{self, Error};
use crate::http::auth::{ReadCart, WriteCart};
use crate::http::customer::CustomerToken;
use crate::http::{ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, Query, Scoped};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Totals)]
pub struct TotalsOut {
    pub subtotal: i64,
    pub discount: i64,
    pub shipping: i64,
    pub tax: i64,
    pub total: i64,
}

impl From<Totals> for TotalsOut {
    fn from(t: Totals) -> Self {
        TotalsOut {
            subtotal: t.subtotal,
            discount: t.discount,
            shipping: t.shipping,
            tax: t.tax,
            total: t.total,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CartItem)]
pub struct CartItemOut {
    #[schema(example = "ci_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    pub product_id: String,
    pub variant_id: String,
    /// Product and variant name.
    pub name: String,
    pub sku: Option<String>,
    pub quantity: i32,
    /// The catalog price at the time of reading, in minor units.
    pub unit_price: i64,
    pub total: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customizations: Option<CustomizationsOut>,
}

/// How a line is made for its buyer: a fragrance by name or a custom blend (`blendId`, with the blend's
/// name and composition as they were when the line was added), gift wrapping.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = LineCustomizations)]
pub struct CustomizationsOut {
    pub fragrance: Option<String>,
    pub blend_id: Option<String>,
    pub blend_name: Option<String>,
    pub blend_composition: Option<Vec<crate::api::v1::blends::PartOut>>,
    pub gift_wrapped: bool,
    pub gift_message: Option<String>,
}

impl From<carts::Customizations> for CustomizationsOut {
    fn from(c: carts::Customizations) -> Self {
        CustomizationsOut {
            fragrance: c.fragrance,
            blend_id: c.blend_id,
            blend_name: c.blend_name,
            blend_composition: c.blend_composition.map(|parts| {
                parts
                    .into_iter()
                    .map(|p| crate::api::v1::blends::PartOut {
                        id: p.note_id,
                        ratio: crate::api::v1::blends::share(p.ratio),
                    })
                    .collect()
            }),
            gift_wrapped: c.gift_wrapped,
            gift_message: c.gift_message,
        }
    }
}

/// A line's customizations as sent.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = LineCustomizationsInput)]
pub struct CustomizationsIn {
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub fragrance: Option<String>,
    /// A custom blend of the signed-in customer (or a public one).
    pub blend_id: Option<String>,
    #[serde(default)]
    pub gift_wrapped: bool,
    #[schema(max_length = 500)]
    pub gift_message: Option<String>,
}

impl From<CustomizationsIn> for carts::Customizations {
    fn from(c: CustomizationsIn) -> Self {
        carts::Customizations {
            fragrance: c.fragrance,
            blend_id: c.blend_id,
            gift_wrapped: c.gift_wrapped,
            gift_message: c.gift_message,
            ..Default::default()
        }
    }
}

impl From<carts::CartItem> for CartItemOut {
    fn from(i: carts::CartItem) -> Self {
        CartItemOut {
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Cart)]
pub struct CartOut {
    #[schema(example = "cart_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    pub session_id: Option<String>,
    pub customer_id: Option<String>,
    pub currency: String,
    /// ACTIVE, CHECKED_OUT or ABANDONED.
    pub status: String,
    pub promotion_code: Option<String>,
    /// The buyer's note, which becomes the order's.
    pub notes: Option<String>,
    pub items: Vec<CartItemOut>,
    #[serde(flatten)]
    pub totals: TotalsOut,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<carts::Cart> for CartOut {
    fn from(c: carts::Cart) -> Self {
        CartOut {
            id: c.id,
            session_id: c.session_id,
            customer_id: c.customer_id,
            currency: c.currency,
            status: c.status.as_str().to_string(),
            promotion_code: c.promotion_code,
            notes: c.notes,
            items: c.items.into_iter().map(Into::into).collect(),
            totals: c.totals.into(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = NewCart)]
pub struct NewCartIn {
    /// The storefront's session id for a guest.
    #[schema(
        example = "sess_abc123",
        min_length = 1,
        max_length = 255,
        pattern = "\\S"
    )]
    pub session_id: Option<String>,
    /// Must be the site's currency.
    #[schema(example = "EUR")]
    pub currency: String,
    #[schema(value_type = Option<CustomerId>)]
    pub customer_id: Option<String>,
}

impl From<NewCartIn> for NewCart {
    fn from(n: NewCartIn) -> Self {
        NewCart {
            session_id: n.session_id,
            currency: n.currency,
            customer_id: n.customer_id,
        }
    }
}

/// An item to add. `name` and `price` are accepted for compatibility and ignored: prices come from the
/// catalog.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ItemInput)]
pub struct ItemIn {
    /// Product id (or slug).
    pub product_id: String,
    /// The product's default variant when omitted.
    pub variant_id: Option<String>,
    #[schema(example = 2, minimum = 1, maximum = 10000)]
    pub quantity: i32,
    /// How the line is made; a variant added with other customizations is another line.
    pub customizations: Option<CustomizationsIn>,
    /// Ignored.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub name: Option<serde_json::Value>,
    /// Ignored: prices come from the catalog.
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub price: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum ActionKind {
    Add,
    Update,
    Remove,
    ApplyPromotion,
    RemovePromotion,
}

/// The request body of a cart change: `action` and the fields that action needs (`add`: `item`;
/// `update`: `itemId`, `quantity`; `remove`: `itemId`; `applyPromotion`: `code`; a field the action needs
/// but the body lacks is a 422). A flat body (rather than a tagged enum) keeps the failing field's path in
/// errors.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CartActionBody {
    pub action: ActionKind,
    pub item: Option<ItemIn>,
    pub item_id: Option<String>,
    #[schema(minimum = 1, maximum = 10000)]
    pub quantity: Option<i32>,
    pub code: Option<String>,
}

impl TryFrom<CartActionBody> for CartAction {
    type Error = Error;

    fn try_from(b: CartActionBody) -> domain::Result<Self> {
        let required = |field: &str| Error::unprocessable(field, "is required for this action");
        Ok(match b.action {
            ActionKind::Add => {
                let item = b.item.ok_or_else(|| required("item"))?;
                CartAction::Add {
                    item: NewItem {
                        product_id: item.product_id,
                        variant_id: item.variant_id,
                        quantity: item.quantity,
                        customizations: item.customizations.map(Into::into),
                    },
                }
            }
            ActionKind::Update => CartAction::Update {
                item_id: b.item_id.ok_or_else(|| required("item_id"))?,
                quantity: b.quantity.ok_or_else(|| required("quantity"))?,
            },
            ActionKind::Remove => CartAction::Remove {
                item_id: b.item_id.ok_or_else(|| required("item_id"))?,
            },
            ActionKind::ApplyPromotion => CartAction::ApplyPromotion {
                code: b.code.ok_or_else(|| required("code"))?,
            },
            ActionKind::RemovePromotion => CartAction::RemovePromotion,
        })
    }
}

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
    params(("siteId" = String, Path), CartQuery, ("X-Customer-Token" = Option<String>, Header, description = "A signed-in customer's access token: the cart or checkout is then that customer's (required to reach a customer's cart with a publishable key).")),
    security(("bearerAuth" = ["read:cart"])),
    responses((status = 200, description = "The cart", body = Data<CartOut>), CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadCart>,
    State(state): State<AppState>,
    token: Option<CustomerToken>,
    Query(q): Query<CartQuery>,
) -> Result<Data<CartOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let caller = key.caller_with(token.as_ref());
    Ok(Data::new(
        carts::get(&mut conn, &caller, &q.cart_id).await?.into(),
    ))
}

/// Create a cart
///
/// For a guest session or a registered customer. The currency must be the site's. With
/// `X-Customer-Token` (a logged-in customer), the cart belongs to that customer.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/cart",
    tag = "Cart",
    params(("siteId" = String, Path), ("X-Customer-Token" = Option<String>, Header, description = "A signed-in customer's access token: the cart or checkout is then that customer's (required to reach a customer's cart with a publishable key).")),
    request_body(content = NewCartIn, example = json!({"sessionId": "sess_abc123", "currency": "EUR"})),
    security(("bearerAuth" = ["write:cart"])),
    responses((status = 201, description = "The new cart", body = Data<CartOut>), CommonErrors)
)]
pub async fn create(
    key: Scoped<WriteCart>,
    State(state): State<AppState>,
    token: Option<CustomerToken>,
    Json(new): Json<NewCartIn>,
) -> Result<Created<CartOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let caller = key.caller_with(token.as_ref());
    Ok(Created(
        carts::create(&mut conn, &caller, new.into()).await?.into(),
    ))
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
    params(("siteId" = String, Path), CartQuery, ("X-Customer-Token" = Option<String>, Header, description = "A signed-in customer's access token: the cart or checkout is then that customer's (required to reach a customer's cart with a publishable key).")),
    request_body(content = CartActionBody, example = json!({"action": "add", "item": {"productId": "prd_abc", "variantId": "var_s", "quantity": 2}})),
    security(("bearerAuth" = ["write:cart"])),
    responses(
        (status = 200, description = "The updated cart", body = Data<CartOut>),
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
) -> Result<Data<CartOut>, ApiError> {
    let action = CartAction::try_from(body)?;
    let caller = key.caller_with(token.as_ref());
    let mut tx = state.pool.begin().await?;
    let cart = carts::apply(&mut tx, &caller, &q.cart_id, action).await?;
    tx.commit().await?;
    Ok(Data::new(cart.into()))
}

/// Change a cart (PUT)
///
/// The same as PATCH.
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/cart",
    tag = "Cart",
    params(("siteId" = String, Path), CartQuery, ("X-Customer-Token" = Option<String>, Header, description = "A signed-in customer's access token: the cart or checkout is then that customer's (required to reach a customer's cart with a publishable key).")),
    request_body(content = CartActionBody),
    security(("bearerAuth" = ["write:cart"])),
    responses(
        (status = 200, description = "The updated cart", body = Data<CartOut>),
        (status = 409, description = "OUT_OF_STOCK, PROMOTION_INVALID or CART_CLOSED", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn replace(
    key: Scoped<WriteCart>,
    state: State<AppState>,
    token: Option<CustomerToken>,
    q: Query<CartQuery>,
    action: Json<CartActionBody>,
) -> Result<Data<CartOut>, ApiError> {
    update(key, state, token, q, action).await
}

/// Delete a cart
///
/// With its items and the checkout sessions started from it; orders placed from it stay. A publishable key
/// reaches a guest's cart (its unguessable id is the credential) or, with `X-Customer-Token`, its own
/// customer's carts; any other cart answers 404.
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/cart",
    tag = "Cart",
    params(("siteId" = String, Path), CartQuery, ("X-Customer-Token" = Option<String>, Header, description = "A signed-in customer's access token: the cart or checkout is then that customer's (required to reach a customer's cart with a publishable key).")),
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
