//! Balances that pay for orders: gift cards, store credit and loyalty points. Each is a balance and an
//! append-only ledger; a spend is one conditional update that never takes the balance below zero, so two
//! concurrent spends can never spend the same money. [`tender`] lets a checkout pay with them.

use sqlx::PgConnection;

use crate::domain::error::{Error, Result, Validator};

pub mod gift_cards;
pub mod loyalty;
pub mod store_credit;
pub mod tender;

/// An amount a balance moves by: more than zero, at most the largest amount.
fn check_amount(v: &mut Validator, field: &str, amount: i64) {
    v.check(
        amount > 0,
        field,
        "must be a positive integer amount in minor units (cents)",
    );
    v.money(field, amount);
}

/// The customer a balance's path names, or not found.
async fn customer_exists(conn: &mut PgConnection, site_id: &str, customer_id: &str) -> Result<()> {
    if crate::domain::customers::exists(conn, site_id, customer_id).await? {
        Ok(())
    } else {
        Err(Error::NotFound("customer"))
    }
}

/// The order a balance movement is recorded against, when it names one, must be one of the site's.
async fn check_order(conn: &mut PgConnection, site_id: &str, order_id: Option<&str>) -> Result<()> {
    let Some(order_id) = order_id else {
        return Ok(());
    };
    let known: bool =
        sqlx::query_scalar("select exists (select 1 from orders where site_id = $1 and id = $2)")
            .bind(site_id)
            .bind(order_id)
            .fetch_one(conn)
            .await?;
    if known {
        Ok(())
    } else {
        Err(Error::unprocessable("orderId", "no order with this id"))
    }
}
