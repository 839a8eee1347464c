//! Typed extractors that refuse bad input in the one error shape ([`ApiError`]) instead of
//! axum's plain-text rejections: query strings and path segments.

use super::ApiError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A query string deserialized into `T`; a missing or malformed parameter is a 400
/// `invalid_parameter` naming it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|rej: QueryRejection| parameter_error(&rej.body_text(), "query string"))
    }
}

/// Path segments deserialized into `T`; a malformed one is a 400 `invalid_parameter`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|rej: PathRejection| parameter_error(&rej.body_text(), "path"))
    }
}

/// A JSON body deserialized into `T`: 415 without a JSON content type, 400 for text that is
/// not JSON, 422 for JSON of the wrong shape (serde's message names the field), 413 when too
/// large.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        axum::Json::<T>::from_request(req, state)
            .await
            .map(|j| ApiJson(j.0))
            .map_err(|rej: JsonRejection| {
                let code = match rej.status() {
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
                    StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
                    StatusCode::UNPROCESSABLE_ENTITY => "invalid_field",
                    _ => "invalid_json",
                };
                ApiError::new(rej.status(), code, rej.body_text())
            })
    }
}

/// A 400 naming the parameter: serde's message is `NAME: problem` (or `missing field `NAME``);
/// the parameter goes into `details.parameter` when it can be told.
fn parameter_error(text: &str, part: &str) -> ApiError {
    let text = text
        .split_once(": ")
        .filter(|(head, _)| {
            head.starts_with("Failed to deserialize") || head.starts_with("Invalid URL")
        })
        .map_or(text, |(_, rest)| rest);
    let parameter = text
        .strip_prefix("missing field `")
        .or_else(|| text.strip_prefix("unknown field `"))
        .and_then(|r| r.split('`').next())
        .or_else(|| text.split_once(": ").map(|(name, _)| name))
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    let message = match parameter {
        Some(p) if !text.contains('`') => format!("{part} parameter {p}: {}", &text[p.len() + 2..]),
        _ => format!("{part}: {text}"),
    };
    let e = ApiError::bad_request("invalid_parameter", message);
    match parameter {
        Some(p) => e.with_details(serde_json::json!({ "parameter": p })),
        None => e,
    }
}

#[cfg(test)]
mod tests {
    use super::parameter_error;

    #[test]
    fn the_parameter_is_named() {
        let e = parameter_error(
            "Failed to deserialize query string: lon: invalid float literal",
            "query string",
        );
        assert_eq!(
            e.message,
            "query string parameter lon: invalid float literal"
        );
        assert_eq!(e.details["parameter"], "lon");
        let e = parameter_error(
            "Failed to deserialize query string: missing field `lat`",
            "query string",
        );
        assert_eq!(e.message, "query string: missing field `lat`");
        assert_eq!(e.details["parameter"], "lat");
        let e = parameter_error(
            "Failed to deserialize query string: unknown field `lng`, expected one of `lon`, `lat`",
            "query string",
        );
        assert_eq!(e.details["parameter"], "lng");
        let e = parameter_error("Invalid URL: Cannot parse `abc` to a `i64`", "path");
        assert_eq!(e.message, "path: Cannot parse `abc` to a `i64`");
        assert!(e.details.is_null());
    }
}
