//! Mulopim's item fields, read as leniently as the plugin (PHP) reads them: ids and stock as numbers or
//! numeric strings, prices as decimal strings, `disabled` as any truthy value.

use serde::Serialize;
use serde_json::Value;

use crate::domain::integrations::mulopim::{
    self, Applied, ExportRow, Item, ItemError, Location, ProductRow,
};
use crate::domain::inventory::stock::{MAX_QUANTITY, StockPolicy};
use crate::domain::money;

/// A positive integer from a number or a numeric string (anything else names nothing).
fn id(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n| *n > 0)
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

/// `stock`: a whole number from 0, as a number or a numeric string.
fn stock(v: &Value) -> Result<Option<i32>, ItemError> {
    let n = match v {
        Value::Null => return Ok(None),
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match n {
        Some(n) if (0..=i64::from(MAX_QUANTITY)).contains(&n) => Ok(Some(n as i32)),
        _ => Err(ItemError("Invalid stock value.".into())),
    }
}

/// A price: a decimal string or number in major units (`""` clears it).
fn price(v: &Value, field: &str) -> Result<Option<Option<i64>>, ItemError> {
    let parsed = match v {
        Value::Null => return Ok(None),
        Value::String(s) if s.trim().is_empty() => return Ok(Some(None)),
        Value::String(s) => money::parse_decimal(s),
        Value::Number(n) => money::parse_decimal(&n.to_string()),
        _ => None,
    };
    parsed
        .map(|p| Some(Some(p)))
        .ok_or_else(|| ItemError(format!("Invalid {field} value.")))
}

fn truthy(v: &Value) -> Option<bool> {
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(*b),
        Value::Number(n) => Some(n.as_f64() != Some(0.0)),
        Value::String(s) => Some(!matches!(s.trim(), "" | "0" | "false" | "no")),
        _ => Some(true),
    }
}

/// An item of a request body, or why it cannot be one.
pub fn item(v: &Value) -> Result<Item, ItemError> {
    if !v.is_object() {
        return Err(ItemError("Product ID or SKU is required.".into()));
    }
    let backorder = match &v["backorders"] {
        Value::Null => None,
        Value::String(s) => Some(
            mulopim::backorder(s.trim())
                .ok_or_else(|| ItemError("Invalid backorders value.".into()))?,
        ),
        _ => return Err(ItemError("Invalid backorders value.".into())),
    };
    Ok(Item {
        product_id: id(&v["product_id"]),
        sku: text(&v["sku"]),
        location_id: id(&v["location_id"]),
        location_slug: text(&v["location_slug"]),
        stock: stock(&v["stock"])?,
        policy: StockPolicy {
            backorder,
            disabled: truthy(&v["disabled"]),
            regular_price: price(&v["regular_price"], "regular_price")?,
            sale_price: price(&v["sale_price"], "sale_price")?,
        },
    })
}

#[derive(Debug, Serialize)]
pub struct AppliedOut {
    pub product_id: i64,
    pub location_id: i64,
    pub sku: String,
}

impl From<Applied> for AppliedOut {
    fn from(a: Applied) -> Self {
        AppliedOut {
            product_id: a.product_id,
            location_id: a.location_id,
            sku: a.sku.unwrap_or_default(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct LocationOut {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
}

impl From<Location> for LocationOut {
    fn from(l: Location) -> Self {
        LocationOut {
            id: l.id,
            slug: l.slug,
            name: l.name,
            description: l.description.unwrap_or_default(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ProductOut {
    pub id: i64,
    pub sku: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

impl From<ProductRow> for ProductOut {
    fn from(p: ProductRow) -> Self {
        ProductOut {
            id: p.id,
            sku: p.sku,
            name: p.name,
            kind: p.kind,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ExportRowOut {
    pub product_id: i64,
    pub sku: String,
    pub product_name: String,
    pub location_id: i64,
    pub location_slug: String,
    pub location_name: String,
    pub stock: String,
    pub regular_price: String,
    pub sale_price: String,
    pub backorders: String,
    pub disabled: bool,
}

impl From<ExportRow> for ExportRowOut {
    fn from(r: ExportRow) -> Self {
        ExportRowOut {
            product_id: r.product_id,
            sku: r.sku,
            product_name: r.product_name,
            location_id: r.location_id,
            location_slug: r.location_slug,
            location_name: r.location_name,
            stock: r.stock,
            regular_price: r.regular_price,
            sale_price: r.sale_price,
            backorders: r.backorders,
            disabled: r.disabled,
        }
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// The export as CSV: a UTF-8 byte order mark, a header row, `disabled` as yes/no.
pub fn csv(rows: &[ExportRowOut]) -> String {
    let mut out = String::from(
        "\u{FEFF}product_id,sku,product_name,location_id,location_slug,location_name,stock,regular_price,sale_price,backorders,disabled\n",
    );
    for r in rows {
        let line = [
            r.product_id.to_string(),
            field(&r.sku),
            field(&r.product_name),
            r.location_id.to_string(),
            field(&r.location_slug),
            field(&r.location_name),
            field(&r.stock),
            field(&r.regular_price),
            field(&r.sale_price),
            field(&r.backorders),
            if r.disabled { "yes" } else { "no" }.to_string(),
        ]
        .join(",");
        out.push_str(&line);
        out.push('\n');
    }
    out
}
