//! The `pasar` binary itself: subcommands and signal handling, on both backends.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use testkit::{on_both_backends, Backend};

const BIN: &str = env!("CARGO_BIN_EXE_pasar");

/// A data dir and, for PostgreSQL, a fresh database; every command runs against both.
struct Setup {
    dir: tempfile::TempDir,
    database_url: Option<String>,
    pg_name: Option<String>,
}

impl Setup {
    async fn new(backend: Backend) -> Self {
        let pg_name = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(testkit::create_pg_database().await),
        };
        Self {
            dir: tempfile::tempdir().unwrap(),
            database_url: pg_name.as_deref().map(testkit::pg_database_url),
            pg_name,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .arg("--data-dir")
            .arg(self.dir.path())
            .args(args)
            .env_remove("PASAR_DATABASE__URL")
            .env("PASAR_LOG__LEVEL", "warn");
        if let Some(url) = &self.database_url {
            command.env("PASAR_DATABASE__URL", url);
        }
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        let output = self.command(args).output().unwrap();
        assert!(
            output.status.success(),
            "pasar {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    async fn cleanup(self) {
        if let Some(name) = &self.pg_name {
            testkit::drop_pg_database(name).await;
        }
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

on_both_backends!(
    subcommands_work_and_admin_create_is_idempotent,
    serve_stops_cleanly_on_sigterm,
    demo_seed_builds_a_live_marketplace,
);

async fn subcommands_work_and_admin_create_is_idempotent(backend: Backend) {
    let setup = Setup::new(backend).await;
    assert!(stdout(&setup.run(&["migrate"])).contains("migrations applied"));
    let first = setup.run(&[
        "admin",
        "create",
        "--email",
        "Root@Example.com",
        "--password",
        "Adm1n!Secret",
    ]);
    assert!(stdout(&first).contains("created"), "{}", stdout(&first));
    let second = setup.run(&[
        "admin",
        "create",
        "--email",
        "root@example.com",
        "--password",
        "Adm1n!Secret",
    ]);
    assert!(
        stdout(&second).contains("already exists"),
        "{}",
        stdout(&second)
    );
    let weak = setup
        .command(&[
            "admin",
            "create",
            "--email",
            "x@example.com",
            "--password",
            "weak",
        ])
        .output()
        .unwrap();
    assert!(!weak.status.success(), "a weak admin password is refused");
    let rotated = setup.run(&["keys", "rotate"]);
    assert!(stdout(&rotated).contains("new signing key"));
    let document: serde_json::Value =
        serde_json::from_slice(&setup.run(&["openapi"]).stdout).unwrap();
    assert!(document["paths"]["/api/v1/auth/login"].is_object());
    let unknown = setup
        .command(&["serve", "--modules", "nope"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown module"));
    if backend == Backend::Sqlite {
        let key = setup.dir.path().join("master.key");
        assert!(
            key.exists(),
            "the master key file is created in the data dir"
        );
    }
    setup.cleanup().await;
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_ready(client: &reqwest::Client, addr: &str) {
    let started = Instant::now();
    loop {
        let ready = client
            .get(format!("http://{addr}/health/ready"))
            .send()
            .await;
        if ready.is_ok_and(|r| r.status() == 200) {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "server never became ready"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn demo_seed_builds_a_live_marketplace(backend: Backend) {
    let setup = Setup::new(backend).await;
    assert!(stdout(&setup.run(&["seed", "demo"])).contains("3 merchants, 26 products"));
    assert!(stdout(&setup.run(&["seed", "demo"])).contains("already there"));
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = setup
        .command(&["serve", "--addr", &addr])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    wait_ready(&client, &addr).await;
    let get = |path: String, token: Option<String>| {
        let mut request = client.get(format!("http://{addr}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            response.json::<serde_json::Value>().await.unwrap()
        }
    };
    let products = get("/api/v1/products?limit=100".into(), None).await;
    assert_eq!(products["items"].as_array().unwrap().len(), 26);
    let merchants = get("/api/v1/merchants".into(), None).await;
    assert_eq!(merchants["items"].as_array().unwrap().len(), 3);
    let login: serde_json::Value = client
        .post(format!("http://{addr}/api/v1/auth/login"))
        .json(
            &serde_json::json!({"email": "kopi.cashier@example.com", "password": "Demo!Passw0rd"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["accessToken"].as_str().map(str::to_owned);
    let stock = get("/api/v1/inventory/KOPI-01-1".into(), token.clone()).await;
    assert!(stock["onHand"].as_i64().unwrap() > 0, "{stock}");
    let mine = get("/api/v1/merchants/mine".into(), token).await;
    assert_eq!(mine[0]["role"], "cashier");
    child.kill().unwrap();
    let _ = child.wait();
    setup.cleanup().await;
}

async fn serve_stops_cleanly_on_sigterm(backend: Backend) {
    let setup = Setup::new(backend).await;
    setup.run(&[
        "admin",
        "create",
        "--email",
        "ops@example.com",
        "--password",
        "Adm1n!Secret",
    ]);
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = setup
        .command(&["serve", "--addr", &addr])
        .env("PASAR_LOG__LEVEL", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    wait_ready(&client, &addr).await;
    let login = client
        .post(format!("http://{addr}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "ops@example.com", "password": "Adm1n!Secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "pasar did not exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status}");
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut log).unwrap();
    assert!(log.contains("\"message\":\"ready\""), "{log}");
    assert!(log.contains("\"message\":\"stopped\""), "{log}");
    assert!(
        log.contains("\"route\":\"/api/v1/auth/login\""),
        "access log line: {log}"
    );
    setup.cleanup().await;
}
