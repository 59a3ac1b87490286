//! Products: listing with filters and search, lookup by id or slug, and writes.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgConnection, Postgres, QueryBuilder};

use super::variants::{self, NewVariant, VariantRow};
use super::{Brand, Category, Variant, brands, categories, slug};
use crate::domain::caller::Caller;
use crate::domain::error::{Error, Result, Validator, on_unique};
use crate::domain::events;
use crate::domain::field::FieldKey;
use crate::domain::pagination::{Page, PageRequest};
use crate::domain::patch;
use crate::ids;

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

#[derive(FromRow)]
struct ProductRow {
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
    #[sqlx(json)]
    images: Vec<String>,
    #[sqlx(json)]
    translations: BTreeMap<String, Translation>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Only selected when variants are loaded in the same query.
    #[sqlx(default, json(nullable))]
    variants: Option<Vec<VariantRow>>,
}

impl From<ProductRow> for Product {
    fn from(r: ProductRow) -> Self {
        Product {
            id: r.id,
            number: r.number,
            name: r.name,
            slug: r.slug,
            handle: r.handle,
            description: r.description,
            status: match r.status.as_str() {
                "DRAFT" => ProductStatus::Draft,
                "ARCHIVED" => ProductStatus::Archived,
                _ => ProductStatus::Active,
            },
            price: r.price,
            compare_at_price: r.compare_at_price,
            brand_id: r.brand_id,
            category_ids: r.category_ids,
            featured: r.featured,
            vendor: r.vendor,
            model: r.model,
            images: r.images,
            translations: r.translations,
            created_at: r.created_at,
            updated_at: r.updated_at,
            variants: r
                .variants
                .map(|rows| rows.into_iter().map(Variant::from).collect()),
            brand: None,
            categories: None,
        }
    }
}

const COLUMNS: &str = "p.id, p.number, p.name, p.slug, p.handle, p.description, p.status, p.price, \
    p.compare_at_price, p.brand_id, p.featured, p.vendor, p.model, p.images, p.translations, p.created_at, p.updated_at, \
    coalesce(array(select pc.category_id from product_categories pc \
        where pc.site_id = p.site_id and pc.product_id = p.id order by pc.position, pc.category_id), '{}') as category_ids";

const VARIANTS_JSON: &str = "coalesce((select json_agg(v order by v.is_default desc, v.position, v.created_at, v.id) \
    from variants v where v.site_id = p.site_id and v.product_id = p.id), '[]') as variants";

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
}

/// Turns free text into a prefix-matching tsquery (`white shirt` → `white:* & shirt:*`). Only letters and
/// digits reach the query, so no client text is interpreted as tsquery syntax.
fn search_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(10)
        .map(|t| format!("{}:*", t.to_lowercase()))
        .collect();
    if terms.is_empty() {
        None
    } else {
        Some(terms.join(" & "))
    }
}

fn push_filters(qb: &mut QueryBuilder<Postgres>, site_id: &str, f: &ProductFilter) {
    qb.push(" where p.site_id = ").push_bind(site_id);
    qb.push(" and p.status = ")
        .push_bind(f.status.unwrap_or(ProductStatus::Active).as_str());
    if let Some(brand_id) = &f.brand_id {
        qb.push(" and p.brand_id = ").push_bind(brand_id);
    }
    if let Some(featured) = f.featured {
        qb.push(" and p.featured = ").push_bind(featured);
    }
    if let Some(category_id) = &f.category_id {
        qb.push(" and exists (select 1 from product_categories pc where pc.site_id = p.site_id and pc.product_id = p.id and pc.category_id = ")
            .push_bind(category_id)
            .push(")");
    }
    if let Some(text) = f.search.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let escaped = crate::domain::escape_like(text);
        // Either branch can use its own index (full text; SKU prefix); an OR across them could not.
        // Uncorrelated subqueries (the site bound again), so each runs once rather than per product.
        qb.push(" and p.id in (");
        if let Some(tsquery) = search_query(text) {
            qb.push("select s.id from products s where s.site_id = ")
                .push_bind(site_id.to_string())
                .push(" and s.search @@ to_tsquery('simple', ")
                .push_bind(tsquery)
                .push(") union all ");
        }
        qb.push("select v.product_id from variants v where v.site_id = ")
            .push_bind(site_id.to_string())
            .push(" and lower(v.sku) like ")
            .push_bind(format!("{}%", escaped.to_lowercase()))
            .push(")");
    }
}

/// A page of products. Callers that see only the active catalog may not ask for another status.
pub async fn list(
    conn: &mut PgConnection,
    caller: &Caller,
    filter: &ProductFilter,
    page: &PageRequest,
    expand: Expand,
) -> Result<Page<Product>> {
    caller.check_status_filter(filter.status.is_none_or(|s| s == ProductStatus::Active))?;
    let site_id = caller.site_id();
    let mut qb = QueryBuilder::new(format!("select {COLUMNS}"));
    if expand.variants {
        qb.push(", ").push(VARIANTS_JSON);
    }
    qb.push(" from products p");
    push_filters(&mut qb, site_id, filter);
    if let Some(after) = page.after() {
        qb.push(" and p.id > ").push_bind(after);
    }
    qb.push(" order by p.id limit ")
        .push_bind(page.fetch_limit());
    qb.push(" offset ").push_bind(page.offset());
    let rows: Vec<ProductRow> = qb.build_query_as().fetch_all(&mut *conn).await?;

    let total = if page.is_cursor() {
        0
    } else {
        let mut count = QueryBuilder::new("select count(*) from products p");
        push_filters(&mut count, site_id, filter);
        count
            .build_query_scalar::<i64>()
            .fetch_one(&mut *conn)
            .await?
    };
    let mut page = Page::from_rows(
        page,
        rows.into_iter().map(Product::from).collect(),
        total,
        |p| &p.id,
    );
    expand_related(conn, site_id, &mut page.items, expand).await?;
    Ok(page)
}

/// Loads brands and categories for `expand[]` (variants come with the product query itself).
async fn expand_related(
    conn: &mut PgConnection,
    site_id: &str,
    products: &mut [Product],
    expand: Expand,
) -> Result<()> {
    if expand.brand {
        let ids: Vec<String> = products.iter().filter_map(|p| p.brand_id.clone()).collect();
        let brands: HashMap<String, Brand> = brands::list_by_ids(&mut *conn, site_id, &ids)
            .await?
            .into_iter()
            .map(|b| (b.id.clone(), b))
            .collect();
        for p in products.iter_mut() {
            p.brand = Some(p.brand_id.as_ref().and_then(|id| brands.get(id).cloned()));
        }
    }
    if expand.categories {
        let ids: Vec<String> = products.iter().map(|p| p.id.clone()).collect();
        let mut by_product: HashMap<String, Vec<Category>> = HashMap::new();
        for (product_id, category) in categories::for_products(&mut *conn, site_id, &ids).await? {
            by_product.entry(product_id).or_default().push(category);
        }
        for p in products.iter_mut() {
            p.categories = Some(by_product.remove(&p.id).unwrap_or_default());
        }
    }
    Ok(())
}

/// One product by id or slug, with its variants. A product the caller may not see is not found.
pub async fn get(
    conn: &mut PgConnection,
    caller: &Caller,
    id_or_slug: &str,
    expand: Expand,
) -> Result<Product> {
    let product = load(conn, caller.site_id(), id_or_slug, expand).await?;
    if product.status != ProductStatus::Active && !caller.sees_unpublished() {
        return Err(Error::NotFound("product"));
    }
    Ok(product)
}

/// One product by id or slug, with its variants (one query), whatever its status.
async fn load(
    conn: &mut PgConnection,
    site_id: &str,
    id_or_slug: &str,
    expand: Expand,
) -> Result<Product> {
    let row: ProductRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS}, {VARIANTS_JSON} from products p where p.site_id = $1 and p.{} = $2",
        // Slugs never contain `_` and ids always do: one equality keeps this on a single index.
        if id_or_slug.contains('_') {
            "id"
        } else {
            "slug"
        }
    )))
    .bind(site_id)
    .bind(id_or_slug)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound("product"))?;
    let mut products = [Product::from(row)];
    expand_related(
        conn,
        site_id,
        &mut products,
        Expand {
            variants: false,
            ..expand
        },
    )
    .await?;
    let [product] = products;
    Ok(product)
}

/// Creating a product (with optional inline variants), or replacing one (without variants).
#[derive(Debug)]
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

/// A product's own fields after defaults, ready to validate and store.
struct Fields {
    name: String,
    slug: Option<String>,
    handle: Option<String>,
    description: Option<String>,
    status: ProductStatus,
    price: i64,
    compare_at_price: Option<i64>,
    brand_id: Option<String>,
    category_ids: Vec<String>,
    featured: bool,
    vendor: Option<String>,
    model: Option<String>,
    images: Vec<String>,
    translations: BTreeMap<String, Translation>,
}

fn validate(v: &mut Validator, f: &Fields) {
    v.text("name", &f.name, 1, 255);
    if let Some(s) = &f.slug {
        v.check(
            slug::is_valid(s),
            "slug",
            "must be lower-case letters and digits joined by single dashes",
        );
    }
    if let Some(h) = &f.handle {
        v.text("handle", h, 1, 255);
    }
    if let Some(d) = &f.description {
        v.text("description", d, 0, 65_535);
    }
    v.money("price", f.price);
    if let Some(p) = f.compare_at_price {
        v.money("compare_at_price", p);
    }
    super::validate_id(v, "brand_id", "br", f.brand_id.as_deref());
    v.check(
        f.category_ids.len() <= 100,
        "category_ids",
        "at most 100 categories",
    );
    for (i, id) in f.category_ids.iter().enumerate() {
        super::validate_id(v, FieldKey::from("category_ids").at(i), "cat", Some(id));
    }
    for (field, value) in [("vendor", &f.vendor), ("model", &f.model)] {
        if let Some(value) = value {
            v.text(field, value, 0, 255);
        }
    }
    super::validate_images(v, "images", &f.images);
    v.check(
        f.translations.len() <= 50,
        "translations",
        "at most 50 locales",
    );
    for (locale, t) in &f.translations {
        let entry = FieldKey::from("translations").data(locale);
        let at = |field: &str| entry.clone().then(field);
        v.check(
            !locale.is_empty() && locale.len() <= 35,
            entry.clone(),
            "must be keyed by a locale tag",
        );
        if let Some(name) = &t.name {
            v.text(at("name"), name, 1, 255);
        }
        if let Some(d) = &t.description {
            v.text(at("description"), d, 0, 65_535);
        }
        if let Some(s) = &t.slug {
            v.check(
                slug::is_valid(s),
                at("slug"),
                "must be lower-case letters and digits joined by single dashes",
            );
        }
    }
}

/// Reports brand and category ids that do not exist on this site.
async fn check_references(conn: &mut PgConnection, site_id: &str, f: &Fields) -> Result<()> {
    let mut v = Validator::new();
    if let Some(brand_id) = &f.brand_id {
        let exists: bool = sqlx::query_scalar(
            "select exists (select 1 from brands where site_id = $1 and id = $2)",
        )
        .bind(site_id)
        .bind(brand_id)
        .fetch_one(&mut *conn)
        .await?;
        v.check(exists, "brand_id", "no brand with this id");
    }
    if !f.category_ids.is_empty() {
        let found: Vec<String> =
            sqlx::query_scalar("select id from categories where site_id = $1 and id = any($2)")
                .bind(site_id)
                .bind(&f.category_ids)
                .fetch_all(&mut *conn)
                .await?;
        for (i, id) in f.category_ids.iter().enumerate() {
            v.check(
                found.contains(id),
                FieldKey::from("category_ids").at(i),
                "no category with this id",
            );
        }
    }
    v.finish()
}

/// A free slug for a product whose slug was derived from its name.
async fn free_slug(
    conn: &mut PgConnection,
    site_id: &str,
    base: &str,
    except_id: Option<&str>,
) -> Result<String> {
    // Concurrent derivations from one name would otherwise pick the same slug and fail with a 409: serialise
    // them (until commit) so each sees the slugs the others took.
    sqlx::query("select pg_advisory_xact_lock(hashtextextended($1 || '/product-slug/' || $2, 0))")
        .bind(site_id)
        .bind(base)
        .execute(&mut *conn)
        .await?;
    let taken: Vec<String> = sqlx::query_scalar(
        "select slug from products where site_id = $1 and (slug = $2 or slug like $3) and ($4::text is null or id <> $4)",
    )
    .bind(site_id)
    .bind(base)
    .bind(format!("{}-%", crate::domain::escape_like(base)))
    .bind(except_id)
    .fetch_all(conn)
    .await?;
    Ok(slug::first_free(base, &taken))
}

fn write_error(e: sqlx::Error, f: &Fields, slug_: &str) -> Error {
    match &e {
        sqlx::Error::Database(db) if db.constraint() == Some("products_handle") => {
            on_unique(e, "products_handle", || {
                format!(
                    "a product with handle `{}` already exists",
                    f.handle.as_deref().unwrap_or_default()
                )
            })
        }
        _ => on_unique(e, "products_site_id_slug_key", || {
            format!("a product with slug `{slug_}` already exists")
        }),
    }
}

async fn set_categories(
    conn: &mut PgConnection,
    site_id: &str,
    product_id: &str,
    category_ids: &[String],
) -> Result<()> {
    sqlx::query("delete from product_categories where site_id = $1 and product_id = $2")
        .bind(site_id)
        .bind(product_id)
        .execute(&mut *conn)
        .await?;
    if !category_ids.is_empty() {
        sqlx::query(
            "insert into product_categories (site_id, product_id, category_id, position) \
             select $1, $2, c.id, c.ord - 1 from unnest($3::text[]) with ordinality as c(id, ord) \
             on conflict do nothing",
        )
        .bind(site_id)
        .bind(product_id)
        .bind(category_ids)
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Creates a product and its variants. The caller runs this in a transaction.
pub async fn create(conn: &mut PgConnection, site_id: &str, input: NewProduct) -> Result<Product> {
    let f = Fields {
        name: input.name.trim().to_string(),
        slug: input.slug,
        handle: input.handle,
        description: input.description,
        status: input.status.unwrap_or(ProductStatus::Active),
        price: input.price,
        compare_at_price: input.compare_at_price,
        brand_id: input.brand_id,
        category_ids: input.category_ids,
        featured: input.featured,
        vendor: input.vendor,
        model: input.model,
        images: input.images,
        translations: input.translations,
    };
    let mut v = Validator::new();
    validate(&mut v, &f);
    let variant_inputs = input.variants.unwrap_or_default();
    v.check(
        variant_inputs.len() <= 100,
        "variants",
        "at most 100 variants per request",
    );
    v.finish()?;
    check_references(conn, site_id, &f).await?;

    let slug_ = match &f.slug {
        Some(s) => s.clone(),
        None => free_slug(conn, site_id, &slug::slugify(&f.name), None).await?,
    };
    let id = ids::new_id("prd");
    sqlx::query(
        "insert into products (site_id, id, handle, slug, name, description, translations, status, price, \
         compare_at_price, brand_id, featured, vendor, model, images) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(site_id)
    .bind(&id)
    .bind(&f.handle)
    .bind(&slug_)
    .bind(&f.name)
    .bind(&f.description)
    .bind(sqlx::types::Json(&f.translations))
    .bind(f.status.as_str())
    .bind(f.price)
    .bind(f.compare_at_price)
    .bind(&f.brand_id)
    .bind(f.featured)
    .bind(&f.vendor)
    .bind(&f.model)
    .bind(sqlx::types::Json(&f.images))
    .execute(&mut *conn)
    .await
    .map_err(|e| write_error(e, &f, &slug_))?;
    set_categories(conn, site_id, &id, &f.category_ids).await?;

    let variant_inputs = if variant_inputs.is_empty() {
        vec![NewVariant::default()]
    } else {
        variant_inputs
    };
    variants::insert_many(conn, site_id, &id, variant_inputs, "variants").await?;
    let product = load(conn, site_id, &id, Expand::default()).await?;
    events::record(conn, site_id, "product.created", &product).await?;
    Ok(product)
}

/// Applies a partial update. The caller runs this in a transaction.
pub async fn update(
    conn: &mut PgConnection,
    site_id: &str,
    id_or_slug: &str,
    p: ProductPatch,
) -> Result<Product> {
    let id = variants::lock_product(conn, site_id, id_or_slug).await?;
    let current = load(conn, site_id, &id, Expand::default()).await?;
    let f = Fields {
        name: p.name.map(|n| n.trim().to_string()).unwrap_or(current.name),
        slug: Some(p.slug.unwrap_or(current.slug)),
        handle: patch::apply(current.handle, p.handle),
        description: patch::apply(current.description, p.description),
        status: p.status.unwrap_or(current.status),
        price: p.price.unwrap_or(current.price),
        compare_at_price: patch::apply(current.compare_at_price, p.compare_at_price),
        brand_id: patch::apply(current.brand_id, p.brand_id),
        category_ids: p.category_ids.unwrap_or(current.category_ids),
        featured: p.featured.unwrap_or(current.featured),
        vendor: patch::apply(current.vendor, p.vendor),
        model: patch::apply(current.model, p.model),
        images: p.images.unwrap_or(current.images),
        translations: p.translations.unwrap_or(current.translations),
    };
    let mut v = Validator::new();
    validate(&mut v, &f);
    v.finish()?;
    check_references(conn, site_id, &f).await?;
    let slug_ = f.slug.clone().unwrap_or_default();
    sqlx::query(
        "update products set handle = $3, slug = $4, name = $5, description = $6, translations = $7, status = $8, \
         price = $9, compare_at_price = $10, brand_id = $11, featured = $12, vendor = $13, model = $14, images = $15 \
         where site_id = $1 and id = $2",
    )
    .bind(site_id)
    .bind(&id)
    .bind(&f.handle)
    .bind(&slug_)
    .bind(&f.name)
    .bind(&f.description)
    .bind(sqlx::types::Json(&f.translations))
    .bind(f.status.as_str())
    .bind(f.price)
    .bind(f.compare_at_price)
    .bind(&f.brand_id)
    .bind(f.featured)
    .bind(&f.vendor)
    .bind(&f.model)
    .bind(sqlx::types::Json(&f.images))
    .execute(&mut *conn)
    .await
    .map_err(|e| write_error(e, &f, &slug_))?;
    set_categories(conn, site_id, &id, &f.category_ids).await?;
    record_updated(conn, site_id, &id).await
}

/// Records `product.updated` with the product as it is now (after a change to it or one of its variants);
/// returns the product.
pub(crate) async fn record_updated(
    conn: &mut PgConnection,
    site_id: &str,
    id: &str,
) -> Result<Product> {
    let product = load(conn, site_id, id, Expand::default()).await?;
    events::record(conn, site_id, "product.updated", &product).await?;
    Ok(product)
}

/// Replaces every field of a product (PUT). Variants are managed through their own routes.
pub async fn replace(
    conn: &mut PgConnection,
    site_id: &str,
    id_or_slug: &str,
    input: NewProduct,
) -> Result<Product> {
    if input.variants.is_some() {
        return Err(Error::invalid(
            "variants",
            "variants are not part of a replace: change each variant on its own",
        ));
    }
    let id = variants::lock_product(conn, site_id, id_or_slug).await?;
    let slug_ = match input.slug {
        Some(s) => s,
        None => free_slug(conn, site_id, &slug::slugify(input.name.trim()), Some(&id)).await?,
    };
    let patch = ProductPatch {
        name: Some(input.name),
        slug: Some(slug_),
        handle: Some(input.handle),
        description: Some(input.description),
        status: Some(input.status.unwrap_or(ProductStatus::Active)),
        price: Some(input.price),
        compare_at_price: Some(input.compare_at_price),
        brand_id: Some(input.brand_id),
        category_ids: Some(input.category_ids),
        featured: Some(input.featured),
        vendor: Some(input.vendor),
        model: Some(input.model),
        images: Some(input.images),
        translations: Some(input.translations),
    };
    update(conn, site_id, &id, patch).await
}

/// Deletes a product (with its variants and stock) and records `product.deleted`. The caller runs this in
/// a transaction.
pub async fn delete(conn: &mut PgConnection, site_id: &str, id_or_slug: &str) -> Result<()> {
    let deleted: Option<(String, String, Option<String>)> = sqlx::query_as(
        "delete from products where site_id = $1 and (id = $2 or slug = $2) returning id, slug, handle",
    )
    .bind(site_id)
    .bind(id_or_slug)
    .fetch_optional(&mut *conn)
    .await?;
    let (id, slug, handle) = deleted.ok_or(Error::NotFound("product"))?;
    events::record(
        conn,
        site_id,
        "product.deleted",
        &serde_json::json!({"id": id, "slug": slug, "handle": handle}),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::search_query;

    #[test]
    fn search_terms_are_sanitised() {
        assert_eq!(
            search_query("White shirt").as_deref(),
            Some("white:* & shirt:*")
        );
        assert_eq!(
            search_query("a' | b:* & !c").as_deref(),
            Some("a:* & b:* & c:*")
        );
        assert_eq!(search_query("!!"), None);
    }
}
