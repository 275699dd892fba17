//! What can go wrong behind a page, and the status it is shown with. The page itself is drawn
//! by the visit layer (`session.rs`), which knows the visitor's language.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, thiserror::Error)]
pub enum WebError {
    /// The API refused or failed; its problem code and detail are shown.
    #[error("{code}: {detail}")]
    Api {
        status: u16,
        code: String,
        detail: String,
    },
    #[error("the API could not be reached: {0}")]
    Backend(String),
    #[error("the page could not be drawn: {0}")]
    Template(String),
    #[error("no such page")]
    NotFound,
    /// Signed in, but this portal is not for this account.
    #[error("this page is not for this account")]
    Forbidden,
    /// A form came without the token of this browser's session.
    #[error("the form expired or did not come from this site")]
    Csrf,
    #[error("a form field is missing or invalid: {0}")]
    BadForm(String),
    /// Not signed in (or the session ended): sign in, then come back to the page.
    #[error("sign-in required")]
    SignIn,
}

impl WebError {
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::Api { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
            }
            WebError::Backend(_) => StatusCode::BAD_GATEWAY,
            WebError::Template(_) => StatusCode::INTERNAL_SERVER_ERROR,
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Forbidden | WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::BadForm(_) => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::SignIn => StatusCode::SEE_OTHER,
        }
    }

    /// The key of the page's headline in the locale files.
    pub fn title_key(&self) -> &'static str {
        match self {
            WebError::Api { status: 401, .. } | WebError::SignIn => "error.sign_in",
            WebError::Api { status: 403, .. } | WebError::Forbidden => "error.forbidden",
            WebError::Api { status: 404, .. } | WebError::NotFound => "error.not_found",
            WebError::Csrf => "error.csrf",
            WebError::Api { status: 429, .. } => "error.too_many",
            WebError::Api { .. } | WebError::BadForm(_) => "error.refused",
            WebError::Backend(_) | WebError::Template(_) => "error.unavailable",
        }
    }
}

impl From<minijinja::Error> for WebError {
    fn from(err: minijinja::Error) -> Self {
        WebError::Template(format!("{err:#}"))
    }
}

/// A bare response carrying the error, drawn into a page by the visit layer.
impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        if matches!(self, WebError::Backend(_) | WebError::Template(_)) {
            tracing::error!(error = %self, "page failed");
        }
        let mut response = self.status().into_response();
        response.extensions_mut().insert(self);
        response
    }
}

pub type Page = Result<Response, WebError>;
