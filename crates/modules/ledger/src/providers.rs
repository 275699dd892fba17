//! Payout providers: how money reaches a merchant's bank. Only the bank-transfer simulator
//! exists yet; a real bank API implements the same trait.

use async_trait::async_trait;
use merchants_contract::BankAccountDetails;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Transfer {
    pub payout_id: Uuid,
    pub merchant_id: Uuid,
    pub currency: String,
    pub amount: i64,
    pub destination: BankAccountDetails,
}

#[derive(Debug, thiserror::Error)]
pub enum PayoutProviderError {
    /// The bank refused the transfer; retrying may help (the account may be fixed meanwhile).
    #[error("transfer rejected: {0}")]
    Rejected(String),
}

#[async_trait]
pub trait PayoutProvider: Send + Sync {
    fn name(&self) -> &'static str;
    /// Sends the transfer and answers the bank's reference. The payout id is the transfer's
    /// idempotency key at the bank, so a retry after a lost answer does not pay twice.
    async fn transfer(&self, transfer: &Transfer) -> Result<String, PayoutProviderError>;
}

/// The development bank: accepts every transfer to an account at once. A merchant without a
/// bank account never reaches it (the payout fails before).
pub struct BankSimulator;

#[async_trait]
impl PayoutProvider for BankSimulator {
    fn name(&self) -> &'static str {
        "bank_simulator"
    }

    async fn transfer(&self, transfer: &Transfer) -> Result<String, PayoutProviderError> {
        tracing::info!(payout = %transfer.payout_id, bank = %transfer.destination.bank_name,
            amount = transfer.amount, currency = %transfer.currency, "simulated bank transfer");
        Ok(format!("SIM-{}", transfer.payout_id.simple()))
    }
}
