//! shipping's settings: the `[shipping]` section of the configuration (`PASAR_SHIPPING__...`).

use std::collections::BTreeMap;

use platform::config::ModuleConfig;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ShippingConfig {
    /// What a parcel weighs when none of its items has a weight in the catalog.
    pub default_parcel_weight_grams: i64,
    /// A courier webhook is refused when its signature's timestamp is further than this from
    /// the server's clock (replays of old deliveries; clocks a little apart).
    pub webhook_tolerance_secs: i64,
    /// HMAC-SHA256 secret of each courier's webhooks, by courier code (`JNE = "..."`). A
    /// courier without one cannot post updates here.
    pub webhook_secrets: BTreeMap<String, String>,
    pub simulator: SimulatorConfig,
    pub label: LabelConfig,
}

impl Default for ShippingConfig {
    fn default() -> Self {
        Self {
            default_parcel_weight_grams: 1_000,
            webhook_tolerance_secs: 300,
            webhook_secrets: BTreeMap::new(),
            simulator: SimulatorConfig::default(),
            label: LabelConfig::default(),
        }
    }
}

/// The development courier `SIMULATOR`: quoted in any country and currency, and advanced by
/// `POST /api/v1/shipping/simulator/{id}/advance`, which anyone may call. Off in production.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SimulatorConfig {
    pub enabled: bool,
}

/// What the printed label shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct LabelConfig {
    /// Printed in the label's header.
    pub brand: String,
    /// Print the recipient's phone number (couriers call before delivering).
    pub recipient_phone: bool,
}

impl Default for LabelConfig {
    fn default() -> Self {
        Self {
            brand: "Pasar".into(),
            recipient_phone: true,
        }
    }
}

impl ModuleConfig for ShippingConfig {
    const SECTION: &'static str = "shipping";

    /// A laptop ships through the simulator.
    fn development() -> Self {
        let mut config = Self::default();
        config.simulator.enabled = true;
        config
    }
}
