//! Topic contract v1: the JSON envelope every producer writes and every consumer
//! parses with [`parse`]. One parser for ingest and the consumers means a record
//! ingest accepts is a record the workers can apply, and anything else becomes a
//! dead-letter record with the parser's reason.
//!
//! ```json
//! {"schema":1,"event_id":"e-1","ts_ms":1700000000000,"actor":"u1",
//!  "type":"message","data":{"session_id":"s1","client_msg_id":"c1","text":"hi"}}
//! ```
//! `type` selects the shape of `data`; unknown fields inside `data` are refused so a
//! typo never silently drops information.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::{self, IdError};

/// The only schema version this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;
/// Longest message text, in bytes of UTF-8.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// Most members a session may be created with in one event.
pub const MAX_INITIAL_MEMBERS: usize = 10_000;

/// A parsed, validated event with its envelope fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Producer-chosen id; redelivery of the same id never has a second effect.
    pub event_id: String,
    /// Producer clock in ms since the epoch; informational, never used for ordering.
    pub ts_ms: i64,
    /// The user (or service) on whose behalf the event was produced.
    pub actor: String,
    pub event: Event,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    SessionCreated(SessionCreated),
    MemberAdded(MemberChange),
    MemberRemoved(MemberChange),
    SettingsChanged(SettingsChanged),
    Message(MessageSent),
    Recall(Recall),
    DeviceAdded(DeviceChange),
    DeviceRemoved(DeviceChange),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    /// Exactly two members, for life.
    Direct,
    Group,
    /// A public room: anyone may add themselves when `join_open` is set.
    Room,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionSettings {
    /// A member's first join also reveals the history before it.
    pub history_visible: bool,
    /// Users may add themselves (rooms).
    pub join_open: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionCreated {
    pub session_id: String,
    pub kind: SessionKind,
    pub members: Vec<String>,
    #[serde(default)]
    pub settings: SessionSettings,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberChange {
    pub session_id: String,
    pub user_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsChanged {
    pub session_id: String,
    pub settings: SessionSettings,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentKind {
    #[default]
    Text,
    /// An IRC-style "/me" line.
    Action,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageSent {
    pub session_id: String,
    /// The sending client's id for this message; a resend with the same id is a no-op.
    pub client_msg_id: String,
    #[serde(default)]
    pub kind: ContentKind,
    /// May be empty; at most [`MAX_TEXT_BYTES`].
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recall {
    pub session_id: String,
    pub seq: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceChange {
    pub user_id: String,
    pub device_id: String,
}

/// Why a record is not a valid v1 event. The text is what dead-letter records and
/// HTTP 400 answers carry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("record is not valid UTF-8")]
    NotUtf8,
    #[error("malformed envelope: {0}")]
    Malformed(String),
    #[error("unsupported schema version {0} (this build reads {SCHEMA_VERSION})")]
    Schema(u32),
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    #[error("invalid {event_type} data: {reason}")]
    BadData { event_type: &'static str, reason: String },
    #[error(transparent)]
    Id(#[from] IdError),
    #[error("{0}")]
    Invalid(String),
}

/// The wire shape; `data` is decoded once `type` is known.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    schema: u32,
    event_id: String,
    ts_ms: i64,
    actor: String,
    #[serde(rename = "type")]
    event_type: String,
    data: Value,
}

impl Event {
    /// The `type` string of contract v1.
    pub fn type_name(&self) -> &'static str {
        match self {
            Event::SessionCreated(_) => "session_created",
            Event::MemberAdded(_) => "member_added",
            Event::MemberRemoved(_) => "member_removed",
            Event::SettingsChanged(_) => "session_settings",
            Event::Message(_) => "message",
            Event::Recall(_) => "recall",
            Event::DeviceAdded(_) => "device_added",
            Event::DeviceRemoved(_) => "device_removed",
        }
    }

    /// Session-scoped events travel on the session topic keyed by this id.
    pub fn session_id(&self) -> Option<&str> {
        match self {
            Event::SessionCreated(e) => Some(&e.session_id),
            Event::MemberAdded(e) | Event::MemberRemoved(e) => Some(&e.session_id),
            Event::SettingsChanged(e) => Some(&e.session_id),
            Event::Message(e) => Some(&e.session_id),
            Event::Recall(e) => Some(&e.session_id),
            Event::DeviceAdded(_) | Event::DeviceRemoved(_) => None,
        }
    }

    /// The topic this event belongs on and its partition key.
    pub fn route(&self) -> (&'static str, &str) {
        match self {
            Event::DeviceAdded(e) | Event::DeviceRemoved(e) => (crate::topics::RELATION, &e.user_id),
            _ => (crate::topics::SESSION, self.session_id().expect("session event")),
        }
    }

    fn data_json(&self) -> Value {
        let value = match self {
            Event::SessionCreated(e) => serde_json::to_value(e),
            Event::MemberAdded(e) | Event::MemberRemoved(e) => serde_json::to_value(e),
            Event::SettingsChanged(e) => serde_json::to_value(e),
            Event::Message(e) => serde_json::to_value(e),
            Event::Recall(e) => serde_json::to_value(e),
            Event::DeviceAdded(e) | Event::DeviceRemoved(e) => serde_json::to_value(e),
        };
        value.expect("event data is always serialisable")
    }
}

impl Envelope {
    /// Encodes as contract v1 JSON.
    pub fn to_json(&self) -> Vec<u8> {
        let wire = Wire {
            schema: SCHEMA_VERSION,
            event_id: self.event_id.clone(),
            ts_ms: self.ts_ms,
            actor: self.actor.clone(),
            event_type: self.event.type_name().to_string(),
            data: self.event.data_json(),
        };
        serde_json::to_vec(&wire).expect("envelope is always serialisable")
    }

    /// Checks field rules that serde cannot express. [`parse`] calls it; producers
    /// that build an `Envelope` in code call it before publishing.
    pub fn validate(&self) -> Result<(), EnvelopeError> {
        ids::validate("event_id", &self.event_id)?;
        ids::validate("actor", &self.actor)?;
        if self.ts_ms < 0 {
            return Err(EnvelopeError::Invalid("ts_ms is negative".into()));
        }
        match &self.event {
            Event::SessionCreated(e) => validate_created(e),
            Event::MemberAdded(e) | Event::MemberRemoved(e) => {
                ids::validate("session_id", &e.session_id)?;
                Ok(ids::validate("user_id", &e.user_id)?)
            }
            Event::SettingsChanged(e) => Ok(ids::validate("session_id", &e.session_id)?),
            Event::Message(e) => {
                ids::validate("session_id", &e.session_id)?;
                ids::validate("client_msg_id", &e.client_msg_id)?;
                if e.text.len() > MAX_TEXT_BYTES {
                    return Err(EnvelopeError::Invalid(format!("text is longer than {MAX_TEXT_BYTES} bytes")));
                }
                Ok(())
            }
            Event::Recall(e) => {
                ids::validate("session_id", &e.session_id)?;
                if e.seq == 0 {
                    return Err(EnvelopeError::Invalid("recall seq must be at least 1".into()));
                }
                Ok(())
            }
            Event::DeviceAdded(e) | Event::DeviceRemoved(e) => {
                ids::validate("user_id", &e.user_id)?;
                Ok(ids::validate("device_id", &e.device_id)?)
            }
        }
    }
}

fn validate_created(e: &SessionCreated) -> Result<(), EnvelopeError> {
    ids::validate("session_id", &e.session_id)?;
    if e.members.is_empty() {
        return Err(EnvelopeError::Invalid("a session needs at least one member".into()));
    }
    if e.members.len() > MAX_INITIAL_MEMBERS {
        return Err(EnvelopeError::Invalid(format!("more than {MAX_INITIAL_MEMBERS} initial members")));
    }
    let mut seen = std::collections::HashSet::with_capacity(e.members.len());
    for member in &e.members {
        ids::validate("members[]", member)?;
        if !seen.insert(member.as_str()) {
            return Err(EnvelopeError::Invalid(format!("member {member:?} listed twice")));
        }
    }
    if e.kind == SessionKind::Direct && e.members.len() != 2 {
        return Err(EnvelopeError::Invalid("a direct session has exactly two members".into()));
    }
    Ok(())
}

/// Parses and validates one record value.
pub fn parse(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
    let text = std::str::from_utf8(bytes).map_err(|_| EnvelopeError::NotUtf8)?;
    parse_value(serde_json::from_str(text).map_err(|e| EnvelopeError::Malformed(e.to_string()))?)
}

/// Parses and validates one already-decoded JSON value (used for batch bodies).
pub fn parse_value(value: Value) -> Result<Envelope, EnvelopeError> {
    let wire: Wire = serde_json::from_value(value).map_err(|e| EnvelopeError::Malformed(e.to_string()))?;
    if wire.schema != SCHEMA_VERSION {
        return Err(EnvelopeError::Schema(wire.schema));
    }
    let event = decode_data(&wire.event_type, wire.data)?;
    let envelope = Envelope { event_id: wire.event_id, ts_ms: wire.ts_ms, actor: wire.actor, event };
    envelope.validate()?;
    Ok(envelope)
}

fn decode_data(event_type: &str, data: Value) -> Result<Event, EnvelopeError> {
    fn de<T: serde::de::DeserializeOwned>(event_type: &'static str, data: Value) -> Result<T, EnvelopeError> {
        serde_json::from_value(data).map_err(|e| EnvelopeError::BadData { event_type, reason: e.to_string() })
    }
    Ok(match event_type {
        "session_created" => Event::SessionCreated(de("session_created", data)?),
        "member_added" => Event::MemberAdded(de("member_added", data)?),
        "member_removed" => Event::MemberRemoved(de("member_removed", data)?),
        "session_settings" => Event::SettingsChanged(de("session_settings", data)?),
        "message" => Event::Message(de("message", data)?),
        "recall" => Event::Recall(de("recall", data)?),
        "device_added" => Event::DeviceAdded(de("device_added", data)?),
        "device_removed" => Event::DeviceRemoved(de("device_removed", data)?),
        other => return Err(EnvelopeError::UnknownType(other.chars().take(64).collect())),
    })
}

#[cfg(test)]
mod tests;
