//! Printed vouchers for voucher books: what the books module asks vouchers to issue, what a
//! printed page shows, and the calls it makes.

use kernel::call::{CallError, Method};
use kernel::{Currency, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{Offer, VouchersClient};

/// Printed vouchers for a voucher book: one per issue key (`book:...`) of a free-to-claim
/// offer. Each is a bearer voucher: held by no account, redeemed by whoever has the page.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrintedIssue {
    pub offer_id: Uuid,
    pub issue_keys: Vec<String>,
}

/// A printed voucher: what its page shows (the QR token, the code and the PIN).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrintedVoucher {
    pub issue_key: String,
    pub instance_id: Uuid,
    pub code: String,
    pub pin: String,
    /// The printed QR's token: no time step, redeemed with the PIN.
    pub token: String,
    pub face_value: i64,
    pub currency: Currency,
    pub expires_at: Timestamp,
}

impl VouchersClient {
    /// Issues printed vouchers (all or none, within the offer's cap); keys issued before
    /// answer their vouchers again.
    pub async fn issue_printed(
        &self,
        request: &PrintedIssue,
    ) -> Result<Vec<PrintedVoucher>, CallError> {
        self.services
            .call(
                self.caller,
                Method::POST,
                "/internal/v1/vouchers/printed",
                Some(request),
            )
            .await
    }

    /// One offer, visible or not.
    pub async fn offer(&self, offer_id: Uuid) -> Result<Offer, CallError> {
        self.services
            .call::<(), Offer>(
                self.caller,
                Method::GET,
                &format!("/internal/v1/vouchers/offers/{offer_id}"),
                None,
            )
            .await
    }
}
