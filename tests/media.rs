//! Product images over HTTP: uploads as JSON base64 and as multipart, checked by content; the product's
//! `images` in order; the stored files served with their type and cache headers; refusals that store
//! nothing; path traversal; deletes that remove the row, the URL and the file; sites apart.

mod common;

use std::path::{Path, PathBuf};

use base64::Engine;
use common::{TestApp, assert_error, assert_unprocessable, str_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shopvo::config::Config;
use shopvo::domain::media;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Image URLs start with this; the test maps them onto the server's address.
const PUBLIC_URL: &str = "https://cdn.shop.test/media";

struct MediaApp {
    app: TestApp,
    dir: PathBuf,
}

impl Drop for MediaApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An app whose media folder is a temporary folder of its own.
async fn spawn(max_bytes: usize) -> MediaApp {
    let dir = std::env::temp_dir().join(format!(
        "shopvo-media-{}-{}",
        std::process::id(),
        shopvo::crypto::random_token(8)
    ));
    let config = Config {
        rate_limit: false,
        media: media::Settings {
            max_bytes,
            public_url: PUBLIC_URL.into(),
            backend: media::Backend::Local { dir: dir.clone() },
        },
        ..Config::default()
    };
    MediaApp {
        app: TestApp::spawn_with(config).await,
        dir,
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A real 1×1 RGBA PNG (stored, uncompressed zlib), with `padding` bytes of an ancillary chunk.
fn png(padding: usize) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend(kind);
        out.extend(data);
        let crc = crc32(&out[start..]);
        out.extend(crc.to_be_bytes());
    }
    let raw = [0u8, 0xFF, 0x00, 0x00, 0xFF]; // filter 0, one red pixel
    let (mut a, mut b) = (1u32, 0u32);
    for &x in &raw {
        a = (a + x as u32) % 65521;
        b = (b + a) % 65521;
    }
    let mut zlib = vec![0x78, 0x01, 0x01, 0x05, 0x00, 0xFA, 0xFF];
    zlib.extend(raw);
    zlib.extend(((b << 16) | a).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
    if padding > 0 {
        chunk(&mut out, b"tEXt", &[b'a'; 1].repeat(padding));
    }
    chunk(&mut out, b"IDAT", &zlib);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A real 1×1 grey baseline JPEG: one quantisation table, one-code Huffman tables, one block.
fn jpeg() -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    out.extend([0xFF, 0xDB, 0x00, 0x43, 0x00]);
    out.extend([1u8; 64]);
    out.extend([
        0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11, 0x00,
    ]);
    for class in [0x00, 0x10] {
        out.extend([0xFF, 0xC4, 0x00, 0x14, class, 0x01]);
        out.extend([0u8; 15]);
        out.push(0x00);
    }
    out.extend([0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
    out.push(0x3F); // DC difference 0, end of block, padded with ones
    out.extend([0xFF, 0xD9]);
    out
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl MediaApp {
    fn images_path(&self, product: &str) -> String {
        format!("/products/{product}/images")
    }

    async fn upload_json(
        &self,
        product: &str,
        bytes: &[u8],
        filename: &str,
    ) -> (StatusCode, Value) {
        self.app
            .admin(
                Method::POST,
                &self.images_path(product),
                Some(json!({"data": b64(bytes), "filename": filename})),
            )
            .await
    }

    async fn upload_multipart(
        &self,
        product: &str,
        bytes: &[u8],
        filename: &str,
        part_type: &str,
    ) -> (StatusCode, Value) {
        let boundary = "shopvo-test-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"alt\"\r\n\r\nignored\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
             Content-Type: {part_type}\r\n\r\n"
        )
        .into_bytes();
        body.extend(bytes);
        body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
        let res = self
            .app
            .client
            .post(self.app.api(&self.images_path(product)))
            .bearer_auth(&self.app.admin_key)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// GET of an image URL from this server: status, content type, cache control, nosniff, body.
    async fn fetch(&self, url: &str) -> (StatusCode, [String; 3], Vec<u8>) {
        let path = url.strip_prefix(PUBLIC_URL).expect("an image URL");
        let res = self
            .app
            .client
            .get(format!("{}/media{path}", self.app.url))
            .send()
            .await
            .unwrap();
        let header = |name: &str| {
            res.headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        let headers = [
            header("content-type"),
            header("cache-control"),
            header("x-content-type-options"),
        ];
        (res.status(), headers, res.bytes().await.unwrap().to_vec())
    }

    /// Files in the media folder (`.partial` ones too).
    fn stored_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.dir, &mut out);
        out
    }
}

/// A raw HTTP/1.1 GET, so the path reaches the server exactly as written (clients normalise `..`).
async fn raw_get(app: &TestApp, path: &str) -> u16 {
    let addr = app.url.strip_prefix("http://").unwrap();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response);
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {response}"))
}

#[tokio::test]
async fn uploads_are_appended_in_order_and_served() {
    let m = spawn(10 * 1024 * 1024).await;
    let app = &m.app;
    let existing = "https://images.example.com/already-there.jpg";
    let product = str_of(
        &app.product(json!({"name": "Lamp", "price": 4500, "slug": "lamp", "images": [existing]}))
            .await["id"],
    );
    let events_before = app
        .count("select count(*) from events where type = 'product.updated'")
        .await;

    let (png, jpeg) = (png(0), jpeg());
    let (status, body) = m.upload_json(&product, &png, "front.png").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let first = body["data"].clone();
    assert!(str_of(&first["id"]).starts_with("img_"), "{first}");
    assert_eq!(first["position"], 0);
    assert_eq!(first["contentType"], "image/png");
    assert_eq!(first["size"], png.len());
    assert_eq!(first["filename"], "front.png");
    assert!(first["createdAt"].is_string());
    let png_url = str_of(&first["url"]);
    let expected = format!(
        "{PUBLIC_URL}/{}/{product}/{}.png",
        app.site_id,
        str_of(&first["id"])
    );
    assert_eq!(png_url, expected);

    // Multipart, by slug, with a path in the file name and a part type that is not trusted.
    let (status, body) = m
        .upload_multipart(
            "lamp",
            &jpeg,
            "C:\\photos\\side.jpeg",
            "application/octet-stream",
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let second = body["data"].clone();
    assert_eq!(second["position"], 1);
    assert_eq!(second["contentType"], "image/jpeg");
    assert_eq!(second["size"], jpeg.len());
    assert_eq!(second["filename"], "side.jpeg");
    let jpeg_url = str_of(&second["url"]);
    assert!(jpeg_url.ends_with(".jpg"), "{jpeg_url}");

    // The product shows them after what it had, in order; each upload was a product.updated.
    let read = app.get(&format!("/products/{product}")).await;
    assert_eq!(read["data"]["images"], json!([existing, png_url, jpeg_url]));
    let events_after = app
        .count("select count(*) from events where type = 'product.updated'")
        .await;
    assert_eq!(events_after - events_before, 2);
    let list = app.get(&m.images_path(&product)).await;
    let ids: Vec<&Value> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["id"])
        .collect();
    assert_eq!(ids, [&first["id"], &second["id"]]);
    assert_eq!(list["data"][1]["url"], jpeg_url.as_str());

    // Served back byte for byte, typed and cacheable, without authentication.
    for (url, bytes, content_type) in [
        (&png_url, &png, "image/png"),
        (&jpeg_url, &jpeg, "image/jpeg"),
    ] {
        let (status, headers, body) = m.fetch(url).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            headers,
            [
                content_type.to_string(),
                "public, max-age=31536000, immutable".to_string(),
                "nosniff".to_string()
            ]
        );
        assert_eq!(&body, bytes);
    }
    assert_eq!(m.stored_files().len(), 2);

    // Deleting the product leaves no rows (its stored files stay behind).
    let (status, _) = app
        .admin(Method::DELETE, &format!("/products/{product}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.count("select count(*) from product_images").await, 0);
}

#[tokio::test]
async fn what_is_not_an_image_or_too_large_is_refused_and_nothing_is_stored() {
    let m = spawn(1024).await;
    let app = &m.app;
    let product = str_of(&app.product(json!({"name": "Vase", "price": 900})).await["id"]);
    let text = b"this is a text file, whatever its name says\n";

    let res = m
        .upload_multipart(&product, text, "photo.png", "image/png")
        .await;
    assert_unprocessable(&res, "file");
    assert!(
        str_of(&res.1["error"]).contains("JPEG, PNG, WebP or GIF"),
        "{}",
        res.1
    );
    assert_unprocessable(&m.upload_json(&product, text, "photo.png").await, "data");
    // A part whose name holds a control character cannot be read: the upload is refused as unprocessable (found by the
    // contract fuzzer, which sends such forms as schema-valid).
    let boundary = "b0undary";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"").into_bytes();
    body.extend(b"4\xf0\xb6\x85\xae~I\x02");
    body.extend(format!("\"\r\n\r\nx\r\n--{boundary}\r\n").into_bytes());
    body.extend(b"Content-Disposition: form-data; name=\"file\"; filename=\"file\"\r\n\r\n");
    body.extend(png(0));
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let res = app
        .client
        .post(app.api(&format!("/products/{product}/images")))
        .bearer_auth(&app.admin_key)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let res = (status, res.json::<Value>().await.unwrap_or(Value::Null));
    assert_unprocessable(&res, "file");
    assert_unprocessable(
        &m.upload_json(&product, &png(0)[..12], "cut.png").await,
        "data",
    );
    assert_unprocessable(&m.upload_json(&product, b"", "empty.png").await, "data");

    // Over the media limit: a 422 naming the limit; far over it, the body itself is refused (413).
    let big = png(2000);
    let res = m.upload_json(&product, &big, "big.png").await;
    assert_unprocessable(&res, "data");
    assert!(str_of(&res.1["error"]).contains("1024"), "{}", res.1);
    assert_unprocessable(
        &m.upload_multipart(&product, &big, "big.png", "image/png")
            .await,
        "file",
    );
    let huge = png(2 * 1024 * 1024);
    let res = m
        .upload_multipart(&product, &huge, "huge.png", "image/png")
        .await;
    assert_error(&res, StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");

    // Malformed requests.
    let path = m.images_path(&product);
    let res = app
        .admin(Method::POST, &path, Some(json!({"data": "not base64!"})))
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let res = app
        .admin(Method::POST, &path, Some(json!({"filename": "a.png"})))
        .await;
    assert_error(&res, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let res = m.upload_multipart(&product, &png(0), "", "image/png").await;
    assert_eq!(
        res.0,
        StatusCode::CREATED,
        "a file without a name is fine: {}",
        res.1
    );
    assert_eq!(res.1["data"]["filename"], Value::Null);
    let res = app
        .client
        .post(app.api(&path))
        .bearer_auth(&app.admin_key)
        .header("content-type", "image/png")
        .body(png(0))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = m
        .upload_json("prd_00000000000000000000000000", &png(0), "a.png")
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");

    // Only the one good upload was stored.
    assert_eq!(app.count("select count(*) from product_images").await, 1);
    assert_eq!(m.stored_files().len(), 1, "{:?}", m.stored_files());
    let read = app.get(&format!("/products/{product}")).await;
    assert_eq!(read["data"]["images"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn media_paths_name_only_stored_images() {
    let m = spawn(10 * 1024 * 1024).await;
    let app = &m.app;
    let product = str_of(&app.product(json!({"name": "Chair", "price": 12000})).await["id"]);
    let (status, body) = m.upload_json(&product, &png(0), "chair.png").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let url = str_of(&body["data"]["url"]);
    let key = url
        .strip_prefix(&format!("{PUBLIC_URL}/"))
        .unwrap()
        .to_string();
    // Files in the folder that the store did not write are never served.
    std::fs::write(m.dir.join("notes.txt"), "private").unwrap();
    std::fs::write(m.dir.join(format!("{key}.partial")), "half").unwrap();

    assert_eq!(raw_get(app, &format!("/media/{key}")).await, 200);
    for path in [
        "/media/../../../../etc/passwd".to_string(),
        "/media/%2e%2e/%2e%2e/%2e%2e/etc/passwd".to_string(),
        "/media/..%2f..%2f..%2fetc%2fpasswd".to_string(),
        "/media/%2Fetc%2Fpasswd".to_string(),
        "/media//etc/passwd".to_string(),
        format!("/media/{}/{product}/..%2f..%2f..%2fnotes.txt", app.site_id),
        format!("/media/{}/{product}/%2e%2e/%2e%2e/notes.txt", app.site_id),
        "/media/notes.txt".to_string(),
        format!("/media/{key}.partial"),
        format!("/media/{}/{product}/", app.site_id),
        format!("/media/{}/{product}", app.site_id),
        format!("/media/{}", app.site_id),
        "/media/".to_string(),
        "/media".to_string(),
        format!(
            "/media/{}/{product}/img_00000000000000000000000000.png",
            app.site_id
        ),
    ] {
        let status = raw_get(app, &path).await;
        assert!(status == 404 || status == 400, "{path}: {status}");
    }
}

#[tokio::test]
async fn deleting_removes_the_row_the_url_and_the_file() {
    let m = spawn(10 * 1024 * 1024).await;
    let app = &m.app;
    let product = str_of(&app.product(json!({"name": "Desk", "price": 30000})).await["id"]);
    let mut images = Vec::new();
    for bytes in [png(0), jpeg(), png(10)] {
        let (status, body) = m.upload_json(&product, &bytes, "x").await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        images.push(body["data"].clone());
    }
    let (first, middle, last) = (&images[0], &images[1], &images[2]);
    let path = format!("{}/{}", m.images_path(&product), str_of(&middle["id"]));
    let (status, body) = app.admin(Method::DELETE, &path, None).await;
    assert_eq!(
        (status, &body),
        (StatusCode::OK, &json!({"success": true, "deleted": true}))
    );

    let read = app.get(&format!("/products/{product}")).await;
    assert_eq!(read["data"]["images"], json!([first["url"], last["url"]]));
    let list = app.get(&m.images_path(&product)).await;
    let positions: Vec<(Value, Value)> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].clone(), i["position"].clone()))
        .collect();
    assert_eq!(
        positions,
        [
            (first["id"].clone(), json!(0)),
            (last["id"].clone(), json!(1))
        ]
    );
    assert_eq!(
        m.fetch(&str_of(&middle["url"])).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(m.stored_files().len(), 2);

    let res = app.admin(Method::DELETE, &path, None).await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    // An image is reached only through its own product.
    let other = str_of(&app.product(json!({"name": "Stool", "price": 5000})).await["id"]);
    let res = app
        .admin(
            Method::DELETE,
            &format!("{}/{}", m.images_path(&other), str_of(&first["id"])),
            None,
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    assert_eq!(app.count("select count(*) from product_images").await, 2);
}

#[tokio::test]
async fn another_sites_products_and_images_are_not_found() {
    let m = spawn(10 * 1024 * 1024).await;
    let app = &m.app;
    let product = str_of(&app.product(json!({"name": "Rug", "price": 7000})).await["id"]);
    let (status, body) = m.upload_json(&product, &png(0), "rug.png").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let image = str_of(&body["data"]["id"]);

    let other_site = app.create_site("Other Store").await;
    let other_key = app.key(&other_site, &["admin:*"]).await;
    let base = format!("{}/api/v1/{other_site}/products/{product}/images", app.url);
    let res = app.call(Method::GET, &base, Some(&other_key), None).await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = app
        .call(
            Method::POST,
            &base,
            Some(&other_key),
            Some(json!({"data": b64(&png(0))})),
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    let res = app
        .call(
            Method::DELETE,
            &format!("{base}/{image}"),
            Some(&other_key),
            None,
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");
    // The other site's key on this site's path.
    let res = app
        .call(
            Method::GET,
            &app.api(&m.images_path(&product)),
            Some(&other_key),
            None,
        )
        .await;
    assert_error(&res, StatusCode::NOT_FOUND, "NOT_FOUND");

    // Scopes: reading needs read:catalog, uploading write:catalog.
    let reader = app.key(&app.site_id, &["read:catalog"]).await;
    let url = app.api(&m.images_path(&product));
    let res = app.call(Method::GET, &url, Some(&reader), None).await;
    assert_eq!(res.0, StatusCode::OK, "{}", res.1);
    let res = app
        .call(
            Method::POST,
            &url,
            Some(&reader),
            Some(json!({"data": b64(&png(0))})),
        )
        .await;
    assert_error(&res, StatusCode::FORBIDDEN, "FORBIDDEN");
    assert_eq!(app.count("select count(*) from product_images").await, 1);
    assert_eq!(m.stored_files().len(), 1);
}
