//! The problem codes cart answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem cart answers with.
    pub enum CartCode {
        CartFull => ("cart_full", CONFLICT, "The cart holds the most different items it may."),
        CartItemNotFound => ("cart_item_not_found", NOT_FOUND, "No such item in your cart."),
        CartNotFound => ("cart_not_found", NOT_FOUND, "No cart has this X-Cart-Token (it may have expired)."),
        CurrencyMismatch => ("currency_mismatch", CONFLICT, "The item is priced in another currency than the cart: one order is paid in one currency."),
        NotACustomer => ("not_a_customer", FORBIDDEN, "Only people have carts."),
        QuantityLimit => ("quantity_limit", UNPROCESSABLE_ENTITY, "The line would exceed the most units of one item a cart may hold."),
        VariantUnavailable => ("variant_unavailable", UNPROCESSABLE_ENTITY, "The variant is not a product variant that is for sale."),
    }
}
