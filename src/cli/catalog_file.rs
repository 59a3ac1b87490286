//! Catalog files: products as JSON lines (each line the native create body, `POST /v1/products`) or as CSV
//! (one row per variant; the rows of a product share its handle and follow each other; prices in major
//! units; several categories or images separated by `|`). Read into domain inputs with the line each
//! product starts on; written from them. The columns:
//!
//! `handle, name, slug, description, status, price, compare_at_price, brand, categories, featured, vendor,
//! model, images, translations` (a JSON object by locale) for the product, read from its first row;
//! `sku, variant_name, variant_price, variant_compare_at_price, option1_name, option1_value, …, stock,
//! low_stock_threshold` for each variant. `name` and `price` are required; a column the header lacks
//! leaves that field of an existing product as it is.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{BufRead, Write};

use serde_json::{Map, Value};

use crate::domain::catalog::products::{NewProduct, ProductStatus, Translation, UpsertItem};
use crate::domain::catalog::variants::NewVariant;
use crate::domain::money;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    /// The format a file's name says (`.csv`, `.jsonl` or `.ndjson`).
    pub fn of_path(path: &std::path::Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            _ => None,
        }
    }
}

/// A product as read: the line it starts on, and the product or why it could not be read.
pub struct ReadProduct {
    pub line: u64,
    pub item: Result<UpsertItem, String>,
}

/// The product fields by their names in JSON lines and in the domain (which an update keeps when absent).
const JSON_FIELDS: [(&str, &str); 12] = [
    ("handle", "handle"),
    ("description", "description"),
    ("status", "status"),
    ("compareAtPrice", "compare_at_price"),
    ("brandId", "brand_id"),
    ("categoryIds", "category_ids"),
    ("featured", "featured"),
    ("vendor", "vendor"),
    ("model", "model"),
    ("images", "images"),
    ("translations", "translations"),
    ("variants", "variants"),
];

/// The same fields by their CSV columns (`variants` stands for the variant columns as a whole).
const CSV_FIELDS: [(&str, &str); 11] = [
    ("handle", "handle"),
    ("description", "description"),
    ("status", "status"),
    ("compare_at_price", "compare_at_price"),
    ("brand", "brand_id"),
    ("categories", "category_ids"),
    ("featured", "featured"),
    ("vendor", "vendor"),
    ("model", "model"),
    ("images", "images"),
    ("translations", "translations"),
];

const VARIANT_COLUMNS: [&str; 6] = [
    "sku",
    "variant_name",
    "variant_price",
    "variant_compare_at_price",
    "stock",
    "low_stock_threshold",
];

/// JSON lines, one product each; blank lines are skipped.
pub fn read_jsonl(input: impl BufRead) -> impl Iterator<Item = ReadProduct> {
    input.lines().enumerate().filter_map(|(i, line)| {
        let line_no = i as u64 + 1;
        let item = match line {
            Err(e) => Err(format!("cannot read the line: {e}")),
            Ok(text) if text.trim().is_empty() => return None,
            Ok(text) => json_product(&text),
        };
        Some(ReadProduct {
            line: line_no,
            item,
        })
    })
}

fn json_product(text: &str) -> Result<UpsertItem, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(object) = &value else {
        return Err("a line must be a JSON object (a product)".into());
    };
    let absent = JSON_FIELDS
        .iter()
        .filter(|(key, _)| !object.contains_key(*key))
        .map(|(_, field)| *field)
        .collect();
    let product =
        serde_path_to_error::deserialize::<_, NewProduct>(value).map_err(|e| {
            match e.path().to_string().as_str() {
                "." => e.inner().to_string(),
                path => format!("{path}: {}", e.inner()),
            }
        })?;
    Ok(UpsertItem { product, absent })
}

/// CSV with a header row; a product's rows are those that follow each other with the same handle (a row
/// without a handle is a product of its own).
pub fn read_csv(input: impl std::io::Read) -> Result<impl Iterator<Item = ReadProduct>, String> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let header = reader
        .headers()
        .map_err(|e| format!("cannot read the header: {e}"))?
        .clone();
    let columns: HashMap<String, usize> = header
        .iter()
        .enumerate()
        .map(|(i, name)| (name.trim().to_ascii_lowercase(), i))
        .collect();
    for required in ["name", "price"] {
        if !columns.contains_key(required) {
            return Err(format!("the header has no `{required}` column"));
        }
    }
    let mut groups = CsvGroups {
        records: reader.into_records(),
        columns,
        pending: None,
        ready: VecDeque::new(),
    };
    Ok(std::iter::from_fn(move || groups.next_product()))
}

type Row = (u64, csv::StringRecord);

struct CsvGroups<R: std::io::Read> {
    records: csv::StringRecordsIntoIter<R>,
    columns: HashMap<String, usize>,
    /// A row read past the end of the previous product.
    pending: Option<Row>,
    /// Products (and unreadable rows) read ahead, in file order.
    ready: VecDeque<ReadProduct>,
}

impl<R: std::io::Read> CsvGroups<R> {
    fn next_row(&mut self) -> Option<Result<Row, ReadProduct>> {
        if let Some(row) = self.pending.take() {
            return Some(Ok(row));
        }
        Some(match self.records.next()? {
            Ok(r) => Ok((r.position().map_or(0, |p| p.line()), r)),
            Err(e) => Err(ReadProduct {
                line: e.position().map_or(0, |p| p.line()),
                item: Err(format!("not CSV: {e}")),
            }),
        })
    }

    fn next_product(&mut self) -> Option<ReadProduct> {
        if let Some(ready) = self.ready.pop_front() {
            return Some(ready);
        }
        let (line, first) = match self.next_row()? {
            Ok(row) => row,
            Err(unreadable) => return Some(unreadable),
        };
        let handle = self.cell(&first, "handle").to_string();
        let mut rows = vec![first];
        while !handle.is_empty() {
            match self.next_row() {
                Some(Ok((_, r))) if self.cell(&r, "handle") == handle => rows.push(r),
                Some(Ok(row)) => {
                    self.pending = Some(row);
                    break;
                }
                // An unreadable row ends the product and is reported after it.
                Some(Err(unreadable)) => {
                    self.ready.push_back(unreadable);
                    break;
                }
                None => break,
            }
        }
        Some(ReadProduct {
            line,
            item: self.product(&rows),
        })
    }

    fn cell<'a>(&self, row: &'a csv::StringRecord, column: &str) -> &'a str {
        self.columns
            .get(column)
            .and_then(|&i| row.get(i))
            .map(str::trim)
            .unwrap_or("")
    }

    fn optional(&self, row: &csv::StringRecord, column: &str) -> Option<String> {
        Some(self.cell(row, column))
            .filter(|c| !c.is_empty())
            .map(str::to_string)
    }

    fn product(&self, rows: &[csv::StringRecord]) -> Result<UpsertItem, String> {
        let first = &rows[0];
        let cell = |column| self.cell(first, column);
        let optional = |column| self.optional(first, column);
        let list = |column| {
            cell(column)
                .split('|')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let translations = match cell("translations") {
            "" => Default::default(),
            text => serde_json::from_str::<BTreeMap<String, Translation>>(text)
                .map_err(|e| format!("translations: not a JSON object of translations: {e}"))?,
        };
        let status = match cell("status").to_ascii_uppercase().as_str() {
            "" => None,
            "ACTIVE" => Some(ProductStatus::Active),
            "DRAFT" => Some(ProductStatus::Draft),
            "ARCHIVED" => Some(ProductStatus::Archived),
            other => {
                return Err(format!(
                    "status: `{other}` is not ACTIVE, DRAFT or ARCHIVED"
                ));
            }
        };
        let featured = match cell("featured").to_ascii_lowercase().as_str() {
            "" | "false" | "no" | "0" => false,
            "true" | "yes" | "1" => true,
            other => return Err(format!("featured: `{other}` is not true or false")),
        };
        let has_variants = VARIANT_COLUMNS
            .iter()
            .any(|c| self.columns.contains_key(*c))
            || self.columns.contains_key("option1_name");
        let variants = if has_variants {
            let variants = rows
                .iter()
                .map(|row| self.variant(row))
                .collect::<Result<Vec<_>, _>>()?;
            Some(variants)
        } else {
            None
        };
        let mut absent: Vec<&'static str> = CSV_FIELDS
            .iter()
            .filter(|(column, _)| !self.columns.contains_key(*column))
            .map(|(_, field)| *field)
            .collect();
        if !has_variants {
            absent.push("variants");
        }
        let product = NewProduct {
            name: cell("name").to_string(),
            slug: optional("slug"),
            handle: optional("handle"),
            description: optional("description"),
            status,
            price: amount(cell("price"), "price")?.ok_or("price: required")?,
            compare_at_price: amount(cell("compare_at_price"), "compare_at_price")?,
            brand_id: optional("brand"),
            category_ids: list("categories"),
            featured,
            vendor: optional("vendor"),
            model: optional("model"),
            images: list("images"),
            translations,
            variants,
        };
        Ok(UpsertItem { product, absent })
    }

    fn variant(&self, row: &csv::StringRecord) -> Result<NewVariant, String> {
        let cell = |column: &str| -> &str { self.cell(row, column) };
        let number = |column: &str| -> Result<Option<i32>, String> {
            match self.cell(row, column) {
                "" => Ok(None),
                text => text
                    .parse()
                    .map(Some)
                    .map_err(|_| format!("{column}: `{text}` is not a whole number")),
            }
        };
        let mut options = Map::new();
        for n in 1.. {
            let name_column = format!("option{n}_name");
            if !self.columns.contains_key(&name_column) {
                break;
            }
            let name = cell(&name_column);
            let value = cell(&format!("option{n}_value"));
            if !name.is_empty() || !value.is_empty() {
                options.insert(name.to_string(), Value::String(value.to_string()));
            }
        }
        Ok(NewVariant {
            name: self.optional(row, "variant_name"),
            sku: self.optional(row, "sku"),
            price: amount(cell("variant_price"), "variant_price")?,
            compare_at_price: amount(cell("variant_compare_at_price"), "variant_compare_at_price")?,
            inventory_count: number("stock")?,
            low_stock_threshold: number("low_stock_threshold")?,
            options: (!options.is_empty()).then_some(options),
            ..NewVariant::default()
        })
    }
}

/// A decimal amount in major units (`12.50`) as minor units; empty is none.
fn amount(text: &str, column: &str) -> Result<Option<i64>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    money::parse_decimal(text)
        .map(Some)
        .ok_or_else(|| format!("{column}: `{text}` is not an amount in major units (like 12.50)"))
}

/// Writes products as JSON lines.
pub fn write_jsonl(out: &mut impl Write, products: &[NewProduct]) -> std::io::Result<()> {
    for p in products {
        serde_json::to_writer(&mut *out, p)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// The CSV header for products whose variants have at most `options` options.
pub fn csv_header(options: usize) -> Vec<String> {
    let mut header: Vec<String> = [
        "handle",
        "name",
        "slug",
        "description",
        "status",
        "price",
        "compare_at_price",
        "brand",
        "categories",
        "featured",
        "vendor",
        "model",
        "images",
        "translations",
        "sku",
        "variant_name",
        "variant_price",
        "variant_compare_at_price",
    ]
    .map(String::from)
    .to_vec();
    for n in 1..=options {
        header.push(format!("option{n}_name"));
        header.push(format!("option{n}_value"));
    }
    header.extend(["stock", "low_stock_threshold"].map(String::from));
    header
}

/// Writes products as CSV rows (one per variant, the product's fields on each) under [`csv_header`].
pub fn write_csv(
    out: &mut csv::Writer<impl Write>,
    products: &[NewProduct],
    options: usize,
) -> Result<(), csv::Error> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    for p in products {
        let translations = if p.translations.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&p.translations).unwrap_or_default()
        };
        let product = [
            text(&p.handle),
            p.name.clone(),
            text(&p.slug),
            text(&p.description),
            p.status.map(|s| s.as_str().to_string()).unwrap_or_default(),
            money::format_decimal(p.price),
            p.compare_at_price
                .map(money::format_decimal)
                .unwrap_or_default(),
            text(&p.brand_id),
            p.category_ids.join("|"),
            p.featured.to_string(),
            text(&p.vendor),
            text(&p.model),
            p.images.join("|"),
            translations,
        ];
        for v in p.variants.iter().flatten() {
            let mut row = product.to_vec();
            row.extend([
                text(&v.sku),
                text(&v.name),
                v.price.map(money::format_decimal).unwrap_or_default(),
                v.compare_at_price
                    .map(money::format_decimal)
                    .unwrap_or_default(),
            ]);
            let values: Vec<(&String, &Value)> = v.options.iter().flatten().collect();
            for n in 0..options {
                let (name, value) = values
                    .get(n)
                    .map(|(k, v)| (k.to_string(), v.as_str().unwrap_or_default().to_string()))
                    .unwrap_or_default();
                row.extend([name, value]);
            }
            row.extend([
                v.inventory_count.map(|c| c.to_string()).unwrap_or_default(),
                v.low_stock_threshold
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
            ]);
            out.write_record(&row)?;
        }
    }
    Ok(())
}
