//! Custom blends: the operator's catalogue of fragrance categories and notes over the native API, and
//! customers' blends — their validation (ratios summing to one, known notes, one name per customer) and
//! the profile derived from their notes.

mod common;

use common::{TestApp, assert_error, assert_unprocessable, str_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shopvo::domain::Caller;
use shopvo::domain::blends::{self, NewBlend, Part};

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
    assert!(
        matches!(off, Err(shopvo::domain::Error::Unprocessable(_))),
        "{off:?}"
    );
    // An unknown note, a note twice, no notes, eleven notes, a taken name.
    let unknown = blends::create(
        &mut conn,
        &caller,
        &customer,
        blend("Unknown", parts(&[("bnt_nope", 1_000_000)])),
    )
    .await;
    assert!(
        matches!(unknown, Err(shopvo::domain::Error::NotFound("note"))),
        "{unknown:?}"
    );
    let twice = blends::create(
        &mut conn,
        &caller,
        &customer,
        blend("Twice", parts(&[(b, 500_000), (b, 500_000)])),
    )
    .await;
    assert!(
        matches!(twice, Err(shopvo::domain::Error::Unprocessable(_))),
        "{twice:?}"
    );
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
    assert!(
        matches!(taken, Err(shopvo::domain::Error::Conflict { .. })),
        "{taken:?}"
    );
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
        matches!(theirs, Err(shopvo::domain::Error::NotFound("blend"))),
        "{theirs:?}"
    );
    let gone = blends::delete(&mut conn, &caller, &other, &made.id).await;
    assert!(
        matches!(gone, Err(shopvo::domain::Error::NotFound("blend"))),
        "{gone:?}"
    );
    blends::delete(&mut conn, &caller, &customer, &made.id)
        .await
        .unwrap();
    assert_eq!(app.count("select count(*) from blends").await, 1);
}
