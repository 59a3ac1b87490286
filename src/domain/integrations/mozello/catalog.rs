//! The catalog as Mozello's Store API reaches it: products by handle or SKU, pages walked by a product's
//! number (`page_start=id:<n>`) and filtered by creation or change time, and categories named by handle or
//! by their path of titles.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::domain::catalog::products::{self, Product};
use crate::domain::error::{Error, Result};

/// The largest page a list returns.
pub const MAX_PAGE: i64 = 100;

/// A time a list filter compares: when a record was created or last changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeField {
    Created,
    Modified,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    Ne,
}

impl Comparison {
    fn sql(self) -> &'static str {
        match self {
            Comparison::Lt => "<",
            Comparison::Le => "<=",
            Comparison::Eq => "=",
            Comparison::Ge => ">=",
            Comparison::Gt => ">",
            Comparison::Ne => "<>",
        }
    }
}

/// One `filter=` of a list: all of them must hold.
#[derive(Debug, Clone)]
pub struct TimeFilter {
    pub field: TimeField,
    pub comparison: Comparison,
    pub value: DateTime<Utc>,
}

/// A page request: after (or, descending, before) the record numbered `start`.
#[derive(Debug, Clone, Default)]
pub struct PageQuery {
    pub size: i64,
    pub start: Option<i64>,
    pub descending: bool,
    pub filters: Vec<TimeFilter>,
}

/// Pushes `and <number> > start ... and filters` for a table whose times are `created_at`/`updated_at`.
pub(super) fn push_page_conditions(qb: &mut QueryBuilder<Postgres>, page: &PageQuery) {
    if let Some(start) = page.start {
        qb.push(if page.descending {
            " and number < "
        } else {
            " and number > "
        })
        .push_bind(start);
    }
    for f in &page.filters {
        let column = match f.field {
            TimeField::Created => "created_at",
            TimeField::Modified => "updated_at",
        };
        qb.push(format_args!(" and {column} {} ", f.comparison.sql()))
            .push_bind(f.value);
    }
    qb.push(if page.descending {
        " order by number desc limit "
    } else {
        " order by number limit "
    })
    .push_bind(page.size.clamp(1, MAX_PAGE) + 1);
}

/// A page of products of any status, with their variants, and the number to start the next page after
/// (`None` on the last page).
pub async fn product_page(
    conn: &mut PgConnection,
    site_id: &str,
    page: &PageQuery,
) -> Result<(Vec<Product>, Option<i64>)> {
    let mut qb = QueryBuilder::new("select id, number from products where site_id = ");
    qb.push_bind(site_id.to_string());
    push_page_conditions(&mut qb, page);
    let mut rows: Vec<(String, i64)> = qb.build_query_as().fetch_all(&mut *conn).await?;
    let size = page.size.clamp(1, MAX_PAGE) as usize;
    let next = (rows.len() > size).then(|| rows[size - 1].1);
    rows.truncate(size);
    let ids: Vec<String> = rows.into_iter().map(|(id, _)| id).collect();
    Ok((products::load_many(conn, site_id, &ids).await?, next))
}

/// The id of the product with this handle.
pub async fn product_by_handle(
    conn: &mut PgConnection,
    site_id: &str,
    handle: &str,
) -> Result<Option<String>> {
    Ok(
        sqlx::query_scalar("select id from products where site_id = $1 and handle = $2")
            .bind(site_id)
            .bind(handle)
            .fetch_optional(conn)
            .await?,
    )
}

/// What an SKU names: the products holding a variant with it, and that variant.
#[derive(Debug, Clone)]
pub struct SkuMatch {
    pub product_id: String,
    pub variant_id: String,
}

/// Every variant with this SKU (SKUs are unique per site, so at most one today; callers still treat
/// several as ambiguous, as Mozello does).
pub async fn by_sku(conn: &mut PgConnection, site_id: &str, sku: &str) -> Result<Vec<SkuMatch>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select product_id, id from variants where site_id = $1 and sku = $2 order by product_id, id",
    )
    .bind(site_id)
    .bind(sku)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(product_id, variant_id)| SkuMatch {
            product_id,
            variant_id,
        })
        .collect())
}

/// The products with these handles: handle → id.
pub async fn products_by_handles(
    conn: &mut PgConnection,
    site_id: &str,
    handles: &[String],
) -> Result<std::collections::HashMap<String, String>> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("select handle, id from products where site_id = $1 and handle = any($2)")
            .bind(site_id)
            .bind(handles)
            .fetch_all(conn)
            .await?;
    Ok(rows.into_iter().collect())
}

/// The deepest a category may sit (Mozello's tree has three levels).
pub const MAX_LEVEL: usize = 3;

/// A category as Mozello names it: its handle (the id when it has none) and, from the root, each level's
/// name and its titles in other languages.
#[derive(Debug, Clone)]
pub struct CategoryPath {
    pub id: String,
    pub handle: String,
    pub names: Vec<String>,
    pub translations: Vec<std::collections::BTreeMap<String, super::categories::Title>>,
}

/// The paths of the categories `ids`, by id.
pub async fn category_paths(
    conn: &mut PgConnection,
    site_id: &str,
    ids: &[String],
) -> Result<std::collections::HashMap<String, CategoryPath>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    type Row = (
        String,
        String,
        Vec<String>,
        sqlx::types::Json<Vec<std::collections::BTreeMap<String, super::categories::Title>>>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "with recursive up (start, id, parent_id, name, translations, depth) as ( \
           select c.id, c.id, c.parent_id, c.name, c.translations, 0 from categories c \
           where c.site_id = $1 and c.id = any($2) \
           union all \
           select up.start, p.id, p.parent_id, p.name, p.translations, up.depth + 1 from up \
           join categories p on p.site_id = $1 and p.id = up.parent_id where up.depth < 10) \
         select up.start, coalesce(c.handle, c.id), array_agg(up.name order by up.depth desc), \
                jsonb_agg(up.translations order by up.depth desc) \
         from up join categories c on c.site_id = $1 and c.id = up.start group by up.start, c.handle, c.id",
    )
    .bind(site_id)
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, handle, names, translations)| {
            let translations = translations.0;
            (
                id.clone(),
                CategoryPath {
                    id,
                    handle,
                    names,
                    translations,
                },
            )
        })
        .collect())
}

/// The id of the category with this handle (or id).
pub async fn category_by_handle(
    conn: &mut PgConnection,
    site_id: &str,
    handle: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "select id from categories where site_id = $1 and (handle = $2 or id = $2) \
         order by handle is null limit 1",
    )
    .bind(site_id)
    .bind(handle)
    .fetch_optional(conn)
    .await?)
}

/// One level of a category path: the title in the default language and in others.
#[derive(Debug, Clone, Default)]
pub struct PathLevel {
    pub name: String,
    pub translations: Vec<(String, Option<String>)>,
}

/// The category at the end of `levels` (from the root, matched by default-language title), creating the
/// missing ones with their titles in every language given.
pub async fn category_for_path(
    conn: &mut PgConnection,
    site_id: &str,
    levels: &[PathLevel],
) -> Result<String> {
    let names = levels;
    use crate::domain::catalog::categories::{self, NewCategory};
    if names.is_empty() || names.len() > MAX_LEVEL {
        return Err(Error::invalid(
            "category.path",
            format!("from 1 to {MAX_LEVEL} levels"),
        ));
    }
    let mut parent: Option<String> = None;
    for PathLevel { name, translations } in names {
        let found: Option<String> = sqlx::query_scalar(
            "select id from categories where site_id = $1 and parent_id is not distinct from $2 \
             and lower(name) = lower($3) order by position, id limit 1",
        )
        .bind(site_id)
        .bind(&parent)
        .bind(name.trim())
        .fetch_optional(&mut *conn)
        .await?;
        let id = match found {
            Some(id) => id,
            None => {
                let slug = free_category_slug(conn, site_id, name).await?;
                let new = NewCategory {
                    name: name.clone(),
                    slug: Some(slug),
                    parent_id: parent.clone(),
                    position: None,
                    description: None,
                };
                let id = categories::create(conn, site_id, new).await?.id;
                super::categories::set_translations(conn, site_id, &id, translations).await?;
                id
            }
        };
        parent = Some(id);
    }
    parent.ok_or_else(|| Error::Internal("an empty category path".into()))
}

/// A slug for a new category named `name` that no category of the site has yet.
async fn free_category_slug(conn: &mut PgConnection, site_id: &str, name: &str) -> Result<String> {
    let base = crate::domain::catalog::slug::slugify(name);
    let base = if base.is_empty() {
        "category".to_string()
    } else {
        base
    };
    let taken: Vec<String> = sqlx::query_scalar(
        "select slug from categories where site_id = $1 and (slug = $2 or slug like $2 || '-%')",
    )
    .bind(site_id)
    .bind(&base)
    .fetch_all(conn)
    .await?;
    if !taken.contains(&base) {
        return Ok(base);
    }
    Ok((2..)
        .map(|n| format!("{base}-{n}"))
        .find(|s| !taken.contains(s))
        .unwrap_or(base))
}

/// The handles of the products `ids` (the id where a product has none), for order lines.
pub async fn product_handles(
    conn: &mut PgConnection,
    site_id: &str,
    ids: &[String],
) -> Result<std::collections::HashMap<String, String>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select id, coalesce(handle, id) from products where site_id = $1 and id = any($2)",
    )
    .bind(site_id)
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}
