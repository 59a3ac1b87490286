//! `/gift-cards`: issue, list, redeem, void or change expiry, and each card's ledger.

use axum::Extension;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::v1::patch;
use crate::domain::balances::gift_cards::{
    self, GiftCard, GiftCardChange, GiftCardFilter, GiftCardStatus, GiftCardTransaction,
    IssueGiftCard, Redemption,
};
use crate::http::auth::{ReadGiftCards, WriteGiftCards};
use crate::http::idempotency::Sensitive;
use crate::http::reads::ReadConn;
use crate::http::{
    ApiError, CommonErrors, Created, Data, ErrorBody, Json, List, Pagination, Query, Scoped,
};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[schema(as = GiftCardStatus)]
pub enum GiftCardStatusWire {
    Active,
    Redeemed,
    Expired,
    Void,
}

impl From<GiftCardStatus> for GiftCardStatusWire {
    fn from(status: GiftCardStatus) -> Self {
        match status {
            GiftCardStatus::Active => GiftCardStatusWire::Active,
            GiftCardStatus::Redeemed => GiftCardStatusWire::Redeemed,
            GiftCardStatus::Expired => GiftCardStatusWire::Expired,
            GiftCardStatus::Void => GiftCardStatusWire::Void,
        }
    }
}

impl From<GiftCardStatusWire> for GiftCardStatus {
    fn from(status: GiftCardStatusWire) -> Self {
        match status {
            GiftCardStatusWire::Active => GiftCardStatus::Active,
            GiftCardStatusWire::Redeemed => GiftCardStatus::Redeemed,
            GiftCardStatusWire::Expired => GiftCardStatus::Expired,
            GiftCardStatusWire::Void => GiftCardStatus::Void,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = GiftCard)]
pub struct GiftCardOut {
    #[schema(example = "gc_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    /// The code that spends the card: give it only to whoever may spend it.
    #[schema(example = "GIFT-K7QM-3XPD")]
    pub code: String,
    /// Minor units (cents).
    #[schema(example = 5000)]
    pub initial_balance: i64,
    /// What is left, in minor units.
    #[schema(example = 2500)]
    pub remaining_balance: i64,
    #[schema(example = "EUR")]
    pub currency: String,
    /// VOID (final), REDEEMED (nothing left), EXPIRED (past `expiresAt`), else ACTIVE.
    pub status: GiftCardStatusWire,
    pub customer_id: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
    pub issued_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<GiftCard> for GiftCardOut {
    fn from(g: GiftCard) -> Self {
        GiftCardOut {
            status: g.status().into(),
            id: g.id,
            code: g.code,
            initial_balance: g.initial_balance,
            remaining_balance: g.balance,
            currency: g.currency,
            customer_id: g.customer_id,
            expires_at: g.expires_at,
            note: g.note,
            issued_at: g.created_at,
            updated_at: g.updated_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = GiftCardTransaction)]
pub struct GiftCardTransactionOut {
    #[schema(example = "gctx_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    /// ISSUE, REDEEM, or RETURN (given back when the order it paid for was cancelled or refunded).
    #[schema(example = "REDEEM")]
    pub kind: String,
    /// Signed minor units: the issued balance, or minus the amount redeemed.
    #[schema(example = -2500)]
    pub amount: i64,
    #[schema(example = 2500)]
    pub balance_after: i64,
    pub order_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<GiftCardTransaction> for GiftCardTransactionOut {
    fn from(t: GiftCardTransaction) -> Self {
        GiftCardTransactionOut {
            id: t.id,
            kind: t.kind,
            amount: t.amount,
            balance_after: t.balance_after,
            order_id: t.order_id,
            created_at: t.created_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = GiftCardInput)]
pub struct GiftCardIn {
    /// Generated as `GIFT-XXXX-YYYY` when omitted; stored in upper case, unique per site.
    #[schema(
        example = "GIFT-K7QM-3XPD",
        min_length = 4,
        max_length = 40,
        pattern = "^[A-Za-z0-9-]+$"
    )]
    pub code: Option<String>,
    /// Minor units (cents), more than zero.
    #[schema(example = 5000, minimum = 1, maximum = 10_000_000_000_000_i64)]
    pub initial_balance: i64,
    pub customer_id: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    #[schema(example = "Birthday gift", max_length = 1000)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = GiftCardRedemption)]
pub struct RedeemIn {
    /// Minor units (cents), more than zero and at most the remaining balance.
    #[schema(example = 2500, minimum = 1, maximum = 10_000_000_000_000_i64)]
    pub amount: i64,
    /// The order the amount pays for.
    pub order_id: Option<String>,
}

/// Only `VOID` may be set, and only once.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GiftCardVoid {
    Void,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = GiftCardPatch)]
pub struct GiftCardPatchIn {
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    pub status: Option<GiftCardVoid>,
    /// `null` removes the expiry.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    #[param(minimum = 1, maximum = 1000000)]
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    page: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    limit: Option<i64>,
    cursor: Option<String>,
    #[param(inline)]
    status: Option<GiftCardStatusWire>,
    customer_id: Option<String>,
    /// An exact code, in any case.
    code: Option<String>,
}

/// List gift cards
///
/// In issue order. Filter by derived `status`, by `customerId`, or look one up by its exact `code`. Offset
/// pagination with `page`, or keyset pagination with `cursor`.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/gift-cards",
    tag = "Gift cards",
    params(("siteId" = String, Path), ListQuery),
    security(("bearerAuth" = ["read:gift-cards"])),
    responses((status = 200, description = "A page of gift cards", body = List<GiftCardOut>), CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadGiftCards>,
    mut conn: ReadConn,
    Query(q): Query<ListQuery>,
) -> Result<List<GiftCardOut>, ApiError> {
    let page = Pagination {
        page: q.page,
        limit: q.limit,
        cursor: q.cursor,
    }
    .request(gift_cards::ID_PREFIX)?;
    let filter = GiftCardFilter {
        status: q.status.map(Into::into),
        customer_id: q.customer_id,
        code: q.code,
    };
    let cards = gift_cards::list(&mut conn, &key.caller(), &filter, &page).await?;
    Ok(List::from(cards.map(GiftCardOut::from)))
}

/// Issue a gift card
///
/// With its whole balance, in the site's currency. The code is generated (`GIFT-XXXX-YYYY`, from letters
/// and digits that cannot be mistaken for one another) unless given; a given code already in use is a 409.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/gift-cards",
    tag = "Gift cards",
    params(("siteId" = String, Path)),
    request_body(content = GiftCardIn, example = json!({"initialBalance": 5000, "note": "Birthday gift"})),
    security(("bearerAuth" = ["write:gift-cards"])),
    responses(
        (status = 201, description = "The new gift card", body = Data<GiftCardOut>),
        (status = 409, description = "Code already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn issue(
    key: Scoped<WriteGiftCards>,
    State(state): State<AppState>,
    Json(input): Json<GiftCardIn>,
) -> Result<(Extension<Sensitive>, Created<GiftCardOut>), ApiError> {
    let command = IssueGiftCard {
        code: input.code,
        initial_balance: input.initial_balance,
        customer_id: input.customer_id,
        expires_at: input.expires_at,
        note: input.note,
    };
    let mut tx = state.pool.begin().await?;
    let card = gift_cards::issue(&mut tx, &key.caller(), command).await?;
    tx.commit().await?;
    // The answer holds the card's code: a replay copy is kept sealed.
    Ok((Extension(Sensitive), Created(card.into())))
}

/// Get a gift card
///
/// With its code, balances and derived status.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/gift-cards/{giftCardId}",
    tag = "Gift cards",
    params(("siteId" = String, Path), ("giftCardId" = String, Path)),
    security(("bearerAuth" = ["read:gift-cards"])),
    responses((status = 200, description = "The gift card", body = Data<GiftCardOut>), CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadGiftCards>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Data<GiftCardOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let card = gift_cards::get(&mut conn, &key.caller(), &id).await?;
    Ok(Data::new(card.into()))
}

/// Void a gift card or change its expiry
///
/// `{"status": "VOID"}` voids the card for good; `expiresAt` sets or (with `null`) removes its expiry. A
/// void card cannot be changed again (409).
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/gift-cards/{giftCardId}",
    tag = "Gift cards",
    params(("siteId" = String, Path), ("giftCardId" = String, Path)),
    request_body(content = GiftCardPatchIn, example = json!({"status": "VOID"})),
    security(("bearerAuth" = ["write:gift-cards"])),
    responses(
        (status = 200, description = "The changed gift card", body = Data<GiftCardOut>),
        (status = 409, description = "The card is void", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn update(
    key: Scoped<WriteGiftCards>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(input): Json<GiftCardPatchIn>,
) -> Result<(Extension<Sensitive>, Data<GiftCardOut>), ApiError> {
    let change = GiftCardChange {
        void: input.status.is_some(),
        expires_at: input.expires_at,
    };
    let mut tx = state.pool.begin().await?;
    let card = gift_cards::change(&mut tx, &key.caller(), &id, change).await?;
    tx.commit().await?;
    Ok((Extension(Sensitive), Data::new(card.into())))
}

/// Redeem from a gift card
///
/// Takes `amount` from the remaining balance; partial redemptions leave the rest on the card. A void or
/// expired card, or an amount past the remaining balance, is a 409 and changes nothing. Concurrent
/// redemptions never spend the same money.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/gift-cards/{giftCardId}/redeem",
    tag = "Gift cards",
    params(("siteId" = String, Path), ("giftCardId" = String, Path)),
    request_body(content = RedeemIn, example = json!({"amount": 2500, "orderId": "ord_01JD2W3M4N5P6Q7R8S9T0V1W2X"})),
    security(("bearerAuth" = ["write:gift-cards"])),
    responses(
        (status = 200, description = "The card after the redemption", body = Data<GiftCardOut>),
        (status = 409, description = "Void, expired, or not enough balance", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn redeem(
    key: Scoped<WriteGiftCards>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(input): Json<RedeemIn>,
) -> Result<(Extension<Sensitive>, Data<GiftCardOut>), ApiError> {
    let redemption = Redemption {
        amount: input.amount,
        order_id: input.order_id,
    };
    let mut tx = state.pool.begin().await?;
    let card = gift_cards::redeem(&mut tx, &key.caller(), &id, redemption).await?;
    tx.commit().await?;
    Ok((Extension(Sensitive), Data::new(card.into())))
}

/// List a gift card's transactions
///
/// Its ledger, oldest first: the ISSUE, every REDEEM, and any RETURN.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/gift-cards/{giftCardId}/transactions",
    tag = "Gift cards",
    params(("siteId" = String, Path), ("giftCardId" = String, Path), Pagination),
    security(("bearerAuth" = ["read:gift-cards"])),
    responses((status = 200, description = "A page of the card's ledger", body = List<GiftCardTransactionOut>), CommonErrors)
)]
pub async fn transactions(
    key: Scoped<ReadGiftCards>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Query(q): Query<Pagination>,
) -> Result<List<GiftCardTransactionOut>, ApiError> {
    let page = q.request("gctx")?;
    let mut conn = state.pool.acquire().await?;
    let entries = gift_cards::transactions(&mut conn, &key.caller(), &id, &page).await?;
    Ok(List::from(entries.map(GiftCardTransactionOut::from)))
}
