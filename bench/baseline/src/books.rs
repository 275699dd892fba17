//! `books <pasar-url> <admin-email> <password> <pages> <pasar-pid>`: voucher book generation
//! against a running pasar. Setup through the public API: a merchant with a free-to-claim
//! voucher offer (books print those only), and a book of `pages` pages of 8 one-slot
//! vouchers each. Measures, in one process: a one-page
//! book (the yardstick: the job's fixed cost), the full book's first generation (every voucher
//! issued against the cap, then rendered), and its regeneration (rendered from what was kept),
//! with the server's resident memory before, at its highest while generating, and its peak
//! (VmHWM) after.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::{id, login, merchant_with_products, Api};

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// A book of `pages` pages, 8 vouchers of `offer` on each; its id.
async fn book(api: &Api, admin: &str, offer: &str, pages: usize) -> anyhow::Result<String> {
    let book = id(&api
        .post(
            "/api/v1/admin/voucher-books",
            json!({"title": "សៀវភៅប័ណ្ណ Bench", "edition": format!("bench-{pages}"), "month": 12,
                   "year": 2026, "kind": "monthly"}),
            admin,
        )
        .await?)?;
    for _ in 0..pages {
        let page = id(&api
            .post(
                &format!("/api/v1/admin/voucher-books/{book}/pages"),
                json!({}),
                admin,
            )
            .await?)?;
        for slot in 0..8 {
            api.post(
                &format!("/api/v1/admin/voucher-books/{book}/pages/{page}/placements"),
                json!({"slot": slot, "size": 1, "kind": "VOUCHER", "offerId": offer}),
                admin,
            )
            .await?;
        }
    }
    Ok(book)
}

/// Generates and waits: (seconds, highest RSS seen in KiB, the book when ready).
async fn generate(
    api: &Api,
    admin: &str,
    book: &str,
    pid: u32,
) -> anyhow::Result<(f64, u64, Value)> {
    let path = format!("/api/v1/admin/voucher-books/{book}");
    let started = Instant::now();
    api.post(&format!("{path}/generate"), json!({}), admin)
        .await?;
    let mut highest = 0;
    loop {
        highest = highest.max(status_kib(pid, "VmRSS:"));
        let view = api
            .send(reqwest::Method::GET, &path, Value::Null, admin)
            .await?;
        match view["status"].as_str() {
            Some("READY_FOR_PRINT") => return Ok((started.elapsed().as_secs_f64(), highest, view)),
            Some("GENERATING") => tokio::time::sleep(Duration::from_millis(20)).await,
            _ => bail!("the book did not generate: {view}"),
        }
        if started.elapsed() > Duration::from_secs(600) {
            bail!("the book took over 10 minutes");
        }
    }
}

pub async fn books(
    base: &str,
    email: &str,
    password: &str,
    pages: usize,
    pid: u32,
) -> anyhow::Result<()> {
    let api = Api {
        client: reqwest::Client::new(),
        base: base.trim_end_matches('/').to_owned(),
    };
    let admin = login(&api, email, password).await?;
    let category = id(&api
        .post(
            "/api/v1/categories",
            json!({"slug": "books-bench", "name": {"en": "Books bench"}}),
            &admin,
        )
        .await?)?;
    let shop =
        merchant_with_products(&api, &admin, 901, std::slice::from_ref(&category), 0, None).await?;
    let owner = login(&api, "bench.owner.901@example.com", "Bench!Passw0rd").await?;
    let product = api
        .post(
            "/api/v1/products",
            json!({"merchantId": shop.merchant_id, "name": {"en": "Bench book voucher", "km": "ប័ណ្ណ"},
                   "categoryId": category, "type": "VOUCHER",
                   "variants": [{"sku": "BOOK-VOUCHER", "price": 0, "currency": "USD"}]}),
            &owner,
        )
        .await?;
    let variant = id(&product["variants"][0])?;
    let offer = id(&api
        .post(
            "/api/v1/vouchers",
            json!({"variantId": variant, "kind": "GIFT_CARD", "faceValue": 500, "validDays": 60, "claimable": true,
                   "totalCap": pages * 8 + 8,
                   "terms": {"en": "One per visit. Not exchangeable for cash.", "km": "មិនអាចប្តូរជាសាច់ប្រាក់"}}),
            &owner,
        )
        .await?)?;
    let status = format!("/api/v1/products/{}/status", id(&product)?);
    api.send(
        reqwest::Method::PATCH,
        &status,
        json!({"status": "PENDING_REVIEW"}),
        &owner,
    )
    .await?;
    api.send(
        reqwest::Method::PATCH,
        &status,
        json!({"status": "ACTIVE"}),
        &admin,
    )
    .await?;

    let small = book(&api, &admin, &offer, 1).await?;
    let (small_secs, _, _) = generate(&api, &admin, &small, pid).await?;
    let full = book(&api, &admin, &offer, pages).await?;
    let before = status_kib(pid, "VmRSS:");
    let (first_secs, first_peak, ready) = generate(&api, &admin, &full, pid).await?;
    let again_input = json!({"title": "សៀវភៅប័ណ្ណ Bench", "edition": format!("bench-{pages}"), "month": 12,
                             "year": 2026, "kind": "monthly"});
    api.send(
        reqwest::Method::PUT,
        &format!("/api/v1/admin/voucher-books/{full}"),
        again_input,
        &admin,
    )
    .await?;
    let (again_secs, again_peak, again) = generate(&api, &admin, &full, pid).await?;
    let hwm = status_kib(pid, "VmHWM:");
    let pdf = &ready["pdf"];
    if pdf["sha256"] != again["pdf"]["sha256"] {
        bail!("regenerating changed the file");
    }
    println!(
        "books|{}|{}|{small_secs:.2}|{first_secs:.2}|{again_secs:.2}|{}|{before}|{}|{hwm}",
        pdf["pages"].as_i64().context("pages")?,
        pdf["vouchers"].as_i64().context("vouchers")?,
        pdf["bytes"].as_i64().context("bytes")?,
        first_peak.max(again_peak),
    );
    Ok(())
}
