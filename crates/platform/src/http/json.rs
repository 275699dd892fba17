//! `ApiJson<T>`: the JSON body extractor of every handler. Malformed JSON is a 400 problem;
//! well-formed JSON that does not fit (missing, unknown or mistyped fields) is a 422 problem
//! naming the field; a body over the limit is a 413 problem.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use kernel::{ApiError, FieldError};
use serde::de::DeserializeOwned;

use super::text;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| {
                let mime = value.split(';').next().unwrap_or("").trim();
                mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Expected a body with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "The request body is larger than allowed",
                )
            } else {
                ApiError::bad_request("unreadable_body", "The request body could not be read")
            }
        })?;
        parse(&bytes).map(ApiJson)
    }
}

/// Parses a JSON document into `T`, mapping serde's failures to problems. Strings holding
/// control characters are refused first (see [`super::text`]).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if text::json_may_hold_control(bytes) {
        if let Some(field) = serde_json::from_slice::<serde_json::Value>(bytes)
            .ok()
            .as_ref()
            .and_then(text::json_path_with_control)
        {
            return Err(ApiError::validation_one(&field, text::MESSAGE));
        }
    }
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let message = inner.to_string();
                // serde puts the field name in the message for missing/unknown fields.
                let field = field_from_message(&message).unwrap_or(path);
                let message = message
                    .split(" at line ")
                    .next()
                    .unwrap_or(&message)
                    .to_owned();
                ApiError::validation(vec![FieldError {
                    field: if field == "." { String::new() } else { field },
                    message,
                }])
            }
            _ => ApiError::bad_request(
                "malformed_json",
                format!("The request body is not valid JSON: {inner}"),
            ),
        }
    })
}

fn field_from_message(message: &str) -> Option<String> {
    for prefix in ["missing field `", "unknown field `"] {
        if let Some(rest) = message.strip_prefix(prefix) {
            return rest.split('`').next().map(str::to_owned);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Body {
        first_name: String,
        age: u8,
    }

    #[test]
    fn control_characters_are_422_naming_the_field() {
        let err = parse::<Body>(br#"{"firstName":"a\u0000b","age":1}"#).unwrap_err();
        assert_eq!(err.status.as_u16(), 422);
        assert_eq!(err.errors[0].field, "firstName");
        assert!(parse::<Body>(br#"{"firstName":"a\nb","age":1}"#).is_ok());
    }

    #[test]
    fn syntax_error_is_400() {
        let err = parse::<Body>(b"{\"firstName\": ").unwrap_err();
        assert_eq!(err.status.as_u16(), 400);
        assert_eq!(err.code, "malformed_json");
    }

    #[test]
    fn unknown_missing_and_mistyped_fields_are_422_with_field() {
        let err = parse::<Body>(br#"{"firstName":"a","age":1,"roles":["admin"]}"#).unwrap_err();
        assert_eq!(err.status.as_u16(), 422);
        assert_eq!(err.errors[0].field, "roles");
        let err = parse::<Body>(br#"{"age":1}"#).unwrap_err();
        assert_eq!(err.errors[0].field, "firstName");
        let err = parse::<Body>(br#"{"firstName":"a","age":"old"}"#).unwrap_err();
        assert_eq!(err.errors[0].field, "age");
    }
}
