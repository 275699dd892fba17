//! The problem codes vouchers answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem vouchers answers with.
    pub enum VouchersCode {
        CaseClosed => ("case_closed", CONFLICT, "This case is already decided."),
        CaseNotFound => ("case_not_found", NOT_FOUND, "No such fraud case."),
        ConcurrentChange => ("concurrent_change", CONFLICT, "The voucher changed at the same moment; try again."),
        GiftNotFound => ("gift_not_found", NOT_FOUND, "No such pending gift (or it was taken)."),
        InsufficientBalance => ("insufficient_balance", CONFLICT, "The voucher's balance is less than the amount asked; the detail says what is left."),
        InvalidToken => ("invalid_token", BAD_REQUEST, "The QR code is not a valid voucher token."),
        NotClaimable => ("not_claimable", CONFLICT, "This offer is not free to claim."),
        NotRefundable => ("not_refundable", CONFLICT, "The voucher cannot be refunded (used, expired, gifted, or not bought)."),
        OfferExists => ("offer_exists", CONFLICT, "This variant already has an offer."),
        OfferNotFound => ("offer_not_found", NOT_FOUND, "No such voucher offer."),
        OutletNotEligible => ("outlet_not_eligible", FORBIDDEN, "This voucher is not redeemable at this outlet."),
        PendingReview => ("pending_review", CONFLICT, "A redemption of this voucher waits for fraud review."),
        PerCustomerCapReached => ("per_customer_cap_reached", CONFLICT, "You already hold as many of these as one customer may."),
        PinRequired => ("pin_required", UNPROCESSABLE_ENTITY, "A PIN is required with a typed code or a printed QR."),
        SoldOut => ("sold_out", CONFLICT, "No vouchers of this offer are left."),
        TokenStale => ("token_stale", CONFLICT, "The QR code has expired (it rotates every 30 s): ask for the live screen."),
        TokenSuperseded => ("token_superseded", CONFLICT, "The QR code belongs to an older version of this voucher (it was given away or changed)."),
        UnknownOutlet => ("unknown_outlet", UNPROCESSABLE_ENTITY, "The outlet is not an outlet of a merchant."),
        VoucherExpired => ("voucher_expired", CONFLICT, "The voucher has expired."),
        VoucherLocked => ("voucher_locked", LOCKED, "Too many wrong PINs: this voucher can only be redeemed by its live QR code."),
        VoucherNotFound => ("voucher_not_found", NOT_FOUND, "No such voucher."),
        VoucherNotRedeemable => ("voucher_not_redeemable", CONFLICT, "The voucher is not redeemable in its status (used, voided, refunded, or not yet valid)."),
        WrongPin => ("wrong_pin", FORBIDDEN, "The PIN does not match."),
    }
}
