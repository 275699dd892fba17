//! The problem codes chat answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem chat answers with.
    pub enum ChatCode {
        ConversationNotFound => ("conversation_not_found", NOT_FOUND, "No such conversation, or not one the caller takes part in."),
    }
}
