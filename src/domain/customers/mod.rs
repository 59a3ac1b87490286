//! Customers: profiles (email unique per site, case-insensitively), addresses, groups, and customer
//! accounts (password login with short-lived access JWTs and rotating refresh tokens).
//!
//! A customer's order count and total spent are never stored: they are derived from `orders` in the same
//! query that reads the customer.

pub mod accounts;
pub mod addresses;
pub mod email;
pub mod groups;
pub mod profiles;
pub mod scent;
pub mod tokens;

pub use addresses::Address;
pub use email::Email;
pub use groups::CustomerGroup;
pub use profiles::Customer;

use crate::domain::error::{Error, Validator};

/// ISO 3166-1 alpha-2 codes (officially assigned, from the iso-codes data set), two letters each, sorted.
const COUNTRIES: &str = "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW";

/// Whether `code` is an officially assigned ISO 3166-1 alpha-2 code (or `XK`, Kosovo's code in common use).
/// Every code [`is_country`] accepts.
pub fn country_codes() -> impl Iterator<Item = &'static str> {
    COUNTRIES
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).expect("the list is ASCII"))
        .chain(["XK"])
}

pub fn is_country(code: &str) -> bool {
    code.len() == 2
        && (code == "XK" || COUNTRIES.as_bytes().chunks(2).any(|c| c == code.as_bytes()))
}

/// Optional free text: trimmed, non-empty and at most `max` characters.
pub(crate) fn check_text(v: &mut Validator, field: &str, value: Option<&str>, max: usize) {
    if let Some(value) = value {
        v.text(field, value, 1, max);
    }
}

/// [`check_phone`]'s rule as a regular expression (for the API documents), with lengths 3 to 32.
pub const PHONE_PATTERN: &str = "^[0-9 +().-]*[0-9][0-9 +().-]*$";

/// A phone number as people write it: digits with spaces, `+`, `-`, `.`, `(`, `)`, 3–32 characters.
pub(crate) fn check_phone(v: &mut Validator, field: &str, phone: Option<&str>) {
    if let Some(phone) = phone {
        v.check(
            (3..=32).contains(&phone.chars().count())
                && phone.chars().any(|c| c.is_ascii_digit())
                && phone
                    .chars()
                    .all(|c| c.is_ascii_digit() || " +-.()".contains(c)),
            field,
            "must be a phone number of 3 to 32 characters: digits, spaces and + - . ( )",
        );
    }
}

/// Trims an optional string in place of reading it twice.
pub(crate) fn trimmed(value: Option<String>) -> Option<String> {
    value.map(|s| s.trim().to_string())
}

/// Whether `id` is a customer of the site.
pub async fn exists(
    conn: &mut sqlx::PgConnection,
    site_id: &str,
    id: &str,
) -> crate::domain::Result<bool> {
    Ok(
        sqlx::query_scalar(
            "select exists (select 1 from customers where site_id = $1 and id = $2)",
        )
        .bind(site_id)
        .bind(id)
        .fetch_one(conn)
        .await?,
    )
}

/// Maps a foreign-key violation on `constraint` (a reference to nothing) to an unprocessable field; other
/// errors pass.
pub(crate) fn on_foreign_key(
    err: sqlx::Error,
    constraint: &str,
    field: &str,
    message: &str,
) -> Error {
    if let sqlx::Error::Database(db) = &err
        && db.is_foreign_key_violation()
        && db.constraint() == Some(constraint)
    {
        return Error::unprocessable(field, message);
    }
    Error::Database(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries() {
        assert_eq!(COUNTRIES.len(), 249 * 2);
        for code in ["LV", "US", "GB", "DE", "XK", "AX"] {
            assert!(is_country(code), "{code}");
        }
        for code in ["", "L", "lv", "XX", "UK", "EU", "LVA", "VL"] {
            assert!(!is_country(code), "{code}");
        }
    }

    #[test]
    fn phones() {
        let mut v = Validator::new();
        check_phone(&mut v, "phone", Some("+30 210 1234567"));
        check_phone(&mut v, "phone", Some("(555) 123-4567"));
        check_phone(&mut v, "phone", None);
        assert!(v.finish().is_ok());
        for bad in ["12", "call me", "+++", "+1 555 0100 ext. 2"] {
            let mut v = Validator::new();
            check_phone(&mut v, "phone", Some(bad));
            assert!(v.finish().is_err(), "{bad}");
        }
    }
}
