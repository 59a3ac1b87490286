//! `/products/{productId}/variants`.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::v1::formats::{OptionValues, Sku};
use crate::api::v1::patch;
use crate::domain::catalog::products;
use crate::domain::catalog::variants::{self, NewVariant, VariantPatch};
use crate::domain::catalog::{InventoryStatus, Variant};
use crate::http::auth::{ReadCatalog, WriteCatalog};
use crate::http::{ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, Path, Scoped};
use crate::state::AppState;

/// A variant's stock state, derived from its count and low-stock threshold unless explicitly overridden.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = InventoryStatus)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InventoryStatusWire {
    InStock,
    LowStock,
    OutOfStock,
    Backorder,
}

impl From<InventoryStatus> for InventoryStatusWire {
    fn from(s: InventoryStatus) -> Self {
        match s {
            InventoryStatus::InStock => InventoryStatusWire::InStock,
            InventoryStatus::LowStock => InventoryStatusWire::LowStock,
            InventoryStatus::OutOfStock => InventoryStatusWire::OutOfStock,
            InventoryStatus::Backorder => InventoryStatusWire::Backorder,
        }
    }
}

impl From<InventoryStatusWire> for InventoryStatus {
    fn from(s: InventoryStatusWire) -> Self {
        match s {
            InventoryStatusWire::InStock => InventoryStatus::InStock,
            InventoryStatusWire::LowStock => InventoryStatus::LowStock,
            InventoryStatusWire::OutOfStock => InventoryStatus::OutOfStock,
            InventoryStatusWire::Backorder => InventoryStatus::Backorder,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Variant)]
#[serde(rename_all = "camelCase")]
pub struct VariantOut {
    #[schema(example = "var_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    pub product_id: String,
    /// Numeric id for dialects that expect integers (shared number space with products).
    pub number: i64,
    #[schema(example = "Small / White")]
    pub name: String,
    #[schema(example = "TS-WHT-S")]
    pub sku: Option<String>,
    /// Price in minor units; `null` means the product's price applies.
    pub price: Option<i64>,
    pub compare_at_price: Option<i64>,
    /// Option values in their defined order, e.g. `{"Size": "Small", "Color": "White"}`.
    #[schema(value_type = std::collections::HashMap<String, String>, example = json!({"Size": "Small", "Color": "White"}))]
    pub options: Map<String, Value>,
    pub is_default: bool,
    pub position: i32,
    pub inventory_count: i32,
    pub inventory_status: InventoryStatusWire,
    pub low_stock_threshold: i32,
    #[serde(serialize_with = "crate::domain::timestamps::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::timestamps::serialize")]
    pub updated_at: DateTime<Utc>,
}

impl From<Variant> for VariantOut {
    fn from(v: Variant) -> Self {
        VariantOut {
            id: v.id,
            product_id: v.product_id,
            number: v.number,
            name: v.name,
            sku: v.sku,
            price: v.price,
            compare_at_price: v.compare_at_price,
            options: v.options,
            is_default: v.is_default,
            position: v.position,
            inventory_count: v.inventory_count,
            inventory_status: v.inventory_status.into(),
            low_stock_threshold: v.low_stock_threshold,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

/// Creating a variant (also inline with a product), or replacing one with PUT.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = VariantInput)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VariantIn {
    /// Derived from the option values (`Large / Black`) when omitted.
    #[schema(
        example = "Large / Black",
        min_length = 1,
        max_length = 255,
        pattern = "\\S"
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Unique per site; no control characters.
    #[schema(value_type = Option<Sku>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Minor units; omit to inherit the product's price.
    #[schema(minimum = 0, maximum = 10_000_000_000_000_f64)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<i64>,
    #[schema(minimum = 0, maximum = 10_000_000_000_000_f64)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compare_at_price: Option<i64>,
    #[schema(example = 10, minimum = 0, maximum = 1_000_000)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inventory_count: Option<i32>,
    /// Overrides the status derived from `inventoryCount`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inventory_status: Option<InventoryStatusWire>,
    #[schema(value_type = Option<OptionValues>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_default: Option<bool>,
    #[schema(minimum = 0)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub low_stock_threshold: Option<i32>,
    #[schema(minimum = 0)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<i32>,
}

impl From<VariantIn> for NewVariant {
    fn from(v: VariantIn) -> Self {
        NewVariant {
            name: v.name,
            sku: v.sku,
            price: v.price,
            compare_at_price: v.compare_at_price,
            inventory_count: v.inventory_count,
            inventory_status: v.inventory_status.map(Into::into),
            options: v.options,
            is_default: v.is_default,
            low_stock_threshold: v.low_stock_threshold,
            position: v.position,
        }
    }
}

/// A variant as a catalog file holds it (`shopvo export products`).
impl From<NewVariant> for VariantIn {
    fn from(v: NewVariant) -> Self {
        VariantIn {
            name: v.name,
            sku: v.sku,
            price: v.price,
            compare_at_price: v.compare_at_price,
            inventory_count: v.inventory_count,
            inventory_status: v.inventory_status.map(Into::into),
            options: v.options,
            is_default: v.is_default,
            low_stock_threshold: v.low_stock_threshold,
            position: v.position,
        }
    }
}

/// A partial update: absent fields stay, `null` clears nullable ones.
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = VariantPatch)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VariantPatchIn {
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, min_length = 1, max_length = 255, pattern = "\\S")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<Sku>)]
    pub sku: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10_000_000_000_000_f64)]
    pub price: Option<Option<i64>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10_000_000_000_000_f64)]
    pub compare_at_price: Option<Option<i64>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, minimum = 0, maximum = 1_000_000)]
    pub inventory_count: Option<i32>,
    /// `null` returns to the derived status.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<InventoryStatusWire>)]
    pub inventory_status: Option<Option<InventoryStatusWire>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, value_type = OptionValues)]
    pub options: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    pub is_default: Option<bool>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, minimum = 0)]
    pub low_stock_threshold: Option<i32>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, minimum = 0)]
    pub position: Option<i32>,
}

impl From<VariantPatchIn> for VariantPatch {
    fn from(p: VariantPatchIn) -> Self {
        VariantPatch {
            name: p.name,
            sku: p.sku,
            price: p.price,
            compare_at_price: p.compare_at_price,
            inventory_count: p.inventory_count,
            inventory_status: p.inventory_status.map(|s| s.map(Into::into)),
            options: p.options,
            is_default: p.is_default,
            low_stock_threshold: p.low_stock_threshold,
            position: p.position,
        }
    }
}

/// List a product's variants
///
/// The default variant first, then by position and age.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/products/{productId}/variants",
    tag = "Variants",
    params(("siteId" = String, Path), ("productId" = String, Path, description = "Product id or slug")),
    security(("bearerAuth" = ["read:catalog"])),
    responses((status = 200, description = "The variants", body = Data<Vec<VariantOut>>), CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadCatalog>,
    State(state): State<AppState>,
    Path((_site, product_id)): Path<(String, String)>,
) -> Result<Data<Vec<VariantOut>>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let variants = variants::list(&mut conn, &key.caller(), &product_id).await?;
    Ok(Data::new(
        variants.into_iter().map(VariantOut::from).collect(),
    ))
}

/// Create a variant
///
/// `isDefault: true` demotes the previous default atomically. `inventoryStatus` is derived from
/// `inventoryCount` when omitted. SKUs are unique per site.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/products/{productId}/variants",
    tag = "Variants",
    params(("siteId" = String, Path), ("productId" = String, Path, description = "Product id or slug")),
    request_body(content = VariantIn, example = json!({"name": "Large / Black", "sku": "TS-BLK-L", "inventoryCount": 10,
        "options": {"Size": "Large", "Color": "Black"}, "isDefault": false})),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 201, description = "The new variant", body = Data<VariantOut>),
        (status = 409, description = "SKU already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, product_id)): Path<(String, String)>,
    Json(input): Json<VariantIn>,
) -> Result<Created<VariantOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let variant = products::add_variant(&mut tx, key.site_id(), &product_id, input.into()).await?;
    tx.commit().await?;
    Ok(Created(variant.into()))
}

/// Update a variant
///
/// All fields optional. `isDefault: true` promotes this variant and demotes the previous default
/// atomically; a new `inventoryCount` without `inventoryStatus` returns to the derived status.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/products/{productId}/variants/{variantId}",
    tag = "Variants",
    params(("siteId" = String, Path), ("productId" = String, Path), ("variantId" = String, Path)),
    request_body(content = VariantPatchIn, example = json!({"inventoryCount": 0, "inventoryStatus": "OUT_OF_STOCK"})),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 200, description = "The updated variant", body = Data<VariantOut>),
        (status = 409, description = "SKU already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn update(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, product_id, id)): Path<(String, String, String)>,
    Json(patch): Json<VariantPatchIn>,
) -> Result<Data<VariantOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let variant =
        products::update_variant(&mut tx, key.site_id(), &product_id, &id, patch.into()).await?;
    tx.commit().await?;
    Ok(Data::new(variant.into()))
}

/// Replace a variant
///
/// Every field is set from the body; omitted optional fields return to their defaults.
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/products/{productId}/variants/{variantId}",
    tag = "Variants",
    params(("siteId" = String, Path), ("productId" = String, Path), ("variantId" = String, Path)),
    request_body(content = VariantIn, example = json!({"name": "Large / Black", "sku": "TS-BLK-L", "inventoryCount": 3})),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 200, description = "The replaced variant", body = Data<VariantOut>),
        (status = 409, description = "SKU already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn replace(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, product_id, id)): Path<(String, String, String)>,
    Json(input): Json<VariantIn>,
) -> Result<Data<VariantOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let variant =
        products::replace_variant(&mut tx, key.site_id(), &product_id, &id, input.into()).await?;
    tx.commit().await?;
    Ok(Data::new(variant.into()))
}

/// Delete a variant
///
/// When the default is deleted, the next oldest variant becomes the default. A product's only variant
/// cannot be deleted (409).
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/products/{productId}/variants/{variantId}",
    tag = "Variants",
    params(("siteId" = String, Path), ("productId" = String, Path), ("variantId" = String, Path)),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 200, description = "Deleted", body = Deleted),
        (status = 409, description = "The product's only variant", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn delete(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, product_id, id)): Path<(String, String, String)>,
) -> Result<Deleted, ApiError> {
    let mut tx = state.pool.begin().await?;
    products::delete_variant(&mut tx, key.site_id(), &product_id, &id).await?;
    tx.commit().await?;
    Ok(Deleted::new())
}
