//! What the tests need beyond cargo, prepared on first use so that `cargo test --workspace`
//! is the whole set-up on a fresh machine:
//!
//! - the services (PostgreSQL, Redis, NATS with JetStream) are started when they are down;
//! - Debian's nginx is installed when missing (the split-layout tests run the generated
//!   configuration with it), and poppler-utils (`pdftoppm`, `pdfinfo`, `pdftotext`: the label
//!   tests render PDFs with them);
//! - the Python tools (an SMTP server, an OAuth2 client library, an OTLP decoder, a schema
//!   fuzzer) go into a virtual environment under the target directory, from the pinned
//!   `crates/testkit/requirements.txt`;
//! - AsyncAPI's JSON Schema comes from the npm registry (`@asyncapi/specs`, pinned);
//! - the TypeScript client's packages (`clients/typescript`) and the portals' browser driver
//!   (`playwright-core`) are installed with `npm ci` from their lock files, and Debian's
//!   Chromium when it is missing.
//!
//! Each is prepared once per test process, and under a file lock across the test binaries that
//! cargo runs. When something cannot be had, the test fails with one message saying what is
//! missing and what was tried.

use std::fs::File;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

const REQUIREMENTS: &str = include_str!("../requirements.txt");
const NGINX: &str = "/usr/sbin/nginx";
const PDFTOPPM: &str = "/usr/bin/pdftoppm";
const NATS_SERVER: &str = "/usr/sbin/nats-server";
const REDIS_SERVER: &str = "redis-server";
/// The npm package holding AsyncAPI's JSON Schemas, pinned.
const ASYNCAPI_SPECS: &str = "@asyncapi/specs@6.11.1";
const ASYNCAPI_SPECS_TARBALL: &str = "asyncapi-specs-6.11.1.tgz";
/// The TypeScript client, from this crate's directory.
const CLIENT_DIR: &str = "../../clients/typescript";
/// The portals' browser tests (a Node package pinning playwright-core).
const BROWSER_TESTS_DIR: &str = "../modules/web/tests/browser";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Panics with the one message a test run shows when its set-up cannot be completed.
fn unavailable(what: &str, detail: &str) -> ! {
    panic!("test set-up: {what} is required and could not be prepared: {detail}")
}

/// `<target>/test-tools`: beside the build, so `cargo clean` removes it and CI caches of the
/// target directory keep it.
pub fn tools_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Test binaries live in <target>/<profile>/deps.
        let exe = std::env::current_exe()
            .unwrap_or_else(|e| unavailable("the target dir", &e.to_string()));
        let target = exe
            .ancestors()
            .nth(3)
            .map(Path::to_path_buf)
            .unwrap_or_else(std::env::temp_dir);
        let dir = target.join("test-tools");
        if let Err(err) = std::fs::create_dir_all(&dir) {
            unavailable(
                "the test tools directory",
                &format!("{}: {err}", dir.display()),
            );
        }
        dir
    })
    .clone()
}

/// Runs `prepare` holding an exclusive lock on `<tools>/<name>.lock`, so that test binaries
/// running at the same time prepare a tool once.
fn locked<T>(name: &str, prepare: impl FnOnce() -> T) -> T {
    let path = tools_dir().join(format!("{name}.lock"));
    let file = File::create(&path)
        .unwrap_or_else(|e| unavailable("a lock file", &format!("{}: {e}", path.display())));
    if let Err(err) = file.lock() {
        unavailable("a lock file", &format!("{}: {err}", path.display()));
    }
    let value = prepare();
    let _ = file.unlock();
    value
}

fn run(command: &mut Command) -> Result<(), String> {
    let shown = format!("{command:?}");
    match command.output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "{shown} exited with {}: {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(err) => Err(format!("{shown} could not run: {err}")),
    }
}

/// The Python interpreter of the tests' virtual environment, with every pinned package.
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(prepare_python).clone()
}

fn prepare_python() -> PathBuf {
    let venv = tools_dir().join("venv");
    let python = venv.join("bin").join("python");
    let stamp = venv.join("requirements.installed");
    locked("venv", || {
        if std::fs::read_to_string(&stamp).is_ok_and(|installed| installed == REQUIREMENTS) {
            return;
        }
        let what = "the Python test tools (crates/testkit/requirements.txt)";
        if !python.exists() {
            run(Command::new("python3").args(["-m", "venv"]).arg(&venv))
                .unwrap_or_else(|e| unavailable(what, &format!("python3 -m venv: {e}")));
        }
        let requirements = venv.join("requirements.txt");
        std::fs::write(&requirements, REQUIREMENTS)
            .unwrap_or_else(|e| unavailable(what, &e.to_string()));
        run(Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements))
        .unwrap_or_else(|e| unavailable(what, &format!("pip install from PyPI: {e}")));
        std::fs::write(&stamp, REQUIREMENTS).unwrap_or_else(|e| unavailable(what, &e.to_string()));
    });
    python
}

/// The JSON Schema (draft 7) of AsyncAPI 3.0.0, from the npm package `@asyncapi/specs`,
/// fetched with the machine's npm into `<tools>/asyncapi-specs` once.
pub fn asyncapi_schema() -> PathBuf {
    static SCHEMA: OnceLock<PathBuf> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let dir = tools_dir().join("asyncapi-specs");
            let schema = dir.join("package/schemas/3.0.0-without-$id.json");
            locked("asyncapi-specs", || {
                if schema.exists() {
                    return;
                }
                let what = format!("the AsyncAPI 3.0 JSON Schema (npm package {ASYNCAPI_SPECS})");
                std::fs::create_dir_all(&dir)
                    .unwrap_or_else(|e| unavailable(&what, &e.to_string()));
                run(Command::new("npm")
                    .args(["pack", "--silent", ASYNCAPI_SPECS])
                    .current_dir(&dir))
                .unwrap_or_else(|e| {
                    unavailable(&what, &format!("npm pack from the npm registry: {e}"))
                });
                run(Command::new("tar")
                    .args(["xzf", ASYNCAPI_SPECS_TARBALL])
                    .current_dir(&dir))
                .unwrap_or_else(|e| unavailable(&what, &e));
                if !schema.exists() {
                    unavailable(
                        &what,
                        &format!("{} is not in the package", schema.display()),
                    );
                }
            });
            schema
        })
        .clone()
}

/// The TypeScript client's directory, `clients/typescript`, with its pinned packages
/// (`openapi-typescript`, `typescript`, `openapi-fetch`) installed into its `node_modules`.
pub fn typescript_client() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        npm_packages(
            "the TypeScript client's packages (npm ci in clients/typescript)",
            "typescript-client",
            CLIENT_DIR,
        )
    })
    .clone()
}

/// The portals' browser tests' directory (`crates/modules/web/tests/browser`), with its pinned
/// `playwright-core` installed (it drives Debian's Chromium, see [`chromium`]; it downloads no
/// browser of its own).
pub fn playwright() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        npm_packages(
            "playwright-core (npm ci in crates/modules/web/tests/browser)",
            "playwright",
            BROWSER_TESTS_DIR,
        )
    })
    .clone()
}

/// `dir` (relative to this crate) with the packages of its lock file installed by `npm ci`:
/// once per test process, and again only when the lock file is newer than the last install.
fn npm_packages(what: &str, name: &str, dir: &str) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let dir = std::fs::canonicalize(&source)
        .unwrap_or_else(|e| unavailable(what, &format!("{}: {e}", source.display())));
    locked(name, || {
        // npm ci records what it installed in node_modules/.package-lock.json.
        let installed = modified(&dir.join("node_modules/.package-lock.json"));
        let lock = modified(&dir.join("package-lock.json"));
        if installed.zip(lock).is_some_and(|(i, l)| i > l) {
            return;
        }
        for program in ["node", "npm"] {
            if let Err(err) = run(Command::new(program).arg("--version")) {
                unavailable(what, &format!("Node.js 20 or later with npm: {err}"));
            }
        }
        let mut install = Command::new("npm");
        install
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir);
        if let Err(err) = run(&mut install) {
            unavailable(what, &format!("npm ci from the npm registry: {err}"));
        }
    });
    dir
}

/// Debian's Chromium, installed when missing: the portals' browser tests drive it headless.
pub fn chromium() -> &'static Path {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        if !Path::new(CHROMIUM).exists() {
            locked("chromium", || {
                if !Path::new(CHROMIUM).exists() {
                    install_debian_package("chromium", "Chromium (Debian's chromium package)");
                }
            });
        }
    });
    Path::new(CHROMIUM)
}

/// When `path` was last modified, if it exists.
fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// A program installed by the tests' virtual environment (e.g. `schemathesis`).
pub fn python_program(name: &str) -> PathBuf {
    let python = python();
    python.with_file_name(name)
}

/// Debian's nginx, installed (package `nginx-light`) when missing.
pub fn nginx() -> &'static Path {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        locked("apt", || {
            if Path::new(NGINX).exists() {
                return;
            }
            install_debian_package("nginx-light", "nginx (Debian package nginx-light)");
        })
    });
    Path::new(NGINX)
}

/// Debian's `pdftoppm` (package `poppler-utils`, which also brings `pdfinfo` and `pdftotext`
/// beside it), installed when missing.
pub fn pdftoppm() -> &'static Path {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        locked("apt", || {
            if Path::new(PDFTOPPM).exists() {
                return;
            }
            install_debian_package("poppler-utils", "pdftoppm (Debian package poppler-utils)");
        })
    });
    Path::new(PDFTOPPM)
}

/// A program of poppler-utils beside [`pdftoppm`] (`pdfinfo`, `pdftotext`), installed with it.
pub fn poppler(program: &str) -> PathBuf {
    pdftoppm().with_file_name(program)
}

fn install_debian_package(package: &str, what: &str) {
    let install = || {
        run(Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-q", "--no-install-recommends", package]))
    };
    if install().is_ok() {
        return;
    }
    // A fresh machine may have no package lists yet.
    let updated = run(Command::new("apt-get").args(["update", "-q"]));
    if let Err(err) = updated.and_then(|()| install()) {
        unavailable(
            what,
            &format!("{err} (run as root with Debian's mirrors reachable)"),
        );
    }
}

/// `nats-server`, for tests that start and restart their own server.
pub fn nats_server() -> &'static Path {
    if !Path::new(NATS_SERVER).exists() {
        unavailable("nats-server", &format!("{NATS_SERVER} does not exist"));
    }
    Path::new(NATS_SERVER)
}

fn port_open(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(300)).is_ok()
}

/// Starts a local service with `start` unless its port already answers, then waits for it.
fn ensure_service(name: &str, port: u16, start: impl FnOnce() -> Result<(), String>) {
    if port_open(port) {
        return;
    }
    locked(name, || {
        if port_open(port) {
            return;
        }
        let started = start();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if port_open(port) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let why = started
            .err()
            .unwrap_or_else(|| "it did not open its port within 30 s".into());
        unavailable(&format!("{name} on 127.0.0.1:{port}"), &why);
    });
}

/// PostgreSQL on 127.0.0.1:5432 (the tests' default server), started when down.
pub fn postgres() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        if std::env::var("PASAR_TEST_POSTGRES_URL").is_ok() {
            // Somewhere else: the test run said where.
            return;
        }
        ensure_service("PostgreSQL", 5432, || {
            let versions = std::fs::read_dir("/etc/postgresql")
                .map_err(|e| format!("no cluster under /etc/postgresql: {e}"))?;
            let version = versions
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .max()
                .ok_or("no cluster under /etc/postgresql")?;
            run(Command::new("pg_ctlcluster").args([
                "--skip-systemctl-redirect",
                &version,
                "main",
                "start",
            ]))
        });
    });
}

/// Redis on 127.0.0.1:6379, started when down.
pub fn redis() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        ensure_service("Redis", 6379, || {
            run(Command::new(REDIS_SERVER).args([
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                "6379",
                "--save",
                "",
            ]))
        });
    });
}

/// NATS with JetStream on 127.0.0.1:4222, started when down.
pub fn nats() {
    static READY: OnceLock<()> = OnceLock::new();
    READY.get_or_init(|| {
        ensure_service("NATS", 4222, || {
            let store = "/var/lib/nats-server";
            std::fs::create_dir_all(store).map_err(|e| format!("{store}: {e}"))?;
            run(Command::new("start-stop-daemon")
                .args(["--start", "--oknodo", "--background", "--exec"])
                .arg(nats_server())
                .args(["--", "-a", "127.0.0.1", "-p", "4222", "-js", "-sd", store]))
        });
    });
}

/// Decodes every barcode of a greyscale PGM (P5) with zxing-cpp: `[[format, text], ...]`.
const DECODE_BARCODES: &str = r##"
import json, sys, zxingcpp
data = open(sys.argv[1], "rb").read()
fields, i = [], 0
while len(fields) < 4:
    while data[i:i + 1].isspace():
        i += 1
    if data[i:i + 1] == b"#":
        while data[i:i + 1] not in (b"\n", b""):
            i += 1
        continue
    start = i
    while not data[i:i + 1].isspace():
        i += 1
    fields.append(data[start:i])
i += 1
assert fields[0] == b"P5", fields[0]
width, height = int(fields[1]), int(fields[2])
pixels = memoryview(data[i:i + width * height]).cast("B", (height, width))
print(json.dumps([[str(r.format), r.text] for r in zxingcpp.read_barcodes(pixels)]))
"##;

/// Every barcode (format, text) zxing-cpp finds in a greyscale PGM, as `[[format, text], ...]`
/// (`pdftoppm -gray` writes one).
pub fn barcodes(pgm: &Path) -> serde_json::Value {
    let found = run_tool(
        Command::new(python())
            .arg("-c")
            .arg(DECODE_BARCODES)
            .arg(pgm),
    );
    serde_json::from_str(found.trim()).expect("decoder output")
}

/// Runs a tool to its end; panics with its stderr when it fails. Returns its stdout.
pub fn run_tool(command: &mut Command) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
