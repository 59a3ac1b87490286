//! `/products/{productId}/variants`.

use axum::extract::State;

use crate::domain::catalog::Variant;
use crate::domain::catalog::variants::{self, VariantInput, VariantPatch};
use crate::http::auth::{ReadCatalog, WriteCatalog};
use crate::http::{ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, Path, Scoped};
use crate::state::AppState;

/// List a product's variants
///
/// The default variant first, then by position and age.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/products/{productId}/variants",
    tag = "Variants",
    params(("siteId" = String, Path), ("productId" = String, Path, description = "Product id or slug")),
    security(("bearerAuth" = ["read:catalog"])),
    responses((status = 200, description = "The variants", body = Data<Vec<Variant>>), CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadCatalog>,
    State(state): State<AppState>,
    Path((_site, product_id)): Path<(String, String)>,
) -> Result<Data<Vec<Variant>>, ApiError> {
    let active_only = key.auth.is_publishable();
    let variants = variants::list(&state.pool, key.site_id(), &product_id, active_only).await?;
    if variants.is_empty() {
        // Every product has a variant, so none means no such product.
        return Err(crate::domain::Error::NotFound("product").into());
    }
    Ok(Data::new(variants))
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
    request_body(content = VariantInput, example = json!({"name": "Large / Black", "sku": "TS-BLK-L", "inventoryCount": 10,
        "options": {"Size": "Large", "Color": "Black"}, "isDefault": false})),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 201, description = "The new variant", body = Data<Variant>),
        (status = 409, description = "SKU already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, product_id)): Path<(String, String)>,
    Json(input): Json<VariantInput>,
) -> Result<Created<Variant>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let variant = variants::create(&mut tx, key.site_id(), &product_id, input).await?;
    tx.commit().await?;
    Ok(Created(variant))
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
    request_body(content = VariantPatch, example = json!({"inventoryCount": 0, "inventoryStatus": "OUT_OF_STOCK"})),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 200, description = "The updated variant", body = Data<Variant>),
        (status = 409, description = "SKU already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn update(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, product_id, id)): Path<(String, String, String)>,
    Json(patch): Json<VariantPatch>,
) -> Result<Data<Variant>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let variant = variants::update(&mut tx, key.site_id(), &product_id, &id, patch).await?;
    tx.commit().await?;
    Ok(Data::new(variant))
}

/// Replace a variant
///
/// Every field is set from the body; omitted optional fields return to their defaults.
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/products/{productId}/variants/{variantId}",
    tag = "Variants",
    params(("siteId" = String, Path), ("productId" = String, Path), ("variantId" = String, Path)),
    request_body(content = VariantInput, example = json!({"name": "Large / Black", "sku": "TS-BLK-L", "inventoryCount": 3})),
    security(("bearerAuth" = ["write:catalog"])),
    responses((status = 200, description = "The replaced variant", body = Data<Variant>), CommonErrors)
)]
pub async fn replace(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, product_id, id)): Path<(String, String, String)>,
    Json(input): Json<VariantInput>,
) -> Result<Data<Variant>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let variant = variants::replace(&mut tx, key.site_id(), &product_id, &id, input).await?;
    tx.commit().await?;
    Ok(Data::new(variant))
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
    variants::delete(&mut tx, key.site_id(), &product_id, &id).await?;
    tx.commit().await?;
    Ok(Deleted::new())
}
