//! Promotions: discount codes with limits. Status is derived; uses are counted atomically when an
//! order is placed.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, Postgres, QueryBuilder};

use super::error::{Error, Result, Validator, on_unique};
use super::pagination::{self, Page, PageRequest};
use super::patch;
use crate::ids;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromotionType {
    Percentage,
    FixedAmount,
    FreeShipping,
}

impl PromotionType {
    fn as_str(self) -> &'static str {
        match self {
            PromotionType::Percentage => "PERCENTAGE",
            PromotionType::FixedAmount => "FIXED_AMOUNT",
            PromotionType::FreeShipping => "FREE_SHIPPING",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "PERCENTAGE" => PromotionType::Percentage,
            "FIXED_AMOUNT" => PromotionType::FixedAmount,
            _ => PromotionType::FreeShipping,
        }
    }
}

/// Derived from the window and the uses, never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromotionStatus {
    Active,
    Scheduled,
    Expired,
    Exhausted,
}

#[derive(Debug, Clone)]
pub struct Promotion {
    pub id: String,
    pub code: String,
    pub kind: PromotionType,
    /// Percentage: whole percent; fixed amount: minor units; free shipping: 0.
    pub value: i64,
    pub status: PromotionStatus,
    /// Minimum cart subtotal in minor units.
    pub min_order_amount: Option<i64>,
    pub max_uses: Option<i32>,
    pub per_customer_limit: Option<i32>,
    pub used_count: i32,
    pub starts_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct Row {
    id: String,
    code: String,
    kind: String,
    value: i64,
    min_order_amount: Option<i64>,
    max_uses: Option<i32>,
    per_customer_limit: Option<i32>,
    used_count: i32,
    starts_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Row> for Promotion {
    fn from(r: Row) -> Self {
        let now = Utc::now();
        let status = if r.expires_at.is_some_and(|t| t <= now) {
            PromotionStatus::Expired
        } else if r.max_uses.is_some_and(|max| r.used_count >= max) {
            PromotionStatus::Exhausted
        } else if r.starts_at.is_some_and(|t| t > now) {
            PromotionStatus::Scheduled
        } else {
            PromotionStatus::Active
        };
        Promotion {
            id: r.id,
            code: r.code,
            kind: PromotionType::parse(&r.kind),
            value: r.value,
            status,
            min_order_amount: r.min_order_amount,
            max_uses: r.max_uses,
            per_customer_limit: r.per_customer_limit,
            used_count: r.used_count,
            starts_at: r.starts_at,
            expires_at: r.expires_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const COLUMNS: &str = "id, code, type as kind, value, min_order_amount, max_uses, per_customer_limit, used_count, \
    starts_at, expires_at, created_at, updated_at";

/// The SQL condition for a derived status (mirrors `From<Row>`).
fn status_condition(status: PromotionStatus) -> &'static str {
    match status {
        PromotionStatus::Expired => "expires_at <= now()",
        PromotionStatus::Exhausted => {
            "(expires_at is null or expires_at > now()) and max_uses is not null and used_count >= max_uses"
        }
        PromotionStatus::Scheduled => {
            "(expires_at is null or expires_at > now()) and (max_uses is null or used_count < max_uses) and starts_at > now()"
        }
        PromotionStatus::Active => {
            "(expires_at is null or expires_at > now()) and (max_uses is null or used_count < max_uses) and (starts_at is null or starts_at <= now())"
        }
    }
}

/// A promotion to create.
#[derive(Debug)]
pub struct NewPromotion {
    pub code: String,
    pub kind: PromotionType,
    pub value: i64,
    pub min_order_amount: Option<i64>,
    pub max_uses: Option<i32>,
    pub per_customer_limit: Option<i32>,
    pub starts_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Changes to a promotion's limits and window (its code, type and value stay fixed): `None` leaves a
/// field, `Some(None)` clears it.
#[derive(Debug, Default)]
pub struct PromotionPatch {
    pub min_order_amount: Option<Option<i64>>,
    pub max_uses: Option<Option<i32>>,
    pub per_customer_limit: Option<Option<i32>>,
    pub starts_at: Option<Option<DateTime<Utc>>>,
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

fn validate_limits(
    v: &mut Validator,
    min_order_amount: Option<i64>,
    max_uses: Option<i32>,
    per_customer_limit: Option<i32>,
    starts_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
) {
    if let Some(amount) = min_order_amount {
        v.money("min_order_amount", amount);
    }
    v.check(
        max_uses.is_none_or(|n| n > 0),
        "max_uses",
        "must be a positive integer (or null for unlimited)",
    );
    v.check(
        per_customer_limit.is_none_or(|n| n > 0),
        "per_customer_limit",
        "must be a positive integer",
    );
    if let (Some(start), Some(end)) = (starts_at, expires_at) {
        v.rule(end > start, "expires_at", "must be after the start");
    }
}

pub async fn create(
    conn: &mut PgConnection,
    site_id: &str,
    input: NewPromotion,
) -> Result<Promotion> {
    let code = input.code.trim().to_string();
    let mut v = Validator::new();
    v.check(
        !code.is_empty()
            && code.len() <= 64
            && code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "code",
        "must be 1–64 letters, digits, `-` or `_`",
    );
    // What `value` means depends on `type`: the well-formedness first (a non-negative amount), then the rule
    // that ties it to the type.
    v.money("value", input.value);
    match input.kind {
        PromotionType::Percentage => v.rule(
            (1..=100).contains(&input.value),
            "value",
            "a percentage from 1 to 100",
        ),
        PromotionType::FixedAmount => v.rule(
            input.value > 0,
            "value",
            "a positive amount in minor units (cents)",
        ),
        PromotionType::FreeShipping => v.rule(
            input.value == 0,
            "value",
            "must be 0 (or omitted) for FREE_SHIPPING",
        ),
    }
    validate_limits(
        &mut v,
        input.min_order_amount,
        input.max_uses,
        input.per_customer_limit,
        input.starts_at,
        input.expires_at,
    );
    v.finish()?;
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "insert into promotions (site_id, id, code, type, value, min_order_amount, max_uses, per_customer_limit, starts_at, expires_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning {COLUMNS}"
    )))
    .bind(site_id)
    .bind(ids::new_id("promo"))
    .bind(&code)
    .bind(input.kind.as_str())
    .bind(input.value)
    .bind(input.min_order_amount)
    .bind(input.max_uses)
    .bind(input.per_customer_limit)
    .bind(input.starts_at)
    .bind(input.expires_at)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| on_unique(e, "promotions_code", || format!("a promotion with code `{code}` already exists")))?;
    Ok(row.into())
}

pub async fn get(conn: &mut PgConnection, site_id: &str, id: &str) -> Result<Promotion> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from promotions where site_id = $1 and id = $2"
    )))
    .bind(site_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(Promotion::from).ok_or(Error::NotFound("promotion"))
}

/// A promotion by code, case-insensitively.
pub async fn find_by_code(
    conn: &mut PgConnection,
    site_id: &str,
    code: &str,
) -> Result<Option<Promotion>> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from promotions where site_id = $1 and lower(code) = lower($2)"
    )))
    .bind(site_id)
    .bind(code.trim())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(Promotion::from))
}

pub async fn list(
    conn: &mut PgConnection,
    site_id: &str,
    status: Option<PromotionStatus>,
    page: &PageRequest,
) -> Result<Page<Promotion>> {
    let filter = |qb: &mut QueryBuilder<Postgres>| {
        qb.push(" where site_id = ").push_bind(site_id.to_string());
        if let Some(status) = status {
            qb.push(" and ").push(status_condition(status));
        }
    };
    let select = format!("select {COLUMNS} from promotions");
    let (rows, total) =
        pagination::fetch::<Row>(conn, page, &select, " from promotions", "id", false, filter)
            .await?;
    Ok(Page::from_rows(
        page,
        rows.into_iter().map(Promotion::from).collect(),
        total,
        |p| &p.id,
    ))
}

pub async fn update(
    conn: &mut PgConnection,
    site_id: &str,
    id: &str,
    p: PromotionPatch,
) -> Result<Promotion> {
    let current = get(&mut *conn, site_id, id).await?;
    let min_order_amount = patch::apply(current.min_order_amount, p.min_order_amount);
    let max_uses = patch::apply(current.max_uses, p.max_uses);
    let per_customer_limit = patch::apply(current.per_customer_limit, p.per_customer_limit);
    let starts_at = patch::apply(current.starts_at, p.starts_at);
    let expires_at = patch::apply(current.expires_at, p.expires_at);
    let mut v = Validator::new();
    validate_limits(
        &mut v,
        min_order_amount,
        max_uses,
        per_customer_limit,
        starts_at,
        expires_at,
    );
    v.rule(
        max_uses.is_none_or(|m| m >= current.used_count),
        "max_uses",
        format!("must be at least the {} uses so far", current.used_count),
    );
    v.finish()?;
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update promotions set min_order_amount = $3, max_uses = $4, per_customer_limit = $5, starts_at = $6, expires_at = $7 \
         where site_id = $1 and id = $2 returning {COLUMNS}"
    )))
    .bind(site_id)
    .bind(id)
    .bind(min_order_amount)
    .bind(max_uses)
    .bind(per_customer_limit)
    .bind(starts_at)
    .bind(expires_at)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.constraint() == Some("promotions_within_max_uses") => {
            Error::conflict("the use limit is below the uses counted meanwhile")
        }
        _ => Error::Database(e),
    })?;
    Ok(row.into())
}

pub async fn delete(conn: &mut PgConnection, site_id: &str, id: &str) -> Result<()> {
    let n = sqlx::query("delete from promotions where site_id = $1 and id = $2")
        .bind(site_id)
        .bind(id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if n == 0 {
        Err(Error::NotFound("promotion"))
    } else {
        Ok(())
    }
}

/// Why a code does not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidReason {
    NotFound,
    Expired,
    NotStarted,
    Exhausted,
    MinOrderNotMet,
    CustomerLimitReached,
}

impl InvalidReason {
    pub fn as_str(self) -> &'static str {
        match self {
            InvalidReason::NotFound => "NOT_FOUND",
            InvalidReason::Expired => "EXPIRED",
            InvalidReason::NotStarted => "NOT_STARTED",
            InvalidReason::Exhausted => "EXHAUSTED",
            InvalidReason::MinOrderNotMet => "MIN_ORDER_NOT_MET",
            InvalidReason::CustomerLimitReached => "CUSTOMER_LIMIT_REACHED",
        }
    }
}

/// The outcome of checking a code against a subtotal (and optionally a buyer's email).
#[derive(Debug, Clone)]
pub struct Check {
    pub promotion: Option<Promotion>,
    pub invalid: Option<InvalidReason>,
    /// For [`InvalidReason::MinOrderNotMet`]: how much more the subtotal needs.
    pub missing_amount: Option<i64>,
}

/// Checks whether a code applies. Limits are checked here for feedback; they are enforced atomically when
/// the order is placed ([`redeem`]).
pub async fn check(
    conn: &mut PgConnection,
    site_id: &str,
    code: &str,
    subtotal: i64,
    email: Option<&str>,
) -> Result<Check> {
    let Some(promotion) = find_by_code(&mut *conn, site_id, code).await? else {
        return Ok(Check {
            promotion: None,
            invalid: Some(InvalidReason::NotFound),
            missing_amount: None,
        });
    };
    let mut missing_amount = None;
    let invalid = match promotion.status {
        PromotionStatus::Expired => Some(InvalidReason::Expired),
        PromotionStatus::Scheduled => Some(InvalidReason::NotStarted),
        PromotionStatus::Exhausted => Some(InvalidReason::Exhausted),
        PromotionStatus::Active => match promotion.min_order_amount.filter(|min| subtotal < *min) {
            Some(min) => {
                missing_amount = Some(min - subtotal);
                Some(InvalidReason::MinOrderNotMet)
            }
            None => match (promotion.per_customer_limit, email) {
                (Some(limit), Some(email))
                    if uses_by(&mut *conn, site_id, &promotion.id, email).await?
                        >= i64::from(limit) =>
                {
                    Some(InvalidReason::CustomerLimitReached)
                }
                _ => None,
            },
        },
    };
    Ok(Check {
        promotion: Some(promotion),
        invalid,
        missing_amount,
    })
}

async fn uses_by(
    conn: &mut PgConnection,
    site_id: &str,
    promotion_id: &str,
    email: &str,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "select count(*) from promotion_redemptions where site_id = $1 and promotion_id = $2 and lower(email) = lower($3)",
    )
    .bind(site_id)
    .bind(promotion_id)
    .bind(email)
    .fetch_one(conn)
    .await?)
}

/// Counts one use for an order, atomically: the conditional update locks the promotion row, so concurrent
/// orders cannot pass `max_uses` or a buyer's `per_customer_limit`. Fails with the reason otherwise.
pub(in crate::domain) async fn redeem(
    conn: &mut PgConnection,
    site_id: &str,
    promotion_id: &str,
    order_id: &str,
    email: &str,
    customer_id: Option<&str>,
) -> Result<()> {
    let counted: Option<Option<i32>> = sqlx::query_scalar(
        "update promotions set used_count = used_count + 1 \
         where site_id = $1 and id = $2 and (max_uses is null or used_count < max_uses) \
         and (starts_at is null or starts_at <= now()) and (expires_at is null or expires_at > now()) \
         returning per_customer_limit",
    )
    .bind(site_id)
    .bind(promotion_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(per_customer_limit) = counted else {
        return Err(Error::Conflict {
            code: "PROMOTION_INVALID",
            message: "The promotion code can no longer be used (EXHAUSTED or EXPIRED)".into(),
        });
    };
    if let Some(limit) = per_customer_limit
        && uses_by(&mut *conn, site_id, promotion_id, email).await? >= i64::from(limit)
    {
        return Err(Error::Conflict {
            code: "PROMOTION_INVALID",
            message: "The promotion code was already used the allowed number of times by this customer (CUSTOMER_LIMIT_REACHED)".into(),
        });
    }
    sqlx::query(
        "insert into promotion_redemptions (site_id, id, promotion_id, order_id, customer_id, email) values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(site_id)
    .bind(ids::new_id("prr"))
    .bind(promotion_id)
    .bind(order_id)
    .bind(customer_id)
    .bind(email)
    .execute(conn)
    .await?;
    Ok(())
}
