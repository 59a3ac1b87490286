//! Content over HTTP: pages (drafts hidden from browsers), menus whose nested items link to pages,
//! categories, products and URLs, and the site's languages and currency.

mod common;

use common::{TestApp, assert_error, assert_unprocessable, str_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shopvo::domain::keys;

async fn publishable(app: &TestApp) -> String {
    let new = keys::NewKey {
        scopes: vec![],
        publishable: true,
        test: false,
        signing: false,
        require_request_signature: false,
        name: None,
        expires_at: None,
    };
    keys::create(
        &mut app.pool.acquire().await.unwrap(),
        &app.server_key,
        &app.site_id,
        new,
    )
    .await
    .unwrap()
    .plaintext
}

fn slugs(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| str_of(&p["slug"]))
        .collect()
}

#[tokio::test]
async fn pages_are_published_or_drafts() {
    let app = TestApp::spawn().await;
    let about = app
        .post(
            "/pages",
            json!({"title": "About Us", "body": "<p>Lamps since 1990.</p>", "status": "PUBLISHED"}),
        )
        .await["data"]
        .clone();
    assert_eq!(about["slug"], "about-us");
    assert!(about["publishedAt"].is_string());
    app.post("/pages", json!({"title": "Secret sale", "slug": "sale"}))
        .await;
    let res = app
        .admin(
            Method::POST,
            "/pages",
            Some(json!({"title": "Other", "slug": "sale"})),
        )
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    let res = app
        .admin(
            Method::POST,
            "/pages",
            Some(json!({"title": "Bad", "slug": "Not A Slug"})),
        )
        .await;
    assert_eq!(res.0, StatusCode::BAD_REQUEST, "{}", res.1);

    assert_eq!(slugs(&app.get("/pages").await), ["about-us", "sale"]);
    assert_eq!(slugs(&app.get("/pages?slug=sale").await), ["sale"]);
    assert_eq!(slugs(&app.get("/pages?status=DRAFT").await), ["sale"]);

    // Browsers see published pages only.
    let pk = publishable(&app).await;
    let (status, body) = app
        .call(Method::GET, &app.api("/pages"), Some(&pk), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(slugs(&body), ["about-us"]);
    let res = app
        .call(Method::GET, &app.api("/pages/sale"), Some(&pk), None)
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let (status, _) = app
        .call(Method::GET, &app.api("/pages/about-us"), Some(&pk), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let res = app
        .call(
            Method::POST,
            &app.api("/pages"),
            Some(&pk),
            Some(json!({"title": "x"})),
        )
        .await;
    assert_eq!(res.0, StatusCode::FORBIDDEN, "{}", res.1);

    // Publishing the draft shows it; deleting removes it.
    let (status, body) = app
        .admin(
            Method::PATCH,
            "/pages/sale",
            Some(json!({"status": "PUBLISHED", "metaTitle": "Sale"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = app
        .call(Method::GET, &app.api("/pages"), Some(&pk), None)
        .await;
    assert_eq!(slugs(&body), ["about-us", "sale"]);
    let (status, _) = app.admin(Method::DELETE, "/pages/sale", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.count("select count(*) from pages").await, 1);
}

#[tokio::test]
async fn menus_link_nested_items_to_what_exists() {
    let app = TestApp::spawn().await;
    let page = str_of(
        &app.post("/pages", json!({"title": "About", "status": "PUBLISHED"}))
            .await["data"]["id"],
    );
    let category = str_of(&app.post("/categories", json!({"name": "Lamps"})).await["data"]["id"]);
    let product = str_of(
        &app.product(json!({"name": "Desk Lamp", "price": 4000}))
            .await["id"],
    );
    let items = json!([
        {"title": "Shop", "type": "URL", "url": "/products", "items": [
            {"title": "Lamps", "type": "CATEGORY", "targetId": category, "items": [
                {"title": "Desk lamp", "type": "PRODUCT", "targetId": product}]}]},
        {"title": "About", "type": "PAGE", "targetId": page},
        {"title": "Blog", "type": "URL", "url": "https://blog.example.com"}
    ]);
    let (status, body) = app
        .admin(
            Method::POST,
            "/menus",
            Some(json!({"handle": "main", "title": "Main menu", "items": items})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let menu = app.get("/menus/main").await["data"].clone();
    assert_eq!(menu["items"][0]["items"][0]["url"], "/categories/lamps");
    assert_eq!(
        menu["items"][0]["items"][0]["items"][0]["url"],
        "/products/desk-lamp"
    );
    assert_eq!(menu["items"][1]["url"], "/pages/about");
    assert_eq!(menu["items"][2]["url"], "https://blog.example.com");

    // Links follow their targets: a renamed slug, a deleted page.
    app.admin(
        Method::PATCH,
        &format!("/products/{product}"),
        Some(json!({"slug": "lamp-2"})),
    )
    .await;
    app.admin(Method::DELETE, &format!("/pages/{page}"), None)
        .await;
    let menu = app.get("/menus/main").await["data"].clone();
    assert_eq!(
        menu["items"][0]["items"][0]["items"][0]["url"],
        "/products/lamp-2"
    );
    assert_eq!(menu["items"][1]["url"], Value::Null);

    // Targets must exist; shapes are checked; nothing changes on a refusal.
    let res = app
        .admin(
            Method::PATCH,
            "/menus/main",
            Some(json!({"items": [{"title": "Gone", "type": "PRODUCT", "targetId": "prd_nope"}]})),
        )
        .await;
    assert_unprocessable(&res, "items[0].targetId");
    let deep = json!([{"title": "1", "type": "URL", "url": "/a", "items": [{"title": "2", "type": "URL", "url": "/b",
        "items": [{"title": "3", "type": "URL", "url": "/c", "items": [{"title": "4", "type": "URL", "url": "/d"}]}]}]}]);
    for items in [
        deep,
        json!([{"title": "No url", "type": "URL"}]),
        json!([{"title": "Script", "type": "URL", "url": "javascript:alert(1)"}]),
        json!([{"title": "Both", "type": "PAGE", "targetId": "pg_x", "url": "/x"}]),
    ] {
        let res = app
            .admin(Method::PATCH, "/menus/main", Some(json!({"items": items})))
            .await;
        assert_eq!(res.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.1);
    }
    assert_eq!(
        app.get("/menus/main").await["data"]["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let res = app
        .admin(
            Method::POST,
            "/menus",
            Some(json!({"handle": "main", "title": "Again"})),
        )
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");

    // Browsers read menus; a draft product's link is hidden from them.
    app.admin(
        Method::PATCH,
        &format!("/products/{product}"),
        Some(json!({"status": "DRAFT"})),
    )
    .await;
    let pk = publishable(&app).await;
    let (status, body) = app
        .call(Method::GET, &app.api("/menus"), Some(&pk), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"][0]["items"][0]["items"][0]["items"][0]["url"],
        Value::Null
    );
    assert_eq!(
        body["data"][0]["items"][0]["items"][0]["url"],
        "/categories/lamps"
    );
}

#[tokio::test]
async fn the_site_publishes_languages_and_changes_currency_before_its_first_order() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .admin(
            Method::PATCH,
            "/site",
            Some(json!({"locales": ["en", "lv", "ru"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["locales"], json!(["en", "lv", "ru"]));
    // A new default language joins the list; a list without the default is refused.
    let (_, body) = app
        .admin(Method::PATCH, "/site", Some(json!({"locale": "de"})))
        .await;
    assert_eq!(body["data"]["locale"], "de");
    assert_eq!(body["data"]["locales"], json!(["de", "en", "lv", "ru"]));
    let res = app
        .admin(Method::PATCH, "/site", Some(json!({"locales": ["en"]})))
        .await;
    assert_unprocessable(&res, "locales");
    let res = app
        .admin(
            Method::PATCH,
            "/site",
            Some(json!({"locales": ["de", "de"]})),
        )
        .await;
    assert_unprocessable(&res, "locales[1]");

    let (_, body) = app
        .admin(Method::PATCH, "/site", Some(json!({"currency": "USD"})))
        .await;
    assert_eq!(body["data"]["currency"], "USD");
    let res = app
        .admin(Method::PATCH, "/site", Some(json!({"currency": "usd"})))
        .await;
    assert_eq!(res.0, StatusCode::BAD_REQUEST, "{}", res.1);
    app.post("/gift-cards", json!({"initialBalance": 1000}))
        .await;
    let res = app
        .admin(Method::PATCH, "/site", Some(json!({"currency": "EUR"})))
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    assert_eq!(app.get("/site").await["data"]["currency"], "USD");
}
