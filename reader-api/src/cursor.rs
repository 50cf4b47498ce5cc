//! The sync cursor: an opaque token to clients, a position per box to us.
//!
//! A user's messages live in two kinds of box: their own inbox (write-diffusion
//! sessions, dense inbox seqs) and the shared logs of read-diffusion sessions
//! (dense session seqs). The cursor records the last position delivered in each,
//! plus the store epoch it was issued against, so a cursor from a rebuilt store is
//! recognisably expired rather than silently wrong.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

const VERSION: u32 = 1;
/// Longest cursor accepted, in bytes of its text form.
pub const MAX_CURSOR_LEN: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCursor {
    #[serde(rename = "v")]
    pub version: u32,
    #[serde(rename = "e")]
    pub epoch: String,
    /// Last inbox seq delivered.
    #[serde(rename = "i")]
    pub inbox: u64,
    /// Last log seq delivered per read-diffusion session.
    #[serde(rename = "l", default)]
    pub logs: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error("cursor is not a token issued by this service")]
    Malformed,
    #[error("cursor is too long")]
    TooLong,
}

impl SyncCursor {
    /// The position before everything, for a device syncing from zero.
    pub fn start(epoch: &str) -> Self {
        Self { version: VERSION, epoch: epoch.to_string(), inbox: 0, logs: BTreeMap::new() }
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("cursor serialises"))
    }

    pub fn decode(text: &str) -> Result<Self, CursorError> {
        if text.len() > MAX_CURSOR_LEN {
            return Err(CursorError::TooLong);
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| CursorError::Malformed)?;
        let cursor: SyncCursor = serde_json::from_slice(&bytes).map_err(|_| CursorError::Malformed)?;
        if cursor.version != VERSION {
            return Err(CursorError::Malformed);
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let mut cursor = SyncCursor::start("abc");
        cursor.inbox = 42;
        cursor.logs.insert("room:ubuntu".into(), 7);
        assert_eq!(SyncCursor::decode(&cursor.encode()), Ok(cursor));
    }

    #[test]
    fn refuses_garbage() {
        assert_eq!(SyncCursor::decode("!!!"), Err(CursorError::Malformed));
        assert_eq!(SyncCursor::decode(&URL_SAFE_NO_PAD.encode(b"{}")), Err(CursorError::Malformed));
        assert_eq!(SyncCursor::decode(&"A".repeat(MAX_CURSOR_LEN + 1)), Err(CursorError::TooLong));
    }
}
