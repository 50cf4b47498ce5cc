//! Sync and history over the message store: plain blocking functions, tested on a
//! temporary store, called from handlers on `spawn_blocking`.
//!
//! Sync delivers write-era seqs from the user's inbox and read-era seqs from the
//! session logs (see `im_store::Era`), each box strictly in order from its cursor
//! position, so a page never skips or repeats an item, also across a mode switch.

use std::collections::BTreeMap;

use im_model::Mode;
use im_model::membership::Periods;
use im_store::{InboxEntry, InboxItem, SessionRecord, Store, StoreError};
use serde::Serialize;

use crate::cursor::SyncCursor;
use crate::view::{Item, Source};

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("cursor expired: it was issued by an earlier incarnation of the store; sync again from zero (no cursor)")]
    CursorExpired,
    #[error("not a member of session {0}")]
    NotMember(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Debug, Serialize)]
pub struct SyncPage {
    pub items: Vec<Item>,
    /// Pass back to continue exactly after the last item.
    pub cursor: String,
    /// True when the page was cut at the limit; more may be waiting.
    pub has_more: bool,
}

/// Intersection of two ascending lists of inclusive ranges.
fn intersect(a: &[(u64, u64)], b: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for &(a_from, a_to) in a {
        for &(b_from, b_to) in b {
            let (from, to) = (a_from.max(b_from), a_to.min(b_to));
            if from <= to {
                out.push((from, to));
            }
        }
    }
    out.sort_unstable();
    out
}

/// What sync knows about one of the user's sessions.
struct SessionView {
    periods: Periods,
    record: SessionRecord,
    /// `last_seq` as read *before* the inbox scan: every write-era seq up to it is
    /// already in the inbox the scan sees, so log items up to it may follow the
    /// inbox without overtaking an undelivered write-era seq.
    log_bound: u64,
}

impl SessionView {
    fn has_read_era(&self) -> bool {
        self.record.eras.iter().any(|era| era.mode == Mode::Read)
    }

    /// Visible read-era seq ranges within `(after, upto]`.
    fn read_ranges(&self, after: u64, upto: u64) -> Vec<(u64, u64)> {
        let eras = self.record.era_ranges(Mode::Read, after, upto);
        if eras.is_empty() {
            return eras;
        }
        intersect(&eras, &self.periods.ranges(after, upto).collect::<Vec<_>>())
    }
}

/// Items for `user_id` after `cursor` (None = from zero), at most `limit`.
///
/// Within a session items come in seq order, also across mode switches: before an
/// inbox item of a session that had a read era, the read-era items preceding it are
/// taken from the log.
pub fn sync(store: &Store, user_id: &str, cursor: Option<SyncCursor>, limit: usize) -> Result<SyncPage, QueryError> {
    let mut cursor = cursor.unwrap_or_else(|| SyncCursor::start(store.epoch()));
    if cursor.epoch != store.epoch() {
        return Err(QueryError::CursorExpired);
    }
    let mut sessions = BTreeMap::new();
    for (session_id, periods) in store.user_sessions(user_id)? {
        if let Some(record) = store.session(&session_id)? {
            let log_bound = record.last_seq;
            sessions.insert(session_id, SessionView { periods, record, log_bound });
        }
    }
    let mut page = Page { items: Vec::with_capacity(limit.min(1024)), budget: limit };

    // Write-diffusion box: one scan of the user's inbox.
    let inbox = store.inbox_after(user_id, cursor.inbox, limit + 1)?;
    let inbox_has_more = inbox.len() > limit;
    for (inbox_seq, entry) in inbox.into_iter().take(limit) {
        if let InboxItem::Message(message) = &entry.item {
            let view = fresh_view(store, user_id, &entry.session_id, message.seq, &mut sessions)?;
            if let Some(view) = view.filter(|v| v.has_read_era()) {
                let after = cursor.logs.get(&entry.session_id).copied().unwrap_or(0);
                let ranges = view.read_ranges(after, message.seq - 1);
                if !page.take_log(store, &entry.session_id, &ranges, &mut cursor.logs)? {
                    return Ok(page.finish(&cursor, true));
                }
                let position = cursor.logs.entry(entry.session_id.clone()).or_default();
                *position = (*position).max(message.seq - 1);
            }
        }
        if page.budget == 0 {
            return Ok(page.finish(&cursor, true));
        }
        page.push_inbox(store, entry)?;
        cursor.inbox = inbox_seq;
    }
    if inbox_has_more {
        return Ok(page.finish(&cursor, true));
    }

    // Read-diffusion boxes: what remains in the shared logs of read-era sessions.
    for (session_id, view) in &sessions {
        if !view.has_read_era() {
            continue;
        }
        let after = cursor.logs.get(session_id).copied().unwrap_or(0);
        if after >= view.log_bound {
            continue;
        }
        if !page.take_log(store, session_id, &view.read_ranges(after, view.log_bound), &mut cursor.logs)? {
            return Ok(page.finish(&cursor, true));
        }
        cursor.logs.insert(session_id.clone(), view.log_bound);
    }
    Ok(page.finish(&cursor, false))
}

/// The view of a session, re-read when an inbox item is newer than what was
/// loaded before the scan (eras and periods of past seqs never change, so a newer
/// read only adds knowledge).
fn fresh_view<'a>(
    store: &Store,
    user_id: &str,
    session_id: &str,
    seq: u64,
    sessions: &'a mut BTreeMap<String, SessionView>,
) -> Result<Option<&'a SessionView>, StoreError> {
    let stale = sessions.get(session_id).is_none_or(|view| view.record.last_seq < seq);
    if stale {
        let (Some(record), Some(periods)) = (store.session(session_id)?, store.periods(user_id, session_id)?) else {
            return Ok(sessions.get(session_id));
        };
        let log_bound = sessions.get(session_id).map(|view| view.log_bound).unwrap_or(0);
        sessions.insert(session_id.to_string(), SessionView { periods, record, log_bound });
    }
    Ok(sessions.get(session_id))
}

struct Page {
    items: Vec<Item>,
    budget: usize,
}

impl Page {
    /// Appends log entries of `ranges`; false if the budget ran out first (the
    /// cursor then points at the last entry taken).
    fn take_log(
        &mut self,
        store: &Store,
        session_id: &str,
        ranges: &[(u64, u64)],
        positions: &mut BTreeMap<String, u64>,
    ) -> Result<bool, StoreError> {
        for &(from, to) in ranges {
            if self.budget == 0 {
                return Ok(false);
            }
            let entries = store.log_range(session_id, from, to, self.budget)?;
            let complete = entries.last().is_none_or(|last| last.seq >= to) || entries.len() < self.budget;
            self.budget -= entries.len();
            if let Some(last) = entries.last() {
                positions.insert(session_id.to_string(), last.seq);
            }
            self.items.extend(entries.into_iter().map(|entry| Item::message(session_id, entry, Source::Log)));
            if !complete {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Appends one inbox entry; a message recalled since it was copied shows as
    /// recalled (the log is the source of truth for a message's state).
    fn push_inbox(&mut self, store: &Store, mut entry: InboxEntry) -> Result<(), StoreError> {
        if let InboxItem::Message(copy) = &mut entry.item {
            if let Some(latest) = store.log_entry(&entry.session_id, copy.seq)? {
                if latest.recalled.is_some() {
                    copy.text = None;
                    copy.recalled = latest.recalled;
                }
            }
        }
        self.items.push(Item::from_inbox(entry));
        self.budget -= 1;
        Ok(())
    }

    fn finish(self, cursor: &SyncCursor, has_more: bool) -> SyncPage {
        SyncPage { items: self.items, cursor: cursor.encode(), has_more }
    }
}

#[derive(Debug, Serialize)]
pub struct HistoryPage {
    /// Newest first.
    pub items: Vec<Item>,
    /// Pass as `before` for the next (older) page; absent at the beginning.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<u64>,
    pub has_more: bool,
}

/// Messages of `session_id` visible to `user_id` with seq < `before`, newest first.
pub fn history(store: &Store, user_id: &str, session_id: &str, before: Option<u64>, limit: usize) -> Result<HistoryPage, QueryError> {
    let periods = store.periods(user_id, session_id)?.ok_or_else(|| QueryError::NotMember(session_id.to_string()))?;
    let last_seq = store.session(session_id)?.map(|record| record.last_seq).unwrap_or(0);
    let top = before.map(|b| b.saturating_sub(1)).unwrap_or(last_seq).min(last_seq);
    let mut ranges: Vec<(u64, u64)> = periods.ranges(0, top).collect();
    ranges.reverse();
    let mut items = Vec::new();
    let mut has_more = false;
    for (from, to) in ranges {
        if items.len() == limit {
            has_more = true;
            break;
        }
        let entries = store.log_range_rev(session_id, from, to, limit - items.len())?;
        let cut = entries.len() == limit - items.len() && entries.last().is_some_and(|e| e.seq > from);
        items.extend(entries.into_iter().map(|entry| Item::message(session_id, entry, Source::Log)));
        if cut {
            has_more = true;
            break;
        }
    }
    let next_before = if has_more {
        items.last().map(|item| match item {
            Item::Message { seq, .. } | Item::Recall { seq, .. } => *seq,
        })
    } else {
        None
    };
    Ok(HistoryPage { items, next_before, has_more })
}

#[cfg(test)]
mod tests;
