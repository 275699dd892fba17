//! The problem codes inventory answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem inventory answers with.
    pub enum InventoryCode {
        BelowReserved => ("below_reserved", CONFLICT, "On hand cannot go below the units reserved."),
        ConcurrentChange => ("concurrent_change", CONFLICT, "The reservation changed concurrently; retry."),
        InsufficientStock => ("insufficient_stock", CONFLICT, "Not enough stock for every line; nothing was reserved."),
        ReservationMismatch => ("reservation_mismatch", CONFLICT, "This reservation id was already used for different lines."),
        ReservationNotActive => ("reservation_not_active", CONFLICT, "The reservation is no longer active (confirmed, released, expired or returned)."),
        ReservationNotFound => ("reservation_not_found", NOT_FOUND, "No such reservation."),
        SkuNotFound => ("sku_not_found", NOT_FOUND, "No such SKU at this merchant."),
    }
}
