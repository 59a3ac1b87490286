//! The native JSON of products: what clients send (`ProductIn`, `ProductReplaceIn`, `ProductPatchIn`) and read (`ProductOut`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::super::brands::BrandOut;
use super::super::categories::CategoryOut;
use super::super::variants::{VariantIn, VariantOut};
use crate::api::v1::formats::{BrandId, CategoryId, HttpUrl, Slug, Translations};
use crate::api::v1::patch;
use crate::domain::catalog::Product;
use crate::domain::catalog::products::{NewProduct, ProductPatch, ProductStatus, Translation};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ProductStatus)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProductStatusWire {
    Active,
    Draft,
    Archived,
}

impl From<ProductStatus> for ProductStatusWire {
    fn from(s: ProductStatus) -> Self {
        match s {
            ProductStatus::Active => ProductStatusWire::Active,
            ProductStatus::Draft => ProductStatusWire::Draft,
            ProductStatus::Archived => ProductStatusWire::Archived,
        }
    }
}

impl From<ProductStatusWire> for ProductStatus {
    fn from(s: ProductStatusWire) -> Self {
        match s {
            ProductStatusWire::Active => ProductStatus::Active,
            ProductStatusWire::Draft => ProductStatus::Draft,
            ProductStatusWire::Archived => ProductStatus::Archived,
        }
    }
}

/// Name, description and slug in another locale.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = Translation)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TranslationWire {
    #[schema(min_length = 1, max_length = 255)]
    pub name: Option<String>,
    #[schema(max_length = 65535)]
    pub description: Option<String>,
    #[schema(value_type = Option<Slug>)]
    pub slug: Option<String>,
}

impl From<Translation> for TranslationWire {
    fn from(t: Translation) -> Self {
        TranslationWire {
            name: t.name,
            description: t.description,
            slug: t.slug,
        }
    }
}

impl From<TranslationWire> for Translation {
    fn from(t: TranslationWire) -> Self {
        Translation {
            name: t.name,
            description: t.description,
            slug: t.slug,
        }
    }
}

fn translations<A, B: From<A>>(map: BTreeMap<String, A>) -> BTreeMap<String, B> {
    map.into_iter()
        .map(|(locale, t)| (locale, t.into()))
        .collect()
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Product)]
#[serde(rename_all = "camelCase")]
pub struct ProductOut {
    #[schema(example = "prd_01JD2W3M4N5P6Q7R8S9T0V1W2X")]
    pub id: String,
    /// Numeric id for dialects that expect integers (shared number space with variants).
    pub number: i64,
    #[schema(example = "Classic White T-Shirt")]
    pub name: String,
    #[schema(example = "classic-white-t-shirt")]
    pub slug: String,
    /// An external handle (e.g. from an import), unique per site when set.
    pub handle: Option<String>,
    pub description: Option<String>,
    pub status: ProductStatusWire,
    /// Minor units (cents).
    #[schema(example = 2999)]
    pub price: i64,
    #[schema(example = 3999)]
    pub compare_at_price: Option<i64>,
    pub brand_id: Option<String>,
    pub category_ids: Vec<String>,
    pub featured: bool,
    pub vendor: Option<String>,
    pub model: Option<String>,
    #[schema(example = json!(["https://cdn.example.com/img/ts-wht.jpg"]))]
    pub images: Vec<String>,
    /// Localized name/description/slug keyed by locale.
    pub translations: BTreeMap<String, TranslationWire>,
    /// The average rating of the published reviews, to two decimals (null without any).
    #[schema(example = 4.67)]
    pub average_rating: Option<f64>,
    /// How many published reviews the product has.
    #[schema(example = 3)]
    pub review_count: i32,
    #[serde(serialize_with = "crate::domain::timestamps::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::domain::timestamps::serialize")]
    pub updated_at: DateTime<Utc>,
    /// Present on single-product responses and with `expand[]=variants`; the default variant first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variants: Option<Vec<VariantOut>>,
    /// Present with `expand[]=brand` (`null` when the product has no brand).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<BrandOut>)]
    pub brand: Option<Option<BrandOut>>,
    /// Present with `expand[]=categories`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<CategoryOut>>,
}

impl From<Product> for ProductOut {
    fn from(p: Product) -> Self {
        ProductOut {
            id: p.id,
            number: p.number,
            name: p.name,
            slug: p.slug,
            handle: p.handle,
            description: p.description,
            status: p.status.into(),
            price: p.price,
            compare_at_price: p.compare_at_price,
            brand_id: p.brand_id,
            category_ids: p.category_ids,
            featured: p.featured,
            vendor: p.vendor,
            model: p.model,
            images: p.images,
            translations: translations(p.translations),
            average_rating: p.average_rating,
            review_count: p.review_count,
            created_at: p.created_at,
            updated_at: p.updated_at,
            variants: p
                .variants
                .map(|vs| vs.into_iter().map(VariantOut::from).collect()),
            brand: p.brand.map(|b| b.map(BrandOut::from)),
            categories: p
                .categories
                .map(|cs| cs.into_iter().map(CategoryOut::from).collect()),
        }
    }
}

/// Creating a product, with optional inline variants.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ProductInput)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductIn {
    #[schema(
        example = "Classic White T-Shirt",
        min_length = 1,
        max_length = 255,
        pattern = "\\S"
    )]
    pub name: String,
    /// Derived from the name when omitted (made unique with a numeric suffix).
    #[schema(value_type = Option<Slug>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    /// An external reference of your own (an ERP or marketplace handle).
    #[schema(min_length = 1, max_length = 255)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    #[schema(max_length = 65535)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Defaults to ACTIVE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ProductStatusWire>,
    /// Minor units (cents), a non-negative integer.
    #[schema(example = 2999, minimum = 0, maximum = 10_000_000_000_000_f64)]
    pub price: i64,
    #[schema(minimum = 0, maximum = 10_000_000_000_000_f64)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compare_at_price: Option<i64>,
    #[schema(value_type = Option<BrandId>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<CategoryId>, max_items = 100)]
    pub category_ids: Vec<String>,
    #[serde(default)]
    pub featured: bool,
    #[schema(max_length = 255)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[schema(max_length = 255)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<HttpUrl>, max_items = 50)]
    pub images: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Translations)]
    pub translations: BTreeMap<String, TranslationWire>,
    /// Variants to create with the product. Without any, one default variant is created.
    #[schema(max_items = 100)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variants: Option<Vec<VariantIn>>,
}

/// Replacing a product with PUT: every field of a create except `variants` (each variant is changed on its
/// own, under `/variants`).
#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ProductReplace)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductReplaceIn {
    #[schema(
        example = "Classic White T-Shirt",
        min_length = 1,
        max_length = 255,
        pattern = "\\S"
    )]
    pub name: String,
    /// Derived from the name when omitted (made unique with a numeric suffix).
    #[schema(value_type = Option<Slug>)]
    pub slug: Option<String>,
    /// An external reference of your own (an ERP or marketplace handle).
    #[schema(min_length = 1, max_length = 255)]
    pub handle: Option<String>,
    #[schema(max_length = 65535)]
    pub description: Option<String>,
    /// Defaults to ACTIVE.
    pub status: Option<ProductStatusWire>,
    /// Minor units (cents), a non-negative integer.
    #[schema(example = 2999, minimum = 0, maximum = 10_000_000_000_000_f64)]
    pub price: i64,
    #[schema(minimum = 0, maximum = 10_000_000_000_000_f64)]
    pub compare_at_price: Option<i64>,
    #[schema(value_type = Option<BrandId>)]
    pub brand_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<CategoryId>, max_items = 100)]
    pub category_ids: Vec<String>,
    #[serde(default)]
    pub featured: bool,
    #[schema(max_length = 255)]
    pub vendor: Option<String>,
    #[schema(max_length = 255)]
    pub model: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<HttpUrl>, max_items = 50)]
    pub images: Vec<String>,
    #[serde(default)]
    #[schema(value_type = Translations)]
    pub translations: BTreeMap<String, TranslationWire>,
}

impl From<ProductReplaceIn> for NewProduct {
    fn from(p: ProductReplaceIn) -> Self {
        NewProduct {
            name: p.name,
            slug: p.slug,
            handle: p.handle,
            description: p.description,
            status: p.status.map(Into::into),
            price: p.price,
            compare_at_price: p.compare_at_price,
            brand_id: p.brand_id,
            category_ids: p.category_ids,
            featured: p.featured,
            vendor: p.vendor,
            model: p.model,
            images: p.images,
            translations: translations(p.translations),
            variants: None,
        }
    }
}

impl From<ProductIn> for NewProduct {
    fn from(p: ProductIn) -> Self {
        NewProduct {
            name: p.name,
            slug: p.slug,
            handle: p.handle,
            description: p.description,
            status: p.status.map(Into::into),
            price: p.price,
            compare_at_price: p.compare_at_price,
            brand_id: p.brand_id,
            category_ids: p.category_ids,
            featured: p.featured,
            vendor: p.vendor,
            model: p.model,
            images: p.images,
            translations: translations(p.translations),
            variants: p
                .variants
                .map(|vs| vs.into_iter().map(Into::into).collect()),
        }
    }
}

/// A product as a catalog file holds it (`shopvo export products`): the create body that imports it.
impl From<NewProduct> for ProductIn {
    fn from(p: NewProduct) -> Self {
        ProductIn {
            name: p.name,
            slug: p.slug,
            handle: p.handle,
            description: p.description,
            status: p.status.map(Into::into),
            price: p.price,
            compare_at_price: p.compare_at_price,
            brand_id: p.brand_id,
            category_ids: p.category_ids,
            featured: p.featured,
            vendor: p.vendor,
            model: p.model,
            images: p.images,
            translations: translations(p.translations),
            variants: p
                .variants
                .map(|vs| vs.into_iter().map(Into::into).collect()),
        }
    }
}

/// A new product read from its native JSON, so seeds (`shopvo demo`) can be written as request bodies.
impl<'de> Deserialize<'de> for NewProduct {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ProductIn::deserialize(d).map(NewProduct::from)
    }
}

/// A new product written as its native JSON: a line of `shopvo export products --format jsonl`.
impl Serialize for NewProduct {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ProductIn::from(self.clone()).serialize(s)
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = ProductPatch)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProductPatchIn {
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, min_length = 1, max_length = 255, pattern = "\\S")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, value_type = Slug)]
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 255)]
    pub handle: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 65535)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    pub status: Option<ProductStatusWire>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, minimum = 0, maximum = 10_000_000_000_000_f64)]
    pub price: Option<i64>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10_000_000_000_000_f64)]
    pub compare_at_price: Option<Option<i64>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<BrandId>)]
    pub brand_id: Option<Option<String>>,
    /// Replaces the product's categories, in this order.
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, value_type = Vec<CategoryId>, max_items = 100)]
    pub category_ids: Option<Vec<String>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false)]
    pub featured: Option<bool>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 255)]
    pub vendor: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::nullable")]
    #[schema(value_type = Option<String>, max_length = 255)]
    pub model: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, value_type = Vec<HttpUrl>, max_items = 50)]
    pub images: Option<Vec<String>>,
    #[serde(default, deserialize_with = "patch::present")]
    #[schema(nullable = false, value_type = Translations)]
    pub translations: Option<BTreeMap<String, TranslationWire>>,
}

impl From<ProductPatchIn> for ProductPatch {
    fn from(p: ProductPatchIn) -> Self {
        ProductPatch {
            name: p.name,
            slug: p.slug,
            handle: p.handle,
            description: p.description,
            status: p.status.map(Into::into),
            price: p.price,
            compare_at_price: p.compare_at_price,
            brand_id: p.brand_id,
            category_ids: p.category_ids,
            featured: p.featured,
            vendor: p.vendor,
            model: p.model,
            images: p.images,
            translations: p.translations.map(translations),
        }
    }
}

/// A product as `?fields=` may trim it: the properties of `Product`, only `id` required.
#[allow(dead_code)] // never built: it exists for its schema
pub struct PartialProduct;

impl utoipa::PartialSchema for PartialProduct {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let mut schema = <ProductOut as utoipa::PartialSchema>::schema();
        if let utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(object)) =
            &mut schema
        {
            object.required = vec!["id".to_string()];
            object.description =
                Some("A product with only the fields `?fields=` asked for (and `id`).".to_string());
        }
        schema
    }
}

impl utoipa::ToSchema for PartialProduct {}

/// What a product read answers: the whole product, or with `?fields=` the fields asked for.
#[allow(dead_code)] // never built: it exists for its schema
pub struct ProductRead;

impl utoipa::PartialSchema for ProductRead {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AnyOfBuilder, Ref};
        AnyOfBuilder::new()
            .item(Ref::from_schema_name("Product"))
            .item(Ref::from_schema_name("PartialProduct"))
            .description(Some(
                "The product; with `?fields=`, only the fields asked for (and `id`).",
            ))
            .into()
    }
}

impl utoipa::ToSchema for ProductRead {}
