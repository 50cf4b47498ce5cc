//! Values stored in the message store (JSON-encoded; readable with `ldb`).

use im_model::{envelope::ContentKind, Mode, SessionKind, SessionSettings};
use serde::{Deserialize, Serialize};

/// A stretch of the session's seqs stored in one mode: from `from_seq` until the
/// next era starts. Sync reads write-era seqs from inboxes and read-era seqs from
/// the shared log, so each message reaches a member exactly once across a switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Era {
    pub from_seq: u64,
    pub mode: Mode,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    pub kind: SessionKind,
    pub owner: String,
    pub settings: SessionSettings,
    pub created_ts_ms: i64,
    /// Highest assigned seq; seqs 1..=last_seq all exist in the log.
    pub last_seq: u64,
    pub member_count: u64,
    /// Never empty; ascending `from_seq`; the last one is the current mode.
    pub eras: Vec<Era>,
}

impl SessionRecord {
    pub fn mode(&self) -> Mode {
        self.eras.last().map(|era| era.mode).unwrap_or(Mode::Write)
    }

    /// The mode seq `seq` was stored in.
    pub fn mode_at(&self, seq: u64) -> Mode {
        self.eras.iter().rev().find(|era| era.from_seq <= seq).map(|era| era.mode).unwrap_or(Mode::Write)
    }

    /// Switches the mode for every seq after `last_seq`; false if already in `mode`.
    /// An era that would hold no seq is rewritten in place rather than appended.
    pub fn switch_mode(&mut self, mode: Mode) -> bool {
        if self.mode() == mode {
            return false;
        }
        let from_seq = self.last_seq + 1;
        match self.eras.last_mut() {
            Some(last) if last.from_seq == from_seq => {
                last.mode = mode;
                let n = self.eras.len();
                if n >= 2 && self.eras[n - 2].mode == mode {
                    self.eras.pop();
                }
            }
            _ => self.eras.push(Era { from_seq, mode }),
        }
        true
    }

    /// Inclusive seq ranges within `(after, upto]` stored in `mode`, ascending.
    pub fn era_ranges(&self, mode: Mode, after: u64, upto: u64) -> Vec<(u64, u64)> {
        let mut ranges = Vec::new();
        for (i, era) in self.eras.iter().enumerate() {
            if era.mode != mode {
                continue;
            }
            let end = self.eras.get(i + 1).map(|next| next.from_seq - 1).unwrap_or(u64::MAX);
            let from = era.from_seq.max(after + 1);
            let to = end.min(upto);
            if from <= to {
                ranges.push((from, to));
            }
        }
        ranges
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recalled {
    pub by: String,
    pub ts_ms: i64,
}

/// One message in the shared log. A recalled message keeps its seq and loses its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub seq: u64,
    pub sender: String,
    pub client_msg_id: String,
    pub event_id: String,
    pub ts_ms: i64,
    pub kind: ContentKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recalled: Option<Recalled>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "item", rename_all = "snake_case")]
pub enum InboxItem {
    /// The member's copy of a message.
    Message(LogEntry),
    /// Message `seq` of the session was recalled after this member received it.
    Recall { recalled_seq: u64, by: String },
}

/// One entry of a user's inbox; inbox seqs are dense per user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxEntry {
    pub session_id: String,
    #[serde(flatten)]
    pub item: InboxItem,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn era_ranges_split_by_mode() {
        let record = SessionRecord {
            kind: SessionKind::Group,
            owner: "o".into(),
            settings: SessionSettings::default(),
            created_ts_ms: 0,
            last_seq: 30,
            member_count: 3,
            eras: vec![
                Era { from_seq: 1, mode: Mode::Write },
                Era { from_seq: 11, mode: Mode::Read },
                Era { from_seq: 21, mode: Mode::Write },
            ],
        };
        assert_eq!(record.era_ranges(Mode::Read, 0, 30), vec![(11, 20)]);
        assert_eq!(record.era_ranges(Mode::Write, 5, 25), vec![(6, 10), (21, 25)]);
        assert_eq!(record.era_ranges(Mode::Read, 20, 30), vec![]);
        assert_eq!(record.mode(), Mode::Write);
        assert_eq!(record.mode_at(10), Mode::Write);
        assert_eq!(record.mode_at(11), Mode::Read);
        assert_eq!(record.mode_at(25), Mode::Write);
    }

    #[test]
    fn switch_mode_starts_after_last_seq_and_never_leaves_empty_eras() {
        let mut record = SessionRecord {
            kind: SessionKind::Group,
            owner: "o".into(),
            settings: SessionSettings::default(),
            created_ts_ms: 0,
            last_seq: 4,
            member_count: 3,
            eras: vec![Era { from_seq: 1, mode: Mode::Write }],
        };
        assert!(!record.switch_mode(Mode::Write));
        assert!(record.switch_mode(Mode::Read));
        assert_eq!(record.eras, vec![Era { from_seq: 1, mode: Mode::Write }, Era { from_seq: 5, mode: Mode::Read }]);
        // Switching back before any message in the read era removes the empty era.
        assert!(record.switch_mode(Mode::Write));
        assert_eq!(record.eras, vec![Era { from_seq: 1, mode: Mode::Write }]);
        record.last_seq = 0;
        let mut fresh = record.clone();
        fresh.eras = vec![Era { from_seq: 1, mode: Mode::Write }];
        assert!(fresh.switch_mode(Mode::Read));
        assert_eq!(fresh.eras, vec![Era { from_seq: 1, mode: Mode::Read }]);
    }
}
