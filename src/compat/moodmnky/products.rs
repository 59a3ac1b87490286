//! `/api/products` (anyone: the active catalog) and `/api/admin/products` (a key with `write:catalog`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::errors::MnError;
use super::fields::{object, strings, text};
use super::{Identity, Path, Query, data, page_request, pagination, shapes};
use crate::compat::money::major_units_in;
use crate::domain;
use crate::domain::catalog::categories;
use crate::domain::catalog::products::{
    self, Expand, NewProduct, ProductFilter, ProductPatch, ProductSort,
};
use crate::domain::catalog::variants::NewVariant;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    page: Option<i64>,
    #[serde(default, deserialize_with = "crate::http::extract::number")]
    limit: Option<i64>,
    category: Option<String>,
    search: Option<String>,
    sort: Option<String>,
    order: Option<String>,
}

fn sort(sort: Option<&str>, order: Option<&str>) -> Result<ProductSort, MnError> {
    let descending = match order {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err(MnError::invalid("order", "must be asc or desc")),
    };
    Ok(match (sort, descending) {
        (None, false) | (Some("created_at"), false) => ProductSort::Id,
        (None, true) | (Some("created_at"), true) => ProductSort::Newest,
        (Some("price"), false) => ProductSort::PriceAsc,
        (Some("price"), true) => ProductSort::PriceDesc,
        (Some("name"), false) => ProductSort::NameAsc,
        (Some("name"), true) => ProductSort::NameDesc,
        (Some(_), _) => {
            return Err(MnError::invalid(
                "sort",
                "must be price, name or created_at",
            ));
        }
    })
}

pub async fn list(
    identity: Identity,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, MnError> {
    let page = page_request(q.page, q.limit, 20, 100)?;
    let search = q.search.filter(|s| !s.trim().is_empty());
    if search.as_ref().is_some_and(|s| s.chars().count() > 200) {
        return Err(MnError::invalid("search", "must be at most 200 characters"));
    }
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let site_id = &identity.site_id;
    let category_id = match q.category.filter(|c| !c.trim().is_empty()) {
        Some(c) => match categories::get(&mut conn, site_id, c.trim()).await {
            Ok(category) => Some(category.id),
            // No such category: nothing is in it.
            Err(domain::Error::NotFound(_)) => {
                let empty = domain::pagination::PageInfo::Offset {
                    page: page.offset() / page.limit() + 1,
                    limit: page.limit(),
                    total: domain::pagination::Total {
                        count: 0,
                        is_estimate: false,
                    },
                };
                return Ok(Json(
                    json!({"products": [], "pagination": pagination(&empty)}),
                ));
            }
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let filter = ProductFilter {
        search,
        category_id,
        sort: sort(q.sort.as_deref(), q.order.as_deref())?,
        ..Default::default()
    };
    let expand = Expand {
        variants: true,
        ..Default::default()
    };
    let caller = identity.caller();
    let found = products::list(&mut conn, &caller, &filter, &page, expand).await?;
    let currency = domain::sites::get(&mut conn, site_id).await?.currency;
    let items: Vec<Value> = found
        .items
        .iter()
        .map(|p| shapes::product(p, &currency))
        .collect();
    Ok(Json(
        json!({"products": items, "pagination": pagination(&found.info)}),
    ))
}

pub async fn get(
    identity: Identity,
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, MnError> {
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    let expand = Expand {
        variants: true,
        ..Default::default()
    };
    let product = products::get(&mut conn, &identity.caller(), &id, expand).await?;
    let currency = domain::sites::get(&mut conn, &identity.site_id)
        .await?
        .currency;
    Ok(data(shapes::product(&product, &currency)))
}

fn amount(map: &Map<String, Value>, field: &str) -> Result<Option<Option<i64>>, MnError> {
    map.get(field)
        .map(|v| {
            major_units_in(v).ok_or_else(|| {
                MnError::invalid(
                    field,
                    "must be a non-negative amount with at most 2 decimals",
                )
            })
        })
        .transpose()
}

fn status(map: &Map<String, Value>) -> Result<Option<products::ProductStatus>, MnError> {
    text(map, "status")?
        .flatten()
        .map(|s| {
            shapes::parse_product_status(&s)
                .ok_or_else(|| MnError::invalid("status", "must be active, draft or archived"))
        })
        .transpose()
}

fn inventory(v: Option<&Value>, field: &str) -> Result<Option<i32>, MnError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| MnError::invalid(field, "must be a non-negative integer")),
    }
}

fn categories_of(map: &Map<String, Value>) -> Result<Option<Vec<String>>, MnError> {
    match strings(map, "categoryIds")? {
        Some(ids) => Ok(Some(ids)),
        None => strings(map, "categories"),
    }
}

fn variants(map: &Map<String, Value>) -> Result<Option<Vec<NewVariant>>, MnError> {
    let Some(list) = map.get("variants").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let Value::Array(list) = list else {
        return Err(MnError::invalid("variants", "must be an array"));
    };
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            let at = |f: &str| format!("variants[{i}].{f}");
            let Value::Object(v) = v else {
                return Err(MnError::invalid(
                    &format!("variants[{i}]"),
                    "must be an object",
                ));
            };
            let field_text = |f: &str| match v.get(f) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(MnError::invalid(&at(f), "must be a string")),
            };
            let price = match v.get("price") {
                None => None,
                Some(p) => major_units_in(p).ok_or_else(|| {
                    MnError::invalid(
                        &at("price"),
                        "must be a non-negative amount with at most 2 decimals",
                    )
                })?,
            };
            let options = match v.get("options") {
                None | Some(Value::Null) => None,
                Some(Value::Object(o)) => Some(o.clone()),
                Some(_) => return Err(MnError::invalid(&at("options"), "must be an object")),
            };
            Ok(NewVariant {
                name: field_text("name")?,
                sku: field_text("sku")?,
                price,
                compare_at_price: None,
                inventory_count: inventory(v.get("inventory"), &at("inventory"))?,
                inventory_status: None,
                options,
                is_default: None,
                low_stock_threshold: None,
                position: None,
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// A product from MOOD MNKY's fields: without `variants`, one default variant carrying `sku` and
/// `inventory`.
fn new_product(map: &Map<String, Value>) -> Result<NewProduct, MnError> {
    let name = text(map, "name")?
        .flatten()
        .ok_or_else(|| MnError::invalid("name", "is required"))?;
    let price = amount(map, "price")?
        .flatten()
        .ok_or_else(|| MnError::invalid("price", "is required"))?;
    let variants = match variants(map)? {
        Some(v) => Some(v),
        None => {
            let sku = text(map, "sku")?.flatten();
            let count = inventory(map.get("inventory"), "inventory")?;
            (sku.is_some() || count.is_some()).then(|| {
                vec![NewVariant {
                    name: None,
                    sku,
                    price: None,
                    compare_at_price: None,
                    inventory_count: count,
                    inventory_status: None,
                    options: None,
                    is_default: Some(true),
                    low_stock_threshold: None,
                    position: None,
                }]
            })
        }
    };
    Ok(NewProduct {
        name,
        slug: text(map, "slug")?.flatten(),
        handle: None,
        description: text(map, "description")?.flatten(),
        status: status(map)?,
        price,
        compare_at_price: amount(map, "compareAtPrice")?.flatten(),
        brand_id: None,
        category_ids: categories_of(map)?.unwrap_or_default(),
        featured: map
            .get("featured")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        vendor: text(map, "vendor")?.flatten(),
        model: None,
        images: strings(map, "images")?.unwrap_or_default(),
        translations: Default::default(),
        variants,
    })
}

pub async fn create(
    identity: Identity,
    State(state): State<AppState>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Value>), MnError> {
    identity.admin("write:catalog")?;
    let input = new_product(&object(&bytes)?)?;
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    let product = products::create(&mut tx, &identity.site_id, input).await?;
    let currency = domain::sites::get(&mut tx, &identity.site_id)
        .await?
        .currency;
    tx.commit().await.map_err(domain::Error::from)?;
    Ok((
        StatusCode::CREATED,
        data(shapes::product(&product, &currency)),
    ))
}

pub async fn update(
    identity: Identity,
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<Value>, MnError> {
    identity.admin("write:catalog")?;
    let map = object(&bytes)?;
    let patch = ProductPatch {
        name: text(&map, "name")?.flatten(),
        slug: text(&map, "slug")?.flatten(),
        description: text(&map, "description")?,
        status: status(&map)?,
        price: amount(&map, "price")?.flatten(),
        compare_at_price: amount(&map, "compareAtPrice")?,
        category_ids: categories_of(&map)?,
        featured: map.get("featured").and_then(Value::as_bool),
        vendor: text(&map, "vendor")?,
        images: strings(&map, "images")?,
        ..Default::default()
    };
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    products::update(&mut tx, &identity.site_id, &id, patch).await?;
    let expand = Expand {
        variants: true,
        ..Default::default()
    };
    let product = products::get(&mut tx, &identity.caller(), &id, expand).await?;
    let currency = domain::sites::get(&mut tx, &identity.site_id)
        .await?
        .currency;
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(data(shapes::product(&product, &currency)))
}

pub async fn delete(
    identity: Identity,
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Json<Value>, MnError> {
    identity.admin("write:catalog")?;
    let mut tx = state.pool.begin().await.map_err(domain::Error::from)?;
    products::delete(&mut tx, &identity.site_id, &id).await?;
    tx.commit().await.map_err(domain::Error::from)?;
    Ok(Json(
        json!({"success": true, "message": "Product successfully deleted", "id": id}),
    ))
}
