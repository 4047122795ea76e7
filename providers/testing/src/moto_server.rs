//! The moto server the moto tests talk to: found or installed (`.ci/install-moto`),
//! started on a free loopback port once per test binary, stopped when the binary
//! exits.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const MOTO_START_TIMEOUT: Duration = Duration::from_secs(90);

/// The workspace root: the nearest ancestor of this crate that holds
/// `.ci/install-moto`.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|dir| dir.join(".ci/install-moto").exists())
        .expect("an ancestor of the package holds .ci/install-moto")
        .canonicalize()
        .expect("the repository root exists")
}

/// `$DECOM_MOTO_SERVER`, else `<repo>/.venv/bin/moto_server`, installed by
/// `.ci/install-moto` if missing (under a file lock: test binaries run concurrently).
fn moto_server_path() -> PathBuf {
    if let Some(path) = std::env::var_os("DECOM_MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let root = repo_root();
    let server = root.join(".venv/bin/moto_server");
    if server.exists() {
        return server;
    }
    std::fs::create_dir_all(root.join(".venv")).expect("create .venv");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(root.join(".venv/.decom-install.lock"))
        .expect("open the install lock");
    lock.lock().expect("take the install lock");
    if !server.exists() {
        let out = Command::new(root.join(".ci/install-moto"))
            .output()
            .expect("run .ci/install-moto");
        assert!(
            out.status.success() && server.exists(),
            "`.ci/install-moto` failed ({}); the moto tests need python3 with venv and pip, and access to PyPI.\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    lock.unlock().expect("release the install lock");
    server
}

/// A running moto server. It is stopped on drop, and also when the test binary exits
/// in any way: a watchdog shell kills it when its stdin (held here) closes.
pub struct MotoServer {
    pub endpoint: String,
    /// moto's process id.
    pub pid: u32,
    watchdog: Child,
    stdin: Option<ChildStdin>,
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        // Closing the watchdog's stdin is what makes it kill moto; killing the
        // watchdog itself would leave moto running, orphaned.
        drop(self.stdin.take());
        let _ = self.watchdog.wait();
    }
}

/// Where the harness writes its files: Cargo's `target/tmp` (what integration tests
/// see as `CARGO_TARGET_TMPDIR`), found from the running test or bench binary in
/// `target/<profile>/deps/`; the system's temporary directory if that fails.
pub fn scratch_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(|target| target.join("tmp")))
        .filter(|dir| std::fs::create_dir_all(dir).is_ok())
        .unwrap_or_else(std::env::temp_dir)
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free port")
        .port()
}

impl MotoServer {
    pub fn start() -> MotoServer {
        MotoServer::start_with(&[])
    }

    /// A server with more environment variables: moto reads its settings (IAM
    /// enforcement among them) from its environment, server-wide.
    pub fn start_with(env: &[(&str, &str)]) -> MotoServer {
        let server = moto_server_path();
        let port = free_port();
        let tmp = scratch_dir();
        let log = tmp.join(format!("moto-{port}.log"));
        let pid_file = tmp.join(format!("moto-{port}.pid"));
        let _ = std::fs::remove_file(&pid_file);
        let mut watchdog = Command::new("bash")
            .arg("-c")
            .arg(
                r#""$0" -H 127.0.0.1 -p "$1" >"$2" 2>&1 </dev/null & pid=$!
echo "$pid" >"$3"
read -r _ || true
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; exit 0"#,
            )
            .arg(&server)
            .arg(port.to_string())
            .arg(&log)
            .arg(&pid_file)
            // AWS managed policies exist, as in a real account.
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{}`: {e}", server.display()));
        let stdin = watchdog.stdin.take().expect("piped stdin");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let started = Instant::now();
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                break;
            }
            // Fail at once if moto exited, else after the bound: never hang.
            let exited = std::fs::read_to_string(&pid_file)
                .ok()
                .map(|pid| !Path::new(&format!("/proc/{}", pid.trim())).exists())
                .unwrap_or(false);
            if exited || started.elapsed() > MOTO_START_TIMEOUT {
                let mut text = String::new();
                let _ = File::open(&log).and_then(|mut f| f.read_to_string(&mut text));
                let _ = watchdog.kill();
                let _ = watchdog.wait();
                panic!(
                    "moto (`{}`) {} on {addr}; its log:\n{text}",
                    server.display(),
                    if exited {
                        "exited instead of listening".to_string()
                    } else {
                        format!("did not answer within {MOTO_START_TIMEOUT:?}")
                    }
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|pid| pid.trim().parse().ok())
            .expect("the watchdog wrote moto's pid before moto listened");
        MotoServer {
            endpoint: format!("http://{addr}"),
            pid,
            watchdog,
            stdin: Some(stdin),
        }
    }
}

/// The test binary's one moto server, started on first use.
pub fn shared_server() -> &'static MotoServer {
    static SERVER: OnceLock<MotoServer> = OnceLock::new();
    SERVER.get_or_init(MotoServer::start)
}

/// An endpoint where nothing listens (a port that was free a moment ago).
pub fn unreachable_endpoint() -> String {
    format!("http://127.0.0.1:{}", free_port())
}
