//! The split layout with the real binary: modules in separate processes on PostgreSQL, NATS
//! JetStream and Redis, behind `pasar serve --modules gateway`.
//!
//! Processes: `core` (identity, merchants, catalog, notifications, vouchers, ledger, loyalty,
//! reviews, media, shipping, search), two
//! instances of `shop` (orders, cart, inventory, promotions, flashsales), `pay` (payments), and the gateway. Tests drive
//! them over HTTP through the gateway; fixtures that need the database directly (admin
//! bootstrap, email verification) run in a control app attached to the same database.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use testkit::{uuid_of, Backend, MerchantFixture, Session, TestApp, SIMULATOR_SECRET};
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_pasar");
const USD: &str = "USD";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn port_open(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(
        &format!("127.0.0.1:{port}").parse().expect("address"),
        Duration::from_millis(200),
    )
    .is_ok()
}

/// Whether the process exists and has not exited (an exited child stays a zombie until
/// reaped).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'))
    })
}

fn terminate(child: &Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
}

/// A NATS server of the test's own (JetStream on a file store), so restarting it touches no
/// other test.
struct OwnNats {
    port: u16,
    store: PathBuf,
    child: std::sync::Mutex<Option<Child>>,
}

impl OwnNats {
    fn start(store: &Path) -> Self {
        let nats = Self {
            port: free_port(),
            store: store.to_path_buf(),
            child: std::sync::Mutex::new(None),
        };
        nats.launch();
        nats
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn launch(&self) {
        let child = Command::new(testkit::tools::nats_server())
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        *self.child.lock().expect("nats child") = Some(child);
        let started = Instant::now();
        while !port_open(self.port) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "nats-server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (SIGTERM, as a restart by an operator) and starts it on the same store.
    fn restart(&self) {
        self.stop();
        self.launch();
    }

    fn stop(&self) {
        let running = self.child.lock().expect("nats child").take();
        if let Some(mut child) = running {
            terminate(&child);
            let _ = child.wait();
        }
    }
}

impl Drop for OwnNats {
    fn drop(&mut self) {
        if let Ok(mut child) = self.child.lock() {
            if let Some(child) = child.as_mut() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// One `pasar serve` process.
struct Process {
    label: String,
    modules: String,
    port: u16,
    child: Option<Child>,
}

impl Process {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// The processes of one split deployment and what they share.
struct Split {
    dir: tempfile::TempDir,
    pg_name: String,
    env: BTreeMap<String, String>,
    processes: Vec<Process>,
    /// The control app, driving HTTP through the gateway.
    app: TestApp,
    admin: Option<Session>,
}

/// core without search, for layouts giving search processes of its own.
const CORE_ONLY: &str =
    "identity,merchants,catalog,notifications,vouchers,ledger,loyalty,reviews,media,shipping,chat,books,analytics";
const CORE: &str = "identity,merchants,catalog,notifications,vouchers,ledger,loyalty,reviews,media,shipping,chat,books,analytics,search";
const SHOP: &str = "orders,cart,inventory,promotions,flashsales";
const PAY: &str = "payments";
const SEARCH: &str = "search";

/// core, two shop instances, pay, and the gateway.
const LAYOUT: [(&str, &str); 5] = [
    ("core", CORE),
    ("shop-1", SHOP),
    ("shop-2", SHOP),
    ("pay", PAY),
    ("gateway", "gateway"),
];

impl Split {
    /// Starts [`LAYOUT`] on a fresh database, with events on `nats_url` and shared state on
    /// Redis; `extra` overrides the environment.
    async fn start(nats_url: &str, extra: &[(&str, &str)]) -> Self {
        Self::start_layout(&LAYOUT, nats_url, extra).await
    }

    /// Starts `layout` (label, modules; the first process migrates first). Instances of the same
    /// modules are instances of one remote; the process labelled `gateway`, when there is one,
    /// is where the control app sends its requests.
    async fn start_layout(layout: &[(&str, &str)], nats_url: &str, extra: &[(&str, &str)]) -> Self {
        tokio::task::spawn_blocking(|| {
            testkit::tools::redis();
            testkit::tools::nats();
        })
        .await
        .expect("Redis and NATS set-up");
        let dir = tempfile::tempdir().expect("temp dir");
        let pg_name = testkit::create_pg_database().await;
        let database_url = testkit::pg_database_url(&pg_name);
        let unique = Uuid::new_v4().simple().to_string();
        let master_key = "c3BsaXQtdGVzdC1tYXN0ZXIta2V5LTMyLWJ5dGVzISE=";
        let mut processes: Vec<Process> = layout
            .iter()
            .map(|(label, modules)| Process {
                label: (*label).to_owned(),
                modules: (*modules).to_owned(),
                port: free_port(),
                child: None,
            })
            .collect();
        let gateway_url = processes
            .iter()
            .find(|p| p.label == "gateway")
            .unwrap_or(&processes[0])
            .url();
        let mut env: BTreeMap<String, String> = [
            ("PASAR_DATABASE__URL", database_url.as_str()),
            ("PASAR_DATABASE__MAX_CONNECTIONS", "6"),
            ("PASAR_BUS__URL", nats_url),
            ("PASAR_BUS__NAMESPACE", &format!("t{unique}")),
            ("PASAR_BUS__ACK_WAIT_SECS", "2"),
            ("PASAR_BUS__POLL_INTERVAL_MS", "100"),
            ("PASAR_BUS__RETRY_BASE_MS", "100"),
            ("PASAR_JOBS__POLL_INTERVAL_MS", "200"),
            ("PASAR_JOBS__RETRY_BASE_MS", "200"),
            ("PASAR_CACHE__URL", "redis://127.0.0.1:6379"),
            ("PASAR_CACHE__PREFIX", &format!("t{unique}")),
            ("PASAR_KEYRING__MASTER_KEY", master_key),
            ("PASAR_PAYMENTS__SIMULATOR__ENABLED", "true"),
            ("PASAR_SHIPPING__SIMULATOR__ENABLED", "true"),
            (
                "PASAR_PAYMENTS__SIMULATOR__WEBHOOK_SECRET",
                SIMULATOR_SECRET,
            ),
            ("PASAR_HTTP__PUBLIC_URL", &gateway_url),
            ("PASAR_HTTP__TRUST_FORWARDED_FOR", "true"),
            ("PASAR_HTTP__SHUTDOWN_GRACE_SECS", "3"),
            ("PASAR_RATE_LIMIT__ENABLED", "false"),
            ("PASAR_ORDERS__SAGA_TIMEOUT_SECS", "5"),
            ("PASAR_GATEWAY__HEALTH_INTERVAL_MS", "300"),
            ("PASAR_SERVICES__TIMEOUT_MS", "3000"),
            ("PASAR_SERVICES__BREAKER_OPEN_SECS", "2"),
            ("PASAR_LOG__LEVEL", "warn"),
            ("PASAR_LOG__FORMAT", "text"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for process in &processes {
            if process.label == "gateway" {
                continue;
            }
            // Processes with the same modules are instances of one remote.
            let urls = processes
                .iter()
                .filter(|p| p.modules == process.modules)
                .map(Process::url)
                .collect::<Vec<_>>()
                .join(",");
            for module in process.modules.split(',') {
                env.insert(
                    format!("PASAR_REMOTE__{}", module.to_uppercase()),
                    urls.clone(),
                );
            }
        }
        if nats_url.is_empty() {
            env.remove("PASAR_BUS__URL");
        }
        for (key, value) in extra {
            env.insert((*key).to_owned(), (*value).to_owned());
        }

        // The control app: no modules, the same database and keys; its fixtures talk HTTP to
        // the gateway.
        let mut config = testkit::test_config(dir.path());
        config.database.url = Some(database_url.clone());
        config.keyring.master_key = Some(master_key.to_owned());
        // Its fixtures read what they need of the modules (a checkout's merchants) through
        // their typed clients, like any process of the layout.
        for (key, urls) in &env {
            if let Some(module) = key.strip_prefix("PASAR_REMOTE__") {
                config.remote.insert(module.to_lowercase(), urls.clone());
            }
        }
        let mut split = Self {
            app: TestApp::attach(Backend::Postgres, config, Vec::new()).await,
            dir,
            pg_name,
            env,
            processes: Vec::new(),
            admin: None,
        };
        // core first: it migrates identity's tables, which the control app's fixtures use.
        for index in 0..processes.len() {
            split.launch(&mut processes[index]);
            if index == 0 {
                split.wait_ready(&processes[0]).await;
            }
        }
        for process in &processes {
            split.wait_ready(process).await;
        }
        split.processes = processes;
        split.app.base_url = gateway_url;
        split
    }

    fn launch(&self, process: &mut Process) {
        let log = std::fs::File::create(self.dir.path().join(format!("{}.log", process.label)))
            .expect("log file");
        let child = Command::new(BIN)
            .arg("--data-dir")
            .arg(self.dir.path().join(&process.label))
            .args(["serve", "--addr", &format!("127.0.0.1:{}", process.port)])
            .args(["--modules", &process.modules])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PASAR_TRACING__SERVICE_NAME", &process.label)
            .envs(&self.env)
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("pasar starts");
        process.child = Some(child);
    }

    async fn wait_ready(&self, process: &Process) {
        let started = Instant::now();
        let client = reqwest::Client::new();
        loop {
            let ready = client
                .get(format!("{}/health/ready", process.url()))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return;
            }
            let alive = process
                .child
                .as_ref()
                .is_some_and(|child| running(child.id()));
            if !alive || started.elapsed() > Duration::from_secs(60) {
                panic!(
                    "{} did not become ready:\n{}",
                    process.label,
                    self.log_of(&process.label)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_of(&self, label: &str) -> String {
        let text = std::fs::read_to_string(self.dir.path().join(format!("{label}.log")))
            .unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// SIGKILL: no shutdown, no flush, no acknowledgements. (By pid, so it can happen while
    /// requests are in flight; the child is reaped when relaunched.)
    fn kill9(&self, label: &str) {
        let process = self
            .processes
            .iter()
            .find(|p| p.label == label)
            .expect("process");
        if let Some(child) = &process.child {
            let status = Command::new("kill")
                .args(["-KILL", &child.id().to_string()])
                .status()
                .expect("kill -9");
            assert!(status.success());
        }
    }

    async fn relaunch(&mut self, label: &str) {
        let index = self
            .processes
            .iter()
            .position(|p| p.label == label)
            .expect("process");
        let mut process = std::mem::replace(
            &mut self.processes[index],
            Process {
                label: String::new(),
                modules: String::new(),
                port: 0,
                child: None,
            },
        );
        if let Some(mut dead) = process.child.take() {
            let _ = dead.wait();
        }
        self.launch(&mut process);
        self.wait_ready(&process).await;
        self.processes[index] = process;
    }

    fn url_of(&self, label: &str) -> String {
        self.processes
            .iter()
            .find(|p| p.label == label)
            .expect("process")
            .url()
    }

    async fn admin(&mut self) -> Session {
        if self.admin.is_none() {
            self.admin = Some(self.app.admin().await);
        }
        self.admin.clone().expect("admin")
    }

    /// A merchant with a listed product holding `stock` units; returns it and the variant.
    async fn shop_with_stock(
        &mut self,
        sku: &str,
        price: i64,
        stock: i64,
    ) -> (MerchantFixture, Uuid) {
        let admin = self.admin().await;
        let merchant = self.app.merchant("split").await;
        let category = self
            .app
            .category(&admin, &format!("c-{}", sku.to_lowercase()), None)
            .await;
        let (_, variant) = self
            .app
            .listed_product(&merchant, &admin, category, "Kettle", sku, price, stock)
            .await;
        (merchant, variant)
    }

    async fn stop(mut self) {
        for process in &mut self.processes {
            if let Some(child) = &process.child {
                terminate(child);
            }
        }
        for process in &mut self.processes {
            if let Some(mut child) = process.child.take() {
                let _ = child.wait();
            }
        }
        let pg_name = self.pg_name.clone();
        self.app.stop().await;
        testkit::drop_pg_database(&pg_name).await;
    }
}

/// A failing test leaves no process behind.
impl Drop for Process {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A checkout request with its Idempotency-Key.
struct Attempted {
    key: String,
    body: Value,
    status: u16,
    answer: Value,
}

/// Checks out `quantity` of `variant` with an Idempotency-Key, repeating the same request
/// while the answer says the service or the key's first attempt was cut short. Returns the
/// final answer.
async fn checkout_until_answered(
    app: &TestApp,
    customer: &Session,
    variant: Uuid,
    quantity: i64,
) -> Attempted {
    let key = Uuid::new_v4().to_string();
    let body = json!({"lines": [{"variantId": variant, "quantity": quantity}]});
    let started = Instant::now();
    loop {
        let resp = app.checkout(customer, body.clone(), Some(&key)).await;
        let retry = resp.status >= 500 || resp.code() == "idempotency_key_in_use";
        if !retry || started.elapsed() > Duration::from_secs(90) {
            return Attempted {
                key,
                body,
                status: resp.status,
                answer: resp.body,
            };
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Checks out `body` with an Idempotency-Key, repeating it like a well-behaved client while
/// the answer says to come back (a busy flash sale, an instance cut short under load).
async fn checkout_retrying(app: &TestApp, customer: &Session, body: &Value) -> testkit::Resp {
    let key = Uuid::new_v4().to_string();
    let started = Instant::now();
    loop {
        let resp = app.checkout(customer, body.clone(), Some(&key)).await;
        let retry = resp.status >= 500
            || ["idempotency_key_in_use", "flash_sale_busy"].contains(&resp.code());
        if !retry || started.elapsed() > Duration::from_secs(90) {
            return resp;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Pays a group through the simulator's signed webhook; retried like a client would.
async fn pay(app: &TestApp, customer: &Session, group: Uuid) -> i64 {
    let key = Uuid::new_v4().to_string();
    let payment = testkit::eventually(Duration::from_secs(60), "payment created", || async {
        let resp = app.pay(customer, group, "simulator", Some(&key)).await;
        (resp.status == 201).then_some(resp.body)
    })
    .await;
    let payment_id = uuid_of(&payment["id"]);
    let amount = payment["amount"].as_i64().expect("amount");
    testkit::eventually(Duration::from_secs(60), "webhook accepted", || async {
        let hook = app
            .simulator_webhook(
                &format!("evt-{payment_id}"),
                payment_id,
                "SUCCEEDED",
                amount,
                USD,
            )
            .await;
        (hook.status == 200).then_some(())
    })
    .await;
    amount
}

async fn final_status(app: &TestApp, customer: &Session, order: Uuid, wanted: &[&str]) -> String {
    testkit::eventually(Duration::from_secs(60), "order settles", || async {
        let resp = app
            .get(
                &format!("/api/v1/orders/{order}"),
                Some(&customer.access_token),
            )
            .await;
        resp.body["status"]
            .as_str()
            .filter(|s| wanted.contains(s))
            .map(str::to_owned)
    })
    .await
}

const STOCK: i64 = 40;
const ROUNDS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn checkout_through_the_gateway_survives_a_killed_instance_and_a_nats_restart() {
    let nats_dir = tempfile::tempdir().expect("temp dir");
    let nats = OwnNats::start(nats_dir.path());
    let mut split = Split::start(&nats.url(), &[]).await;
    let (merchant, variant) = split.shop_with_stock("KETTLE-1", 5_000, STOCK).await;
    let mut customers = Vec::new();
    for index in 0..12 {
        customers.push(split.app.customer(&format!("buyer{index}")).await);
    }

    // Twelve customers place four orders each, one unit at a time, against 40 units, less
    // some refused for stock when a killed attempt still holds its reservation. Mid-load,
    // shop-1 is killed with SIGKILL and NATS restarts; clients repeat a request (same
    // Idempotency-Key) until it is answered.
    let app = &split.app;
    let started = Instant::now();
    let checkouts = futures_util::future::join_all(customers.iter().map(|customer| async move {
        let mut answers = Vec::new();
        for _ in 0..ROUNDS {
            answers.push((
                customer,
                checkout_until_answered(app, customer, variant, 1).await,
            ));
        }
        answers
    }));
    let chaos = async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        split.kill9("shop-1");
        let killed_at = started.elapsed();
        tokio::time::sleep(Duration::from_millis(300)).await;
        nats.restart();
        killed_at
    };
    let (answers, killed_at) = tokio::join!(checkouts, chaos);
    let load_took = started.elapsed();
    assert!(
        killed_at < load_took,
        "the kill ({killed_at:?}) came after the load ({load_took:?})"
    );
    split.relaunch("shop-1").await;

    let mut placed = Vec::new();
    for (customer, attempted) in answers.into_iter().flatten() {
        let body = &attempted.answer;
        match attempted.status {
            201 => {
                // The answer was lost: the same request again gets the same order.
                let replay = split
                    .app
                    .checkout(customer, attempted.body.clone(), Some(&attempted.key))
                    .await;
                assert_eq!(replay.status, 201, "replay: {:?}", replay.body);
                assert_eq!(replay.header("idempotent-replayed"), Some("true"));
                assert_eq!(replay.body["id"], body["id"]);
                placed.push((
                    customer,
                    uuid_of(&body["id"]),
                    uuid_of(&body["orders"][0]["id"]),
                ))
            }
            409 => assert_eq!(body["code"], "insufficient_stock", "{body}"),
            other => panic!("checkout answered {other}: {body}"),
        }
    }
    assert!(
        placed.len() >= 30 && placed.len() as i64 <= STOCK,
        "{} orders placed (load {load_took:?}, kill at {killed_at:?})",
        placed.len()
    );

    // Pay every other order; cancel the rest.
    let mut paid_total = 0;
    let mut paid_units = 0;
    for (index, (customer, group, order)) in placed.iter().enumerate() {
        if index % 2 == 0 {
            paid_total += pay(&split.app, customer, *group).await;
            paid_units += 1;
            assert_eq!(
                final_status(&split.app, customer, *order, &["PAID"]).await,
                "PAID"
            );
        } else {
            let resp = split
                .app
                .post(
                    &format!("/api/v1/orders/{order}/cancel"),
                    json!({"reason": "changed my mind"}),
                    Some(&customer.access_token),
                )
                .await;
            assert_eq!(resp.status, 200, "cancel: {:?}", resp.body);
            assert_eq!(
                final_status(&split.app, customer, *order, &["CANCELLED"]).await,
                "CANCELLED"
            );
        }
    }

    // Stock: the paid units are gone, nothing stays reserved, nothing else moved.
    split
        .app
        .stock_reaches(&merchant, "KETTLE-1", (STOCK - paid_units, 0))
        .await;
    // Money: exactly the paid amounts were captured into clearing, and the ledger balances.
    let admin = split.admin().await;
    split
        .app
        .account_reaches(&admin, USD, "customer_clearing", paid_total)
        .await;
    split.app.trial_balance(&admin).await;

    // NATS down: the processes stay in service (degraded), since the outbox keeps the events.
    nats.stop();
    for label in ["core", "shop-1", "pay"] {
        let url = format!("{}/health/ready", split.url_of(label));
        let health = testkit::eventually(Duration::from_secs(20), "bus seen down", || async {
            let resp = reqwest::get(&url).await.ok()?;
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.ok()?;
            (body["bus"] == "down").then_some((status, body))
        })
        .await;
        assert_eq!(health.0, 200, "{label}: {}", health.1);
        assert_eq!(health.1["status"], "degraded", "{label}: {}", health.1);
    }
    nats.launch();
    split.stop().await;
    drop(nats);
}

/// The machine's NATS server; each test has its own namespace of streams.
const SHARED_NATS: &str = "nats://127.0.0.1:4222";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_coupon_limit_holds_across_two_shop_instances() {
    let mut split = Split::start(SHARED_NATS, &[]).await;
    let (_merchant, variant) = split.shop_with_stock("LAMP-1", 3_000, 100).await;
    let admin = split.admin().await;
    let app = &split.app;
    let campaign = app
        .post(
            "/api/v1/campaigns",
            json!({"title": {"en": "Split sale"}, "startsAt": "2026-01-01T00:00:00Z"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(campaign.status, 201, "{:?}", campaign.body);
    let campaign = uuid_of(&campaign.body["id"]);
    let running = app
        .post(
            &format!("/api/v1/campaigns/{campaign}/status"),
            json!({"status": "SCHEDULED"}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(running.body["status"], "ACTIVE", "{:?}", running.body);
    let promotion = app
        .post(
            "/api/v1/promotions",
            json!({"campaignId": campaign, "name": {"en": "Five"}, "kind": "CODE", "code": "FIVE",
                "currency": "USD", "bearer": "PLATFORM", "usageLimit": 5,
                "rules": {"effect": {"type": "AMOUNT_OFF", "amount": 500, "target": "ORDER"}}}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(promotion.status, 201, "{:?}", promotion.body);
    let path = format!("/api/v1/promotions/{}", uuid_of(&promotion.body["id"]));
    let mut customers = Vec::new();
    for index in 0..6 {
        customers.push(app.customer(&format!("coupon{index}")).await);
    }
    // Thirty checkouts at once through the gateway, taken in turn by shop-1 and shop-2.
    let body = json!({"lines": [{"variantId": variant, "quantity": 1}], "couponCodes": ["FIVE"]});
    let answers = futures_util::future::join_all((0..30).map(|n| {
        let customer = &customers[n % customers.len()];
        let body = body.clone();
        async move { (customer, app.checkout(customer, body, None).await) }
    }))
    .await;
    let won: Vec<_> = answers.iter().filter(|(_, r)| r.status == 201).collect();
    assert_eq!(won.len(), 5, "exactly the limit across both instances");
    for (_, lost) in answers.iter().filter(|(_, r)| r.status != 201) {
        assert!(
            ["coupon_not_applicable", "promotion_unavailable"].contains(&lost.code()),
            "{:?}",
            lost.body
        );
    }
    // Paid, the uses count; one order cancelled before payment gives its use back, whichever
    // instance hears of it.
    for (customer, order) in &won[..4] {
        pay(app, customer, uuid_of(&order.body["id"])).await;
    }
    let (customer, unpaid) = won[4];
    let order = uuid_of(&unpaid.body["orders"][0]["id"]);
    let cancelled = app
        .post(
            &format!("/api/v1/orders/{order}/cancel"),
            json!({"reason": "changed my mind"}),
            Some(&customer.access_token),
        )
        .await;
    assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    testkit::eventually(Duration::from_secs(30), "uses settle", || async {
        let redeemed = app.list_events("coupon.redeemed").await.len();
        let uses = app.get(&path, Some(&admin.access_token)).await.body["uses"].as_i64();
        (redeemed == 4 && uses == Some(4)).then_some(())
    })
    .await;
    split.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flash_sale_allotment_holds_across_two_shop_instances() {
    let mut split = Split::start(SHARED_NATS, &[]).await;
    let (merchant, variant) = split.shop_with_stock("FAN-1", 4_000, 1_000).await;
    let app = &split.app;
    let sale = app
        .post(
            "/api/v1/flash-sales",
            json!({"title": {"en": "Split flash"}, "merchantId": merchant.id,
                "startsAt": kernel::Timestamp::now().plus_seconds(-1).to_rfc3339(),
                "endsAt": kernel::Timestamp::now().plus_seconds(3_600).to_rfc3339(),
                "items": [{"variantId": variant, "salePrice": 1_000, "allotment": 20, "perCustomerLimit": 1}]}),
            Some(&merchant.owner.access_token),
        )
        .await;
    assert_eq!(sale.status, 201, "{:?}", sale.body);
    let availability = format!(
        "/api/v1/flash-sales/{}/availability",
        uuid_of(&sale.body["id"])
    );
    let body = json!({"lines": [{"variantId": variant, "quantity": 1}]});
    // A crowd through the gateway, taken in turn by shop-1 and shop-2, each buyer coming back
    // when told to: under load a checkout may fail after taking its unit, which it gives back.
    let crowd: Vec<Session> = (0..300).map(|_| app.crowd_customer()).collect();
    let answers =
        futures_util::future::join_all(crowd.iter().map(|c| checkout_retrying(app, c, &body)))
            .await;
    let won: Vec<(usize, Uuid)> = answers
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status == 201)
        .map(|(i, r)| (i, uuid_of(&r.body["orders"][0]["id"])))
        .collect();
    for lost in answers.iter().filter(|r| r.status != 201) {
        assert_eq!(lost.code(), "sold_out", "{:?}", lost.body);
    }
    assert_eq!(won.len(), 20, "exactly the allotment across both instances");
    // Five cancelled unpaid, whichever instance hears of it: exactly five more are sold.
    for (i, order) in &won[..5] {
        let cancelled = app
            .post(
                &format!("/api/v1/orders/{order}/cancel"),
                json!({}),
                Some(&crowd[*i].access_token),
            )
            .await;
        assert_eq!(cancelled.status, 200, "{:?}", cancelled.body);
    }
    testkit::eventually(Duration::from_secs(30), "units back", || async {
        (app.get(&availability, None).await.body["items"][0]["remaining"] == 5).then_some(())
    })
    .await;
    let late: Vec<Session> = (0..50).map(|_| app.crowd_customer()).collect();
    let answers =
        futures_util::future::join_all(late.iter().map(|c| checkout_retrying(app, c, &body))).await;
    assert_eq!(answers.iter().filter(|r| r.status == 201).count(), 5);
    assert_eq!(
        app.get(&availability, None).await.body["items"][0]["remaining"],
        0
    );
    split.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_produced_while_their_consumer_is_down_are_applied_once_when_it_returns() {
    let mut split = Split::start(SHARED_NATS, &[]).await;
    let (_merchant, variant) = split.shop_with_stock("MUG-1", 2_500, 10).await;
    let mut placed = Vec::new();
    for index in 0..4 {
        let customer = split.app.customer(&format!("mug{index}")).await;
        let Attempted {
            status,
            answer: body,
            ..
        } = checkout_until_answered(&split.app, &customer, variant, 1).await;
        assert_eq!(status, 201, "{body}");
        placed.push((
            customer,
            uuid_of(&body["id"]),
            uuid_of(&body["orders"][0]["id"]),
        ));
    }

    // The gateway took turns: both shop instances placed orders.
    for label in ["shop-1", "shop-2"] {
        let url = split
            .processes
            .iter()
            .find(|p| p.label == label)
            .expect("shop")
            .url();
        let metrics = reqwest::get(format!("{url}/metrics"))
            .await
            .expect("metrics");
        let text = metrics.text().await.expect("metrics text");
        assert!(
            text.lines()
                .any(|l| l.starts_with("pasar_http_requests_total")
                    && l.contains("route=\"/api/v1/orders\"")
                    && l.contains("status=\"201\"")),
            "{label} placed no order"
        );
    }

    // The ledger (in core) is down while the payments are captured.
    split.kill9("core");
    let mut paid_total = 0;
    for (customer, group, order) in &placed {
        paid_total += pay(&split.app, customer, *group).await;
        assert_eq!(
            final_status(&split.app, customer, *order, &["PAID"]).await,
            "PAID"
        );
    }
    let ledger_db = split.app.ctx().db.clone();
    let captures = || async {
        let count: Result<i64, sqlx::Error> = platform::on_db!(&ledger_db, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM ledger_transactions WHERE kind = 'PAYMENT_CAPTURED'"
        ).fetch_one(pool).await);
        count.expect("count captures")
    };
    assert_eq!(
        captures().await,
        0,
        "the ledger was down: nothing posted yet"
    );

    split.relaunch("core").await;
    let admin = split.admin().await;
    split
        .app
        .account_reaches(&admin, USD, "customer_clearing", paid_total)
        .await;
    assert_eq!(captures().await, placed.len() as i64);

    // Killed again and back: nothing is applied twice.
    split.kill9("core");
    split.relaunch("core").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(captures().await, placed.len() as i64);
    assert_eq!(
        split
            .app
            .account_balance(&admin, USD, "customer_clearing")
            .await,
        paid_total
    );
    split.app.trial_balance(&admin).await;
    split.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rate_limit_holds_across_two_instances_sharing_redis() {
    let split = Split::start_layout(
        &[
            ("id-1", "identity"),
            ("id-2", "identity"),
            ("gateway", "gateway"),
        ],
        "",
        &[
            ("PASAR_RATE_LIMIT__ENABLED", "true"),
            ("PASAR_RATE_LIMIT__AUTH", "4"),
            ("PASAR_RATE_LIMIT__EDGE", "5"),
        ],
    )
    .await;
    let client = reqwest::Client::new();
    let urls: Vec<String> = split.processes.iter().map(Process::url).collect();
    let mut statuses = Vec::new();
    for attempt in 0..6 {
        let resp = client
            .post(format!("{}/api/v1/auth/login", urls[attempt % 2]))
            .json(&json!({"email": "nobody@example.com", "password": "wrong-password-1"}))
            .send()
            .await
            .expect("login sent");
        statuses.push(resp.status().as_u16());
    }
    // Four attempts in all, whichever instance took them; a limit per process would have let
    // all six through (three each).
    assert_eq!(statuses, vec![401, 401, 401, 401, 429, 429]);

    // The gateway's own edge: a bad token is refused there, and every client has a ceiling
    // across all routes (here 5 a minute), whatever their class.
    let gateway = &urls[2];
    let forged = client
        .get(format!("{gateway}/api/v1/users/me"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .expect("sent");
    assert_eq!(forged.status().as_u16(), 401);
    assert!(forged.headers().contains_key("x-request-id"));
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let resp = client
            .get(format!("{gateway}/.well-known/jwks.json"))
            .send()
            .await
            .expect("sent");
        statuses.push(resp.status().as_u16());
    }
    assert_eq!(statuses, vec![200, 200, 200, 200, 200, 429]);
    split.stop().await;
}

/// The trace a client started: one checkout continues it through the gateway, a shop instance,
/// its calls to core and the events it publishes, whichever process handles them.
const CLIENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_checkout_is_one_trace_across_the_processes() {
    let receiver = testkit::OtlpReceiver::start();
    let mut split = Split::start(
        "nats://127.0.0.1:4222",
        &[
            ("PASAR_TRACING__OTLP_ENDPOINT", receiver.url.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("PASAR_LOG__FORMAT", "json"),
            ("PASAR_LOG__LEVEL", "info"),
        ],
    )
    .await;
    let (merchant, variant) = split.shop_with_stock("TRACE-1", 2_000, 5).await;
    let customer = split.app.customer("traced").await;
    let address = split.app.saved_address(&customer).await;
    let placed = split
        .app
        .send(
            split
                .app
                .client
                .post(split.app.url("/api/v1/orders"))
                .bearer_auth(&customer.access_token)
                .header("idempotency-key", Uuid::new_v4().to_string())
                .header(
                    "traceparent",
                    format!("00-{CLIENT_TRACE}-00f067aa0ba902b7-01"),
                )
                .json(&json!({"lines": [{"variantId": variant, "quantity": 1}],
                    "shippingAddressId": address,
                    "shipping": [{"merchantId": merchant.id, "courierCode": "SIMULATOR", "serviceCode": "REGULAR"}]})),
        )
        .await;
    assert_eq!(placed.status, 201, "{:?}", placed.body);

    let spans = testkit::eventually(Duration::from_secs(30), "the checkout's spans", || async {
        let spans: Vec<testkit::ReceivedSpan> = receiver
            .spans()
            .await
            .into_iter()
            .filter(|span| span.trace_id == CLIENT_TRACE)
            .collect();
        let from = |service: &str| spans.iter().any(|span| span.service.starts_with(service));
        // Consumers of the checkout's events (cart, and whoever else listens) handle them in
        // this trace too.
        let consumed = spans.iter().any(|span| span.kind == 5);
        (from("gateway") && from("shop") && from("core") && consumed).then_some(spans)
    })
    .await;
    let checkout = spans
        .iter()
        .find(|span| span.service == "gateway" && span.name == "POST /api/v1/orders")
        .unwrap_or_else(|| panic!("no gateway span of the request in {spans:#?}"));
    assert_eq!(
        checkout.parent_span_id, "00f067aa0ba902b7",
        "the client's span is the parent"
    );
    // Only the gateway continues the client's span; every other span hangs from a span of
    // this trace, the shop's from the gateway's (which sent its own context, not the
    // client's).
    let ids: Vec<&str> = spans.iter().map(|span| span.span_id.as_str()).collect();
    for span in spans.iter().filter(|span| span.span_id != checkout.span_id) {
        assert!(
            span.parent_span_id != "00f067aa0ba902b7"
                && ids.contains(&span.parent_span_id.as_str()),
            "{span:?} does not hang from a span of the trace: {spans:#?}"
        );
    }
    let in_shop = spans
        .iter()
        .find(|span| span.service.starts_with("shop") && span.name == "POST /api/v1/orders")
        .unwrap_or_else(|| panic!("no shop span of the checkout in {spans:#?}"));
    assert_eq!(in_shop.parent_span_id, checkout.span_id);
    // And the log lines of the request carry the trace id, in each process it crossed.
    for label in ["gateway", "core"] {
        let log = std::fs::read_to_string(split.dir.path().join(format!("{label}.log")))
            .expect("process log");
        assert!(
            log.lines().any(|line| line.contains(CLIENT_TRACE)),
            "{label} logged no line with the trace id:\n{}",
            split.log_of(label)
        );
    }
    split.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_documents_every_public_route_and_no_internal_one() {
    let split = Split::start_layout(&[("id-1", "identity"), ("gateway", "gateway")], "", &[]).await;
    let document: Value = reqwest::get(format!("{}/openapi.json", split.processes[1].url()))
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let paths = document["paths"].as_object().expect("paths");
    for public in [
        "/api/v1/auth/login",
        "/api/v1/orders",
        "/api/v1/redemptions",
        "/health/ready",
    ] {
        assert!(paths.contains_key(public), "{public} missing");
    }
    assert!(!paths.keys().any(|p| p.starts_with("/internal/")));
    split.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_generated_nginx_configuration_serves_the_split_layout() {
    let mut split = Split::start(SHARED_NATS, &[]).await;
    let nginx_dir = split.dir.path().join("nginx");
    std::fs::create_dir_all(nginx_dir.join("tmp")).expect("nginx dir");
    // nginx's workers drop root: they must reach the temp dirs.
    for dir in [
        split.dir.path(),
        nginx_dir.as_path(),
        &nginx_dir.join("tmp"),
    ] {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let port = free_port();
    let output = Command::new(BIN)
        .args([
            "gateway",
            "nginx-config",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env_clear()
        .envs(&split.env)
        .output()
        .expect("nginx-config runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let conf = nginx_dir.join("nginx.conf");
    std::fs::write(&conf, &output.stdout).expect("nginx.conf written");
    let nginx_path = tokio::task::spawn_blocking(testkit::tools::nginx)
        .await
        .expect("nginx set-up");
    let nginx = |extra: &[&str]| {
        let mut command = Command::new(nginx_path);
        command
            .arg("-p")
            .arg(&nginx_dir)
            .arg("-c")
            .arg(&conf)
            .args(extra);
        command
    };
    let checked = nginx(&["-t"]).output().expect("nginx runs");
    assert!(
        checked.status.success(),
        "nginx -t: {}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let mut server = nginx(&["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx starts");
    let started = Instant::now();
    while !port_open(port) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nginx did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    split.app.base_url = format!("http://127.0.0.1:{port}");

    // The money path through nginx: identity, merchants and catalog on core, orders on either
    // shop instance, payments on pay.
    let (merchant, variant) = split.shop_with_stock("LAMP-1", 3_000, 5).await;
    let customer = split.app.customer("lamp").await;
    let Attempted {
        status,
        answer: body,
        ..
    } = checkout_until_answered(&split.app, &customer, variant, 2).await;
    assert_eq!(status, 201, "{body}");
    pay(&split.app, &customer, uuid_of(&body["id"])).await;
    let order = uuid_of(&body["orders"][0]["id"]);
    assert_eq!(
        final_status(&split.app, &customer, order, &["PAID"]).await,
        "PAID"
    );
    split.app.stock_reaches(&merchant, "LAMP-1", (3, 0)).await;

    // Routes nobody serves, and internal routes, are 404 problems; every answer has a request id.
    for path in ["/api/v1/nothing-here", "/internal/v1/cart/x"] {
        let resp = split.app.get(path, None).await;
        assert_eq!(resp.status, 404, "{path}");
        assert_eq!(resp.code(), "route_not_found", "{path}");
        assert!(resp.header("x-request-id").is_some());
    }
    let _ = server.kill();
    let _ = server.wait();
    split.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_module_with_its_own_database_keeps_its_tables_and_events_there() {
    let orders_db = testkit::create_pg_database().await;
    let namespace = format!("own{}", Uuid::new_v4().simple());
    let orders_url = testkit::pg_database_url(&orders_db);
    let app = TestApp::spawn_with(
        Backend::Postgres,
        |config| {
            config.bus.url = Some(SHARED_NATS.to_owned());
            config.bus.namespace = namespace.clone();
            config.database.modules.insert(
                "orders".into(),
                platform::config::ModuleDatabaseConfig {
                    url: orders_url.clone(),
                },
            );
        },
        Vec::new(),
    )
    .await;
    let admin = app.admin().await;
    let merchant = app.merchant("own-db").await;
    let category = app.category(&admin, "own-db", None).await;
    let (_, variant) = app
        .listed_product(&merchant, &admin, category, "Teapot", "POT-1", 4_000, 3)
        .await;
    let customer = app.customer("pot").await;
    let Attempted {
        status,
        answer: body,
        ..
    } = checkout_until_answered(&app, &customer, variant, 1).await;
    assert_eq!(status, 201, "{body}");
    pay(&app, &customer, uuid_of(&body["id"])).await;
    let order = uuid_of(&body["orders"][0]["id"]);
    assert_eq!(
        final_status(&app, &customer, order, &["PAID"]).await,
        "PAID"
    );
    app.stock_reaches(&merchant, "POT-1", (2, 0)).await;

    // Orders' tables are in its own database only; its events left through its own outbox.
    let own = platform::Db::connect(&orders_url, &app.config.database)
        .await
        .expect("orders database");
    let tables = |db: platform::Db| async move {
        let names: Vec<String> = platform::on_db!(&db, pool => sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_name IN ('orders_orders', 'platform_outbox') ORDER BY table_name"
        ).fetch_all(pool).await)
        .expect("tables");
        names
    };
    assert_eq!(
        tables(own.clone()).await,
        vec!["orders_orders", "platform_outbox"]
    );
    assert_eq!(tables(app.ctx().db.clone()).await, vec!["platform_outbox"]);
    let paid_events: i64 = platform::on_db!(&own, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM platform_outbox WHERE event_type = 'order.paid'"
    ).fetch_one(pool).await)
    .expect("events");
    assert_eq!(paid_events, 1);
    own.close().await;
    app.stop().await;
    testkit::drop_pg_database(&orders_db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revoked_staff_roles_and_api_keys_stop_working_in_every_process_at_once() {
    let mut split = Split::start(SHARED_NATS, &[]).await;
    let (merchant, _) = split.shop_with_stock("BOWL-1", 1_000, 5).await;
    let manager = split.app.staff(&merchant, "manager").await;
    let stock = format!("/api/v1/inventory/BOWL-1?merchantId={}", merchant.id);

    // An API key of the owner, used on the shop processes (which verify it through identity).
    let admin = split.admin().await;
    let created = split
        .app
        .post(
            "/api/v1/admin/api-keys",
            json!({"ownerId": merchant.owner.user_id, "name": "till sync", "scopes": ["merchant"]}),
            Some(&admin.access_token),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let key = created.body["key"].as_str().expect("key").to_owned();
    let with_key = || async {
        let request = split
            .app
            .client
            .get(split.app.url(&stock))
            .header("x-api-key", &key);
        split.app.send(request).await.status
    };
    for _ in 0..2 {
        assert_eq!(with_key().await, 200);
    }
    let revoked = split
        .app
        .delete(
            &format!(
                "/api/v1/admin/api-keys/{}",
                created.body["id"].as_str().expect("id")
            ),
            Some(&admin.access_token),
        )
        .await;
    assert!(revoked.status < 300, "{:?}", revoked.body);
    testkit::eventually(Duration::from_secs(3), "key refused everywhere", || async {
        let (a, b) = (with_key().await, with_key().await);
        (a == 401 && b == 401).then_some(())
    })
    .await;

    // Both shop instances (taken in turn) learn the manager's role and cache it.
    for _ in 0..2 {
        let resp = split.app.get(&stock, Some(&manager.access_token)).await;
        assert_eq!(resp.status, 200, "{:?}", resp.body);
    }
    let removed = split
        .app
        .delete(
            &format!(
                "/api/v1/merchants/{}/members/{}",
                merchant.id, manager.user_id
            ),
            Some(&merchant.owner.access_token),
        )
        .await;
    assert!(removed.status < 300, "{:?}", removed.body);
    // Well inside the 30 s the processes cache memberships: merchants told them.
    testkit::eventually(
        Duration::from_secs(3),
        "access revoked everywhere",
        || async {
            let mut statuses = Vec::new();
            for _ in 0..2 {
                statuses.push(
                    split
                        .app
                        .get(&stock, Some(&manager.access_token))
                        .await
                        .status,
                );
            }
            statuses.iter().all(|s| *s == 403).then_some(())
        },
    )
    .await;
    split.stop().await;
}

/// Two search instances, each with its own index in its own data dir, fed by the one change
/// log: both answer the same, a change reaches both, and `pasar search reindex` rebuilds
/// each online.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_search_instances_answer_the_same() {
    let layout = [
        ("core", CORE_ONLY),
        ("shop-1", SHOP),
        ("shop-2", SHOP),
        ("pay", PAY),
        ("search-1", SEARCH),
        ("search-2", SEARCH),
        ("gateway", "gateway"),
    ];
    let mut split = Split::start_layout(&layout, SHARED_NATS, &[]).await;
    let admin = split.admin().await;
    let app = &split.app;
    let merchant = app.merchant("Split Search").await;
    let category = app.category(&admin, "kitchen", None).await;
    let mut products = Vec::new();
    for (name, sku) in [
        ("Copper Kettle", "KET-1"),
        ("Clay Teapot", "POT-1"),
        ("Rice Cooker", "RC-1"),
    ] {
        let (product, _) = app
            .listed_product(&merchant, &admin, category, name, sku, 2_500, 5)
            .await;
        products.push(product);
    }
    let client = reqwest::Client::new();
    let ask = |base: String, q: &'static str| {
        let client = client.clone();
        async move {
            let body: Value = client
                .get(format!("{base}/api/v1/search?q={q}"))
                .send()
                .await
                .expect("search answers")
                .json()
                .await
                .expect("json");
            body
        }
    };
    let (one, two) = (split.url_of("search-1"), split.url_of("search-2"));
    let ids = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    for q in ["kettle", "cooker", "teapot"] {
        testkit::eventually(
            Duration::from_secs(30),
            "both instances indexed",
            || async {
                let (a, b) = (ask(one.clone(), q).await, ask(two.clone(), q).await);
                (a["total"] == 1 && ids(&a) == ids(&b)).then_some(())
            },
        )
        .await;
    }
    // A change reaches both.
    let renamed = app
        .put(
            &format!("/api/v1/products/{}", products[0]),
            json!({"name": {"en": "Copper Samovar"}}),
            Some(&merchant.owner.access_token),
        )
        .await;
    assert_eq!(renamed.status, 200, "{:?}", renamed.body);
    testkit::eventually(Duration::from_secs(10), "the rename on both", || async {
        let (a, b) = (
            ask(one.clone(), "samovar").await,
            ask(two.clone(), "samovar").await,
        );
        (a["total"] == 1 && b["total"] == 1 && ids(&a) == ids(&b)).then_some(())
    })
    .await;
    // Through the gateway too.
    assert_eq!(
        app.get("/api/v1/search?q=samovar", None).await.body["total"],
        1
    );

    // The operator's rebuild of every instance, while they answer.
    let output = Command::new(BIN)
        .arg("--data-dir")
        .arg(split.dir.path().join("cli"))
        .args(["search", "reindex", "--url", &one, "--url", &two])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(&split.env)
        .output()
        .expect("pasar search reindex runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8_lossy(&output.stdout);
    assert_eq!(printed.matches("3 documents").count(), 2, "{printed}");
    for base in [&one, &two] {
        assert_eq!(ask(base.clone(), "cooker").await["total"], 1);
    }
    split.stop().await;
}

/// `name=value` of each cookie a response sets, added to `jar`.
fn keep_cookies(jar: &mut BTreeMap<String, String>, response: &reqwest::Response) {
    for line in response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
    {
        if let Some((name, value)) = line.split(';').next().and_then(|p| p.split_once('=')) {
            jar.insert(name.to_owned(), value.to_owned());
        }
    }
}

fn cookie_header(jar: &BTreeMap<String, String>) -> String {
    jar.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn form_token(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let at = html.find(marker).expect("a form token on the page") + marker.len();
    html[at..].split('"').next().unwrap_or_default().to_owned()
}

/// The portals in processes of their own behind the gateway's API: a browser signed in on one
/// web instance is signed in on the other (the session cookie is sealed with the deployment's
/// key, nothing is kept per instance), a form token from one is taken by the other, what a
/// page changes goes through the gateway to the module that owns it, and the gateway serves
/// the pages (every path no module claims) from the web instances.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_portals_run_as_instances_of_their_own_calling_the_api_through_the_gateway() {
    let layout = [
        ("core", CORE),
        ("shop", SHOP),
        ("pay", PAY),
        ("web-1", "web"),
        ("web-2", "web"),
        ("gateway", "gateway"),
    ];
    let mut split = Split::start_layout(&layout, SHARED_NATS, &[]).await;
    // The pages call the API where apps do: the gateway.
    let gateway = split.url_of("gateway");
    split
        .env
        .insert("PASAR_WEB__API_URL".to_owned(), gateway.clone());
    for label in ["web-1", "web-2"] {
        split.kill9(label);
        split.relaunch(label).await;
    }
    let customer = split.app.customer("split-web").await;
    let (one, two) = (split.url_of("web-1"), split.url_of("web-2"));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let mut jar = BTreeMap::new();

    let login = client
        .get(format!("{one}/login"))
        .send()
        .await
        .expect("the sign-in page");
    assert_eq!(login.status().as_u16(), 200);
    keep_cookies(&mut jar, &login);
    let token = form_token(&login.text().await.expect("page"));
    let signed_in = client
        .post(format!("{one}/login"))
        .header("cookie", cookie_header(&jar))
        .form(&[
            ("email", customer.email.as_str()),
            ("password", testkit::PASSWORD),
            ("next", "/account"),
            ("_csrf", token.as_str()),
        ])
        .send()
        .await
        .expect("sign-in");
    assert_eq!(signed_in.status().as_u16(), 303);
    keep_cookies(&mut jar, &signed_in);

    // The other instance knows the session.
    let account = client
        .get(format!("{two}/account"))
        .header("cookie", cookie_header(&jar))
        .send()
        .await
        .expect("the account page");
    assert_eq!(account.status().as_u16(), 200);
    let html = account.text().await.expect("page");
    assert!(
        html.contains(&customer.email),
        "web-2 shows the signed-in account"
    );
    let token = form_token(&html);

    // A form drawn by web-2, sent to web-1, changes identity's data in core.
    let added = client
        .post(format!("{one}/account/addresses"))
        .header("cookie", cookie_header(&jar))
        .form(&[
            ("recipient", "Split Web"),
            ("phone", "+85512345678"),
            ("street", "St. 51"),
            ("city", "Phnom Penh"),
            ("country", "KH"),
            ("_csrf", token.as_str()),
        ])
        .send()
        .await
        .expect("the address form");
    assert_eq!(added.status().as_u16(), 303);
    let addresses = split
        .app
        .get("/api/v1/users/me/addresses", Some(&customer.access_token))
        .await;
    assert_eq!(
        addresses.body.as_array().map(Vec::len),
        Some(1),
        "{:?}",
        addresses.body
    );
    assert_eq!(addresses.body[0]["recipient"], "Split Web");

    // Through the gateway, as a browser reaches them: pages go to the web instances.
    let page = client
        .get(format!("{gateway}/account"))
        .header("cookie", cookie_header(&jar))
        .send()
        .await
        .expect("the account page through the gateway");
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.text().await.expect("page").contains("Split Web"));
    let css = client
        .get(format!("{gateway}/static/app.css"))
        .send()
        .await
        .expect("a stylesheet through the gateway");
    assert_eq!(css.status().as_u16(), 200);
    let api = client
        .get(format!("{gateway}/health/live"))
        .send()
        .await
        .expect("the gateway's own route");
    assert_eq!(
        api.status().as_u16(),
        200,
        "the gateway's own paths stay its own"
    );

    // Without the token, refused on either instance.
    for base in [&one, &two] {
        let refused = client
            .post(format!("{base}/account/addresses"))
            .header("cookie", cookie_header(&jar))
            .form(&[
                ("recipient", "Forged"),
                ("phone", "1"),
                ("street", "x"),
                ("city", "x"),
                ("country", "KH"),
            ])
            .send()
            .await
            .expect("a forged form");
        assert_eq!(refused.status().as_u16(), 403);
    }
    split.stop().await;
}
