//! `/customer-groups`.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::api::v1::formats::Slug;
use crate::domain::customers::CustomerGroup;
use crate::domain::customers::groups::{self, CustomerGroupInput};
use crate::http::auth::{ReadCustomers, WriteCustomers};
use crate::http::{
    ApiError, CommonErrors, Created, Data, ErrorBody, Json, List, Pagination, Query, Scoped,
};
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CustomerGroup)]
pub struct CustomerGroupOut {
    #[schema(example = "cgrp_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    #[schema(example = "Wholesale")]
    pub name: String,
    #[schema(example = "wholesale")]
    pub slug: String,
    pub description: Option<String>,
    /// How many customers are in the group.
    pub customer_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<CustomerGroup> for CustomerGroupOut {
    fn from(g: CustomerGroup) -> Self {
        CustomerGroupOut {
            id: g.id,
            name: g.name,
            slug: g.slug,
            description: g.description,
            customer_count: g.customer_count,
            created_at: g.created_at,
            updated_at: g.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = CustomerGroupInput)]
pub struct CustomerGroupIn {
    #[schema(
        example = "Wholesale",
        min_length = 1,
        max_length = 200,
        pattern = "\\S"
    )]
    pub name: String,
    /// Derived from the name when omitted.
    #[schema(value_type = Option<Slug>)]
    pub slug: Option<String>,
    #[schema(min_length = 1, max_length = 10000, pattern = "\\S")]
    pub description: Option<String>,
}

impl From<CustomerGroupIn> for CustomerGroupInput {
    fn from(g: CustomerGroupIn) -> Self {
        CustomerGroupInput {
            name: g.name,
            slug: g.slug,
            description: g.description,
        }
    }
}

/// List customer groups
///
/// In creation order, with how many customers each holds.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/customer-groups",
    tag = "Customers",
    params(("siteId" = String, Path), Pagination),
    security(("bearerAuth" = ["read:customers"])),
    responses((status = 200, description = "A page of customer groups", body = List<CustomerGroupOut>), CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadCustomers>,
    State(state): State<AppState>,
    Query(q): Query<Pagination>,
) -> Result<List<CustomerGroupOut>, ApiError> {
    let page = q.request(groups::ID_PREFIX)?;
    let mut conn = state.pool.acquire().await?;
    Ok(groups::list(&mut conn, key.site_id(), &page)
        .await?
        .map(CustomerGroupOut::from)
        .into())
}

/// Create a customer group
///
/// An empty group: customers join it through their `groupId` (create or update a customer). The slug is
/// derived from the name when omitted; slugs are unique per site (409). Groups cannot be renamed or deleted
/// over the API yet.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/customer-groups",
    tag = "Customers",
    params(("siteId" = String, Path)),
    request_body(content = CustomerGroupIn, example = json!({"name": "Wholesale"})),
    security(("bearerAuth" = ["write:customers"])),
    responses(
        (status = 201, description = "The new group", body = Data<CustomerGroupOut>),
        (status = 409, description = "Slug already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create(
    key: Scoped<WriteCustomers>,
    State(state): State<AppState>,
    Json(input): Json<CustomerGroupIn>,
) -> Result<Created<CustomerGroupOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let group = groups::create(&mut conn, key.site_id(), input.into()).await?;
    Ok(Created(group.into()))
}
