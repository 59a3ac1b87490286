//! Reading MOOD MNKY's JSON bodies field by field, where a field left out, `null` and a value mean three
//! different things (a change leaves, clears or sets): each refusal names the field in the dialect's shape.

use serde_json::{Map, Value};

use super::errors::MnError;

/// The body as a JSON object.
pub fn object(bytes: &[u8]) -> Result<Map<String, Value>, MnError> {
    match super::body::<Value>(bytes)? {
        Value::Object(map) => Ok(map),
        _ => Err(MnError::invalid("body", "must be a JSON object")),
    }
}

/// A text field: left out `None`, `null` `Some(None)`.
pub fn text(map: &Map<String, Value>, field: &str) -> Result<Option<Option<String>>, MnError> {
    match map.get(field) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(_) => Err(MnError::invalid(field, "must be a string")),
    }
}

/// A text field that must be there.
pub fn required(map: &Map<String, Value>, field: &str) -> Result<String, MnError> {
    text(map, field)?
        .flatten()
        .ok_or_else(|| MnError::invalid(field, "is required"))
}

pub fn flag(map: &Map<String, Value>, field: &str) -> Result<Option<bool>, MnError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(MnError::invalid(field, "must be true or false")),
    }
}

/// A list of strings: left out or `null` `None`.
pub fn strings(map: &Map<String, Value>, field: &str) -> Result<Option<Vec<String>>, MnError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| MnError::invalid(field, "must be an array of strings")),
        Some(_) => Err(MnError::invalid(field, "must be an array of strings")),
    }
}
