//! `/promotions`: discount codes, and the public `/promotions/validate`.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::v1::formats::Code;
use crate::api::v1::patch;
use crate::domain::pricing::{self, Line, PriceInput};
use crate::domain::promotions::{self, NewPromotion, Promotion, PromotionPatch};
use crate::domain::sites;
use crate::http::auth::{ReadPromotions, WritePromotions};
use crate::http::reads::ReadConn;
use crate::http::{
    ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, List, Pagination, Path, Query,
    Scoped,
};
use crate::state::AppState;

// The native spellings of the domain's enums (`PromotionType`, `PromotionStatus`, `InvalidReason`), each
// with its `From`: the domain keeps no serde. Plain comments, so the schemas keep their descriptions.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PromotionType {
    Percentage,
    FixedAmount,
    FreeShipping,
}

impl From<promotions::PromotionType> for PromotionType {
    fn from(kind: promotions::PromotionType) -> Self {
        match kind {
            promotions::PromotionType::Percentage => PromotionType::Percentage,
            promotions::PromotionType::FixedAmount => PromotionType::FixedAmount,
            promotions::PromotionType::FreeShipping => PromotionType::FreeShipping,
        }
    }
}

impl From<PromotionType> for promotions::PromotionType {
    fn from(kind: PromotionType) -> Self {
        match kind {
            PromotionType::Percentage => promotions::PromotionType::Percentage,
            PromotionType::FixedAmount => promotions::PromotionType::FixedAmount,
            PromotionType::FreeShipping => promotions::PromotionType::FreeShipping,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PromotionStatus {
    Active,
    Scheduled,
    Expired,
    Exhausted,
}

impl From<promotions::PromotionStatus> for PromotionStatus {
    fn from(status: promotions::PromotionStatus) -> Self {
        match status {
            promotions::PromotionStatus::Active => PromotionStatus::Active,
            promotions::PromotionStatus::Scheduled => PromotionStatus::Scheduled,
            promotions::PromotionStatus::Expired => PromotionStatus::Expired,
            promotions::PromotionStatus::Exhausted => PromotionStatus::Exhausted,
        }
    }
}

impl From<PromotionStatus> for promotions::PromotionStatus {
    fn from(status: PromotionStatus) -> Self {
        match status {
            PromotionStatus::Active => promotions::PromotionStatus::Active,
            PromotionStatus::Scheduled => promotions::PromotionStatus::Scheduled,
            PromotionStatus::Expired => promotions::PromotionStatus::Expired,
            PromotionStatus::Exhausted => promotions::PromotionStatus::Exhausted,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Promotion)]
pub struct PromotionOut {
    #[schema(example = "promo_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    id: String,
    #[schema(example = "WELCOME20")]
    code: String,
    #[serde(rename = "type")]
    kind: PromotionType,
    /// PERCENTAGE: whole percent; FIXED_AMOUNT: minor units; FREE_SHIPPING: 0.
    #[schema(example = 20)]
    value: i64,
    status: PromotionStatus,
    /// Minimum cart subtotal in minor units.
    min_order_amount: Option<i64>,
    max_uses: Option<i32>,
    per_customer_limit: Option<i32>,
    used_count: i32,
    starts_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Promotion> for PromotionOut {
    fn from(p: Promotion) -> Self {
        PromotionOut {
            id: p.id,
            code: p.code,
            kind: p.kind.into(),
            value: p.value,
            status: p.status.into(),
            min_order_amount: p.min_order_amount,
            max_uses: p.max_uses,
            per_customer_limit: p.per_customer_limit,
            used_count: p.used_count,
            starts_at: p.starts_at,
            expires_at: p.expires_at,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = PromotionInput)]
pub struct PromotionIn {
    /// Unique per site, compared case-insensitively; surrounding spaces are trimmed.
    #[schema(value_type = Code, example = "WELCOME20")]
    code: String,
    #[serde(rename = "type")]
    kind: PromotionType,
    /// By `type`: PERCENTAGE 1–100; FIXED_AMOUNT a positive amount in minor units; FREE_SHIPPING 0 (the
    /// default). A value that does not suit its type is refused with 422.
    #[serde(default)]
    #[schema(example = 20, minimum = 0, maximum = 10_000_000_000_000_f64)]
    value: i64,
    #[schema(minimum = 0, maximum = 10_000_000_000_000_f64)]
    min_order_amount: Option<i64>,
    /// `null` for unlimited.
    #[schema(minimum = 1)]
    max_uses: Option<i32>,
    #[schema(minimum = 1)]
    per_customer_limit: Option<i32>,
    starts_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
}

impl From<PromotionIn> for NewPromotion {
    fn from(p: PromotionIn) -> Self {
        NewPromotion {
            code: p.code,
            kind: p.kind.into(),
            value: p.value,
            min_order_amount: p.min_order_amount,
            max_uses: p.max_uses,
            per_customer_limit: p.per_customer_limit,
            starts_at: p.starts_at,
            expires_at: p.expires_at,
        }
    }
}

/// Changing a promotion's limits and window (its code, type and value stay fixed).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = PromotionPatch)]
pub struct PromotionPatchIn {
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10_000_000_000_000_f64)]
    min_order_amount: Option<Option<i64>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<i32>, minimum = 1)]
    max_uses: Option<Option<i32>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<i32>, minimum = 1)]
    per_customer_limit: Option<Option<i32>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    starts_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    expires_at: Option<Option<DateTime<Utc>>>,
}

impl From<PromotionPatchIn> for PromotionPatch {
    fn from(p: PromotionPatchIn) -> Self {
        PromotionPatch {
            min_order_amount: p.min_order_amount,
            max_uses: p.max_uses,
            per_customer_limit: p.per_customer_limit,
            starts_at: p.starts_at,
            expires_at: p.expires_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    #[param(minimum = 1, maximum = 1000000)]
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    page: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    limit: Option<i64>,
    cursor: Option<String>,
    #[param(inline)]
    status: Option<PromotionStatus>,
}

/// List promotions
///
/// In creation order. `status` is derived when read (EXPIRED past `expiresAt`, EXHAUSTED at `maxUses`,
/// SCHEDULED before `startsAt`, else ACTIVE) and the `status` filter follows the same rules. Offset
/// pagination with `page`, or keyset pagination with `cursor`.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/promotions",
    tag = "Promotions",
    params(("siteId" = String, Path), ListQuery),
    security(("bearerAuth" = ["read:promotions"])),
    responses((status = 200, description = "A page of promotions", body = List<PromotionOut>), CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadPromotions>,
    mut conn: ReadConn,
    Query(q): Query<ListQuery>,
) -> Result<List<PromotionOut>, ApiError> {
    let page = Pagination {
        page: q.page,
        limit: q.limit,
        cursor: q.cursor,
    }
    .request("promo")?;
    let status = q.status.map(Into::into);
    let promotions = promotions::list(&mut conn, key.site_id(), status, &page).await?;
    Ok(List::from(promotions.map(PromotionOut::from)))
}

/// Create a promotion
///
/// Codes are unique per site, case-insensitively.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/promotions",
    tag = "Promotions",
    params(("siteId" = String, Path)),
    request_body(content = PromotionIn, example = json!({"code": "WELCOME20", "type": "PERCENTAGE", "value": 20,
        "minOrderAmount": 1000, "maxUses": 500, "expiresAt": "2026-12-31T23:59:59Z"})),
    security(("bearerAuth" = ["write:promotions"])),
    responses(
        (status = 201, description = "The new promotion", body = Data<PromotionOut>),
        (status = 409, description = "Code already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create(
    key: Scoped<WritePromotions>,
    State(state): State<AppState>,
    Json(input): Json<PromotionIn>,
) -> Result<Created<PromotionOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let promotion = promotions::create(&mut conn, key.site_id(), input.into()).await?;
    Ok(Created(promotion.into()))
}

/// Get a promotion
///
/// By id (`promo_…`), with its uses so far (`usedCount`) and its derived status. To check a code as a
/// shopper would, use `POST /promotions/validate`.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/promotions/{promotionId}",
    tag = "Promotions",
    params(("siteId" = String, Path), ("promotionId" = String, Path)),
    security(("bearerAuth" = ["read:promotions"])),
    responses((status = 200, description = "The promotion", body = Data<PromotionOut>), CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadPromotions>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Data<PromotionOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let promotion = promotions::get(&mut conn, key.site_id(), &id).await?;
    Ok(Data::new(promotion.into()))
}

/// Change a promotion's limits or window
///
/// Only `minOrderAmount`, `maxUses`, `perCustomerLimit`, `startsAt` and `expiresAt` change, and only those
/// sent; `null` removes one. The code, type and value are fixed (create another promotion instead).
/// `maxUses` cannot go below `usedCount`, and `expiresAt` must be after `startsAt`.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/promotions/{promotionId}",
    tag = "Promotions",
    params(("siteId" = String, Path), ("promotionId" = String, Path)),
    request_body(content = PromotionPatchIn, example = json!({"maxUses": 1000, "expiresAt": null})),
    security(("bearerAuth" = ["write:promotions"])),
    responses((status = 200, description = "The updated promotion", body = Data<PromotionOut>), CommonErrors)
)]
pub async fn update(
    key: Scoped<WritePromotions>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(patch): Json<PromotionPatchIn>,
) -> Result<Data<PromotionOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let promotion = promotions::update(&mut conn, key.site_id(), &id, patch.into()).await?;
    Ok(Data::new(promotion.into()))
}

/// Delete a promotion
///
/// With its redemption records; orders placed with its code keep their discount. A cart that still carries
/// the code gets no discount from it, and its checkout's `review` refuses it (409 `PROMOTION_INVALID`).
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/promotions/{promotionId}",
    tag = "Promotions",
    params(("siteId" = String, Path), ("promotionId" = String, Path)),
    security(("bearerAuth" = ["write:promotions"])),
    responses((status = 200, description = "Deleted", body = Deleted), CommonErrors)
)]
pub async fn delete(
    key: Scoped<WritePromotions>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Deleted, ApiError> {
    let mut conn = state.pool.acquire().await?;
    promotions::delete(&mut conn, key.site_id(), &id).await?;
    Ok(Deleted::new())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ValidateRequest)]
pub struct ValidateIn {
    #[schema(example = "WELCOME20")]
    code: String,
    /// Cart subtotal in minor units.
    #[schema(example = 5000, minimum = 0, maximum = 10_000_000_000_000_f64)]
    cart_total: i64,
    /// Used for per-customer limits.
    email: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ValidateResponse)]
pub struct ValidateOut {
    success: bool,
    valid: bool,
    /// The discount this code gives on `cartTotal`, in minor units (0 when invalid).
    discount: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    promotion: Option<PromotionSummaryOut>,
    /// Why the code is not valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<InvalidReason>,
    /// For MIN_ORDER_NOT_MET: how much the cart is short of the minimum.
    #[serde(skip_serializing_if = "Option::is_none")]
    missing_amount: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PromotionSummary)]
pub struct PromotionSummaryOut {
    id: String,
    code: String,
    #[serde(rename = "type")]
    kind: PromotionType,
    value: i64,
}

impl From<Promotion> for PromotionSummaryOut {
    fn from(p: Promotion) -> Self {
        PromotionSummaryOut {
            id: p.id,
            code: p.code,
            kind: p.kind.into(),
            value: p.value,
        }
    }
}

/// Why a code does not apply.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InvalidReason {
    NotFound,
    Expired,
    NotStarted,
    Exhausted,
    MinOrderNotMet,
    CustomerLimitReached,
}

impl From<promotions::InvalidReason> for InvalidReason {
    fn from(reason: promotions::InvalidReason) -> Self {
        match reason {
            promotions::InvalidReason::NotFound => InvalidReason::NotFound,
            promotions::InvalidReason::Expired => InvalidReason::Expired,
            promotions::InvalidReason::NotStarted => InvalidReason::NotStarted,
            promotions::InvalidReason::Exhausted => InvalidReason::Exhausted,
            promotions::InvalidReason::MinOrderNotMet => InvalidReason::MinOrderNotMet,
            promotions::InvalidReason::CustomerLimitReached => InvalidReason::CustomerLimitReached,
        }
    }
}

/// Validate a promotion code
///
/// Public: needs no API key (safe to call from a storefront) and is rate limited per client IP.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/promotions/validate",
    tag = "Promotions",
    params(("siteId" = String, Path)),
    request_body(content = ValidateIn, example = json!({"code": "WELCOME20", "cartTotal": 5000, "email": "jane@example.com"})),
    security(()),
    responses(
        (status = 200, description = "Whether the code applies, and the discount", body = ValidateOut,
         example = json!({"success": true, "valid": true, "discount": 1000,
            "promotion": {"id": "promo_abc", "code": "WELCOME20", "type": "PERCENTAGE", "value": 20}})),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 404, description = "No such site", body = ErrorBody),
        (status = 422, description = "AMOUNT_OUT_OF_RANGE: `cartTotal` past the bound of money", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address", body = ErrorBody),
    )
)]
pub async fn validate(
    State(state): State<AppState>,
    Path(site_id): Path<String>,
    Json(body): Json<ValidateIn>,
) -> Result<ValidateOut, ApiError> {
    if body.cart_total < 0 {
        return Err(ApiError::field(
            "cartTotal",
            "must be a non-negative integer amount in minor units (cents)",
        ));
    }
    if body.code.chars().count() > 64 {
        return Err(ApiError::field("code", "must be at most 64 characters"));
    }
    if body.cart_total > crate::domain::money::MAX_AMOUNT {
        return Err(crate::domain::Error::out_of_range("cart_total").into());
    }
    let mut conn = state.pool.acquire().await?;
    // An unknown site answers exactly like an unknown path; other failures stay what they are.
    sites::get(&mut conn, &site_id).await.map_err(|e| match e {
        crate::domain::Error::NotFound(_) => ApiError::not_found(),
        other => other.into(),
    })?;
    let check = promotions::check(
        &mut conn,
        &site_id,
        &body.code,
        body.cart_total,
        body.email.as_deref(),
    )
    .await?;
    let valid = check.invalid.is_none();
    let discount = match (&check.promotion, valid) {
        (Some(promotion), true) => {
            let line = [Line {
                unit_price: body.cart_total,
                quantity: 1,
            }];
            let input = PriceInput {
                lines: &line,
                promotion: Some(promotion),
                shipping_method: None,
                tax_basis_points: None,
                prices_include_tax: false,
                points_value: 0,
            };
            pricing::price(&input)
                .map_err(|_| crate::domain::Error::out_of_range("cart_total"))?
                .discount
        }
        _ => 0,
    };
    Ok(ValidateOut {
        success: true,
        valid,
        discount,
        promotion: check
            .promotion
            .filter(|_| check.invalid != Some(promotions::InvalidReason::NotFound))
            .map(PromotionSummaryOut::from),
        reason: check.invalid.map(Into::into),
        missing_amount: check.missing_amount,
    })
}

impl axum::response::IntoResponse for ValidateOut {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self).into_response()
    }
}
