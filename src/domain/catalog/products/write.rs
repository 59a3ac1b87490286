//! Writing products: create, change, replace and delete, each recording its event in the same
//! transaction.

use std::collections::BTreeMap;

use sqlx::PgConnection;

use super::read::load;
use super::{Expand, NewProduct, Product, ProductPatch, ProductStatus, Translation};
use crate::domain::catalog::variants::{self, NewVariant};
use crate::domain::catalog::{slug, validate_id, validate_images};
use crate::domain::error::{Error, Result, Validator, on_unique};
use crate::domain::events;
use crate::domain::field::FieldKey;
use crate::domain::patch;
use crate::ids;

/// Locks the product row for the rest of the transaction; `NotFound` when the site has no such product.
pub(super) async fn lock(
    conn: &mut PgConnection,
    site_id: &str,
    id_or_slug: &str,
) -> Result<String> {
    sqlx::query_scalar(
        "select id from products where site_id = $1 and (id = $2 or slug = $2) for update",
    )
    .bind(site_id)
    .bind(id_or_slug)
    .fetch_optional(conn)
    .await?
    .ok_or(Error::NotFound("product"))
}

/// A product's own fields after defaults, ready to validate and store.
pub(super) struct Fields {
    pub name: String,
    pub slug: Option<String>,
    pub handle: Option<String>,
    pub description: Option<String>,
    pub status: ProductStatus,
    pub price: i64,
    pub compare_at_price: Option<i64>,
    pub brand_id: Option<String>,
    pub category_ids: Vec<String>,
    pub featured: bool,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub images: Vec<String>,
    pub translations: BTreeMap<String, Translation>,
}

impl Fields {
    /// A new product's fields (its variants apart).
    pub(super) fn new(input: &NewProduct) -> Fields {
        Fields {
            name: input.name.trim().to_string(),
            slug: input.slug.clone(),
            handle: input.handle.clone(),
            description: input.description.clone(),
            status: input.status.unwrap_or(ProductStatus::Active),
            price: input.price,
            compare_at_price: input.compare_at_price,
            brand_id: input.brand_id.clone(),
            category_ids: input.category_ids.clone(),
            featured: input.featured,
            vendor: input.vendor.clone(),
            model: input.model.clone(),
            images: input.images.clone(),
            translations: input.translations.clone(),
        }
    }

    /// A product's fields after a patch.
    pub(super) fn patched(current: Product, p: ProductPatch) -> Fields {
        Fields {
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
        }
    }
}

pub(super) fn validate(v: &mut Validator, f: &Fields) {
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
    validate_id(v, "brand_id", "br", f.brand_id.as_deref());
    v.check(
        f.category_ids.len() <= 100,
        "category_ids",
        "at most 100 categories",
    );
    for (i, id) in f.category_ids.iter().enumerate() {
        validate_id(v, FieldKey::from("category_ids").at(i), "cat", Some(id));
    }
    for (field, value) in [("vendor", &f.vendor), ("model", &f.model)] {
        if let Some(value) = value {
            v.text(field, value, 0, 255);
        }
    }
    validate_images(v, "images", &f.images);
    v.check(
        f.translations.len() <= 50,
        "translations",
        "at most 50 locales",
    );
    for (locale, t) in &f.translations {
        let entry = FieldKey::from("translations").data(locale);
        let at = |field: &str| entry.clone().then(field);
        v.check(
            crate::domain::sites::is_locale(locale),
            entry.clone(),
            "must be keyed by a locale tag such as en or en-GB",
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
        v.rule(exists, "brand_id", "no brand with this id");
    }
    if !f.category_ids.is_empty() {
        let found: Vec<String> =
            sqlx::query_scalar("select id from categories where site_id = $1 and id = any($2)")
                .bind(site_id)
                .bind(&f.category_ids)
                .fetch_all(&mut *conn)
                .await?;
        for (i, id) in f.category_ids.iter().enumerate() {
            v.rule(
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
    let f = Fields::new(&input);
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
    let id = lock(conn, site_id, id_or_slug).await?;
    let current = load(conn, site_id, &id, Expand::default()).await?;
    let f = Fields::patched(current, p);
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
pub(super) async fn record_updated(
    conn: &mut PgConnection,
    site_id: &str,
    id: &str,
) -> Result<Product> {
    let product = load(conn, site_id, id, Expand::default()).await?;
    events::record(conn, site_id, "product.updated", &product).await?;
    Ok(product)
}

/// Replaces every field of a product (PUT). Its variants stay: they change one by one
/// ([`super::replace_variant`] and its siblings).
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
    let id = lock(conn, site_id, id_or_slug).await?;
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
