//! Fixtures shared by inventory's tests.

use std::time::Duration;

use testkit::{eventually, MerchantFixture, TestApp};
use uuid::Uuid;

/// A merchant with one SKU that inventory knows about.
pub async fn stocked_merchant(app: &TestApp, name: &str, sku: &str) -> (MerchantFixture, Uuid) {
    let admin = app.admin().await;
    let shop = app.merchant(name).await;
    let category = app
        .category(&admin, &format!("cat-{}", Uuid::now_v7().simple()), None)
        .await;
    let (product, _) = app.draft_product(&shop, category, "Tea", sku, 500).await;
    let path = format!("/api/v1/inventory/{sku}?merchantId={}", shop.id);
    eventually(
        Duration::from_secs(10),
        "SKU known to inventory",
        || async {
            (app.get(&path, Some(&shop.owner.access_token)).await.status == 200).then_some(())
        },
    )
    .await;
    (shop, product)
}
