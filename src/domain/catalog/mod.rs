//! The catalog: products (with their variants), categories and brands. Reads that depend on who is asking
//! take a [`Caller`](crate::domain::Caller): publishable callers see only ACTIVE products.

pub mod brands;
pub mod categories;
pub mod products;
pub mod reviews;
pub mod slug;
pub mod variants;

pub use brands::Brand;
pub use categories::Category;
pub use products::Product;
pub use variants::Variant;

use crate::domain::error::Validator;
use crate::domain::field::FieldKey;

/// A variant's stock state, derived from its count and low-stock threshold unless explicitly overridden.
/// Serialised in event payloads; the native API's schema is `api::v1::variants::InventoryStatusWire`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InventoryStatus {
    InStock,
    LowStock,
    OutOfStock,
    Backorder,
}

impl InventoryStatus {
    /// From the variant's total, its low-stock threshold, and whether any of its stock takes backorders.
    pub fn derive(count: i32, low_stock_threshold: i32, backorders: bool) -> Self {
        if count <= 0 && backorders {
            InventoryStatus::Backorder
        } else if count <= 0 {
            InventoryStatus::OutOfStock
        } else if count <= low_stock_threshold {
            InventoryStatus::LowStock
        } else {
            InventoryStatus::InStock
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            InventoryStatus::InStock => "IN_STOCK",
            InventoryStatus::LowStock => "LOW_STOCK",
            InventoryStatus::OutOfStock => "OUT_OF_STOCK",
            InventoryStatus::Backorder => "BACKORDER",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "IN_STOCK" => InventoryStatus::InStock,
            "LOW_STOCK" => InventoryStatus::LowStock,
            "OUT_OF_STOCK" => InventoryStatus::OutOfStock,
            "BACKORDER" => InventoryStatus::Backorder,
            _ => return None,
        })
    }
}

/// Longest image or logo URL.
pub const MAX_URL_LEN: usize = 2048;
/// [`is_http_url`] as a regular expression (for the API documents).
pub const HTTP_URL_PATTERN: &str = "^https?://[^\\x00-\\x20\\x7f]+$";

/// An absolute `http://` or `https://` URL with something after the scheme, no spaces or ASCII control
/// characters, at most [`MAX_URL_LEN`] bytes.
pub fn is_http_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    url.len() <= MAX_URL_LEN
        && rest.is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b > 0x20 && b != 0x7f))
}

/// Checks an image list: at most 50 absolute http(s) URLs.
pub(crate) fn validate_images(v: &mut Validator, field: &str, images: &[String]) {
    v.check(images.len() <= 50, field, "at most 50 images");
    for (i, url) in images.iter().enumerate() {
        v.check(
            is_http_url(url),
            FieldKey::from(field).at(i),
            "must be an absolute http(s) URL of at most 2048 characters",
        );
    }
}

/// Checks that an optional id has the expected prefix and shape.
pub(crate) fn validate_id(
    v: &mut Validator,
    field: impl Into<FieldKey>,
    prefix: &str,
    id: Option<&str>,
) {
    if let Some(id) = id {
        v.check(
            crate::ids::is_valid(prefix, id),
            field,
            format!("must be an id starting with `{prefix}_`"),
        );
    }
}
