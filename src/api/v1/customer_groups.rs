//! `/customer-groups`.

use axum::extract::State;

use crate::domain::customers::CustomerGroup;
use crate::domain::customers::groups::{self, CustomerGroupInput};
use crate::http::auth::{ReadCustomers, WriteCustomers};
use crate::http::{
    ApiError, CommonErrors, Created, Data, ErrorBody, Json, List, Pagination, Query, Scoped,
};
use crate::state::AppState;

/// List customer groups
///
/// In creation order, with how many customers each holds.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/customer-groups",
    tag = "Customers",
    params(("siteId" = String, Path), Pagination),
    security(("bearerAuth" = ["read:customers"])),
    responses((status = 200, description = "A page of customer groups", body = List<CustomerGroup>), CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadCustomers>,
    State(state): State<AppState>,
    Query(q): Query<Pagination>,
) -> Result<List<CustomerGroup>, ApiError> {
    let page = q.request(groups::ID_PREFIX)?;
    Ok(groups::list(&state.pool, key.site_id(), &page)
        .await?
        .into())
}

/// Create a customer group
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/customer-groups",
    tag = "Customers",
    params(("siteId" = String, Path)),
    request_body(content = CustomerGroupInput, example = json!({"name": "Wholesale"})),
    security(("bearerAuth" = ["write:customers"])),
    responses(
        (status = 201, description = "The new group", body = Data<CustomerGroup>),
        (status = 409, description = "Slug already in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create(
    key: Scoped<WriteCustomers>,
    State(state): State<AppState>,
    Json(input): Json<CustomerGroupInput>,
) -> Result<Created<CustomerGroup>, ApiError> {
    Ok(Created(
        groups::create(&state.pool, key.site_id(), input).await?,
    ))
}
