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
    checkout_recovers_from_a_crash_between_saga_steps,
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
    let stranger = setup
        .command(&["keys", "internal-token", "--as", "mallory"])
        .output()
        .unwrap();
    assert!(!stranger.status.success(), "--as must name a module");
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
    // Every voucher product has its offer, public once the product was approved.
    let offers = get("/api/v1/vouchers?limit=100".into(), None).await;
    let offers = offers["items"].as_array().unwrap();
    assert!(offers.len() >= 8, "{offers:?}");
    assert!(offers.iter().all(|o| o["visible"] == true));
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
    // A default deployment has no payment simulator: its anonymous pages do not exist.
    let simulator_page = format!("/api/v1/payments/simulator/{}", uuid::Uuid::new_v4());
    let answer = |addr: String, path: String| async move {
        let response = reqwest::get(format!("http://{addr}{path}")).await.unwrap();
        let body: serde_json::Value = response.json().await.unwrap();
        body["code"].as_str().unwrap_or_default().to_owned()
    };
    assert_eq!(
        answer(addr.clone(), simulator_page.clone()).await,
        "route_not_found"
    );
    child.kill().unwrap();
    let _ = child.wait();

    // `serve --demo` turns it on (the demo's customers pay through it), and says so.
    let addr = format!("127.0.0.1:{}", free_port());
    let demo = setup
        .command(&["serve", "--demo", "--addr", &addr])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_ready(&client, &addr).await;
    assert_eq!(
        answer(addr.clone(), simulator_page).await,
        "payment_not_found"
    );
    let stopped = Command::new("kill")
        .args(["-TERM", &demo.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let output = demo.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("the payment simulator is on"), "{log}");
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
    // An operator's internal token opens the internal routes; nothing else does.
    let internal = stdout(&setup.run(&["keys", "internal-token", "--as", "orders"]));
    let internal_doc = format!("http://{addr}/internal/openapi.json");
    let with_token = client
        .get(&internal_doc)
        .bearer_auth(internal.trim())
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), 200);
    let without = client.get(&internal_doc).send().await.unwrap();
    assert_eq!(without.status(), 401);
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
    // Idempotent DDL on start must not fill the log with PostgreSQL notices.
    assert!(!log.contains("skipping"), "{log}");
    assert!(
        log.contains("\"route\":\"/api/v1/auth/login\""),
        "access log line: {log}"
    );
    setup.cleanup().await;
}

/// A `pasar serve` child on a free port, with extra environment.
struct Server {
    child: std::process::Child,
    addr: String,
}

impl Server {
    async fn start(setup: &Setup, env: &[(&str, &str)]) -> Self {
        let addr = format!("127.0.0.1:{}", free_port());
        let mut command = setup.command(&["serve", "--addr", &addr]);
        // The development profile: these tests pay through the simulator's pages.
        command
            .env("PASAR_PROFILE", "development")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().unwrap();
        wait_ready(&reqwest::Client::new(), &addr).await;
        Self { child, addr }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Waits for the process to end by itself (a fail point aborted it).
    async fn wait_exit(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "pasar did not stop at the fail point"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A failed assertion must not leave a server running.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn get_json(client: &reqwest::Client, url: String, token: &str) -> serde_json::Value {
    let response = client.get(&url).bearer_auth(token).send().await.unwrap();
    response.json().await.unwrap()
}

async fn post_json(
    client: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: serde_json::Value,
) -> serde_json::Value {
    let mut request = client.post(&url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().json().await.unwrap()
}

async fn token(client: &reqwest::Client, server: &Server, email: &str) -> String {
    let login = post_json(
        client,
        server.url("/api/v1/auth/login"),
        None,
        serde_json::json!({"email": email, "password": "Demo!Passw0rd"}),
    )
    .await;
    login["accessToken"]
        .as_str()
        .expect("access token")
        .to_owned()
}

/// (on hand, reserved) of the demo's first Kopi SKU.
async fn kopi_stock(client: &reqwest::Client, server: &Server, owner: &str) -> (i64, i64) {
    let stock: serde_json::Value =
        get_json(client, server.url("/api/v1/inventory/KOPI-01-1"), owner).await;
    (
        stock["onHand"].as_i64().unwrap(),
        stock["reserved"].as_i64().unwrap(),
    )
}

/// The variant of a SKU and its product's merchant.
async fn variant_of_sku(client: &reqwest::Client, server: &Server, sku: &str) -> (String, String) {
    let list: serde_json::Value = client
        .get(server.url("/api/v1/products?limit=100"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for product in list["items"].as_array().unwrap() {
        let id = product["id"].as_str().unwrap();
        let detail: serde_json::Value = client
            .get(server.url(&format!("/api/v1/products/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for variant in detail["variants"].as_array().unwrap() {
            if variant["sku"] == sku {
                return (
                    variant["id"].as_str().unwrap().to_owned(),
                    detail["merchantId"].as_str().unwrap().to_owned(),
                );
            }
        }
    }
    panic!("no variant {sku}");
}

/// Kill the real process at each checkout step (fail points abort it), restart it, and check
/// that no stock leaked, the saga was compensated or finished, a retry with the same
/// Idempotency-Key never orders twice, and a paid order is paid once.
async fn checkout_recovers_from_a_crash_between_saga_steps(backend: Backend) {
    let setup = Setup::new(backend).await;
    setup.run(&["seed", "demo"]);
    let client = reqwest::Client::new();
    let fast_recovery = ("PASAR_ORDERS__SAGA_TIMEOUT_SECS", "1");
    for fail_point in ["after_start", "after_reserve", "after_create"] {
        let mut server = Server::start(
            &setup,
            &[("PASAR_ORDERS__FAIL_POINT", fail_point), fast_recovery],
        )
        .await;
        let owner = token(&client, &server, "kopi.owner@example.com").await;
        let customer = token(&client, &server, "customer@example.com").await;
        let before = kopi_stock(&client, &server, &owner).await;
        let (variant, merchant) = variant_of_sku(&client, &server, "KOPI-01-1").await;
        let address = post_json(
            &client,
            server.url("/api/v1/users/me/addresses"),
            Some(&customer),
            serde_json::json!({"recipient": "Demo Customer", "phone": "+85512345678",
                "street": "No. 1, Street 240", "city": "Phnom Penh", "country": "KH"}),
        )
        .await;
        let body = serde_json::json!({"lines": [{"variantId": variant, "quantity": 2}],
            "shippingAddressId": address["id"],
            "shipping": [{"merchantId": merchant, "courierCode": "SIMULATOR", "serviceCode": "REGULAR"}]});
        let key = format!("crash-{fail_point}");
        let checkout = || {
            client
                .post(server.url("/api/v1/orders"))
                .bearer_auth(&customer)
                .header("Idempotency-Key", &key)
                .json(&body)
                .send()
        };
        assert!(
            checkout().await.is_err(),
            "{fail_point}: the process died mid-checkout"
        );
        server.wait_exit().await;

        let server = Server::start(&setup, &[fast_recovery]).await;
        let checkout = || {
            client
                .post(server.url("/api/v1/orders"))
                .bearer_auth(&customer)
                .header("Idempotency-Key", &key)
                .json(&body)
                .send()
        };
        let created = if fail_point == "after_create" {
            // The orders committed with the stored answer: the retry gets the same group.
            let retry = checkout().await.unwrap();
            assert_eq!(retry.status(), 201, "{fail_point}");
            assert_eq!(retry.headers()["idempotent-replayed"], "true");
            assert_eq!(
                kopi_stock(&client, &server, &owner).await,
                (before.0, before.1 + 2)
            );
            retry.json::<serde_json::Value>().await.unwrap()
        } else {
            // The recovery job gives the reservation back; then the key is free to retry.
            let started = Instant::now();
            while kopi_stock(&client, &server, &owner).await != before {
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "{fail_point}: stock leaked"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            let orders: serde_json::Value =
                get_json(&client, server.url("/api/v1/orders"), &customer).await;
            let previous = orders["items"].as_array().unwrap().len();
            // Until the dead attempt's lease on the key runs out, a retry is told to wait.
            let started = Instant::now();
            let retry = loop {
                let retry = checkout().await.unwrap();
                if retry.status() != 409 {
                    break retry;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "{fail_point}: key never freed"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            };
            assert_eq!(retry.status(), 201, "{fail_point}");
            assert_eq!(
                kopi_stock(&client, &server, &owner).await,
                (before.0, before.1 + 2)
            );
            let after: serde_json::Value =
                get_json(&client, server.url("/api/v1/orders"), &customer).await;
            assert_eq!(
                after["items"].as_array().unwrap().len(),
                previous + 1,
                "one order per key"
            );
            retry.json::<serde_json::Value>().await.unwrap()
        };

        // Pay it; the same gateway webhook again after a restart changes nothing.
        let group = created["id"].as_str().unwrap();
        let order = created["orders"][0]["id"].as_str().unwrap().to_owned();
        let payment = post_json(
            &client,
            server.url("/api/v1/payments"),
            Some(&customer),
            serde_json::json!({"orderGroupId": group, "method": "simulator"}),
        )
        .await;
        let payment_id = payment["id"].as_str().expect("payment").to_owned();
        let approve = client
            .post(server.url(&format!("/api/v1/payments/simulator/{payment_id}/approve")))
            .send()
            .await
            .unwrap();
        assert_eq!(approve.status(), 200);
        let order_status = |server: &Server| {
            let request = client
                .get(server.url(&format!("/api/v1/orders/{order}")))
                .bearer_auth(&customer);
            async move {
                request
                    .send()
                    .await
                    .unwrap()
                    .json::<serde_json::Value>()
                    .await
                    .unwrap()
            }
        };
        let started = Instant::now();
        while order_status(&server).await["status"] != "PAID" {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{fail_point}: never paid"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        drop(server);
        let server = Server::start(&setup, &[]).await;
        let approve = client
            .post(server.url(&format!("/api/v1/payments/simulator/{payment_id}/approve")))
            .send()
            .await
            .unwrap();
        assert_eq!(approve.status(), 200);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let timeline: serde_json::Value = get_json(
            &client,
            server.url(&format!("/api/v1/orders/{order}/timeline")),
            &customer,
        )
        .await;
        let paid = timeline
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["status"] == "PAID")
            .count();
        assert_eq!(paid, 1, "{fail_point}: paid once: {timeline}");
        // Sold units left on hand; nothing else is held.
        let sold = kopi_stock(&client, &server, &owner).await;
        assert_eq!(sold, (before.0 - 2, before.1), "{fail_point}");
        drop(server);
    }
    setup.cleanup().await;
}
