//! `/inventory`: stock levels, adjustments and their history.

use axum::extract::State;
use serde::Deserialize;

use crate::domain::inventory::stock::{self, Backorder, InventoryItem, LedgerEntry, StockPolicy};
use crate::domain::inventory::{Adjustment, Operation, StockChange};
use crate::domain::patch;
use crate::http::auth::{ReadInventory, WriteInventory};
use crate::http::{
    ApiError, CommonErrors, Data, ErrorBody, Json, List, Pagination, Path, Query, Scoped,
};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    page: Option<i64>,
    limit: Option<i64>,
    cursor: Option<String>,
    /// Only the variant with this SKU (case-insensitive).
    sku: Option<String>,
    /// `locations` adds the per-location breakdown.
    #[serde(rename = "expand[]", default)]
    #[param(rename = "expand[]")]
    expand: Vec<String>,
}

/// List stock levels
///
/// One item per variant with its total over enabled stock at active locations.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/inventory",
    tag = "Inventory",
    params(("siteId" = String, Path), ListQuery),
    security(("bearerAuth" = ["read:inventory"])),
    responses((status = 200, description = "Stock levels", body = List<InventoryItem>,
        example = json!({"success": true, "items": [{"id": "var_s", "variantId": "var_s", "productId": "prd_abc",
            "name": "Classic White T-Shirt — Small / White", "sku": "TS-WHT-S", "inventoryCount": 42,
            "inventoryStatus": "IN_STOCK", "lowStockThreshold": 5}],
            "pagination": {"page": 1, "limit": 20, "total": 1, "totalPages": 1}})),
        CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadInventory>,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<List<InventoryItem>, ApiError> {
    let page = Pagination {
        page: q.page,
        limit: q.limit,
        cursor: q.cursor,
    }
    .request("var")?;
    let mut with_locations = false;
    for e in q
        .expand
        .iter()
        .flat_map(|e| e.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        match e {
            "locations" => with_locations = true,
            other => {
                return Err(ApiError::field(
                    "expand[]",
                    format!("unknown expansion `{other}`: use locations"),
                ));
            }
        }
    }
    let mut conn = state.pool.acquire().await?;
    let page = stock::list(
        &mut conn,
        key.site_id(),
        q.sku.as_deref(),
        &page,
        with_locations,
    )
    .await?;
    Ok(List::from(page))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdjustInventory {
    operation: Operation,
    /// `set`: 0–1,000,000; `increment`/`decrement`: 1–1,000,000.
    #[schema(example = 10)]
    quantity: i32,
    /// The variant to adjust; the product's default variant when omitted.
    variant_id: Option<String>,
    /// The location; the site's default location when omitted.
    location_id: Option<String>,
    /// An audit note for the ledger.
    #[schema(example = "Restock from supplier PO-1234")]
    reason: Option<String>,
    /// Change this stock level's backorder policy first.
    backorder: Option<Backorder>,
    /// Enable or disable this stock level first (disabled stock does not count).
    disabled: Option<bool>,
    /// This location's own regular price in minor units (`null` clears it); shown per location, carts
    /// keep using the catalog price.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<i64>)]
    regular_price: Option<Option<i64>>,
    /// This location's own sale price in minor units (`null` clears it).
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<i64>)]
    sale_price: Option<Option<i64>>,
}

/// Adjust stock
///
/// `set`, `increment` or `decrement` a variant's stock at a location. A decrement below zero where
/// backorders are not allowed is a 409 `OUT_OF_STOCK` and changes nothing. Every change is recorded in the
/// history.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/inventory/{productId}",
    tag = "Inventory",
    params(("siteId" = String, Path), ("productId" = String, Path, description = "Product id or slug")),
    request_body(content = AdjustInventory, example = json!({"operation": "increment", "quantity": 10,
        "variantId": "var_s", "reason": "Restock from supplier PO-1234"})),
    security(("bearerAuth" = ["write:inventory"])),
    responses(
        (status = 200, description = "The new stock level", body = Data<StockChange>),
        (status = 409, description = "OUT_OF_STOCK: not enough stock for the decrement", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn adjust(
    key: Scoped<WriteInventory>,
    State(state): State<AppState>,
    Path((_site, product_id)): Path<(String, String)>,
    Json(body): Json<AdjustInventory>,
) -> Result<Data<StockChange>, ApiError> {
    if body
        .reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > 500)
    {
        return Err(ApiError::field("reason", "must be at most 500 characters"));
    }
    let site_id = key.site_id();
    let mut tx = state.pool.begin().await?;
    let variant_id =
        stock::target_variant(&mut tx, site_id, &product_id, body.variant_id.as_deref()).await?;
    let policy = StockPolicy {
        backorder: body.backorder,
        disabled: body.disabled,
        regular_price: body.regular_price,
        sale_price: body.sale_price,
    };
    stock::set_policy(
        &mut tx,
        site_id,
        &variant_id,
        body.location_id.as_deref(),
        &policy,
    )
    .await?;
    let adjustment = Adjustment {
        variant_id: &variant_id,
        location_id: body.location_id.as_deref(),
        operation: body.operation,
        quantity: body.quantity,
        reason: body.reason.as_deref(),
        source: "api",
        key_id: Some(key.auth.key_id()),
    };
    let change = stock::adjust(&mut tx, site_id, adjustment).await?;
    tx.commit().await?;
    Ok(Data::new(change))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct HistoryQuery {
    page: Option<i64>,
    limit: Option<i64>,
    cursor: Option<String>,
    /// Only this variant's changes.
    variant_id: Option<String>,
}

/// Stock history
///
/// Every change to a product's stock, oldest first: delta, level after, reason, source and API key.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/inventory/{productId}/history",
    tag = "Inventory",
    params(("siteId" = String, Path), ("productId" = String, Path, description = "Product id or slug"), HistoryQuery),
    security(("bearerAuth" = ["read:inventory"])),
    responses((status = 200, description = "Ledger entries", body = List<LedgerEntry>), CommonErrors)
)]
pub async fn history(
    key: Scoped<ReadInventory>,
    State(state): State<AppState>,
    Path((_site, product_id)): Path<(String, String)>,
    Query(q): Query<HistoryQuery>,
) -> Result<List<LedgerEntry>, ApiError> {
    let page = Pagination {
        page: q.page,
        limit: q.limit,
        cursor: q.cursor,
    }
    .request("led")?;
    let mut conn = state.pool.acquire().await?;
    let page = stock::history(
        &mut conn,
        key.site_id(),
        &product_id,
        q.variant_id.as_deref(),
        &page,
    )
    .await?;
    Ok(List::from(page))
}
