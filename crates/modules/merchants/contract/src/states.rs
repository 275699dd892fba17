//! merchants' states and kinds, as its API and events carry them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MerchantStatus {
    PendingReview,
    Active,
    Suspended,
    Rejected,
    Closed,
}

/// What an admin or owner asks of a merchant's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusAction {
    Approve,
    Reject,
    Suspend,
    Reactivate,
    Close,
}

impl StatusAction {
    pub const fn as_str(self) -> &'static str {
        match self {
            StatusAction::Approve => "approve",
            StatusAction::Reject => "reject",
            StatusAction::Suspend => "suspend",
            StatusAction::Reactivate => "reactivate",
            StatusAction::Close => "close",
        }
    }

    pub const fn needs_reason(self) -> bool {
        matches!(self, StatusAction::Reject | StatusAction::Suspend)
    }
}

impl MerchantStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            MerchantStatus::PendingReview => "PENDING_REVIEW",
            MerchantStatus::Active => "ACTIVE",
            MerchantStatus::Suspended => "SUSPENDED",
            MerchantStatus::Rejected => "REJECTED",
            MerchantStatus::Closed => "CLOSED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            MerchantStatus::PendingReview,
            MerchantStatus::Active,
            MerchantStatus::Suspended,
            MerchantStatus::Rejected,
            MerchantStatus::Closed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// The status `action` leads to from here, if allowed.
    pub fn apply(self, action: StatusAction) -> Option<MerchantStatus> {
        use MerchantStatus::*;
        match (self, action) {
            (PendingReview, StatusAction::Approve) => Some(Active),
            (PendingReview, StatusAction::Reject) => Some(Rejected),
            (Active, StatusAction::Suspend) => Some(Suspended),
            (Suspended, StatusAction::Reactivate) => Some(Active),
            (PendingReview | Active | Suspended, StatusAction::Close) => Some(Closed),
            _ => None,
        }
    }

    /// Statuses reachable from here, for the 409 problem of an illegal transition.
    pub fn next_states(self) -> Vec<MerchantStatus> {
        [
            StatusAction::Approve,
            StatusAction::Reject,
            StatusAction::Suspend,
            StatusAction::Reactivate,
            StatusAction::Close,
        ]
        .into_iter()
        .filter_map(|a| self.apply(a))
        .collect()
    }

    /// Whether the merchant's staff still act for it (closed and rejected merchants are gone).
    pub const fn has_staff(self) -> bool {
        !matches!(self, MerchantStatus::Rejected | MerchantStatus::Closed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BusinessType {
    SoleProprietor,
    Partnership,
    Company,
    Cooperative,
    NonProfit,
}

impl BusinessType {
    pub const fn as_str(self) -> &'static str {
        match self {
            BusinessType::SoleProprietor => "SOLE_PROPRIETOR",
            BusinessType::Partnership => "PARTNERSHIP",
            BusinessType::Company => "COMPANY",
            BusinessType::Cooperative => "COOPERATIVE",
            BusinessType::NonProfit => "NON_PROFIT",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            BusinessType::SoleProprietor,
            BusinessType::Partnership,
            BusinessType::Company,
            BusinessType::Cooperative,
            BusinessType::NonProfit,
        ]
        .into_iter()
        .find(|t| t.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}
