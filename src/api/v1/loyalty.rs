//! `/loyalty`: the site's program, and each customer's points, tier and ledger; award, deduct, redeem.

use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::balances::loyalty::{
    self, LoyaltyAccount, LoyaltyTransaction, Manual, Program, Tier, program::NewProgram,
};
use crate::http::auth::{Admin, ReadLoyalty, WriteLoyalty};
use crate::http::{
    ApiError, CommonErrors, Created, Data, ErrorBody, Json, List, Pagination, Query, Scoped,
};
use crate::state::AppState;

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = LoyaltyTier)]
pub struct TierWire {
    #[schema(example = "GOLD", min_length = 1, max_length = 50, pattern = "\\S")]
    pub name: String,
    /// Lifetime points (earned and awarded) a customer needs for this tier.
    #[schema(example = 5000, minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub min_lifetime_points: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = LoyaltyProgram)]
pub struct ProgramOut {
    /// When false, orders earn nothing and points cannot be redeemed (award and deduct still work).
    pub enabled: bool,
    /// Points earned per whole currency unit (100 minor units) of a paid order's subtotal after discounts.
    #[schema(example = 1)]
    pub points_per_currency_unit: i64,
    /// Minor units of discount one point is worth.
    #[schema(example = 1)]
    pub redemption_rate: i64,
    /// Lowest threshold first.
    pub tiers: Vec<TierWire>,
    /// Null until the program is first saved (these are the defaults).
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<Program> for ProgramOut {
    fn from(p: Program) -> Self {
        ProgramOut {
            enabled: p.enabled,
            points_per_currency_unit: p.points_per_currency_unit,
            redemption_rate: p.redemption_rate,
            tiers: p
                .tiers
                .into_iter()
                .map(|t| TierWire {
                    name: t.name,
                    min_lifetime_points: t.min_lifetime_points,
                })
                .collect(),
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = LoyaltyProgramInput)]
pub struct ProgramIn {
    pub enabled: bool,
    #[schema(example = 1, minimum = 0, maximum = 1000)]
    pub points_per_currency_unit: i64,
    #[schema(example = 1, minimum = 1, maximum = 1_000_000)]
    pub redemption_rate: i64,
    /// Names and thresholds unique; stored lowest threshold first.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub tiers: Vec<TierWire>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = LoyaltyTransaction)]
pub struct TransactionOut {
    #[schema(example = "lt_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    /// EARN (an order paid), AWARD, DEDUCT, REDEEM, REVERSE (an earning taken back when its order was
    /// refunded or cancelled) or RETURN (redeemed points given back when their order was).
    #[serde(rename = "type")]
    #[schema(example = "EARN")]
    pub kind: String,
    /// Signed: what the entry did to the balance.
    #[schema(example = 300)]
    pub points: i64,
    pub points_after: i64,
    pub note: Option<String>,
    pub order_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<LoyaltyTransaction> for TransactionOut {
    fn from(t: LoyaltyTransaction) -> Self {
        TransactionOut {
            id: t.id,
            kind: t.kind,
            points: t.points,
            points_after: t.points_after,
            note: t.note,
            order_id: t.order_id,
            created_at: t.created_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = NextLoyaltyTier)]
pub struct NextTierOut {
    #[schema(example = "GOLD")]
    pub name: String,
    /// Lifetime points still needed.
    #[schema(example = 750)]
    pub points_needed: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = LoyaltyAccount)]
pub struct AccountOut {
    pub customer_id: String,
    #[schema(example = 1250)]
    pub points: i64,
    /// Points earned and awarded over time (what tiers are measured by).
    #[schema(example = 4250)]
    pub lifetime_points: i64,
    /// The highest tier the lifetime points reach (null below the first).
    #[schema(example = "SILVER")]
    pub tier: Option<String>,
    /// Null at the top tier or without tiers.
    pub next_tier: Option<NextTierOut>,
    /// The latest 20 transactions, newest first (older ones: `GET …/transactions`).
    pub transactions: Vec<TransactionOut>,
}

impl From<LoyaltyAccount> for AccountOut {
    fn from(a: LoyaltyAccount) -> Self {
        AccountOut {
            customer_id: a.customer_id,
            points: a.points,
            lifetime_points: a.lifetime_points,
            tier: a.tier,
            next_tier: a.next_tier.map(|(name, points_needed)| NextTierOut {
                name,
                points_needed,
            }),
            transactions: a.recent.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = LoyaltyAdjustment)]
pub struct AdjustmentIn {
    #[schema(example = 500, minimum = 1, maximum = 1_000_000_000_000_i64)]
    pub points: i64,
    #[schema(example = "Referral bonus", max_length = 1000)]
    pub note: Option<String>,
}

/// A change of the points: the balance after it, and its ledger entry.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = LoyaltyChange)]
pub struct ChangeOut {
    #[schema(example = 1750)]
    pub points: i64,
    pub transaction: TransactionOut,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = LoyaltyRedemption)]
pub struct RedeemIn {
    #[schema(example = 100, minimum = 1, maximum = 1_000_000_000_000_i64)]
    pub points: i64,
    pub order_id: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = LoyaltyRedeemed)]
pub struct RedeemedOut {
    /// Minor units the points are worth at the program's redemption rate.
    #[schema(example = 100)]
    pub discount_amount: i64,
    #[schema(example = 1150)]
    pub points_remaining: i64,
    pub transaction: TransactionOut,
}

/// Get the loyalty program
///
/// How points are earned and what they are worth, and the tiers. Until saved, the defaults (disabled).
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/loyalty/program",
    tag = "Loyalty",
    params(("siteId" = String, Path)),
    security(("bearerAuth" = ["read:loyalty"])),
    responses((status = 200, description = "The program", body = Data<ProgramOut>), CommonErrors)
)]
pub async fn get_program(
    key: Scoped<ReadLoyalty>,
    State(state): State<AppState>,
) -> Result<Data<ProgramOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let program = loyalty::program::get(&mut conn, key.caller().site_id()).await?;
    Ok(Data::new(program.into()))
}

/// Set the loyalty program
///
/// Replaces the program as a whole. Tier names and thresholds must be unique.
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/loyalty/program",
    tag = "Loyalty",
    params(("siteId" = String, Path)),
    request_body(content = ProgramIn, example = json!({"enabled": true, "pointsPerCurrencyUnit": 1, "redemptionRate": 1, "tiers": [{"name": "BRONZE", "minLifetimePoints": 0}, {"name": "SILVER", "minLifetimePoints": 1000}, {"name": "GOLD", "minLifetimePoints": 5000}]})),
    security(("bearerAuth" = ["admin:*"])),
    responses((status = 200, description = "The program as saved", body = Data<ProgramOut>), CommonErrors)
)]
pub async fn put_program(
    key: Scoped<Admin>,
    State(state): State<AppState>,
    Json(input): Json<ProgramIn>,
) -> Result<Data<ProgramOut>, ApiError> {
    let new = NewProgram {
        enabled: input.enabled,
        points_per_currency_unit: input.points_per_currency_unit,
        redemption_rate: input.redemption_rate,
        tiers: input
            .tiers
            .into_iter()
            .map(|t| Tier {
                name: t.name,
                min_lifetime_points: t.min_lifetime_points,
            })
            .collect(),
    };
    let mut conn = state.pool.acquire().await?;
    let program = loyalty::program::put(&mut conn, &key.caller(), new).await?;
    Ok(Data::new(program.into()))
}

/// Get a customer's loyalty account
///
/// Points, tier, the next tier with the points still needed, and the latest 20 transactions.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/loyalty/{customerId}",
    tag = "Loyalty",
    params(("siteId" = String, Path), ("customerId" = String, Path)),
    security(("bearerAuth" = ["read:loyalty"])),
    responses((status = 200, description = "The account", body = Data<AccountOut>), CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadLoyalty>,
    State(state): State<AppState>,
    Path((_site, customer_id)): Path<(String, String)>,
) -> Result<Data<AccountOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let account = loyalty::account(&mut conn, &key.caller(), &customer_id).await?;
    Ok(Data::new(account.into()))
}

/// List a customer's loyalty transactions
///
/// The whole ledger, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/loyalty/{customerId}/transactions",
    tag = "Loyalty",
    params(("siteId" = String, Path), ("customerId" = String, Path), Pagination),
    security(("bearerAuth" = ["read:loyalty"])),
    responses((status = 200, description = "A page of transactions", body = List<TransactionOut>), CommonErrors)
)]
pub async fn transactions(
    key: Scoped<ReadLoyalty>,
    State(state): State<AppState>,
    Path((_site, customer_id)): Path<(String, String)>,
    Query(q): Query<Pagination>,
) -> Result<List<TransactionOut>, ApiError> {
    let page = q.request(loyalty::TRANSACTION_PREFIX)?;
    let mut conn = state.pool.acquire().await?;
    let entries = loyalty::transactions(&mut conn, &key.caller(), &customer_id, &page).await?;
    Ok(List::from(entries.map(TransactionOut::from)))
}

async fn adjust(
    key: &Scoped<WriteLoyalty>,
    state: &AppState,
    customer_id: &str,
    manual: Manual,
    input: AdjustmentIn,
) -> Result<Created<ChangeOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let entry = loyalty::adjust(
        &mut tx,
        &key.caller(),
        customer_id,
        manual,
        input.points,
        input.note,
    )
    .await?;
    tx.commit().await?;
    Ok(Created(ChangeOut {
        points: entry.points_after,
        transaction: entry.into(),
    }))
}

/// Award loyalty points
///
/// Adds points by hand (referrals, support gestures); they count towards tiers.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/loyalty/{customerId}/award",
    tag = "Loyalty",
    params(("siteId" = String, Path), ("customerId" = String, Path)),
    request_body(content = AdjustmentIn, example = json!({"points": 500, "note": "Referral bonus"})),
    security(("bearerAuth" = ["write:loyalty"])),
    responses((status = 201, description = "The points after, and the AWARD entry", body = Data<ChangeOut>), CommonErrors)
)]
pub async fn award(
    key: Scoped<WriteLoyalty>,
    State(state): State<AppState>,
    Path((_site, customer_id)): Path<(String, String)>,
    Json(input): Json<AdjustmentIn>,
) -> Result<Created<ChangeOut>, ApiError> {
    adjust(&key, &state, &customer_id, Manual::Award, input).await
}

/// Deduct loyalty points
///
/// Takes points by hand; more than the customer has is a 409 that changes nothing. Tiers are unchanged.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/loyalty/{customerId}/deduct",
    tag = "Loyalty",
    params(("siteId" = String, Path), ("customerId" = String, Path)),
    request_body(content = AdjustmentIn, example = json!({"points": 200, "note": "Correction"})),
    security(("bearerAuth" = ["write:loyalty"])),
    responses(
        (status = 201, description = "The points after, and the DEDUCT entry", body = Data<ChangeOut>),
        (status = 409, description = "Not enough points", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn deduct(
    key: Scoped<WriteLoyalty>,
    State(state): State<AppState>,
    Path((_site, customer_id)): Path<(String, String)>,
    Json(input): Json<AdjustmentIn>,
) -> Result<Created<ChangeOut>, ApiError> {
    adjust(&key, &state, &customer_id, Manual::Deduct, input).await
}

/// Redeem loyalty points
///
/// Turns points into a discount at the program's redemption rate (the program must be enabled: 409
/// otherwise); more points than the customer has is a 409 that changes nothing. To redeem within a
/// checkout, pass `loyaltyPoints` at its `payment` step instead: they are then spent with the order.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/loyalty/{customerId}/redeem",
    tag = "Loyalty",
    params(("siteId" = String, Path), ("customerId" = String, Path)),
    request_body(content = RedeemIn, example = json!({"points": 100, "orderId": "order_01JD2W3M4N5P6Q7R8S9T0V1W2X"})),
    security(("bearerAuth" = ["write:loyalty"])),
    responses(
        (status = 201, description = "The discount and the points left", body = Data<RedeemedOut>),
        (status = 409, description = "Not enough points, or the program is disabled", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn redeem(
    key: Scoped<WriteLoyalty>,
    State(state): State<AppState>,
    Path((_site, customer_id)): Path<(String, String)>,
    Json(input): Json<RedeemIn>,
) -> Result<Created<RedeemedOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let redeemed = loyalty::redeem(
        &mut tx,
        &key.caller(),
        &customer_id,
        input.points,
        input.order_id.as_deref(),
    )
    .await?;
    tx.commit().await?;
    Ok(Created(RedeemedOut {
        discount_amount: redeemed.discount_amount,
        points_remaining: redeemed.points_remaining,
        transaction: redeemed.transaction.into(),
    }))
}
