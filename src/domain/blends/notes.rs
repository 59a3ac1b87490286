//! The operator's fragrance catalogue: categories (citrus, floral, woody, …) and the notes customers compose
//! blends from, each with an intensity (1–10), a volatility (top, middle or base), moods and the notes it
//! goes well with.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};

use crate::domain::caller::Caller;
use crate::domain::catalog::slug;
use crate::domain::error::{Error, Result, Validator, on_unique};
use crate::domain::field::FieldKey;
use crate::ids;

#[derive(Debug, Clone, FromRow)]
pub struct BlendCategory {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub position: i32,
    pub created_at: DateTime<Utc>,
}

/// How fast a note evaporates: the order in which a blend is smelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Volatility {
    Top,
    Middle,
    Base,
}

impl Volatility {
    pub fn as_str(self) -> &'static str {
        match self {
            Volatility::Top => "top",
            Volatility::Middle => "middle",
            Volatility::Base => "base",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "top" => Some(Volatility::Top),
            "middle" => Some(Volatility::Middle),
            "base" => Some(Volatility::Base),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Note {
    pub id: String,
    pub category_id: String,
    pub name: String,
    pub description: Option<String>,
    pub intensity: i32,
    pub volatility: Volatility,
    pub mood: Vec<String>,
    pub complementary_note_ids: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct NoteRow {
    id: String,
    category_id: String,
    name: String,
    description: Option<String>,
    intensity: i32,
    volatility: String,
    mood: Vec<String>,
    complementary_note_ids: Vec<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<NoteRow> for Note {
    fn from(r: NoteRow) -> Self {
        Note {
            id: r.id,
            category_id: r.category_id,
            name: r.name,
            description: r.description,
            intensity: r.intensity,
            volatility: Volatility::parse(&r.volatility).unwrap_or(Volatility::Middle),
            mood: r.mood,
            complementary_note_ids: r.complementary_note_ids,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const CATEGORY_COLUMNS: &str = "id, name, slug, description, position, created_at";
const NOTE_COLUMNS: &str = "id, category_id, name, description, intensity, volatility, mood, \
    complementary_note_ids, created_at, updated_at";

pub async fn categories(conn: &mut PgConnection, caller: &Caller) -> Result<Vec<BlendCategory>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {CATEGORY_COLUMNS} from blend_categories where site_id = $1 order by position, name, id"
    )))
    .bind(caller.site_id())
    .fetch_all(conn)
    .await?)
}

/// A new category; its slug is derived from the name when not given.
#[derive(Debug, Clone)]
pub struct NewCategory {
    pub name: String,
    pub slug: Option<String>,
    pub description: Option<String>,
    pub position: Option<i32>,
}

pub async fn create_category(
    conn: &mut PgConnection,
    caller: &Caller,
    input: NewCategory,
) -> Result<BlendCategory> {
    let name = input.name.trim().to_string();
    let mut v = Validator::new();
    v.text("name", &name, 1, 100);
    let slug_ = match input.slug {
        Some(given) => {
            v.check(
                slug::is_valid(&given),
                "slug",
                "must be lower-case letters and digits joined by single dashes",
            );
            given
        }
        None => {
            let derived = slug::slugify(&name);
            v.rule(
                slug::is_valid(&derived),
                "slug",
                "the name gives no slug (no letters or digits): send one",
            );
            derived
        }
    };
    if let Some(d) = &input.description {
        v.text("description", d, 0, 2000);
    }
    v.finish()?;
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into blend_categories (site_id, id, name, slug, description, position) \
         values ($1, $2, $3, $4, $5, $6) returning {CATEGORY_COLUMNS}"
    )))
    .bind(caller.site_id())
    .bind(ids::new_id("bct"))
    .bind(&name)
    .bind(&slug_)
    .bind(&input.description)
    .bind(input.position.unwrap_or(0))
    .fetch_one(conn)
    .await
    .map_err(|e| {
        on_unique(e, "blend_categories_slug_key", || {
            format!("a blend category with slug `{slug_}` already exists")
        })
    })
}

/// The notes, optionally of one category (by id or slug) and whose name contains `search`.
pub async fn notes(
    conn: &mut PgConnection,
    caller: &Caller,
    category: Option<&str>,
    search: Option<&str>,
) -> Result<Vec<Note>> {
    let pattern = search
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| format!("%{}%", crate::domain::escape_like(s)));
    let rows: Vec<NoteRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {NOTE_COLUMNS} from blend_notes n where n.site_id = $1 \
         and ($2::text is null or n.category_id = (select c.id from blend_categories c \
              where c.site_id = $1 and (c.id = $2 or c.slug = $2))) \
         and ($3::text is null or n.name ilike $3) order by n.name, n.id"
    )))
    .bind(caller.site_id())
    .bind(category)
    .bind(pattern)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Notes by id (those of the site among `ids`).
pub async fn notes_by_ids(
    conn: &mut PgConnection,
    site_id: &str,
    ids: &[String],
) -> Result<Vec<Note>> {
    let rows: Vec<NoteRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {NOTE_COLUMNS} from blend_notes where site_id = $1 and id = any($2)"
    )))
    .bind(site_id)
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// A note's fields as written; for a change, `None` leaves a field.
#[derive(Debug, Clone, Default)]
pub struct NoteInput {
    pub name: Option<String>,
    pub category_id: Option<String>,
    pub description: Option<Option<String>>,
    pub intensity: Option<i32>,
    pub volatility: Option<Volatility>,
    pub mood: Option<Vec<String>>,
    pub complementary_note_ids: Option<Vec<String>>,
}

fn validate(v: &mut Validator, n: &NoteInput) {
    if let Some(name) = &n.name {
        v.text("name", name.trim(), 1, 100);
    }
    if let Some(Some(d)) = &n.description {
        v.text("description", d, 0, 2000);
    }
    if let Some(i) = n.intensity {
        v.check((1..=10).contains(&i), "intensity", "must be from 1 to 10");
    }
    if let Some(mood) = &n.mood {
        v.check(mood.len() <= 20, "mood", "at most 20 moods");
        for (i, m) in mood.iter().enumerate() {
            let m = m.trim();
            v.rule(
                !m.is_empty() && m.chars().count() <= 50,
                FieldKey::from("mood").at(i),
                "must be 1 to 50 characters",
            );
        }
    }
    if let Some(ids) = &n.complementary_note_ids {
        v.check(
            ids.len() <= 50,
            "complementary_note_ids",
            "at most 50 notes",
        );
    }
}

/// Checks that the category and the complementary notes exist on the site.
async fn check_references(
    conn: &mut PgConnection,
    site_id: &str,
    n: &NoteInput,
    own_id: Option<&str>,
) -> Result<()> {
    let mut v = Validator::new();
    if let Some(category) = &n.category_id {
        let exists: bool = sqlx::query_scalar(
            "select exists (select 1 from blend_categories where site_id = $1 and id = $2)",
        )
        .bind(site_id)
        .bind(category)
        .fetch_one(&mut *conn)
        .await?;
        v.rule(exists, "category_id", "no blend category with this id");
    }
    if let Some(ids) = &n.complementary_note_ids {
        let found = notes_by_ids(conn, site_id, ids).await?;
        for (i, id) in ids.iter().enumerate() {
            let known = found.iter().any(|f| f.id == *id);
            v.rule(
                known && Some(id.as_str()) != own_id,
                FieldKey::from("complementary_note_ids").at(i),
                "no other note with this id",
            );
        }
    }
    v.finish()
}

fn unique_name(e: sqlx::Error, name: &str) -> Error {
    on_unique(e, "blend_notes_name_key", || {
        format!("a note named `{name}` already exists")
    })
}

pub async fn create_note(conn: &mut PgConnection, caller: &Caller, n: NoteInput) -> Result<Note> {
    let mut v = Validator::new();
    // Required for a new note (the input's schema is shared with changes, where nothing is).
    v.rule(n.name.is_some(), "name", "is required");
    v.rule(n.category_id.is_some(), "category_id", "is required");
    v.rule(n.intensity.is_some(), "intensity", "is required");
    v.rule(n.volatility.is_some(), "volatility", "is required");
    validate(&mut v, &n);
    v.finish()?;
    check_references(conn, caller.site_id(), &n, None).await?;
    let name = n.name.as_deref().unwrap_or_default().trim().to_string();
    let row: NoteRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into blend_notes (site_id, id, category_id, name, description, intensity, volatility, mood, \
         complementary_note_ids) values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning {NOTE_COLUMNS}"
    )))
    .bind(caller.site_id())
    .bind(ids::new_id("bnt"))
    .bind(&n.category_id)
    .bind(&name)
    .bind(n.description.flatten())
    .bind(n.intensity)
    .bind(n.volatility.map(Volatility::as_str))
    .bind(n.mood.unwrap_or_default())
    .bind(n.complementary_note_ids.unwrap_or_default())
    .fetch_one(conn)
    .await
    .map_err(|e| unique_name(e, &name))?;
    Ok(row.into())
}

pub async fn update_note(
    conn: &mut PgConnection,
    caller: &Caller,
    id: &str,
    n: NoteInput,
) -> Result<Note> {
    let mut v = Validator::new();
    validate(&mut v, &n);
    v.finish()?;
    check_references(conn, caller.site_id(), &n, Some(id)).await?;
    let name = n.name.as_deref().map(|s| s.trim().to_string());
    let row: Option<NoteRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update blend_notes set name = coalesce($3, name), category_id = coalesce($4, category_id), \
         description = case when $5 then $6 else description end, intensity = coalesce($7, intensity), \
         volatility = coalesce($8, volatility), mood = coalesce($9, mood), \
         complementary_note_ids = coalesce($10, complementary_note_ids) \
         where site_id = $1 and id = $2 returning {NOTE_COLUMNS}"
    )))
    .bind(caller.site_id())
    .bind(id)
    .bind(&name)
    .bind(&n.category_id)
    .bind(n.description.is_some())
    .bind(n.description.flatten())
    .bind(n.intensity)
    .bind(n.volatility.map(Volatility::as_str))
    .bind(n.mood)
    .bind(n.complementary_note_ids)
    .fetch_optional(conn)
    .await
    .map_err(|e| unique_name(e, name.as_deref().unwrap_or_default()))?;
    row.map(Into::into).ok_or(Error::NotFound("note"))
}

/// Deletes a note no blend uses (409 otherwise: the blends would lose part of their composition).
pub async fn delete_note(conn: &mut PgConnection, caller: &Caller, id: &str) -> Result<()> {
    let used: bool = sqlx::query_scalar(
        "select exists (select 1 from blends where site_id = $1 \
         and composition @> jsonb_build_array(jsonb_build_object('noteId', $2::text)))",
    )
    .bind(caller.site_id())
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    if used {
        return Err(Error::conflict(
            "customers' blends use this note: it cannot be deleted",
        ));
    }
    let done = sqlx::query("delete from blend_notes where site_id = $1 and id = $2")
        .bind(caller.site_id())
        .bind(id)
        .execute(conn)
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::NotFound("note"));
    }
    Ok(())
}
