//! catalog's states and kinds, as its API and events carry them.

use kernel::text_enum;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProductStatus {
    Draft,
    PendingReview,
    Active,
    Rejected,
    Archived,
}

text_enum!(ProductStatus {
    Draft => "DRAFT",
    PendingReview => "PENDING_REVIEW",
    Active => "ACTIVE",
    Rejected => "REJECTED",
    Archived => "ARCHIVED",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProductType {
    Physical,
    Voucher,
}

text_enum!(ProductType { Physical => "PHYSICAL", Voucher => "VOUCHER" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AttributeKind {
    Text,
    Number,
    Boolean,
    Select,
}

text_enum!(AttributeKind {
    Text => "TEXT",
    Number => "NUMBER",
    Boolean => "BOOLEAN",
    Select => "SELECT",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    #[default]
    Newest,
    PriceAsc,
    PriceDesc,
    Name,
}

/// Who asks for a status change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mover {
    /// The merchant's staff.
    Merchant,
    /// An admin moderating.
    Moderator,
}

#[derive(Debug, PartialEq, Eq)]
pub enum TransitionError {
    /// Legal for someone else (a merchant cannot activate).
    NotYours,
    Illegal {
        allowed: Vec<ProductStatus>,
    },
}

impl ProductStatus {
    fn allowed(self, mover: Mover) -> Vec<ProductStatus> {
        use ProductStatus::*;
        match (mover, self) {
            (Mover::Merchant, Draft | Rejected) => vec![PendingReview, Archived],
            (Mover::Merchant, PendingReview) => vec![Draft, Archived],
            (Mover::Merchant, Active) => vec![Archived],
            (Mover::Merchant, Archived) => vec![Draft],
            (Mover::Moderator, PendingReview) => vec![Active, Rejected],
            (Mover::Moderator, Active) => vec![Rejected],
            (Mover::Moderator, _) => vec![],
        }
    }

    pub fn transition(self, to: ProductStatus, mover: Mover) -> Result<(), TransitionError> {
        let moderators_only = matches!(to, ProductStatus::Active | ProductStatus::Rejected);
        if moderators_only != (mover == Mover::Moderator) {
            return Err(TransitionError::NotYours);
        }
        if self.allowed(mover).contains(&to) {
            return Ok(());
        }
        let mut allowed = self.allowed(Mover::Merchant);
        allowed.extend(self.allowed(Mover::Moderator));
        Err(TransitionError::Illegal { allowed })
    }

    /// Archived products are frozen until the merchant brings them back to draft.
    pub const fn editable(self) -> bool {
        !matches!(self, ProductStatus::Archived)
    }
}
