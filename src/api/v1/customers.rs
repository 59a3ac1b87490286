//! `/customers`: profiles with totals derived from orders.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::customer_addresses::AddressOut;
use crate::api::v1::formats::{CustomerGroupId, Email, Phone};
use crate::api::v1::patch;
use crate::domain::customers::Customer;
use crate::domain::customers::profiles::{self, CustomerFilter, CustomerInput, CustomerPatch};
use crate::http::auth::{ReadCustomers, WriteCustomers};
use crate::http::reads::ReadConn;
use crate::http::{
    ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, List, Pagination, Path, Query,
    Scoped,
};
use crate::state::AppState;

// The fields of the `customer.created` payload (the domain's `Customer`), plus `addresses` on single
// reads; a test holds the two shapes together. (Not a doc comment: that would become the schema's
// description.)
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Customer)]
pub struct CustomerOut {
    #[schema(example = "cust_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    #[schema(example = "jane@example.com")]
    pub email: String,
    #[schema(example = "Jane")]
    pub first_name: Option<String>,
    #[schema(example = "Smith")]
    pub last_name: Option<String>,
    #[schema(example = "+30 210 1234567")]
    pub phone: Option<String>,
    pub group_id: Option<String>,
    pub accepts_marketing: bool,
    /// Free-form preferences (a JSON object).
    #[schema(value_type = std::collections::HashMap<String, serde_json::Value>, example = json!({"newsletter": "weekly"}))]
    pub preferences: Map<String, Value>,
    /// An internal note, for staff.
    pub note: Option<String>,
    /// Whether the customer can log in (has set a password). The password itself is never returned.
    pub has_password: bool,
    /// Orders of this customer that were not cancelled or refunded.
    #[schema(example = 4)]
    pub total_orders: i64,
    /// The sum of those orders' totals, in minor units (cents).
    #[schema(example = 28400)]
    pub total_spent: i64,
    /// The customer's addresses, the default first (on single reads only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addresses: Option<Vec<AddressOut>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Customer> for CustomerOut {
    fn from(c: Customer) -> Self {
        CustomerOut {
            id: c.id,
            email: c.email,
            first_name: c.first_name,
            last_name: c.last_name,
            phone: c.phone,
            group_id: c.group_id,
            accepts_marketing: c.accepts_marketing,
            preferences: c.preferences,
            note: c.note,
            has_password: c.has_password,
            total_orders: c.total_orders,
            total_spent: c.total_spent,
            addresses: c
                .addresses
                .map(|list| list.into_iter().map(AddressOut::from).collect()),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// Creating a customer, or replacing one with PUT.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = CustomerInput)]
pub struct CustomerIn {
    #[schema(value_type = Email, example = "jane@example.com")]
    pub email: String,
    #[schema(example = "Jane", min_length = 1, max_length = 100, pattern = "\\S")]
    pub first_name: Option<String>,
    #[schema(example = "Smith", min_length = 1, max_length = 100, pattern = "\\S")]
    pub last_name: Option<String>,
    #[schema(value_type = Option<Phone>)]
    pub phone: Option<String>,
    #[schema(value_type = Option<CustomerGroupId>)]
    pub group_id: Option<String>,
    /// Defaults to `false`.
    pub accepts_marketing: Option<bool>,
    #[schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>)]
    pub preferences: Option<Map<String, Value>>,
    #[schema(max_length = 10000)]
    pub note: Option<String>,
}

impl From<CustomerIn> for CustomerInput {
    fn from(c: CustomerIn) -> Self {
        CustomerInput {
            email: c.email,
            first_name: c.first_name,
            last_name: c.last_name,
            phone: c.phone,
            group_id: c.group_id,
            accepts_marketing: c.accepts_marketing,
            preferences: c.preferences,
            note: c.note,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = CustomerPatch)]
pub struct CustomerPatchIn {
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, value_type = Email)]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100, pattern = "\\S")]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100, pattern = "\\S")]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<Phone>)]
    pub phone: Option<Option<String>>,
    /// `null` takes the customer out of its group.
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<CustomerGroupId>)]
    pub group_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    pub accepts_marketing: Option<bool>,
    /// Replaces the whole preferences object.
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(value_type = Option<std::collections::HashMap<String, serde_json::Value>>, nullable = false)]
    pub preferences: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub note: Option<Option<String>>,
}

impl From<CustomerPatchIn> for CustomerPatch {
    fn from(p: CustomerPatchIn) -> Self {
        CustomerPatch {
            email: p.email,
            first_name: p.first_name,
            last_name: p.last_name,
            phone: p.phone,
            group_id: p.group_id,
            accepts_marketing: p.accepts_marketing,
            preferences: p.preferences,
            note: p.note,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
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
        (status = 200, description = "A page of customers", body = List<CustomerOut>,
         example = json!({"success": true, "items": [{"id": "cust_01JD2W3M4N5P6Q7R8S9T0V1W2X",
            "email": "jane@example.com", "firstName": "Jane", "lastName": "Smith", "acceptsMarketing": true,
            "preferences": {}, "hasPassword": false, "totalOrders": 4, "totalSpent": 28400, "createdAt": "2026-01-15T09:30:00Z", "updatedAt": "2026-01-15T09:30:00Z"}],
            "pagination": {"page": 1, "limit": 20, "total": 1, "totalPages": 1, "totalIsEstimate": false}})),
        CommonErrors,
    )
)]
pub async fn list(
    key: Scoped<ReadCustomers>,
    mut conn: ReadConn,
    Query(q): Query<ListQuery>,
) -> Result<List<CustomerOut>, ApiError> {
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
    Ok(profiles::list(&mut conn, key.site_id(), &filter, &page)
        .await?
        .map(CustomerOut::from)
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
    responses((status = 200, description = "The customer", body = Data<CustomerOut>,
        example = json!({"success": true, "data": {"id": "cust_01JD2W3M4N5P6Q7R8S9T0V1W2X", "email": "jane@example.com",
            "firstName": "Jane", "lastName": "Smith", "acceptsMarketing": true, "preferences": {}, "hasPassword": true,
            "totalOrders": 4, "totalSpent": 28400, "addresses": [], "createdAt": "2026-01-15T09:30:00Z", "updatedAt": "2026-01-15T09:30:00Z"}})),
        CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadCustomers>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Data<CustomerOut>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let customer = profiles::get(&mut conn, key.site_id(), &id).await?;
    Ok(Data::new(customer.into()))
}

/// Create a customer
///
/// Without a password: the customer cannot log in (registration with the same email is a 409).
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/customers",
    tag = "Customers",
    params(("siteId" = String, Path)),
    request_body(content = CustomerIn,
        example = json!({"email": "jane@example.com", "firstName": "Jane", "lastName": "Smith", "acceptsMarketing": true})),
    security(("bearerAuth" = ["write:customers"])),
    responses(
        (status = 201, description = "The new customer", body = Data<CustomerOut>),
        (status = 409, description = "A customer with this email (in any case) exists", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create(
    key: Scoped<WriteCustomers>,
    State(state): State<AppState>,
    Json(input): Json<CustomerIn>,
) -> Result<Created<CustomerOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let customer = profiles::create(&mut tx, key.site_id(), input.into()).await?;
    tx.commit().await?;
    Ok(Created(customer.into()))
}

/// Update a customer
///
/// Only the fields sent change; `null` clears a clearable field.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/customers/{customerId}",
    tag = "Customers",
    params(("siteId" = String, Path), ("customerId" = String, Path)),
    request_body(content = CustomerPatchIn,
        example = json!({"firstName": "Jane", "lastName": "Smith", "phone": "+30 210 1234567"})),
    security(("bearerAuth" = ["write:customers"])),
    responses(
        (status = 200, description = "The updated customer", body = Data<CustomerOut>),
        (status = 409, description = "Email taken by another customer", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn update(
    key: Scoped<WriteCustomers>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(patch): Json<CustomerPatchIn>,
) -> Result<Data<CustomerOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let customer = profiles::update(&mut tx, key.site_id(), &id, patch.into()).await?;
    tx.commit().await?;
    Ok(Data::new(customer.into()))
}

/// Replace a customer
///
/// Every profile field; omitted optional fields are cleared. The password (if any) is kept.
#[utoipa::path(
    put,
    path = "/api/v1/{siteId}/customers/{customerId}",
    tag = "Customers",
    params(("siteId" = String, Path), ("customerId" = String, Path)),
    request_body(content = CustomerIn, example = json!({"email": "jane@example.com", "firstName": "Jane"})),
    security(("bearerAuth" = ["write:customers"])),
    responses(
        (status = 200, description = "The replaced customer", body = Data<CustomerOut>),
        (status = 409, description = "Email taken by another customer", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn replace(
    key: Scoped<WriteCustomers>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(input): Json<CustomerIn>,
) -> Result<Data<CustomerOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let customer = profiles::replace(&mut tx, key.site_id(), &id, input.into()).await?;
    tx.commit().await?;
    Ok(Data::new(customer.into()))
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
    let mut conn = state.pool.acquire().await?;
    profiles::delete(&mut conn, key.site_id(), &id).await?;
    Ok(Deleted::new())
}
