//! Success envelopes and the pagination query of every list.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayItems, Schema};
use utoipa::openapi::{Ref, RefOr};

use super::error::ApiError;
use crate::domain::pagination::{DEFAULT_LIMIT, MAX_LIMIT, Page, PageInfo, PageRequest};

/// `{"success": true, "data": …}`
#[derive(Serialize, utoipa::ToSchema)]
pub struct Data<T> {
    pub success: bool,
    pub data: T,
}

impl<T> Data<T> {
    pub fn new(data: T) -> Self {
        Self {
            success: true,
            data,
        }
    }
}

impl<T: Serialize> IntoResponse for Data<T> {
    fn into_response(self) -> Response {
        json(StatusCode::OK, &self, ONE_ITEM)
    }
}

/// A `201 Created` with the data envelope.
pub struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        json(StatusCode::CREATED, &Data::new(self.0), ONE_ITEM)
    }
}

/// `{"success": true, "deleted": true}`
#[derive(Serialize, utoipa::ToSchema)]
pub struct Deleted {
    pub success: bool,
    pub deleted: bool,
}

impl Deleted {
    pub fn new() -> Self {
        Self {
            success: true,
            deleted: true,
        }
    }
}

impl Default for Deleted {
    fn default() -> Self {
        Self::new()
    }
}

impl IntoResponse for Deleted {
    fn into_response(self) -> Response {
        axum::Json(self).into_response()
    }
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OffsetPagination {
    pub page: i64,
    pub limit: i64,
    /// How many items match. Exact up to 1,000; past that an estimate, and `totalIsEstimate` is `true`.
    pub total: i64,
    pub total_pages: i64,
    /// `total` (and so `totalPages`) is the database's estimate: more than 1,000 items match, and counting
    /// them all would cost more than the page. An estimate may be a few seconds old. Walk with `cursor` to
    /// see every item.
    pub total_is_estimate: bool,
}

/// A list: `items` plus `pagination` (offset mode) or `cursor`/`hasNextPage`/`limit` (cursor mode).
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct List<T> {
    pub success: bool,
    pub items: Vec<T>,
    /// Offset mode only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination: Option<OffsetPagination>,
    /// Cursor mode only: pass as `?cursor=` for the next page; `null` on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub cursor: Option<Option<String>>,
    /// Cursor mode only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_next_page: Option<bool>,
    /// Cursor mode only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

impl<T> From<Page<T>> for List<T> {
    fn from(page: Page<T>) -> Self {
        match page.info {
            PageInfo::Offset {
                page: number,
                limit,
                total,
            } => List {
                success: true,
                items: page.items,
                pagination: Some(OffsetPagination {
                    page: number,
                    limit,
                    total: total.count,
                    total_pages: (total.count + limit - 1) / limit,
                    total_is_estimate: total.is_estimate,
                }),
                cursor: None,
                has_next_page: None,
                limit: None,
            },
            PageInfo::Cursor {
                next_cursor,
                has_next_page,
                limit,
            } => List {
                success: true,
                items: page.items,
                pagination: None,
                cursor: Some(next_cursor),
                has_next_page: Some(has_next_page),
                limit: Some(limit),
            },
        }
    }
}

impl<T: Serialize> IntoResponse for List<T> {
    fn into_response(self) -> Response {
        let capacity = ONE_ITEM.saturating_mul(self.items.len()).min(MAX_PRESIZE);
        json(StatusCode::OK, &self, capacity.max(ONE_ITEM))
    }
}

/// Room for one item's JSON to begin with (a product with three variants is about 2 KB).
const ONE_ITEM: usize = 2048;

/// No list presizes more than this (a page of 100 products).
const MAX_PRESIZE: usize = 256 * 1024;

/// `value` as a JSON response, written into a buffer of `capacity` bytes to begin with: axum's `Json`
/// starts at 128 bytes and doubles, so a 40 KB product page was copied nine times as it grew (a twentieth of
/// the server's time on a list page).
fn json(status: StatusCode, value: &impl Serialize, capacity: usize) -> Response {
    let mut body = Vec::with_capacity(capacity);
    match serde_json::to_writer(&mut body, value) {
        Ok(()) => (
            status,
            [(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "could not serialise a response");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Points each envelope's payload at the payload's component: `Data_X.data`, `Data_Vec_X.data.items` and
/// `List_X.items.items` become `{"$ref": "#/components/schemas/X"}`, so the document names the type (a
/// generated client gets `Cart`, not an anonymous copy per envelope) and every component is used.
///
/// utoipa composes a generic schema with the whole schema of its type argument (juhaku/utoipa#1586): the
/// `Data_Cart` it registers for `Data<Cart>` repeats `Cart` inline, while `Cart` itself is registered
/// beside it. A payload is replaced only when it is exactly the schema of the component its envelope's
/// name gives (`<envelope>_<argument>`); anything else (a primitive payload, a renamed type) stays inline.
pub fn reference_payloads(openapi: &mut utoipa::openapi::OpenApi) {
    let Some(components) = openapi.components.as_mut() else {
        return;
    };
    let named = components.schemas.clone();
    let point_at = |payload: Option<&mut RefOr<Schema>>, component: &str| {
        if let Some(payload) = payload
            && named.get(component) == Some(&*payload)
        {
            *payload = RefOr::Ref(Ref::from_schema_name(component));
        }
    };
    for (name, envelope) in components.schemas.iter_mut() {
        if let Some(argument) = name.strip_prefix("Data_") {
            match argument.strip_prefix("Vec_") {
                Some(item) => point_at(property(envelope, "data").and_then(items), item),
                None => point_at(property(envelope, "data"), argument),
            }
        } else if let Some(item) = name.strip_prefix("List_") {
            point_at(property(envelope, "items").and_then(items), item);
        }
    }
}

fn property<'a>(schema: &'a mut RefOr<Schema>, name: &str) -> Option<&'a mut RefOr<Schema>> {
    match schema {
        RefOr::T(Schema::Object(object)) => object.properties.get_mut(name),
        _ => None,
    }
}

fn items(schema: &mut RefOr<Schema>) -> Option<&mut RefOr<Schema>> {
    match schema {
        RefOr::T(Schema::Array(array)) => match &mut array.items {
            ArrayItems::RefOrSchema(items) => Some(items.as_mut()),
            ArrayItems::False => None,
        },
        _ => None,
    }
}

/// `page`, `limit` and `cursor`. An empty `cursor=` starts a cursor walk at the beginning.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Pagination {
    /// Page number for offset pagination (default 1); pages reach the first 10,000 items (walk further with
    /// `cursor`, 422 otherwise). Checked, then ignored, when `cursor` is given.
    #[param(minimum = 1, maximum = 1000000)]
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    pub page: Option<i64>,
    /// Results per page (1–100, default 20).
    #[param(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    pub limit: Option<i64>,
    /// The `cursor` of a previous response (an id); empty to start a cursor walk.
    pub cursor: Option<String>,
}

impl Pagination {
    /// The page request, checking ranges and that the cursor is an id with the list's `prefix`.
    pub fn request(&self, prefix: &str) -> Result<PageRequest, ApiError> {
        self.request_with(|cursor| crate::ids::is_valid(prefix, cursor))
    }

    /// The page request, checking ranges and the cursor with `is_cursor` (for lists whose cursors are not
    /// plain ids).
    pub fn request_with(&self, is_cursor: impl Fn(&str) -> bool) -> Result<PageRequest, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::field(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let page = self.page.unwrap_or(1);
        if !(1..=1_000_000).contains(&page) {
            return Err(ApiError::field("page", "must be a positive integer"));
        }
        if let Some(cursor) = &self.cursor {
            if cursor.is_empty() {
                return Ok(PageRequest::Cursor { after: None, limit });
            }
            // A cursor is opaque: only what a previous response gave is one, which no schema can state.
            if !is_cursor(cursor) {
                return Err(crate::domain::Error::unprocessable(
                    "cursor",
                    "malformed cursor: pass the `cursor` of a previous response",
                )
                .into());
            }
            return Ok(PageRequest::Cursor {
                after: Some(cursor.clone()),
                limit,
            });
        }
        // `page` and `limit` are each in range; together they may reach too deep, which no schema states.
        if (page - 1) * limit > crate::domain::pagination::MAX_OFFSET {
            return Err(crate::domain::Error::unprocessable(
                "page",
                format!(
                    "offset pages reach the first {} items: walk further with `cursor` (empty to start)",
                    crate::domain::pagination::MAX_OFFSET
                ),
            )
            .into());
        }
        Ok(PageRequest::Offset { page, limit })
    }
}
