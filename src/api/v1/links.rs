//! OpenAPI links from each create to the operations on what it created, so tools that follow links (a
//! stateful fuzzer, a generated client's docs) can chain `POST /brands` → `GET|PATCH|PUT|DELETE
//! /brands/{brandId}`. Derived from the paths, so a new resource gets its links by being routed.

use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::{OpenApi, RefOr};

/// Operations that take the created resource's id as a query parameter instead of a path segment.
const BY_QUERY: &[(&str, &str)] = &[("/cart", "cartId"), ("/checkout", "sessionId")];

/// Adds, to the 201 answer of every create, a link to each operation on the created resource.
pub fn add(doc: &mut OpenApi) {
    let paths: Vec<(String, PathItem)> = doc
        .paths
        .paths
        .iter()
        .map(|(p, i)| (p.clone(), i.clone()))
        .collect();
    for (collection, item) in doc.paths.paths.iter_mut() {
        let Some(create) = item.post.as_mut() else {
            continue;
        };
        let mut links = Vec::new();
        for (path, target) in &paths {
            if let Some(param) = created_param(collection, path) {
                for (method, op) in operations(target) {
                    links.push(link(op, method, collection, &param, Where::Path));
                }
            }
        }
        if let Some((_, param)) = BY_QUERY
            .iter()
            .find(|(suffix, _)| collection.ends_with(suffix))
        {
            let same = paths.iter().find(|(p, _)| p == collection).map(|(_, i)| i);
            for (method, op) in same.into_iter().flat_map(operations) {
                if method != "post" {
                    links.push(link(op, method, collection, param, Where::Query));
                }
            }
        }
        let Some(RefOr::T(created)) = create.responses.responses.get_mut("201") else {
            continue;
        };
        for (name, value) in links.into_iter().flatten() {
            created.links.insert(name, RefOr::T(value));
        }
    }
}

enum Where {
    Path,
    Query,
}

/// `brandId` when `path` is `collection/{brandId}`, or below it with no other parameter
/// (`/webhooks/{webhookId}/deliveries`).
fn created_param(collection: &str, path: &str) -> Option<String> {
    let rest = path.strip_prefix(collection)?.strip_prefix("/{")?;
    let (param, below) = rest.split_once('}')?;
    (below.is_empty() || below.starts_with('/') && !below.contains('{')).then(|| param.to_string())
}

fn operations(item: &PathItem) -> impl Iterator<Item = (&'static str, &Operation)> {
    [
        ("get", &item.get),
        ("put", &item.put),
        ("patch", &item.patch),
        ("delete", &item.delete),
        ("post", &item.post),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.as_ref().map(|op| (method, op)))
}

/// The link to `op`: the created id for `param`, and the create's own path parameters passed through.
fn link(
    op: &Operation,
    method: &str,
    collection: &str,
    param: &str,
    at: Where,
) -> Option<(String, utoipa::openapi::link::Link)> {
    let operation_id = op.operation_id.clone()?;
    let mut builder = LinkBuilder::new()
        .operation_id(operation_id.clone())
        .description(format!(
            "{} what this request created",
            method.to_uppercase()
        ));
    for inherited in collection
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
    {
        builder = builder.parameter(inherited, format!("$request.path.{inherited}"));
    }
    let name = match at {
        Where::Path => param.to_string(),
        Where::Query => format!("query.{param}"),
    };
    builder = builder.parameter(name, "$response.body#/data/id");
    Some((operation_id, builder.build()))
}
