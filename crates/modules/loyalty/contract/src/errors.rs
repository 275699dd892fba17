//! The problem codes loyalty answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem loyalty answers with.
    pub enum LoyaltyCode {
        AccountNotFound => ("rewards_account_not_found", NOT_FOUND, "The customer has no rewards account yet."),
        InsufficientPoints => ("insufficient_points", CONFLICT, "The balance has fewer points than asked for (another checkout may have used them); nothing was taken."),
        PointsBelowMinimum => ("points_below_minimum", UNPROCESSABLE_ENTITY, "Fewer points than the smallest redemption allowed."),
    }
}
