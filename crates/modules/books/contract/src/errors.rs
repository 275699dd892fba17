//! The problem codes books answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem books answers with.
    pub enum BooksCode {
        BookEmpty => ("book_empty", CONFLICT, "The book has nothing to print (no placements)."),
        BookNotEditable => ("book_not_editable", CONFLICT, "The book is being generated or is published: it cannot change."),
        BookNotFound => ("book_not_found", NOT_FOUND, "No such voucher book."),
        BookNotReady => ("book_not_ready", CONFLICT, "The book has no print-ready PDF yet (generate it first)."),
        OfferNotFound => ("offer_not_found", UNPROCESSABLE_ENTITY, "No such voucher offer."),
        OfferNotPrintable => ("offer_not_printable", UNPROCESSABLE_ENTITY, "Books print free-to-claim offers only (a paid offer's vouchers are sold through stock)."),
        PageNotFound => ("page_not_found", NOT_FOUND, "No such page in this book."),
        PlacementNotFound => ("placement_not_found", NOT_FOUND, "No such placement on this page."),
        PlacementPrinted => ("placement_printed", CONFLICT, "Its voucher was printed and issued: the placement stays."),
        SlotTaken => ("slot_taken", CONFLICT, "The placement overlaps another on the page."),
    }
}
