//! The problem codes reviews answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem reviews answers with.
    pub enum ReviewsCode {
        ReviewNotFound => ("review_not_found", NOT_FOUND, "No such review, or not one the caller may see."),
        NotABuyer => ("not_a_buyer", FORBIDDEN, "Only verified buyers review: the caller has no delivered or completed order of this product (or no redeemed voucher of this offer), or not the one named."),
        ReviewExists => ("review_exists", CONFLICT, "The purchase was reviewed already (one review per purchase; a deleted review keeps its purchase)."),
        EditWindowClosed => ("edit_window_closed", CONFLICT, "The review is older than the edit window (`reviews.edit_window_hours`); it can still be deleted."),
        OwnReview => ("own_review", FORBIDDEN, "Authors cannot vote on or report their own review."),
        AlreadyReported => ("already_reported", CONFLICT, "The caller reported this review already (one report per user)."),
        ResponseExists => ("response_exists", CONFLICT, "The merchant responded to this review already (one response per review)."),
    }
}
