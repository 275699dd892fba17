//! The voucher's whole path through the portals in headless Chromium (`browser/portal.mjs`,
//! one step per run): the admin approves a merchant's application; the owner opens an outlet
//! and lists a voucher; the admin approves it; a customer buys two with the payment simulator
//! and sees their rotating QR codes in the wallet; the cashier redeems one by typing its code
//! and PIN and the other by scanning the customer's screen with the camera (Chromium's fake
//! camera playing the QR code); the customer sees both redeemed. Every page shown is kept as a
//! screenshot under `<target>/web-screenshots/<backend>/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use qrcode::{Color, QrCode};
use serde_json::Value;
use testkit::{
    merchant_application, on_both_backends, tools, uuid_of, Backend, MerchantFixture, TestApp,
};

const VOUCHER_TITLE: &str = "Kopi Pagi breakfast voucher";

struct Steps {
    dir: PathBuf,
    base_url: String,
    artifacts: PathBuf,
}

impl Steps {
    /// Runs one step of `portal.mjs`; its JSON answer.
    async fn run(&self, step: &str, env: &[(&str, String)]) -> Value {
        let mut command = Command::new("node");
        command
            .arg("portal.mjs")
            .arg(step)
            .current_dir(&self.dir)
            .env("PASAR_URL", &self.base_url)
            .env("PASSWORD", testkit::PASSWORD)
            .env("ARTIFACTS", &self.artifacts)
            .env("CHROMIUM", tools::chromium());
        for (name, value) in env {
            command.env(name, value);
        }
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("the step's thread")
            .expect("node runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "browser step {step} failed (screenshots in {}):\n{}\n{stdout}",
            self.artifacts.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let last = stdout.lines().last().unwrap_or("{}");
        serde_json::from_str(last).unwrap_or_else(|e| panic!("{step} printed {last:?}: {e}"))
    }
}

/// A Y4M video (Chromium's fake camera plays it in a loop) of `text` as a QR code on a
/// 640×480 frame: what a phone's screen looks like to the counter's camera.
fn qr_video(text: &str, path: &Path) {
    let code = QrCode::new(text.as_bytes()).expect("the token fits a QR code");
    let modules = code.width();
    let colors = code.to_colors();
    let (width, height) = (640usize, 480usize);
    let quiet = 4;
    let scale = (height - 40) / (modules + 2 * quiet);
    let size = scale * (modules + 2 * quiet);
    let (left, top) = ((width - size) / 2, (height - size) / 2);
    let mut luma = vec![235u8; width * height];
    for y in 0..modules {
        for x in 0..modules {
            if colors[y * modules + x] == Color::Dark {
                for dy in 0..scale {
                    let row = top + (y + quiet) * scale + dy;
                    let start = row * width + left + (x + quiet) * scale;
                    luma[start..start + scale].fill(16);
                }
            }
        }
    }
    let mut video = b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n".to_vec();
    for _ in 0..2 {
        video.extend_from_slice(b"FRAME\n");
        video.extend_from_slice(&luma);
        video.extend(std::iter::repeat_n(128u8, width * height / 2));
    }
    std::fs::write(path, video).expect("the fake camera's video is written");
}

fn artifacts(backend: Backend) -> PathBuf {
    let dir = tools::tools_dir()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir)
        .join("web-screenshots")
        .join(format!("{backend:?}").to_lowercase());
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the screenshots directory");
    dir
}

on_both_backends!(a_voucher_goes_from_application_to_redemption_in_the_browser);

async fn a_voucher_goes_from_application_to_redemption_in_the_browser(backend: Backend) {
    let dir = tokio::task::spawn_blocking(|| {
        tools::chromium();
        tools::playwright()
    })
    .await
    .expect("the browser's set-up");
    let app = TestApp::spawn(backend).await;
    let steps = Steps {
        dir,
        base_url: app.url(""),
        artifacts: artifacts(backend),
    };
    let admin = app.admin().await;
    app.category(&admin, "breakfast", None).await;
    // The owner applied through the API; the application waits for review.
    let owner = app.customer("kopi-owner").await;
    let name = format!(
        "Kopi Pagi {}",
        &uuid::Uuid::new_v4().simple().to_string()[..6]
    );
    let applied = app
        .post(
            "/api/v1/merchants",
            merchant_application(&name),
            Some(&owner.access_token),
        )
        .await;
    assert_eq!(applied.status, 201, "{:?}", applied.body);
    let merchant_id = uuid_of(&applied.body["id"]);
    let customer = app.customer("web-buyer").await;

    steps
        .run(
            "admin-approves-merchant",
            &[
                ("ADMIN_EMAIL", admin.email.clone()),
                ("MERCHANT_NAME", name.clone()),
            ],
        )
        .await;
    steps
        .run(
            "merchant-lists-voucher",
            &[
                ("OWNER_EMAIL", owner.email.clone()),
                ("VOUCHER_TITLE", VOUCHER_TITLE.into()),
            ],
        )
        .await;
    steps
        .run(
            "admin-approves-voucher",
            &[
                ("ADMIN_EMAIL", admin.email.clone()),
                ("VOUCHER_TITLE", VOUCHER_TITLE.into()),
            ],
        )
        .await;
    let bought = steps
        .run(
            "customer-buys",
            &[
                ("CUSTOMER_EMAIL", customer.email.clone()),
                ("VOUCHER_TITLE", VOUCHER_TITLE.into()),
            ],
        )
        .await;
    let vouchers = bought["vouchers"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        vouchers.len(),
        2,
        "two vouchers seen in the wallet: {bought}"
    );

    let fixture = MerchantFixture {
        id: merchant_id,
        owner: owner.clone(),
    };
    let cashier = app.staff(&fixture, "cashier").await;
    steps
        .run(
            "cashier-types-code",
            &[
                ("CASHIER_EMAIL", cashier.email.clone()),
                (
                    "CODE",
                    vouchers[0]["code"].as_str().unwrap_or_default().into(),
                ),
                (
                    "PIN",
                    vouchers[0]["pin"].as_str().unwrap_or_default().into(),
                ),
            ],
        )
        .await;

    // What the customer's screen shows now, played into the cashier's camera.
    let second = uuid_of(&vouchers[1]["id"]);
    let token = app.qr_token(&customer, second, false).await;
    let video = steps.artifacts.join("customer-screen.y4m");
    qr_video(&token, &video);
    steps
        .run(
            "cashier-scans-qr",
            &[
                ("CASHIER_EMAIL", cashier.email.clone()),
                ("FAKE_VIDEO", video.display().to_string()),
            ],
        )
        .await;

    steps
        .run(
            "customer-sees-redeemed",
            &[
                ("CUSTOMER_EMAIL", customer.email.clone()),
                (
                    "VOUCHER_ID",
                    vouchers[0]["id"].as_str().unwrap_or_default().into(),
                ),
                ("VOUCHER_TITLE", VOUCHER_TITLE.into()),
            ],
        )
        .await;

    // The API agrees with what the pages showed: both redeemed, each once.
    let redeemed = app.wallet_with(&customer, "REDEEMED", 2).await;
    assert_eq!(redeemed.len(), 2);
    let redemptions = app
        .get(
            &format!("/api/v1/redemptions?merchantId={merchant_id}"),
            Some(&fixture.owner.access_token),
        )
        .await;
    let items = redemptions.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        items.len(),
        2,
        "two redemptions, one per voucher: {:?}",
        redemptions.body
    );
    assert!(items.iter().all(|r| r["status"] == "APPROVED"));
    for file in [
        "admin-approves-merchant-application.png",
        "customer-buys-voucher.png",
        "cashier-scans-qr-result.png",
    ] {
        assert!(
            steps.artifacts.join(file).exists(),
            "screenshot {file} kept"
        );
    }
}
