//! Products in bulk, for integrations that send a thousand products at once (Mozello's batch update): every
//! product and variant is checked in memory with the same rules as a single write, then all of them are
//! written with one statement per table, and one event per product is recorded. A product refused by a
//! rule (invalid, a slug, handle or SKU another product holds) is reported and left out; the others apply.

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use sqlx::PgConnection;

use super::read::load_many;
use super::write::{Fields, validate};
use super::{NewProduct, ProductPatch};
use crate::domain::catalog::slug;
use crate::domain::catalog::variants::{self, NewVariant};
use crate::domain::error::{Error, Result, Validator};
use crate::domain::events;
use crate::domain::field::FieldKey;
use crate::domain::inventory::stock;
use crate::ids;

/// One product of an import.
#[derive(Debug)]
pub enum ImportItem {
    /// A new product with its variants (one default variant without any).
    Create(NewProduct),
    /// Changes to a product; `variants` replaces its variant set (matched by SKU, which keeps a variant's id,
    /// number and stock; the others are deleted).
    Update {
        id: String,
        patch: ProductPatch,
        variants: Option<Vec<NewVariant>>,
    },
}

/// What an item became: the product's id and its variants' ids in the order given, or why it was refused.
pub type Imported = std::result::Result<(String, Vec<String>), Error>;

/// A product about to be written.
struct Planned {
    index: usize,
    id: String,
    create: bool,
    fields: Fields,
    slug: String,
    /// The variants to write, in order (`None`: an update that leaves them).
    variants: Option<Vec<variants::Fields>>,
    /// An update's variants as they are (what it returns when it leaves them).
    current_variants: Vec<String>,
}

/// Imports `items` in the caller's transaction; returns each item's outcome in order. Each product may be
/// named by one item of a call (a second update of it, or a second new product with the same handle, is
/// refused): a caller with repeats splits them over calls.
pub async fn import(
    conn: &mut PgConnection,
    site_id: &str,
    items: Vec<ImportItem>,
) -> Result<Vec<Imported>> {
    let mut outcomes: Vec<Option<Imported>> = (0..items.len()).map(|_| None).collect();
    // The products to change, locked in id order (as every product write locks its product first).
    let mut update_ids: Vec<String> = items
        .iter()
        .filter_map(|i| match i {
            ImportItem::Update { id, .. } => Some(id.clone()),
            ImportItem::Create(_) => None,
        })
        .collect();
    update_ids.sort();
    update_ids.dedup();
    sqlx::query(
        "select 1 from products where site_id = $1 and id = any($2) order by id for update",
    )
    .bind(site_id)
    .bind(&update_ids)
    .execute(&mut *conn)
    .await?;
    let mut current: HashMap<String, super::Product> = load_many(conn, site_id, &update_ids)
        .await?
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect();

    // Every item checked by the single-write rules.
    let mut planned: Vec<Planned> = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        let mut v = Validator::new();
        let (id, create, fields, inputs) = match item {
            ImportItem::Create(mut input) => {
                let inputs = input.variants.take().filter(|v| !v.is_empty());
                let inputs = inputs.unwrap_or_else(|| vec![NewVariant::default()]);
                (ids::new_id("prd"), true, Fields::new(&input), Ok(inputs))
            }
            ImportItem::Update {
                id,
                patch,
                variants,
            } => {
                // Taken out of the map: a second item for the same product is refused.
                let Some(product) = current.remove(&id) else {
                    let named = planned.iter().any(|p| p.id == id);
                    outcomes[index] = Some(Err(if named {
                        Error::conflict("the batch changes this product twice")
                    } else {
                        Error::NotFound("product")
                    }));
                    continue;
                };
                let current_variants = product
                    .variants
                    .iter()
                    .flatten()
                    .map(|v| v.id.clone())
                    .collect();
                (
                    id,
                    false,
                    Fields::patched(product, patch),
                    variants.ok_or(current_variants),
                )
            }
        };
        validate(&mut v, &fields);
        let (inputs, current_variants) = match inputs {
            Ok(inputs) => (Some(inputs), Vec::new()),
            Err(current) => (None, current),
        };
        let variants = inputs.map(|inputs| {
            v.check(
                (1..=100).contains(&inputs.len()),
                "variants",
                "from 1 to 100 variants",
            );
            inputs
                .into_iter()
                .enumerate()
                .map(|(i, mut input)| {
                    input.position = Some(i as i32);
                    variants::fields_from_input(&mut v, &FieldKey::from("variants").at(i), input)
                })
                .collect::<Vec<_>>()
        });
        if let Err(e) = v.finish() {
            outcomes[index] = Some(Err(e));
            continue;
        }
        planned.push(Planned {
            index,
            slug: fields.slug.clone().unwrap_or_default(),
            id,
            create,
            fields,
            variants,
            current_variants,
        });
    }
    refuse_missing_references(conn, site_id, &mut planned, &mut outcomes).await?;
    assign_slugs(conn, site_id, &mut planned, &mut outcomes).await?;
    refuse_taken_handles_and_skus(conn, site_id, &mut planned, &mut outcomes).await?;

    write_products(conn, site_id, &planned).await?;
    let variant_ids = write_variants(conn, site_id, &planned).await?;
    let ids: Vec<String> = planned.iter().map(|p| p.id.clone()).collect();
    let written = load_many(conn, site_id, &ids).await?;
    let created: HashSet<&str> = planned
        .iter()
        .filter(|p| p.create)
        .map(|p| p.id.as_str())
        .collect();
    let kinds: Vec<&str> = written
        .iter()
        .map(|p| {
            if created.contains(p.id.as_str()) {
                "product.created"
            } else {
                "product.updated"
            }
        })
        .collect();
    let payloads = written
        .iter()
        .map(serde_json::to_value)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Internal(format!("event payload: {e}")))?;
    events::record_many(conn, site_id, &kinds, &payloads).await?;

    for (p, variants) in planned.iter().zip(variant_ids) {
        outcomes[p.index] = Some(Ok((p.id.clone(), variants)));
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err(Error::Internal("an import item went missing".into()))))
        .collect())
}

/// Moves a planned product to the refused ones.
fn refuse(planned: &mut Vec<Planned>, outcomes: &mut [Option<Imported>], at: usize, e: Error) {
    let p = planned.remove(at);
    outcomes[p.index] = Some(Err(e));
}

async fn refuse_missing_references(
    conn: &mut PgConnection,
    site_id: &str,
    planned: &mut Vec<Planned>,
    outcomes: &mut [Option<Imported>],
) -> Result<()> {
    let brands: Vec<&str> = planned
        .iter()
        .filter_map(|p| p.fields.brand_id.as_deref())
        .collect();
    let categories: Vec<&str> = planned
        .iter()
        .flat_map(|p| p.fields.category_ids.iter().map(String::as_str))
        .collect();
    let brands: HashSet<String> =
        sqlx::query_scalar("select id from brands where site_id = $1 and id = any($2)")
            .bind(site_id)
            .bind(&brands)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
    let categories: HashSet<String> =
        sqlx::query_scalar("select id from categories where site_id = $1 and id = any($2)")
            .bind(site_id)
            .bind(&categories)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
    let mut at = 0;
    while at < planned.len() {
        let f = &planned[at].fields;
        let mut v = Validator::new();
        if let Some(brand) = &f.brand_id {
            v.rule(brands.contains(brand), "brand_id", "no brand with this id");
        }
        for (i, id) in f.category_ids.iter().enumerate() {
            v.rule(
                categories.contains(id),
                FieldKey::from("category_ids").at(i),
                "no category with this id",
            );
        }
        match v.finish() {
            Ok(()) => at += 1,
            Err(e) => refuse(planned, outcomes, at, e),
        }
    }
    Ok(())
}

/// Derives the slugs of new products without one (free ones, also among the batch's), and refuses a slug
/// another product holds.
async fn assign_slugs(
    conn: &mut PgConnection,
    site_id: &str,
    planned: &mut Vec<Planned>,
    outcomes: &mut [Option<Imported>],
) -> Result<()> {
    let bases: Vec<String> = planned
        .iter()
        .filter(|p| p.fields.slug.is_none())
        .map(|p| slug::slugify(&p.fields.name))
        .collect();
    let explicit: Vec<&str> = planned
        .iter()
        .filter_map(|p| p.fields.slug.as_deref())
        .collect();
    let names: Vec<&str> = explicit
        .iter()
        .copied()
        .chain(bases.iter().map(String::as_str))
        .collect();
    let mut holder = holders(conn, site_id, Held::Slug, &names).await?;
    // Numbered slugs (`tee-2`) matter only for a base that is taken or repeated in the batch; the pattern
    // scan, which no index serves, is left out for the rest (most of an import).
    let mut seen = HashSet::new();
    let crowded: HashSet<&String> = bases
        .iter()
        .filter(|b| holder.contains_key(*b) || !seen.insert(*b))
        .collect();
    if !crowded.is_empty() {
        let patterns: Vec<String> = crowded
            .iter()
            .map(|b| format!("{}-%", crate::domain::escape_like(b)))
            .collect();
        let numbered: Vec<(String, String)> = sqlx::query_as(
            "select slug, id from products where site_id = $1 and slug like any($2)",
        )
        .bind(site_id)
        .bind(&patterns)
        .fetch_all(&mut *conn)
        .await?;
        holder.extend(numbered);
    }
    let mut taken: Vec<String> = holder.keys().cloned().collect();
    let mut at = 0;
    while at < planned.len() {
        let p = &mut planned[at];
        let slug_ = match &p.fields.slug {
            None => slug::first_free(&slug::slugify(&p.fields.name), &taken),
            Some(s) => s.clone(),
        };
        let held_by_other = holder.get(&slug_).is_some_and(|id| *id != p.id);
        let claimed = p.fields.slug.is_some()
            && (held_by_other || (taken.contains(&slug_) && !holder.contains_key(&slug_)));
        if claimed {
            let e = Error::conflict(format!("a product with slug `{slug_}` already exists"));
            refuse(planned, outcomes, at, e);
            continue;
        }
        p.slug = slug_.clone();
        taken.push(slug_);
        at += 1;
    }
    Ok(())
}

/// Refuses a handle or SKU that another product (or an earlier item of the batch) holds.
async fn refuse_taken_handles_and_skus(
    conn: &mut PgConnection,
    site_id: &str,
    planned: &mut Vec<Planned>,
    outcomes: &mut [Option<Imported>],
) -> Result<()> {
    let handles: Vec<&str> = planned
        .iter()
        .filter_map(|p| p.fields.handle.as_deref())
        .collect();
    let skus: Vec<&str> = planned
        .iter()
        .flat_map(|p| p.variants.iter().flatten().filter_map(|v| v.sku.as_deref()))
        .collect();
    let handle_holders = holders(conn, site_id, Held::Handle, &handles).await?;
    let sku_holders = holders(conn, site_id, Held::Sku, &skus).await?;
    let mut handles_seen: HashSet<String> = HashSet::new();
    let mut skus_seen: HashSet<String> = HashSet::new();
    let mut at = 0;
    while at < planned.len() {
        let p = &planned[at];
        let mut refusal = None;
        if let Some(h) = &p.fields.handle
            && (handle_holders.get(h).is_some_and(|id| *id != p.id) || handles_seen.contains(h))
        {
            refusal = Some(format!("a product with handle `{h}` already exists"));
        }
        let own: Vec<&str> = p
            .variants
            .iter()
            .flatten()
            .filter_map(|v| v.sku.as_deref())
            .collect();
        for (i, sku) in own.iter().enumerate() {
            let elsewhere = sku_holders.get(*sku).is_some_and(|id| *id != p.id);
            if elsewhere || skus_seen.contains(*sku) || own[..i].contains(sku) {
                refusal.get_or_insert(format!("a variant with SKU `{sku}` already exists"));
            }
        }
        match refusal {
            Some(message) => refuse(planned, outcomes, at, Error::conflict(message)),
            None => {
                handles_seen.extend(p.fields.handle.clone());
                skus_seen.extend(own.iter().map(|s| s.to_string()));
                at += 1;
            }
        }
    }
    Ok(())
}

/// What names a product uniquely within its site.
#[derive(Debug, Clone, Copy)]
pub(super) enum Held {
    Handle,
    Slug,
    /// A variant's SKU, held by the variant's product.
    Sku,
}

/// The product holding each of `values` as its handle, slug or SKU (values no product holds are absent).
pub(super) async fn holders(
    conn: &mut PgConnection,
    site_id: &str,
    held: Held,
    values: &[&str],
) -> Result<HashMap<String, String>> {
    let sql = match held {
        Held::Handle => "select handle, id from products where site_id = $1 and handle = any($2)",
        Held::Slug => "select slug, id from products where site_id = $1 and slug = any($2)",
        Held::Sku => "select sku, product_id from variants where site_id = $1 and sku = any($2)",
    };
    Ok(sqlx::query_as(sql)
        .bind(site_id)
        .bind(values)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .collect())
}

/// A unique violation in a bulk write: another writer took a slug, handle or SKU meanwhile.
fn raced(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => Error::conflict(
            "a slug, handle or SKU of this batch was taken meanwhile: send the batch again",
        ),
        _ => Error::Database(e),
    }
}

fn json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Inserts the new products and updates the changed ones (one statement each), and sets their categories.
async fn write_products(conn: &mut PgConnection, site_id: &str, planned: &[Planned]) -> Result<()> {
    for create in [true, false] {
        let rows: Vec<&Planned> = planned.iter().filter(|p| p.create == create).collect();
        if rows.is_empty() {
            continue;
        }
        let sql = if create {
            "insert into products (site_id, id, handle, slug, name, description, translations, status, price, \
             compare_at_price, brand_id, featured, vendor, model, images) \
             select $1, u.* from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], \
                  $8::text[], $9::bigint[], $10::bigint[], $11::text[], $12::bool[], $13::text[], $14::text[], \
                  $15::jsonb[]) as u"
        } else {
            "update products p set handle = u.handle, slug = u.slug, name = u.name, description = u.description, \
             translations = u.translations, status = u.status, price = u.price, \
             compare_at_price = u.compare_at_price, brand_id = u.brand_id, featured = u.featured, \
             vendor = u.vendor, model = u.model, images = u.images \
             from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::text[], \
                  $9::bigint[], $10::bigint[], $11::text[], $12::bool[], $13::text[], $14::text[], $15::jsonb[]) \
                  as u(id, handle, slug, name, description, translations, status, price, compare_at_price, \
                       brand_id, featured, vendor, model, images) \
             where p.site_id = $1 and p.id = u.id"
        };
        let f =
            |get: fn(&Planned) -> Option<String>| rows.iter().map(|p| get(p)).collect::<Vec<_>>();
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(site_id)
            .bind(f(|p| Some(p.id.clone())))
            .bind(f(|p| p.fields.handle.clone()))
            .bind(f(|p| Some(p.slug.clone())))
            .bind(f(|p| Some(p.fields.name.clone())))
            .bind(f(|p| p.fields.description.clone()))
            .bind(
                rows.iter()
                    .map(|p| json(&p.fields.translations))
                    .collect::<Vec<_>>(),
            )
            .bind(f(|p| Some(p.fields.status.as_str().to_string())))
            .bind(rows.iter().map(|p| p.fields.price).collect::<Vec<_>>())
            .bind(
                rows.iter()
                    .map(|p| p.fields.compare_at_price)
                    .collect::<Vec<_>>(),
            )
            .bind(f(|p| p.fields.brand_id.clone()))
            .bind(rows.iter().map(|p| p.fields.featured).collect::<Vec<_>>())
            .bind(f(|p| p.fields.vendor.clone()))
            .bind(f(|p| p.fields.model.clone()))
            .bind(
                rows.iter()
                    .map(|p| json(&p.fields.images))
                    .collect::<Vec<_>>(),
            )
            .execute(&mut *conn)
            .await
            .map_err(raced)?;
    }
    let ids: Vec<&str> = planned.iter().map(|p| p.id.as_str()).collect();
    sqlx::query("delete from product_categories where site_id = $1 and product_id = any($2)")
        .bind(site_id)
        .bind(&ids)
        .execute(&mut *conn)
        .await?;
    let (mut products, mut categories, mut positions) = (Vec::new(), Vec::new(), Vec::new());
    for p in planned {
        for (i, c) in p.fields.category_ids.iter().enumerate() {
            products.push(p.id.clone());
            categories.push(c.clone());
            positions.push(i as i32);
        }
    }
    if !products.is_empty() {
        sqlx::query(
            "insert into product_categories (site_id, product_id, category_id, position) \
             select $1, u.p, u.c, u.n from unnest($2::text[], $3::text[], $4::int[]) as u(p, c, n) \
             on conflict do nothing",
        )
        .bind(site_id)
        .bind(products)
        .bind(categories)
        .bind(positions)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A variant row to write.
struct VariantRow<'a> {
    id: String,
    product_id: &'a str,
    fields: &'a variants::Fields,
    is_default: bool,
}

/// Writes the planned variant sets: kept variants (same SKU) updated, the rest deleted, new ones inserted
/// with an empty stock level at the default location; returns each product's variant ids in order.
async fn write_variants(
    conn: &mut PgConnection,
    site_id: &str,
    planned: &[Planned],
) -> Result<Vec<Vec<String>>> {
    let replaced: Vec<&str> = planned
        .iter()
        .filter(|p| !p.create && p.variants.is_some())
        .map(|p| p.id.as_str())
        .collect();
    let existing: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "select id, product_id, sku from variants where site_id = $1 and product_id = any($2)",
    )
    .bind(site_id)
    .bind(&replaced)
    .fetch_all(&mut *conn)
    .await?;
    let mut kept: HashMap<(&str, &str), &str> = HashMap::new();
    for (id, product_id, sku) in &existing {
        if let Some(sku) = sku {
            kept.insert((product_id.as_str(), sku.as_str()), id.as_str());
        }
    }
    let mut updates: Vec<VariantRow> = Vec::new();
    let mut inserts: Vec<VariantRow> = Vec::new();
    let mut variant_ids: Vec<Vec<String>> = Vec::with_capacity(planned.len());
    let mut keep_ids: HashSet<String> = HashSet::new();
    for p in planned {
        let Some(list) = &p.variants else {
            variant_ids.push(p.current_variants.clone());
            continue;
        };
        let mut own = Vec::with_capacity(list.len());
        for (i, fields) in list.iter().enumerate() {
            let found = fields
                .sku
                .as_deref()
                .and_then(|sku| kept.get(&(p.id.as_str(), sku)).copied());
            let row = VariantRow {
                id: found
                    .map(str::to_string)
                    .unwrap_or_else(|| ids::new_id("var")),
                product_id: &p.id,
                fields,
                is_default: i == 0,
            };
            own.push(row.id.clone());
            match found {
                Some(id) => {
                    keep_ids.insert(id.to_string());
                    updates.push(row);
                }
                None => inserts.push(row),
            }
        }
        variant_ids.push(own);
    }
    let gone: Vec<&str> = existing
        .iter()
        .map(|(id, _, _)| id.as_str())
        .filter(|id| !keep_ids.contains(*id))
        .collect();
    sqlx::query("delete from variants where site_id = $1 and id = any($2)")
        .bind(site_id)
        .bind(&gone)
        .execute(&mut *conn)
        .await?;
    // One default per product: clear the defaults that move before the rows that take them are written.
    let defaults: Vec<&str> = updates
        .iter()
        .filter(|r| r.is_default)
        .map(|r| r.id.as_str())
        .collect();
    sqlx::query(
        "update variants set is_default = false \
         where site_id = $1 and product_id = any($2) and is_default and id <> all($3)",
    )
    .bind(site_id)
    .bind(&replaced)
    .bind(&defaults)
    .execute(&mut *conn)
    .await?;
    let column = |rows: &[VariantRow], get: fn(&VariantRow) -> Option<String>| {
        rows.iter().map(get).collect::<Vec<_>>()
    };
    if !updates.is_empty() {
        sqlx::query(
            "update variants v set name = u.name, sku = u.sku, price = u.price, \
             compare_at_price = u.compare_at_price, options = u.options, is_default = u.is_default, \
             position = u.position \
             from unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::jsonb[], \
                  $8::bool[], $9::int[]) as u(id, name, sku, price, compare_at_price, options, is_default, position) \
             where v.site_id = $1 and v.id = u.id \
               and (v.name, v.sku, v.price, v.compare_at_price, v.options, v.is_default, v.position) \
                   is distinct from \
                   (u.name, u.sku, u.price, u.compare_at_price, u.options, u.is_default, u.position)",
        )
        .bind(site_id)
        .bind(column(&updates, |r| Some(r.id.clone())))
        .bind(column(&updates, |r| Some(r.fields.name.clone())))
        .bind(column(&updates, |r| r.fields.sku.clone()))
        .bind(updates.iter().map(|r| r.fields.price).collect::<Vec<_>>())
        .bind(updates.iter().map(|r| r.fields.compare_at_price).collect::<Vec<_>>())
        .bind(updates.iter().map(|r| json(&r.fields.options)).collect::<Vec<_>>())
        .bind(updates.iter().map(|r| r.is_default).collect::<Vec<_>>())
        .bind(updates.iter().map(|r| r.fields.position).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await
        .map_err(raced)?;
    }
    if !inserts.is_empty() {
        sqlx::query(
            "insert into variants (site_id, id, product_id, name, sku, price, compare_at_price, options, \
             is_default, position, low_stock_threshold) \
             select $1, u.* from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], \
                  $7::bigint[], $8::jsonb[], $9::bool[], $10::int[], $11::int[]) as u",
        )
        .bind(site_id)
        .bind(column(&inserts, |r| Some(r.id.clone())))
        .bind(column(&inserts, |r| Some(r.product_id.to_string())))
        .bind(column(&inserts, |r| Some(r.fields.name.clone())))
        .bind(column(&inserts, |r| r.fields.sku.clone()))
        .bind(inserts.iter().map(|r| r.fields.price).collect::<Vec<_>>())
        .bind(inserts.iter().map(|r| r.fields.compare_at_price).collect::<Vec<_>>())
        .bind(inserts.iter().map(|r| json(&r.fields.options)).collect::<Vec<_>>())
        .bind(inserts.iter().map(|r| r.is_default).collect::<Vec<_>>())
        .bind(inserts.iter().map(|r| r.fields.position).collect::<Vec<_>>())
        .bind(inserts.iter().map(|r| r.fields.low_stock_threshold).collect::<Vec<_>>())
        .execute(&mut *conn)
        .await
        .map_err(raced)?;
        let location = stock::default_location(conn, site_id).await?;
        sqlx::query(
            "insert into stock_levels (site_id, variant_id, location_id) \
             select $1, u.id, $3 from unnest($2::text[]) as u(id) order by u.id",
        )
        .bind(site_id)
        .bind(column(&inserts, |r| Some(r.id.clone())))
        .bind(location)
        .execute(&mut *conn)
        .await?;
    }
    Ok(variant_ids)
}
