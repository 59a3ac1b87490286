//! Money on the wire of the vendor dialects that speak decimal numbers in major units: converted to and
//! from the domain's integer minor units exactly, through the decimal text (never a float).

use std::str::FromStr;

use serde_json::{Number, Value};

use crate::domain::money;

/// Minor units as a JSON number in major units (`10050` → `100.5`, `9500` → `95`), from its decimal text.
pub fn major_units(minor: i64) -> Value {
    if minor % 100 == 0 {
        return Value::Number(Number::from(minor / 100));
    }
    Number::from_str(&money::format_decimal(minor))
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

pub fn major_units_opt(minor: Option<i64>) -> Value {
    minor.map(major_units).unwrap_or(Value::Null)
}

/// A non-negative amount in major units (a number or a numeric string, at most two decimals) as minor
/// units; `Some(None)` for `null`, `None` for anything else.
pub fn major_units_in(v: &Value) -> Option<Option<i64>> {
    match v {
        Value::Null => Some(None),
        Value::Number(n) => money::parse_decimal(&n.to_string()).map(Some),
        Value::String(s) => money::parse_decimal(s).map(Some),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_convert_exactly() {
        assert_eq!(major_units(10050).to_string(), "100.5");
        assert_eq!(major_units(9500).to_string(), "95");
        assert_eq!(major_units(1).to_string(), "0.01");
        assert_eq!(major_units(-250).to_string(), "-2.5");
        assert_eq!(major_units_in(&serde_json::json!(24.99)), Some(Some(2499)));
        assert_eq!(major_units_in(&serde_json::json!("0.1")), Some(Some(10)));
        assert_eq!(major_units_in(&serde_json::json!(1.005)), None);
        assert_eq!(major_units_in(&serde_json::json!(-1)), None);
    }
}
