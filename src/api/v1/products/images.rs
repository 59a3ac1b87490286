//! `/products/{productId}/images`: images uploaded to the media store, appended to the product's `images`.

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{StatusCode, header};
use base64::Engine;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::field::FieldKey;
use crate::domain::media::{self, NewImage, ProductImage};
use crate::domain::{Error, FieldError};
use crate::http::auth::{ReadCatalog, WriteCatalog};
use crate::http::{ApiError, CommonErrors, Created, Data, Deleted, ErrorBody, Json, Path, Scoped};
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ProductImage)]
pub struct ProductImageOut {
    #[schema(example = "img_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    /// Where the image is served; also in the product's `images`.
    #[schema(
        example = "https://shop.example.com/media/site_01JD2W3M4N5P6Q7R8S9T0V1W2X/prd_01JD2W3M4N5P6Q7R8S9T0V1W2X/img_01JD2W3M4N5P6Q7R8S9T0V1W2X.png"
    )]
    pub url: String,
    /// 0 for the first uploaded image of the product.
    #[schema(example = 0, minimum = 0)]
    pub position: i32,
    /// From the image's content: `image/jpeg`, `image/png`, `image/webp` or `image/gif`.
    #[schema(example = "image/png")]
    pub content_type: String,
    /// In bytes.
    #[schema(example = 48213, minimum = 1)]
    pub size: i64,
    #[schema(example = "front.png")]
    pub filename: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<ProductImage> for ProductImageOut {
    fn from(i: ProductImage) -> Self {
        ProductImageOut {
            id: i.id,
            url: i.url,
            position: i.position,
            content_type: i.content_type,
            size: i.size,
            filename: i.filename,
            created_at: i.created_at,
        }
    }
}

/// An image as base64 in JSON.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ProductImageInput)]
pub struct ImageIn {
    /// The image's bytes in base64 (standard alphabet, padded, no line breaks).
    #[schema(
        example = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==",
        pattern = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
    )]
    pub data: String,
    /// Kept as the image's `filename`, without any folder part.
    #[schema(
        example = "front.png",
        max_length = 255,
        pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*$"
    )]
    pub filename: Option<String>,
}

/// An image as a multipart form.
#[derive(utoipa::ToSchema)]
#[schema(as = ProductImageUpload)]
#[allow(dead_code)]
pub struct ImageUpload {
    /// The image file; its part's file name is kept as `filename`.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Standard padded base64, as the schema's pattern states; bits after the last byte are ignored (the
/// pattern cannot refuse them, so neither does the decoder).
const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// The upload in either form, with the name of the field that carried the bytes.
async fn read_upload(
    request: Request,
    state: &AppState,
) -> Result<(NewImage, &'static str), ApiError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let multipart = Multipart::from_request(request, state)
            .await
            .map_err(|e| ApiError::bad_request("INVALID_BODY", e.body_text()))?;
        return Ok((read_multipart(multipart).await?, "file"));
    }
    if !content_type.starts_with("application/json") && !content_type.contains("+json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send multipart/form-data with a `file` part, or JSON {\"data\": \"<base64>\", \"filename\": \"…\"}",
        ));
    }
    let Json(input) = Json::<ImageIn>::from_request(request, state).await?;
    let bytes = BASE64
        .decode(&input.data)
        .map_err(|_| ApiError::field("data", "must be base64 (standard alphabet, padded)"))?;
    let image = NewImage {
        bytes: Bytes::from(bytes),
        filename: input.filename,
    };
    Ok((image, "data"))
}

/// The `file` part of a multipart form (other parts are ignored).
async fn read_multipart(mut multipart: Multipart) -> Result<NewImage, ApiError> {
    let part_error = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                "request body is too large",
            )
        } else {
            // A part whose headers or bytes cannot be read (a field name that is not UTF-8, say): the
            // form is well-formed as far as its schema goes, so this is the upload's fault, not the syntax's.
            ApiError::from(Error::unprocessable(
                "file",
                format!("the form could not be read: {}", e.body_text()),
            ))
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(part_error)? {
        if field.name() != Some("file") {
            continue;
        }
        let filename = field.file_name().map(str::to_string);
        let bytes = field.bytes().await.map_err(part_error)?;
        return Ok(NewImage { bytes, filename });
    }
    Err(ApiError::field("file", "a `file` part is required"))
}

/// The domain names the upload `file`; a JSON upload carries it in `data`.
fn naming(field: &'static str) -> impl Fn(Error) -> Error {
    move |error| match error {
        Error::Unprocessable(errors) => Error::Unprocessable(
            errors
                .into_iter()
                .map(|e| match e.field == FieldKey::from("file") {
                    true => FieldError {
                        field: FieldKey::from(field),
                        ..e
                    },
                    false => e,
                })
                .collect(),
        ),
        other => other,
    }
}

/// List a product's images
///
/// The images uploaded to the product, in order (URLs set directly in the product's `images` are not
/// listed here).
#[utoipa::path(
    get,
    path = "/api/v1/{siteId}/products/{productId}/images",
    tag = "Products",
    params(("siteId" = String, Path), ("productId" = String, Path, description = "Product id or slug")),
    security(("bearerAuth" = ["read:catalog"])),
    responses((status = 200, description = "The product's images", body = Data<Vec<ProductImageOut>>), CommonErrors)
)]
pub async fn list(
    key: Scoped<ReadCatalog>,
    State(state): State<AppState>,
    Path((_site, product)): Path<(String, String)>,
) -> Result<Data<Vec<ProductImageOut>>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let images = media::list_images(&mut conn, &key.caller(), &product).await?;
    Ok(Data::new(images.into_iter().map(Into::into).collect()))
}

/// Upload a product image
///
/// As `multipart/form-data` with a `file` part, or as JSON with the bytes in base64. JPEG, PNG, WebP and
/// GIF are accepted, told by the content (not the file name); anything else is a 422. An image over the
/// media limit (`SHOPVO_MEDIA_MAX_BYTES`, 10 MiB by default) is a 422, a body far over it a 413. The
/// image's URL is appended to the product's `images` (at most 50), which records `product.updated`.
#[utoipa::path(
    post,
    path = "/api/v1/{siteId}/products/{productId}/images",
    tag = "Products",
    params(("siteId" = String, Path), ("productId" = String, Path, description = "Product id or slug")),
    request_body(content(
        (ImageIn = "application/json", example = json!({"data": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==", "filename": "front.png"})),
        (ImageUpload = "multipart/form-data"),
    )),
    security(("bearerAuth" = ["write:catalog"])),
    responses(
        (status = 201, description = "The stored image", body = Data<ProductImageOut>),
        (status = 415, description = "Neither JSON nor multipart/form-data", body = ErrorBody),
        CommonErrors,
    )
)]
pub async fn add(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, product)): Path<(String, String)>,
    request: Request,
) -> Result<Created<ProductImageOut>, ApiError> {
    let (image, field) = read_upload(request, &state).await?;
    let image = media::add_image(&state.pool, &state.media, key.site_id(), &product, image)
        .await
        .map_err(naming(field))?;
    Ok(Created(image.into()))
}

/// Delete a product image
///
/// Removes it from the product's `images` (recording `product.updated`) and deletes the stored file.
#[utoipa::path(
    delete,
    path = "/api/v1/{siteId}/products/{productId}/images/{imageId}",
    tag = "Products",
    params(
        ("siteId" = String, Path),
        ("productId" = String, Path, description = "Product id or slug"),
        ("imageId" = String, Path),
    ),
    security(("bearerAuth" = ["write:catalog"])),
    responses((status = 200, description = "Deleted", body = Deleted, example = json!({"success": true, "deleted": true})), CommonErrors)
)]
pub async fn delete(
    key: Scoped<WriteCatalog>,
    State(state): State<AppState>,
    Path((_site, product, image_id)): Path<(String, String, String)>,
) -> Result<Deleted, ApiError> {
    media::delete_image(
        &state.pool,
        &state.media,
        key.site_id(),
        &product,
        &image_id,
    )
    .await?;
    Ok(Deleted::new())
}
