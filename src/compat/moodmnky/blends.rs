//! `/api/custom-blends`: the fragrance catalogue (anyone may read it) and the signed-in customer's blends:
//! `{name, description, isPublic, composition{notes[{id,ratio}], baseIntensity}, profile{…}}`, ratios as
//! decimal numbers summing to 1.0 (exact to millionths, never a float in between).

use std::str::FromStr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Number, Value, json};

use super::errors::MnError;
use super::{Identity, Path, Query, body, data};
use crate::domain;
use crate::domain::blends::notes::{self, BlendCategory, Note};
use crate::domain::blends::{self, Blend, BlendPatch, NewBlend, Part, Profile, RecommendFilter};
use crate::state::AppState;

/// Millionths as a decimal number (`250000` → `0.25`).
pub fn ratio(millionths: i64) -> Value {
    Number::from_str(&blends::ratio_decimal(millionths))
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

fn category_out(c: &BlendCategory) -> Value {
    json!({"id": c.id, "name": c.name, "slug": c.slug, "description": c.description})
}

fn note_out(n: &Note) -> Value {
    json!({
        "id": n.id,
        "name": n.name,
        "category": n.category_id,
        "description": n.description,
        "intensity": n.intensity,
        "volatility": n.volatility.as_str(),
        "mood": n.mood,
        "complementaryNotes": n.complementary_note_ids,
    })
}

fn shares(list: &[(String, i64)]) -> Vec<Value> {
    list.iter()
        .map(|(name, share)| json!({"name": name, "share": ratio(*share)}))
        .collect()
}

fn notes_out(parts: &[Part]) -> Vec<Value> {
    parts
        .iter()
        .map(|p| json!({"id": p.note_id, "ratio": ratio(p.ratio)}))
        .collect()
}

fn profile_out(profile: &Profile) -> Value {
    json!({
        "categories": shares(&profile.categories),
        "mood": shares(&profile.moods),
        "intensity": profile.intensity,
    })
}

pub(super) fn blend_out(b: &Blend) -> Value {
    let notes = notes_out(&b.composition);
    json!({
        "id": b.id,
        "customerId": b.customer_id,
        "name": b.name,
        "description": b.description,
        "isPublic": b.is_public,
        "composition": {"notes": notes, "baseIntensity": b.base_intensity},
        "profile": profile_out(&b.profile),
        "createdAt": b.created_at,
        "updatedAt": b.updated_at,
    })
}

pub async fn categories(
    identity: Identity,
    State(state): State<AppState>,
) -> Result<Json<Value>, MnError> {
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let list = notes::categories(&mut conn, &identity.caller()).await?;
    Ok(data(Value::Array(list.iter().map(category_out).collect())))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotesQuery {
    category: Option<String>,
    search_term: Option<String>,
}

pub async fn notes(
    identity: Identity,
    State(state): State<AppState>,
    Query(q): Query<NotesQuery>,
) -> Result<Json<Value>, MnError> {
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let list = notes::notes(
        &mut conn,
        &identity.caller(),
        q.category.as_deref().filter(|c| !c.is_empty()),
        q.search_term.as_deref().filter(|s| !s.trim().is_empty()),
    )
    .await?;
    Ok(data(Value::Array(list.iter().map(note_out).collect())))
}

#[derive(Deserialize)]
pub struct ListQuery {
    public: Option<bool>,
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    page: Option<i64>,
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    limit: Option<i64>,
}

/// The customer's own blends; with `public=true`, every customer's public blends, newest first.
pub async fn list(
    identity: Identity,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, MnError> {
    let customer_id = identity.customer()?;
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    if q.public == Some(true) {
        let page = super::page_request(q.page, q.limit, 20, 100)?;
        let found = blends::list_public(&mut conn, &identity.caller(), &page).await?;
        let items: Vec<Value> = found.items.iter().map(blend_out).collect();
        return Ok(Json(
            json!({"data": items, "pagination": super::pagination(&found.info)}),
        ));
    }
    let list = blends::list(&mut conn, &identity.caller(), Some(customer_id)).await?;
    Ok(data(Value::Array(list.iter().map(blend_out).collect())))
}

#[derive(Deserialize)]
pub struct PartIn {
    id: String,
    ratio: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompositionIn {
    notes: Vec<PartIn>,
    base_intensity: Option<i32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlendIn {
    name: String,
    description: Option<String>,
    #[serde(default)]
    is_public: bool,
    composition: CompositionIn,
}

/// Ratios as sent (numbers or numeric strings) as millionths, exactly.
fn parts(notes: Vec<PartIn>) -> Result<Vec<Part>, MnError> {
    notes
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let text = match &p.ratio {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                _ => String::new(),
            };
            let ratio = blends::parse_ratio(&text).ok_or_else(|| {
                MnError::invalid(
                    &format!("composition.notes[{i}].ratio"),
                    "must be a number greater than 0 and at most 1",
                )
            })?;
            Ok(Part {
                note_id: p.id,
                ratio,
            })
        })
        .collect()
}

pub async fn create(
    identity: Identity,
    State(state): State<AppState>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Value>), MnError> {
    let customer_id = identity.customer()?.to_string();
    let input: BlendIn = body(&bytes)?;
    let new = NewBlend {
        name: input.name,
        description: input.description,
        is_public: input.is_public,
        base_intensity: input.composition.base_intensity,
        composition: parts(input.composition.notes)?,
    };
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let blend = blends::create(&mut conn, &identity.caller(), &customer_id, new).await?;
    Ok((StatusCode::CREATED, data(blend_out(&blend))))
}

pub async fn get(
    identity: Identity,
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, MnError> {
    let customer_id = identity.customer()?;
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let blend = blends::get_visible(&mut conn, &identity.caller(), Some(customer_id), &id).await?;
    Ok(data(blend_out(&blend)))
}

pub async fn delete(
    identity: Identity,
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, MnError> {
    let customer_id = identity.customer()?;
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    blends::delete(&mut conn, &identity.caller(), customer_id, &id).await?;
    Ok(Json(
        json!({"success": true, "message": "Blend successfully deleted", "id": id}),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompositionPatchIn {
    notes: Option<Vec<PartIn>>,
    #[serde(default, deserialize_with = "present")]
    base_intensity: Option<Option<i32>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlendPatchIn {
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
    is_public: Option<bool>,
    composition: Option<CompositionPatchIn>,
}

/// A field that is present, even as `null` (`Some(None)`), apart from one left out (`None`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

pub async fn update(
    identity: Identity,
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<Value>, MnError> {
    let customer_id = identity.customer()?;
    let input: BlendPatchIn = body(&bytes)?;
    let (notes, base_intensity) = match input.composition {
        Some(c) => (c.notes.map(parts).transpose()?, c.base_intensity),
        None => (None, None),
    };
    let patch = BlendPatch {
        name: input.name,
        description: input.description,
        is_public: input.is_public,
        base_intensity,
        composition: notes,
    };
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let blend = blends::update(&mut conn, &identity.caller(), customer_id, &id, patch).await?;
    Ok(data(blend_out(&blend)))
}

#[derive(Deserialize)]
pub struct RecommendQuery {
    category: Option<String>,
    mood: Option<String>,
    occasion: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    limit: Option<i64>,
}

/// Suggested blends from the catalogue's note data and, for a signed-in customer, its scent profile:
/// the same request gives the same answer.
pub async fn recommendations(
    identity: Identity,
    State(state): State<AppState>,
    Query(q): Query<RecommendQuery>,
) -> Result<Json<Value>, MnError> {
    let limit = usize::try_from(q.limit.unwrap_or(5))
        .map_err(|_| MnError::invalid("limit", "must be a positive number"))?;
    let filter = RecommendFilter {
        category: q.category.filter(|c| !c.is_empty()),
        mood: q.mood.filter(|m| !m.is_empty()),
        occasion: q.occasion.filter(|o| !o.is_empty()),
    };
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let found = blends::recommend(&mut conn, &identity.caller(), None, filter, limit).await?;
    let list: Vec<Value> = found
        .iter()
        .map(|r| {
            json!({
                "name": r.name,
                "composition": {"notes": notes_out(&r.composition)},
                "profile": profile_out(&r.profile),
                "score": r.score,
                "reasons": r.reasons,
            })
        })
        .collect();
    Ok(data(Value::Array(list)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestProductIn {
    product_id: String,
}

/// How well a blend suits a product, by the documented rules of `domain::blends::compatibility`.
pub async fn test_product(
    identity: Identity,
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<Value>, MnError> {
    let customer_id = identity.customer()?;
    let input: TestProductIn = body(&bytes)?;
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let result = blends::test_product(
        &mut conn,
        &identity.caller(),
        Some(customer_id),
        &id,
        &input.product_id,
    )
    .await?;
    let rules: Vec<Value> = result
        .rules
        .iter()
        .map(|r| {
            json!({"rule": r.rule, "passed": r.passed, "severity": r.severity.as_str(),
                "penalty": r.penalty, "message": r.message})
        })
        .collect();
    Ok(data(json!({
        "blendId": result.blend_id,
        "productId": result.product_id,
        "productType": result.product_type,
        "score": result.score,
        "compatible": result.compatible,
        "rules": rules,
    })))
}
