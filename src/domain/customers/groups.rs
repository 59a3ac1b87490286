//! Customer groups (wholesale, VIP, ...): a flat list with a slug unique per site.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};

use crate::domain::catalog::slug;
use crate::domain::error::{Result, Validator, on_unique};
use crate::domain::pagination::{self, Page, PageRequest};
use crate::ids;

#[derive(Debug, Clone, FromRow)]
pub struct CustomerGroup {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    /// How many customers are in the group (counted when read).
    pub customer_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new customer group.
#[derive(Debug)]
pub struct CustomerGroupInput {
    pub name: String,
    /// Derived from the name when omitted.
    pub slug: Option<String>,
    pub description: Option<String>,
}

const UNIQUE_SLUG: &str = "customer_groups_site_id_slug_key";
const COLUMNS: &str = "g.id, g.name, g.slug, g.description, \
    (select count(*) from customers c where c.site_id = g.site_id and c.group_id = g.id) as customer_count, \
    g.created_at, g.updated_at";

pub const ID_PREFIX: &str = "cgrp";

pub async fn list(
    conn: &mut PgConnection,
    site_id: &str,
    page: &PageRequest,
) -> Result<Page<CustomerGroup>> {
    let select = format!("select {COLUMNS} from customer_groups g");
    let (rows, total) = pagination::fetch::<CustomerGroup>(
        conn,
        page,
        &select,
        " from customer_groups g",
        "g.id",
        false,
        |qb| {
            qb.push(" where g.site_id = ")
                .push_bind(site_id.to_string());
        },
    )
    .await?;
    Ok(Page::from_rows(page, rows, total, |g| &g.id))
}

pub async fn create(
    conn: &mut PgConnection,
    site_id: &str,
    input: CustomerGroupInput,
) -> Result<CustomerGroup> {
    let name = input.name.trim().to_string();
    let slug_ = input.slug.unwrap_or_else(|| slug::slugify(&name));
    let description = super::trimmed(input.description);
    let mut v = Validator::new();
    v.text("name", &name, 1, 200);
    v.check(
        slug::is_valid(&slug_),
        "slug",
        "must be lower-case letters and digits joined by single dashes",
    );
    super::check_text(&mut v, "description", description.as_deref(), 10_000);
    v.finish()?;
    sqlx::query_as::<_, CustomerGroup>(sqlx::AssertSqlSafe(format!(
        "with g as (insert into customer_groups (site_id, id, name, slug, description) \
         values ($1, $2, $3, $4, $5) returning *) select {COLUMNS} from g"
    )))
    .bind(site_id)
    .bind(ids::new_id(ID_PREFIX))
    .bind(&name)
    .bind(&slug_)
    .bind(&description)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| {
        on_unique(e, UNIQUE_SLUG, || {
            format!("a customer group with slug `{slug_}` already exists")
        })
    })
}
