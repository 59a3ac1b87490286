//! `/blend-categories`, `/blend-notes` and `/blends`: the fragrance catalogue customers compose custom
//! blends from, the blends they made, public blends, recommendations and product tests.

use std::str::FromStr;

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::wire::wire_enum;
use crate::api::v1::patch;
use crate::domain::blends::notes::{self, BlendCategory, NewCategory, Note, NoteInput};
use crate::domain::blends::{
    self, Blend, BlendPatch, Compatibility, Part, Profile, RecommendFilter, Recommendation,
};
use crate::http::auth::{ReadCatalog, ReadCustomers, WriteCatalog, WriteCustomers};
use crate::http::customer::CustomerToken;
use crate::http::{
    ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, List, Pagination, Path, Query,
    Scoped,
};
use crate::state::AppState;

wire_enum! {
    #[serde(rename_all = "lowercase")]
    pub enum VolatilityWire as Volatility <=> notes::Volatility {
        Top, Middle, Base,
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BlendCategory)]
pub struct CategoryOut {
    #[schema(example = "bct_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    #[schema(example = "Citrus")]
    pub name: String,
    #[schema(example = "citrus")]
    pub slug: String,
    pub description: Option<String>,
    pub position: i32,
    pub created_at: DateTime<Utc>,
}

impl From<BlendCategory> for CategoryOut {
    fn from(c: BlendCategory) -> Self {
        CategoryOut {
            id: c.id,
            name: c.name,
            slug: c.slug,
            description: c.description,
            position: c.position,
            created_at: c.created_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = BlendCategoryInput)]
pub struct CategoryIn {
    #[schema(example = "Citrus", min_length = 1, max_length = 100, pattern = "\\S")]
    pub name: String,
    /// Derived from the name when left out.
    #[schema(
        example = "citrus",
        max_length = 200,
        pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"
    )]
    pub slug: Option<String>,
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    pub position: Option<i32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BlendNote)]
pub struct NoteOut {
    #[schema(example = "bnt_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    pub category_id: String,
    #[schema(example = "Bergamot")]
    pub name: String,
    pub description: Option<String>,
    /// 1 (faint) to 10 (strong).
    #[schema(example = 6, minimum = 1, maximum = 10)]
    pub intensity: i32,
    pub volatility: VolatilityWire,
    #[schema(example = json!(["fresh", "uplifting"]))]
    pub mood: Vec<String>,
    pub complementary_note_ids: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Note> for NoteOut {
    fn from(n: Note) -> Self {
        NoteOut {
            id: n.id,
            category_id: n.category_id,
            name: n.name,
            description: n.description,
            intensity: n.intensity,
            volatility: n.volatility.into(),
            mood: n.mood,
            complementary_note_ids: n.complementary_note_ids,
            created_at: n.created_at,
            updated_at: n.updated_at,
        }
    }
}

/// A note as written (POST needs `name`, `categoryId`, `intensity` and `volatility`; PATCH takes any).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = BlendNoteInput)]
pub struct NoteIn {
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(
        nullable = false,
        example = "Bergamot",
        min_length = 1,
        max_length = 100,
        pattern = "\\S"
    )]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    pub category_id: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, minimum = 1, maximum = 10)]
    pub intensity: Option<i32>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    pub volatility: Option<VolatilityWire>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, max_items = 20)]
    pub mood: Option<Vec<String>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, max_items = 50)]
    pub complementary_note_ids: Option<Vec<String>>,
}

impl From<NoteIn> for NoteInput {
    fn from(n: NoteIn) -> Self {
        NoteInput {
            name: n.name,
            category_id: n.category_id,
            description: n.description,
            intensity: n.intensity,
            volatility: n.volatility.map(Into::into),
            mood: n.mood,
            complementary_note_ids: n.complementary_note_ids,
        }
    }
}

/// A share of a blend, as a decimal from 0 to 1 (kept exactly to six decimals).
pub(crate) fn share(millionths: i64) -> serde_json::Number {
    serde_json::Number::from_str(&blends::ratio_decimal(millionths))
        .unwrap_or_else(|_| serde_json::Number::from(0))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BlendPart)]
pub struct PartOut {
    pub id: String,
    #[schema(value_type = f64, example = 0.25)]
    pub ratio: serde_json::Number,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BlendShare)]
pub struct ShareOut {
    /// A category id or a mood.
    pub name: String,
    #[schema(value_type = f64, example = 0.5)]
    pub share: serde_json::Number,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BlendProfile)]
pub struct ProfileOut {
    /// Each category's share of the blend, largest first.
    pub categories: Vec<ShareOut>,
    /// Each mood's share (a note with several moods gives its ratio to each), largest first.
    pub moods: Vec<ShareOut>,
    /// The notes' intensity weighted by ratio, 1–10.
    pub intensity: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Blend)]
pub struct BlendOut {
    #[schema(example = "bld_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    pub customer_id: String,
    #[schema(example = "Morning walk")]
    pub name: String,
    pub description: Option<String>,
    pub is_public: bool,
    pub base_intensity: Option<i32>,
    pub notes: Vec<PartOut>,
    pub profile: ProfileOut,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Profile> for ProfileOut {
    fn from(p: Profile) -> Self {
        let shares = |v: Vec<(String, i64)>| {
            v.into_iter()
                .map(|(name, s)| ShareOut {
                    name,
                    share: share(s),
                })
                .collect()
        };
        ProfileOut {
            categories: shares(p.categories),
            moods: shares(p.moods),
            intensity: p.intensity,
        }
    }
}

fn parts_out(parts: Vec<Part>) -> Vec<PartOut> {
    parts
        .into_iter()
        .map(|p| PartOut {
            id: p.note_id,
            ratio: share(p.ratio),
        })
        .collect()
}

impl From<Blend> for BlendOut {
    fn from(b: Blend) -> Self {
        BlendOut {
            id: b.id,
            customer_id: b.customer_id,
            name: b.name,
            description: b.description,
            is_public: b.is_public,
            base_intensity: b.base_intensity,
            notes: parts_out(b.composition),
            profile: b.profile.into(),
            created_at: b.created_at,
            updated_at: b.updated_at,
        }
    }
}

/// List blend categories
///
/// The fragrance families notes belong to, in their order.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/blend-categories",
    tag = "Blends",
    params(("siteId" = String, Path)),
    security(("bearerAuth" = ["read:catalog"])),
    responses((status = 200, description = "The categories, in order", body = Data<Vec<CategoryOut>>), CommonErrors)
)]
pub async fn list_categories(
    key: Scoped<ReadCatalog>,
    State(state): State<AppState>,
) -> Result<Data<Vec<CategoryOut>>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let found = notes::categories(&mut conn, &key.caller()).await?;
    Ok(Data::new(found.into_iter().map(Into::into).collect()))
}

/// Create a blend category
///
/// Slugs are unique per site (409); derived from the name when left out.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/blend-categories",
    tag = "Blends",
    params(("siteId" = String, Path)),
    request_body(content = CategoryIn, example = json!({"name": "Citrus"})),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 201, description = "The category", body = Data<CategoryOut>),
        (status = 409, description = "The slug is taken", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create_category(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Json(input): Json<CategoryIn>,
) -> Result<Created<CategoryOut>, ApiError> {
    let input = NewCategory {
        name: input.name,
        slug: input.slug,
        description: input.description,
        position: input.position,
    };
    let mut conn = state.pool.acquire().await?;
    let created = notes::create_category(&mut conn, &key.caller(), input).await?;
    Ok(Created(created.into()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NotesQuery {
    /// A category's id or slug.
    pub category: Option<String>,
    /// Part of the note's name.
    pub search: Option<String>,
}

/// List blend notes
///
/// By name, optionally of one category and matching a search.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/blend-notes",
    tag = "Blends",
    params(("siteId" = String, Path), NotesQuery),
    security(("bearerAuth" = ["read:catalog"])),
    responses((status = 200, description = "The notes, by name", body = Data<Vec<NoteOut>>), CommonErrors)
)]
pub async fn list_notes(
    key: Scoped<ReadCatalog>,
    State(state): State<AppState>,
    Query(q): Query<NotesQuery>,
) -> Result<Data<Vec<NoteOut>>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let found = notes::notes(
        &mut conn,
        &key.caller(),
        q.category.as_deref(),
        q.search.as_deref(),
    )
    .await?;
    Ok(Data::new(found.into_iter().map(Into::into).collect()))
}

/// Create a blend note
///
/// Names are unique per site (409); the category and complementary notes must exist (422).
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/blend-notes",
    tag = "Blends",
    params(("siteId" = String, Path)),
    request_body(content = NoteIn, example = json!({"name": "Bergamot", "categoryId": "bct_01JD2W3M4N5P6Q7R8S9T0V1W2X", "intensity": 6, "volatility": "top", "mood": ["fresh", "uplifting"]})),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 201, description = "The note", body = Data<NoteOut>),
        (status = 409, description = "The name is taken", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create_note(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Json(input): Json<NoteIn>,
) -> Result<Created<NoteOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let created = notes::create_note(&mut conn, &key.caller(), input.into()).await?;
    Ok(Created(created.into()))
}

/// Update a blend note
///
/// The fields given; names stay unique (409), references must exist (422).
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/blend-notes/{noteId}",
    tag = "Blends",
    params(("siteId" = String, Path), ("noteId" = String, Path)),
    request_body(content = NoteIn, example = json!({"intensity": 7})),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 200, description = "The note", body = Data<NoteOut>),
        (status = 409, description = "The name is taken", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn update_note(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(input): Json<NoteIn>,
) -> Result<Data<NoteOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let note = notes::update_note(&mut conn, &key.caller(), &id, input.into()).await?;
    Ok(Data::new(note.into()))
}

/// Delete a blend note
///
/// Refused (409) while customers' blends use it.
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/blend-notes/{noteId}",
    tag = "Blends",
    params(("siteId" = String, Path), ("noteId" = String, Path)),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 409, description = "Blends use the note", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn delete_note(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Deleted, ApiError> {
    let mut conn = state.pool.acquire().await?;
    notes::delete_note(&mut conn, &key.caller(), &id).await?;
    Ok(Deleted::new())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BlendsQuery {
    /// Only this customer's blends.
    pub customer_id: Option<String>,
}

/// List customers' blends
///
/// With each blend's profile derived from its notes.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/blends",
    tag = "Blends",
    params(("siteId" = String, Path), BlendsQuery),
    security(("bearerAuth" = ["read:customers"])),
    responses((status = 200, description = "The blends, oldest first", body = Data<Vec<BlendOut>>), CommonErrors)
)]
pub async fn list_blends(
    key: Scoped<ReadCustomers>,
    State(state): State<AppState>,
    Query(q): Query<BlendsQuery>,
) -> Result<Data<Vec<BlendOut>>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let found = blends::list(&mut conn, &key.caller(), q.customer_id.as_deref()).await?;
    Ok(Data::new(found.into_iter().map(Into::into).collect()))
}

/// The customer a blend operation acts for.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OwnerQuery {
    /// The blend's customer.
    #[param(example = "cust_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub customer_id: String,
}

/// A viewer of blends, when there is one.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ViewerQuery {
    /// The customer reading: their own private blends are visible too (a storefront key sends
    /// `X-Customer-Token` instead).
    pub customer_id: Option<String>,
}

const CUSTOMER_TOKEN: &str = "A signed-in customer's access token: that customer's own blends are visible (a storefront key reads only public blends without it).";

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = BlendPartInput)]
pub struct PartIn {
    #[schema(example = "bnt_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    /// A share from 0 (excluded) to 1, kept to six decimals (rounded half up).
    #[schema(value_type = f64, example = 0.25, exclusive_minimum = 0, maximum = 1)]
    pub ratio: serde_json::Number,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = BlendCompositionInput)]
pub struct CompositionIn {
    /// 1 to 10 distinct notes whose ratios sum to 1 (within 0.001).
    #[schema(min_items = 1, max_items = 10)]
    pub notes: Vec<PartIn>,
}

/// A change to a blend: the fields given.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = BlendPatch)]
pub struct BlendPatchIn {
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(
        nullable = false,
        example = "Morning walk",
        min_length = 1,
        max_length = 100,
        pattern = "\\S"
    )]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    pub is_public: Option<bool>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 10)]
    pub base_intensity: Option<Option<i32>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    pub composition: Option<CompositionIn>,
}

impl BlendPatchIn {
    /// The domain's change, with each ratio read exactly (a malformed one is a 400 naming it).
    fn into_patch(self) -> Result<BlendPatch, ApiError> {
        let composition = match self.composition {
            Some(c) => {
                let mut parts = Vec::with_capacity(c.notes.len());
                for (i, part) in c.notes.into_iter().enumerate() {
                    let ratio = blends::parse_ratio(&part.ratio.to_string()).ok_or_else(|| {
                        ApiError::field(
                            format!("composition.notes[{i}].ratio"),
                            "must be a decimal greater than 0 and at most 1, with at most six decimals",
                        )
                    })?;
                    parts.push(Part {
                        note_id: part.id,
                        ratio,
                    });
                }
                Some(parts)
            }
            None => None,
        };
        Ok(BlendPatch {
            name: self.name,
            description: self.description,
            is_public: self.is_public,
            base_intensity: self.base_intensity,
            composition,
        })
    }
}

/// Update a blend
///
/// The fields given, by the rules of a new blend: 1 to 10 distinct notes of the catalogue (404 for an
/// unknown note) whose ratios sum to 1 within 0.001 (422 otherwise), a name the customer has not used
/// (409). Only the blend's own customer's: another customer's blend is not found. Nothing changes when a
/// rule fails.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/blends/{blendId}",
    tag = "Blends",
    params(("siteId" = String, Path), ("blendId" = String, Path), OwnerQuery),
    request_body(content = BlendPatchIn, example = json!({"name": "Evening walk", "isPublic": true,
        "composition": {"notes": [{"id": "bnt_01JD2W3M4N5P6Q7R8S9T0V1W2X", "ratio": 0.6}, {"id": "bnt_01JD2W3M4N5P6Q7R8S9T0V1W2Y", "ratio": 0.4}]}})),
    security(("bearerAuth" = ["write:customers"])),
    responses(
        (status = 200, description = "The blend", body = Data<BlendOut>),
        (status = 409, description = "The customer already has a blend of this name", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn update_blend(
    key: Scoped<WriteCustomers>,
    token: Option<CustomerToken>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Query(q): Query<OwnerQuery>,
    Json(input): Json<BlendPatchIn>,
) -> Result<Data<BlendOut>, ApiError> {
    let patch = input.into_patch()?;
    let mut conn = state.pool.acquire().await?;
    let caller = key.caller_with(token.as_ref());
    let blend = blends::update(&mut conn, &caller, &q.customer_id, &id, patch).await?;
    Ok(Data::new(blend.into()))
}

/// Get a blend
///
/// A public blend, or the reading customer's own (`customerId`, or the customer of `X-Customer-Token`);
/// any other blend is not found.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/blends/{blendId}",
    tag = "Blends",
    params(
        ("siteId" = String, Path),
        ("blendId" = String, Path),
        ViewerQuery,
        ("X-Customer-Token" = Option<String>, Header, description = CUSTOMER_TOKEN),
    ),
    security(("bearerAuth" = ["read:catalog"])),
    responses((status = 200, description = "The blend", body = Data<BlendOut>), CommonErrors)
)]
pub async fn get_blend(
    key: Scoped<ReadCatalog>,
    token: Option<CustomerToken>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Query(q): Query<ViewerQuery>,
) -> Result<Data<BlendOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let caller = key.caller_with(token.as_ref());
    let blend = blends::get_visible(&mut conn, &caller, q.customer_id.as_deref(), &id).await?;
    Ok(Data::new(blend.into()))
}

/// List public blends
///
/// Every customer's blends marked public, newest first. Offset pagination with `page`, keyset with
/// `cursor`.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/blends/public",
    tag = "Blends",
    params(("siteId" = String, Path), Pagination),
    security(("bearerAuth" = ["read:catalog"])),
    responses((status = 200, description = "A page of public blends", body = List<BlendOut>), CommonErrors)
)]
pub async fn public(
    key: Scoped<ReadCatalog>,
    State(state): State<AppState>,
    Query(q): Query<Pagination>,
) -> Result<List<BlendOut>, ApiError> {
    let page = q.request(blends::ID_PREFIX)?;
    let mut conn = state.pool.acquire().await?;
    let found = blends::list_public(&mut conn, &key.caller(), &page).await?;
    Ok(List::from(found.map(BlendOut::from)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecommendQuery {
    /// The customer whose scent profile counts (a storefront key sends `X-Customer-Token` instead).
    pub customer_id: Option<String>,
    /// A blend category's id or slug: its notes lead the suggestions.
    #[param(example = "citrus")]
    pub category: Option<String>,
    /// Every suggested note carries this mood.
    #[param(example = "calm")]
    pub mood: Option<String>,
    /// One of `morning`, `office`, `evening`, `date`, `relaxing`, `sleep`, `party`, `outdoors`,
    /// `holiday`, `meditation`: notes with its moods score higher.
    #[param(value_type = Option<crate::api::v1::formats::Occasion>, example = "evening")]
    pub occasion: Option<String>,
    /// How many suggestions at most (1–100, default 3); a catalogue gives at most one per note.
    #[param(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BlendRecommendation)]
pub struct RecommendationOut {
    #[schema(example = "Evening Bergamot & Cedarwood")]
    pub name: String,
    /// Top notes first, then middle, then base; the ratios sum to exactly 1.
    pub notes: Vec<PartOut>,
    pub profile: ProfileOut,
    /// 0–100.
    #[schema(example = 82, minimum = 0, maximum = 100)]
    pub score: i64,
    /// Why it was suggested, short sentences.
    #[schema(example = json!(["led by Bergamot (Citrus)", "Cedarwood complements Bergamot", "structure: top 30%, middle 40%, base 30%"]))]
    pub reasons: Vec<String>,
}

impl From<Recommendation> for RecommendationOut {
    fn from(r: Recommendation) -> Self {
        RecommendationOut {
            name: r.name,
            notes: parts_out(r.composition),
            profile: r.profile.into(),
            score: r.score,
            reasons: r.reasons,
        }
    }
}

/// Recommend blends
///
/// Suggested compositions from the catalogue's notes, deterministic for the same catalogue, profile and
/// request: notes scored by the requested category, mood and occasion and by the customer's scent profile
/// (preferred categories, moods and intensity; disliked notes never appear), then a top / middle / base
/// structure of 30 / 40 / 30 led by each of the best notes, preferring its complementary notes. An
/// unknown category is not found.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/blends/recommendations",
    tag = "Blends",
    params(
        ("siteId" = String, Path),
        RecommendQuery,
        ("X-Customer-Token" = Option<String>, Header, description = "A signed-in customer's access token: their scent profile counts."),
    ),
    security(("bearerAuth" = ["read:catalog"])),
    responses((status = 200, description = "The suggestions, best first", body = Data<Vec<RecommendationOut>>), CommonErrors)
)]
pub async fn recommendations(
    key: Scoped<ReadCatalog>,
    token: Option<CustomerToken>,
    State(state): State<AppState>,
    Query(q): Query<RecommendQuery>,
) -> Result<Data<Vec<RecommendationOut>>, ApiError> {
    // The domain checks the range (a negative limit reads as 0, which it refuses).
    let limit = usize::try_from(q.limit.unwrap_or(3)).unwrap_or(0);
    let filter = RecommendFilter {
        category: q.category,
        mood: q.mood,
        occasion: q.occasion,
    };
    let mut conn = state.pool.acquire().await?;
    let caller = key.caller_with(token.as_ref());
    let found =
        blends::recommend(&mut conn, &caller, q.customer_id.as_deref(), filter, limit).await?;
    Ok(Data::new(found.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = BlendProductTest)]
pub struct TestProductIn {
    /// A product's id or slug.
    #[schema(example = "prd_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub product_id: String,
}

wire_enum! {
    #[serde(rename_all = "lowercase")]
    pub enum SeverityWire as BlendRuleSeverity <=> blends::Severity {
        Required, Advice, Info,
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BlendRuleResult)]
pub struct RuleOut {
    /// `product_type`, `intensity`, `volatility.top`, `volatility.middle`, `volatility.base`,
    /// `base_intensity` or `note_count`.
    #[schema(example = "volatility.base")]
    pub rule: String,
    pub passed: bool,
    /// A failed `required` rule makes the blend incompatible; `advice` lowers the score only.
    pub severity: SeverityWire,
    /// Points the rule took off the score.
    #[schema(example = 0, minimum = 0)]
    pub penalty: i64,
    #[schema(example = "30% base notes, at least 25%: a candle's throw needs base notes")]
    pub message: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = BlendCompatibility)]
pub struct CompatibilityOut {
    pub blend_id: String,
    pub product_id: String,
    /// `candle`, `diffuser`, `room spray`, `soap`, `perfume oil` or `body care`; `null` for a product of
    /// no recognised type (neutral rules).
    #[schema(example = "candle")]
    pub product_type: Option<String>,
    /// 0–100: 100 less the penalties of the failed rules.
    #[schema(example = 90, minimum = 0, maximum = 100)]
    pub score: i64,
    /// Every required rule passed.
    pub compatible: bool,
    pub rules: Vec<RuleOut>,
}

impl From<Compatibility> for CompatibilityOut {
    fn from(c: Compatibility) -> Self {
        CompatibilityOut {
            blend_id: c.blend_id,
            product_id: c.product_id,
            product_type: c.product_type,
            score: c.score,
            compatible: c.compatible,
            rules: c
                .rules
                .into_iter()
                .map(|r| RuleOut {
                    rule: r.rule,
                    passed: r.passed,
                    severity: r.severity.into(),
                    penalty: r.penalty,
                    message: r.message,
                })
                .collect(),
        }
    }
}

/// Test a blend with a product
///
/// Whether a blend suits a product, by rules of the product's type (found from its categories, model and
/// name: candle, diffuser, room spray, soap, perfume oil, body care; neutral rules otherwise): the blend's
/// intensity range, the shares of top, middle and base notes the type needs, the blend's base intensity
/// and its number of notes (3 to 7 recommended). The blend must be public or the reading customer's own;
/// a product the key may not see is not found. Changes nothing.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/blends/{blendId}/test-product",
    tag = "Blends",
    params(
        ("siteId" = String, Path),
        ("blendId" = String, Path),
        ViewerQuery,
        ("X-Customer-Token" = Option<String>, Header, description = CUSTOMER_TOKEN),
    ),
    request_body(content = TestProductIn, example = json!({"productId": "prd_01JD2W3M4N5P6Q7R8S9T0V1W2X"})),
    security(("bearerAuth" = ["read:catalog"])),
    responses((status = 200, description = "The rules and the score", body = Data<CompatibilityOut>), CommonErrors)
)]
pub async fn test_product(
    key: Scoped<ReadCatalog>,
    token: Option<CustomerToken>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Query(q): Query<ViewerQuery>,
    Json(input): Json<TestProductIn>,
) -> Result<Data<CompatibilityOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let caller = key.caller_with(token.as_ref());
    let found = blends::test_product(
        &mut conn,
        &caller,
        q.customer_id.as_deref(),
        &id,
        &input.product_id,
    )
    .await?;
    Ok(Data::new(found.into()))
}
