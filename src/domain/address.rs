//! The one rule set for postal addresses, kept by customers' saved addresses and checkout's shipping
//! address alike: the same fields, the same limits, the same country and phone rules. A shipping address
//! also needs the recipient's name and a postal code.

use super::customers::{check_phone, is_country};
use super::error::Validator;
use super::field::FieldKey;

/// What an address is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Kept on a customer: a street, a city and a country.
    Saved,
    /// Where an order goes: also the recipient's first and last name and a postal code.
    Shipping,
}

/// An address's fields as given (each dialect maps its own names onto these).
#[derive(Debug, Clone, Copy, Default)]
pub struct Parts<'a> {
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub company: Option<&'a str>,
    pub line1: Option<&'a str>,
    pub line2: Option<&'a str>,
    pub city: Option<&'a str>,
    pub province: Option<&'a str>,
    pub postal_code: Option<&'a str>,
    /// ISO 3166-1 alpha-2, upper-case.
    pub country: Option<&'a str>,
    pub phone: Option<&'a str>,
}

/// Checks an address; field keys are `prefix.<field>` (or just `<field>` with an empty prefix).
pub fn check(v: &mut Validator, prefix: &str, parts: &Parts<'_>, purpose: Use) {
    let key = |field: &str| FieldKey::from(prefix).then(field);
    let shipping = purpose == Use::Shipping;
    let fields = [
        ("first_name", parts.first_name, 100, shipping),
        ("last_name", parts.last_name, 100, shipping),
        ("company", parts.company, 200, false),
        ("line1", parts.line1, 255, true),
        ("line2", parts.line2, 255, false),
        ("city", parts.city, 100, true),
        ("province", parts.province, 100, false),
        ("postal_code", parts.postal_code, 20, shipping),
    ];
    for (field, value, max, required) in fields {
        match value.map(str::trim) {
            Some(text) if !text.is_empty() => v.text(key(field), text, 1, max),
            Some(_) if !required => v.error(key(field), "must not be empty"),
            None if !required => {}
            _ => v.error(key(field), "is required"),
        }
    }
    match parts.country.map(str::trim) {
        Some(code) if !code.is_empty() => v.check(
            is_country(code),
            key("country"),
            "must be an ISO 3166-1 alpha-2 country code such as `LV` or `US`",
        ),
        _ => v.error(key("country"), "is required"),
    }
    check_phone(v, &key("phone").to_string(), parts.phone);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(parts: Parts<'_>, purpose: Use) -> Vec<String> {
        let mut v = Validator::new();
        check(&mut v, "address", &parts, purpose);
        match v.finish() {
            Ok(()) => vec![],
            Err(crate::domain::Error::Validation(errors)) => {
                errors.into_iter().map(|e| e.field.to_string()).collect()
            }
            Err(other) => panic!("{other}"),
        }
    }

    #[test]
    fn shipping_needs_a_name_and_a_postal_code_saved_does_not() {
        let street = Parts {
            line1: Some("Brivibas iela 1"),
            city: Some("Riga"),
            country: Some("LV"),
            ..Parts::default()
        };
        assert!(errors(street, Use::Saved).is_empty());
        assert_eq!(
            errors(street, Use::Shipping),
            [
                "address.first_name",
                "address.last_name",
                "address.postal_code"
            ]
        );
    }

    #[test]
    fn the_same_limits_hold_for_both() {
        let long = "x".repeat(101);
        let parts = Parts {
            first_name: Some("Jane"),
            last_name: Some("Doe"),
            line1: Some("Brivibas iela 1"),
            city: Some(&long),
            postal_code: Some("LV-1010"),
            country: Some("lv"),
            phone: Some("call me"),
            ..Parts::default()
        };
        for purpose in [Use::Saved, Use::Shipping] {
            assert_eq!(
                errors(parts, purpose),
                ["address.city", "address.country", "address.phone"]
            );
        }
    }
}
