//! `GET /media/{*path}`: images kept in the local media folder, public like the pages that show them.
//! Only keys the store itself makes are served (no listing, nothing outside the folder); with a bucket
//! configured, image URLs point at the bucket and this answers 404.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::domain::media::CACHE_CONTROL;
use crate::http::{ApiError, Path};
use crate::state::AppState;

pub async fn serve(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Response, ApiError> {
    let (bytes, kind) = state
        .media
        .read_local(&key)
        .await
        .ok_or_else(ApiError::not_found)?;
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(kind.content_type()),
        ),
        // A key is never reused for other bytes.
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(CACHE_CONTROL),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ];
    Ok((headers, bytes).into_response())
}
