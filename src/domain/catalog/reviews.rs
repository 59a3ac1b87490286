//! Product reviews: submitted as PENDING (PUBLISHED when the site auto-approves), moderated to PUBLISHED,
//! ARCHIVED or SPAM. A review is a verified purchase when its reviewer's email placed a live order of the
//! product that was not cancelled. A product's rating summary counts its published reviews and moves in the
//! same transaction as each review that changes it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection, Postgres, QueryBuilder};

use crate::domain::caller::Caller;
use crate::domain::customers::Email;
use crate::domain::error::{Error, Result, Validator, on_unique};
use crate::domain::events;
use crate::domain::pagination::{self, Page, PageRequest};
use crate::domain::sites;
use crate::ids;

pub const ID_PREFIX: &str = "rev";
const ONE_PER_REVIEWER: &str = "reviews_one_per_reviewer";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReviewStatus {
    Pending,
    Published,
    Archived,
    Spam,
}

impl ReviewStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Pending => "PENDING",
            ReviewStatus::Published => "PUBLISHED",
            ReviewStatus::Archived => "ARCHIVED",
            ReviewStatus::Spam => "SPAM",
        }
    }

    fn parse(s: &str) -> ReviewStatus {
        match s {
            "PUBLISHED" => ReviewStatus::Published,
            "ARCHIVED" => ReviewStatus::Archived,
            "SPAM" => ReviewStatus::Spam,
            _ => ReviewStatus::Pending,
        }
    }
}

/// A review. Serialises to the `review.created` payload (without the reviewer's email).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Review {
    pub id: String,
    pub product_id: String,
    pub rating: i16,
    pub title: Option<String>,
    pub content: String,
    pub reviewer_name: String,
    #[serde(skip)]
    pub reviewer_email: String,
    pub status: ReviewStatus,
    pub is_verified_purchase: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct Row {
    id: String,
    product_id: String,
    rating: i16,
    title: Option<String>,
    content: String,
    reviewer_name: String,
    reviewer_email: String,
    status: String,
    is_verified_purchase: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Row> for Review {
    fn from(r: Row) -> Self {
        Review {
            id: r.id,
            product_id: r.product_id,
            rating: r.rating,
            title: r.title,
            content: r.content,
            reviewer_name: r.reviewer_name,
            reviewer_email: r.reviewer_email,
            status: ReviewStatus::parse(&r.status),
            is_verified_purchase: r.is_verified_purchase,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const COLUMNS: &str = "id, product_id, rating, title, content, reviewer_name, reviewer_email, status, \
    is_verified_purchase, created_at, updated_at";

#[derive(Debug)]
pub struct NewReview {
    pub rating: i32,
    pub title: Option<String>,
    pub content: String,
    pub reviewer_name: String,
    pub reviewer_email: String,
}

/// Which reviews a list shows: one product's or all, in one status (PUBLISHED unless asked).
#[derive(Debug, Default)]
pub struct ReviewFilter {
    pub product_id: Option<String>,
    pub status: Option<ReviewStatus>,
}

/// The product must exist and be one the caller may see.
async fn check_product(conn: &mut PgConnection, caller: &Caller, product_id: &str) -> Result<()> {
    let status: Option<String> =
        sqlx::query_scalar("select status from products where site_id = $1 and id = $2")
            .bind(caller.site_id())
            .bind(product_id)
            .fetch_optional(conn)
            .await?;
    match status {
        Some(s) if s == "ACTIVE" || caller.sees_unpublished() => Ok(()),
        _ => Err(Error::NotFound("product")),
    }
}

/// Reviews newest first. Browsers (publishable keys) see published reviews only.
pub async fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    filter: &ReviewFilter,
    page: &PageRequest,
) -> Result<Page<Review>> {
    let status = filter.status.unwrap_or(ReviewStatus::Published);
    if status != ReviewStatus::Published && !caller.sees_unpublished() {
        return Err(Error::Forbidden(
            "Publishable keys can only read published reviews".into(),
        ));
    }
    if let Some(product_id) = &filter.product_id {
        check_product(conn, caller, product_id).await?;
    }
    let conditions = |qb: &mut QueryBuilder<Postgres>| {
        qb.push(" where site_id = ")
            .push_bind(caller.site_id().to_string())
            .push(" and status = ")
            .push_bind(status.as_str());
        if let Some(product_id) = &filter.product_id {
            qb.push(" and product_id = ").push_bind(product_id.clone());
        }
    };
    let select = format!("select {COLUMNS} from reviews");
    let (rows, total) =
        pagination::fetch::<Row>(conn, page, &select, " from reviews", "id", true, conditions)
            .await?;
    Ok(Page::from_rows(page, rows, total, |r| &r.id).map(Review::from))
}

/// Submits a review of a product the caller may see, and records `review.created`.
pub async fn create(
    tx: &mut PgConnection,
    caller: &Caller,
    product_id: &str,
    new: NewReview,
) -> Result<Review> {
    let site_id = caller.site_id();
    let title = new
        .title
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    let name = new.reviewer_name.trim().to_string();
    let mut v = Validator::new();
    v.check(
        (1..=5).contains(&new.rating),
        "rating",
        "must be an integer from 1 to 5",
    );
    if let Some(title) = &title {
        v.text("title", title, 1, 200);
    }
    v.text("content", new.content.trim(), 1, 5000);
    v.text("reviewer_name", &name, 1, 100);
    let email = match Email::parse(&new.reviewer_email) {
        Ok(email) => Some(email),
        Err(message) => {
            v.error("reviewer_email", message);
            None
        }
    };
    v.finish()?;
    let email = email.map(|e| e.as_str().to_string()).unwrap_or_default();
    check_product(tx, caller, product_id).await?;
    let site = sites::get(&mut *tx, site_id).await?;
    let status = if site.reviews_auto_approve {
        ReviewStatus::Published
    } else {
        ReviewStatus::Pending
    };
    let verified: bool = sqlx::query_scalar(
        "select exists (select 1 from orders o join order_items i on i.site_id = o.site_id and i.order_id = o.id \
         where o.site_id = $1 and lower(o.email) = lower($2) and i.product_id = $3 \
         and not o.is_test and o.status not in ('CANCELLED'))",
    )
    .bind(site_id)
    .bind(&email)
    .bind(product_id)
    .fetch_one(&mut *tx)
    .await?;
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into reviews (site_id, id, product_id, rating, title, content, reviewer_name, reviewer_email, \
         status, is_verified_purchase) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning {COLUMNS}"
    )))
    .bind(site_id)
    .bind(ids::new_id(ID_PREFIX))
    .bind(product_id)
    .bind(new.rating as i16)
    .bind(&title)
    .bind(new.content.trim())
    .bind(&name)
    .bind(&email)
    .bind(status.as_str())
    .bind(verified)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| {
        on_unique(e, ONE_PER_REVIEWER, || {
            "This reviewer has already reviewed this product".to_string()
        })
    })?;
    let review = Review::from(row);
    if status == ReviewStatus::Published {
        count(tx, site_id, product_id, 1, review.rating).await?;
    }
    events::record(tx, site_id, "review.created", &review).await?;
    Ok(review)
}

async fn find(tx: &mut PgConnection, site_id: &str, id: &str) -> Result<Review> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from reviews where site_id = $1 and id = $2 for update"
    )))
    .bind(site_id)
    .bind(id)
    .fetch_optional(tx)
    .await?;
    row.map(Into::into).ok_or(Error::NotFound("review"))
}

/// Moves a review to another status; the product's summary follows in the same transaction.
pub async fn moderate(
    tx: &mut PgConnection,
    caller: &Caller,
    id: &str,
    status: ReviewStatus,
) -> Result<Review> {
    let site_id = caller.site_id();
    let current = find(tx, site_id, id).await?;
    if current.status == status {
        return Ok(current);
    }
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update reviews set status = $3, updated_at = now() where site_id = $1 and id = $2 returning {COLUMNS}"
    )))
    .bind(site_id)
    .bind(id)
    .bind(status.as_str())
    .fetch_one(&mut *tx)
    .await?;
    let was = current.status == ReviewStatus::Published;
    let is = status == ReviewStatus::Published;
    if was != is {
        let sign = if is { 1 } else { -1 };
        count(tx, site_id, &current.product_id, sign, current.rating).await?;
    }
    Ok(row.into())
}

/// Deletes a review (and its part of the product's summary).
pub async fn delete(tx: &mut PgConnection, caller: &Caller, id: &str) -> Result<()> {
    let site_id = caller.site_id();
    let current = find(tx, site_id, id).await?;
    sqlx::query("delete from reviews where site_id = $1 and id = $2")
        .bind(site_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if current.status == ReviewStatus::Published {
        count(tx, site_id, &current.product_id, -1, current.rating).await?;
    }
    Ok(())
}

/// Adds (`sign` 1) or removes (-1) a published review's rating from its product's summary.
async fn count(
    tx: &mut PgConnection,
    site_id: &str,
    product_id: &str,
    sign: i32,
    rating: i16,
) -> Result<()> {
    sqlx::query(
        "update products set review_count = review_count + $3, rating_total = rating_total + $4 \
         where site_id = $1 and id = $2",
    )
    .bind(site_id)
    .bind(product_id)
    .bind(sign)
    .bind(i64::from(sign) * i64::from(rating))
    .execute(tx)
    .await?;
    Ok(())
}

/// The average of `count` ratings summing to `total`, to two decimals (none without reviews).
pub fn average_rating(count: i32, total: i64) -> Option<f64> {
    if count <= 0 {
        return None;
    }
    // Hundredths, rounded half up, from integers; the float is only the wire form.
    let hundredths = (total * 200 + i64::from(count)) / (2 * i64::from(count));
    Some(hundredths as f64 / 100.0)
}

#[cfg(test)]
mod tests {
    use super::average_rating;

    #[test]
    fn averages_round_to_hundredths() {
        assert_eq!(average_rating(0, 0), None);
        assert_eq!(average_rating(3, 14), Some(4.67));
        assert_eq!(average_rating(8, 37), Some(4.63)); // 4.625 rounds half up
        assert_eq!(average_rating(1, 5), Some(5.0));
    }
}
