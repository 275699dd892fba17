//! orders' states and kinds, as its API and events carry them.

use kernel::text_enum;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    PendingPayment,
    Paid,
    Processing,
    Shipped,
    Delivered,
    Completed,
    Expired,
    Cancelled,
    Returned,
    Refunded,
}

text_enum!(OrderStatus {
    PendingPayment => "PENDING_PAYMENT",
    Paid => "PAID",
    Processing => "PROCESSING",
    Shipped => "SHIPPED",
    Delivered => "DELIVERED",
    Completed => "COMPLETED",
    Expired => "EXPIRED",
    Cancelled => "CANCELLED",
    Returned => "RETURNED",
    Refunded => "REFUNDED",
});

/// Who moves an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mover {
    Customer,
    Merchant,
    Admin,
    /// Payments, the expiry job, refunds.
    System,
}

text_enum!(Mover { Customer => "customer", Merchant => "merchant", Admin => "admin", System => "system" });

impl OrderStatus {
    /// Money was taken for the order (a cancellation must refund it).
    pub const fn is_paid(self) -> bool {
        matches!(
            self,
            OrderStatus::Paid
                | OrderStatus::Processing
                | OrderStatus::Shipped
                | OrderStatus::Delivered
        )
    }
}
