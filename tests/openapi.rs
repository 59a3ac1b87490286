//! The committed OpenAPI document must match a fresh generation from the code.
//! Regenerate with `cargo run -- openapi > openapi/openapi.json`.

#[test]
fn committed_openapi_matches_the_code() {
    let fresh = shopvo::api::v1::openapi().to_pretty_json().unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed.trim_end() == fresh.trim_end(),
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json` and commit it"
    );
}

#[test]
fn every_operation_declares_its_scope_and_errors() {
    let doc: serde_json::Value =
        serde_json::from_str(&shopvo::api::v1::openapi().to_json().unwrap()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 8);
    let public = shopvo::api::v1::public_paths();
    for (path, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            if public.contains(path) {
                // Public operations say so: an empty security requirement.
                assert_eq!(op["security"], serde_json::json!([{}]), "{method} {path}");
                continue;
            }
            let scopes = &op["security"][0]["bearerAuth"];
            assert!(
                scopes.as_array().is_some_and(|s| !s.is_empty()),
                "{method} {path} has no scope"
            );
            for status in ["401", "403", "404"] {
                assert!(
                    op["responses"][status].is_object(),
                    "{method} {path} lacks {status}"
                );
            }
            assert!(op["summary"].is_string(), "{method} {path} has no summary");
        }
    }
}

#[test]
fn operation_ids_are_unique() {
    let doc: serde_json::Value =
        serde_json::from_str(&shopvo::api::v1::openapi().to_json().unwrap()).unwrap();
    let mut ids = std::collections::HashSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let id = op["operationId"].as_str().unwrap().to_string();
            assert!(ids.insert(id.clone()), "duplicate operationId {id}");
        }
    }
}

#[test]
fn pagination_parameters_state_the_bounds_the_server_enforces() {
    let doc: serde_json::Value =
        serde_json::from_str(&shopvo::api::v1::openapi().to_json().unwrap()).unwrap();
    let mut seen = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for param in op["parameters"].as_array().into_iter().flatten() {
                let (min, max) = match param["name"].as_str() {
                    Some("limit") => (1, 100),
                    Some("page") => (1, 1_000_000),
                    _ => continue,
                };
                seen += 1;
                let schema = &param["schema"];
                assert_eq!(schema["minimum"], min, "{method} {path} {param}");
                assert_eq!(schema["maximum"], max, "{method} {path} {param}");
            }
        }
    }
    assert!(seen >= 16, "only {seen} pagination parameters found");
}

#[test]
fn request_amounts_state_the_bounds_of_money() {
    let doc: serde_json::Value =
        serde_json::from_str(&shopvo::api::v1::openapi().to_json().unwrap()).unwrap();
    let money = [
        "price",
        "compareAtPrice",
        "regularPrice",
        "salePrice",
        "minOrderAmount",
        "freeAbove",
        "cartTotal",
    ];
    let mut seen = 0;
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        // Request bodies: the schemas clients send (inputs, patches, actions).
        let is_request = ["Input", "Patch", "Request", "Body", "Product", "Variant"]
            .iter()
            .any(|s| name.ends_with(s))
            && schema["additionalProperties"] == false;
        // A cart item's `price` is accepted for compatibility and ignored (prices come from the catalog).
        if !is_request || name == "ItemInput" {
            continue;
        }
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            if money.contains(&field.as_str()) {
                seen += 1;
                assert_eq!(property["minimum"], 0, "{name}.{field}");
                assert_eq!(
                    property["maximum"],
                    shopvo::domain::money::MAX_AMOUNT,
                    "{name}.{field}"
                );
            }
        }
    }
    assert!(seen >= 12, "only {seen} amounts found");
}
