//! The problem codes search answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem search answers with.
    pub enum SearchCode {
        SearchUnavailable => ("search_unavailable", SERVICE_UNAVAILABLE, "The search index is not open (being built for the first time, or its disk failed); retry shortly."),
        ReindexRunning => ("reindex_running", CONFLICT, "A rebuild of the index is already running on this instance."),
    }
}
