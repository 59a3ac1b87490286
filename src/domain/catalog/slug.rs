//! URL slugs: derived from names, validated when given.

use unicode_normalization::UnicodeNormalization;

/// The rule [`is_valid`] checks, as a regular expression (for the API documents).
pub const PATTERN: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";
/// Longest slug.
pub const MAX_LEN: usize = 200;

/// `Classic White T-Shirt!` → `classic-white-t-shirt`, `Café Crème` → `cafe-creme`: accents are dropped
/// (compatibility decomposition, then only ASCII letters and digits are kept); anything else separates words.
pub fn slugify(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut dash = false;
    for c in name.nfkd().filter(|c| !is_combining_mark(*c)) {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
    }
    out.truncate(180);
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "item".to_string()
    } else {
        out
    }
}

/// Accents and other marks that a decomposition splits off their letter.
fn is_combining_mark(c: char) -> bool {
    unicode_normalization::char::is_combining_mark(c)
}

/// A valid slug ([`PATTERN`]): lower-case ASCII letters and digits in groups joined by single dashes, at
/// most [`MAX_LEN`] characters. ASCII only, so a slug is the same in every URL and every client, and the rule
/// is one a schema can state.
pub fn is_valid(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= MAX_LEN
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--")
        && slug
            .bytes()
            .all(|b| b == b'-' || b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// The first of `base`, `base-2`, `base-3`, ... not in `taken`.
pub fn first_free(base: &str, taken: &[String]) -> String {
    if !taken.iter().any(|t| t == base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|s| !taken.contains(s))
        .expect("an unbounded range has a free slot")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("Classic White T-Shirt!"), "classic-white-t-shirt");
        assert_eq!(slugify("  Café  Crème "), "cafe-creme");
        assert_eq!(slugify("Ūdens krūze"), "udens-kruze");
        assert_eq!(slugify("Чай"), "item");
        assert!(!is_valid("café"));
        assert_eq!(slugify("!!!"), "item");
        assert!(is_valid("classic-white-t-shirt"));
        assert!(!is_valid("Classic"));
        assert!(!is_valid("a--b"));
        assert_eq!(first_free("a", &["a".into(), "a-2".into()]), "a-3");
    }
}
