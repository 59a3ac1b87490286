//! Balances as a way to pay at checkout. The payment step chooses gift cards (by code), an amount of store
//! credit and a number of loyalty points ([`choose`]); the quote applies them ([`apply`]: points as a
//! discount, cards and credit against the total); `complete` spends them inside the order's transaction
//! ([`spend`]), so any refusal places nothing and spends nothing; cancelling or refunding the order gives
//! them back, once ([`give_back`]).

use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use super::{gift_cards, loyalty, store_credit};
use crate::domain::error::{Error, Result, Validator};
use crate::domain::pricing::Totals;

/// At most this many gift cards pay for one order.
pub const MAX_GIFT_CARDS: usize = 10;

/// What the payment step chose, checked, with codes resolved to cards (the session never keeps a code).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    #[serde(default)]
    pub gift_card_ids: Vec<String>,
    #[serde(default)]
    pub store_credit_amount: i64,
    #[serde(default)]
    pub loyalty_points: i64,
}

/// A gift card applied to a checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedCard {
    pub gift_card_id: String,
    /// The code's last four characters, for the buyer to recognise it.
    #[serde(default)]
    pub last_characters: String,
    pub amount: i64,
}

/// The balances a checkout pays with, as applied to its current totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub gift_cards: Vec<AppliedCard>,
    pub gift_card_amount: i64,
    pub store_credit_amount: i64,
    /// Points redeemed for `Totals::loyalty_discount`.
    pub loyalty_points: i64,
    /// What the payment method still has to pay: the total less gift cards and store credit.
    pub amount_due: i64,
}

/// What the buyer asked to pay with.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    pub gift_card_codes: &'a [String],
    pub store_credit_amount: Option<i64>,
    pub loyalty_points: Option<i64>,
}

/// Checks what the buyer asked to pay with: cards that exist, can be spent and are in the cart's currency;
/// store credit and points of the checkout's customer, who has that much. Nothing is reserved: `complete`
/// spends, and refuses if the balance is gone by then.
pub async fn choose(
    conn: &mut PgConnection,
    site_id: &str,
    customer_id: Option<&str>,
    currency: &str,
    request: Request<'_>,
) -> Result<Choice> {
    let store_credit_amount = request.store_credit_amount.unwrap_or(0);
    let loyalty_points = request.loyalty_points.unwrap_or(0);
    let mut v = Validator::new();
    v.check(
        request.gift_card_codes.len() <= MAX_GIFT_CARDS,
        "gift_card_codes",
        format!("at most {MAX_GIFT_CARDS} codes"),
    );
    if store_credit_amount != 0 {
        super::check_amount(&mut v, "store_credit_amount", store_credit_amount);
        v.rule(
            customer_id.is_some(),
            "store_credit_amount",
            "store credit needs the checkout's customer (a signed-in customer, or `customerId` at `contact`)",
        );
    }
    if loyalty_points != 0 {
        v.check(
            (1..=loyalty::MAX_POINTS).contains(&loyalty_points),
            "loyalty_points",
            format!("must be an integer from 1 to {}", loyalty::MAX_POINTS),
        );
        v.rule(
            customer_id.is_some(),
            "loyalty_points",
            "loyalty points need the checkout's customer (a signed-in customer, or `customerId` at `contact`)",
        );
    }
    v.finish()?;

    let mut gift_card_ids: Vec<String> = Vec::new();
    for (i, code) in request.gift_card_codes.iter().enumerate() {
        let field = format!("gift_card_codes[{i}]");
        let card = gift_cards::by_code(conn, site_id, code)
            .await?
            .ok_or_else(|| Error::unprocessable(field.as_str(), "no gift card with this code"))?;
        if gift_card_ids.contains(&card.id) {
            return Err(Error::unprocessable(
                field,
                "this gift card is already listed",
            ));
        }
        if card.currency != currency {
            return Err(Error::unprocessable(
                field,
                format!(
                    "this gift card is in {}; the cart is in {currency}",
                    card.currency
                ),
            ));
        }
        if let Some(reason) = gift_cards::unusable(&card) {
            return Err(Error::conflict(reason));
        }
        gift_card_ids.push(card.id);
    }
    if let Some(customer_id) = customer_id.filter(|_| store_credit_amount > 0 || loyalty_points > 0)
    {
        // One read of both balances; the order of the checks below stays that of the answers.
        let (balance, points) = balances_of(conn, site_id, customer_id).await?;
        if store_credit_amount > 0 && balance < store_credit_amount {
            return Err(Error::conflict(format!(
                "Insufficient store credit: the balance is {balance}"
            )));
        }
        if loyalty_points > 0 {
            if !loyalty::program::get(conn, site_id).await?.enabled {
                return Err(Error::unprocessable(
                    "loyalty_points",
                    "the loyalty program is not enabled",
                ));
            }
            if points < loyalty_points {
                return Err(Error::Conflict {
                    code: "INSUFFICIENT_POINTS",
                    message: format!("Not enough loyalty points: the balance is {points}"),
                });
            }
        }
    }
    Ok(Choice {
        gift_card_ids,
        store_credit_amount,
        loyalty_points,
    })
}

/// Review's and complete's check that every chosen card can still be spent (what is left on it decides
/// how much it pays).
pub async fn check_cards(conn: &mut PgConnection, site_id: &str, choice: &Choice) -> Result<()> {
    for id in &choice.gift_card_ids {
        let card = gift_cards::find(conn, site_id, id, false).await?;
        if let Some(reason) = gift_cards::unusable(&card) {
            return Err(Error::Conflict {
                code: "GIFT_CARD_UNUSABLE",
                message: format!("{reason}: go back to `payment` and choose another"),
            });
        }
    }
    Ok(())
}

/// A customer's store credit balance and loyalty points.
async fn balances_of(
    conn: &mut PgConnection,
    site_id: &str,
    customer_id: &str,
) -> Result<(i64, i64)> {
    let balances: (i64, i64) = sqlx::query_as(
        "select coalesce((select balance from store_credit_accounts where site_id = $1 and customer_id = $2), 0), \
         coalesce((select points from loyalty_accounts where site_id = $1 and customer_id = $2), 0)",
    )
    .bind(site_id)
    .bind(customer_id)
    .fetch_one(conn)
    .await?;
    Ok(balances)
}

/// The rate points redeem at and what the chosen points are worth (pricing caps the discount).
pub async fn points_value(
    conn: &mut PgConnection,
    site_id: &str,
    choice: &Choice,
) -> Result<(i64, i64)> {
    if choice.loyalty_points == 0 {
        return Ok((1, 0));
    }
    let program = loyalty::program::get(conn, site_id).await?;
    let value = program
        .value_of(choice.loyalty_points)
        .map_err(|e| e.blaming("loyalty_points"))?;
    Ok((program.redemption_rate, value))
}

/// Applies the choice to priced totals: the points the loyalty discount needs (rounded up to whole points),
/// then each card in the order given for up to its balance, then store credit, until nothing is due.
pub async fn apply(
    conn: &mut PgConnection,
    site_id: &str,
    choice: &Choice,
    rate: i64,
    totals: &Totals,
) -> Result<Applied> {
    let mut due = totals.total;
    let mut gift_cards = Vec::new();
    for id in &choice.gift_card_ids {
        let card = gift_cards::find(conn, site_id, id, false).await?;
        let usable = if gift_cards::unusable(&card).is_none() {
            card.balance
        } else {
            0
        };
        let amount = usable.min(due);
        due -= amount;
        let last = card.code.len().saturating_sub(4);
        gift_cards.push(AppliedCard {
            gift_card_id: card.id,
            last_characters: card.code[last..].to_string(),
            amount,
        });
    }
    let store_credit_amount = choice.store_credit_amount.min(due);
    due -= store_credit_amount;
    let loyalty_points = if totals.loyalty_discount == 0 {
        0
    } else {
        // Whole points: the last one may be worth more than what was left to discount.
        (totals.loyalty_discount + rate - 1) / rate
    };
    Ok(Applied {
        gift_card_amount: gift_cards.iter().map(|c| c.amount).sum(),
        gift_cards,
        store_credit_amount,
        loyalty_points: loyalty_points.min(choice.loyalty_points),
        amount_due: due,
    })
}

/// Spends what was applied, for the order being placed: cards in id order (so two orders sharing cards
/// cannot deadlock), then store credit, then points. Any refusal fails the whole placement.
pub async fn spend(
    tx: &mut PgConnection,
    site_id: &str,
    customer_id: Option<&str>,
    order_id: &str,
    applied: &Applied,
) -> Result<()> {
    let mut cards: Vec<&AppliedCard> = applied.gift_cards.iter().filter(|c| c.amount > 0).collect();
    cards.sort_by(|a, b| a.gift_card_id.cmp(&b.gift_card_id));
    for card in cards {
        gift_cards::spend(tx, site_id, &card.gift_card_id, card.amount, Some(order_id)).await?;
    }
    let needs_customer = applied.store_credit_amount > 0 || applied.loyalty_points > 0;
    let Some(customer_id) = customer_id.filter(|_| needs_customer) else {
        return Ok(());
    };
    if applied.store_credit_amount > 0 {
        store_credit::spend(
            tx,
            site_id,
            customer_id,
            applied.store_credit_amount,
            order_id,
        )
        .await?;
    }
    if applied.loyalty_points > 0 {
        loyalty::spend(
            tx,
            site_id,
            customer_id,
            applied.loyalty_points,
            Some(order_id),
            Some("Redeemed at checkout"),
        )
        .await?;
    }
    Ok(())
}

/// What an order paid with balances, as kept on the order.
#[derive(Debug, Clone, Default)]
pub struct Paid {
    pub customer_id: Option<String>,
    pub gift_cards: Vec<AppliedCard>,
    pub store_credit_amount: i64,
    pub loyalty_points: i64,
}

/// Gives back what an order paid with balances and takes back the points it earned: once per order (the
/// caller holds the order's row lock and marks it returned).
pub async fn give_back(
    tx: &mut PgConnection,
    site_id: &str,
    order_id: &str,
    paid: &Paid,
) -> Result<()> {
    let mut cards: Vec<&AppliedCard> = paid.gift_cards.iter().filter(|c| c.amount > 0).collect();
    cards.sort_by(|a, b| a.gift_card_id.cmp(&b.gift_card_id));
    for card in cards {
        gift_cards::give_back(tx, site_id, &card.gift_card_id, card.amount, order_id).await?;
    }
    if let Some(customer_id) = &paid.customer_id {
        if paid.store_credit_amount > 0 {
            store_credit::give_back(tx, site_id, customer_id, paid.store_credit_amount, order_id)
                .await?;
        }
        if paid.loyalty_points > 0 {
            loyalty::give_back(tx, site_id, customer_id, paid.loyalty_points, order_id).await?;
        }
    }
    loyalty::reverse_earning(tx, site_id, order_id).await
}
