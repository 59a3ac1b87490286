//! Gift cards: issued with a balance, redeemed in parts until nothing is left, voided for good. A card's
//! code is a secret (whoever holds it can spend it): it is never logged nor put in an event or an error.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::{FromRow, PgConnection, Postgres, QueryBuilder};

use crate::domain::caller::Caller;
use crate::domain::error::{Error, Result, Validator, on_unique};
use crate::domain::events;
use crate::domain::pagination::{self, Page, PageRequest};
use crate::ids;

pub const ID_PREFIX: &str = "gc";
const TRANSACTION_PREFIX: &str = "gctx";

/// Generated codes: `GIFT-XXXX-YYYY` from letters and digits that cannot be mistaken for one another
/// (no 0/O, 1/I/L): 31^8, about 8.5 × 10^11 codes.
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const UNIQUE_CODE: &str = "gift_cards_site_id_code_key";
const CUSTOMER_FK: &str = "gift_cards_customer_fkey";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiftCardStatus {
    Active,
    Redeemed,
    Expired,
    Void,
}

impl GiftCardStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            GiftCardStatus::Active => "ACTIVE",
            GiftCardStatus::Redeemed => "REDEEMED",
            GiftCardStatus::Expired => "EXPIRED",
            GiftCardStatus::Void => "VOID",
        }
    }
}

/// A card's status, derived from its row, the same way in SQL (filters) as in [`GiftCard::status`].
const STATUS: &str = "case when g.voided_at is not null then 'VOID' when g.balance = 0 then 'REDEEMED' \
    when g.expires_at <= now() then 'EXPIRED' else 'ACTIVE' end";

const COLUMNS: &str = "g.id, g.code, g.initial_balance, g.balance, g.currency, g.customer_id, g.expires_at, \
    g.voided_at, g.note, g.created_at, g.updated_at";

#[derive(Debug, Clone, FromRow)]
pub struct GiftCard {
    pub id: String,
    pub code: String,
    /// Minor units.
    pub initial_balance: i64,
    /// What is left, in minor units.
    pub balance: i64,
    pub currency: String,
    pub customer_id: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub voided_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl GiftCard {
    pub fn status(&self) -> GiftCardStatus {
        if self.voided_at.is_some() {
            GiftCardStatus::Void
        } else if self.balance == 0 {
            GiftCardStatus::Redeemed
        } else if self.expires_at.is_some_and(|at| at <= Utc::now()) {
            GiftCardStatus::Expired
        } else {
            GiftCardStatus::Active
        }
    }
}

/// One entry of a card's ledger: its issue, a redemption, or money given back.
#[derive(Debug, Clone, FromRow)]
pub struct GiftCardTransaction {
    pub id: String,
    /// `ISSUE`, `REDEEM` or `RETURN`.
    pub kind: String,
    /// Signed minor units: the issued balance, or minus the amount redeemed.
    pub amount: i64,
    pub balance_after: i64,
    pub order_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Default)]
pub struct GiftCardFilter {
    pub status: Option<GiftCardStatus>,
    pub customer_id: Option<String>,
    /// An exact code (any case).
    pub code: Option<String>,
}

/// Issuing a card.
#[derive(Debug)]
pub struct IssueGiftCard {
    /// Generated when `None`.
    pub code: Option<String>,
    pub initial_balance: i64,
    pub customer_id: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// Changing a card: voiding it, or its expiry (`Some(None)` removes it).
#[derive(Debug, Default)]
pub struct GiftCardChange {
    pub void: bool,
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

/// A redemption: `amount` minor units, for an order of the site when given.
#[derive(Debug)]
pub struct Redemption {
    pub amount: i64,
    pub order_id: Option<String>,
}

/// A code as stored and compared: upper case, without surrounding blanks.
fn normalize(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

fn is_valid_code(code: &str) -> bool {
    (4..=40).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
}

fn generate_code() -> String {
    let part = || -> String {
        (0..4)
            .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
            .collect()
    };
    format!("GIFT-{}-{}", part(), part())
}

/// Records a card's event. Events carry the card without its code (a code spends the card): only its last
/// four characters, as receipts show them. `movement` is what moved the balance: an amount and its order.
async fn record_event(
    tx: &mut PgConnection,
    site_id: &str,
    kind: &str,
    card: &GiftCard,
    movement: Option<(i64, Option<&str>)>,
) -> Result<()> {
    let tail: String = {
        let chars: Vec<char> = card.code.chars().collect();
        chars[chars.len().saturating_sub(4)..].iter().collect()
    };
    let mut data = json!({
        "id": card.id,
        "lastCharacters": tail,
        "initialBalance": card.initial_balance,
        "balance": card.balance,
        "currency": card.currency,
        "customerId": card.customer_id,
        "expiresAt": card.expires_at,
        "status": card.status().as_str(),
        "createdAt": card.created_at,
        "updatedAt": card.updated_at,
    });
    if let (Some((amount, order_id)), Value::Object(map)) = (movement, &mut data) {
        map.insert("amount".into(), json!(amount));
        map.insert("orderId".into(), json!(order_id));
    }
    events::record(tx, site_id, kind, &data).await?;
    Ok(())
}

pub async fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    filter: &GiftCardFilter,
    page: &PageRequest,
) -> Result<Page<GiftCard>> {
    let code = filter.code.as_deref().map(normalize);
    let conditions = |qb: &mut QueryBuilder<Postgres>| {
        qb.push(" where g.site_id = ")
            .push_bind(caller.site_id().to_string());
        if let Some(status) = filter.status {
            qb.push(" and ")
                .push(STATUS)
                .push(" = ")
                .push_bind(status.as_str());
        }
        if let Some(customer_id) = &filter.customer_id {
            qb.push(" and g.customer_id = ")
                .push_bind(customer_id.clone());
        }
        if let Some(code) = &code {
            qb.push(" and g.code = ").push_bind(code.clone());
        }
    };
    let select = format!("select {COLUMNS} from gift_cards g");
    let (rows, total) = pagination::fetch::<GiftCard>(
        conn,
        page,
        &select,
        " from gift_cards g",
        "g.id",
        false,
        conditions,
    )
    .await?;
    Ok(Page::from_rows(page, rows, total, |g| &g.id))
}

pub async fn get(conn: &mut PgConnection, caller: &Caller, id: &str) -> Result<GiftCard> {
    find(conn, caller.site_id(), id, false).await
}

pub(crate) async fn find(
    conn: &mut PgConnection,
    site_id: &str,
    id: &str,
    lock: bool,
) -> Result<GiftCard> {
    sqlx::query_as::<_, GiftCard>(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from gift_cards g where g.site_id = $1 and g.id = $2{}",
        if lock { " for update" } else { "" }
    )))
    .bind(site_id)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound("gift card"))
}

/// Issues a card, with its ISSUE entry. Runs in the caller's transaction.
pub async fn issue(
    tx: &mut PgConnection,
    caller: &Caller,
    command: IssueGiftCard,
) -> Result<GiftCard> {
    let site_id = caller.site_id();
    let given = command.code.as_deref().map(normalize);
    let note = command
        .note
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty());
    let mut v = Validator::new();
    if let Some(code) = &given {
        v.check(
            is_valid_code(code),
            "code",
            "must be 4–40 letters, digits and dashes",
        );
    }
    super::check_amount(&mut v, "initialBalance", command.initial_balance);
    if let Some(note) = &note {
        v.text("note", note, 1, 1000);
    }
    v.finish()?;
    let id = ids::new_id(ID_PREFIX);
    // A generated code that collides is drawn again; a given one that collides is the client's conflict.
    for _ in 0..5 {
        let code = given.clone().unwrap_or_else(generate_code);
        let mut sp = sqlx::Connection::begin(&mut *tx).await?;
        let inserted = sqlx::query_as::<_, GiftCard>(sqlx::AssertSqlSafe(format!(
            "with g as (insert into gift_cards (site_id, id, code, initial_balance, balance, currency, \
             customer_id, expires_at, note) select $1, $2, $3, $4, $4, s.currency, $5, $6, $7 \
             from sites s where s.id = $1 returning *) select {COLUMNS} from g"
        )))
        .bind(site_id)
        .bind(&id)
        .bind(&code)
        .bind(command.initial_balance)
        .bind(&command.customer_id)
        .bind(command.expires_at)
        .bind(&note)
        .fetch_one(&mut *sp)
        .await;
        match inserted {
            Ok(card) => {
                sp.commit().await?;
                record(
                    tx,
                    site_id,
                    &card.id,
                    "ISSUE",
                    card.initial_balance,
                    card.balance,
                    None,
                )
                .await?;
                record_event(tx, site_id, "gift_card.created", &card, None).await?;
                return Ok(card);
            }
            Err(e) => {
                sp.rollback().await?;
                let collided =
                    matches!(&e, sqlx::Error::Database(d) if d.constraint() == Some(UNIQUE_CODE));
                if collided && given.is_none() {
                    continue;
                }
                return Err(
                    match on_unique(e, UNIQUE_CODE, || {
                        "a gift card with this code already exists".to_string()
                    }) {
                        Error::Database(err) => crate::domain::customers::on_foreign_key(
                            err,
                            CUSTOMER_FK,
                            "customerId",
                            "no customer with this id",
                        ),
                        other => other,
                    },
                );
            }
        }
    }
    Err(Error::Internal(
        "could not draw an unused gift card code".into(),
    ))
}

/// Redeems part of a card's balance. The balance is taken in one conditional update: of two concurrent
/// redemptions that together exceed it, one is refused. A void or expired card, or an amount past the
/// balance, is a conflict and changes nothing.
pub async fn redeem(
    tx: &mut PgConnection,
    caller: &Caller,
    id: &str,
    redemption: Redemption,
) -> Result<GiftCard> {
    let site_id = caller.site_id();
    let mut v = Validator::new();
    super::check_amount(&mut v, "amount", redemption.amount);
    v.finish()?;
    super::check_order(tx, site_id, redemption.order_id.as_deref()).await?;
    spend(
        tx,
        site_id,
        id,
        redemption.amount,
        redemption.order_id.as_deref(),
    )
    .await
}

/// Takes `amount` from a card in one conditional update (never below zero, never from a void or expired
/// card), with its REDEEM entry.
pub(crate) async fn spend(
    tx: &mut PgConnection,
    site_id: &str,
    id: &str,
    amount: i64,
    order_id: Option<&str>,
) -> Result<GiftCard> {
    let spent = sqlx::query_as::<_, GiftCard>(sqlx::AssertSqlSafe(format!(
        "with g as (update gift_cards set balance = balance - $3, updated_at = now() \
         where site_id = $1 and id = $2 and voided_at is null and (expires_at is null or expires_at > now()) \
         and balance >= $3 returning *) select {COLUMNS} from g"
    )))
    .bind(site_id)
    .bind(id)
    .bind(amount)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(card) = spent else {
        // Why not: read the card as it is now (its row may have changed since the update looked).
        let card = find(tx, site_id, id, false).await?;
        return Err(Error::conflict(unusable(&card).unwrap_or_else(|| {
            format!(
                "The amount exceeds the gift card's remaining balance of {}",
                card.balance
            )
        })));
    };
    record(
        tx,
        site_id,
        &card.id,
        "REDEEM",
        -amount,
        card.balance,
        order_id,
    )
    .await?;
    record_event(
        tx,
        site_id,
        "gift_card.redeemed",
        &card,
        Some((amount, order_id)),
    )
    .await?;
    Ok(card)
}

/// Why a card cannot be spent at all, if it cannot.
pub(crate) fn unusable(card: &GiftCard) -> Option<String> {
    match card.status() {
        GiftCardStatus::Void => Some("This gift card is void".into()),
        GiftCardStatus::Expired => Some("This gift card has expired".into()),
        GiftCardStatus::Redeemed => Some("This gift card has no balance left".into()),
        GiftCardStatus::Active => None,
    }
}

/// Gives back to a card what an order took from it, when the order is cancelled or refunded (a RETURN
/// entry; a void card stays void).
pub(crate) async fn give_back(
    tx: &mut PgConnection,
    site_id: &str,
    id: &str,
    amount: i64,
    order_id: &str,
) -> Result<()> {
    let card = sqlx::query_as::<_, GiftCard>(sqlx::AssertSqlSafe(format!(
        "with g as (update gift_cards set balance = balance + $3, updated_at = now() \
         where site_id = $1 and id = $2 returning *) select {COLUMNS} from g"
    )))
    .bind(site_id)
    .bind(id)
    .bind(amount)
    .fetch_one(&mut *tx)
    .await?;
    record(
        tx,
        site_id,
        id,
        "RETURN",
        amount,
        card.balance,
        Some(order_id),
    )
    .await?;
    record_event(
        tx,
        site_id,
        "gift_card.updated",
        &card,
        Some((amount, Some(order_id))),
    )
    .await
}

/// The card with this code (any case), if there is one.
pub(crate) async fn by_code(
    conn: &mut PgConnection,
    site_id: &str,
    code: &str,
) -> Result<Option<GiftCard>> {
    let card = sqlx::query_as::<_, GiftCard>(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from gift_cards g where g.site_id = $1 and g.code = $2"
    )))
    .bind(site_id)
    .bind(normalize(code))
    .fetch_optional(conn)
    .await?;
    Ok(card)
}

/// Voids a card or changes its expiry. A void card never changes again.
pub async fn change(
    tx: &mut PgConnection,
    caller: &Caller,
    id: &str,
    change: GiftCardChange,
) -> Result<GiftCard> {
    let site_id = caller.site_id();
    let card = find(tx, site_id, id, true).await?;
    if card.voided_at.is_some() {
        return Err(Error::conflict(
            "This gift card is void: a void card cannot be changed",
        ));
    }
    let expires_at = change.expires_at.unwrap_or(card.expires_at);
    let updated = sqlx::query_as::<_, GiftCard>(sqlx::AssertSqlSafe(format!(
        "with g as (update gift_cards set expires_at = $3, \
         voided_at = case when $4 then now() else voided_at end, updated_at = now() \
         where site_id = $1 and id = $2 returning *) select {COLUMNS} from g"
    )))
    .bind(site_id)
    .bind(id)
    .bind(expires_at)
    .bind(change.void)
    .fetch_one(&mut *tx)
    .await?;
    let kind = if change.void {
        "gift_card.voided"
    } else {
        "gift_card.updated"
    };
    record_event(tx, site_id, kind, &updated, None).await?;
    Ok(updated)
}

/// A card's ledger, oldest first.
pub async fn transactions(
    conn: &mut PgConnection,
    caller: &Caller,
    id: &str,
    page: &PageRequest,
) -> Result<Page<GiftCardTransaction>> {
    let site_id = caller.site_id();
    find(conn, site_id, id, false).await?;
    let (rows, total) = pagination::fetch::<GiftCardTransaction>(
        conn,
        page,
        "select id, kind, amount, balance_after, order_id, created_at from gift_card_transactions",
        " from gift_card_transactions",
        "id",
        false,
        |qb| {
            qb.push(" where site_id = ")
                .push_bind(site_id.to_string())
                .push(" and gift_card_id = ")
                .push_bind(id.to_string());
        },
    )
    .await?;
    Ok(Page::from_rows(page, rows, total, |t| &t.id))
}

async fn record(
    tx: &mut PgConnection,
    site_id: &str,
    card_id: &str,
    kind: &str,
    amount: i64,
    balance_after: i64,
    order_id: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "insert into gift_card_transactions (site_id, id, gift_card_id, kind, amount, balance_after, order_id) \
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(site_id)
    .bind(ids::new_id(TRANSACTION_PREFIX))
    .bind(card_id)
    .bind(kind)
    .bind(amount)
    .bind(balance_after)
    .bind(order_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{ALPHABET, generate_code, is_valid_code, normalize};

    #[test]
    fn generated_codes_use_the_unambiguous_alphabet() {
        for _ in 0..100 {
            let code = generate_code();
            assert_eq!(code.len(), 14, "{code}");
            assert!(code.starts_with("GIFT-") && &code[9..10] == "-", "{code}");
            assert!(is_valid_code(&code));
            assert!(
                code.bytes()
                    .filter(|b| *b != b'-')
                    .skip(4)
                    .all(|b| ALPHABET.contains(&b))
            );
        }
        assert_eq!(normalize(" gift-abcd-efgh "), "GIFT-ABCD-EFGH");
        assert!(!is_valid_code("GI FT"));
    }
}
