//! ledger's public types: balances, statements, payouts, and its events.

mod errors;
pub use errors::LedgerCode;

use kernel::{DomainEvent, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// One currency of a merchant's balance, in minor units.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CurrencyBalance {
    pub currency: String,
    /// Owed to the merchant and paid out at the next run (negative after a return of goods
    /// already paid out: it is netted against later earnings).
    pub available: i64,
    /// Sent to the merchant's bank and not yet confirmed.
    pub in_transit: i64,
    /// Earned on delivered goods still inside the hold period.
    pub held: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MerchantBalance {
    pub merchant_id: Uuid,
    pub balances: Vec<CurrencyBalance>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct StatementQuery {
    /// Start, inclusive (RFC 3339). Default: 30 days before `to`.
    pub from: Option<String>,
    /// End, exclusive (RFC 3339). Default: now.
    pub to: Option<String>,
    /// Default: every currency the merchant has entries in.
    pub currency: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatementEntry {
    pub at: Timestamp,
    pub transaction_id: Uuid,
    /// `ORDER_EARNED`, `VOUCHER_REDEEMED`, `ORDER_RETURNED`, `PAYOUT`, `PAYOUT_FAILED`.
    pub kind: String,
    pub memo: String,
    /// Positive: credited to the merchant; negative: taken from the balance.
    pub amount: i64,
    pub balance: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CurrencyStatement {
    pub currency: String,
    pub opening_balance: i64,
    pub closing_balance: i64,
    pub entries: Vec<StatementEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Statement {
    pub merchant_id: Uuid,
    pub from: Timestamp,
    pub to: Timestamp,
    pub currencies: Vec<CurrencyStatement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PayoutStatus {
    Pending,
    Paid,
    Failed,
}

kernel::text_enum!(PayoutStatus { Pending => "PENDING", Paid => "PAID", Failed => "FAILED" });

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Payout {
    pub id: Uuid,
    /// The ISO week of the run, e.g. `2026-W48`.
    pub period: String,
    pub merchant_id: Uuid,
    pub currency: String,
    pub amount: i64,
    pub status: PayoutStatus,
    pub attempts: i32,
    pub provider_reference: Option<String>,
    pub failure_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct PayoutQuery {
    /// Required for merchant staff; admins may list all.
    pub merchant_id: Option<Uuid>,
    pub period: Option<String>,
    pub status: Option<PayoutStatus>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartPayoutRun {
    /// The ISO week to pay, e.g. `2026-W48`. Default: the current week.
    #[serde(default)]
    pub period: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PayoutRun {
    pub period: String,
    pub started_by: String,
    pub started_at: Timestamp,
    pub payouts: Vec<Payout>,
}

/// One account of the trial balance.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountBalance {
    pub account: String,
    pub balance: i64,
}

/// Every account of one currency; `total` is always zero (double entry).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrialBalance {
    pub currency: String,
    pub total: i64,
    pub accounts: Vec<AccountBalance>,
}

/// Payload of `payout.paid` and `payout.failed`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PayoutFact {
    pub payout_id: Uuid,
    pub merchant_id: Uuid,
    pub period: String,
    pub currency: String,
    pub amount: i64,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct PayoutPaid(pub PayoutFact);

impl DomainEvent for PayoutPaid {
    const TYPE: &'static str = "payout.paid";
    fn aggregate_id(&self) -> String {
        self.0.payout_id.to_string()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct PayoutFailed(pub PayoutFact);

impl DomainEvent for PayoutFailed {
    const TYPE: &'static str = "payout.failed";
    fn aggregate_id(&self) -> String {
        self.0.payout_id.to_string()
    }
}

/// Every event ledger publishes, for the event catalogue.
pub fn events() -> Vec<kernel::EventSpec> {
    vec![
        kernel::EventSpec::of::<PayoutPaid>(),
        kernel::EventSpec::of::<PayoutFailed>(),
    ]
}
