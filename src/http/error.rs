//! The one error type of the HTTP layer: every error is answered as
//! `{"error": {"code": "...", "message": "...", "details": ...}}`. Internal errors are logged
//! with their cause and answered 500 without it.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The body of every error answer (for the API description).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What [`ErrorBody`] carries.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `not_found`, `invalid_parameter`.
    pub code: String,
    /// What was wrong, for a person.
    pub message: String,
    /// Extra structured detail (a validation report, the offending field…), or null.
    #[schema(value_type = Object)]
    pub details: Value,
}

/// An error answered to a client.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code, e.g. `not_found`, `invalid_geojson`.
    pub code: &'static str,
    /// What was wrong, for a person.
    pub message: String,
    /// Extra structured detail (a validation report, the offending field…).
    pub details: Value,
}

impl ApiError {
    /// 400 with a code and message.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    /// 422 for well-formed input that cannot be used.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
    /// 409.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }
    /// Any status.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Value::Null,
        }
    }
    /// Adds details.
    pub fn with_details(mut self, details: Value) -> ApiError {
        self.details = details;
        self
    }
    /// 500: logs `cause`, answers without it.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; it has been logged",
        )
    }
}

/// Seconds a client is asked to wait (`Retry-After`) when the database is unavailable.
pub const DATABASE_RETRY_AFTER_S: u64 = 5;

/// Whether a database error means the database is unavailable for now — unreachable, shutting
/// down, out of connections or disk, busy — rather than a fault in the request or the data:
/// such a request may succeed when retried.
pub fn unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => {
            let code = d.code().unwrap_or_default();
            // PostgreSQL: connection exceptions (08…), operator intervention such as a
            // shutdown (57P…), insufficient resources such as a full disk (53…). SQLite
            // (primary result codes): BUSY 5, LOCKED 6, FULL 13, CANTOPEN 14, and the
            // extended codes built on them.
            code.starts_with("08")
                || code.starts_with("57P")
                || code.starts_with("53")
                || code.parse::<i64>().is_ok_and(sqlite_unavailable)
        }
        _ => false,
    }
}

/// Whether a SQLite result code (extended codes included) means the database cannot be used
/// now rather than that the request was wrong: BUSY 5, LOCKED 6, FULL 13, CANTOPEN 14.
fn sqlite_unavailable(code: i64) -> bool {
    matches!(code & 0xff, 5 | 6 | 13 | 14)
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> ApiError {
        let down = match &e {
            crate::store::StoreError::Database(d) => unavailable(d),
            crate::store::StoreError::Closed => true,
            // The SQLite intake writer's own connection.
            crate::store::StoreError::Engine { code: Some(c), .. } => {
                sqlite_unavailable(i64::from(*c))
            }
            _ => false,
        };
        if !down {
            return ApiError::internal(&e);
        }
        tracing::warn!(error = %e, "database unavailable");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "the database is unavailable; nothing was changed; try again shortly",
        )
        .with_details(json!({ "retry_after_s": DATABASE_RETRY_AFTER_S }))
    }
}

impl ApiError {
    /// Seconds to send in `Retry-After`: 429 and 503 tell the client when to come back.
    pub fn retry_after(&self) -> Option<u64> {
        match self.status {
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => Some(
                self.details["retry_after_s"]
                    .as_u64()
                    .unwrap_or(DATABASE_RETRY_AFTER_S),
            ),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let wait = self.retry_after();
        let body =
            json!({"error": {"code": self.code, "message": self.message, "details": self.details}});
        let mut r = (self.status, Json(body)).into_response();
        if let Some(s) = wait {
            r.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(s),
            );
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn internal_errors_do_not_leak_their_cause() {
        let cause = "relation \"grid\" does not exist at SELECT key FROM grid";
        let resp = ApiError::internal(&cause).into_response();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(
            !text.contains("SELECT") && !text.contains("relation"),
            "{text}"
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["error"]["code"], "internal");
    }
}
