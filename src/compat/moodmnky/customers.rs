//! `/api/customers/*`: the signed-in customer's profile, addresses, orders, scent profile and loyalty.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::errors::MnError;
use super::fields::{flag, object, required, strings, text};
use super::orders::{ListQuery, page_of};
use super::{Identity, Path, Query, data, shapes};
use crate::domain;
use crate::domain::balances::loyalty;
use crate::domain::customers::addresses::{self, AddressInput, AddressPatch};
use crate::domain::customers::profiles::{self, CustomerPatch};
use crate::domain::customers::scent::{self, ScentPatch, ScentProfile};
use crate::state::AppState;

pub async fn profile(
    identity: Identity,
    State(state): State<AppState>,
) -> Result<Json<Value>, MnError> {
    let customer_id = identity.customer()?;
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let customer = profiles::get(&mut conn, &identity.site_id, customer_id).await?;
    Ok(data(shapes::customer(&customer)))
}

/// Names, phone, marketing consent and preferences; the email is changed by the operator.
pub async fn update_profile(
    identity: Identity,
    State(state): State<AppState>,
    bytes: Bytes,
) -> Result<Json<Value>, MnError> {
    let customer_id = identity.customer()?;
    let map = object(&bytes)?;
    if map.contains_key("email") {
        return Err(MnError::invalid("email", "cannot be changed here"));
    }
    let preferences = match map.get("preferences") {
        None | Some(Value::Null) => None,
        Some(Value::Object(p)) => Some(p.clone()),
        Some(_) => return Err(MnError::invalid("preferences", "must be an object")),
    };
    let patch = CustomerPatch {
        first_name: text(&map, "firstName")?,
        last_name: text(&map, "lastName")?,
        phone: text(&map, "phone")?,
        accepts_marketing: flag(&map, "acceptsMarketing")?,
        preferences,
        ..Default::default()
    };
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    let customer = profiles::update(&mut tx, &identity.site_id, customer_id, patch).await?;
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(data(shapes::customer(&customer)))
}

pub async fn addresses(
    identity: Identity,
    State(state): State<AppState>,
) -> Result<Json<Value>, MnError> {
    let customer_id = identity.customer()?;
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let list = addresses::list(&mut conn, &identity.site_id, customer_id).await?;
    let list: Vec<Value> = list.iter().map(shapes::address).collect();
    Ok(data(Value::Array(list)))
}

pub async fn add_address(
    identity: Identity,
    State(state): State<AppState>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Value>), MnError> {
    let customer_id = identity.customer()?;
    let map = object(&bytes)?;
    let input = AddressInput {
        first_name: text(&map, "firstName")?.flatten(),
        last_name: text(&map, "lastName")?.flatten(),
        company: text(&map, "company")?.flatten(),
        line1: required(&map, "address1")?,
        line2: text(&map, "address2")?.flatten(),
        city: required(&map, "city")?,
        province: text(&map, "state")?.flatten(),
        postal_code: text(&map, "postalCode")?.flatten(),
        country: required(&map, "country")?,
        phone: text(&map, "phone")?.flatten(),
        is_default: flag(&map, "isDefault")?,
    };
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    let address = addresses::create(&mut tx, &identity.site_id, customer_id, input).await?;
    tx.commit().await.map_err(domain::Error::from)?;
    Ok((StatusCode::CREATED, data(shapes::address(&address))))
}

pub async fn update_address(
    identity: Identity,
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<Value>, MnError> {
    let customer_id = identity.customer()?;
    let map = object(&bytes)?;
    let patch = AddressPatch {
        first_name: text(&map, "firstName")?,
        last_name: text(&map, "lastName")?,
        company: text(&map, "company")?,
        line1: text(&map, "address1")?.flatten(),
        line2: text(&map, "address2")?,
        city: text(&map, "city")?.flatten(),
        province: text(&map, "state")?,
        postal_code: text(&map, "postalCode")?,
        country: text(&map, "country")?.flatten(),
        phone: text(&map, "phone")?,
        is_default: flag(&map, "isDefault")?,
    };
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    let address = addresses::update(&mut tx, &identity.site_id, customer_id, &id, patch).await?;
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(data(shapes::address(&address)))
}

pub async fn delete_address(
    identity: Identity,
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, MnError> {
    let customer_id = identity.customer()?;
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    addresses::delete(&mut tx, &identity.site_id, customer_id, &id).await?;
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(data(json!({"success": true, "id": id})))
}

pub async fn orders(
    identity: Identity,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, MnError> {
    identity.customer()?;
    page_of(&state, &identity.caller(), q).await
}

/// The customer's standing in the native loyalty program: points, tier, the next tier and the latest
/// transactions.
pub async fn loyalty(
    identity: Identity,
    State(state): State<AppState>,
) -> Result<Json<Value>, MnError> {
    let customer_id = identity.customer()?;
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let account = loyalty::account(&mut conn, &identity.caller(), customer_id).await?;
    let transactions: Vec<Value> = account
        .recent
        .iter()
        .map(|t| {
            json!({"id": t.id, "type": t.kind.to_lowercase(), "points": t.points,
                "balance": t.points_after, "description": t.note, "orderId": t.order_id,
                "createdAt": t.created_at})
        })
        .collect();
    let next_tier = account
        .next_tier
        .map(|(name, needed)| json!({"name": name, "pointsNeeded": needed}));
    Ok(data(json!({
        "tier": account.tier,
        "points": account.points,
        "lifetimePoints": account.lifetime_points,
        "nextTier": next_tier,
        "transactions": transactions,
    })))
}

fn scent_out(p: &ScentProfile) -> Value {
    json!({
        "preferredCategories": p.preferred_categories,
        "preferredMoods": p.preferred_moods,
        "dislikedNotes": p.disliked_note_ids,
        "intensity": p.intensity,
        "occasions": p.occasions,
        "updatedAt": p.updated_at,
    })
}

pub async fn scent_profile(
    identity: Identity,
    State(state): State<AppState>,
) -> Result<Json<Value>, MnError> {
    let customer_id = identity.customer()?;
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let profile = scent::get_for(&mut conn, &identity.caller(), customer_id).await?;
    Ok(data(scent_out(&profile)))
}

/// Moods or occasions: `null` clears the list.
fn words(map: &Map<String, Value>, field: &str) -> Result<Option<Vec<String>>, MnError> {
    match map.get(field) {
        Some(Value::Null) => Ok(Some(Vec::new())),
        _ => strings(map, field),
    }
}

pub async fn update_scent_profile(
    identity: Identity,
    State(state): State<AppState>,
    bytes: Bytes,
) -> Result<Json<Value>, MnError> {
    let customer_id = identity.customer()?;
    let map = object(&bytes)?;
    let intensity = match map.get("intensity") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(v) => Some(Some(
            v.as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| MnError::invalid("intensity", "must be an integer from 1 to 10"))?,
        )),
    };
    let patch = ScentPatch {
        preferred_categories: words(&map, "preferredCategories")?,
        preferred_moods: words(&map, "preferredMoods")?,
        disliked_note_ids: words(&map, "dislikedNotes")?,
        intensity,
        occasions: words(&map, "occasions")?,
    };
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let profile = scent::update(&mut conn, &identity.caller(), customer_id, patch).await?;
    Ok(data(scent_out(&profile)))
}
