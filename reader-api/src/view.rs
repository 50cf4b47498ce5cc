//! What clients receive: one item shape for both modes.

use im_model::envelope::ContentKind;
use im_store::{InboxEntry, InboxItem, LogEntry, Recalled};
use serde::{Deserialize, Serialize};

/// Where an item was read from; informational (clients need not care).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Inbox,
    Log,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Item {
    /// A message; recalled messages keep their seq and carry `recalled` instead of text.
    Message {
        session_id: String,
        seq: u64,
        sender: String,
        client_msg_id: String,
        ts_ms: i64,
        kind: ContentKind,
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        recalled: Option<Recalled>,
        source: Source,
    },
    /// Message `seq` was recalled after this user received it.
    Recall { session_id: String, seq: u64, by: String, source: Source },
}

impl Item {
    pub fn message(session_id: &str, entry: LogEntry, source: Source) -> Self {
        Item::Message {
            session_id: session_id.to_string(),
            seq: entry.seq,
            sender: entry.sender,
            client_msg_id: entry.client_msg_id,
            ts_ms: entry.ts_ms,
            kind: entry.kind,
            text: entry.text,
            recalled: entry.recalled,
            source,
        }
    }

    pub fn from_inbox(entry: InboxEntry) -> Self {
        match entry.item {
            InboxItem::Message(log) => Item::message(&entry.session_id, log, Source::Inbox),
            InboxItem::Recall { recalled_seq, by } => {
                Item::Recall { session_id: entry.session_id, seq: recalled_seq, by, source: Source::Inbox }
            }
        }
    }
}
