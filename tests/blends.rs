//! Custom blends: the operator's catalogue of fragrance categories and notes over the native API, and
//! customers' blends — their validation (ratios summing to one, known notes, one name per customer), the
//! profile derived from their notes, changes, public blends, recommendations, product tests — and
//! customers' scent profiles.

mod common;

use common::{TestApp, assert_error, assert_unprocessable, str_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shopvo::domain::blends::{self, NewBlend, Part};
use shopvo::domain::caller::Audience;
use shopvo::domain::customers::scent::{self, ScentPatch};
use shopvo::domain::{Caller, Error, sites};

async fn note(app: &TestApp, body: Value) -> String {
    str_of(&app.post("/blend-notes", body).await["data"]["id"])
}

/// A catalogue of two categories and three notes: (citrus, woody, [bergamot, lemon, cedar]).
async fn catalogue(app: &TestApp) -> (String, String, Vec<String>) {
    let citrus = str_of(
        &app.post("/blend-categories", json!({"name": "Citrus"}))
            .await["data"]["id"],
    );
    let woody = str_of(
        &app.post("/blend-categories", json!({"name": "Woody", "position": 1}))
            .await["data"]["id"],
    );
    let bergamot = note(
        app,
        json!({"name": "Bergamot", "categoryId": citrus, "intensity": 6,
        "volatility": "top", "mood": ["fresh", "uplifting"]}),
    )
    .await;
    let lemon = note(
        app,
        json!({"name": "Lemon", "categoryId": citrus, "intensity": 4,
        "volatility": "top", "mood": ["fresh"], "complementaryNoteIds": [bergamot]}),
    )
    .await;
    let cedar = note(
        app,
        json!({"name": "Cedar", "categoryId": woody, "intensity": 8,
        "volatility": "base", "mood": ["calm"]}),
    )
    .await;
    (citrus, woody, vec![bergamot, lemon, cedar])
}

#[tokio::test]
async fn the_catalogue_of_categories_and_notes() {
    let app = TestApp::spawn().await;
    let (citrus, _woody, notes) = catalogue(&app).await;
    let categories = app.get("/blend-categories").await;
    let names: Vec<&str> = categories["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Citrus", "Woody"]);
    assert_eq!(categories["data"][0]["slug"], "citrus");
    let res = app
        .admin(
            Method::POST,
            "/blend-categories",
            Some(json!({"name": "Citrus"})),
        )
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");

    let citrus_notes = app.get("/blend-notes?category=citrus").await;
    let names: Vec<&str> = citrus_notes["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Bergamot", "Lemon"]);
    assert_eq!(
        citrus_notes["data"][1]["complementaryNoteIds"],
        json!([notes[0]])
    );
    assert_eq!(
        app.get("/blend-notes?search=ced").await["data"][0]["volatility"],
        "base"
    );

    // Refused: a taken name, an unknown category, an intensity out of range, a missing field.
    let res = app
        .admin(
            Method::POST,
            "/blend-notes",
            Some(
                json!({"name": "Lemon", "categoryId": citrus, "intensity": 3, "volatility": "top"}),
            ),
        )
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    let res = app
        .admin(Method::POST, "/blend-notes", Some(json!({"name": "Yuzu", "categoryId": "bct_nope", "intensity": 3, "volatility": "top"})))
        .await;
    assert_unprocessable(&res, "categoryId");
    let res = app
        .admin(
            Method::POST,
            "/blend-notes",
            Some(
                json!({"name": "Yuzu", "categoryId": citrus, "intensity": 11, "volatility": "top"}),
            ),
        )
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(
        app.count("select count(*) from blend_notes where name = 'Yuzu'")
            .await,
        0
    );

    let (status, body) = app
        .admin(
            Method::PATCH,
            &format!("/blend-notes/{}", notes[1]),
            Some(json!({"intensity": 5, "description": "Zest."})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (
            body["data"]["intensity"].clone(),
            body["data"]["description"].clone()
        ),
        (json!(5), json!("Zest."))
    );
    let (status, _) = app
        .admin(Method::DELETE, &format!("/blend-notes/{}", notes[1]), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .admin(Method::DELETE, &format!("/blend-notes/{}", notes[1]), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

fn parts(list: &[(&str, i64)]) -> Vec<Part> {
    list.iter()
        .map(|(id, ratio)| Part {
            note_id: id.to_string(),
            ratio: *ratio,
        })
        .collect()
}

fn blend(name: &str, composition: Vec<Part>) -> NewBlend {
    NewBlend {
        name: name.into(),
        description: None,
        is_public: false,
        base_intensity: None,
        composition,
    }
}

#[tokio::test]
async fn blends_are_checked_and_profiled_from_their_notes() {
    let app = TestApp::spawn().await;
    let (citrus, woody, notes) = catalogue(&app).await;
    let customer = str_of(
        &app.post(
            "/customers",
            json!({"email": "ada@example.com", "firstName": "Ada"}),
        )
        .await["data"]["id"],
    );
    let caller = Caller::system(&app.site_id);
    let mut conn = app.pool.acquire().await.unwrap();
    let (b, l, c) = (notes[0].as_str(), notes[1].as_str(), notes[2].as_str());

    let made = blends::create(
        &mut conn,
        &caller,
        &customer,
        blend(
            "Morning walk",
            parts(&[(b, 500_000), (l, 250_000), (c, 250_000)]),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        made.profile.categories,
        [(citrus.clone(), 750_000), (woody.clone(), 250_000)]
    );
    assert_eq!(made.profile.moods[0], ("fresh".to_string(), 750_000));
    // 0.5 × 6 + 0.25 × 4 + 0.25 × 8 = 6.
    assert_eq!(made.profile.intensity, 6);

    // Ratios must sum to one within 0.001: 0.9995 passes, 0.99 does not.
    let near = blends::create(
        &mut conn,
        &caller,
        &customer,
        blend("Near", parts(&[(b, 499_500), (c, 500_000)])),
    )
    .await;
    assert!(near.is_ok(), "{near:?}");
    let off = blends::create(
        &mut conn,
        &caller,
        &customer,
        blend("Off", parts(&[(b, 490_000), (c, 500_000)])),
    )
    .await;
    assert!(matches!(off, Err(Error::Unprocessable(_))), "{off:?}");
    // An unknown note, a note twice, no notes, eleven notes, a taken name.
    let unknown = blends::create(
        &mut conn,
        &caller,
        &customer,
        blend("Unknown", parts(&[("bnt_nope", 1_000_000)])),
    )
    .await;
    assert!(
        matches!(unknown, Err(Error::NotFound("note"))),
        "{unknown:?}"
    );
    let twice = blends::create(
        &mut conn,
        &caller,
        &customer,
        blend("Twice", parts(&[(b, 500_000), (b, 500_000)])),
    )
    .await;
    assert!(matches!(twice, Err(Error::Unprocessable(_))), "{twice:?}");
    let none = blends::create(&mut conn, &caller, &customer, blend("None", Vec::new())).await;
    assert!(none.is_err());
    let eleven = vec![(b, 90_909i64); 11];
    let many = blends::create(&mut conn, &caller, &customer, blend("Many", parts(&eleven))).await;
    assert!(many.is_err());
    let taken = blends::create(
        &mut conn,
        &caller,
        &customer,
        blend("morning WALK", parts(&[(c, 1_000_000)])),
    )
    .await;
    assert!(matches!(taken, Err(Error::Conflict { .. })), "{taken:?}");
    assert_eq!(app.count("select count(*) from blends").await, 2);

    // Read back over the native API, with exact ratios and the profile.
    let listed = app.get(&format!("/blends?customerId={customer}")).await;
    let first = &listed["data"][0];
    assert_eq!(first["name"], "Morning walk");
    assert_eq!(
        first["notes"],
        json!([{"id": b, "ratio": 0.5}, {"id": l, "ratio": 0.25}, {"id": c, "ratio": 0.25}])
    );
    assert_eq!(
        first["profile"]["categories"][0],
        json!({"name": citrus, "share": 0.75})
    );
    assert_eq!(first["profile"]["intensity"], 6);
    // A note a blend uses cannot be deleted.
    let res = app
        .admin(Method::DELETE, &format!("/blend-notes/{c}"), None)
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");

    // A blend is its customer's: another customer neither reads nor deletes it.
    let other = str_of(
        &app.post("/customers", json!({"email": "bo@example.com"}))
            .await["data"]["id"],
    );
    let got = blends::get(&mut conn, &caller, &customer, &made.id)
        .await
        .unwrap();
    assert_eq!(got.name, "Morning walk");
    assert_eq!(got.profile.intensity, 6);
    let theirs = blends::get(&mut conn, &caller, &other, &made.id).await;
    assert!(
        matches!(theirs, Err(Error::NotFound("blend"))),
        "{theirs:?}"
    );
    let gone = blends::delete(&mut conn, &caller, &other, &made.id).await;
    assert!(matches!(gone, Err(Error::NotFound("blend"))), "{gone:?}");
    blends::delete(&mut conn, &caller, &customer, &made.id)
        .await
        .unwrap();
    assert_eq!(app.count("select count(*) from blends").await, 1);
}

async fn customer(app: &TestApp, email: &str) -> String {
    str_of(&app.post("/customers", json!({"email": email})).await["data"]["id"])
}

/// Creates a blend through the domain (the native API has no create yet) for `customer`.
async fn make(
    app: &TestApp,
    customer: &str,
    name: &str,
    public: bool,
    list: &[(&str, i64)],
) -> String {
    let mut conn = app.pool.acquire().await.unwrap();
    let input = NewBlend {
        is_public: public,
        ..blend(name, parts(list))
    };
    blends::create(&mut conn, &Caller::system(&app.site_id), customer, input)
        .await
        .unwrap()
        .id
}

/// A JSON ratio as millionths.
fn millionths(v: &Value) -> i64 {
    (v.as_f64().unwrap_or_else(|| panic!("not a number: {v}")) * 1e6).round() as i64
}

fn field_of(body: &Value) -> &Value {
    &body["details"][0]["field"]
}

#[tokio::test]
async fn blends_change_by_the_rules_of_new_ones() {
    let app = TestApp::spawn().await;
    let (citrus, woody, notes) = catalogue(&app).await;
    let (b, l, c) = (notes[0].as_str(), notes[1].as_str(), notes[2].as_str());
    let ada = customer(&app, "ada@example.com").await;
    let bo = customer(&app, "bo@example.com").await;
    let walk = make(
        &app,
        &ada,
        "Morning walk",
        false,
        &[(b, 500_000), (l, 500_000)],
    )
    .await;
    make(&app, &ada, "Evening", false, &[(c, 1_000_000)]).await;
    let bos = make(&app, &bo, "Bo's", false, &[(c, 1_000_000)]).await;
    let path = |id: &str, customer: &str| format!("/blends/{id}?customerId={customer}");

    let (status, body) = app
        .admin(
            Method::PATCH,
            &path(&walk, &ada),
            Some(
                json!({"name": " Dawn ", "isPublic": true, "baseIntensity": 5,
                "description": "Bright.",
                "composition": {"notes": [{"id": b, "ratio": 0.6}, {"id": c, "ratio": 0.4}]}}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = &body["data"];
    assert_eq!(
        (
            &data["name"],
            &data["isPublic"],
            &data["baseIntensity"],
            &data["description"]
        ),
        (&json!("Dawn"), &json!(true), &json!(5), &json!("Bright."))
    );
    assert_eq!(
        data["notes"],
        json!([{"id": b, "ratio": 0.6}, {"id": c, "ratio": 0.4}])
    );
    assert_eq!(
        data["profile"]["categories"],
        json!([{"name": citrus, "share": 0.6}, {"name": woody, "share": 0.4}])
    );
    // 0.6 × 6 + 0.4 × 8 = 6.8.
    assert_eq!(data["profile"]["intensity"], 7);

    // Ratios that do not sum to one: 422, and nothing of the request changes (the name neither).
    let res = app
        .admin(
            Method::PATCH,
            &path(&walk, &ada),
            Some(json!({"name": "Changed", "composition": {"notes": [{"id": b, "ratio": 0.5}, {"id": c, "ratio": 0.4}]}})),
        )
        .await;
    assert_unprocessable(&res, "composition.notes");
    // A ratio out of range: 400 naming it; one that rounds to nothing at six decimals: 422.
    let res = app
        .admin(
            Method::PATCH,
            &path(&walk, &ada),
            Some(json!({"composition": {"notes": [{"id": b, "ratio": 0.0000001}]}})),
        )
        .await;
    assert_unprocessable(&res, "composition.notes[0].ratio");
    for bad in [json!(1.5), json!(0), json!(-0.5)] {
        let res = app
            .admin(
                Method::PATCH,
                &path(&walk, &ada),
                Some(json!({"composition": {"notes": [{"id": b, "ratio": bad}]}})),
            )
            .await;
        assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_eq!(field_of(&res.1), "composition.notes[0].ratio", "{}", res.1);
    }
    // A note listed twice (422), an unknown note (404), eleven notes (400), an intensity of 11 (400).
    let res = app
        .admin(
            Method::PATCH,
            &path(&walk, &ada),
            Some(json!({"composition": {"notes": [{"id": b, "ratio": 0.5}, {"id": b, "ratio": 0.5}]}})),
        )
        .await;
    assert_unprocessable(&res, "composition.notes[1].id");
    let res = app
        .admin(
            Method::PATCH,
            &path(&walk, &ada),
            Some(json!({"composition": {"notes": [{"id": "bnt_nope", "ratio": 1}]}})),
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let eleven: Vec<Value> = (0..11)
        .map(|_| json!({"id": b, "ratio": 0.090909}))
        .collect();
    let res = app
        .admin(
            Method::PATCH,
            &path(&walk, &ada),
            Some(json!({"composition": {"notes": eleven}})),
        )
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let res = app
        .admin(
            Method::PATCH,
            &path(&walk, &ada),
            Some(json!({"baseIntensity": 11})),
        )
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    // The customer's other blend's name, in any case: 409.
    let res = app
        .admin(
            Method::PATCH,
            &path(&walk, &ada),
            Some(json!({"name": "EVENING"})),
        )
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    // Another customer's blend is not found, and neither is one that does not exist.
    let res = app
        .admin(
            Method::PATCH,
            &path(&bos, &ada),
            Some(json!({"name": "Mine"})),
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = app
        .admin(
            Method::PATCH,
            &path(&walk, &bo),
            Some(json!({"name": "Mine"})),
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    // The owner is required.
    let res = app
        .admin(
            Method::PATCH,
            &format!("/blends/{walk}"),
            Some(json!({"name": "X"})),
        )
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

    // Nothing of the refused requests happened.
    let got = app.get(&path(&walk, &ada)).await;
    assert_eq!(got["data"]["name"], "Dawn");
    assert_eq!(
        got["data"]["notes"],
        json!([{"id": b, "ratio": 0.6}, {"id": c, "ratio": 0.4}])
    );
    assert_eq!(got["data"]["baseIntensity"], 5);
    assert_eq!(
        app.count("select count(*) from blends where name in ('Changed', 'Mine', 'X')")
            .await,
        0
    );

    // `null` clears the description and the base intensity; what is left out stays.
    let (status, body) = app
        .admin(
            Method::PATCH,
            &path(&walk, &ada),
            Some(json!({"description": null, "baseIntensity": null})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (
            &body["data"]["description"],
            &body["data"]["baseIntensity"],
            &body["data"]["name"]
        ),
        (&Value::Null, &Value::Null, &json!("Dawn"))
    );

    // In the domain: a storefront caller changes only its own signed-in customer's blends.
    let mut conn = app.pool.acquire().await.unwrap();
    let browser = |customer: Option<&str>| Caller {
        audience: Audience::Publishable,
        customer_id: customer.map(String::from),
        ..Caller::system(&app.site_id)
    };
    let patch = || blends::BlendPatch {
        name: Some("Stolen".into()),
        ..Default::default()
    };
    for caller in [browser(None), browser(Some(&bo))] {
        let res = blends::update(&mut conn, &caller, &ada, &walk, patch()).await;
        assert!(matches!(res, Err(Error::Forbidden(_))), "{res:?}");
        let res = blends::create(
            &mut conn,
            &caller,
            &ada,
            blend("Stolen", parts(&[(c, 1_000_000)])),
        )
        .await;
        assert!(matches!(res, Err(Error::Forbidden(_))), "{res:?}");
    }
    let mine = blends::update(&mut conn, &browser(Some(&ada)), &ada, &walk, patch())
        .await
        .unwrap();
    assert_eq!(mine.name, "Stolen");
}

async fn publishable_key(app: &TestApp) -> String {
    str_of(&app.post("/api-keys", json!({"publishable": true})).await["data"]["secret"])
}

/// Registers a shopper with the storefront key; returns (customer id, access token).
async fn shopper(app: &TestApp, pk: &str, email: &str) -> (String, String) {
    let (status, body) = app
        .call(
            Method::POST,
            &app.api("/auth/register"),
            Some(pk),
            Some(json!({"email": email, "password": "a long password 1"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = str_of(&body["data"]["accessToken"]);
    let id = str_of(&body["data"]["customer"]["id"]);
    (id, token)
}

/// A request with the storefront key and, optionally, a customer's token.
async fn as_shopper(
    app: &TestApp,
    pk: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app.client.request(method, app.api(path)).bearer_auth(pk);
    if let Some(t) = token {
        req = req.header("X-Customer-Token", t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn public_blends_are_everyones_and_private_ones_their_owners() {
    let app = TestApp::spawn().await;
    let (_, _, notes) = catalogue(&app).await;
    let c = notes[2].as_str();
    let ada = customer(&app, "ada@example.com").await;
    let bo = customer(&app, "bo@example.com").await;
    let secret = make(&app, &ada, "Secret", false, &[(c, 1_000_000)]).await;
    let shared = make(&app, &ada, "Shared", true, &[(c, 1_000_000)]).await;
    let bos = make(&app, &bo, "Bo's pick", true, &[(c, 1_000_000)]).await;

    let status = |path: String| {
        let app = &app;
        async move { app.admin(Method::GET, &path, None).await.0 }
    };
    assert_eq!(
        status(format!("/blends/{secret}?customerId={ada}")).await,
        StatusCode::OK
    );
    assert_eq!(
        status(format!("/blends/{secret}?customerId={bo}")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(format!("/blends/{secret}")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(format!("/blends/{shared}?customerId={bo}")).await,
        StatusCode::OK
    );
    assert_eq!(status(format!("/blends/{shared}")).await, StatusCode::OK);
    assert_eq!(
        status("/blends/bld_nope".to_string()).await,
        StatusCode::NOT_FOUND
    );

    // Newest first, every customer's public blends and no private one.
    let listed = app.get("/blends/public").await;
    let names: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Bo's pick", "Shared"]);
    assert_eq!(listed["pagination"]["total"], 2);
    assert_eq!(listed["items"][0]["id"], json!(bos));
    let first = app.get("/blends/public?cursor=&limit=1").await;
    assert_eq!(first["items"][0]["name"], "Bo's pick");
    assert_eq!(first["hasNextPage"], true);
    let next = app
        .get(&format!(
            "/blends/public?limit=1&cursor={}",
            str_of(&first["cursor"])
        ))
        .await;
    assert_eq!(next["items"][0]["name"], "Shared");
    assert_eq!(next["hasNextPage"], false);

    // A storefront key: public blends, and its signed-in customer's own.
    let pk = publishable_key(&app).await;
    let (shopper_id, token) = shopper(&app, &pk, "cy@example.com").await;
    let own = make(&app, &shopper_id, "Own", false, &[(c, 1_000_000)]).await;
    let (status, body) = as_shopper(
        &app,
        &pk,
        Method::GET,
        &format!("/blends/{own}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let res = as_shopper(
        &app,
        &pk,
        Method::GET,
        &format!("/blends/{own}"),
        None,
        None,
    )
    .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = as_shopper(
        &app,
        &pk,
        Method::GET,
        &format!("/blends/{secret}"),
        Some(&token),
        None,
    )
    .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    // Naming another customer is refused; so is changing a blend (the key has no `write:customers`).
    let res = as_shopper(
        &app,
        &pk,
        Method::GET,
        &format!("/blends/{secret}?customerId={ada}"),
        None,
        None,
    )
    .await;
    assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    let res = as_shopper(
        &app,
        &pk,
        Method::PATCH,
        &format!("/blends/{own}?customerId={shopper_id}"),
        Some(&token),
        Some(json!({"isPublic": true})),
    )
    .await;
    assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    let (status, body) = as_shopper(&app, &pk, Method::GET, "/blends/public", None, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 2);

    // Made public, a blend is everyone's; private again, only its owner's.
    let (s, _) = app
        .admin(
            Method::PATCH,
            &format!("/blends/{secret}?customerId={ada}"),
            Some(json!({"isPublic": true})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = as_shopper(
        &app,
        &pk,
        Method::GET,
        &format!("/blends/{secret}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    app.admin(
        Method::PATCH,
        &format!("/blends/{secret}?customerId={ada}"),
        Some(json!({"isPublic": false})),
    )
    .await;
    let (s, _) = as_shopper(
        &app,
        &pk,
        Method::GET,
        &format!("/blends/{secret}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// The demo site's fragrance catalogue (seeded by `shopvo demo`, twice to show it is added once) and an
/// admin key of it: (site id, key).
async fn demo_site(app: &TestApp) -> (String, String) {
    for _ in 0..2 {
        shopvo::demo::run(&app.pool, &app.server_key, "http://127.0.0.1", true)
            .await
            .unwrap();
    }
    let site = sites::find_by_alias(&mut app.pool.acquire().await.unwrap(), "demo")
        .await
        .unwrap()
        .unwrap()
        .id;
    let key = app.key(&site, &["admin:*"]).await;
    (site, key)
}

#[tokio::test]
async fn the_demo_site_has_a_fragrance_catalogue() {
    let app = TestApp::spawn().await;
    let (site, _) = demo_site(&app).await;
    let count = |table: &str| {
        let sql = format!("select count(*) from {table} where site_id = '{site}'");
        let app = &app;
        async move { app.count(&sql).await }
    };
    assert_eq!(count("blend_categories").await, 6);
    assert_eq!(count("blend_notes").await, 18);
    // Every note names complementary notes, and every tier has notes.
    assert_eq!(
        app.count(&format!(
            "select count(*) from blend_notes where site_id = '{site}' and cardinality(complementary_note_ids) = 0"
        ))
        .await,
        0
    );
    for tier in ["top", "middle", "base"] {
        let n = app
            .count(&format!(
                "select count(*) from blend_notes where site_id = '{site}' and volatility = '{tier}'"
            ))
            .await;
        assert!(n >= 4, "{tier}: {n}");
    }
}

#[tokio::test]
async fn recommendations_are_deterministic_and_follow_the_request_and_profile() {
    let app = TestApp::spawn().await;
    let (site, key) = demo_site(&app).await;
    let call = |method: Method, path: String, body: Option<Value>| {
        let app = &app;
        let url = format!("{}/api/v1/{site}{path}", app.url);
        let key = key.clone();
        async move { app.call(method, &url, Some(&key), body).await }
    };
    let get = |path: &str| {
        let call = &call;
        let path = path.to_string();
        async move {
            let (status, body) = call(Method::GET, path.clone(), None).await;
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            body
        }
    };
    let notes = get("/blend-notes").await;
    let note = |id: &Value| -> Value {
        notes["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == *id)
            .unwrap_or_else(|| panic!("no note {id}"))
            .clone()
    };
    let id_of = |name: &str| -> String {
        str_of(
            &notes["data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|n| n["name"] == name)
                .unwrap()["id"],
        )
    };
    let check_sums = |body: &Value| {
        for r in body["data"].as_array().unwrap() {
            let sum: i64 = r["notes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| millionths(&p["ratio"]))
                .sum();
            assert_eq!(sum, 1_000_000, "{r}");
            let score = r["score"].as_i64().unwrap();
            assert!((0..=100).contains(&score), "{r}");
            assert!(!r["reasons"].as_array().unwrap().is_empty());
        }
    };

    // The same request twice: the same answer.
    let first = get("/blends/recommendations?occasion=evening&limit=5").await;
    let again = get("/blends/recommendations?occasion=evening&limit=5").await;
    assert_eq!(first, again);
    assert_eq!(first["data"].as_array().unwrap().len(), 5);
    check_sums(&first);
    assert!(
        first["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["name"].as_str().unwrap().starts_with("Evening ")),
        "{first}"
    );
    // Best first.
    let scores: Vec<i64> = first["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["score"].as_i64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    let default = get("/blends/recommendations").await;
    assert_eq!(default["data"].as_array().unwrap().len(), 3);
    check_sums(&default);

    // A mood: every suggested note has it.
    let calm = get("/blends/recommendations?mood=Calm&limit=10").await;
    check_sums(&calm);
    assert!(!calm["data"].as_array().unwrap().is_empty());
    for r in calm["data"].as_array().unwrap() {
        for p in r["notes"].as_array().unwrap() {
            let n = note(&p["id"]);
            assert!(
                n["mood"].as_array().unwrap().contains(&json!("calm")),
                "{} in {}",
                n["name"],
                r["name"]
            );
        }
    }
    // A category (by slug): its notes lead.
    let woody = get("/blends/recommendations?category=woody&limit=10").await;
    check_sums(&woody);
    for r in woody["data"].as_array().unwrap() {
        let lead = str_of(&r["reasons"][0]);
        assert!(lead.ends_with("(Woody)"), "{lead}");
    }
    assert_eq!(
        woody["data"].as_array().unwrap().len(),
        3,
        "one per woody note: {woody}"
    );

    // Refused: an unknown category (404), an unknown occasion or a limit out of range (400).
    let res = call(
        Method::GET,
        "/blends/recommendations?category=nope".into(),
        None,
    )
    .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    for bad in [
        "occasion=brunch",
        "limit=101",
        "limit=0",
        "limit=-1",
        "limit=",
    ] {
        let res = call(Method::GET, format!("/blends/recommendations?{bad}"), None).await;
        assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    }

    // A customer's scent profile: disliked notes never appear; their categories and intensity count.
    let (status, body) = call(
        Method::POST,
        "/customers".into(),
        Some(json!({"email": "ada@example.com"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let ada = str_of(&body["data"]["id"]);
    let disliked = [id_of("Bergamot"), id_of("Sandalwood"), id_of("Vanilla")];
    let (status, body) = call(
        Method::PATCH,
        format!("/customers/{ada}/scent-profile"),
        Some(
            json!({"dislikedNoteIds": disliked, "preferredCategories": ["citrus"],
            "preferredMoods": ["fresh"], "intensity": 4}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let path = format!("/blends/recommendations?customerId={ada}&limit=10");
    let mine = get(&path).await;
    assert_eq!(mine, get(&path).await);
    check_sums(&mine);
    let all: Vec<&Value> = mine["data"].as_array().unwrap().iter().collect();
    assert_eq!(all.len(), 10);
    for r in &all {
        for p in r["notes"].as_array().unwrap() {
            assert!(
                !disliked.contains(&str_of(&p["id"])),
                "a disliked note in {r}"
            );
        }
        assert!(
            r["reasons"]
                .as_array()
                .unwrap()
                .contains(&json!("leaves out the notes you dislike")),
            "{r}"
        );
    }
    // The best lead is Lemon (citrus, fresh, intensity 6 near 4: 15 + 8 + 6 + 6 for its three
    // complementary notes), and its suggestion says why.
    let lemon = all
        .iter()
        .find(|r| r["reasons"][0] == "led by Lemon (Citrus)")
        .unwrap_or_else(|| panic!("no suggestion led by Lemon: {mine}"));
    let reasons: Vec<&str> = lemon["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(reasons.contains(&"your categories: Citrus"), "{reasons:?}");
    assert!(reasons.contains(&"your moods: fresh"), "{reasons:?}");
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("intensity ") && r.ends_with("(you prefer 4)")),
        "{reasons:?}"
    );
    // Without the profile, the disliked notes do appear.
    let anyone = get("/blends/recommendations?limit=10").await;
    assert!(
        anyone["data"].as_array().unwrap().iter().any(|r| r["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| disliked.contains(&str_of(&p["id"])))),
        "{anyone}"
    );
    // An unknown customer is not found.
    let res = call(
        Method::GET,
        "/blends/recommendations?customerId=cust_nope".into(),
        None,
    )
    .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
}

#[tokio::test]
async fn blends_are_tested_against_products_by_their_type() {
    let app = TestApp::spawn().await;
    let (_, _, notes) = catalogue(&app).await;
    let (b, l, c) = (notes[0].as_str(), notes[1].as_str(), notes[2].as_str());
    let floral = str_of(
        &app.post("/blend-categories", json!({"name": "Floral"}))
            .await["data"]["id"],
    );
    let lavender = note(
        &app,
        json!({"name": "Lavender", "categoryId": floral, "intensity": 5, "volatility": "middle", "mood": ["calm"]}),
    )
    .await;
    let ada = customer(&app, "ada@example.com").await;
    let bo = customer(&app, "bo@example.com").await;
    // 0.3 × 6 + 0.4 × 5 + 0.3 × 8 = 6.2: a top / middle / base blend.
    let rounded = make(
        &app,
        &ada,
        "Rounded",
        false,
        &[(b, 300_000), (&lavender, 400_000), (c, 300_000)],
    )
    .await;
    // Only top notes, two of them.
    let airy = make(&app, &ada, "Airy", false, &[(b, 500_000), (l, 500_000)]).await;
    let bos = make(&app, &bo, "Bo's", false, &[(c, 1_000_000)]).await;

    let candles = str_of(&app.post("/categories", json!({"name": "Candles"})).await["data"]["id"]);
    let candle = str_of(
        &app.product(json!({"name": "Amber Jar", "price": 2400, "categoryIds": [candles]}))
            .await["id"],
    );
    let mug = str_of(
        &app.product(json!({"name": "Stoneware Mug", "price": 1450}))
            .await["id"],
    );
    let draft = str_of(
        &app.product(json!({"name": "Draft Candle", "price": 100, "status": "DRAFT"}))
            .await["id"],
    );
    let test = |blend: &str, customer: &str, product: &str| {
        let path = format!("/blends/{blend}/test-product?customerId={customer}");
        let body = json!({"productId": product});
        let app = &app;
        async move { app.admin(Method::POST, &path, Some(body)).await }
    };
    let rules = |body: &Value| -> Vec<(String, bool)> {
        body["data"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (str_of(&r["rule"]), r["passed"].as_bool().unwrap()))
            .collect()
    };
    let owned = |list: &[(&str, bool)]| -> Vec<(String, bool)> {
        list.iter().map(|(r, p)| (r.to_string(), *p)).collect()
    };

    let (status, body) = test(&rounded, &ada, &candle).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["productType"], "candle");
    assert_eq!(body["data"]["compatible"], true);
    assert_eq!(body["data"]["score"], 100);
    assert_eq!(
        rules(&body),
        owned(&[
            ("product_type", true),
            ("intensity", true),
            ("volatility.base", true),
            ("volatility.top", true),
            ("base_intensity", true),
            ("note_count", true)
        ])
    );

    // All top notes in a candle: no throw (no base notes, too many top notes), and only two notes.
    let (status, body) = test(&airy, &ada, &candle).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["compatible"], false);
    assert_eq!(
        rules(&body),
        owned(&[
            ("product_type", true),
            ("intensity", true),
            ("volatility.base", false),
            ("volatility.top", false),
            ("base_intensity", true),
            ("note_count", false)
        ])
    );
    // 100 - (10 + 40 × 0.25) - (10 + 40 × 0.6) - 10.
    assert_eq!(body["data"]["score"], 36);
    let severities: Vec<&str> = body["data"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["severity"].as_str().unwrap())
        .collect();
    assert_eq!(
        severities,
        [
            "info", "required", "required", "required", "advice", "advice"
        ]
    );

    // A product of no known type: neutral rules (the note count is only advice).
    let (status, body) = test(&airy, &ada, &mug).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["productType"], Value::Null);
    assert_eq!(body["data"]["compatible"], true);
    assert_eq!(body["data"]["score"], 90);
    assert_eq!(
        rules(&body),
        owned(&[
            ("product_type", true),
            ("intensity", true),
            ("base_intensity", true),
            ("note_count", false)
        ])
    );

    // Not found: an unknown product, another customer's private blend.
    let res = test(&rounded, &ada, "prd_nope").await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert!(
        res.1["error"].as_str().unwrap().starts_with("Product"),
        "{}",
        res.1
    );
    let res = test(&bos, &ada, &candle).await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert!(
        res.1["error"].as_str().unwrap().starts_with("Blend"),
        "{}",
        res.1
    );

    // A storefront key does not see a draft product; a public blend is anyone's to test.
    app.admin(
        Method::PATCH,
        &format!("/blends/{rounded}?customerId={ada}"),
        Some(json!({"isPublic": true, "baseIntensity": 9})),
    )
    .await;
    let pk = publishable_key(&app).await;
    let res = as_shopper(
        &app,
        &pk,
        Method::POST,
        &format!("/blends/{rounded}/test-product"),
        None,
        Some(json!({"productId": draft})),
    )
    .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let (status, body) = as_shopper(
        &app,
        &pk,
        Method::POST,
        &format!("/blends/{rounded}/test-product"),
        None,
        Some(json!({"productId": candle})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Its intensity (6) is now 3 from the base intensity (9): advice, one point past the slack of 2.
    assert_eq!(body["data"]["compatible"], true);
    assert_eq!(body["data"]["score"], 95);
    // The admin sees the draft: a candle by its name.
    let (status, body) = test(&rounded, &ada, &draft).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["productType"], "candle");
}

#[tokio::test]
async fn scent_profiles_are_read_changed_and_checked() {
    let app = TestApp::spawn().await;
    let (citrus, woody, notes) = catalogue(&app).await;
    let ada = customer(&app, "ada@example.com").await;
    let path = format!("/customers/{ada}/scent-profile");

    let empty = app.get(&path).await;
    assert_eq!(
        empty["data"],
        json!({"customerId": ada, "preferredCategories": [], "preferredMoods": [], "dislikedNoteIds": [],
            "intensity": null, "occasions": [], "updatedAt": null})
    );

    let (status, body) = app
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"preferredCategories": ["citrus", woody, "citrus"], "preferredMoods": ["calm", "fresh"],
                "dislikedNoteIds": [notes[1]], "intensity": 7, "occasions": ["evening", "laid-back"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = &body["data"];
    // Categories by slug are kept as ids, once each.
    assert_eq!(data["preferredCategories"], json!([citrus, woody]));
    assert_eq!(data["preferredMoods"], json!(["calm", "fresh"]));
    assert_eq!(data["dislikedNoteIds"], json!([notes[1]]));
    assert_eq!(data["intensity"], 7);
    assert_eq!(data["occasions"], json!(["evening", "laid-back"]));
    assert!(data["updatedAt"].is_string());
    assert_eq!(app.get(&path).await["data"], *data);

    // Refused, and nothing changes: an unknown category or note (422), an intensity out of range, a mood
    // that is not a lower-case word, too many occasions, an unknown field (400).
    let res = app
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"preferredCategories": ["woody", "nope"], "intensity": 2})),
        )
        .await;
    assert_unprocessable(&res, "preferredCategories[1]");
    let res = app
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"dislikedNoteIds": ["bnt_nope"]})),
        )
        .await;
    assert_unprocessable(&res, "dislikedNoteIds[0]");
    let res = app
        .admin(Method::PATCH, &path, Some(json!({"intensity": 11})))
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(field_of(&res.1), "intensity");
    let res = app
        .admin(
            Method::PATCH,
            &path,
            Some(json!({"preferredMoods": ["calm", "Bold"]})),
        )
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(field_of(&res.1), "preferredMoods[1]");
    let many: Vec<String> = (0..21)
        .map(|i| format!("occasion-{}", "x".repeat(i + 1)))
        .collect();
    let res = app
        .admin(Method::PATCH, &path, Some(json!({"occasions": many})))
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(field_of(&res.1), "occasions");
    let res = app
        .admin(Method::PATCH, &path, Some(json!({"favourite": "x"})))
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(app.get(&path).await["data"], *data);

    // `null` clears the intensity; what is left out stays.
    let (status, body) = app
        .admin(Method::PATCH, &path, Some(json!({"intensity": null})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["intensity"], Value::Null);
    assert_eq!(body["data"]["preferredMoods"], json!(["calm", "fresh"]));

    // An unknown customer is not found, for reads and changes.
    let res = app
        .admin(Method::GET, "/customers/cust_nope/scent-profile", None)
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = app
        .admin(
            Method::PATCH,
            "/customers/cust_nope/scent-profile",
            Some(json!({"intensity": 3})),
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");

    // In the domain: a storefront caller reads and changes only its own signed-in customer's profile.
    let mut conn = app.pool.acquire().await.unwrap();
    let browser = |customer: Option<&str>| Caller {
        audience: Audience::Publishable,
        customer_id: customer.map(String::from),
        ..Caller::system(&app.site_id)
    };
    let other = customer(&app, "bo@example.com").await;
    for caller in [browser(None), browser(Some(&other))] {
        let res = scent::update(&mut conn, &caller, &ada, ScentPatch::default()).await;
        assert!(matches!(res, Err(Error::Forbidden(_))), "{res:?}");
        let res = scent::get_for(&mut conn, &caller, &ada).await;
        assert!(matches!(res, Err(Error::Forbidden(_))), "{res:?}");
    }
    let own = scent::get_for(&mut conn, &browser(Some(&ada)), &ada)
        .await
        .unwrap();
    assert_eq!(own.preferred_moods, ["calm", "fresh"]);

    // The profile goes with its customer.
    let (status, _) = app
        .admin(Method::DELETE, &format!("/customers/{ada}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app.count("select count(*) from customer_scent_profiles")
            .await,
        0
    );
}

/// The API document lists the occasions recommendations know: the domain's table.
#[test]
fn the_documented_occasions_are_the_domains() {
    let doc: Value = serde_json::from_str(&shopvo::api::v1::openapi().to_json().unwrap()).unwrap();
    let params = doc["paths"]["/api/v1/{siteId}/blends/recommendations"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let occasion = params.iter().find(|p| p["name"] == "occasion").unwrap();
    let profile = &doc["components"]["schemas"]["ScentProfilePatch"]["properties"]["occasions"];
    for described in [&occasion["description"], &profile["description"]] {
        let text = described.as_str().unwrap();
        let named = text.matches('`').count() / 2;
        assert_eq!(named, blends::OCCASIONS.len(), "{text}");
        for (name, _) in blends::OCCASIONS {
            assert!(text.contains(&format!("`{name}`")), "{name}: {text}");
        }
    }
}
