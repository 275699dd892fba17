//! The problem codes shipping answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem shipping answers with.
    pub enum ShippingCode {
        PlaceholderShipping => ("placeholder_shipping", NOT_FOUND, "Placeholder."),
    }
}
