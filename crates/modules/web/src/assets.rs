//! The pages' static files, compiled in: styles, the vendored htmx (2.0.4, BSD-0) and jsQR
//! (1.4.0, Apache-2.0, the counter's decoder), and our two scripts.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../assets/app.css"),
    ),
    (
        "htmx.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/htmx.min.js"),
    ),
    (
        "jsqr.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/jsqr.js"),
    ),
    (
        "scanner.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/scanner.js"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/app.js"),
    ),
];

pub fn routes() -> Router {
    Router::new().route("/static/{file}", get(asset))
}

async fn asset(Path(file): Path<String>) -> Response {
    let Some((_, content_type, bytes)) = FILES.iter().find(|(name, _, _)| *name == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // An hour: a new release's files reach browsers the same day without hashed names.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_script_and_style_a_template_links_is_served() {
        for (name, source) in crate::render::TEMPLATES {
            for piece in source.split("/static/").skip(1) {
                let file: String = piece
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                    .collect();
                assert!(
                    super::FILES.iter().any(|(f, _, _)| *f == file),
                    "{name} links /static/{file}, which is not served"
                );
            }
        }
    }
}
