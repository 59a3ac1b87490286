//! `/products`: list (filters, search, pagination, fields, expand), get by id or slug, and writes.

pub(super) mod images;
pub(super) mod types;

use crate::api::v1::formats::{ProductExpansions, ProductFields, list_items};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use crate::domain::catalog::products::{self, Expand, ProductFilter};
use crate::http::auth::{ReadCatalog, WriteCatalog};
use crate::http::customer::CustomerToken;
use crate::http::reads::ReadConn;
use crate::http::{
    ApiError, CommonErrors, Created, Data, Deleted, Json, List, Pagination, Path, Query, Scoped,
};
use crate::state::AppState;
use types::{
    ProductIn, ProductOut, ProductPatchIn, ProductRead, ProductReplaceIn, ProductStatusWire,
};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// Page number for offset pagination (default 1); pages reach the first 10,000 items (walk further with
    /// `cursor`, 422 otherwise). Checked, then ignored, when `cursor` is given.
    #[param(minimum = 1, maximum = 1000000)]
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    page: Option<i64>,
    /// Results per page (1–100, default 20).
    #[param(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    limit: Option<i64>,
    /// The `cursor` of a previous response; empty to start a cursor walk.
    cursor: Option<String>,
    /// Comma-separated fields to return, e.g. `id,name,price,slug` (`id` is always included).
    #[param(value_type = Option<ProductFields>)]
    fields: Option<String>,
    /// Related resources to load: `variants`, `brand`, `categories` (repeat the parameter).
    #[serde(rename = "expand[]", default)]
    #[param(rename = "expand[]", value_type = Option<Vec<ProductExpansions>>)]
    expand_list: Vec<String>,
    /// Same as `expand[]`, comma-separated.
    #[serde(default)]
    #[param(value_type = Option<ProductExpansions>)]
    expand: Option<String>,
    /// Search: products with a SKU starting with the text first, then those whose name holds every word
    /// (the last one as a prefix, as typed so far), then those whose description does, each in creation
    /// order; a product appears once.
    /// A cursor walk keeps this order from page to page. When nothing matches, each word is corrected to the
    /// catalog's nearest word (typos) and the first page holds what the corrected words match, with nothing
    /// after it.
    search: Option<String>,
    category_id: Option<String>,
    brand_id: Option<String>,
    /// ACTIVE (default), DRAFT or ARCHIVED.
    #[param(inline)]
    status: Option<ProductStatusWire>,
    /// Only featured (`true`) or non-featured (`false`) products.
    featured: Option<bool>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GetQuery {
    /// Comma-separated fields to return (`id` is always included).
    #[param(value_type = Option<ProductFields>)]
    fields: Option<String>,
    /// `brand`, `categories` (variants are always included here).
    #[serde(rename = "expand[]", default)]
    #[param(rename = "expand[]", value_type = Option<Vec<ProductExpansions>>)]
    expand_list: Vec<String>,
    #[serde(default)]
    #[param(value_type = Option<ProductExpansions>)]
    expand: Option<String>,
}

pub(super) const FIELDS: &[&str] = &[
    "id",
    "number",
    "name",
    "slug",
    "handle",
    "description",
    "status",
    "price",
    "compareAtPrice",
    "brandId",
    "categoryIds",
    "featured",
    "vendor",
    "model",
    "images",
    "translations",
    "createdAt",
    "updatedAt",
    "variants",
    "brand",
    "categories",
];

fn parse_expand(list: &[String], csv: Option<&str>) -> Result<Expand, ApiError> {
    let mut expand = Expand::default();
    for item in list
        .iter()
        .map(String::as_str)
        .chain(csv)
        .flat_map(list_items)
    {
        match item {
            "variants" => expand.variants = true,
            "brand" => expand.brand = true,
            "categories" => expand.categories = true,
            other => {
                return Err(ApiError::field(
                    "expand[]",
                    format!("unknown expansion `{other}`: use variants, brand or categories"),
                ));
            }
        }
    }
    Ok(expand)
}

/// The requested sparse fieldset; `None` means every field.
fn parse_fields(fields: Option<&str>) -> Result<Option<Vec<String>>, ApiError> {
    let Some(fields) = fields.filter(|f| list_items(f).next().is_some()) else {
        return Ok(None);
    };
    let mut selected = vec!["id".to_string()];
    for field in list_items(fields) {
        if !FIELDS.contains(&field) {
            return Err(ApiError::field(
                "fields",
                format!("unknown field `{field}`"),
            ));
        }
        selected.push(field.to_string());
    }
    Ok(Some(selected))
}

/// Serialises a product keeping only the selected fields (expanded relations are kept when loaded).
fn project(product: &ProductOut, fields: &[String], expand: Expand) -> Value {
    let value = serde_json::to_value(product).unwrap_or(Value::Null);
    let Value::Object(map) = &value else {
        return value;
    };
    let expanded = |k: &str| match k {
        "variants" => expand.variants,
        "brand" => expand.brand,
        "categories" => expand.categories,
        _ => false,
    };
    Value::Object(
        map.iter()
            .filter(|(k, _)| fields.iter().any(|f| f == *k) || expanded(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

/// List products
///
/// Active products by default, in creation order. Offset pagination with `page`, or keyset pagination with
/// `cursor` (stable while products are added).
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/products",
    tag = "Products",
    params(("siteId" = String, Path, description = "Site id"), ListQuery, ("X-Customer-Token" = Option<String>, Header, description = "A signed-in customer's access token: a contact of an active B2B account then reads its price list's prices.")),
    security(("bearerAuth" = ["read:catalog"])),
    responses(
        (status = 200, description = "A page of products", body = List<ProductRead>,
         example = json!({"success": true, "items": [{"id": "prd_01JD2W3M4N5P6Q7R8S9T0V1W2X", "number": 1,
            "name": "Classic White T-Shirt", "slug": "classic-white-t-shirt", "status": "ACTIVE", "price": 2999,
            "compareAtPrice": 3999, "categoryIds": [], "featured": false, "images": [], "translations": {},
            "createdAt": "2026-01-15T09:30:00Z", "updatedAt": "2026-01-15T09:30:00Z"}],
            "pagination": {"page": 1, "limit": 20, "total": 1, "totalPages": 1, "totalIsEstimate": false}})),
        CommonErrors,
    )
)]
pub async fn list(
    key: Scoped<ReadCatalog>,
    token: Option<CustomerToken>,
    mut conn: ReadConn,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let expand = parse_expand(&q.expand_list, q.expand.as_deref())?;
    let fields = parse_fields(q.fields.as_deref())?;
    if q.search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(ApiError::field("search", "must be at most 200 characters"));
    }
    let filter = ProductFilter {
        status: q.status.map(Into::into),
        search: q.search,
        category_id: q.category_id,
        brand_id: q.brand_id,
        featured: q.featured,
        sort: Default::default(),
    };
    let page = Pagination {
        page: q.page,
        limit: q.limit,
        cursor: q.cursor,
    }
    .request_with(|cursor| products::is_cursor(&filter, cursor))?;
    let caller = key.caller_with(token.as_ref());
    let page = products::list(&mut conn, &caller, &filter, &page, expand).await?;
    let page = page.map(ProductOut::from);
    // Without a fieldset, products serialise straight to the response (no intermediate JSON tree).
    Ok(match fields {
        None => List::from(page).into_response(),
        Some(fields) => List::from(page.map(|p| project(&p, &fields, expand))).into_response(),
    })
}

/// Get a product
///
/// By id or slug, with all its variants (the default first).
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/products/{productId}",
    tag = "Products",
    params(
        ("siteId" = String, Path, description = "Site id"),
        ("productId" = String, Path, description = "Product id or slug"),
        GetQuery,
        ("X-Customer-Token" = Option<String>, Header, description = "A signed-in customer's access token: a contact of an active B2B account then reads its price list's prices."),
    ),
    security(("bearerAuth" = ["read:catalog"])),
    responses((status = 200, description = "The product", body = Data<ProductRead>), CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadCatalog>,
    token: Option<CustomerToken>,
    mut conn: ReadConn,
    Path((_site, id)): Path<(String, String)>,
    Query(q): Query<GetQuery>,
) -> Result<Response, ApiError> {
    let expand = parse_expand(&q.expand_list, q.expand.as_deref())?;
    let fields = parse_fields(q.fields.as_deref())?;
    let caller = key.caller_with(token.as_ref());
    let product = ProductOut::from(products::get(&mut conn, &caller, &id, expand).await?);
    let expand = Expand {
        variants: true,
        ..expand
    };
    Ok(match fields {
        None => Data::new(product).into_response(),
        Some(fields) => Data::new(project(&product, &fields, expand)).into_response(),
    })
}

/// Create a product
///
/// With its variants inline; without any, a default variant is created. The slug is derived from the name
/// when omitted.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/products",
    tag = "Products",
    params(("siteId" = String, Path, description = "Site id")),
    request_body(content = ProductIn, example = json!({"name": "Classic White T-Shirt", "price": 2999,
        "variants": [{"name": "Small", "sku": "TS-WHT-S", "inventoryCount": 42, "options": {"Size": "Small"}}]})),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 201, description = "The new product", body = Data<ProductOut>),
        (status = 409, description = "Slug, handle or SKU already in use", body = crate::http::ErrorBody),
        CommonErrors,
    )
)]
pub async fn create(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Json(input): Json<ProductIn>,
) -> Result<Created<ProductOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let product = products::create(&mut tx, key.site_id(), input.into()).await?;
    tx.commit().await?;
    Ok(Created(product.into()))
}

/// Update a product
///
/// Only the fields sent change; `null` clears a nullable field. `categoryIds` replaces the whole list.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/products/{productId}",
    tag = "Products",
    params(("siteId" = String, Path), ("productId" = String, Path, description = "Product id or slug")),
    request_body(content = ProductPatchIn, example = json!({"price": 2499, "featured": true})),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 200, description = "The updated product", body = Data<ProductOut>),
        (status = 409, description = "Slug or handle already in use", body = crate::http::ErrorBody),
        CommonErrors,
    )
)]
pub async fn update(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(patch): Json<ProductPatchIn>,
) -> Result<Data<ProductOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let product = products::update(&mut tx, key.site_id(), &id, patch.into()).await?;
    tx.commit().await?;
    Ok(Data::new(product.into()))
}

/// Replace a product
///
/// Every field is set from the body; omitted optional fields return to their defaults. Variants are not
/// part of a replace: use the variant routes.
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/products/{productId}",
    tag = "Products",
    params(("siteId" = String, Path), ("productId" = String, Path, description = "Product id or slug")),
    request_body(content = ProductReplaceIn, example = json!({"name": "Classic White T-Shirt", "price": 2999})),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 200, description = "The replaced product", body = Data<ProductOut>),
        (status = 409, description = "Slug or handle already in use", body = crate::http::ErrorBody),
        CommonErrors,
    )
)]
pub async fn replace(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(input): Json<ProductReplaceIn>,
) -> Result<Data<ProductOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let product = products::replace(&mut tx, key.site_id(), &id, input.into()).await?;
    tx.commit().await?;
    Ok(Data::new(product.into()))
}

/// Delete a product
///
/// With its variants.
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/products/{productId}",
    tag = "Products",
    params(("siteId" = String, Path), ("productId" = String, Path, description = "Product id or slug")),
    security(("bearerAuth" = ["write:catalog"])),
    responses((status = 200, description = "Deleted", body = Deleted, example = json!({"success": true, "deleted": true})), CommonErrors)
)]
pub async fn delete(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Deleted, ApiError> {
    let mut tx = state.pool.begin().await?;
    products::delete(&mut tx, key.site_id(), &id).await?;
    tx.commit().await?;
    Ok(Deleted::new())
}
