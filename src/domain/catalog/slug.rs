//! URL slugs: derived from names, validated when given.

/// `Classic White T-Shirt!` → `classic-white-t-shirt`. Letters outside ASCII are kept (lower-cased).
pub fn slugify(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut dash = false;
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c);
        } else {
            dash = true;
        }
    }
    out.truncate(out.char_indices().nth(180).map_or(out.len(), |(i, _)| i));
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "item".to_string()
    } else {
        out
    }
}

/// A valid slug: lower-case letters and digits in groups joined by single dashes, at most 200 characters.
pub fn is_valid(slug: &str) -> bool {
    !slug.is_empty()
        && slug.chars().count() <= 200
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && !slug.contains("--")
        && slug
            .chars()
            .all(|c| c == '-' || (c.is_alphanumeric() && !c.is_uppercase()))
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
        assert_eq!(slugify("  Café  Crème "), "café-crème");
        assert_eq!(slugify("!!!"), "item");
        assert!(is_valid("classic-white-t-shirt"));
        assert!(!is_valid("Classic"));
        assert!(!is_valid("a--b"));
        assert_eq!(first_free("a", &["a".into(), "a-2".into()]), "a-3");
    }
}
