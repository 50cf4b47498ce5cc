//! A typed `WriteBatch`: the one place that pairs each record with its column
//! family and key encoding.

use im_model::{keys, membership::Periods};
use rocksdb::WriteBatch;
use serde::Serialize;

use crate::db::cf;
use crate::records::{InboxEntry, LogEntry, SessionRecord};
use crate::Store;

pub struct Batch<'a> {
    store: &'a Store,
    inner: WriteBatch,
}

fn json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records are always serialisable")
}

impl<'a> Batch<'a> {
    pub fn new(store: &'a Store) -> Self {
        Self { store, inner: WriteBatch::default() }
    }

    pub fn len(&self) -> usize {
        self.inner.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    pub(crate) fn into_inner(self) -> WriteBatch {
        self.inner
    }

    fn put(&mut self, name: &str, key: &[u8], value: &[u8]) {
        self.inner.put_cf(self.store.handle(name), key, value);
    }

    /// Raw put for stores other than the message store (e.g. relation state).
    pub fn put_raw(&mut self, name: &str, key: &[u8], value: &[u8]) {
        self.put(name, key, value);
    }

    pub fn delete_raw(&mut self, name: &str, key: &[u8]) {
        self.inner.delete_cf(self.store.handle(name), key);
    }

    /// Records that everything before `next_offset` of the partition is applied.
    pub fn put_offset(&mut self, topic: &str, partition: i32, next_offset: i64) {
        self.put(cf::META, &keys::offset(topic, partition), &next_offset.to_be_bytes());
    }

    pub fn put_session(&mut self, session_id: &str, record: &SessionRecord) {
        self.put(cf::SESSIONS, session_id.as_bytes(), &json(record));
    }

    /// Writes both membership indexes of one (session, user) pair.
    pub fn put_periods(&mut self, session_id: &str, user_id: &str, periods: &Periods) {
        let value = json(periods);
        self.put(cf::MEMBERS, &keys::id_pair(session_id, user_id), &value);
        self.put(cf::USER_SESSIONS, &keys::id_pair(user_id, session_id), &value);
    }

    pub fn put_log(&mut self, session_id: &str, entry: &LogEntry) {
        self.put(cf::LOG, &keys::id_seq(session_id, entry.seq), &json(entry));
    }

    pub fn put_inbox(&mut self, user_id: &str, inbox_seq: u64, entry: &InboxEntry) {
        self.put(cf::INBOX, &keys::id_seq(user_id, inbox_seq), &json(entry));
    }

    pub fn put_inbox_head(&mut self, user_id: &str, inbox_seq: u64) {
        self.put(cf::INBOX_HEAD, user_id.as_bytes(), &inbox_seq.to_be_bytes());
    }

    pub fn put_dedup(&mut self, session_id: &str, token: &str, seq: u64) {
        self.put(cf::DEDUP, &keys::id_pair(session_id, token), &seq.to_be_bytes());
    }
}
