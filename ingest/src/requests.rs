//! Request bodies of the single-event routes and how each becomes an event, plus
//! body reading and event-id rules shared by every route.
//!
//! Bodies are read by hand (not with axum's `Json` extractor) so that every
//! refusal is our own 400 JSON: oversize, not UTF-8, malformed JSON, missing,
//! unknown or mistyped fields.

use axum::body::{Body, Bytes};
use im_model::envelope::{ContentKind, SessionKind, SessionSettings};
use im_model::ids;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    pub session_id: String,
    pub kind: SessionKind,
    pub members: Vec<String>,
    #[serde(default)]
    pub settings: SessionSettings,
    pub request_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    pub user_id: String,
    pub request_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// The client's id of this message; a retry with the same id is the same event.
    pub client_msg_id: String,
    pub text: String,
    #[serde(default)]
    pub kind: ContentKind,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecallMessage {
    pub seq: u64,
    pub request_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddDevice {
    pub device_id: String,
    pub request_id: Option<String>,
}

/// Reads the whole body, refusing more than `limit` bytes with a 400.
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|error| {
        // `to_bytes` reports the limit as an error whose text is that of
        // http-body-util's `LengthLimitError`; anything else is a broken upload.
        if error.to_string().contains("length limit") {
            ApiError::bad_request("body_too_large", format!("body is larger than {limit} bytes"))
        } else {
            ApiError::bad_request("unreadable_body", format!("cannot read body: {error}"))
        }
    })
}

/// Checks that the body is UTF-8 and returns it as text.
pub fn utf8(bytes: &[u8]) -> Result<&str, ApiError> {
    std::str::from_utf8(bytes).map_err(|error| ApiError::bad_request("not_utf8", format!("body is not valid UTF-8: {error}")))
}

/// Reads and decodes a JSON body of type `T`.
pub async fn read_json<T: DeserializeOwned>(body: Body, limit: usize) -> Result<T, ApiError> {
    let bytes = read_body(body, limit).await?;
    serde_json::from_str(utf8(&bytes)?).map_err(|error| ApiError::from_json(&error))
}

/// Event id of a message: a hash of what makes the send unique, so that a client
/// retry (same session, sender and `client_msg_id`) is the same event.
pub fn message_event_id(session_id: &str, actor: &str, client_msg_id: &str) -> String {
    format!("msg-{}", digest(&[session_id, actor, client_msg_id]))
}

/// Event id of any other event: derived from the client's `request_id` when given
/// (a retry is then the same event), random otherwise. The hash covers the type,
/// the routing key and the actor, so equal request ids of different users or
/// sessions never collide.
pub fn event_id(request_id: Option<&str>, event_type: &str, route_key: &str, actor: &str) -> Result<String, ApiError> {
    match request_id {
        Some(request_id) => {
            ids::validate("request_id", request_id).map_err(|e| ApiError::bad_request("invalid_id", e.to_string()))?;
            Ok(format!("req-{}", digest(&[event_type, route_key, actor, request_id])))
        }
        None => Ok(format!("{:032x}", rand::random::<u128>())),
    }
}

/// First 32 hex chars (128 bits) of SHA-256 over the parts joined by NUL. Valid ids
/// never contain NUL, so distinct parts always give distinct inputs.
fn digest(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hasher.update([0u8]);
        }
        hasher.update(part.as_bytes());
    }
    hex::encode(&hasher.finalize()[..16])
}

/// Current time in ms since the epoch.
pub fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_stable_and_distinguish_their_parts() {
        let id = message_event_id("s1", "alice", "c1");
        assert_eq!(id, message_event_id("s1", "alice", "c1"));
        assert_eq!(id.len(), 4 + 32);
        assert_ne!(id, message_event_id("s1", "bob", "c1"));
        assert!(ids::validate("event_id", &id).is_ok());
    }

    #[test]
    fn request_ids_make_retries_identical_and_random_ids_differ() {
        let a = event_id(Some("r1"), "recall", "s1", "alice").unwrap();
        assert_eq!(a, event_id(Some("r1"), "recall", "s1", "alice").unwrap());
        assert_ne!(a, event_id(Some("r1"), "recall", "s1", "bob").unwrap());
        assert_ne!(event_id(None, "recall", "s1", "a").unwrap(), event_id(None, "recall", "s1", "a").unwrap());
        assert!(event_id(Some("bad id"), "recall", "s1", "a").is_err());
    }
}
