//! What the contract fuzzer (tests/contract/run.sh) found, kept as regressions: the server does what the
//! document states, for requests the document allows and for those it does not.

mod common;

use common::{TestApp, assert_error, assert_unprocessable, str_of};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// JSON Schema counts `2999.0` as an integer, so integer fields take it (and keep it exact); a fraction is
/// still refused, naming the field.
#[tokio::test]
async fn integral_floats_are_integers() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .admin(
            Method::POST,
            "/products",
            Some(json!({"name": "Float", "price": 2999.0, "variants": [{"inventoryCount": 3.0}]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["price"], 2999);
    assert_eq!(body["data"]["variants"][0]["inventoryCount"], 3);
    let res = app
        .admin(
            Method::POST,
            "/products",
            Some(json!({"name": "Fraction", "price": 2999.5})),
        )
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(res.1["details"][0]["field"], "price", "{}", res.1);
    assert_eq!(app.count("select count(*) from products").await, 1);
}

/// `?limit=` is not "no limit", and `page` is checked even beside a cursor.
#[tokio::test]
async fn empty_and_ignored_paging_values_are_checked() {
    let app = TestApp::spawn().await;
    for query in [
        "limit=",
        "page=",
        "limit=ten",
        "cursor=&page=-1",
        "cursor=&page=0",
    ] {
        let res = app
            .admin(Method::GET, &format!("/promotions?{query}"), None)
            .await;
        assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    }
    let res = app
        .admin(Method::GET, "/promotions?cursor=&limit=5", None)
        .await;
    assert_eq!(res.0, StatusCode::OK, "{}", res.1);
}

/// A cursor is opaque: a string that is not one the server gave is well-formed but names nothing (422).
#[tokio::test]
async fn a_foreign_cursor_is_unprocessable() {
    let app = TestApp::spawn().await;
    let res = app
        .admin(
            Method::GET,
            "/customers?cursor=cgrp_01M8T0J30N32YFKG8KRNFYKD8P",
            None,
        )
        .await;
    assert_unprocessable(&res, "cursor");
}

/// Expansions and fields are the listed names, comma-separated with optional spaces; anything else is a
/// 400 naming the parameter.
#[tokio::test]
async fn expansions_and_fields_are_the_listed_names() {
    let app = TestApp::spawn().await;
    let product = app.product(json!({"name": "Listed", "price": 100})).await;
    let id = str_of(&product["id"]);
    let res = app
        .admin(
            Method::GET,
            &format!("/products/{id}?expand=brand,%20categories&fields=id,%20name"),
            None,
        )
        .await;
    assert_eq!(res.0, StatusCode::OK, "{}", res.1);
    for (query, field) in [
        ("expand=colour", "expand[]"),
        ("fields=id,colour", "fields"),
    ] {
        let res = app
            .admin(Method::GET, &format!("/products/{id}?{query}"), None)
            .await;
        assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_eq!(res.1["details"][0]["field"], field, "{}", res.1);
    }
}

/// A rule between fields is a 422 naming the field, and the refused request writes nothing.
#[tokio::test]
async fn rules_between_fields_are_unprocessable_and_write_nothing() {
    let app = TestApp::spawn().await;
    let res = app
        .admin(
            Method::POST,
            "/promotions",
            Some(json!({"code": "HALF", "type": "PERCENTAGE", "value": 150})),
        )
        .await;
    assert_unprocessable(&res, "value");
    let res = app
        .admin(
            Method::POST,
            "/promotions",
            Some(json!({"code": "LATE", "type": "PERCENTAGE", "value": 10,
                "startsAt": "2030-01-02T00:00:00Z", "expiresAt": "2030-01-01T00:00:00Z"})),
        )
        .await;
    assert_unprocessable(&res, "expiresAt");
    assert_eq!(app.count("select count(*) from promotions").await, 0);
}
