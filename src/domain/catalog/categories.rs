//! Categories: a tree (parent, sibling position) listed flat.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};

use super::slug;
use crate::domain::error::{Error, Result, Validator, on_unique};
use crate::domain::patch;
use crate::ids;

#[derive(Debug, Clone, FromRow)]
pub struct Category {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub parent_id: Option<String>,
    /// Order among siblings, ascending.
    pub position: i32,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Creating a category, or replacing one.
#[derive(Debug)]
pub struct NewCategory {
    pub name: String,
    /// Derived from the name when `None`.
    pub slug: Option<String>,
    pub parent_id: Option<String>,
    pub position: Option<i32>,
    pub description: Option<String>,
}

/// A partial update: `None` leaves a field; `Some(None)` clears a nullable one.
#[derive(Debug, Default)]
pub struct CategoryPatch {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub parent_id: Option<Option<String>>,
    pub position: Option<i32>,
    pub description: Option<Option<String>>,
}

const UNIQUE_SLUG: &str = "categories_site_id_slug_key";
const COLUMNS: &str = "id, name, slug, parent_id, position, description, created_at, updated_at";

pub async fn list(
    conn: &mut PgConnection,
    site_id: &str,
    slug_filter: Option<&str>,
    parent_filter: Option<&str>,
) -> Result<Vec<Category>> {
    Ok(sqlx::query_as::<_, Category>(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from categories where site_id = $1 \
         and ($2::text is null or slug = $2) and ($3::text is null or parent_id = $3) \
         order by parent_id nulls first, position, name, id"
    )))
    .bind(site_id)
    .bind(slug_filter)
    .bind(parent_filter)
    .fetch_all(&mut *conn)
    .await?)
}

pub async fn get(conn: &mut PgConnection, site_id: &str, id_or_slug: &str) -> Result<Category> {
    sqlx::query_as::<_, Category>(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from categories where site_id = $1 and (id = $2 or slug = $2)"
    )))
    .bind(site_id)
    .bind(id_or_slug)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound("category"))
}

/// Categories of many products at once: (product id, category), in each product's order.
pub async fn for_products(
    conn: &mut PgConnection,
    site_id: &str,
    product_ids: &[String],
) -> Result<Vec<(String, Category)>> {
    #[derive(FromRow)]
    struct Row {
        product_id: String,
        #[sqlx(flatten)]
        category: Category,
    }
    let rows = sqlx::query_as::<_, Row>(
        "select pc.product_id, c.id, c.name, c.slug, c.parent_id, c.position, c.description, c.created_at, c.updated_at \
         from product_categories pc join categories c on c.site_id = pc.site_id and c.id = pc.category_id \
         where pc.site_id = $1 and pc.product_id = any($2) order by pc.product_id, pc.position, c.id",
    )
    .bind(site_id)
    .bind(product_ids)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.product_id, r.category))
        .collect())
}

fn validate(
    name: &str,
    slug_: &str,
    parent_id: Option<&str>,
    position: i32,
    description: Option<&str>,
) -> Result<()> {
    let mut v = Validator::new();
    v.text("name", name, 1, 200);
    v.check(
        slug::is_valid(slug_),
        "slug",
        "must be lower-case letters and digits joined by single dashes",
    );
    super::validate_id(&mut v, "parent_id", "cat", parent_id);
    v.check(position >= 0, "position", "must not be negative");
    if let Some(d) = description {
        v.text("description", d, 0, 10_000);
    }
    v.finish()
}

async fn check_parent(
    conn: &mut PgConnection,
    site_id: &str,
    id: Option<&str>,
    parent_id: Option<&str>,
) -> Result<()> {
    let Some(parent_id) = parent_id else {
        return Ok(());
    };
    if Some(parent_id) == id {
        return Err(Error::unprocessable(
            "parent_id",
            "a category cannot be its own parent",
        ));
    }
    // Walk up from the new parent; meeting `id` on the way would close a cycle.
    let ancestors: Vec<String> = sqlx::query_scalar(
        "with recursive up(id, parent_id, depth) as ( \
             select id, parent_id, 0 from categories where site_id = $1 and id = $2 \
             union all \
             select c.id, c.parent_id, up.depth + 1 from categories c join up on c.site_id = $1 and c.id = up.parent_id \
             where up.depth < 100) \
         select id from up",
    )
    .bind(site_id)
    .bind(parent_id)
    .fetch_all(&mut *conn)
    .await?;
    if ancestors.is_empty() {
        return Err(Error::unprocessable(
            "parent_id",
            "no category with this id",
        ));
    }
    if id.is_some_and(|id| ancestors.iter().any(|a| a == id)) {
        return Err(Error::unprocessable(
            "parent_id",
            "the new parent is a descendant of this category",
        ));
    }
    Ok(())
}

pub async fn create(
    conn: &mut PgConnection,
    site_id: &str,
    input: NewCategory,
) -> Result<Category> {
    let name = input.name.trim().to_string();
    let slug_ = input.slug.unwrap_or_else(|| slug::slugify(&name));
    let position = input.position.unwrap_or(0);
    validate(
        &name,
        &slug_,
        input.parent_id.as_deref(),
        position,
        input.description.as_deref(),
    )?;
    check_parent(conn, site_id, None, input.parent_id.as_deref()).await?;
    sqlx::query_as::<_, Category>(sqlx::AssertSqlSafe(format!(
        "insert into categories (site_id, id, name, slug, parent_id, position, description) \
         values ($1, $2, $3, $4, $5, $6, $7) returning {COLUMNS}"
    )))
    .bind(site_id)
    .bind(ids::new_id("cat"))
    .bind(&name)
    .bind(&slug_)
    .bind(&input.parent_id)
    .bind(position)
    .bind(&input.description)
    .fetch_one(conn)
    .await
    .map_err(|e| {
        on_unique(e, UNIQUE_SLUG, || {
            format!("a category with slug `{slug_}` already exists")
        })
    })
}

pub async fn update(
    conn: &mut PgConnection,
    site_id: &str,
    id: &str,
    p: CategoryPatch,
) -> Result<Category> {
    let current = get(&mut *conn, site_id, id).await?;
    let name = p.name.map(|n| n.trim().to_string()).unwrap_or(current.name);
    let slug_ = p.slug.unwrap_or(current.slug);
    let parent_id = patch::apply(current.parent_id, p.parent_id);
    let position = p.position.unwrap_or(current.position);
    let description = patch::apply(current.description, p.description);
    validate(
        &name,
        &slug_,
        parent_id.as_deref(),
        position,
        description.as_deref(),
    )?;
    check_parent(conn, site_id, Some(&current.id), parent_id.as_deref()).await?;
    sqlx::query_as::<_, Category>(sqlx::AssertSqlSafe(format!(
        "update categories set name = $3, slug = $4, parent_id = $5, position = $6, description = $7 \
         where site_id = $1 and id = $2 returning {COLUMNS}"
    )))
    .bind(site_id)
    .bind(&current.id)
    .bind(&name)
    .bind(&slug_)
    .bind(&parent_id)
    .bind(position)
    .bind(&description)
    .fetch_optional(conn)
    .await
    .map_err(|e| on_unique(e, UNIQUE_SLUG, || format!("a category with slug `{slug_}` already exists")))?
    .ok_or(Error::NotFound("category"))
}

pub async fn replace(
    conn: &mut PgConnection,
    site_id: &str,
    id: &str,
    input: NewCategory,
) -> Result<Category> {
    let slug_ = input
        .slug
        .clone()
        .unwrap_or_else(|| slug::slugify(input.name.trim()));
    let patch = CategoryPatch {
        name: Some(input.name),
        slug: Some(slug_),
        parent_id: Some(input.parent_id),
        position: Some(input.position.unwrap_or(0)),
        description: Some(input.description),
    };
    update(conn, site_id, id, patch).await
}

/// Deletes a category; its children move up to its parent, its products simply lose it.
pub async fn delete(conn: &mut PgConnection, site_id: &str, id: &str) -> Result<()> {
    let current = get(&mut *conn, site_id, id).await?;
    sqlx::query("update categories set parent_id = $3 where site_id = $1 and parent_id = $2")
        .bind(site_id)
        .bind(&current.id)
        .bind(&current.parent_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("delete from categories where site_id = $1 and id = $2")
        .bind(site_id)
        .bind(&current.id)
        .execute(conn)
        .await?;
    Ok(())
}
