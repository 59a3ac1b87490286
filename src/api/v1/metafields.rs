//! `/{resourceType}/{resourceId}/metafields`: typed key-value metadata on a product, customer, order or the
//! site.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::wire::wire_enum;

use crate::api::v1::patch;
use crate::domain::Error;
use crate::domain::metafields::{
    self, Metafield, MetafieldChange, NewMetafield, Resource, ResourceType,
};
use crate::http::auth::{MetafieldsRead, MetafieldsWrite};
use crate::http::{ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, Path, Scoped};
use crate::state::AppState;

wire_enum! {
    #[serde(rename_all = "lowercase")]
    pub enum ValueTypeWire as MetafieldValueType <=> metafields::ValueType {
        String, Integer, Json, Boolean,
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Metafield)]
pub struct MetafieldOut {
    #[schema(example = "mf_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    #[schema(example = "custom")]
    pub namespace: String,
    #[schema(example = "warranty_months")]
    pub key: String,
    /// Always text; `valueType` says how to read it.
    #[schema(example = "24")]
    pub value: String,
    pub value_type: ValueTypeWire,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Metafield> for MetafieldOut {
    fn from(m: Metafield) -> Self {
        MetafieldOut {
            id: m.id,
            namespace: m.namespace,
            key: m.key,
            value: m.value,
            value_type: m.value_type.into(),
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = MetafieldInput)]
pub struct MetafieldIn {
    #[schema(
        example = "custom",
        min_length = 1,
        max_length = 64,
        pattern = "^[A-Za-z0-9_-]+$"
    )]
    pub namespace: String,
    #[schema(
        example = "warranty_months",
        min_length = 1,
        max_length = 64,
        pattern = "^[A-Za-z0-9_-]+$"
    )]
    pub key: String,
    /// Must parse as `valueType`: a 64-bit integer, `true`/`false`, or a JSON document (422 otherwise).
    #[schema(example = "24", max_length = 65536)]
    pub value: String,
    /// `string` when omitted.
    pub value_type: Option<ValueTypeWire>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = MetafieldPatch)]
pub struct MetafieldPatchIn {
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, example = "36", max_length = 65536)]
    pub value: Option<String>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    pub value_type: Option<ValueTypeWire>,
}

/// `product`, `customer`, `order` or `site` (plurals are accepted too); anything else is not found.
fn resource(kind: &str, id: String) -> Result<Resource, ApiError> {
    let kind = match kind {
        "product" | "products" => ResourceType::Product,
        "customer" | "customers" => ResourceType::Customer,
        "order" | "orders" => ResourceType::Order,
        "site" | "sites" => ResourceType::Site,
        _ => return Err(Error::NotFound("resource type").into()),
    };
    Ok(Resource { kind, id })
}

/// List a resource's metafields
///
/// All of them (at most 200), by namespace and key. `resourceType` is `product`, `customer`, `order` or
/// `site` (whose `resourceId` is the site's id); an unknown resource is a 404.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/{resourceType}/{resourceId}/metafields",
    tag = "Metafields",
    params(
        ("siteId" = String, Path),
        ("resourceType" = String, Path, description = "product | customer | order | site", example = "product"),
        ("resourceId" = String, Path),
    ),
    security(("bearerAuth" = ["metafields:read"])),
    responses((status = 200, description = "The metafields", body = Data<Vec<MetafieldOut>>), CommonErrors)
)]
pub async fn list(
    key: Scoped<MetafieldsRead>,
    State(state): State<AppState>,
    Path((_site, kind, id)): Path<(String, String, String)>,
) -> Result<Data<Vec<MetafieldOut>>, ApiError> {
    let resource = resource(&kind, id)?;
    let mut conn = state.pool.acquire().await?;
    let fields = metafields::list(&mut conn, &key.caller(), &resource).await?;
    Ok(Data::new(fields.into_iter().map(Into::into).collect()))
}

/// Add a metafield
///
/// Unique by `namespace` + `key` on the resource (409 for a second one). The value must parse as its
/// `valueType` (422 otherwise).
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/{resourceType}/{resourceId}/metafields",
    tag = "Metafields",
    params(
        ("siteId" = String, Path),
        ("resourceType" = String, Path, description = "product | customer | order | site", example = "product"),
        ("resourceId" = String, Path),
    ),
    request_body(content = MetafieldIn, example = json!({"namespace": "custom", "key": "warranty_months", "value": "24", "valueType": "integer"})),
    security(("bearerAuth" = ["metafields:write"])),
    responses(
        (status = 201, description = "The metafield", body = Data<MetafieldOut>),
        (status = 409, description = "The resource already has this namespace + key", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create(
    key: Scoped<MetafieldsWrite>,
    State(state): State<AppState>,
    Path((_site, kind, id)): Path<(String, String, String)>,
    Json(input): Json<MetafieldIn>,
) -> Result<Created<MetafieldOut>, ApiError> {
    let resource = resource(&kind, id)?;
    let new = NewMetafield {
        namespace: input.namespace,
        key: input.key,
        value: input.value,
        value_type: input.value_type.map(Into::into),
    };
    let mut tx = state.pool.begin().await?;
    let field = metafields::create(&mut tx, &key.caller(), &resource, new).await?;
    tx.commit().await?;
    Ok(Created(field.into()))
}

/// Update a metafield
///
/// Its `value` and/or `valueType`; the value must still parse as the type (422 otherwise).
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/{resourceType}/{resourceId}/metafields/{metafieldId}",
    tag = "Metafields",
    params(
        ("siteId" = String, Path),
        ("resourceType" = String, Path, description = "product | customer | order | site", example = "product"),
        ("resourceId" = String, Path),
        ("metafieldId" = String, Path),
    ),
    request_body(content = MetafieldPatchIn, example = json!({"value": "36", "valueType": "integer"})),
    security(("bearerAuth" = ["metafields:write"])),
    responses((status = 200, description = "The metafield", body = Data<MetafieldOut>), CommonErrors)
)]
pub async fn update(
    key: Scoped<MetafieldsWrite>,
    State(state): State<AppState>,
    Path((_site, kind, id, metafield_id)): Path<(String, String, String, String)>,
    Json(input): Json<MetafieldPatchIn>,
) -> Result<Data<MetafieldOut>, ApiError> {
    let resource = resource(&kind, id)?;
    let change = MetafieldChange {
        value: input.value,
        value_type: input.value_type.map(Into::into),
    };
    let mut tx = state.pool.begin().await?;
    let field =
        metafields::update(&mut tx, &key.caller(), &resource, &metafield_id, change).await?;
    tx.commit().await?;
    Ok(Data::new(field.into()))
}

/// Update a metafield (PUT)
///
/// The same as PATCH.
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/{resourceType}/{resourceId}/metafields/{metafieldId}",
    tag = "Metafields",
    params(
        ("siteId" = String, Path),
        ("resourceType" = String, Path, description = "product | customer | order | site", example = "product"),
        ("resourceId" = String, Path),
        ("metafieldId" = String, Path),
    ),
    request_body(content = MetafieldPatchIn, example = json!({"value": "36", "valueType": "integer"})),
    security(("bearerAuth" = ["metafields:write"])),
    responses((status = 200, description = "The metafield", body = Data<MetafieldOut>), CommonErrors)
)]
pub async fn replace(
    key: Scoped<MetafieldsWrite>,
    state: State<AppState>,
    path: Path<(String, String, String, String)>,
    input: Json<MetafieldPatchIn>,
) -> Result<Data<MetafieldOut>, ApiError> {
    update(key, state, path, input).await
}

/// Delete a metafield
///
/// Permanently.
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/{resourceType}/{resourceId}/metafields/{metafieldId}",
    tag = "Metafields",
    params(
        ("siteId" = String, Path),
        ("resourceType" = String, Path, description = "product | customer | order | site", example = "product"),
        ("resourceId" = String, Path),
        ("metafieldId" = String, Path),
    ),
    security(("bearerAuth" = ["metafields:write"])),
    responses((status = 200, description = "Deleted", body = Deleted), CommonErrors)
)]
pub async fn delete(
    key: Scoped<MetafieldsWrite>,
    State(state): State<AppState>,
    Path((_site, kind, id, metafield_id)): Path<(String, String, String, String)>,
) -> Result<Deleted, ApiError> {
    let resource = resource(&kind, id)?;
    let mut conn = state.pool.acquire().await?;
    metafields::delete(&mut conn, &key.caller(), &resource, &metafield_id).await?;
    Ok(Deleted::new())
}
