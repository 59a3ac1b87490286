//! A Mozello product to and from the catalog's: `handle` ↔ the product's handle, `title`/`description`/`url`
//! ↔ name, description and slug in the site's languages, `price`/`sale_price` ↔ the compare-at price and the
//! price (on sale, the buyer pays `sale_price`), `visible` ↔ ACTIVE/DRAFT, `variants` with up to three
//! options, and `sku`/`stock` of a product without variants on its one variant.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::errors::MzError;
use super::shapes::{self, Languages, Text, field};
use crate::domain::catalog::Variant;
use crate::domain::catalog::products::Product;
use crate::domain::catalog::variants::NewVariant;
use crate::domain::integrations::mozello::catalog::{CategoryPath, PathLevel};
use crate::domain::integrations::mozello::stock::{Stock, regular_and_sale};

/// Where a product's category comes from.
#[derive(Debug, Clone)]
pub enum CategoryIn {
    Handle(String),
    Path(Vec<PathLevel>),
    /// `null`: no category.
    None,
}

/// A variant as sent, with its stock apart (a count or not tracked).
#[derive(Debug, Clone)]
pub struct VariantIn {
    pub variant: NewVariant,
    pub stock: Option<Stock>,
}

/// A product's fields as sent; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProductIn {
    pub handle: Option<String>,
    pub title: Option<Text>,
    pub description: Option<Text>,
    pub url: Option<Text>,
    pub price: Option<i64>,
    /// `Some(None)`: no sale price.
    pub sale_price: Option<Option<i64>>,
    pub sku: Option<Option<String>>,
    pub stock: Option<Stock>,
    pub visible: Option<bool>,
    pub featured: Option<bool>,
    pub vendor: Option<Option<String>>,
    pub model: Option<Option<String>>,
    pub category: Option<CategoryIn>,
    pub variants: Option<Vec<VariantIn>>,
}

fn string(name: &str, v: &Value) -> Result<Option<String>, MzError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        Value::Number(n) => Ok(Some(n.to_string())),
        _ => Err(MzError::bad_request(format!("`{name}` must be a string"))),
    }
}

/// `stock` when present: `null` is "not tracked".
fn stock(name: &str, object: &Map<String, Value>) -> Result<Option<Stock>, MzError> {
    if !object.contains_key(name) {
        return Ok(None);
    }
    Ok(Some(match shapes::stock_in(name, field(object, name))? {
        Some(n) => Stock::Count(n),
        None => Stock::Untracked,
    }))
}

/// A product object as sent to a create, an update or a batch.
pub fn product_in(
    object: &Map<String, Value>,
    languages: &Languages,
) -> Result<ProductIn, MzError> {
    let present = |name: &str| object.contains_key(name);
    if present("category") && present("category_handle") {
        return Err(MzError::bad_request(
            "Only category or category_handle can be specified, not both",
        ));
    }
    let category = if present("category_handle") {
        Some(
            match string("category_handle", field(object, "category_handle"))? {
                Some(handle) => CategoryIn::Handle(handle),
                None => CategoryIn::None,
            },
        )
    } else if present("category") {
        Some(category_path(field(object, "category"), languages)?)
    } else {
        None
    };
    let variants = match field(object, "variants") {
        Value::Null => None,
        Value::Array(items) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| variant_in(i, item, languages))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        _ => return Err(MzError::bad_request("`variants` must be an array or null")),
    };
    let optional_string = |name: &str| -> Result<Option<Option<String>>, MzError> {
        if present(name) {
            Ok(Some(shapes::plain(name, field(object, name), languages)?))
        } else {
            Ok(None)
        }
    };
    // `"options": {"text_update_mode": "overwrite"}` replaces a multilanguage field whole; the default,
    // `merge`, changes only the languages given.
    let overwrite = match field(object, "options").get("text_update_mode") {
        None | Some(Value::Null) => false,
        Some(Value::String(mode)) if mode == "merge" => false,
        Some(Value::String(mode)) if mode == "overwrite" => true,
        Some(_) => {
            return Err(MzError::bad_request(
                "`options.text_update_mode` must be overwrite or merge",
            ));
        }
    };
    let text = |name: &str| -> Result<Option<Text>, MzError> {
        let mut text = shapes::text(name, field(object, name), languages)?;
        if overwrite && let Some(t) = &mut text {
            t.overwrite(languages);
        }
        Ok(text)
    };
    Ok(ProductIn {
        handle: string("handle", field(object, "handle"))?,
        title: text("title")?,
        description: text("description")?,
        url: text("url")?,
        price: shapes::money_in("price", field(object, "price"))?,
        sale_price: if present("sale_price") {
            Some(shapes::money_in("sale_price", field(object, "sale_price"))?)
        } else if present("special_price") {
            Some(shapes::money_in(
                "special_price",
                field(object, "special_price"),
            )?)
        } else {
            None
        },
        sku: if present("sku") {
            Some(string("sku", field(object, "sku"))?)
        } else {
            None
        },
        stock: stock("stock", object)?,
        visible: shapes::bool_in("visible", field(object, "visible"))?,
        featured: shapes::bool_in("featured", field(object, "featured"))?,
        vendor: optional_string("vendor")?,
        model: optional_string("model")?,
        category,
        variants,
    })
}

fn category_path(v: &Value, languages: &Languages) -> Result<CategoryIn, MzError> {
    let path = match v {
        Value::Null => return Ok(CategoryIn::None),
        Value::Object(o) => field(o, "path"),
        _ => {
            return Err(MzError::bad_request(
                "`category` must be an object with `path`",
            ));
        }
    };
    let Value::Array(levels) = path else {
        return Err(MzError::bad_request("`category.path` must be an array"));
    };
    let mut names = Vec::with_capacity(levels.len());
    for level in levels {
        let text = shapes::text("category.path", level, languages)?.unwrap_or_default();
        let name = text.default_value(languages).flatten().ok_or_else(|| {
            MzError::bad_request("`category.path` needs a title in the website's default language")
        })?;
        let translations = text
            .others(languages)
            .map(|(l, v)| (l.to_string(), v.map(str::to_string)))
            .collect();
        names.push(PathLevel { name, translations });
    }
    Ok(CategoryIn::Path(names))
}

fn variant_in(i: usize, v: &Value, languages: &Languages) -> Result<VariantIn, MzError> {
    let Value::Object(object) = v else {
        return Err(MzError::bad_request(format!(
            "`variants[{i}]` must be an object"
        )));
    };
    let mut options = Map::new();
    for n in 1..=3 {
        let name = shapes::plain(
            "option_name",
            field(object, &format!("option_name{n}")),
            languages,
        )?;
        let value = shapes::plain(
            "option_value",
            field(object, &format!("option_value{n}")),
            languages,
        )?;
        if let (Some(name), Some(value)) = (name, value) {
            options.insert(name, Value::String(value));
        }
    }
    let price = shapes::money_in("price", field(object, "price"))?;
    let sale = match (object.get("sale_price"), object.get("special_price")) {
        (Some(v), _) => shapes::money_in("sale_price", v)?,
        (None, Some(v)) => shapes::money_in("special_price", v)?,
        _ => None,
    };
    let (price, compare_at_price) = match sale {
        Some(sale) => (Some(sale), price),
        None => (price, None),
    };
    let stock = stock("stock", object)?;
    Ok(VariantIn {
        variant: NewVariant {
            sku: string("sku", field(object, "sku"))?,
            price,
            compare_at_price,
            // Stock is written apart, through the ledger with source `mozello`.
            inventory_count: None,
            options: Some(options),
            ..NewVariant::default()
        },
        stock,
    })
}

/// A variant's stock as Mozello shows it: `null` when not tracked (it takes backorders).
fn stock_out(v: &Variant) -> Value {
    if v.backorders {
        Value::Null
    } else {
        json!(v.inventory_count)
    }
}

/// Regular and sale price as Mozello shows them, from a price and a compare-at price.
fn prices_out(price: Option<i64>, compare_at: Option<i64>) -> (Value, Value) {
    let Some(price) = price else {
        return (Value::Null, Value::Null);
    };
    let (regular, sale) = regular_and_sale(price, compare_at);
    (shapes::money_out(regular), shapes::money_out_opt(sale))
}

/// The product as Mozello shows it.
pub fn product_out(
    p: &Product,
    languages: &Languages,
    categories: &HashMap<String, CategoryPath>,
    pictures: Vec<Value>,
) -> Value {
    let variants = p.variants.as_deref().unwrap_or_default();
    let single = variants.len() <= 1 && variants.first().is_none_or(|v| v.options.is_empty());
    let (price, sale_price) = prices_out(Some(p.price), p.compare_at_price);
    let translated = |language: &str,
                      pick: fn(
        &crate::domain::catalog::products::Translation,
    ) -> Option<String>| { p.translations.get(language).and_then(pick) };
    let category = p.category_ids.first().and_then(|id| categories.get(id));
    let default = languages.default.as_str();
    json!({
        "handle": p.handle.clone().unwrap_or_else(|| p.id.clone()),
        "category": category.map(|c| json!({"path": category_path_out(c, languages)})),
        "category_handle": category.map(|c| c.handle.clone()),
        "title": shapes::text_out(languages, |l| if l == default { Some(p.name.clone()) } else { translated(l, |t| t.name.clone()) }),
        "description": shapes::text_out(languages, |l| if l == default { p.description.clone() } else { translated(l, |t| t.description.clone()) }),
        "url": shapes::text_out(languages, |l| if l == default { Some(p.slug.clone()) } else { translated(l, |t| t.slug.clone()) }),
        "variants": if single { Value::Null } else { Value::Array(variants.iter().enumerate().map(|(i, v)| variant_out(i, v)).collect()) },
        "price": price,
        "sale_price": sale_price,
        "sku": if single { variants.first().and_then(|v| v.sku.clone()).map(Value::String).unwrap_or(Value::Null) } else { Value::Null },
        "stock": if single { variants.first().map(stock_out).unwrap_or(Value::Null) } else { Value::Null },
        "visible": p.status == crate::domain::catalog::products::ProductStatus::Active,
        "featured": p.featured,
        "tax": Value::Null,
        "vendor": p.vendor,
        "model": p.model,
        "pictures": pictures,
    })
}

fn variant_out(i: usize, v: &Variant) -> Value {
    let mut out = Map::new();
    out.insert("variant_no".into(), json!(i + 1));
    let options: Vec<(&String, &Value)> = v.options.iter().collect();
    for n in 0..3 {
        let (name, value) = options
            .get(n)
            .map(|(k, v)| (Value::String((*k).clone()), (*v).clone()))
            .unwrap_or((Value::Null, Value::Null));
        out.insert(format!("option_name{}", n + 1), name);
        out.insert(format!("option_value{}", n + 1), value);
    }
    let (price, sale_price) = prices_out(v.price, v.compare_at_price);
    out.insert("price".into(), price);
    out.insert("sale_price".into(), sale_price);
    out.insert(
        "sku".into(),
        v.sku.clone().map(Value::String).unwrap_or(Value::Null),
    );
    out.insert("stock".into(), stock_out(v));
    Value::Object(out)
}

/// An uploaded picture: `{uid, url}`.
pub fn picture_out(image: &crate::domain::media::ProductImage) -> Value {
    json!({"uid": image.id, "url": image.url})
}

/// A category's path from the root: each level's title in every site language.
fn category_path_out(c: &CategoryPath, languages: &Languages) -> Vec<Value> {
    c.names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            shapes::text_out(languages, |l| {
                if l == languages.default {
                    Some(name.clone())
                } else {
                    c.translations
                        .get(i)
                        .and_then(|t| t.get(l))
                        .and_then(|t| t.name.clone())
                }
            })
        })
        .collect()
}
