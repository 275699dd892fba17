//! loyalty's settings: the `[loyalty]` section of the configuration (`PASAR_LOYALTY__...`).

use std::collections::BTreeMap;

use kernel::LocalizedText;
use platform::config::ModuleConfig;
use serde::{Deserialize, Serialize};

use crate::api::{AchievementKind, Tier};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LoyaltyConfig {
    /// Minor units of spend that earn one point, per currency code in lower case (what was
    /// paid, after discounts).
    pub spend_per_point: BTreeMap<String, i64>,
    /// Minor units one point takes off at checkout, per currency code in lower case.
    pub point_value: BTreeMap<String, i64>,
    /// Fewest points one checkout redeems.
    pub min_redeem_points: i64,
    /// Points take at most this share of an order after promotions, in basis points.
    pub max_redeem_bps: i64,
    /// `completed`: an order's points are credited when it completes (after delivery, so a
    /// return can still take them back); `paid`: on payment.
    pub credit_on: String,
    pub signup_bonus: i64,
    /// Points for each review that becomes public (once per review; 0: none).
    pub review_bonus: i64,
    /// Credits expire this many days after they were made, what is left of them.
    pub points_valid_days: i64,
    /// Customers are told this many days before points expire.
    pub expiry_reminder_days: i64,
    /// Lowest first; the first must start at 0.
    pub tiers: Vec<Tier>,
    pub achievements: Vec<AchievementRule>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AchievementRule {
    pub code: String,
    pub name: LocalizedText,
    pub kind: AchievementKind,
    pub target: i64,
    pub points: i64,
}

fn text(en: &str, km: &str, id: &str) -> LocalizedText {
    LocalizedText {
        en: en.into(),
        km: Some(km.into()),
        id: Some(id.into()),
    }
}

fn tier(code: &str, name: LocalizedText, min_points: i64, earn_multiplier_bps: i64) -> Tier {
    Tier {
        code: code.into(),
        name,
        min_points,
        earn_multiplier_bps,
    }
}

impl Default for LoyaltyConfig {
    fn default() -> Self {
        Self {
            spend_per_point: [("usd", 100), ("khr", 4_000), ("idr", 15_000)]
                .into_iter()
                .map(|(c, v)| (c.to_owned(), v))
                .collect(),
            point_value: [("usd", 1), ("khr", 40), ("idr", 150)]
                .into_iter()
                .map(|(c, v)| (c.to_owned(), v))
                .collect(),
            min_redeem_points: 100,
            max_redeem_bps: 5_000,
            credit_on: "completed".into(),
            signup_bonus: 100,
            review_bonus: 10,
            points_valid_days: 365,
            expiry_reminder_days: 30,
            tiers: vec![
                tier("BRONZE", text("Bronze", "សំរិទ្ធ", "Perunggu"), 0, 10_000),
                tier("SILVER", text("Silver", "ប្រាក់", "Perak"), 500, 12_500),
                tier("GOLD", text("Gold", "មាស", "Emas"), 2_000, 15_000),
                tier(
                    "PLATINUM",
                    text("Platinum", "ប្លាទីន", "Platinum"),
                    5_000,
                    17_500,
                ),
                tier(
                    "DIAMOND",
                    text("Diamond", "ពេជ្រ", "Berlian"),
                    10_000,
                    20_000,
                ),
            ],
            achievements: vec![
                AchievementRule {
                    code: "first_order".into(),
                    name: text("First order", "ការបញ្ជាទិញដំបូង", "Pesanan pertama"),
                    kind: AchievementKind::OrdersPaid,
                    target: 1,
                    points: 50,
                },
                AchievementRule {
                    code: "ten_vouchers".into(),
                    name: text("Ten vouchers used", "ប្រើប័ណ្ណដប់", "Sepuluh voucher dipakai"),
                    kind: AchievementKind::VouchersRedeemed,
                    target: 10,
                    points: 100,
                },
                AchievementRule {
                    code: "five_reviews".into(),
                    name: text("Five reviews", "ការវាយតម្លៃប្រាំ", "Lima ulasan"),
                    kind: AchievementKind::ReviewsApproved,
                    target: 5,
                    points: 100,
                },
            ],
        }
    }
}

impl ModuleConfig for LoyaltyConfig {
    const SECTION: &'static str = "loyalty";
}
