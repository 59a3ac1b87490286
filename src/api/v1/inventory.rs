//! `/inventory`: stock levels, adjustments and their history.

use crate::api::v1::formats::{InventoryExpansions, list_items};
use crate::http::reads::ReadConn;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::variants::InventoryStatusWire;
use crate::api::v1::patch;
use crate::domain::inventory::stock::{
    self, Backorder, InventoryItem, LedgerEntry, LocationStock, StockPolicy, StockRequest,
};
use crate::domain::inventory::{Operation, StockChange};
use crate::http::auth::{ReadInventory, WriteInventory};
use crate::http::{
    ApiError, CommonErrors, Data, ErrorBody, Json, List, Pagination, Path, Query, Scoped,
};
use crate::state::AppState;

/// One variant's stock, for `GET /inventory`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = InventoryItem)]
#[serde(rename_all = "camelCase")]
pub struct InventoryItemOut {
    /// The variant id.
    id: String,
    variant_id: String,
    product_id: String,
    /// Product and variant name, e.g. `Classic White T-Shirt — Small / White`.
    name: String,
    sku: Option<String>,
    inventory_count: i32,
    inventory_status: InventoryStatusWire,
    low_stock_threshold: i32,
    /// Per-location breakdown, with `expand[]=locations`.
    #[serde(skip_serializing_if = "Option::is_none")]
    locations: Option<Vec<LocationStockOut>>,
}

impl From<InventoryItem> for InventoryItemOut {
    fn from(i: InventoryItem) -> Self {
        InventoryItemOut {
            id: i.id,
            variant_id: i.variant_id,
            product_id: i.product_id,
            name: i.name,
            sku: i.sku,
            inventory_count: i.inventory_count,
            inventory_status: i.inventory_status.into(),
            low_stock_threshold: i.low_stock_threshold,
            locations: i
                .locations
                .map(|levels| levels.into_iter().map(Into::into).collect()),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = LocationStock)]
#[serde(rename_all = "camelCase")]
pub struct LocationStockOut {
    location_id: String,
    location_name: String,
    on_hand: i32,
    backorder: String,
    disabled: bool,
    active: bool,
    regular_price: Option<i64>,
    sale_price: Option<i64>,
}

impl From<LocationStock> for LocationStockOut {
    fn from(s: LocationStock) -> Self {
        LocationStockOut {
            location_id: s.location_id,
            location_name: s.location_name,
            on_hand: s.on_hand,
            backorder: s.backorder,
            disabled: s.disabled,
            active: s.active,
            regular_price: s.regular_price,
            sale_price: s.sale_price,
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
    /// Only the variant with this SKU (case-insensitive).
    sku: Option<String>,
    /// `locations` adds the per-location breakdown.
    #[serde(rename = "expand[]", default)]
    #[param(rename = "expand[]", value_type = Option<Vec<InventoryExpansions>>)]
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
    responses((status = 200, description = "Stock levels", body = List<InventoryItemOut>,
        example = json!({"success": true, "items": [{"id": "var_s", "variantId": "var_s", "productId": "prd_abc",
            "name": "Classic White T-Shirt — Small / White", "sku": "TS-WHT-S", "inventoryCount": 42,
            "inventoryStatus": "IN_STOCK", "lowStockThreshold": 5}],
            "pagination": {"page": 1, "limit": 20, "total": 1, "totalPages": 1, "totalIsEstimate": false}})),
        CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadInventory>,
    mut conn: ReadConn,
    Query(q): Query<ListQuery>,
) -> Result<List<InventoryItemOut>, ApiError> {
    let page = Pagination {
        page: q.page,
        limit: q.limit,
        cursor: q.cursor,
    }
    .request("var")?;
    let mut with_locations = false;
    for e in q.expand.iter().flat_map(|e| list_items(e)) {
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
    let page = stock::list(
        &mut conn,
        key.site_id(),
        q.sku.as_deref(),
        &page,
        with_locations,
    )
    .await?;
    Ok(List::from(page.map(Into::into)))
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[schema(as = Operation)]
#[serde(rename_all = "lowercase")]
pub enum OperationIn {
    Set,
    Increment,
    Decrement,
}

impl From<OperationIn> for Operation {
    fn from(o: OperationIn) -> Self {
        match o {
            OperationIn::Set => Operation::Set,
            OperationIn::Increment => Operation::Increment,
            OperationIn::Decrement => Operation::Decrement,
        }
    }
}

/// Whether a stock level may go below zero: `no`, `notify` (allowed, the customer is told) or `yes`.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[schema(as = Backorder)]
#[serde(rename_all = "lowercase")]
pub enum BackorderIn {
    No,
    Notify,
    Yes,
}

impl From<BackorderIn> for Backorder {
    fn from(b: BackorderIn) -> Self {
        match b {
            BackorderIn::No => Backorder::No,
            BackorderIn::Notify => Backorder::Notify,
            BackorderIn::Yes => Backorder::Yes,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = AdjustInventory)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdjustInventoryIn {
    operation: OperationIn,
    /// `set`: 0–1,000,000; `increment`/`decrement`: 1–1,000,000 (0 is refused with 422: it moves nothing).
    #[schema(example = 10, minimum = 0, maximum = 1_000_000)]
    quantity: i32,
    /// The variant to adjust; the product's default variant when omitted.
    variant_id: Option<String>,
    /// The location; the site's default location when omitted.
    location_id: Option<String>,
    /// An audit note for the ledger.
    #[schema(example = "Restock from supplier PO-1234", max_length = 500)]
    reason: Option<String>,
    /// Change this stock level's backorder policy first.
    backorder: Option<BackorderIn>,
    /// Enable or disable this stock level first (disabled stock does not count).
    disabled: Option<bool>,
    /// This location's own regular price in minor units (`null` clears it); shown per location, carts
    /// keep using the catalog price.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10_000_000_000_000_f64)]
    regular_price: Option<Option<i64>>,
    /// This location's own sale price in minor units (`null` clears it).
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10_000_000_000_000_f64)]
    sale_price: Option<Option<i64>>,
}

impl From<AdjustInventoryIn> for StockRequest {
    fn from(b: AdjustInventoryIn) -> Self {
        StockRequest {
            variant_id: b.variant_id,
            location_id: b.location_id,
            operation: b.operation.into(),
            quantity: b.quantity,
            reason: b.reason,
            policy: StockPolicy {
                backorder: b.backorder.map(Into::into),
                disabled: b.disabled,
                regular_price: b.regular_price,
                sale_price: b.sale_price,
            },
        }
    }
}

/// The result of an adjustment: the location's new level and the variant's new total.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = StockChange)]
#[serde(rename_all = "camelCase")]
pub struct StockChangeOut {
    /// The variant id (the spec's inventory item id).
    id: String,
    variant_id: String,
    product_id: String,
    sku: Option<String>,
    location_id: String,
    /// On hand at this location after the change.
    on_hand: i32,
    delta: i32,
    /// The variant's total over enabled stock at active locations.
    inventory_count: i32,
    inventory_status: InventoryStatusWire,
}

impl From<StockChange> for StockChangeOut {
    fn from(c: StockChange) -> Self {
        StockChangeOut {
            id: c.id,
            variant_id: c.variant_id,
            product_id: c.product_id,
            sku: c.sku,
            location_id: c.location_id,
            on_hand: c.on_hand,
            delta: c.delta,
            inventory_count: c.inventory_count,
            inventory_status: c.inventory_status.into(),
        }
    }
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
    request_body(content = AdjustInventoryIn, example = json!({"operation": "increment", "quantity": 10,
        "variantId": "var_s", "reason": "Restock from supplier PO-1234"})),
    security(("bearerAuth" = ["write:inventory"])),
    responses(
        (status = 200, description = "The new stock level", body = Data<StockChangeOut>),
        (status = 409, description = "OUT_OF_STOCK: not enough stock for the decrement", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn adjust(
    key: Scoped<WriteInventory>,
    State(state): State<AppState>,
    Path((_site, product_id)): Path<(String, String)>,
    Json(body): Json<AdjustInventoryIn>,
) -> Result<Data<StockChangeOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let change = stock::adjust_product(
        &mut tx,
        key.site_id(),
        &product_id,
        key.auth.key_id(),
        body.into(),
    )
    .await?;
    tx.commit().await?;
    Ok(Data::new(change.into()))
}

/// One ledger row.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = LedgerEntry)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntryOut {
    #[schema(example = "led_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    id: String,
    product_id: String,
    variant_id: String,
    location_id: String,
    delta: i32,
    on_hand_after: i32,
    reason: Option<String>,
    source: String,
    /// The API key that made the change, when one did.
    key_id: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<LedgerEntry> for LedgerEntryOut {
    fn from(e: LedgerEntry) -> Self {
        LedgerEntryOut {
            id: e.id,
            product_id: e.product_id,
            variant_id: e.variant_id,
            location_id: e.location_id,
            delta: e.delta,
            on_hand_after: e.on_hand_after,
            reason: e.reason,
            source: e.source,
            key_id: e.key_id,
            created_at: e.created_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct HistoryQuery {
    #[param(minimum = 1, maximum = 1000000)]
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    page: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "crate::http::extract::number")]
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
    responses((status = 200, description = "Ledger entries", body = List<LedgerEntryOut>), CommonErrors)
)]
pub async fn history(
    key: Scoped<ReadInventory>,
    State(state): State<AppState>,
    Path((_site, product_id)): Path<(String, String)>,
    Query(q): Query<HistoryQuery>,
) -> Result<List<LedgerEntryOut>, ApiError> {
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
    Ok(List::from(page.map(Into::into)))
}
