//! The catalog: products (with their variants), categories and brands. Reads that depend on who is asking
//! take a [`Caller`](crate::domain::Caller): publishable callers see only ACTIVE products.

pub mod brands;
pub mod categories;
pub mod products;
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

/// Checks an image list: at most 50 absolute http(s) URLs.
pub(crate) fn validate_images(v: &mut Validator, field: &str, images: &[String]) {
    v.check(images.len() <= 50, field, "at most 50 images");
    for (i, url) in images.iter().enumerate() {
        v.check(
            (url.starts_with("https://") || url.starts_with("http://"))
                && url.len() <= 2048
                && !url.contains(char::is_whitespace),
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
