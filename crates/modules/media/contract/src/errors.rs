//! The problem codes media answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem media answers with.
    pub enum MediaCode {
        PlaceholderMedia => ("placeholder_media", NOT_FOUND, "Placeholder."),
    }
}
