//! The problem codes notifications answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem notifications answers with.
    pub enum NotificationsCode {
        NotificationNotFound => ("notification_not_found", NOT_FOUND, "No such notification."),
        ScheduledMessageNotFound => ("scheduled_message_not_found", NOT_FOUND, "No such scheduled message."),
        ScheduledMessageClosed => ("scheduled_message_closed", CONFLICT, "The scheduled message is being sent, was sent or was cancelled: it can no longer be cancelled."),
    }
}
