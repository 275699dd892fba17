//! The problem codes chat answers with (over HTTP, and as `error` frames on the WebSocket):
//! callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem chat answers with.
    pub enum ChatCode {
        ConversationNotFound => ("conversation_not_found", NOT_FOUND, "No such conversation, or not one the caller takes part in."),
        MerchantNotFound => ("merchant_not_found", NOT_FOUND, "No such merchant to talk to."),
        ProductNotFound => ("product_not_found", NOT_FOUND, "No such product of this merchant to talk about."),
        OrderNotFound => ("order_not_found", NOT_FOUND, "No such order of the caller's with this merchant to talk about."),
        OwnMerchant => ("own_merchant", UNPROCESSABLE_ENTITY, "Staff cannot open a conversation with their own merchant."),
        EmptyMessage => ("empty_message", UNPROCESSABLE_ENTITY, "A message needs text or an image."),
        MessageTooLong => ("message_too_long", UNPROCESSABLE_ENTITY, "The text is longer than `chat.max_text_chars`."),
        BadFrame => ("bad_frame", UNPROCESSABLE_ENTITY, "The WebSocket frame is not JSON of a known type with its fields."),
        SlowDown => ("slow_down", TOO_MANY_REQUESTS, "Too many frames on this connection; it is closed if it goes on."),
    }
}
