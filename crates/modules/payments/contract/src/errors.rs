//! The problem codes payments answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem payments answers with.
    pub enum PaymentsCode {
        AlreadyPaid => ("already_paid", CONFLICT, "This order group is already paid."),
        BankReferenceInUse => ("bank_reference_in_use", CONFLICT, "This bank transfer already confirmed another payment."),
        ConcurrentChange => ("concurrent_change", CONFLICT, "The payment changed concurrently; retry."),
        InvalidSignature => ("invalid_signature", UNAUTHORIZED, "The webhook signature does not verify."),
        MalformedWebhook => ("malformed_webhook", BAD_REQUEST, "The webhook body cannot be read as the provider's notification."),
        NotCaptured => ("not_captured", CONFLICT, "Nothing was captured to refund."),
        NothingToPay => ("nothing_to_pay", CONFLICT, "No order of this group is awaiting payment (expired or cancelled)."),
        OrderGroupNotFound => ("order_group_not_found", NOT_FOUND, "No such order group."),
        PaymentMethodUnavailable => ("payment_method_unavailable", UNPROCESSABLE_ENTITY, "The payment method is not configured here; the detail lists the available ones."),
        PaymentMethodUnsupported => ("payment_method_unsupported", UNPROCESSABLE_ENTITY, "The provider does not support this request (method, currency or amount)."),
        PaymentAlreadySettled => ("payment_already_settled", CONFLICT, "The payment already has an outcome; a second transfer is a refund matter."),
        PaymentNotFound => ("payment_not_found", NOT_FOUND, "No such payment."),
        PaymentNotVerifiable => ("payment_not_verifiable", CONFLICT, "Its provider confirms this payment; only bank transfers are verified by hand."),
        PaymentWindowClosed => ("payment_window_closed", CONFLICT, "The time to pay this order group has passed."),
        ProviderFailed => ("provider_failed", BAD_GATEWAY, "The payment provider failed; try again."),
        ProviderNotFound => ("provider_not_found", NOT_FOUND, "No such payment provider here."),
        RefundExceedsCaptured => ("refund_exceeds_captured", CONFLICT, "The amount is more than can still be refunded (of the payment, or of the part the refund may draw on)."),
        RefundNotFound => ("refund_not_found", NOT_FOUND, "No such refund of this payment."),
        RefundNotPending => ("refund_not_pending", CONFLICT, "This refund is already settled or failed."),
    }
}
