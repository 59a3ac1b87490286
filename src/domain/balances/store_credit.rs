//! Store credit: a balance per customer, credited and debited through its ledger. A debit that would take the
//! balance below zero is refused; a transaction is undone by voiding it (a reversing entry, once).

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection};

use crate::domain::caller::Caller;
use crate::domain::error::{Error, Result, Validator};
use crate::domain::money::MAX_AMOUNT;
use crate::domain::pagination::{self, Page, PageRequest};
use crate::ids;

pub const TRANSACTION_PREFIX: &str = "sct";

/// How many of the latest transactions an account read shows (older ones: [`transactions`]).
pub const RECENT: i64 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Movement {
    Credit,
    Debit,
}

#[derive(Debug, Clone, FromRow)]
pub struct StoreCreditTransaction {
    pub id: String,
    /// CREDIT, DEBIT, VOID or RETURN (given back when the order it paid for was cancelled or refunded).
    #[sqlx(rename = "type")]
    pub kind: String,
    /// Positive minor units; the type says which way it moved the balance.
    pub amount: i64,
    pub balance_after: i64,
    pub note: Option<String>,
    pub order_id: Option<String>,
    /// For a VOID: the transaction it reverses.
    pub voids: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A customer's balance, with the latest transactions first.
#[derive(Debug, Clone)]
pub struct StoreCreditAccount {
    pub customer_id: String,
    pub balance: i64,
    pub recent: Vec<StoreCreditTransaction>,
}

/// A credit or debit.
#[derive(Debug)]
pub struct Adjustment {
    pub movement: Movement,
    pub amount: i64,
    pub note: Option<String>,
    pub order_id: Option<String>,
}

const TX_COLUMNS: &str = "id, type, amount, balance_after, note, order_id, voids, created_at";

/// A customer's account (a balance of 0 when nothing was ever credited).
pub async fn account(
    conn: &mut PgConnection,
    caller: &Caller,
    customer_id: &str,
) -> Result<StoreCreditAccount> {
    let site_id = caller.site_id();
    super::customer_exists(conn, site_id, customer_id).await?;
    let balance: Option<i64> = sqlx::query_scalar(
        "select balance from store_credit_accounts where site_id = $1 and customer_id = $2",
    )
    .bind(site_id)
    .bind(customer_id)
    .fetch_optional(&mut *conn)
    .await?;
    let recent = sqlx::query_as::<_, StoreCreditTransaction>(sqlx::AssertSqlSafe(format!(
        "select {TX_COLUMNS} from store_credit_transactions where site_id = $1 and customer_id = $2 \
         order by id desc limit {RECENT}"
    )))
    .bind(site_id)
    .bind(customer_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(StoreCreditAccount {
        customer_id: customer_id.to_string(),
        balance: balance.unwrap_or(0),
        recent,
    })
}

/// A customer's transactions, newest first.
pub async fn transactions(
    conn: &mut PgConnection,
    caller: &Caller,
    customer_id: &str,
    page: &PageRequest,
) -> Result<Page<StoreCreditTransaction>> {
    let site_id = caller.site_id();
    super::customer_exists(conn, site_id, customer_id).await?;
    let select = format!("select {TX_COLUMNS} from store_credit_transactions");
    let (rows, total) = pagination::fetch::<StoreCreditTransaction>(
        conn,
        page,
        &select,
        " from store_credit_transactions",
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

/// Credits or debits a customer's balance. Runs in the caller's transaction; a debit past the balance is a
/// conflict and changes nothing.
pub async fn adjust(
    tx: &mut PgConnection,
    caller: &Caller,
    customer_id: &str,
    adjustment: Adjustment,
) -> Result<(i64, StoreCreditTransaction)> {
    let site_id = caller.site_id();
    let note = adjustment
        .note
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    let mut v = Validator::new();
    super::check_amount(&mut v, "amount", adjustment.amount);
    if let Some(note) = &note {
        v.text("note", note, 1, 1000);
    }
    v.finish()?;
    super::customer_exists(tx, site_id, customer_id).await?;
    super::check_order(tx, site_id, adjustment.order_id.as_deref()).await?;
    let (kind, delta) = match adjustment.movement {
        Movement::Credit => ("CREDIT", adjustment.amount),
        Movement::Debit => ("DEBIT", -adjustment.amount),
    };
    let balance = move_balance(tx, site_id, customer_id, delta).await?;
    let entry = record(
        tx,
        site_id,
        customer_id,
        kind,
        adjustment.amount,
        balance,
        note.as_deref(),
        adjustment.order_id.as_deref(),
        None,
    )
    .await?;
    Ok((balance, entry))
}

/// Voids a CREDIT or DEBIT with a VOID entry that reverses it: once, and only if the balance allows.
pub async fn void(
    tx: &mut PgConnection,
    caller: &Caller,
    customer_id: &str,
    transaction_id: &str,
) -> Result<(i64, StoreCreditTransaction)> {
    let site_id = caller.site_id();
    super::customer_exists(tx, site_id, customer_id).await?;
    let original = sqlx::query_as::<_, StoreCreditTransaction>(sqlx::AssertSqlSafe(format!(
        "select {TX_COLUMNS} from store_credit_transactions where site_id = $1 and customer_id = $2 and id = $3"
    )))
    .bind(site_id)
    .bind(customer_id)
    .bind(transaction_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("store credit transaction"))?;
    if original.kind == "VOID" || original.kind == "RETURN" {
        return Err(Error::conflict(format!(
            "A {} entry cannot be voided",
            original.kind
        )));
    }
    if original.kind == "DEBIT"
        && let Some(number) = paid_order(tx, site_id, original.order_id.as_deref()).await?
    {
        return Err(Error::conflict(format!(
            "This debit paid for order {number}: cancel or refund the order to return it"
        )));
    }
    let voided: bool = sqlx::query_scalar(
        "select exists (select 1 from store_credit_transactions where site_id = $1 and voids = $2)",
    )
    .bind(site_id)
    .bind(&original.id)
    .fetch_one(&mut *tx)
    .await?;
    if voided {
        return Err(Error::conflict("This transaction is already void"));
    }
    let delta = if original.kind == "CREDIT" {
        -original.amount
    } else {
        original.amount
    };
    let balance = move_balance(tx, site_id, customer_id, delta).await?;
    let entry = record(
        tx,
        site_id,
        customer_id,
        "VOID",
        original.amount,
        balance,
        None,
        original.order_id.as_deref(),
        Some(&original.id),
    )
    .await
    .map_err(|e| match e {
        Error::Database(sqlx::Error::Database(d))
            if d.constraint() == Some("store_credit_transactions_voids_key") =>
        {
            Error::conflict("This transaction is already void")
        }
        other => other,
    })?;
    Ok((balance, entry))
}

/// The number of the order a checkout paid with store credit, when `order_id` names one.
async fn paid_order(
    conn: &mut PgConnection,
    site_id: &str,
    order_id: Option<&str>,
) -> Result<Option<String>> {
    let Some(order_id) = order_id else {
        return Ok(None);
    };
    let number: Option<i64> = sqlx::query_scalar(
        "select number from orders where site_id = $1 and id = $2 and store_credit_amount > 0",
    )
    .bind(site_id)
    .bind(order_id)
    .fetch_optional(conn)
    .await?;
    Ok(number.map(|n| format!("ORD-{n}")))
}

/// Takes `amount` for an order a checkout places (a DEBIT entry), or fails as a debit past the balance.
pub(crate) async fn spend(
    tx: &mut PgConnection,
    site_id: &str,
    customer_id: &str,
    amount: i64,
    order_id: &str,
) -> Result<()> {
    let balance = move_balance(tx, site_id, customer_id, -amount).await?;
    let note = "Paid for an order at checkout";
    record(
        tx,
        site_id,
        customer_id,
        "DEBIT",
        amount,
        balance,
        Some(note),
        Some(order_id),
        None,
    )
    .await?;
    Ok(())
}

/// Gives back what an order's checkout took, when the order is cancelled or refunded (a RETURN entry).
pub(crate) async fn give_back(
    tx: &mut PgConnection,
    site_id: &str,
    customer_id: &str,
    amount: i64,
    order_id: &str,
) -> Result<()> {
    let balance = move_balance(tx, site_id, customer_id, amount).await?;
    let note = "Returned: the order was cancelled or refunded";
    record(
        tx,
        site_id,
        customer_id,
        "RETURN",
        amount,
        balance,
        Some(note),
        Some(order_id),
        None,
    )
    .await?;
    Ok(())
}

/// Moves the balance by `delta` in one conditional update (the account is opened at 0 on first use): never
/// below zero, never past the largest amount.
async fn move_balance(
    tx: &mut PgConnection,
    site_id: &str,
    customer_id: &str,
    delta: i64,
) -> Result<i64> {
    sqlx::query(
        "insert into store_credit_accounts (site_id, customer_id) values ($1, $2) on conflict do nothing",
    )
    .bind(site_id)
    .bind(customer_id)
    .execute(&mut *tx)
    .await?;
    let moved: Option<i64> = sqlx::query_scalar(
        "update store_credit_accounts set balance = balance + $3, updated_at = now() \
         where site_id = $1 and customer_id = $2 and balance + $3 >= 0 and balance + $3 <= $4 \
         returning balance",
    )
    .bind(site_id)
    .bind(customer_id)
    .bind(delta)
    .bind(MAX_AMOUNT)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(balance) = moved {
        return Ok(balance);
    }
    let balance: i64 = sqlx::query_scalar(
        "select balance from store_credit_accounts where site_id = $1 and customer_id = $2",
    )
    .bind(site_id)
    .bind(customer_id)
    .fetch_one(&mut *tx)
    .await?;
    if delta > 0 {
        Err(Error::out_of_range("amount"))
    } else {
        Err(Error::conflict(format!(
            "Insufficient store credit: the balance is {balance}"
        )))
    }
}

#[allow(clippy::too_many_arguments)]
async fn record(
    tx: &mut PgConnection,
    site_id: &str,
    customer_id: &str,
    kind: &str,
    amount: i64,
    balance_after: i64,
    note: Option<&str>,
    order_id: Option<&str>,
    voids: Option<&str>,
) -> Result<StoreCreditTransaction> {
    let entry = sqlx::query_as::<_, StoreCreditTransaction>(sqlx::AssertSqlSafe(format!(
        "insert into store_credit_transactions (site_id, id, customer_id, type, amount, balance_after, note, \
         order_id, voids) values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning {TX_COLUMNS}"
    )))
    .bind(site_id)
    .bind(ids::new_id(TRANSACTION_PREFIX))
    .bind(customer_id)
    .bind(kind)
    .bind(amount)
    .bind(balance_after)
    .bind(note)
    .bind(order_id)
    .bind(voids)
    .fetch_one(&mut *tx)
    .await?;
    Ok(entry)
}
