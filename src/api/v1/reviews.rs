//! `/products/{productId}/reviews` and `/reviews`: product reviews, their submission and moderation.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::wire::wire_enum;

use crate::domain::catalog::reviews::{self, NewReview, Review, ReviewFilter};
use crate::http::auth::{ReadCatalog, WriteCatalog};
use crate::http::reads::ReadConn;
use crate::http::{
    ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, List, Pagination, Path, Query,
    Scoped,
};
use crate::state::AppState;

wire_enum! {
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    pub enum ReviewStatusWire as ReviewStatus <=> reviews::ReviewStatus {
        Pending, Published, Archived, Spam,
    }
}

/// A review as the API shows it. The reviewer's email is never shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Review)]
pub struct ReviewOut {
    #[schema(example = "rev_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    pub product_id: String,
    #[schema(example = 5, minimum = 1, maximum = 5)]
    pub rating: i16,
    #[schema(example = "Great quality!")]
    pub title: Option<String>,
    #[schema(example = "Wore this for a week and it still looks brand new.")]
    pub content: String,
    #[schema(example = "Jane Smith")]
    pub reviewer_name: String,
    pub status: ReviewStatusWire,
    /// The reviewer's email placed an order of this product (not cancelled).
    pub is_verified_purchase: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Review> for ReviewOut {
    fn from(r: Review) -> Self {
        ReviewOut {
            id: r.id,
            product_id: r.product_id,
            rating: r.rating,
            title: r.title,
            content: r.content,
            reviewer_name: r.reviewer_name,
            status: r.status.into(),
            is_verified_purchase: r.is_verified_purchase,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ReviewInput)]
pub struct ReviewIn {
    #[schema(example = 5, minimum = 1, maximum = 5)]
    pub rating: i32,
    #[schema(example = "Great quality!", max_length = 200)]
    pub title: Option<String>,
    #[schema(
        example = "Wore this for a week and it still looks brand new.",
        min_length = 1,
        max_length = 5000,
        pattern = "\\S"
    )]
    pub content: String,
    #[schema(
        example = "Jane Smith",
        min_length = 1,
        max_length = 100,
        pattern = "\\S"
    )]
    pub reviewer_name: String,
    /// Not shown with the review; decides `isVerifiedPurchase`.
    #[schema(example = "jane@example.com", value_type = crate::api::v1::formats::Email)]
    pub reviewer_email: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ReviewModeration)]
pub struct ModerationIn {
    pub status: ReviewStatusWire,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    #[param(minimum = 1, maximum = 1000000)]
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    page: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    limit: Option<i64>,
    cursor: Option<String>,
    /// PUBLISHED when omitted; other statuses need a secret key.
    #[param(inline)]
    status: Option<ReviewStatusWire>,
    /// `GET /reviews` only: one product's reviews.
    product_id: Option<String>,
}

impl ListQuery {
    fn page(&self) -> Result<crate::domain::pagination::PageRequest, ApiError> {
        Pagination {
            page: self.page,
            limit: self.limit,
            cursor: self.cursor.clone(),
        }
        .request(reviews::ID_PREFIX)
    }
}

/// List a product's reviews
///
/// Newest first, PUBLISHED unless `status` asks for another (which needs a secret key). Offset pagination
/// with `page`, keyset with `cursor`.
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/products/{productId}/reviews",
    tag = "Reviews",
    params(("siteId" = String, Path), ("productId" = String, Path), ListQuery),
    security(("bearerAuth" = ["read:catalog"])),
    responses((status = 200, description = "A page of reviews", body = List<ReviewOut>), CommonErrors)
)]
pub async fn list_for_product(
    key: Scoped<ReadCatalog>,
    mut conn: ReadConn,
    Path((_site, product_id)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Result<List<ReviewOut>, ApiError> {
    let page = q.page()?;
    let filter = ReviewFilter {
        product_id: Some(product_id),
        status: q.status.map(Into::into),
    };
    let found = reviews::list(&mut conn, &key.caller(), &filter, &page).await?;
    Ok(List::from(found.map(ReviewOut::from)))
}

/// List reviews
///
/// Every product's, newest first: the moderation queue with `status=PENDING`. PUBLISHED unless `status`
/// asks for another (which needs a secret key).
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/reviews",
    tag = "Reviews",
    params(("siteId" = String, Path), ListQuery),
    security(("bearerAuth" = ["read:catalog"])),
    responses((status = 200, description = "A page of reviews", body = List<ReviewOut>), CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadCatalog>,
    mut conn: ReadConn,
    Query(q): Query<ListQuery>,
) -> Result<List<ReviewOut>, ApiError> {
    let page = q.page()?;
    let filter = ReviewFilter {
        product_id: q.product_id,
        status: q.status.map(Into::into),
    };
    let found = reviews::list(&mut conn, &key.caller(), &filter, &page).await?;
    Ok(List::from(found.map(ReviewOut::from)))
}

/// Submit a review
///
/// PENDING until moderated, unless the site auto-approves reviews (`reviewsAutoApprove`). One review per
/// reviewer email and product (409 for a second). Records `review.created`.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/products/{productId}/reviews",
    tag = "Reviews",
    params(("siteId" = String, Path), ("productId" = String, Path)),
    request_body(content = ReviewIn, example = json!({"rating": 5, "title": "Great quality!", "content": "Wore this for a week and it still looks brand new.", "reviewerName": "Jane Smith", "reviewerEmail": "jane@example.com"})),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 201, description = "The review", body = Data<ReviewOut>),
        (status = 409, description = "This reviewer already reviewed the product", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn create(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, product_id)): Path<(String, String)>,
    Json(input): Json<ReviewIn>,
) -> Result<Created<ReviewOut>, ApiError> {
    let new = NewReview {
        rating: input.rating,
        title: input.title,
        content: input.content,
        reviewer_name: input.reviewer_name,
        reviewer_email: input.reviewer_email,
    };
    let mut tx = state.pool.begin().await?;
    let review = reviews::create(&mut tx, &key.caller(), &product_id, new).await?;
    tx.commit().await?;
    Ok(Created(review.into()))
}

/// Moderate a review
///
/// Moves it to any status; the product's `averageRating` and `reviewCount` follow in the same transaction.
#[utoipa::path(
    patch,
    path = "/api/v1/{siteId}/reviews/{reviewId}",
    tag = "Reviews",
    params(("siteId" = String, Path), ("reviewId" = String, Path)),
    request_body(content = ModerationIn, example = json!({"status": "PUBLISHED"})),
    security(("bearerAuth" = ["write:catalog"])),
    responses((status = 200, description = "The review", body = Data<ReviewOut>), CommonErrors)
)]
pub async fn moderate(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
    Json(input): Json<ModerationIn>,
) -> Result<Data<ReviewOut>, ApiError> {
    let mut tx = state.pool.begin().await?;
    let review = reviews::moderate(&mut tx, &key.caller(), &id, input.status.into()).await?;
    tx.commit().await?;
    Ok(Data::new(review.into()))
}

/// Delete a review
///
/// Permanently; a published one leaves the product's rating summary.
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/reviews/{reviewId}",
    tag = "Reviews",
    params(("siteId" = String, Path), ("reviewId" = String, Path)),
    security(("bearerAuth" = ["write:catalog"])),
    responses((status = 200, description = "Deleted", body = Deleted), CommonErrors)
)]
pub async fn delete(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, id)): Path<(String, String)>,
) -> Result<Deleted, ApiError> {
    let mut tx = state.pool.begin().await?;
    reviews::delete(&mut tx, &key.caller(), &id).await?;
    tx.commit().await?;
    Ok(Deleted::new())
}
