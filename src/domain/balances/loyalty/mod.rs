//! Loyalty points: a balance per customer with its ledger. Orders earn points when they are paid (test
//! orders earn nothing) and lose that earning when refunded; operators award and deduct; redeeming turns
//! points into a discount at the program's rate. A movement that would take the balance below zero is
//! refused.

pub mod program;

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};

use crate::domain::caller::Caller;
use crate::domain::error::{Error, Result, Validator};
use crate::domain::pagination::{self, Page, PageRequest};
use crate::ids;
pub use program::{MAX_POINTS, Program, Tier};

pub const TRANSACTION_PREFIX: &str = "lt";

/// How many of the latest transactions an account read shows (older ones: [`transactions`]).
pub const RECENT: i64 = 20;

#[derive(Debug, Clone, FromRow)]
pub struct LoyaltyTransaction {
    pub id: String,
    /// EARN, AWARD, DEDUCT, REDEEM, REVERSE or RETURN.
    #[sqlx(rename = "type")]
    pub kind: String,
    /// Signed: what the entry did to the balance.
    pub points: i64,
    pub points_after: i64,
    pub note: Option<String>,
    pub order_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A customer's points, tier and latest transactions.
#[derive(Debug, Clone)]
pub struct LoyaltyAccount {
    pub customer_id: String,
    pub points: i64,
    pub lifetime_points: i64,
    pub tier: Option<String>,
    /// The next tier and the lifetime points still needed to reach it.
    pub next_tier: Option<(String, i64)>,
    pub recent: Vec<LoyaltyTransaction>,
}

/// A manual movement by an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manual {
    Award,
    Deduct,
}

/// What redeeming points gave.
#[derive(Debug, Clone)]
pub struct Redeemed {
    pub discount_amount: i64,
    pub points_remaining: i64,
    pub transaction: LoyaltyTransaction,
}

const TX_COLUMNS: &str = "id, type, points, points_after, note, order_id, created_at";

/// A customer's account (0 points when nothing was ever earned).
pub async fn account(
    conn: &mut PgConnection,
    caller: &Caller,
    customer_id: &str,
) -> Result<LoyaltyAccount> {
    let site_id = caller.site_id();
    super::customer_exists(conn, site_id, customer_id).await?;
    let (points, lifetime): (i64, i64) = sqlx::query_as(
        "select points, lifetime_points from loyalty_accounts where site_id = $1 and customer_id = $2",
    )
    .bind(site_id)
    .bind(customer_id)
    .fetch_optional(&mut *conn)
    .await?
    .unwrap_or((0, 0));
    let recent = sqlx::query_as::<_, LoyaltyTransaction>(sqlx::AssertSqlSafe(format!(
        "select {TX_COLUMNS} from loyalty_transactions where site_id = $1 and customer_id = $2 \
         order by id desc limit {RECENT}"
    )))
    .bind(site_id)
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?;
    let program = program::get(conn, site_id).await?;
    let (tier, next) = program.standing(lifetime);
    Ok(LoyaltyAccount {
        customer_id: customer_id.to_string(),
        points,
        lifetime_points: lifetime,
        tier: tier.map(|t| t.name.clone()),
        next_tier: next.map(|(t, needed)| (t.name.clone(), needed)),
        recent,
    })
}

/// A customer's transactions, newest first.
pub async fn transactions(
    conn: &mut PgConnection,
    caller: &Caller,
    customer_id: &str,
    page: &PageRequest,
) -> Result<Page<LoyaltyTransaction>> {
    let site_id = caller.site_id();
    super::customer_exists(conn, site_id, customer_id).await?;
    let select = format!("select {TX_COLUMNS} from loyalty_transactions");
    let (rows, total) = pagination::fetch::<LoyaltyTransaction>(
        conn,
        page,
        &select,
        " from loyalty_transactions",
        "id",
        true,
        |qb| {
            qb.push(" where site_id = ")
                .push_bind(site_id.to_string())
                .push(" and customer_id = ")
                .push_bind(customer_id.to_string());
        },
    )
    .await?;
    Ok(Page::from_rows(page, rows, total, |t| &t.id))
}

fn check_points(v: &mut Validator, points: i64) {
    v.check(points > 0, "points", "must be a positive integer");
    v.check(
        points <= MAX_POINTS,
        "points",
        format!("must be at most {MAX_POINTS}"),
    );
}

fn clean_note(note: Option<String>, v: &mut Validator) -> Option<String> {
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if let Some(note) = &note {
        v.text("note", note, 1, 1000);
    }
    note
}

/// Awards or deducts points by hand. A deduction past the balance is a conflict and changes nothing.
pub async fn adjust(
    tx: &mut PgConnection,
    caller: &Caller,
    customer_id: &str,
    manual: Manual,
    points: i64,
    note: Option<String>,
) -> Result<LoyaltyTransaction> {
    let site_id = caller.site_id();
    let mut v = Validator::new();
    check_points(&mut v, points);
    let note = clean_note(note, &mut v);
    v.finish()?;
    super::customer_exists(tx, site_id, customer_id).await?;
    let (kind, delta, lifetime) = match manual {
        Manual::Award => ("AWARD", points, points),
        Manual::Deduct => ("DEDUCT", -points, 0),
    };
    let after = move_points(tx, site_id, customer_id, delta, lifetime).await?;
    record(
        tx,
        site_id,
        customer_id,
        kind,
        delta,
        after,
        note.as_deref(),
        None,
    )
    .await
}

/// Redeems points for a discount at the program's rate (the program must be enabled).
pub async fn redeem(
    tx: &mut PgConnection,
    caller: &Caller,
    customer_id: &str,
    points: i64,
    order_id: Option<&str>,
) -> Result<Redeemed> {
    let site_id = caller.site_id();
    let mut v = Validator::new();
    check_points(&mut v, points);
    v.finish()?;
    let program = program::get(tx, site_id).await?;
    let discount_amount = program.value_of(points)?;
    super::customer_exists(tx, site_id, customer_id).await?;
    super::check_order(tx, site_id, order_id).await?;
    if !program.enabled {
        return Err(Error::conflict("The loyalty program is not enabled"));
    }
    let (points_remaining, transaction) =
        spend(tx, site_id, customer_id, points, order_id, None).await?;
    Ok(Redeemed {
        discount_amount,
        points_remaining,
        transaction,
    })
}

/// Takes `points` for an order (a REDEEM entry): the balance after and the entry.
pub(crate) async fn spend(
    tx: &mut PgConnection,
    site_id: &str,
    customer_id: &str,
    points: i64,
    order_id: Option<&str>,
    note: Option<&str>,
) -> Result<(i64, LoyaltyTransaction)> {
    let after = move_points(tx, site_id, customer_id, -points, 0).await?;
    let entry = record(
        tx,
        site_id,
        customer_id,
        "REDEEM",
        -points,
        after,
        note,
        order_id,
    )
    .await?;
    Ok((after, entry))
}

/// Gives back points an order redeemed (a RETURN entry), when the order is cancelled or refunded.
pub(crate) async fn give_back(
    tx: &mut PgConnection,
    site_id: &str,
    customer_id: &str,
    points: i64,
    order_id: &str,
) -> Result<()> {
    let after = move_points(tx, site_id, customer_id, points, 0).await?;
    record(
        tx,
        site_id,
        customer_id,
        "RETURN",
        points,
        after,
        Some("Returned: the order was cancelled or refunded"),
        Some(order_id),
    )
    .await?;
    Ok(())
}

/// The points an order earns when it is paid: once per order, nothing for test orders, guests or a
/// disabled program. `spent` is the order's subtotal less its discounts.
pub(crate) async fn earn(
    tx: &mut PgConnection,
    site_id: &str,
    customer_id: &str,
    order_id: &str,
    spent: i64,
) -> Result<()> {
    let program = program::get(tx, site_id).await?;
    let points = program.points_for(spent);
    if !program.enabled || points == 0 {
        return Ok(());
    }
    let earned: bool = sqlx::query_scalar(
        "select exists (select 1 from loyalty_transactions where site_id = $1 and order_id = $2 and type = 'EARN')",
    )
    .bind(site_id)
    .bind(order_id)
    .fetch_one(&mut *tx)
    .await?;
    if earned {
        return Ok(());
    }
    let after = move_points(tx, site_id, customer_id, points, points).await?;
    record(
        tx,
        site_id,
        customer_id,
        "EARN",
        points,
        after,
        None,
        Some(order_id),
    )
    .await?;
    Ok(())
}

/// Takes back what an order earned, when it is refunded or cancelled: at most what the customer still has
/// (points already spent stay spent), while tiers forget the whole earning. Once per order.
pub(crate) async fn reverse_earning(
    tx: &mut PgConnection,
    site_id: &str,
    order_id: &str,
) -> Result<()> {
    let earning: Option<(String, i64)> = sqlx::query_as(
        "select customer_id, points from loyalty_transactions where site_id = $1 and order_id = $2 and type = 'EARN' \
         and not exists (select 1 from loyalty_transactions r where r.site_id = $1 and r.order_id = $2 and r.type = 'REVERSE')",
    )
    .bind(site_id)
    .bind(order_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((customer_id, earned)) = earning else {
        return Ok(());
    };
    let held: i64 = sqlx::query_scalar(
        "select points from loyalty_accounts where site_id = $1 and customer_id = $2 for update",
    )
    .bind(site_id)
    .bind(&customer_id)
    .fetch_one(&mut *tx)
    .await?;
    let taken = held.min(earned);
    sqlx::query(
        "update loyalty_accounts set points = points - $3, lifetime_points = greatest(lifetime_points - $4, 0), \
         updated_at = now() where site_id = $1 and customer_id = $2",
    )
    .bind(site_id)
    .bind(&customer_id)
    .bind(taken)
    .bind(earned)
    .execute(&mut *tx)
    .await?;
    if taken > 0 {
        record(
            tx,
            site_id,
            &customer_id,
            "REVERSE",
            -taken,
            held - taken,
            Some("Reversed: the order was refunded or cancelled"),
            Some(order_id),
        )
        .await?;
    }
    Ok(())
}

/// Moves the balance by `delta` (and the lifetime total by `lifetime`) in one conditional update; the
/// account is opened at 0 on first use. Never below zero, never past [`MAX_POINTS`].
async fn move_points(
    tx: &mut PgConnection,
    site_id: &str,
    customer_id: &str,
    delta: i64,
    lifetime: i64,
) -> Result<i64> {
    sqlx::query(
        "insert into loyalty_accounts (site_id, customer_id) values ($1, $2) on conflict do nothing",
    )
    .bind(site_id)
    .bind(customer_id)
    .execute(&mut *tx)
    .await?;
    let moved: Option<i64> = sqlx::query_scalar(
        "update loyalty_accounts set points = points + $3, \
         lifetime_points = least(lifetime_points + $4, $5), updated_at = now() \
         where site_id = $1 and customer_id = $2 and points + $3 >= 0 and points + $3 <= $5 returning points",
    )
    .bind(site_id)
    .bind(customer_id)
    .bind(delta)
    .bind(lifetime)
    .bind(MAX_POINTS)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(points) = moved {
        return Ok(points);
    }
    if delta > 0 {
        return Err(Error::out_of_range("points"));
    }
    let points: i64 = sqlx::query_scalar(
        "select points from loyalty_accounts where site_id = $1 and customer_id = $2",
    )
    .bind(site_id)
    .bind(customer_id)
    .fetch_one(&mut *tx)
    .await?;
    Err(Error::Conflict {
        code: "INSUFFICIENT_POINTS",
        message: format!("Not enough loyalty points: the balance is {points}"),
    })
}

#[allow(clippy::too_many_arguments)]
async fn record(
    tx: &mut PgConnection,
    site_id: &str,
    customer_id: &str,
    kind: &str,
    points: i64,
    points_after: i64,
    note: Option<&str>,
    order_id: Option<&str>,
) -> Result<LoyaltyTransaction> {
    let entry = sqlx::query_as::<_, LoyaltyTransaction>(sqlx::AssertSqlSafe(format!(
        "insert into loyalty_transactions (site_id, id, customer_id, type, points, points_after, note, order_id) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning {TX_COLUMNS}"
    )))
    .bind(site_id)
    .bind(ids::new_id(TRANSACTION_PREFIX))
    .bind(customer_id)
    .bind(kind)
    .bind(points)
    .bind(points_after)
    .bind(note)
    .bind(order_id)
    .fetch_one(&mut *tx)
    .await?;
    Ok(entry)
}
