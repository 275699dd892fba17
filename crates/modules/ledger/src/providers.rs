//! Payout providers: how money reaches a merchant's bank. Only the bank-transfer simulator
//! exists yet; a real bank API implements the same trait.

use async_trait::async_trait;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Transfer {
    pub payout_id: Uuid,
    pub merchant_id: Uuid,
    pub currency: String,
    pub amount: i64,
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

/// Accepts every transfer at once, except to merchants configured to fail (to exercise
/// retries and failure handling).
pub struct BankSimulator {
    pub failing_merchants: Vec<String>,
}

#[async_trait]
impl PayoutProvider for BankSimulator {
    fn name(&self) -> &'static str {
        "bank_simulator"
    }

    async fn transfer(&self, transfer: &Transfer) -> Result<String, PayoutProviderError> {
        let merchant = transfer.merchant_id.to_string();
        if self
            .failing_merchants
            .iter()
            .any(|m| m == "*" || m == &merchant)
        {
            return Err(PayoutProviderError::Rejected(
                "the simulator is configured to reject this merchant's account".into(),
            ));
        }
        Ok(format!("SIM-{}", transfer.payout_id.simple()))
    }
}
