//! `/customers/{customerId}/scent-profile`: what a customer likes in a fragrance, which blend
//! recommendations read.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::v1::patch;
use crate::domain::customers::scent::{self, ScentPatch, ScentProfile};
use crate::http::auth::{ReadCustomers, WriteCustomers};
use crate::http::{ApiError, CommonErrors, Data, Json, Path, Scoped};
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ScentProfile)]
pub struct ScentProfileOut {
    #[schema(example = "cust_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub customer_id: String,
    /// Blend category ids.
    pub preferred_categories: Vec<String>,
    #[schema(example = json!(["calm", "fresh"]))]
    pub preferred_moods: Vec<String>,
    /// Blend note ids: recommendations never suggest them.
    pub disliked_note_ids: Vec<String>,
    /// 1 (faint) to 10 (strong).
    #[schema(example = 6, minimum = 1, maximum = 10)]
    pub intensity: Option<i32>,
    #[schema(example = json!(["evening", "office"]))]
    pub occasions: Vec<String>,
    /// `null` until the profile is first saved.
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<ScentProfile> for ScentProfileOut {
    fn from(p: ScentProfile) -> Self {
        ScentProfileOut {
            customer_id: p.customer_id,
            preferred_categories: p.preferred_categories,
            preferred_moods: p.preferred_moods,
            disliked_note_ids: p.disliked_note_ids,
            intensity: p.intensity,
            occasions: p.occasions,
            updated_at: p.updated_at,
        }
    }
}

/// A change to a scent profile: each list given replaces the list.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ScentProfilePatch)]
pub struct ScentProfileIn {
    /// Blend categories by id or slug (stored as ids); each must exist (422).
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, max_items = 20, example = json!(["woody"]))]
    pub preferred_categories: Option<Vec<String>>,
    /// Lower-case words (dashes may join them), 1–50 characters each.
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, max_items = 20, example = json!(["calm"]), value_type = Option<Vec<crate::api::v1::formats::ScentWord>>)]
    pub preferred_moods: Option<Vec<String>>,
    /// Blend note ids; each must exist (422).
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, max_items = 100)]
    pub disliked_note_ids: Option<Vec<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 10, example = 6)]
    pub intensity: Option<Option<i32>>,
    /// Lower-case words, 1–50 characters each; recommendations know `morning`, `office`, `evening`,
    /// `date`, `relaxing`, `sleep`, `party`, `outdoors`, `holiday` and `meditation`.
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, max_items = 20, example = json!(["evening"]), value_type = Option<Vec<crate::api::v1::formats::ScentWord>>)]
    pub occasions: Option<Vec<String>>,
}

impl From<ScentProfileIn> for ScentPatch {
    fn from(p: ScentProfileIn) -> Self {
        ScentPatch {
            preferred_categories: p.preferred_categories,
            preferred_moods: p.preferred_moods,
            disliked_note_ids: p.disliked_note_ids,
            intensity: p.intensity,
            occasions: p.occasions,
        }
    }
}

/// Get a customer's scent profile
///
/// The fragrance categories and moods the customer likes, the notes they dislike, the intensity they
/// prefer and their occasions; empty lists (and `updatedAt: null`) until it is first saved.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/customers/{customerId}/scent-profile",
    tag = "Customers",
    params(("siteId" = String, Path), ("customerId" = String, Path)),
    security(("bearerAuth" = ["read:customers"])),
    responses((status = 200, description = "The scent profile", body = Data<ScentProfileOut>), CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadCustomers>,
    State(state): State<AppState>,
    Path((_site, customer_id)): Path<(String, String)>,
) -> Result<Data<ScentProfileOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let found = scent::get_for(&mut conn, &key.caller(), &customer_id).await?;
    Ok(Data::new(found.into()))
}

/// Update a customer's scent profile
///
/// The fields given (a list replaces the list; `intensity: null` clears it). Categories (by id or slug)
/// and disliked notes must be the catalogue's (422); moods and occasions are at most 20 lower-case words
/// each.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/customers/{customerId}/scent-profile",
    tag = "Customers",
    params(("siteId" = String, Path), ("customerId" = String, Path)),
    request_body(content = ScentProfileIn, example = json!({"preferredCategories": ["woody"], "preferredMoods": ["calm"], "intensity": 6, "occasions": ["evening"]})),
    security(("bearerAuth" = ["write:customers"])),
    responses((status = 200, description = "The scent profile", body = Data<ScentProfileOut>), CommonErrors)
)]
pub async fn update(
    key: Scoped<WriteCustomers>,
    State(state): State<AppState>,
    Path((_site, customer_id)): Path<(String, String)>,
    Json(input): Json<ScentProfileIn>,
) -> Result<Data<ScentProfileOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let found = scent::update(&mut conn, &key.caller(), &customer_id, input.into()).await?;
    Ok(Data::new(found.into()))
}
