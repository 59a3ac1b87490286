//! TLS to PostgreSQL: `sslmode=require` encrypts, `sslmode=verify-full` also checks the server's
//! certificate against `sslrootcert` — against a private cluster listening on TCP with `ssl=on` and a
//! certificate made for the test.

use std::path::Path;
use std::process::Command;

use shopvo::db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use shopvo::db::{Database, Timeouts};

/// Runs openssl with `args` in `dir`.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A certificate authority and a server certificate it signed for `localhost`, with the server's key
/// readable by the cluster's user: (CA certificate, server certificate, server key).
fn certificates(dir: &Path) -> (String, String, String) {
    let days = ["-days", "1"];
    openssl(
        dir,
        &[
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=Shopvo test CA",
            ][..],
            &days,
            &["-keyout", "ca.key", "-out", "ca.crt"],
        ]
        .concat(),
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    std::fs::write(dir.join("server.ext"), "subjectAltName=DNS:localhost\n").unwrap();
    openssl(
        dir,
        &[
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-extfile",
                "server.ext",
                "-out",
                "server.crt",
            ][..],
            &days,
        ]
        .concat(),
    );
    use std::os::unix::fs::PermissionsExt;
    let key = dir.join("server.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    if unsafe { libc::geteuid() } == 0 {
        // The cluster runs as `postgres`, which must own its key.
        let out = Command::new("chown")
            .arg("postgres")
            .arg(&key)
            .arg(dir.join("server.crt"))
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    let path = |name: &str| dir.join(name).display().to_string();
    (path("ca.crt"), path("server.crt"), path("server.key"))
}

#[test]
fn connections_use_tls_and_verify_the_server_when_asked() {
    let dir = std::env::temp_dir().join(format!("shopvo-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (ca, cert, key) = certificates(&dir);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let settings = [
        ("listen_addresses", "127.0.0.1".to_string()),
        ("port", port.to_string()),
        ("ssl", "on".to_string()),
        ("ssl_cert_file", cert),
        ("ssl_key_file", key),
    ];
    let options = EmbeddedOptions {
        data_dir: dir.join("cluster"),
        ephemeral: true,
        settings: settings
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    };
    // The cluster lives as long as the thread that started it.
    std::thread::spawn(move || {
        let cluster = EmbeddedPostgres::start(&options).expect("start");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let base = format!("postgres://postgres@localhost:{port}/postgres");
            let encrypted = |url: String| async move {
                let database = Database::open(Some(&url), Path::new(".")).await?;
                let pool = database.pool(1, Timeouts::default()).await?;
                let ssl: bool =
                    sqlx::query_scalar("select ssl from pg_stat_ssl where pid = pg_backend_pid()")
                        .fetch_one(&pool)
                        .await?;
                anyhow::Ok(ssl)
            };
            assert!(
                encrypted(format!("{base}?sslmode=disable"))
                    .await
                    .map(|s| !s)
                    .unwrap()
            );
            assert!(encrypted(format!("{base}?sslmode=require")).await.unwrap());
            assert!(
                encrypted(format!("{base}?sslmode=verify-full&sslrootcert={ca}"))
                    .await
                    .unwrap()
            );
            // Verifying without the issuer's certificate fails: the server is not trusted.
            assert!(
                encrypted(format!("{base}?sslmode=verify-full"))
                    .await
                    .is_err()
            );
        });
        drop(cluster);
    })
    .join()
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
