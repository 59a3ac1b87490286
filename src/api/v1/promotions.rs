//! `/promotions`: discount codes, and the public `/promotions/validate`.

use axum::extract::State;
use serde::{Deserialize, Serialize};

use crate::domain::pricing::{self, Line, PriceInput};
use crate::domain::promotions::{
    self, InvalidReason, Promotion, PromotionInput, PromotionPatch, PromotionStatus,
};
use crate::domain::sites;
use crate::http::auth::{ReadPromotions, WritePromotions};
use crate::http::{
    ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, List, Pagination, Path, Query,
    Scoped,
};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    page: Option<i64>,
    limit: Option<i64>,
    cursor: Option<String>,
    #[param(inline)]
    status: Option<PromotionStatus>,
}

/// List promotions
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/promotions",
    tag = "Promotions",
    params(("siteId" = String, Path), ListQuery),
    security(("bearerAuth" = ["read:promotions"])),
    responses((status = 200, description = "A page of promotions", body = List<Promotion>), CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadPromotions>,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<List<Promotion>, ApiError> {
    let page = Pagination {
        page: q.page,
        limit: q.limit,
        cursor: q.cursor,
    }
    .request("promo")?;
    let mut conn = state.pool.acquire().await?;
    Ok(List::from(
        promotions::list(&mut conn, key.site_id(), q.status, &page).await?,
    ))
}

/// Create a promotion
///
/// Codes are unique per site, case-insensitively.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/promotions",
    tag = "Promotions",
    params(("siteId" = String, Path)),
    request_body(content = PromotionInput, example = json!({"code": "WELCOME20", "type": "PERCENTAGE", "value": 20,
        "minOrderAmount": 1000, "maxUses": 500, "expiresAt": "2026-12-31T23:59:59Z"})),
    security(("bearerAuth" = ["write:promotions"])),
    responses(
        (status = 201, description = "The new promotion", body = Data<Promotion>),
        (status = 409, description = "Code already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create(
    key: Scoped<WritePromotions>,
    State(state): State<AppState>,
    Json(input): Json<PromotionInput>,
) -> Result<Created<Promotion>, ApiError> {
    Ok(Created(
        promotions::create(&state.pool, key.site_id(), input).await?,
    ))
}

/// Get a promotion
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/promotions/{promotionId}",
    tag = "Promotions",
    params(("siteId" = String, Path), ("promotionId" = String, Path)),
    security(("bearerAuth" = ["read:promotions"])),
    responses((status = 200, description = "The promotion", body = Data<Promotion>), CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadPromotions>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Data<Promotion>, ApiError> {
    Ok(Data::new(
        promotions::get(&state.pool, key.site_id(), &id).await?,
    ))
}

/// Change a promotion's limits or window
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/promotions/{promotionId}",
    tag = "Promotions",
    params(("siteId" = String, Path), ("promotionId" = String, Path)),
    request_body(content = PromotionPatch, example = json!({"maxUses": 1000, "expiresAt": null})),
    security(("bearerAuth" = ["write:promotions"])),
    responses((status = 200, description = "The updated promotion", body = Data<Promotion>), CommonErrors)
)]
pub async fn update(
    key: Scoped<WritePromotions>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(patch): Json<PromotionPatch>,
) -> Result<Data<Promotion>, ApiError> {
    Ok(Data::new(
        promotions::update(&state.pool, key.site_id(), &id, patch).await?,
    ))
}

/// Delete a promotion
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
    promotions::delete(&state.pool, key.site_id(), &id).await?;
    Ok(Deleted::new())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValidateRequest {
    #[schema(example = "WELCOME20")]
    code: String,
    /// Cart subtotal in minor units.
    #[schema(example = 5000)]
    cart_total: i64,
    /// Used for per-customer limits.
    email: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidateResponse {
    success: bool,
    valid: bool,
    /// The discount this code gives on `cartTotal`, in minor units (0 when invalid).
    discount: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    promotion: Option<PromotionSummary>,
    /// Why the code is not valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<InvalidReason>,
    /// For MIN_ORDER_NOT_MET: how much the cart is short of the minimum.
    #[serde(skip_serializing_if = "Option::is_none")]
    missing_amount: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromotionSummary {
    id: String,
    code: String,
    #[serde(rename = "type")]
    kind: promotions::PromotionType,
    value: i64,
}

/// Validate a promotion code
///
/// Public: needs no API key (safe to call from a storefront) and is rate limited per client IP.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/promotions/validate",
    tag = "Promotions",
    params(("siteId" = String, Path)),
    request_body(content = ValidateRequest, example = json!({"code": "WELCOME20", "cartTotal": 5000, "email": "jane@example.com"})),
    security(()),
    responses(
        (status = 200, description = "Whether the code applies, and the discount", body = ValidateResponse,
         example = json!({"success": true, "valid": true, "discount": 1000,
            "promotion": {"id": "promo_abc", "code": "WELCOME20", "type": "PERCENTAGE", "value": 20}})),
        (status = 400, description = "Bad input", body = ErrorBody),
        (status = 404, description = "No such site", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address", body = ErrorBody),
    )
)]
pub async fn validate(
    State(state): State<AppState>,
    Path(site_id): Path<String>,
    Json(body): Json<ValidateRequest>,
) -> Result<ValidateResponse, ApiError> {
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
        return Err(crate::domain::Error::out_of_range("cartTotal").into());
    }
    let mut conn = state.pool.acquire().await?;
    // An unknown site answers exactly like an unknown path; other failures stay what they are.
    sites::get(&mut *conn, &site_id)
        .await
        .map_err(|e| match e {
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
            };
            pricing::price(&input)
                .map_err(|_| crate::domain::Error::out_of_range("cartTotal"))?
                .discount
        }
        _ => 0,
    };
    Ok(ValidateResponse {
        success: true,
        valid,
        discount,
        promotion: check
            .promotion
            .filter(|_| check.invalid != Some(InvalidReason::NotFound))
            .map(|p| PromotionSummary {
                id: p.id,
                code: p.code,
                kind: p.kind,
                value: p.value,
            }),
        reason: check.invalid,
        missing_amount: check.missing_amount,
    })
}

impl axum::response::IntoResponse for ValidateResponse {
    fn into_response(self) -> axum::response::Response {
        axum::Json(self).into_response()
    }
}
