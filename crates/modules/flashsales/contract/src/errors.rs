//! The problem codes flash sales answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem flash sales answers with.
    pub enum FlashSalesCode {
        FlashSaleBusy => ("flash_sale_busy", TOO_MANY_REQUESTS, "Too many buyers are being served for this sale at once; retry after the Retry-After seconds."),
        FlashSaleEnded => ("flash_sale_ended", CONFLICT, "The flash sale has ended: it can no longer be changed."),
        FlashSaleLimit => ("flash_sale_limit", CONFLICT, "The customer already holds or bought as many units of a sale item as it allows."),
        FlashSaleNotFound => ("flash_sale_not_found", NOT_FOUND, "No such flash sale (or not one the caller manages)."),
        FlashSaleOverlap => ("flash_sale_overlap", CONFLICT, "A variant is already in another flash sale at an overlapping time."),
        FlashSaleStarted => ("flash_sale_started", CONFLICT, "The flash sale has started: only its end can still be brought forward."),
        SoldOut => ("sold_out", CONFLICT, "A sale item's allotment is taken; units come back when unpaid orders expire or are cancelled."),
    }
}
