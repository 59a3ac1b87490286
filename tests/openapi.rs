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

/// Every example in the document validates against the schema it illustrates (request bodies, responses,
/// parameters and schema properties). A small checker for the keywords the document uses: `$ref`, `type`
/// (with `null`), `required`, `properties`, `additionalProperties`, `items`, `enum`, `minimum`/`maximum`,
/// `oneOf`/`anyOf`/`allOf`.
#[test]
fn every_example_matches_its_schema() {
    use serde_json::Value;
    let doc: Value = serde_json::from_str(&shopvo::api::v1::openapi().to_json().unwrap()).unwrap();

    fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
        match schema["$ref"].as_str() {
            Some(r) => resolve(
                doc,
                &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
            ),
            None => schema,
        }
    }
    fn check(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let schema = resolve(doc, schema);
        for (key, all) in [("oneOf", false), ("anyOf", false), ("allOf", true)] {
            if let Some(options) = schema[key].as_array() {
                let ok: Vec<bool> = options
                    .iter()
                    .map(|s| {
                        let mut e = Vec::new();
                        check(doc, s, value, at, &mut e);
                        e.is_empty()
                    })
                    .collect();
                let passed = if all {
                    ok.iter().all(|b| *b)
                } else {
                    ok.iter().any(|b| *b)
                };
                if !passed {
                    errors.push(format!("{at}: does not match {key}"));
                }
            }
        }
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let type_of = |v: &Value| match v {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let t = type_of(value);
        let allowed =
            types.is_empty() || types.contains(&t) || (t == "integer" && types.contains(&"number"));
        if !allowed {
            errors.push(format!("{at}: a {t}, the schema says {types:?}"));
            return;
        }
        if let Some(values) = schema["enum"].as_array()
            && !values.contains(value)
        {
            errors.push(format!("{at}: {value} is not one of {values:?}"));
        }
        if let Some(n) = value.as_f64()
            && (schema["minimum"].as_f64().is_some_and(|m| n < m)
                || schema["maximum"].as_f64().is_some_and(|m| n > m))
        {
            errors.push(format!("{at}: {n} is out of the schema's bounds"));
        }
        if let Value::Object(object) = value {
            for required in schema["required"].as_array().into_iter().flatten() {
                let name = required.as_str().unwrap();
                if !object.contains_key(name) {
                    errors.push(format!("{at}: lacks required `{name}`"));
                }
            }
            for (name, v) in object {
                match schema["properties"].get(name) {
                    Some(s) => check(doc, s, v, &format!("{at}.{name}"), errors),
                    None => match &schema["additionalProperties"] {
                        Value::Bool(false) => {
                            errors.push(format!("{at}: unknown property `{name}`"))
                        }
                        Value::Object(s) if !s.is_empty() => check(
                            doc,
                            &schema["additionalProperties"],
                            v,
                            &format!("{at}.{name}"),
                            errors,
                        ),
                        _ => {}
                    },
                }
            }
        }
        if let (Value::Array(items), Some(s)) = (value, schema.get("items")) {
            for (i, v) in items.iter().enumerate() {
                check(doc, s, v, &format!("{at}[{i}]"), errors);
            }
        }
    }

    let mut errors = Vec::new();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let mut media = Vec::new();
            if let Some(content) = op["requestBody"]["content"].as_object() {
                media.extend(content.values().map(|m| ("request".to_string(), m)));
            }
            for (status, response) in op["responses"].as_object().into_iter().flatten() {
                for m in response["content"]
                    .as_object()
                    .into_iter()
                    .flat_map(|c| c.values())
                {
                    media.push((status.clone(), m));
                }
            }
            for (what, m) in media {
                if let Some(example) = m.get("example") {
                    checked += 1;
                    check(
                        &doc,
                        &m["schema"],
                        example,
                        &format!("{method} {path} {what}"),
                        &mut errors,
                    );
                }
            }
        }
    }
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            if let Some(example) = property.get("example") {
                checked += 1;
                check(
                    &doc,
                    property,
                    example,
                    &format!("{name}.{field}"),
                    &mut errors,
                );
            }
        }
    }
    assert!(checked >= 40, "only {checked} examples found");
    assert!(
        errors.is_empty(),
        "{} examples do not match:\n{}",
        errors.len(),
        errors.join("\n")
    );
}

/// Envelopes name their payload (`Data_Cart.data` is `{"$ref": "#/components/schemas/Cart"}`), so typed
/// clients get the component's type and no component goes unused.
#[test]
fn envelopes_reference_their_payload_component() {
    let doc: serde_json::Value =
        serde_json::from_str(&shopvo::api::v1::openapi().to_json().unwrap()).unwrap();
    let mut seen = 0;
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        let (payload, component) = if let Some(argument) = name.strip_prefix("Data_") {
            match argument.strip_prefix("Vec_") {
                Some(item) => (&schema["properties"]["data"]["items"], item),
                None => (&schema["properties"]["data"], argument),
            }
        } else if let Some(item) = name.strip_prefix("List_") {
            (&schema["properties"]["items"]["items"], item)
        } else {
            continue;
        };
        seen += 1;
        assert_eq!(
            payload["$ref"],
            format!("#/components/schemas/{component}"),
            "{name}"
        );
    }
    assert!(seen >= 30, "only {seen} envelopes found");
}

/// Every `$ref` names a component the document has (a format named only by a query parameter is not
/// collected by itself), and the formats' patterns are the domain's rules: samples the domain accepts match
/// them, samples it refuses do not.
#[test]
fn references_resolve_and_formats_agree_with_the_domain() {
    use serde_json::Value;
    let doc: Value = serde_json::from_str(&shopvo::api::v1::openapi().to_json().unwrap()).unwrap();
    fn walk(doc: &Value, node: &Value, missing: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    let name = r.trim_start_matches("#/components/schemas/");
                    if doc["components"]["schemas"][name].is_null() {
                        missing.push(r.clone());
                    }
                }
                map.values().for_each(|v| walk(doc, v, missing));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(doc, v, missing)),
            _ => {}
        }
    }
    let mut missing = Vec::new();
    walk(&doc, &doc, &mut missing);
    assert!(missing.is_empty(), "unresolved: {missing:?}");

    let pattern = |name: &str| {
        let p = doc["components"]["schemas"][name]["pattern"]
            .as_str()
            .unwrap();
        regex_lite(p)
    };
    use shopvo::domain::catalog::{is_http_url, slug};
    let slug_re = pattern("Slug");
    for s in [
        "a",
        "classic-white-t-shirt",
        "x1-2",
        "café",
        "A",
        "a--b",
        "-a",
        "a-",
        "a b",
        "",
    ] {
        assert_eq!(slug_re(s), slug::is_valid(s), "slug {s:?}");
    }
    let url_re = pattern("HttpUrl");
    for u in [
        "https://a.b/c",
        "http://x",
        "http://",
        "ftp://a",
        "https://a b",
        "https://a\u{7f}",
        "https://é",
    ] {
        assert_eq!(url_re(u), is_http_url(u), "url {u:?}");
    }
}

/// Whether a string matches a document pattern (anchored with `^…$`, as all the formats are).
fn regex_lite(pattern: &str) -> impl Fn(&str) -> bool {
    let re = regex::Regex::new(pattern).unwrap();
    move |s: &str| re.is_match(s)
}
