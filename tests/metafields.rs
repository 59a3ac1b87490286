//! Metafields over HTTP: on products, customers, orders and the site; unique by namespace + key; values
//! checked against their type; unknown resources not found; scopes required; sites apart.

mod common;

use common::{TestApp, assert_error, assert_unprocessable, str_of};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn metafields_are_typed_and_unique_per_resource() {
    let app = TestApp::spawn().await;
    let product = str_of(&app.product(json!({"name": "Kettle", "price": 3000})).await["id"]);
    let path = format!("/product/{product}/metafields");

    let (status, body) = app
        .admin(
            Method::POST,
            &path,
            Some(json!({"namespace": "custom", "key": "warranty_months", "value": "24", "valueType": "integer"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = str_of(&body["data"]["id"]);
    assert!(id.starts_with("mf_"));
    assert_eq!(body["data"]["valueType"], "integer");

    // The same namespace + key again is a conflict; on another product it is fine.
    let res = app
        .admin(
            Method::POST,
            &path,
            Some(json!({"namespace": "custom", "key": "warranty_months", "value": "12"})),
        )
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");

    // Values must parse as their type; nothing is written otherwise.
    for (value, value_type) in [
        ("24 months", "integer"),
        ("9223372036854775808", "integer"),
        ("yes", "boolean"),
        ("{not json", "json"),
    ] {
        let res = app
            .admin(
                Method::POST,
                &path,
                Some(json!({"namespace": "custom", "key": "other", "value": value, "valueType": value_type})),
            )
            .await;
        assert_unprocessable(&res, "value");
    }
    for bad in [
        json!({"namespace": "has space", "key": "k", "value": "v"}),
        json!({"namespace": "custom", "key": "", "value": "v"}),
        json!({"namespace": "custom", "key": "k", "value": "v", "valueType": "float"}),
        json!({"namespace": "custom", "key": "k", "value": "x".repeat(70_000)}),
    ] {
        let res = app.admin(Method::POST, &path, Some(bad)).await;
        assert_eq!(res.0, StatusCode::BAD_REQUEST, "{}", res.1);
    }
    let (status, body) = app
        .admin(
            Method::POST,
            &path,
            Some(json!({"namespace": "custom", "key": "specs", "value": "{\"watts\": 2200}", "valueType": "json"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let list = app.get(&path).await;
    let keys: Vec<String> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| str_of(&m["key"]))
        .collect();
    assert_eq!(keys, ["specs", "warranty_months"]);

    // Updates keep value and type in agreement.
    let one = format!("{path}/{id}");
    let res = app
        .admin(Method::PATCH, &one, Some(json!({"valueType": "boolean"})))
        .await;
    assert_unprocessable(&res, "value");
    let (status, body) = app
        .admin(Method::PATCH, &one, Some(json!({"value": "36"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["value"], "36");
    let (status, body) = app
        .admin(
            Method::PUT,
            &one,
            Some(json!({"value": "true", "valueType": "boolean"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["valueType"], "boolean");

    // Unknown resources and metafields are not found.
    for path in [
        "/product/prod_nope/metafields".to_string(),
        "/widget/x/metafields".to_string(),
        "/site/site_other/metafields".to_string(),
        format!("/customer/{product}/metafields"),
    ] {
        let res = app.admin(Method::GET, &path, None).await;
        assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    }
    let res = app
        .admin(Method::DELETE, &format!("{path}/mf_nope"), None)
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");

    // Delete, then deleting the product takes the rest with it.
    let (status, body) = app.admin(Method::DELETE, &one, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["deleted"], true);
    assert_eq!(app.count("select count(*) from metafields").await, 1);
    let (status, _) = app
        .admin(Method::DELETE, &format!("/products/{product}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.count("select count(*) from metafields").await, 0);
}

#[tokio::test]
async fn site_customer_and_order_metafields_need_the_scopes() {
    let app = TestApp::spawn().await;
    let site = app.site_id.clone();
    let customer = str_of(
        &app.post("/customers", json!({"email": "mf@example.com"}))
            .await["data"]["id"],
    );
    for path in [
        format!("/site/{site}/metafields"),
        format!("/customer/{customer}/metafields"),
    ] {
        let (status, body) = app
            .admin(
                Method::POST,
                &path,
                Some(json!({"namespace": "crm", "key": "tier", "value": "vip"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {body}");
        assert_eq!(body["data"]["valueType"], "string");
    }

    let reader = app.key(&site, &["metafields:read"]).await;
    let url = app.api(&format!("/customer/{customer}/metafields"));
    let (status, body) = app.call(Method::GET, &url, Some(&reader), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    let res = app
        .call(
            Method::POST,
            &url,
            Some(&reader),
            Some(json!({"namespace": "crm", "key": "x", "value": "y"})),
        )
        .await;
    assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    let catalog = app.key(&site, &["read:catalog", "read:customers"]).await;
    let (status, _) = app.call(Method::GET, &url, Some(&catalog), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Another site's admin cannot reach this customer's metafields through its own site.
    let other = app.create_site("Other").await;
    let other_key = app.key(&other, &["admin:*"]).await;
    let url = format!("{}/api/v1/{other}/customer/{customer}/metafields", app.url);
    let res = app.call(Method::GET, &url, Some(&other_key), None).await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
}
