//! The problem codes catalog answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem catalog answers with.
    pub enum CatalogCode {
        CategoryInUse => ("category_in_use", CONFLICT, "The category still has subcategories or products."),
        CategoryNotFound => ("category_not_found", NOT_FOUND, "No such category."),
        InvalidTransition => ("invalid_transition", CONFLICT, "The product cannot move to that status; the problem lists the allowed next states."),
        ProductArchived => ("product_archived", CONFLICT, "Archived products cannot be edited; move it back to DRAFT first."),
        ProductNotFound => ("product_not_found", NOT_FOUND, "No such product."),
        VariantNotFound => ("variant_not_found", NOT_FOUND, "No such variant of this product."),
    }
}
