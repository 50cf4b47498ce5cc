//! Queries over the message store. All are plain blocking RocksDB reads; async
//! callers run them on `spawn_blocking`.

use im_model::{keys, membership::Periods};
use serde::de::DeserializeOwned;

use crate::db::cf;
use crate::records::{InboxEntry, LogEntry, SessionRecord};
use crate::{Store, StoreError};

fn decode<T: DeserializeOwned>(name: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt { cf: name, reason: e.to_string() })
}

fn decode_u64(name: &'static str, bytes: &[u8]) -> Result<u64, StoreError> {
    bytes
        .try_into()
        .map(u64::from_be_bytes)
        .map_err(|_| StoreError::Corrupt { cf: name, reason: "expected 8 bytes".into() })
}

impl Store {
    fn get_json<T: DeserializeOwned>(&self, name: &'static str, key: &[u8]) -> Result<Option<T>, StoreError> {
        match self.db.get_pinned_cf(self.handle(name), key)? {
            Some(bytes) => decode(name, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Visits `(key, value)` pairs starting at `start` while keys keep `prefix`
    /// and `visit` returns true.
    fn scan(
        &self,
        name: &'static str,
        prefix: &[u8],
        start: &[u8],
        mut visit: impl FnMut(&[u8], &[u8]) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let iter = self.db.iterator_cf(self.handle(name), rocksdb::IteratorMode::From(start, rocksdb::Direction::Forward));
        for item in iter {
            let (key, value) = item?;
            if !key.starts_with(prefix) || !visit(&key, &value)? {
                break;
            }
        }
        Ok(())
    }

    pub fn session(&self, session_id: &str) -> Result<Option<SessionRecord>, StoreError> {
        self.get_json(cf::SESSIONS, session_id.as_bytes())
    }

    /// A user's membership periods in one session, if they ever were a member.
    pub fn periods(&self, user_id: &str, session_id: &str) -> Result<Option<Periods>, StoreError> {
        self.get_json(cf::USER_SESSIONS, &keys::id_pair(user_id, session_id))
    }

    /// Every session the user is or was a member of, with their periods.
    pub fn user_sessions(&self, user_id: &str) -> Result<Vec<(String, Periods)>, StoreError> {
        self.pairs(cf::USER_SESSIONS, user_id)
    }

    /// Every user who is or was a member of the session, with their periods.
    pub fn members(&self, session_id: &str) -> Result<Vec<(String, Periods)>, StoreError> {
        self.pairs(cf::MEMBERS, session_id)
    }

    fn pairs(&self, name: &'static str, id: &str) -> Result<Vec<(String, Periods)>, StoreError> {
        let prefix = keys::prefix(id);
        let mut out = Vec::new();
        self.scan(name, &prefix, &prefix, |key, value| {
            let (_, other) = keys::decode_id_pair(key).ok_or(StoreError::Corrupt { cf: name, reason: "key".into() })?;
            out.push((other.to_string(), decode(name, value)?));
            Ok(true)
        })?;
        Ok(out)
    }

    pub fn log_entry(&self, session_id: &str, seq: u64) -> Result<Option<LogEntry>, StoreError> {
        self.get_json(cf::LOG, &keys::id_seq(session_id, seq))
    }

    /// Log entries with seq in `from..=to`, ascending, at most `limit`.
    pub fn log_range(&self, session_id: &str, from: u64, to: u64, limit: usize) -> Result<Vec<LogEntry>, StoreError> {
        let mut out = Vec::new();
        if limit == 0 || from > to {
            return Ok(out);
        }
        let prefix = keys::prefix(session_id);
        self.scan(cf::LOG, &prefix, &keys::id_seq(session_id, from), |_, value| {
            let entry: LogEntry = decode(cf::LOG, value)?;
            if entry.seq > to {
                return Ok(false);
            }
            out.push(entry);
            Ok(out.len() < limit)
        })?;
        Ok(out)
    }

    /// Log entries with seq in `from..=to`, descending, at most `limit`.
    pub fn log_range_rev(&self, session_id: &str, from: u64, to: u64, limit: usize) -> Result<Vec<LogEntry>, StoreError> {
        let mut out = Vec::new();
        if limit == 0 || from > to {
            return Ok(out);
        }
        let prefix = keys::prefix(session_id);
        let start = keys::id_seq(session_id, to);
        let iter = self.db.iterator_cf(self.handle(cf::LOG), rocksdb::IteratorMode::From(&start, rocksdb::Direction::Reverse));
        for item in iter {
            let (key, value) = item?;
            if !key.starts_with(&prefix) {
                break;
            }
            let entry: LogEntry = decode(cf::LOG, &value)?;
            if entry.seq < from {
                break;
            }
            out.push(entry);
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// Inbox entries after `after`, ascending, at most `limit`, with their inbox seq.
    pub fn inbox_after(&self, user_id: &str, after: u64, limit: usize) -> Result<Vec<(u64, InboxEntry)>, StoreError> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        let prefix = keys::prefix(user_id);
        self.scan(cf::INBOX, &prefix, &keys::id_seq(user_id, after.saturating_add(1)), |key, value| {
            let (_, inbox_seq) = keys::decode_id_seq(key).ok_or(StoreError::Corrupt { cf: cf::INBOX, reason: "key".into() })?;
            out.push((inbox_seq, decode(cf::INBOX, value)?));
            Ok(out.len() < limit)
        })?;
        Ok(out)
    }

    /// Last inbox seq of the user (0 when the inbox is empty).
    pub fn inbox_head(&self, user_id: &str) -> Result<u64, StoreError> {
        match self.db.get_pinned_cf(self.handle(cf::INBOX_HEAD), user_id.as_bytes())? {
            Some(bytes) => decode_u64(cf::INBOX_HEAD, &bytes),
            None => Ok(0),
        }
    }

    /// The seq an effect was applied at, if it was.
    pub fn dedup(&self, session_id: &str, token: &str) -> Result<Option<u64>, StoreError> {
        match self.db.get_pinned_cf(self.handle(cf::DEDUP), keys::id_pair(session_id, token))? {
            Some(bytes) => decode_u64(cf::DEDUP, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Raw point read for stores other than the message store.
    pub fn get_raw(&self, name: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.db.get_cf(self.handle(name), key)?)
    }

    /// Raw full scan of a column family, for rebuilding caches at start-up.
    pub fn scan_all(&self, name: &'static str, mut visit: impl FnMut(&[u8], &[u8])) -> Result<(), StoreError> {
        for item in self.db.iterator_cf(self.handle(name), rocksdb::IteratorMode::Start) {
            let (key, value) = item?;
            visit(&key, &value);
        }
        Ok(())
    }
}
