//! The problem codes ledger answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem ledger answers with.
    pub enum LedgerCode {
        PayoutNotFound => ("payout_not_found", NOT_FOUND, "No such payout."),
        PayoutRunExists => ("payout_run_exists", CONFLICT, "The payout run of this period was already started."),
    }
}
