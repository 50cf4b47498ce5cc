//! The error answers of the API: JSON `{"error": <kind>, "reason": <text>}` (plus
//! `index` for an element of a bulk body). The kind is a stable machine-readable
//! word; the reason is for humans. Every 4xx is decided before anything is
//! published.

use axum::extract::rejection::PathRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use im_model::EnvelopeError;
use im_service::auth::AuthError;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub reason: String,
    /// Position of the offending envelope in a `/v1/events` body.
    pub index: Option<usize>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, reason: impl Into<String>) -> Self {
        Self { status, kind, reason: reason.into(), index: None }
    }

    pub fn bad_request(kind: &'static str, reason: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, kind, reason)
    }

    pub fn forbidden(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", reason)
    }

    pub fn unavailable(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", reason)
    }

    /// Names the envelope of a bulk body the error is about.
    pub fn at_index(mut self, index: usize) -> Self {
        self.reason = format!("event {index}: {}", self.reason);
        self.index = Some(index);
        self
    }

    /// A serde error of a request body: syntax errors are malformed JSON, the rest
    /// (missing or unknown fields, wrong types) are an invalid request.
    pub fn from_json(error: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        match error.classify() {
            Category::Syntax | Category::Eof | Category::Io => Self::bad_request("malformed_json", error.to_string()),
            Category::Data => Self::bad_request("invalid_request", error.to_string()),
        }
    }
}

/// A path segment that is not valid percent-encoded UTF-8 cannot be an id.
impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        Self::bad_request("invalid_id", rejection.body_text())
    }
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", error.to_string())
    }
}

impl From<EnvelopeError> for ApiError {
    fn from(error: EnvelopeError) -> Self {
        let kind = match &error {
            EnvelopeError::NotUtf8 => "not_utf8",
            EnvelopeError::Malformed(_) => "malformed_event",
            EnvelopeError::UnknownType(_) => "unknown_event_type",
            EnvelopeError::Id(_) => "invalid_id",
            EnvelopeError::Schema(_) | EnvelopeError::BadData { .. } | EnvelopeError::Invalid(_) => "invalid_event",
        };
        Self::bad_request(kind, error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": self.kind, "reason": self.reason});
        if let Some(index) = self.index {
            body["index"] = json!(index);
        }
        (self.status, Json(body)).into_response()
    }
}
