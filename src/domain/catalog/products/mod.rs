//! Products: the catalog's aggregate. A product owns its variants: every write to one goes through here,
//! locks the product and records `product.updated` with the whole product.

mod export;
mod import;
mod prices;
mod read;
mod search;
mod upsert;
mod variant_writes;
mod write;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use export::{export_page, most_options};
pub use import::{ImportItem, Imported, import};
pub use prices::{PriceChange, set_prices};
pub use read::{get, is_cursor, list, load_many};
pub use upsert::{UpsertItem, UpsertOutcome, Upserted, upsert};
pub use variant_writes::{
    add_variant, delete_variant, replace_variant, set_variants, update_variant,
};
pub use write::{create, delete, replace, update};

use super::variants::{NewVariant, VariantRow};
use super::{Brand, Category, Variant};

/// Serialised in event payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProductStatus {
    Active,
    Draft,
    Archived,
}

impl ProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::Active => "ACTIVE",
            ProductStatus::Draft => "DRAFT",
            ProductStatus::Archived => "ARCHIVED",
        }
    }
}

/// Name, description and slug in another locale. Stored as JSON in the product row.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Translation {
    pub name: Option<String>,
    pub description: Option<String>,
    pub slug: Option<String>,
}

/// A product, with its variants when loaded. Serialised (in this shape) as the payload of product events.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub id: String,
    /// Numeric id for dialects that expect integers (shared number space with variants).
    pub number: i64,
    pub name: String,
    pub slug: String,
    /// An external handle (e.g. from an import), unique per site when set.
    pub handle: Option<String>,
    pub description: Option<String>,
    pub status: ProductStatus,
    /// Minor units (cents).
    pub price: i64,
    pub compare_at_price: Option<i64>,
    pub brand_id: Option<String>,
    pub category_ids: Vec<String>,
    pub featured: bool,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub images: Vec<String>,
    /// Localized name/description/slug keyed by locale.
    pub translations: BTreeMap<String, Translation>,
    /// The average rating of the published reviews, to two decimals (none without any).
    pub average_rating: Option<f64>,
    /// How many published reviews the product has.
    pub review_count: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Loaded by [`get`] always and by [`list`] with [`Expand::variants`]; the default variant first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variants: Option<Vec<Variant>>,
    /// Loaded with [`Expand::brand`] (`Some(None)` when the product has no brand). Not part of events.
    #[serde(skip)]
    pub brand: Option<Option<Brand>>,
    /// Loaded with [`Expand::categories`]. Not part of events.
    #[serde(skip)]
    pub categories: Option<Vec<Category>>,
}

/// A product's read document (`product_docs.doc`, kept current by triggers: migration 0013): the product row,
/// its category ids and its variants' catalog fields. The variants' stock columns are not in it; they are
/// read live beside it and laid over the variants with [`ProductDoc::into_product`].
#[derive(Deserialize)]
struct ProductDoc {
    id: String,
    number: i64,
    name: String,
    slug: String,
    handle: Option<String>,
    description: Option<String>,
    status: String,
    price: i64,
    compare_at_price: Option<i64>,
    brand_id: Option<String>,
    category_ids: Vec<String>,
    featured: bool,
    vendor: Option<String>,
    model: Option<String>,
    images: Vec<String>,
    translations: BTreeMap<String, Translation>,
    #[serde(default)]
    review_count: i32,
    #[serde(default)]
    rating_total: i64,
    #[serde(deserialize_with = "crate::domain::timestamps::deserialize")]
    created_at: DateTime<Utc>,
    #[serde(deserialize_with = "crate::domain::timestamps::deserialize")]
    updated_at: DateTime<Utc>,
    variants: Vec<VariantRow>,
}

/// A variant's live stock columns: id, inventory count, backorders, status override, low-stock threshold,
/// last update (a stock change touches the variant row).
#[derive(Deserialize)]
struct VariantStock(
    String,
    i32,
    bool,
    Option<String>,
    i32,
    #[serde(deserialize_with = "crate::domain::timestamps::deserialize")] DateTime<Utc>,
);

/// A `json` column decoded from its text, checked as UTF-8 once: sqlx's `Json` parses the bytes and checks
/// each string on its own, which was a tenth of the decoding of a list page's documents.
struct JsonText<T>(T);

impl<T> sqlx::Type<sqlx::Postgres> for JsonText<T> {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        // `json`'s fixed OID.
        sqlx::postgres::PgTypeInfo::with_oid(sqlx::postgres::types::Oid(114))
    }
}

impl<'r, T: serde::de::DeserializeOwned> sqlx::Decode<'r, sqlx::Postgres> for JsonText<T> {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        // A `json` column's value is its text in either format.
        let text = <&str as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
        Ok(JsonText(serde_json::from_str(text)?))
    }
}

impl ProductDoc {
    /// The product, with its variants when `stock` (their live columns) was read; without it, none.
    fn into_product(self, stock: Option<Vec<VariantStock>>) -> Product {
        let variants = stock.map(|mut stock| {
            // Sorted by id and searched: cheaper than hashing the ids of a product's few variants.
            stock.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            self.variants
                .into_iter()
                .map(|mut v| {
                    let live = stock.binary_search_by(|s| s.0.as_str().cmp(&v.id));
                    if let Ok(i) = live {
                        let VariantStock(_, count, backorders, status, threshold, updated_at) =
                            &mut stock[i];
                        v.inventory_count = *count;
                        v.backorders = *backorders;
                        v.inventory_status = status.take();
                        v.low_stock_threshold = *threshold;
                        v.updated_at = *updated_at;
                    }
                    Variant::from(v)
                })
                .collect()
        });
        Product {
            id: self.id,
            number: self.number,
            name: self.name,
            slug: self.slug,
            handle: self.handle,
            description: self.description,
            status: match self.status.as_str() {
                "DRAFT" => ProductStatus::Draft,
                "ARCHIVED" => ProductStatus::Archived,
                _ => ProductStatus::Active,
            },
            price: self.price,
            compare_at_price: self.compare_at_price,
            brand_id: self.brand_id,
            category_ids: self.category_ids,
            featured: self.featured,
            vendor: self.vendor,
            model: self.model,
            images: self.images,
            translations: self.translations,
            average_rating: super::reviews::average_rating(self.review_count, self.rating_total),
            review_count: self.review_count,
            created_at: self.created_at,
            updated_at: self.updated_at,
            variants,
            brand: None,
            categories: None,
        }
    }
}

/// Related resources a list or get may load alongside products.
#[derive(Debug, Clone, Copy, Default)]
pub struct Expand {
    pub variants: bool,
    pub brand: bool,
    pub categories: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    /// `None` means ACTIVE, the spec's default.
    pub status: Option<ProductStatus>,
    pub search: Option<String>,
    pub category_id: Option<String>,
    pub brand_id: Option<String>,
    pub featured: Option<bool>,
    /// Ignored by a search, which orders by relevance.
    pub sort: ProductSort,
}

/// The order of a product list. By id (oldest first: ids begin with their creation time) it pages by
/// offset or cursor; the other orders page by offset only, each walking an index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProductSort {
    #[default]
    Id,
    Newest,
    PriceAsc,
    PriceDesc,
    NameAsc,
    NameDesc,
}

/// Creating a product (with optional inline variants), or replacing one (without variants).
#[derive(Debug, Clone)]
pub struct NewProduct {
    pub name: String,
    /// Derived from the name when `None` (made unique with a numeric suffix).
    pub slug: Option<String>,
    pub handle: Option<String>,
    pub description: Option<String>,
    /// Defaults to ACTIVE.
    pub status: Option<ProductStatus>,
    /// Minor units (cents), a non-negative integer.
    pub price: i64,
    pub compare_at_price: Option<i64>,
    pub brand_id: Option<String>,
    pub category_ids: Vec<String>,
    pub featured: bool,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub images: Vec<String>,
    pub translations: BTreeMap<String, Translation>,
    /// Variants to create with the product. Without any, one default variant is created.
    pub variants: Option<Vec<NewVariant>>,
}

/// A partial update: `None` leaves a field; `Some(None)` clears a nullable one.
#[derive(Debug, Default)]
pub struct ProductPatch {
    pub name: Option<String>,
    pub slug: Option<String>,
    pub handle: Option<Option<String>>,
    pub description: Option<Option<String>>,
    pub status: Option<ProductStatus>,
    pub price: Option<i64>,
    pub compare_at_price: Option<Option<i64>>,
    pub brand_id: Option<Option<String>>,
    /// Replaces the product's categories, in this order.
    pub category_ids: Option<Vec<String>>,
    pub featured: Option<bool>,
    pub vendor: Option<Option<String>>,
    pub model: Option<Option<String>>,
    pub images: Option<Vec<String>>,
    pub translations: Option<BTreeMap<String, Translation>>,
}
