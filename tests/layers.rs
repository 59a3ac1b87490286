//! The layering rule of design.md, held by reading the source tree: the domain knows nothing of HTTP, and
//! HTTP handlers write no SQL.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn offenders(dir: &str, forbidden: &str) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), &mut files);
    files
        .into_iter()
        .filter(|f| std::fs::read_to_string(f).unwrap().contains(forbidden))
        .map(|f| f.display().to_string())
        .collect()
}

#[test]
fn domain_does_not_use_axum() {
    assert_eq!(offenders("src/domain", "axum"), Vec::<String>::new());
}

#[test]
fn handlers_do_not_use_sqlx() {
    assert_eq!(offenders("src/api", "sqlx"), Vec::<String>::new());
}

#[test]
fn dialects_do_not_use_sqlx() {
    // A dialect maps its vendor's shapes onto domain calls; its queries live in src/domain.
    assert_eq!(offenders("src/compat", "sqlx"), Vec::<String>::new());
}

#[test]
fn domain_holds_no_wire_format() {
    for marker in ["utoipa", "deny_unknown_fields", "ToSchema", "IntoParams"] {
        assert_eq!(
            offenders("src/domain", marker),
            Vec::<String>::new(),
            "{marker}"
        );
    }
}

#[test]
fn orders_are_placed_only_through_checkout() {
    // The steps of placement are private to the domain (the compiler holds that); no dialect names them.
    for step in [
        "orders::insert",
        "stock::allocate",
        "promotions::redeem",
        "NewOrder",
    ] {
        assert_eq!(offenders("src/api", step), Vec::<String>::new(), "{step}");
    }
}

#[test]
fn plumbing_reads_route_policies_not_paths() {
    for pattern in [
        "MatchedPath",
        "PUBLIC_ROUTES",
        "CACHED_ROUTES",
        "\"/auth/\"",
        ".contains(\"/",
    ] {
        assert_eq!(
            offenders("src/http", pattern),
            Vec::<String>::new(),
            "{pattern}"
        );
    }
}
