//! Reads from a real streaming replica (`pg_basebackup -R` of a private primary): a reader is served
//! by the replica (shown by pausing its replay), a key reads its own writes from the primary, so does a
//! request saying `X-Read-Primary`, lists other than the catalog's are served alike, and when the replica
//! is down the primary answers.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{TestApp, str_of};
use reqwest::{Method, StatusCode};
use serde_json::json;
use shopvo::config::Config;
use shopvo::db::embedded::{EmbeddedOptions, EmbeddedPostgres, find_bindir};
use shopvo::db::{Database, Timeouts, socket_options};
use sqlx::Connection;

fn cluster(dir: &Path) -> EmbeddedOptions {
    EmbeddedOptions {
        data_dir: dir.to_path_buf(),
        ephemeral: true,
        settings: Vec::new(),
    }
}

/// A standby of the cluster whose socket is in `primary_socket`, in `dir/pg`.
fn base_backup(primary_socket: &Path, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let pg = dir.join("pg");
    // Beside the server's programs, else on the PATH (Debian's wrapper).
    let program = find_bindir()
        .map(|dir| dir.join("pg_basebackup"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| "pg_basebackup".into());
    let mut backup = Command::new(program);
    backup
        .arg("-D")
        .arg(&pg)
        .args(["-R", "-X", "stream", "-U", "postgres", "-h"])
        .arg(primary_socket);
    if unsafe { libc::geteuid() } == 0 {
        // The cluster runs as `postgres`, which must own the folders.
        Command::new("chown")
            .arg("postgres")
            .arg(dir)
            .status()
            .unwrap();
        use std::os::unix::process::CommandExt;
        let out = Command::new("id")
            .args(["-u", "postgres"])
            .output()
            .unwrap();
        let uid: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        let out = Command::new("id")
            .args(["-g", "postgres"])
            .output()
            .unwrap();
        let gid: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        backup.uid(uid).gid(gid);
    }
    let out = backup.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::set_permissions(&pg, std::fs::Permissions::from_mode(0o700)).unwrap();
}

/// A GET with `key` that must answer 200, asking for the primary when `primary`; its body.
async fn read(app: &TestApp, path: &str, key: &str, primary: bool) -> serde_json::Value {
    let mut request = app.client.get(app.api(path)).bearer_auth(key);
    if primary {
        request = request.header("X-Read-Primary", "1");
    }
    let res = request.send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

#[test]
fn reads_come_from_the_replica_unless_they_must_not() {
    let dir = std::env::temp_dir().join(format!("shopvo-replica-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // Each cluster lives as long as the thread that started it: both run on this test's thread.
    let primary = EmbeddedPostgres::start(&cluster(&dir.join("primary"))).expect("primary");
    base_backup(primary.socket_dir(), &dir.join("standby"));
    let standby = EmbeddedPostgres::start(&cluster(&dir.join("standby"))).expect("standby");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let primary_url = format!(
        "postgres:///postgres?user=postgres&host={}",
        primary.socket_dir().display()
    );
    let standby_url = format!(
        "postgres:///postgres?user=postgres&host={}",
        standby.socket_dir().display()
    );
    let standby_socket = standby.socket_dir().to_path_buf();
    rt.block_on(async {
        let database = Database::open(Some(&primary_url), Path::new("."))
            .await
            .unwrap();
        let pool = database.pool(10, Timeouts::default()).await.unwrap();
        shopvo::db::migrate(&pool).await.unwrap();
        let config = Config {
            database_read_url: Some(standby_url.clone()),
            ..Config::default()
        };
        let app = TestApp::spawn_on(pool, "postgres".into(), config).await;
        let reader = app.key(&app.site_id, &["read:catalog"]).await;
        let product = app.product(json!({"name": "Lamp", "price": 1000})).await;
        let id = str_of(&product["id"]);
        let mut replica =
            sqlx::PgConnection::connect_with(&socket_options(&standby_socket, "postgres"))
                .await
                .unwrap();
        // Wait for the replica to have the product, then hold its replay.
        let start = Instant::now();
        loop {
            let n: i64 = sqlx::query_scalar("select count(*) from products where id = $1")
                .bind(&id)
                .fetch_one(&mut replica)
                .await
                .unwrap();
            if n == 1 {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the replica never caught up"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        sqlx::query("select pg_wal_replay_pause()")
            .execute(&mut replica)
            .await
            .unwrap();
        let (status, _) = app
            .admin(
                Method::PATCH,
                &format!("/products/{id}"),
                Some(json!({"price": 1500})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        let path = format!("/products/{id}");
        // Another key reads the replica, which has not replayed the change.
        assert_eq!(
            read(&app, &path, &reader, false).await["data"]["price"],
            1000
        );
        // Asked for, or after the key's own write, the primary answers.
        assert_eq!(
            read(&app, &path, &reader, true).await["data"]["price"],
            1500
        );
        assert_eq!(
            read(&app, &path, &app.admin_key, false).await["data"]["price"],
            1500
        );
        // Other read-only lists too: a customer created since the pause is not on the replica yet.
        let customers_reader = app.key(&app.site_id, &["read:customers"]).await;
        app.post(
            "/customers",
            json!({"email": "ada@example.com", "firstName": "Ada"}),
        )
        .await;
        assert_eq!(
            read(&app, "/customers", &customers_reader, false).await["pagination"]["total"],
            0
        );
        assert_eq!(
            read(&app, "/customers", &customers_reader, true).await["pagination"]["total"],
            1
        );
        sqlx::query("select pg_wal_replay_resume()")
            .execute(&mut replica)
            .await
            .unwrap();
        drop(replica);
        drop(app);
    });
    // The replica goes away: reads fall back to the primary.
    drop(standby);
    rt.block_on(async {
        let database = Database::open(Some(&primary_url), Path::new("."))
            .await
            .unwrap();
        let pool = database.pool(10, Timeouts::default()).await.unwrap();
        let config = Config {
            database_read_url: Some(standby_url.clone()),
            ..Config::default()
        };
        let app = TestApp::spawn_on(pool, "postgres".into(), config).await;
        let (status, body) = app.admin(Method::GET, "/products", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let reader = app.key(&app.site_id, &["read:catalog"]).await;
        let (status, body) = app
            .call(Method::GET, &app.api("/products"), Some(&reader), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    });
    drop(primary);
    let _ = std::fs::remove_dir_all(&dir);
}
