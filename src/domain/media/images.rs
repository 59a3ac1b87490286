//! A product's uploaded images: added at the end of its list, listed in order, deleted one by one. Each
//! change also changes the product's `images` URL list, through the product write path (so it is
//! validated there and records `product.updated`), in the same transaction as the row.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};

use super::store::key_for;
use super::{ImageKind, MediaStore};
use crate::domain::caller::Caller;
use crate::domain::catalog::products::{self, ProductPatch};
use crate::domain::error::{Error, Result};
use crate::ids;

/// The most images a product's `images` list holds (`catalog::validate_images`).
const MAX_IMAGES: usize = 50;

/// An uploaded image of a product.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductImage {
    pub id: String,
    pub product_id: String,
    /// 0 for the first; positions stay contiguous when an image is deleted.
    pub position: i32,
    pub url: String,
    pub content_type: String,
    /// In bytes.
    pub size: i64,
    /// The client's file name, without any folder.
    pub filename: Option<String>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, product_id, position, url, content_type, size_bytes as size, filename, created_at";

/// An image to add: its bytes (decoded) and, optionally, the client's file name.
#[derive(Debug, Clone)]
pub struct NewImage {
    pub bytes: Bytes,
    pub filename: Option<String>,
}

/// Checks an upload's size and format (by content) and cleans its file name.
fn check(store: &MediaStore, image: &NewImage) -> Result<(ImageKind, Option<String>)> {
    let size = image.bytes.len();
    if size == 0 {
        return Err(Error::unprocessable("file", "the file is empty"));
    }
    if size > store.max_bytes() {
        return Err(Error::unprocessable(
            "file",
            format!(
                "the image is {size} bytes; at most {} are accepted",
                store.max_bytes()
            ),
        ));
    }
    let kind = ImageKind::sniff(&image.bytes).ok_or_else(|| {
        Error::unprocessable(
            "file",
            "must be a JPEG, PNG, WebP or GIF image (the content is checked, not the file name)",
        )
    })?;
    // Browsers may send a full path; only the last part is the name.
    let filename = image
        .filename
        .as_deref()
        .and_then(|f| f.rsplit(['/', '\\']).next())
        .map(str::trim)
        .filter(|f| !f.is_empty());
    if let Some(name) = filename
        && (name.chars().count() > 255 || name.chars().any(char::is_control))
    {
        return Err(Error::invalid(
            "filename",
            "must be at most 255 characters, without control characters",
        ));
    }
    Ok((kind, filename.map(str::to_string)))
}

/// The product's id and `images` list; `NotFound` when the site has no such product. With `lock`, the
/// row is locked for the rest of the transaction.
async fn find_product(
    conn: &mut PgConnection,
    site_id: &str,
    id_or_slug: &str,
    lock: bool,
) -> Result<(String, Vec<String>)> {
    let sql = if lock {
        "select id, images from products where site_id = $1 and (id = $2 or slug = $2) for update"
    } else {
        "select id, images from products where site_id = $1 and (id = $2 or slug = $2)"
    };
    let (id, Json(images)): (String, Json<Vec<String>>) = sqlx::query_as(sql)
        .bind(site_id)
        .bind(id_or_slug)
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound("product"))?;
    Ok((id, images))
}

fn ensure_room(images: &[String]) -> Result<()> {
    if images.len() >= MAX_IMAGES {
        return Err(Error::unprocessable(
            "file",
            format!("a product has at most {MAX_IMAGES} images"),
        ));
    }
    Ok(())
}

/// Sets the product's `images` through the product write path (validation, `product.updated`).
async fn set_product_images(
    conn: &mut PgConnection,
    site_id: &str,
    product_id: &str,
    images: Vec<String>,
) -> Result<()> {
    let patch = ProductPatch {
        images: Some(images),
        ..ProductPatch::default()
    };
    products::update(conn, site_id, product_id, patch).await?;
    Ok(())
}

/// A product's uploaded images, in order. A publishable caller sees only those of ACTIVE products.
pub async fn list_images(
    conn: &mut PgConnection,
    caller: &Caller,
    product: &str,
) -> Result<Vec<ProductImage>> {
    let found: Option<(String, String)> = sqlx::query_as(
        "select id, status from products where site_id = $1 and (id = $2 or slug = $2)",
    )
    .bind(caller.site_id())
    .bind(product)
    .fetch_optional(&mut *conn)
    .await?;
    let product_id = match found {
        Some((id, status)) if status == "ACTIVE" || caller.sees_unpublished() => id,
        _ => return Err(Error::NotFound("product")),
    };
    let sql = format!(
        "select {COLUMNS} from product_images where site_id = $1 and product_id = $2 \
         order by position, id"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(caller.site_id())
        .bind(&product_id)
        .fetch_all(conn)
        .await?)
}

/// The uploaded images of many products (any status), by product, each in order: for integrations that
/// show a page of products with their pictures.
pub async fn images_of(
    conn: &mut PgConnection,
    site_id: &str,
    product_ids: &[String],
) -> Result<std::collections::HashMap<String, Vec<ProductImage>>> {
    let sql = format!(
        "select {COLUMNS} from product_images where site_id = $1 and product_id = any($2) \
         order by product_id, position, id"
    );
    let rows: Vec<ProductImage> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(site_id)
        .bind(product_ids)
        .fetch_all(conn)
        .await?;
    let mut by_product: std::collections::HashMap<String, Vec<ProductImage>> = Default::default();
    for image in rows {
        by_product
            .entry(image.product_id.clone())
            .or_default()
            .push(image);
    }
    Ok(by_product)
}

/// Stores an image and appends it to the product (by id or slug): its row, and its URL at the end of the
/// product's `images`. The bytes are stored before the transaction, so the product's row is not held
/// locked during an upload; if the transaction then fails, the stored object is deleted again.
pub async fn add_image(
    pool: &PgPool,
    store: &MediaStore,
    site_id: &str,
    product: &str,
    image: NewImage,
) -> Result<ProductImage> {
    let (kind, filename) = check(store, &image)?;
    // Checked before anything is stored (and again under the lock): a missing product or a full list
    // stores nothing.
    let (product_id, images) =
        find_product(&mut *pool.acquire().await?, site_id, product, false).await?;
    ensure_room(&images)?;
    let id = ids::new_unguessable_id("img");
    let key = key_for(site_id, &product_id, &id, kind);
    let size = image.bytes.len() as i64;
    store.put(&key, image.bytes, kind).await?;
    let row = NewRow {
        id: &id,
        key: &key,
        url: store.url(&key),
        kind,
        size,
        filename,
    };
    let result = record(pool, site_id, &product_id, row).await;
    if result.is_err() {
        store.discard(&key).await;
    }
    result
}

struct NewRow<'a> {
    id: &'a str,
    key: &'a str,
    url: String,
    kind: ImageKind,
    size: i64,
    filename: Option<String>,
}

/// The row and the product's new URL list, in one transaction.
async fn record(
    pool: &PgPool,
    site_id: &str,
    product_id: &str,
    row: NewRow<'_>,
) -> Result<ProductImage> {
    let mut tx = pool.begin().await?;
    let (_, mut images) = find_product(&mut tx, site_id, product_id, true).await?;
    ensure_room(&images)?;
    let sql = format!(
        "insert into product_images (site_id, id, product_id, position, storage_key, url, content_type, \
         size_bytes, filename) \
         values ($1, $2, $3, (select coalesce(max(position) + 1, 0) from product_images \
                              where site_id = $1 and product_id = $3), \
                 $4, $5, $6, $7, $8) \
         returning {COLUMNS}"
    );
    let image: ProductImage = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(site_id)
        .bind(row.id)
        .bind(product_id)
        .bind(row.key)
        .bind(&row.url)
        .bind(row.kind.content_type())
        .bind(row.size)
        .bind(&row.filename)
        .fetch_one(&mut *tx)
        .await?;
    images.push(row.url);
    set_product_images(&mut tx, site_id, product_id, images).await?;
    tx.commit().await?;
    Ok(image)
}

/// Deletes an image of a product (by id or slug): its row and its URL in the product's `images`, then,
/// once that is committed, the stored object. Another product's image is `NotFound`.
pub async fn delete_image(
    pool: &PgPool,
    store: &MediaStore,
    site_id: &str,
    product: &str,
    image_id: &str,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let (product_id, mut images) = find_product(&mut tx, site_id, product, true).await?;
    let (key, url, position): (String, String, i32) = sqlx::query_as(
        "delete from product_images where site_id = $1 and product_id = $2 and id = $3 \
         returning storage_key, url, position",
    )
    .bind(site_id)
    .bind(&product_id)
    .bind(image_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(Error::NotFound("image"))?;
    sqlx::query(
        "update product_images set position = position - 1 \
         where site_id = $1 and product_id = $2 and position > $3",
    )
    .bind(site_id)
    .bind(&product_id)
    .bind(position)
    .execute(&mut *tx)
    .await?;
    // The URL may already be gone from the list (a product update replaced it); then the product is as
    // it should be.
    let before = images.len();
    images.retain(|u| *u != url);
    if images.len() != before {
        set_product_images(&mut tx, site_id, &product_id, images).await?;
    }
    tx.commit().await?;
    store.discard(&key).await;
    Ok(())
}
