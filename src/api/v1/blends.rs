//! `/blend-categories`, `/blend-notes` and `/blends`: the fragrance catalogue customers compose custom
//! blends from, and the blends they made.

use std::str::FromStr;

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::wire::wire_enum;
use crate::api::v1::patch;
use crate::domain::blends::notes::{self, BlendCategory, NewCategory, Note, NoteInput};
use crate::domain::blends::{self, Blend, WHOLE};
use crate::http::auth::{ReadCatalog, ReadCustomers, WriteCatalog};
use crate::http::{
    ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, Path, Query, Scoped,
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
fn share(millionths: i64) -> serde_json::Number {
    let text = format!("{}.{:06}", millionths / WHOLE, millionths % WHOLE);
    serde_json::Number::from_str(&text).unwrap_or_else(|_| serde_json::Number::from(0))
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

impl From<Blend> for BlendOut {
    fn from(b: Blend) -> Self {
        let shares = |v: Vec<(String, i64)>| {
            v.into_iter()
                .map(|(name, s)| ShareOut {
                    name,
                    share: share(s),
                })
                .collect()
        };
        BlendOut {
            id: b.id,
            customer_id: b.customer_id,
            name: b.name,
            description: b.description,
            is_public: b.is_public,
            base_intensity: b.base_intensity,
            notes: b
                .composition
                .into_iter()
                .map(|p| PartOut {
                    id: p.note_id,
                    ratio: share(p.ratio),
                })
                .collect(),
            profile: ProfileOut {
                categories: shares(b.profile.categories),
                moods: shares(b.profile.moods),
                intensity: b.profile.intensity,
            },
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
