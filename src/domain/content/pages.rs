//! Pages: a site's content pages, by slug. Drafts are for secret callers only.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, Postgres, QueryBuilder};

use crate::domain::caller::Caller;
use crate::domain::catalog::slug;
use crate::domain::error::{Error, Result, Validator, on_unique};
use crate::ids;

pub const ID_PREFIX: &str = "pg";
const UNIQUE_SLUG: &str = "pages_site_id_slug_key";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageStatus {
    Draft,
    Published,
}

impl PageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PageStatus::Draft => "DRAFT",
            PageStatus::Published => "PUBLISHED",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Page {
    pub id: String,
    pub title: String,
    pub slug: String,
    pub body: String,
    pub status: PageStatus,
    pub meta_title: Option<String>,
    pub meta_description: Option<String>,
    /// When it was first published.
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct Row {
    id: String,
    title: String,
    slug: String,
    body: String,
    status: String,
    meta_title: Option<String>,
    meta_description: Option<String>,
    published_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Row> for Page {
    fn from(r: Row) -> Self {
        Page {
            id: r.id,
            title: r.title,
            slug: r.slug,
            body: r.body,
            status: if r.status == "PUBLISHED" {
                PageStatus::Published
            } else {
                PageStatus::Draft
            },
            meta_title: r.meta_title,
            meta_description: r.meta_description,
            published_at: r.published_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const COLUMNS: &str = "id, title, slug, body, status, meta_title, meta_description, published_at, created_at, updated_at";

/// A page's content, as created or replaced (`slug` derived from the title when absent).
#[derive(Debug, Default)]
pub struct PageInput {
    pub title: Option<String>,
    pub slug: Option<String>,
    pub body: Option<String>,
    pub status: Option<PageStatus>,
    pub meta_title: Option<Option<String>>,
    pub meta_description: Option<Option<String>>,
}

#[derive(Debug, Default)]
pub struct PageFilter {
    pub slug: Option<String>,
    /// Secret callers only: a status (all statuses when `None`).
    pub status: Option<PageStatus>,
}

/// Pages by title. Publishable callers see published pages only.
pub async fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    filter: &PageFilter,
    offset: i64,
    limit: i64,
) -> Result<Vec<Page>> {
    let status = if caller.sees_unpublished() {
        filter.status
    } else {
        Some(PageStatus::Published)
    };
    let mut qb =
        QueryBuilder::<Postgres>::new(format!("select {COLUMNS} from pages where site_id = "));
    qb.push_bind(caller.site_id().to_string());
    if let Some(status) = status {
        qb.push(" and status = ").push_bind(status.as_str());
    }
    if let Some(slug) = &filter.slug {
        qb.push(" and slug = ").push_bind(slug.clone());
    }
    qb.push(format!(" order by title, id limit {limit} offset {offset}"));
    let rows: Vec<Row> = qb.build_query_as().fetch_all(conn).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// A page by id or slug (a draft is not found for publishable callers).
pub async fn get(conn: &mut PgConnection, caller: &Caller, id_or_slug: &str) -> Result<Page> {
    let page: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from pages where site_id = $1 and (id = $2 or slug = $2)"
    )))
    .bind(caller.site_id())
    .bind(id_or_slug)
    .fetch_optional(conn)
    .await?;
    match page.map(Page::from) {
        Some(p) if p.status == PageStatus::Published || caller.sees_unpublished() => Ok(p),
        _ => Err(Error::NotFound("page")),
    }
}

fn validate(v: &mut Validator, input: &PageInput) {
    if let Some(title) = &input.title {
        v.text("title", title.trim(), 1, 255);
    }
    if let Some(s) = &input.slug {
        v.check(
            slug::is_valid(s),
            "slug",
            "must be lower-case letters and digits joined by single dashes",
        );
    }
    if let Some(body) = &input.body {
        v.text("body", body, 0, 1_000_000);
    }
    if let Some(Some(t)) = &input.meta_title {
        v.text("meta_title", t, 1, 255);
    }
    if let Some(Some(d)) = &input.meta_description {
        v.text("meta_description", d, 1, 1000);
    }
}

fn slug_taken(slug: &str) -> impl FnOnce() -> String + '_ {
    move || format!("another page already has the slug `{slug}`")
}

/// Creates a page (a DRAFT unless published).
pub async fn create(conn: &mut PgConnection, caller: &Caller, input: PageInput) -> Result<Page> {
    let mut v = Validator::new();
    v.check(input.title.is_some(), "title", "is required");
    validate(&mut v, &input);
    v.finish()?;
    let title = input.title.unwrap_or_default().trim().to_string();
    let slug = input.slug.unwrap_or_else(|| slug::slugify(&title));
    let status = input.status.unwrap_or(PageStatus::Draft);
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into pages (site_id, id, title, slug, body, status, meta_title, meta_description, published_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, case when $6 = 'PUBLISHED' then now() end) returning {COLUMNS}"
    )))
    .bind(caller.site_id())
    .bind(ids::new_id(ID_PREFIX))
    .bind(&title)
    .bind(&slug)
    .bind(input.body.unwrap_or_default())
    .bind(status.as_str())
    .bind(input.meta_title.flatten())
    .bind(input.meta_description.flatten())
    .fetch_one(conn)
    .await
    .map_err(|e| on_unique(e, UNIQUE_SLUG, slug_taken(&slug)))?;
    Ok(row.into())
}

/// Changes the fields given; publishing stamps `publishedAt` (kept when it goes back to draft).
pub async fn update(
    conn: &mut PgConnection,
    caller: &Caller,
    id_or_slug: &str,
    input: PageInput,
) -> Result<Page> {
    let mut v = Validator::new();
    validate(&mut v, &input);
    v.finish()?;
    let current = get(&mut *conn, caller, id_or_slug).await?;
    let slug = input.slug.unwrap_or(current.slug);
    let status = input.status.unwrap_or(current.status);
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update pages set title = $3, slug = $4, body = $5, status = $6, meta_title = $7, meta_description = $8, \
         published_at = case when $6 = 'PUBLISHED' then coalesce(published_at, now()) else published_at end, \
         updated_at = now() where site_id = $1 and id = $2 returning {COLUMNS}"
    )))
    .bind(caller.site_id())
    .bind(&current.id)
    .bind(input.title.map(|t| t.trim().to_string()).unwrap_or(current.title))
    .bind(&slug)
    .bind(input.body.unwrap_or(current.body))
    .bind(status.as_str())
    .bind(input.meta_title.unwrap_or(current.meta_title))
    .bind(input.meta_description.unwrap_or(current.meta_description))
    .fetch_one(conn)
    .await
    .map_err(|e| on_unique(e, UNIQUE_SLUG, slug_taken(&slug)))?;
    Ok(row.into())
}

pub async fn delete(conn: &mut PgConnection, caller: &Caller, id_or_slug: &str) -> Result<()> {
    let current = get(&mut *conn, caller, id_or_slug).await?;
    sqlx::query("delete from pages where site_id = $1 and id = $2")
        .bind(caller.site_id())
        .bind(&current.id)
        .execute(conn)
        .await?;
    Ok(())
}
