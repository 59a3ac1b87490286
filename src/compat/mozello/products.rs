//! Product routes: list, get, create, update, delete, and the three batch calls.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use serde_json::{Map, Value, json};

use super::errors::MzError;
use super::product_shape;
use super::shapes::{self, Languages};
use super::{authorize, languages, object, ok};
use crate::domain;
use crate::domain::catalog::products::{self, Product};
use crate::domain::integrations::mozello::catalog::{
    self, Comparison, PageQuery, TimeField, TimeFilter,
};
use crate::domain::integrations::mozello::stock::{self, SkuOutcome, SkuUpdate, Stock};
use crate::domain::integrations::mozello::{MAX_BATCH, notifications::ORIGIN};
use crate::domain::{events, media};
use crate::state::AppState;

/// A list's page request and the query to repeat on the next page, from `page_size`, `page_start=id:<n>`,
/// `desc=1` and repeated `filter=<field><op><value>`.
pub(super) fn page_query(
    query: Option<&str>,
) -> Result<(PageQuery, Vec<(String, String)>), MzError> {
    let mut page = PageQuery {
        size: 20,
        ..PageQuery::default()
    };
    let mut kept = Vec::new();
    for (name, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned() {
        match name.as_str() {
            "page_size" => {
                page.size = value
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| {
                        MzError::bad_request("`page_size` must be a positive whole number")
                    })?
                    .min(catalog::MAX_PAGE);
            }
            "page_start" => {
                page.start = Some(
                    value
                        .trim()
                        .strip_prefix("id:")
                        .and_then(|n| n.parse().ok())
                        .ok_or_else(|| {
                            MzError::bad_request("`page_start` must be `id:<number>`")
                        })?,
                );
                continue;
            }
            "desc" => page.descending = matches!(value.trim(), "1" | "true"),
            "filter" => page.filters.push(filter(&value)?),
            _ => {}
        }
        kept.push((name, value));
    }
    Ok((page, kept))
}

fn filter(text: &str) -> Result<TimeFilter, MzError> {
    let bad = || MzError::bad_request(format!("Invalid filter `{text}`"));
    let (field, rest) = if let Some(rest) = text.strip_prefix("created_at") {
        (TimeField::Created, rest)
    } else if let Some(rest) = text.strip_prefix("modified_at") {
        (TimeField::Modified, rest)
    } else {
        return Err(bad());
    };
    let ops = [
        (">=", Comparison::Ge),
        ("<=", Comparison::Le),
        ("<>", Comparison::Ne),
        (">", Comparison::Gt),
        ("<", Comparison::Lt),
        ("=", Comparison::Eq),
    ];
    let (comparison, value) = ops
        .iter()
        .find_map(|(op, c)| rest.strip_prefix(op).map(|v| (*c, v)))
        .ok_or_else(bad)?;
    Ok(TimeFilter {
        field,
        comparison,
        value: shapes::time_in(value).ok_or_else(bad)?,
    })
}

/// `next_page_uri`, relative to `/v1`: the same query with `page_start` moved on.
pub(super) fn next_uri(path: &str, kept: &[(String, String)], next: Option<i64>) -> Value {
    let Some(next) = next else {
        return Value::Null;
    };
    let mut query = form_urlencoded::Serializer::new(String::new());
    if !kept.iter().any(|(k, _)| k == "page_size") {
        query.append_pair("page_size", "20");
    }
    for (k, v) in kept {
        query.append_pair(k, v);
    }
    query.append_pair("page_start", &format!("id:{next}"));
    Value::String(format!("{path}?{}", query.finish()))
}

/// Products as Mozello shows them (their category paths read in one query).
async fn render(
    conn: &mut domain::Conn,
    site_id: &str,
    languages: &Languages,
    products: &[Product],
) -> Result<Vec<Value>, MzError> {
    let ids: Vec<String> = products
        .iter()
        .filter_map(|p| p.category_ids.first().cloned())
        .collect();
    let paths = catalog::category_paths(conn, site_id, &ids).await?;
    let product_ids: Vec<String> = products.iter().map(|p| p.id.clone()).collect();
    let mut pictures = media::images_of(conn, site_id, &product_ids).await?;
    Ok(products
        .iter()
        .map(|p| {
            let pictures = pictures
                .remove(&p.id)
                .unwrap_or_default()
                .iter()
                .map(product_shape::picture_out)
                .collect();
            product_shape::product_out(p, languages, &paths, pictures)
        })
        .collect())
}

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, MzError> {
    let key = authorize(&state, &headers).await?;
    let (page, kept) = page_query(query.as_deref())?;
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let languages = languages(&mut conn, &key.site_id).await?;
    let (found, next) = catalog::product_page(&mut conn, &key.site_id, &page).await?;
    let products = render(&mut conn, &key.site_id, &languages, &found).await?;
    Ok(ok(json!({
        "products": products,
        "next_page_uri": next_uri("/store/products/", &kept, next),
    })))
}

pub(super) async fn find(
    conn: &mut domain::Conn,
    site_id: &str,
    handle: &str,
) -> Result<String, MzError> {
    catalog::product_by_handle(conn, site_id, handle)
        .await?
        .ok_or_else(|| MzError::not_found("Product"))
}

pub(super) async fn one(
    conn: &mut domain::Conn,
    site_id: &str,
    languages: &Languages,
    id: &str,
) -> Result<Value, MzError> {
    let found = products::load_many(conn, site_id, &[id.to_string()]).await?;
    let mut out = render(conn, site_id, languages, &found).await?;
    let product = out.pop().ok_or_else(|| MzError::not_found("Product"))?;
    // A single product is a flat object: `"error": false` beside its fields.
    Ok(ok(product).0)
}

pub async fn get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(handle): Path<String>,
) -> Result<Json<Value>, MzError> {
    let key = authorize(&state, &headers).await?;
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let languages = languages(&mut conn, &key.site_id).await?;
    let id = find(&mut conn, &key.site_id, &handle).await?;
    Ok(Json(one(&mut conn, &key.site_id, &languages, &id).await?))
}

/// A transaction for changes made through this API: their events are marked with Mozello's origin, so
/// its notifications leave them out.
pub(super) async fn import_tx(state: &AppState) -> Result<domain::Tx, MzError> {
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    events::set_origin(&mut tx, ORIGIN).await?;
    Ok(tx)
}

/// The `product` object of a body.
pub(super) fn product_body(body: &Bytes) -> Result<Map<String, Value>, MzError> {
    match object(body)?.remove("product") {
        Some(Value::Object(product)) => Ok(product),
        _ => Err(MzError::bad_request(
            "The body must hold a `product` object",
        )),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(handle): Path<String>,
) -> Result<Json<Value>, MzError> {
    let key = authorize(&state, &headers).await?;
    let mut tx = import_tx(&state).await?;
    let id = find(&mut tx, &key.site_id, &handle).await?;
    products::delete(&mut tx, &key.site_id, &id).await?;
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(ok(json!({})))
}

/// The `products` array of a batch body, at most [`MAX_BATCH`] objects.
pub(super) fn batch_items(body: &Bytes) -> Result<Vec<Value>, MzError> {
    let items = match object(body)?.remove("products") {
        Some(Value::Array(items)) => items,
        _ => {
            return Err(MzError::bad_request(
                "The body must hold a `products` array",
            ));
        }
    };
    if items.len() > MAX_BATCH {
        return Err(MzError::bad_request(format!(
            "Too many items: at most {MAX_BATCH} per call"
        )));
    }
    Ok(items)
}

/// One batch item's outcome.
pub(super) fn outcome(
    handle: Option<&str>,
    sku: Option<&str>,
    status: &str,
    message: Option<String>,
) -> Value {
    let mut out = Map::new();
    if let Some(h) = handle {
        out.insert("handle".into(), json!(h));
    }
    if let Some(s) = sku {
        out.insert("sku".into(), json!(s));
    }
    out.insert("result".into(), json!(status));
    if let Some(m) = message {
        out.insert("error_message".into(), json!(m));
    }
    Value::Object(out)
}

pub async fn batch_update_by_sku(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, MzError> {
    let (key, items) = (authorize(&state, &headers).await?, batch_items(&body)?);
    let mut tx = import_tx(&state).await?;
    // Items that do not parse are reported; the rest go to the domain together.
    let parsed: Vec<Result<SkuUpdate, (Option<String>, String)>> = items
        .iter()
        .map(|item| {
            sku_item(item).map_err(|e| {
                let sku = item.get("sku").and_then(Value::as_str).map(str::to_string);
                (sku, e.message)
            })
        })
        .collect();
    let updates: Vec<SkuUpdate> = parsed
        .iter()
        .filter_map(|p| p.as_ref().ok().cloned())
        .collect();
    let mut applied = stock::update_by_sku(&mut tx, &key.site_id, &updates)
        .await?
        .into_iter();
    let mut results = Vec::with_capacity(items.len());
    for p in &parsed {
        results.push(match p {
            Err((sku, message)) => outcome(None, sku.as_deref(), "error", Some(message.clone())),
            Ok(update) => {
                let sku = Some(update.sku.as_str());
                match applied.next() {
                    Some(SkuOutcome::Updated) => outcome(None, sku, "updated", None),
                    Some(SkuOutcome::Ignored(why)) => {
                        outcome(None, sku, "ignored", Some(why.into()))
                    }
                    Some(SkuOutcome::Refused(e)) => {
                        outcome(None, sku, "error", Some(MzError::from(e).message))
                    }
                    None => outcome(None, sku, "error", Some("Not applied".into())),
                }
            }
        });
    }
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(ok(json!({"products": results})))
}

fn sku_item(item: &Value) -> Result<SkuUpdate, MzError> {
    let Value::Object(item) = item else {
        return Err(MzError::bad_request("Each item must be an object"));
    };
    let sku = item
        .get("sku")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| MzError::bad_request("`sku` is mandatory"))?
        .to_string();
    let price = shapes::money_in("price", shapes::field(item, "price"))?;
    let sale_price = match (item.get("special_price"), item.get("sale_price")) {
        (Some(v), _) => Some(shapes::money_in("special_price", v)?),
        (None, Some(v)) => Some(shapes::money_in("sale_price", v)?),
        _ => None,
    };
    let stock = match item.get("stock") {
        None => None,
        Some(v) => Some(match shapes::stock_in("stock", v)? {
            Some(n) => Stock::Count(n),
            None => Stock::Untracked,
        }),
    };
    if price.is_none() && sale_price.is_none() && stock.is_none() {
        return Err(MzError::bad_request(
            "One of `price`, `special_price` or `stock` is required",
        ));
    }
    Ok(SkuUpdate {
        sku,
        price,
        sale_price,
        stock,
    })
}

pub async fn batch_delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, MzError> {
    let (key, items) = (authorize(&state, &headers).await?, batch_items(&body)?);
    let mut tx = import_tx(&state).await?;
    let site_id = key.site_id.as_str();
    let mut results = Vec::with_capacity(items.len());
    for item in &items {
        let handle = item
            .get("handle")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let sku = item
            .get("sku")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let ids: Vec<String> = match (handle, sku) {
            (Some(handle), _) => catalog::product_by_handle(&mut tx, site_id, handle)
                .await?
                .into_iter()
                .collect(),
            (None, Some(sku)) => {
                let mut ids: Vec<String> = catalog::by_sku(&mut tx, site_id, sku)
                    .await?
                    .into_iter()
                    .map(|m| m.product_id)
                    .collect();
                ids.dedup();
                ids
            }
            (None, None) => {
                results.push(outcome(
                    None,
                    None,
                    "error",
                    Some("Product handle or SKU is mandatory".into()),
                ));
                continue;
            }
        };
        if ids.is_empty() {
            results.push(outcome(
                handle,
                sku,
                "ignored",
                Some("Product not found".into()),
            ));
            continue;
        }
        for id in ids {
            products::delete(&mut tx, site_id, &id).await?;
        }
        results.push(outcome(handle, sku, "deleted", None));
    }
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(ok(json!({"products": results})))
}
