//! The zero-setup database: a private PostgreSQL cluster started from the machine's installed binaries.
//!
//! The cluster lives in `<data dir>/pg`, listens only on a Unix socket in `<data dir>/run`, and is stopped
//! (SIGINT = fast shutdown) when the [`EmbeddedPostgres`] is dropped. As root, `initdb` and `postgres` refuse
//! to run, so both are started as the unprivileged `postgres` system user. The server process is spawned
//! from a thread that lives as long as the cluster, with `PR_SET_PDEATHSIG` set, so it also goes away if
//! this process is killed.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "no database: DATABASE_URL is not set and no PostgreSQL server binaries (initdb, postgres) were found \
         on PATH, via `pg_config --bindir`, or under /usr/lib/postgresql/*/bin. Either set DATABASE_URL to a \
         PostgreSQL database, or install the PostgreSQL server package so shopvo can run a private cluster"
    )]
    NoBinaries,
    #[error(
        "running as root but there is no unprivileged `postgres` user to run the private cluster as"
    )]
    NoPostgresUser,
    #[error("private PostgreSQL cluster: {0}")]
    Failed(String),
}

/// Options for the private cluster.
#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    pub data_dir: PathBuf,
    /// Trade durability for speed (fsync off); for tests and benchmarks only.
    pub ephemeral: bool,
    /// More server settings (`-c name=value`), after the defaults: a test's TCP listener with TLS, say.
    pub settings: Vec<(String, String)>,
}

impl EmbeddedOptions {
    /// The server's port (5432 unless a setting says otherwise): it names the Unix socket too.
    fn port(&self) -> String {
        self.settings
            .iter()
            .rev()
            .find(|(name, _)| name == "port")
            .map(|(_, value)| value.clone())
            .unwrap_or_else(|| "5432".into())
    }
}

pub struct EmbeddedPostgres {
    socket_dir: PathBuf,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EmbeddedPostgres {
    /// Initialises the cluster if needed, starts it, and waits until it accepts connections.
    pub fn start(options: &EmbeddedOptions) -> Result<Self, EmbeddedError> {
        let bindir = find_bindir().ok_or(EmbeddedError::NoBinaries)?;
        let run_as = if unsafe { libc::geteuid() } == 0 {
            Some(postgres_user().ok_or(EmbeddedError::NoPostgresUser)?)
        } else {
            None
        };
        let data_dir = absolute(&options.data_dir.join("pg"))?;
        let socket_dir = absolute(&options.data_dir.join("run"))?;
        for dir in [&data_dir, &socket_dir] {
            std::fs::create_dir_all(dir)
                .map_err(|e| fail(format!("creating {}: {e}", dir.display())))?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| fail(format!("chmod {}: {e}", dir.display())))?;
            if let Some((uid, gid)) = run_as {
                chown(dir, uid, gid)?;
            }
        }

        // Another shopvo process (say `serve`, while `shopvo key create` runs) may already run this cluster.
        let socket = socket_dir.join(format!(".s.PGSQL.{}", options.port()));
        if std::os::unix::net::UnixStream::connect(&socket).is_ok() {
            return Ok(Self {
                socket_dir,
                stop: None,
                thread: None,
            });
        }

        if !data_dir.join("PG_VERSION").exists() {
            let mut initdb = Command::new(bindir.join("initdb"));
            initdb
                .arg("-D")
                .arg(&data_dir)
                .args([
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ])
                .stdin(Stdio::null());
            if let Some((uid, gid)) = run_as {
                initdb.uid(uid).gid(gid);
            }
            let out = initdb
                .output()
                .map_err(|e| fail(format!("running initdb: {e}")))?;
            if !out.status.success() {
                return Err(fail(format!(
                    "initdb failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                )));
            }
        }

        let mut postgres = Command::new(bindir.join("postgres"));
        postgres
            .arg("-D")
            .arg(&data_dir)
            .arg("-k")
            .arg(&socket_dir)
            .args(["-c", "listen_addresses=", "-c", "max_connections=200"])
            .stdin(Stdio::null())
            // Its own process group: Ctrl-C reaches only us, and we stop it after the server has drained.
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(options.data_dir.join("postgres.log"))
                    .map_err(|e| fail(format!("creating postgres.log: {e}")))?,
            ));
        if options.ephemeral {
            postgres.args([
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]);
        }
        for (name, value) in &options.settings {
            postgres.arg("-c").arg(format!("{name}={value}"));
        }
        if let Some((uid, gid)) = run_as {
            postgres.uid(uid).gid(gid);
        }
        unsafe {
            postgres.pre_exec(|| {
                // Stop the cluster when the thread that spawned it (and so this process) goes away.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT);
                Ok(())
            });
        }

        // Spawn from a thread that lives exactly as long as the cluster (see PR_SET_PDEATHSIG above).
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel::<Result<u32, String>>();
        let thread = std::thread::Builder::new()
            .name("embedded-postgres".into())
            .spawn(move || {
                let mut child: Child = match postgres.spawn() {
                    Ok(child) => child,
                    Err(e) => {
                        let _ = started_tx.send(Err(format!("starting postgres: {e}")));
                        return;
                    }
                };
                let _ = started_tx.send(Ok(child.id()));
                let _ = stop_rx.recv();
                unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
                let _ = child.wait();
            })
            .map_err(|e| fail(format!("spawning thread: {e}")))?;
        let pid = started_rx
            .recv()
            .map_err(|_| fail("postgres thread died".into()))?
            .map_err(fail)?;

        let cluster = Self {
            socket_dir,
            stop: Some(stop_tx),
            thread: Some(thread),
        };
        cluster.wait_ready(&options.data_dir, &socket, pid)?;
        Ok(cluster)
    }

    /// The folder holding the server's Unix socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    /// Waits until the postmaster `pid` accepts connections: after a crash that includes replaying the
    /// write-ahead log, which can take minutes on a big database (a line every 10 s says so).
    fn wait_ready(&self, data_dir: &Path, socket: &Path, pid: u32) -> Result<(), EmbeddedError> {
        let started = Instant::now();
        let deadline = started + RECOVERY_WAIT;
        let mut next_report = started + Duration::from_secs(10);
        while Instant::now() < deadline {
            // The socket accepts while the server is still starting ("the database system is starting up"):
            // ready is when the postmaster says so in the status line of postmaster.pid (PostgreSQL 10+). A
            // killed cluster leaves its file behind saying "ready": only the new postmaster's own line counts.
            let (owner, status) = postmaster_line(&data_dir.join("pg"));
            // A standby (a data folder made by `pg_basebackup -R`) says "standby" once it accepts reads.
            if owner == Some(pid)
                && matches!(status.as_deref(), Some("ready" | "standby"))
                && std::os::unix::net::UnixStream::connect(socket).is_ok()
            {
                return Ok(());
            }
            if self.thread.as_ref().is_some_and(|t| t.is_finished()) {
                break;
            }
            if Instant::now() >= next_report {
                eprintln!(
                    "waiting for the private PostgreSQL to accept connections ({} s; recovering after a crash?)",
                    started.elapsed().as_secs()
                );
                next_report += Duration::from_secs(10);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let log = std::fs::read_to_string(data_dir.join("postgres.log")).unwrap_or_default();
        Err(fail(format!(
            "postgres did not start; its log says: {}",
            log.trim()
        )))
    }

    /// Stops the cluster and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

fn fail(message: String) -> EmbeddedError {
    EmbeddedError::Failed(message)
}

fn absolute(path: &Path) -> Result<PathBuf, EmbeddedError> {
    std::path::absolute(path).map_err(|e| fail(format!("{}: {e}", path.display())))
}

fn chown(path: &Path, uid: u32, gid: u32) -> Result<(), EmbeddedError> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .map_err(|e| fail(format!("chown {} to postgres: {e}", path.display())))
}

fn postgres_user() -> Option<(u32, u32)> {
    let name = std::ffi::CString::new("postgres").ok()?;
    // getpwnam is not thread-safe, but is called once at start-up before other threads use it.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return None;
    }
    let pw = unsafe { &*pw };
    Some((pw.pw_uid, pw.pw_gid))
}

/// The longest a start waits for the cluster (crash recovery included).
const RECOVERY_WAIT: Duration = Duration::from_secs(600);

/// The postmaster that wrote `postmaster.pid` in the cluster's folder (its first line) and its status
/// (`starting`, `ready`, `stopping`: the 8th line).
fn postmaster_line(data_dir: &Path) -> (Option<u32>, Option<String>) {
    let Ok(pid_file) = std::fs::read_to_string(data_dir.join("postmaster.pid")) else {
        return (None, None);
    };
    let mut lines = pid_file.lines();
    let pid = lines.next().and_then(|l| l.trim().parse().ok());
    (pid, lines.nth(6).map(|line| line.trim().to_string()))
}

/// Where `initdb` and `postgres` (and the other server programs) are: PATH, `pg_config --bindir`, then the
/// newest `/usr/lib/postgresql/*/bin`.
pub fn find_bindir() -> Option<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_both(&dir) {
                return Some(dir);
            }
        }
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_both(&dir) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let major = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((major, entry.path().join("bin")))
        })
        .filter(|(_, dir)| has_both(dir))
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}
