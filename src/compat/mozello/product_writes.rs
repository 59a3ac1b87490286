//! Writing products: `POST /store/product/`, `PUT /store/product/<handle>/` and
//! `POST /store/products/batch-update/`. Each maps Mozello's fields onto one [`products::import`] item;
//! a batch imports all of its products together (a product named twice goes in a later round, after the
//! first), then writes the whole batch's stock in one ledger write.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::errors::MzError;
use super::product_shape::{self, CategoryIn, ProductIn, VariantIn};
use super::products::{batch_items, find, import_tx, one, outcome, product_body};
use super::shapes::{self, Languages};
use super::{authorize, languages, ok};
use crate::domain;
use crate::domain::catalog::products::{
    self, ImportItem, NewProduct, Product, ProductPatch, ProductStatus, Translation,
};
use crate::domain::catalog::variants::{NewVariant, VariantPatch};
use crate::domain::integrations::mozello::catalog;
use crate::domain::integrations::mozello::stock::{self, Stock, priced, regular_and_sale};
use crate::state::AppState;

pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, MzError> {
    let key = authorize(&state, &headers).await?;
    let body = product_body(&body)?;
    let mut tx = import_tx(&state).await?;
    let languages = languages(&mut tx, &key.site_id).await?;
    let input = product_shape::product_in(&body, &languages)?;
    let Some(handle) = input.handle.clone() else {
        return Err(MzError::bad_request(
            "Product handle is mandatory when creating new product",
        ));
    };
    if catalog::product_by_handle(&mut tx, &key.site_id, &handle)
        .await?
        .is_some()
    {
        return Err(MzError::new(
            StatusCode::CONFLICT,
            format!("Product with handle `{handle}` already exists"),
        ));
    }
    let id = write_one(&mut tx, &key.site_id, &languages, None, input).await?;
    let product = one(&mut tx, &key.site_id, &languages, &id).await?;
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(Json(product))
}

pub async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(handle): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, MzError> {
    let key = authorize(&state, &headers).await?;
    let body = product_body(&body)?;
    let mut tx = import_tx(&state).await?;
    let languages = languages(&mut tx, &key.site_id).await?;
    let id = find(&mut tx, &key.site_id, &handle).await?;
    let input = product_shape::product_in(&body, &languages)?;
    write_one(&mut tx, &key.site_id, &languages, Some(id.clone()), input).await?;
    let product = one(&mut tx, &key.site_id, &languages, &id).await?;
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(Json(product))
}

/// Writes one product (creating it when `existing` is `None`); returns its id.
async fn write_one(
    conn: &mut domain::Conn,
    site_id: &str,
    languages: &Languages,
    existing: Option<String>,
    input: ProductIn,
) -> Result<String, MzError> {
    let current = match &existing {
        Some(id) => products::load_many(conn, site_id, std::slice::from_ref(id))
            .await?
            .pop(),
        None => None,
    };
    let plan = plan(conn, site_id, languages, current.as_ref(), input).await?;
    let mut written = apply(conn, site_id, vec![plan]).await?;
    written
        .pop()
        .unwrap_or_else(|| Err(MzError::bad_request("Not written")))
}

/// What one product write becomes.
struct Plan {
    item: ImportItem,
    /// The stock of each variant written, in order (a product-level `stock` is its one variant's).
    stocks: Vec<Option<Stock>>,
    /// A product-level `sku` for an existing product whose variants stay.
    default_sku: Option<Option<String>>,
}

async fn category_ids(
    conn: &mut domain::Conn,
    site_id: &str,
    category: CategoryIn,
) -> Result<Vec<String>, MzError> {
    Ok(match category {
        CategoryIn::None => Vec::new(),
        CategoryIn::Handle(handle) => vec![
            catalog::category_by_handle(conn, site_id, &handle)
                .await?
                .ok_or_else(|| MzError::not_found("Category"))?,
        ],
        CategoryIn::Path(levels) => vec![catalog::category_for_path(conn, site_id, &levels).await?],
    })
}

/// The product's other languages' texts, over `translations`.
fn texts(
    input: &ProductIn,
    languages: &Languages,
    translations: &mut std::collections::BTreeMap<String, Translation>,
) {
    if let Some(t) = &input.title {
        shapes::merge_translations(translations, t, languages, |tr, v| tr.name = v);
    }
    if let Some(t) = &input.description {
        shapes::merge_translations(translations, t, languages, |tr, v| tr.description = v);
    }
    if let Some(t) = &input.url {
        shapes::merge_translations(translations, t, languages, |tr, v| tr.slug = v);
    }
}

/// Maps Mozello's fields onto an import item: a new product (`current: None`) or changes to `current`.
/// Categories named by path are created here when missing.
async fn plan(
    conn: &mut domain::Conn,
    site_id: &str,
    languages: &Languages,
    current: Option<&Product>,
    mut input: ProductIn,
) -> Result<Plan, MzError> {
    let category_ids = match input.category.take() {
        Some(c) => Some(category_ids(conn, site_id, c).await?),
        None => None,
    };
    let default_text =
        |t: &Option<shapes::Text>| t.as_ref().and_then(|t| t.default_value(languages));
    let (variants, variant_stocks): (Option<Vec<NewVariant>>, Vec<Option<Stock>>) =
        match input.variants.take() {
            Some(list) if !list.is_empty() => {
                let (v, s) = list
                    .into_iter()
                    .map(|VariantIn { variant, stock }| (variant, stock))
                    .unzip();
                (Some(v), s)
            }
            _ => (None, vec![input.stock]),
        };
    let Some(current) = current else {
        let mut translations = Default::default();
        texts(&input, languages, &mut translations);
        let name = default_text(&input.title)
            .flatten()
            .or_else(|| {
                input
                    .title
                    .as_ref()
                    .and_then(|t| t.values.iter().find_map(|(_, v)| v.clone()))
            })
            .or_else(|| input.handle.clone())
            .unwrap_or_default();
        let (price, compare_at_price) =
            priced(input.price.unwrap_or(0), input.sale_price.flatten());
        let variants = variants.unwrap_or_else(|| {
            vec![NewVariant {
                sku: input.sku.clone().flatten(),
                ..NewVariant::default()
            }]
        });
        let item = ImportItem::Create(NewProduct {
            name,
            slug: default_text(&input.url).flatten(),
            handle: input.handle.clone(),
            description: default_text(&input.description).flatten(),
            status: Some(if input.visible == Some(false) {
                ProductStatus::Draft
            } else {
                ProductStatus::Active
            }),
            price,
            compare_at_price,
            brand_id: None,
            category_ids: category_ids.unwrap_or_default(),
            featured: input.featured.unwrap_or(false),
            vendor: input.vendor.clone().flatten(),
            model: input.model.clone().flatten(),
            images: Vec::new(),
            translations,
            variants: Some(variants),
        });
        return Ok(Plan {
            item,
            stocks: variant_stocks,
            default_sku: None,
        });
    };
    let mut translations = current.translations.clone();
    texts(&input, languages, &mut translations);
    let (regular, sale) = regular_and_sale(current.price, current.compare_at_price);
    let prices = (input.price.is_some() || input.sale_price.is_some()).then(|| {
        priced(
            input.price.unwrap_or(regular),
            input.sale_price.unwrap_or(sale),
        )
    });
    let patch = ProductPatch {
        name: default_text(&input.title).flatten(),
        slug: default_text(&input.url).flatten(),
        description: default_text(&input.description),
        status: input.visible.map(|v| {
            if v {
                ProductStatus::Active
            } else {
                ProductStatus::Draft
            }
        }),
        price: prices.map(|p| p.0),
        compare_at_price: prices.map(|p| p.1),
        category_ids,
        featured: input.featured,
        vendor: input.vendor.clone(),
        model: input.model.clone(),
        translations: Some(translations),
        ..ProductPatch::default()
    };
    let default_sku = if variants.is_none() {
        input.sku.clone()
    } else {
        None
    };
    Ok(Plan {
        item: ImportItem::Update {
            id: current.id.clone(),
            patch,
            variants,
        },
        stocks: variant_stocks,
        default_sku,
    })
}

/// Imports the planned products together, then their default SKUs and the stock of them all; returns each
/// plan's product id or why it was refused.
async fn apply(
    conn: &mut domain::Conn,
    site_id: &str,
    plans: Vec<Plan>,
) -> Result<Vec<Result<String, MzError>>, MzError> {
    let mut extras = Vec::with_capacity(plans.len());
    let mut items = Vec::with_capacity(plans.len());
    for p in plans {
        items.push(p.item);
        extras.push((p.stocks, p.default_sku));
    }
    let imported = products::import(conn, site_id, items).await?;
    let mut stocks: Vec<(String, Stock)> = Vec::new();
    let mut out = Vec::with_capacity(imported.len());
    for (result, (own_stocks, default_sku)) in imported.into_iter().zip(extras) {
        let (id, variant_ids) = match result {
            Ok(ok) => ok,
            Err(e) => {
                out.push(Err(MzError::from(e)));
                continue;
            }
        };
        if let (Some(sku), Some(default)) = (default_sku, variant_ids.first()) {
            let patch = VariantPatch {
                sku: Some(sku),
                ..VariantPatch::default()
            };
            if let Err(e) = products::update_variant(conn, site_id, &id, default, patch).await {
                out.push(Err(MzError::from(e)));
                continue;
            }
        }
        for (variant_id, stock) in variant_ids.into_iter().zip(own_stocks) {
            if let Some(stock) = stock {
                stocks.push((variant_id, stock));
            }
        }
        out.push(Ok(id));
    }
    stock::set_stocks(conn, site_id, &stocks).await?;
    Ok(out)
}

/// An item of a batch: where it was, what it names, and what it says.
struct BatchItem {
    index: usize,
    handle: Option<String>,
    sku: Option<String>,
    input: ProductIn,
}

pub async fn batch_update(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, MzError> {
    let (key, items) = (authorize(&state, &headers).await?, batch_items(&body)?);
    let mut tx = import_tx(&state).await?;
    let languages = languages(&mut tx, &key.site_id).await?;
    let site_id = key.site_id.as_str();
    let mut results: Vec<Value> = vec![Value::Null; items.len()];
    let mut pending: Vec<BatchItem> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let parsed = match item {
            Value::Object(item) => product_shape::product_in(item, &languages),
            _ => Err(MzError::bad_request("Each item must be an object")),
        };
        match parsed {
            Ok(input) => pending.push(BatchItem {
                index,
                handle: input.handle.clone(),
                sku: input.sku.clone().flatten(),
                input,
            }),
            Err(e) => results[index] = outcome(None, None, "error", Some(e.message)),
        }
    }
    let handles: Vec<String> = pending.iter().filter_map(|i| i.handle.clone()).collect();
    let mut by_handle = catalog::products_by_handles(&mut tx, site_id, &handles).await?;
    // Rounds: a product named again waits for the next round, so it sees the earlier item's result.
    while !pending.is_empty() {
        let mut round: Vec<(BatchItem, Option<String>)> = Vec::new();
        let mut later = Vec::new();
        let mut named: std::collections::HashSet<String> = Default::default();
        for item in pending {
            // The handle wins; an unknown handle creates; without one, a single product with the SKU.
            let target = match (&item.handle, &item.sku) {
                (Some(handle), _) => by_handle.get(handle).cloned(),
                (None, Some(sku)) => {
                    let found = catalog::by_sku(&mut tx, site_id, sku).await?;
                    match found.as_slice() {
                        [one] => Some(one.product_id.clone()),
                        [] => {
                            results[item.index] =
                                outcome(None, Some(sku), "ignored", Some("SKU not found".into()));
                            continue;
                        }
                        _ => {
                            let why = "SKU exists on several items";
                            results[item.index] =
                                outcome(None, Some(sku), "ignored", Some(why.into()));
                            continue;
                        }
                    }
                }
                (None, None) => {
                    let why = "Product handle or SKU is mandatory";
                    results[item.index] = outcome(None, None, "error", Some(why.into()));
                    continue;
                }
            };
            let name = target
                .clone()
                .or_else(|| item.handle.clone())
                .unwrap_or_default();
            if named.insert(name) {
                round.push((item, target));
            } else {
                later.push(item);
            }
        }
        let ids: Vec<String> = round.iter().filter_map(|(_, t)| t.clone()).collect();
        let mut current: HashMap<String, Product> = products::load_many(&mut tx, site_id, &ids)
            .await?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        let mut plans = Vec::with_capacity(round.len());
        let mut planned = Vec::with_capacity(round.len());
        for (item, target) in round {
            let existing = target.as_ref().and_then(|id| current.remove(id));
            let status = if existing.is_some() {
                "updated"
            } else {
                "created"
            };
            match plan(&mut tx, site_id, &languages, existing.as_ref(), item.input).await {
                Ok(p) => {
                    plans.push(p);
                    planned.push((item.index, item.handle, item.sku, status));
                }
                Err(e) if e.status.is_server_error() => return Err(e),
                Err(e) => {
                    results[item.index] = outcome(
                        item.handle.as_deref(),
                        item.sku.as_deref(),
                        "error",
                        Some(e.message),
                    )
                }
            }
        }
        for ((index, handle, sku, status), written) in planned
            .into_iter()
            .zip(apply(&mut tx, site_id, plans).await?)
        {
            results[index] = match written {
                Ok(id) => {
                    if let Some(h) = &handle {
                        by_handle.insert(h.clone(), id);
                    }
                    outcome(handle.as_deref(), sku.as_deref(), status, None)
                }
                Err(e) if e.status.is_server_error() => return Err(e),
                Err(e) => outcome(handle.as_deref(), sku.as_deref(), "error", Some(e.message)),
            };
        }
        pending = later;
    }
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(ok(json!({"products": results})))
}
