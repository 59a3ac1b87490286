//! `/customers`: profiles with totals derived from orders.

use axum::extract::State;
use serde::Deserialize;

use crate::domain::customers::Customer;
use crate::domain::customers::profiles::{self, CustomerFilter, CustomerInput, CustomerPatch};
use crate::http::auth::{ReadCustomers, WriteCustomers};
use crate::http::{
    ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, List, Pagination, Path, Query,
    Scoped,
};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page number for offset pagination (default 1). Ignored when `cursor` is given.
    page: Option<i64>,
    /// Results per page (1–100, default 20).
    limit: Option<i64>,
    /// The `cursor` of a previous response; empty to start a cursor walk.
    cursor: Option<String>,
    /// Case-insensitive substring of the email, first name, last name or full name.
    search: Option<String>,
    /// Only customers of this customer group (`cgrp_…`).
    group: Option<String>,
}

/// List customers
///
/// In creation order. Offset pagination with `page`, or keyset pagination with `cursor`.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/customers",
    tag = "Customers",
    params(("siteId" = String, Path), ListQuery),
    security(("bearerAuth" = ["read:customers"])),
    responses(
        (status = 200, description = "A page of customers", body = List<Customer>,
         example = json!({"success": true, "items": [{"id": "cust_01JD2W3M4N5P6Q7R8S9T0V1W2X",
            "email": "jane@example.com", "firstName": "Jane", "lastName": "Smith", "totalOrders": 4,
            "totalSpent": 28400}], "pagination": {"page": 1, "limit": 20, "total": 1, "totalPages": 1}})),
        CommonErrors,
    )
)]
pub async fn list(
    key: Scoped<ReadCustomers>,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<List<Customer>, ApiError> {
    let page = Pagination {
        page: q.page,
        limit: q.limit,
        cursor: q.cursor,
    }
    .request("cust")?;
    if q.search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(ApiError::field("search", "must be at most 200 characters"));
    }
    let filter = CustomerFilter {
        search: q.search,
        group_id: q.group.filter(|g| !g.is_empty()),
    };
    Ok(profiles::list(&state.pool, key.site_id(), &filter, &page)
        .await?
        .into())
}

/// Get a customer
///
/// With their addresses and order totals.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/customers/{customerId}",
    tag = "Customers",
    params(("siteId" = String, Path), ("customerId" = String, Path)),
    security(("bearerAuth" = ["read:customers"])),
    responses((status = 200, description = "The customer", body = Data<Customer>,
        example = json!({"success": true, "data": {"id": "cust_xyz", "email": "jane@example.com",
            "firstName": "Jane", "lastName": "Smith", "hasPassword": true, "totalOrders": 4, "totalSpent": 28400,
            "addresses": []}})),
        CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadCustomers>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Data<Customer>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    Ok(Data::new(
        profiles::get(&mut conn, key.site_id(), &id).await?,
    ))
}

/// Create a customer
///
/// Without a password: the customer cannot log in (registration with the same email is a 409).
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/customers",
    tag = "Customers",
    params(("siteId" = String, Path)),
    request_body(content = CustomerInput,
        example = json!({"email": "jane@example.com", "firstName": "Jane", "lastName": "Smith", "acceptsMarketing": true})),
    security(("bearerAuth" = ["write:customers"])),
    responses(
        (status = 201, description = "The new customer", body = Data<Customer>),
        (status = 409, description = "A customer with this email (in any case) exists", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create(
    key: Scoped<WriteCustomers>,
    State(state): State<AppState>,
    Json(input): Json<CustomerInput>,
) -> Result<Created<Customer>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let customer = profiles::create(&mut tx, key.site_id(), input).await?;
    tx.commit().await?;
    Ok(Created(customer))
}

/// Update a customer
///
/// Only the fields sent change; `null` clears a clearable field.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/customers/{customerId}",
    tag = "Customers",
    params(("siteId" = String, Path), ("customerId" = String, Path)),
    request_body(content = CustomerPatch,
        example = json!({"firstName": "Jane", "lastName": "Smith", "phone": "+30 210 1234567"})),
    security(("bearerAuth" = ["write:customers"])),
    responses(
        (status = 200, description = "The updated customer", body = Data<Customer>),
        (status = 409, description = "Email taken by another customer", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn update(
    key: Scoped<WriteCustomers>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(patch): Json<CustomerPatch>,
) -> Result<Data<Customer>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let customer = profiles::update(&mut tx, key.site_id(), &id, patch).await?;
    tx.commit().await?;
    Ok(Data::new(customer))
}

/// Replace a customer
///
/// Every profile field; omitted optional fields are cleared. The password (if any) is kept.
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/customers/{customerId}",
    tag = "Customers",
    params(("siteId" = String, Path), ("customerId" = String, Path)),
    request_body(content = CustomerInput, example = json!({"email": "jane@example.com", "firstName": "Jane"})),
    security(("bearerAuth" = ["write:customers"])),
    responses(
        (status = 200, description = "The replaced customer", body = Data<Customer>),
        (status = 409, description = "Email taken by another customer", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn replace(
    key: Scoped<WriteCustomers>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(input): Json<CustomerInput>,
) -> Result<Data<Customer>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let customer = profiles::replace(&mut tx, key.site_id(), &id, input).await?;
    tx.commit().await?;
    Ok(Data::new(customer))
}

/// Delete a customer
///
/// With their addresses and login sessions. Their orders stay.
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/customers/{customerId}",
    tag = "Customers",
    params(("siteId" = String, Path), ("customerId" = String, Path)),
    security(("bearerAuth" = ["write:customers"])),
    responses((status = 200, description = "Deleted", body = Deleted), CommonErrors)
)]
pub async fn delete(
    key: Scoped<WriteCustomers>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Deleted, ApiError> {
    profiles::delete(&state.pool, key.site_id(), &id).await?;
    Ok(Deleted::new())
}
