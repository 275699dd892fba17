//! The problem codes shipping answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem shipping answers with.
    pub enum ShippingCode {
        AddressNotFound => ("address_not_found", NOT_FOUND, "`addressId` is not one of the signed-in customer's saved addresses."),
        CourierNotFound => ("courier_not_found", NOT_FOUND, "No such courier."),
        InvalidRateTable => ("invalid_rate_table", UNPROCESSABLE_ENTITY, "The rate table is refused (overlapping or missing weight brackets, amounts not positive, a zone a service cannot serve, ...); `errors` lists each field and why; nothing changed."),
        InvalidSignature => ("invalid_signature", UNAUTHORIZED, "The courier webhook's `X-Pasar-Signature` is missing or does not verify; nothing changed."),
        MerchantNotFound => ("merchant_not_found", NOT_FOUND, "No such merchant."),
        NotSimulated => ("not_simulated", CONFLICT, "Only shipments of the SIMULATOR courier are advanced by the simulator."),
        ShipmentNotFound => ("shipment_not_found", NOT_FOUND, "No such shipment, or not one the caller may see."),
        ShipmentFinished => ("shipment_finished", CONFLICT, "The shipment is DELIVERED or RETURNED: nothing moves it any more."),
        StaleSignature => ("stale_signature", UNAUTHORIZED, "The courier webhook's signature timestamp is outside the tolerance (`shipping.webhook_tolerance_secs`); nothing changed."),
        WebhooksNotConfigured => ("webhooks_not_configured", NOT_FOUND, "This courier has no webhook secret configured here (`shipping.webhook_secrets`)."),
    }
}
