//! `/api/cart`: the signed-in customer's own cart (its latest active cart, made on first use), checked out
//! through the native checkout: 409 when an item is out of stock, 422 for a discount code that does not
//! apply.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::errors::MnError;
use super::orders::{CustomizationsIn, PlacementIn, customizations};
use super::{Identity, Path, body, data, shapes};
use crate::compat::money::major_units as money;
use crate::domain;
use crate::domain::carts::{self, Cart, CartAction, NewItem};
use crate::state::AppState;

fn cart_out(c: &Cart) -> Value {
    let items: Vec<Value> = c
        .items
        .iter()
        .map(|i| {
            let customizations = i.customizations.as_ref().map(|c| {
                let custom = c.blend_id.is_some();
                json!({
                    "fragrance": if custom { Some("custom") } else { c.fragrance.as_deref() },
                    "fragranceId": c.blend_id,
                    "fragranceName": if custom { c.blend_name.as_deref() } else { c.fragrance.as_deref() },
                    "giftWrapped": c.gift_wrapped,
                    "giftMessage": c.gift_message,
                })
            });
            json!({
                "id": i.id,
                "productId": i.product_id,
                "variantId": i.variant_id,
                "name": i.name,
                "sku": i.sku,
                "quantity": i.quantity,
                "price": money(i.unit_price),
                "total": money(i.total),
                "customizations": customizations,
            })
        })
        .collect();
    let discounts: Vec<Value> = c
        .promotion_code
        .iter()
        .map(|code| json!({"code": code, "amount": money(c.totals.discount)}))
        .collect();
    json!({
        "id": c.id,
        "currency": c.currency,
        "items": items,
        "itemCount": c.items.iter().map(|i| i64::from(i.quantity)).sum::<i64>(),
        "discounts": discounts,
        "notes": c.notes,
        "subtotal": money(c.totals.subtotal),
        "discount": money(c.totals.discount),
        "shipping": money(c.totals.shipping),
        "tax": money(c.totals.tax),
        "total": money(c.totals.total),
        "createdAt": c.created_at,
        "updatedAt": c.updated_at,
    })
}

/// Applies `action` to the customer's cart in one transaction and answers the cart.
async fn change(
    identity: &Identity,
    state: &AppState,
    action: CartAction,
) -> Result<Json<Value>, MnError> {
    identity.customer()?;
    let caller = identity.caller();
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    let cart = carts::current(&mut tx, &caller).await?;
    let cart = carts::apply(&mut tx, &caller, &cart.id, action).await?;
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(data(cart_out(&cart)))
}

pub async fn get(
    identity: Identity,
    State(state): State<AppState>,
) -> Result<Json<Value>, MnError> {
    identity.customer()?;
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    let cart = carts::current(&mut tx, &identity.caller()).await?;
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(data(cart_out(&cart)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemIn {
    product_id: String,
    variant_id: Option<String>,
    quantity: i32,
    customizations: Option<CustomizationsIn>,
}

pub async fn add_item(
    identity: Identity,
    State(state): State<AppState>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Value>), MnError> {
    let input: ItemIn = body(&bytes)?;
    let action = CartAction::Add {
        item: NewItem {
            product_id: input.product_id,
            variant_id: input.variant_id,
            quantity: input.quantity,
            customizations: customizations(input.customizations)?,
        },
    };
    Ok((
        StatusCode::CREATED,
        change(&identity, &state, action).await?,
    ))
}

#[derive(Deserialize)]
pub struct QuantityIn {
    quantity: i32,
}

pub async fn update_item(
    identity: Identity,
    State(state): State<AppState>,
    Path((_, item_id)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<Value>, MnError> {
    let input: QuantityIn = body(&bytes)?;
    let action = if input.quantity == 0 {
        CartAction::Remove { item_id }
    } else {
        CartAction::Update {
            item_id,
            quantity: input.quantity,
        }
    };
    change(&identity, &state, action).await
}

pub async fn remove_item(
    identity: Identity,
    State(state): State<AppState>,
    Path((_, item_id)): Path<(String, String)>,
) -> Result<Json<Value>, MnError> {
    change(&identity, &state, CartAction::Remove { item_id }).await
}

#[derive(Deserialize)]
pub struct CodeIn {
    code: String,
}

/// A code that does not apply is a 422 `INVALID_DISCOUNT_CODE`.
pub async fn apply_discount(
    identity: Identity,
    State(state): State<AppState>,
    bytes: Bytes,
) -> Result<Json<Value>, MnError> {
    let input: CodeIn = body(&bytes)?;
    let code = input.code.trim().to_string();
    if code.is_empty() {
        return Err(MnError::invalid("code", "is required"));
    }
    change(&identity, &state, CartAction::ApplyPromotion { code }).await
}

pub async fn remove_discount(
    identity: Identity,
    State(state): State<AppState>,
    Path((_, code)): Path<(String, String)>,
) -> Result<Json<Value>, MnError> {
    identity.customer()?;
    let caller = identity.caller();
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    let cart = carts::current(&mut tx, &caller).await?;
    let applied = cart
        .promotion_code
        .as_deref()
        .is_some_and(|c| c.eq_ignore_ascii_case(code.trim()));
    if !applied {
        return Err(MnError::not_found("discount code"));
    }
    let cart = carts::apply(&mut tx, &caller, &cart.id, CartAction::RemovePromotion).await?;
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(data(cart_out(&cart)))
}

#[derive(Deserialize)]
pub struct NotesIn {
    notes: Option<String>,
}

pub async fn set_notes(
    identity: Identity,
    State(state): State<AppState>,
    bytes: Bytes,
) -> Result<Json<Value>, MnError> {
    let input: NotesIn = body(&bytes)?;
    change(
        &identity,
        &state,
        CartAction::SetNotes { notes: input.notes },
    )
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EstimateIn {
    country: String,
    #[allow(dead_code)]
    postal_code: Option<String>,
}

/// The native shipping methods serving the country, with what each would cost for this cart.
pub async fn shipping_estimates(
    identity: Identity,
    State(state): State<AppState>,
    bytes: Bytes,
) -> Result<Json<Value>, MnError> {
    identity.customer()?;
    let input: EstimateIn = body(&bytes)?;
    let caller = identity.caller();
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    let cart = carts::current(&mut tx, &caller).await?;
    let estimates = carts::shipping_estimates(&mut tx, &caller, &cart.id, &input.country).await?;
    tx.commit().await.map_err(domain::Error::from)?;
    let estimates: Vec<Value> = estimates
        .into_iter()
        .map(|(m, price)| {
            json!({"id": m.id, "code": m.code, "name": m.name, "price": money(price),
                "currency": cart.currency})
        })
        .collect();
    Ok(data(json!({ "estimates": estimates })))
}

/// Places the cart as an order through the native checkout, in one transaction.
pub async fn checkout(
    identity: Identity,
    State(state): State<AppState>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Value>), MnError> {
    identity.customer()?;
    let placement: PlacementIn = if bytes.iter().all(u8::is_ascii_whitespace) {
        PlacementIn::default()
    } else {
        body(&bytes)?
    };
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    let cart = carts::current(&mut tx, &identity.caller()).await?;
    let order = super::orders::place(&mut tx, &state, &identity, &cart.id, placement).await?;
    tx.commit().await.map_err(domain::Error::from)?;
    Ok((StatusCode::CREATED, data(shapes::order(&order))))
}
