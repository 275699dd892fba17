//! The problem codes cart answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem cart answers with.
    pub enum CartCode {
        CouponNotInCart => ("cart_coupon_not_found", NOT_FOUND, "The cart has no such coupon code."),
        CartFull => ("cart_full", CONFLICT, "The cart holds the most different items it may."),
        CartItemNotFound => ("cart_item_not_found", NOT_FOUND, "No such item in your cart."),
        CartNotFound => ("cart_not_found", NOT_FOUND, "No cart has this X-Cart-Token (it may have expired)."),
        CurrencyMismatch => ("currency_mismatch", CONFLICT, "The item is priced in another currency than the cart: one order is paid in one currency."),
        InvalidCoupon => ("invalid_coupon", UNPROCESSABLE_ENTITY, "A coupon code is 3 to 32 letters, digits or inner dashes."),
        NotACustomer => ("not_a_customer", FORBIDDEN, "Only people have carts."),
        QuantityLimit => ("quantity_limit", UNPROCESSABLE_ENTITY, "The line would exceed the most units of one item a cart may hold."),
        TooManyCoupons => ("too_many_coupons", CONFLICT, "A cart holds at most 5 coupon codes."),
        VariantUnavailable => ("variant_unavailable", UNPROCESSABLE_ENTITY, "The variant is not a product variant that is for sale."),
    }
}
