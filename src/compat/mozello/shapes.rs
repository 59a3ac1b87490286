//! Mozello's field shapes: multilanguage text (an object keyed by language, or a plain string for the
//! site's default language), money as decimal numbers in major units, and `YYYY-MM-DD HH:MM:SS` times.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};

use super::errors::MzError;
use crate::compat::money;

/// The site's languages, the default first.
#[derive(Debug, Clone)]
pub struct Languages {
    pub default: String,
    pub all: Vec<String>,
}

impl Languages {
    pub fn new(default: String, locales: Vec<String>) -> Self {
        let mut all = vec![default.clone()];
        all.extend(locales.into_iter().filter(|l| *l != default));
        Languages { default, all }
    }

    /// The site's spelling of a language code a client sent.
    fn known(&self, code: &str) -> Option<&str> {
        self.all
            .iter()
            .find(|l| l.eq_ignore_ascii_case(code))
            .map(String::as_str)
    }
}

/// Multilanguage text as sent: each language's value (`None` clears it), the default language first.
#[derive(Debug, Clone, Default)]
pub struct Text {
    pub values: Vec<(String, Option<String>)>,
}

impl Text {
    /// The default language's value, when the text sets it.
    pub fn default_value(&self, languages: &Languages) -> Option<Option<String>> {
        self.values
            .iter()
            .find(|(l, _)| *l == languages.default)
            .map(|(_, v)| v.clone())
    }

    /// For `text_update_mode: overwrite`: the other languages the text leaves out are cleared (the default
    /// language's text stays unless given).
    pub fn overwrite(&mut self, languages: &Languages) {
        for language in languages.all.iter().skip(1) {
            if !self.values.iter().any(|(l, _)| l == language) {
                self.values.push((language.clone(), None));
            }
        }
    }

    /// The other languages' values.
    pub fn others<'a>(
        &'a self,
        languages: &'a Languages,
    ) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + 'a {
        self.values
            .iter()
            .filter(move |(l, _)| *l != languages.default)
            .map(|(l, v)| (l.as_str(), v.as_deref()))
    }
}

/// Reads a multilanguage field: a string (the default language) or an object of languages the site has.
pub fn text(field: &str, v: &Value, languages: &Languages) -> Result<Option<Text>, MzError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(Text {
            values: vec![(languages.default.clone(), Some(s.clone()))],
        })),
        Value::Object(map) => {
            let mut values = Vec::new();
            for (code, value) in map {
                let Some(language) = languages.known(code) else {
                    return Err(MzError::bad_request(format!(
                        "Language `{code}` in `{field}` is not one of the website's languages"
                    )));
                };
                let value = match value {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    _ => {
                        return Err(MzError::bad_request(format!(
                            "`{field}.{code}` must be a string or null"
                        )));
                    }
                };
                values.push((language.to_string(), value));
            }
            values.sort_by_key(|(l, _)| *l != languages.default);
            Ok(Some(Text { values }))
        }
        _ => Err(MzError::bad_request(format!(
            "`{field}` must be a string or an object of languages"
        ))),
    }
}

/// A multilanguage value for output: every site language, `null` where there is no text.
pub fn text_out(languages: &Languages, mut value_of: impl FnMut(&str) -> Option<String>) -> Value {
    let map: Map<String, Value> = languages
        .all
        .iter()
        .map(|l| {
            (
                l.clone(),
                value_of(l).map(Value::String).unwrap_or(Value::Null),
            )
        })
        .collect();
    Value::Object(map)
}

/// A plain (single-language) string: a multilanguage value gives its default language's text.
pub fn plain(field: &str, v: &Value, languages: &Languages) -> Result<Option<String>, MzError> {
    Ok(text(field, v, languages)?
        .and_then(|t| t.default_value(languages))
        .flatten())
}

/// A price in major units (a number or a numeric string) as minor units, exactly; `null` → `None`.
pub fn money_in(field: &str, v: &Value) -> Result<Option<i64>, MzError> {
    money::major_units_in(v).ok_or_else(|| {
        MzError::bad_request(format!(
            "`{field}` must be a non-negative amount with at most 2 decimals"
        ))
    })
}

pub use crate::compat::money::{major_units as money_out, major_units_opt as money_out_opt};

/// `YYYY-MM-DD HH:MM:SS` (a `+` for the space too, as query strings carry it), or a bare date.
pub fn time_in(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim().replace('+', " ");
    NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S")
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .map(|t| t.and_utc())
}

/// A non-negative whole stock count; `null` is "not tracked".
pub fn stock_in(field: &str, v: &Value) -> Result<Option<i32>, MzError> {
    let n = match v {
        Value::Null => return Ok(None),
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    n.filter(|n| (0..=i64::from(crate::domain::inventory::stock::MAX_QUANTITY)).contains(n))
        .map(|n| Some(n as i32))
        .ok_or_else(|| {
            MzError::bad_request(format!("`{field}` must be a whole number from 0 or null"))
        })
}

pub fn bool_in(field: &str, v: &Value) -> Result<Option<bool>, MzError> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::Number(n) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => {
            Ok(Some(n.as_i64() == Some(1)))
        }
        _ => Err(MzError::bad_request(format!(
            "`{field}` must be true or false"
        ))),
    }
}

/// An object's field, `Null` when absent.
pub fn field<'a>(object: &'a Map<String, Value>, name: &str) -> &'a Value {
    object.get(name).unwrap_or(&Value::Null)
}

/// The translations map the domain keeps, changed by a text's non-default languages.
pub fn merge_translations<T: Default>(
    translations: &mut BTreeMap<String, T>,
    text: &Text,
    languages: &Languages,
    mut set: impl FnMut(&mut T, Option<String>),
) {
    for (language, value) in text.others(languages) {
        set(
            translations.entry(language.to_string()).or_default(),
            value.map(str::to_string),
        );
    }
}
