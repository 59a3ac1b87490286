//! `/store-credit/{customerId}`: a customer's balance and ledger, credits, debits and voids.

use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::balances::store_credit::{
    self, Adjustment, Movement, StoreCreditAccount, StoreCreditTransaction,
};
use crate::http::auth::{ReadStoreCredit, WriteStoreCredit};
use crate::http::{
    ApiError, CommonErrors, Created, Data, ErrorBody, Json, List, Pagination, Query, Scoped,
};
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StoreCreditTransaction)]
pub struct TransactionOut {
    #[schema(example = "sct_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    /// CREDIT, DEBIT, VOID (reverses `voids`), or RETURN (given back when the order it paid for was cancelled or refunded).
    #[serde(rename = "type")]
    #[schema(example = "CREDIT")]
    pub kind: String,
    /// Positive minor units; the type says which way the balance moved.
    #[schema(example = 2000)]
    pub amount: i64,
    #[schema(example = 5500)]
    pub balance_after: i64,
    pub note: Option<String>,
    pub order_id: Option<String>,
    /// For a VOID: the transaction it reverses.
    pub voids: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<StoreCreditTransaction> for TransactionOut {
    fn from(t: StoreCreditTransaction) -> Self {
        TransactionOut {
            id: t.id,
            kind: t.kind,
            amount: t.amount,
            balance_after: t.balance_after,
            note: t.note,
            order_id: t.order_id,
            voids: t.voids,
            created_at: t.created_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StoreCreditAccount)]
pub struct AccountOut {
    pub customer_id: String,
    /// Minor units.
    #[schema(example = 3500)]
    pub balance: i64,
    /// The latest 20 transactions, newest first (older ones: `GET …/transactions`).
    pub transactions: Vec<TransactionOut>,
}

impl From<StoreCreditAccount> for AccountOut {
    fn from(a: StoreCreditAccount) -> Self {
        AccountOut {
            customer_id: a.customer_id,
            balance: a.balance,
            transactions: a.recent.into_iter().map(Into::into).collect(),
        }
    }
}

/// A change of the balance: the balance after it, and its ledger entry.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = StoreCreditChange)]
pub struct ChangeOut {
    #[schema(example = 5500)]
    pub balance: i64,
    pub transaction: TransactionOut,
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StoreCreditMovement {
    Credit,
    Debit,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = StoreCreditAdjustment)]
pub struct AdjustmentIn {
    #[serde(rename = "type")]
    pub movement: StoreCreditMovement,
    /// Minor units (cents), more than zero.
    #[schema(example = 2000, minimum = 1, maximum = 10_000_000_000_000_i64)]
    pub amount: i64,
    #[schema(example = "Refund for order ORD-1042", max_length = 1000)]
    pub note: Option<String>,
    pub order_id: Option<String>,
}

/// Get a customer's store credit
///
/// The balance (0 when never credited) and the latest 20 transactions, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/store-credit/{customerId}",
    tag = "Store credit",
    params(("siteId" = String, Path), ("customerId" = String, Path)),
    security(("bearerAuth" = ["read:store-credit"])),
    responses((status = 200, description = "The account", body = Data<AccountOut>), CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadStoreCredit>,
    State(state): State<AppState>,
    Path((_site, customer_id)): Path<(String, String)>,
) -> Result<Data<AccountOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let account = store_credit::account(&mut conn, &key.caller(), &customer_id).await?;
    Ok(Data::new(account.into()))
}

/// Credit or debit store credit
///
/// `type` CREDIT adds `amount`; DEBIT takes it, and fails with 409 (changing nothing) when the balance
/// would go below zero. Concurrent debits never spend the same money.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/store-credit/{customerId}",
    tag = "Store credit",
    params(("siteId" = String, Path), ("customerId" = String, Path)),
    request_body(content = AdjustmentIn, example = json!({"type": "CREDIT", "amount": 2000, "note": "Refund for order ORD-1042"})),
    security(("bearerAuth" = ["write:store-credit"])),
    responses(
        (status = 201, description = "The balance after, and the new transaction", body = Data<ChangeOut>),
        (status = 409, description = "Not enough balance", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn adjust(
    key: Scoped<WriteStoreCredit>,
    State(state): State<AppState>,
    Path((_site, customer_id)): Path<(String, String)>,
    Json(input): Json<AdjustmentIn>,
) -> Result<Created<ChangeOut>, ApiError> {
    let adjustment = Adjustment {
        movement: match input.movement {
            StoreCreditMovement::Credit => Movement::Credit,
            StoreCreditMovement::Debit => Movement::Debit,
        },
        amount: input.amount,
        note: input.note,
        order_id: input.order_id,
    };
    let mut tx = state.pool.begin().await?;
    let (balance, entry) =
        store_credit::adjust(&mut tx, &key.caller(), &customer_id, adjustment).await?;
    tx.commit().await?;
    Ok(Created(ChangeOut {
        balance,
        transaction: entry.into(),
    }))
}

/// List a customer's store credit transactions
///
/// The whole ledger, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/store-credit/{customerId}/transactions",
    tag = "Store credit",
    params(("siteId" = String, Path), ("customerId" = String, Path), Pagination),
    security(("bearerAuth" = ["read:store-credit"])),
    responses((status = 200, description = "A page of transactions", body = List<TransactionOut>), CommonErrors)
)]
pub async fn transactions(
    key: Scoped<ReadStoreCredit>,
    State(state): State<AppState>,
    Path((_site, customer_id)): Path<(String, String)>,
    Query(q): Query<Pagination>,
) -> Result<List<TransactionOut>, ApiError> {
    let page = q.request(store_credit::TRANSACTION_PREFIX)?;
    let mut conn = state.pool.acquire().await?;
    let entries = store_credit::transactions(&mut conn, &key.caller(), &customer_id, &page).await?;
    Ok(List::from(entries.map(TransactionOut::from)))
}

/// Void a store credit transaction
///
/// Adds a VOID entry that reverses a CREDIT or DEBIT: once per transaction (409 after), and only if the
/// balance allows (voiding a credit that was spent is a 409).
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/store-credit/{customerId}/transactions/{transactionId}/void",
    tag = "Store credit",
    params(("siteId" = String, Path), ("customerId" = String, Path), ("transactionId" = String, Path)),
    security(("bearerAuth" = ["write:store-credit"])),
    responses(
        (status = 200, description = "The balance after, and the VOID entry", body = Data<ChangeOut>),
        (status = 409, description = "Already void, a VOID entry, or not enough balance", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn void(
    key: Scoped<WriteStoreCredit>,
    State(state): State<AppState>,
    Path((_site, customer_id, transaction_id)): Path<(String, String, String)>,
) -> Result<Data<ChangeOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let (balance, entry) =
        store_credit::void(&mut tx, &key.caller(), &customer_id, &transaction_id).await?;
    tx.commit().await?;
    Ok(Data::new(ChangeOut {
        balance,
        transaction: entry.into(),
    }))
}
