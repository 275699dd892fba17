//! Bank transfers to the marketplace's own account: the customer quotes a reference, an admin
//! finds the transfer on the statement and verifies the payment. No webhooks, no refund API.

use async_trait::async_trait;
use axum::http::HeaderMap;

use super::*;
use crate::config::BankTransferConfig;
use payments_contract::BankTransferDetails;

pub struct BankTransfer {
    config: BankTransferConfig,
}

impl BankTransfer {
    pub fn new(config: BankTransferConfig) -> Self {
        Self { config }
    }
}

/// What the customer writes on the transfer: the order group's number, plus a part of the
/// payment id so that a second attempt at the same group is told apart.
pub fn transfer_reference(group_number: &str, payment_id: Uuid) -> String {
    let simple = payment_id.simple().to_string();
    let tail = &simple[simple.len() - 6..];
    format!("{group_number}-{}", tail.to_ascii_uppercase())
}

#[async_trait]
impl Provider for BankTransfer {
    fn name(&self) -> &'static str {
        "bank_transfer"
    }

    async fn initiate(&self, intent: &PaymentIntent<'_>) -> Result<Initiated, ProviderError> {
        let reference = transfer_reference(intent.group_number, intent.payment_id);
        Ok(Initiated {
            provider_reference: reference.clone(),
            instructions: Instructions {
                kind: "bank_transfer".into(),
                redirect_url: None,
                qr_payload: None,
                qr_svg: None,
                bank_transfer: Some(BankTransferDetails {
                    bank_name: self.config.bank_name.clone(),
                    account_name: self.config.account_name.clone(),
                    account_number: self.config.account_number.clone(),
                    reference,
                }),
                amount: intent.amount,
                currency: intent.currency,
                expires_at: intent.expires_at,
            },
        })
    }

    fn verify_webhook(&self, _headers: &HeaderMap, _body: &[u8]) -> Result<Report, ProviderError> {
        Err(ProviderError::Unsupported(
            "bank transfers are verified by an admin, not by webhooks".into(),
        ))
    }

    async fn refund(
        &self,
        _payment: &PaymentRecord,
        _refund_id: &str,
        _amount: i64,
    ) -> Result<RefundOutcome, ProviderError> {
        Ok(RefundOutcome::Manual {
            note: "transfer the amount back to the customer, then settle the refund".into(),
        })
    }

    fn verified_by_hand(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_tell_attempts_apart() {
        let first = transfer_reference("G-1001", Uuid::from_u128(0xabcdef));
        let second = transfer_reference("G-1001", Uuid::from_u128(0xabcdee));
        assert_eq!(first, "G-1001-ABCDEF");
        assert_ne!(first, second);
    }
}
