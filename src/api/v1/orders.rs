//! `/orders`: list, get by id or number, and operator updates.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::orders::{self, Order, OrderFilter, OrderPatch, OrderStatus, PaymentStatus};
use crate::http::auth::{ReadOrders, WriteOrders};
use crate::http::{
    ApiError, CommonErrors, Data, ErrorBody, Json, List, Pagination, Path, Query, Scoped,
};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    page: Option<i64>,
    limit: Option<i64>,
    cursor: Option<String>,
    #[param(inline)]
    status: Option<OrderStatus>,
    #[param(inline)]
    payment_status: Option<PaymentStatus>,
    customer_id: Option<String>,
    /// Created at or after (RFC 3339).
    from: Option<DateTime<Utc>>,
    /// Created before (RFC 3339).
    to: Option<DateTime<Utc>>,
}

/// List orders
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/orders",
    tag = "Orders",
    params(("siteId" = String, Path), ListQuery),
    security(("bearerAuth" = ["read:orders"])),
    responses((status = 200, description = "A page of orders", body = List<Order>), CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadOrders>,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<List<Order>, ApiError> {
    let page = Pagination {
        page: q.page,
        limit: q.limit,
        cursor: q.cursor,
    }
    .request("order")?;
    let filter = OrderFilter {
        status: q.status,
        payment_status: q.payment_status,
        customer_id: q.customer_id,
        from: q.from,
        to: q.to,
    };
    let mut conn = state.pool.acquire().await?;
    Ok(List::from(
        orders::list(&mut conn, key.site_id(), &filter, &page).await?,
    ))
}

/// Get an order
///
/// By id or by number (`ORD-1042`).
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/orders/{orderId}",
    tag = "Orders",
    params(("siteId" = String, Path), ("orderId" = String, Path, description = "Order id or number like ORD-1042")),
    security(("bearerAuth" = ["read:orders"])),
    responses((status = 200, description = "The order", body = Data<Order>), CommonErrors)
)]
pub async fn get(
    key: Scoped<ReadOrders>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Data<Order>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    Ok(Data::new(orders::get(&mut conn, key.site_id(), &id).await?))
}

/// Update an order
///
/// Legal status moves only: PENDING → CONFIRMED → PROCESSING → SHIPPED → DELIVERED; CANCELLED from
/// PENDING/CONFIRMED/PROCESSING (restocks what the order took); REFUNDED from paid orders. Also payment
/// and fulfilment status, tracking, notes, `externalRef` (unique per site) and `archived`.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/orders/{orderId}",
    tag = "Orders",
    params(("siteId" = String, Path), ("orderId" = String, Path)),
    request_body(content = OrderPatch, example = json!({"status": "SHIPPED", "fulfillmentStatus": "inTransit", "trackingNumber": "LV123"})),
    security(("bearerAuth" = ["write:orders"])),
    responses(
        (status = 200, description = "The updated order", body = Data<Order>),
        (status = 409, description = "INVALID_TRANSITION, or externalRef in use", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn update(
    key: Scoped<WriteOrders>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(patch): Json<OrderPatch>,
) -> Result<Data<Order>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let order = orders::update(&mut tx, key.site_id(), &id, patch, Some(key.auth.key_id())).await?;
    tx.commit().await?;
    Ok(Data::new(order))
}
