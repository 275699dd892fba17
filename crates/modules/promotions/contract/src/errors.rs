//! The problem codes promotions answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem promotions answers with.
    pub enum PromotionsCode {
        CampaignEnded => ("campaign_ended", CONFLICT, "The campaign has ended: it can no longer be changed."),
        CampaignNotFound => ("campaign_not_found", NOT_FOUND, "No such campaign (or not one the caller manages)."),
        CodeTaken => ("coupon_code_taken", CONFLICT, "Another promotion already uses this coupon code."),
        InvalidTransition => ("invalid_transition", CONFLICT, "The campaign cannot move to that status from the one it is in."),
        NotACodePromotion => ("not_a_code_promotion", CONFLICT, "Codes are generated only for code-based promotions."),
        NotACustomer => ("not_a_customer", FORBIDDEN, "Only people check coupons against a cart."),
        PromotionNotFound => ("promotion_not_found", NOT_FOUND, "No such promotion (or not one the caller manages)."),
        PromotionUnavailable => ("promotion_unavailable", CONFLICT, "A discount the checkout was priced with reached its limit or budget meanwhile: look at the cart again and retry."),
    }
}
