//! Event semantics. [`Applier::apply`] turns one parsed envelope into store writes
//! (added to the caller's batch) or refuses it with a reason for the dead-letter
//! topic. Every check runs before the first mutation, so a refused event leaves no
//! trace. Effects are idempotent: each applied event leaves a dedup token (messages
//! by sender and client message id, everything else by event id).

use std::collections::{HashMap, HashSet};

use im_model::envelope::{MemberChange, MessageSent, Recall, SessionCreated, SettingsChanged};
use im_model::membership::{self, Periods};
use im_model::{Envelope, Event, Mode, ModePolicy};
use im_store::{Batch, Era, InboxEntry, InboxItem, LogEntry, Recalled, SessionRecord, Store, StoreError};

use crate::state::SessionState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// Seen before: redelivery or a client retry.
    Duplicate,
    /// Valid but changes nothing (joining twice, recalling a recalled message).
    NoOp,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The event is refused; the reason goes to the dead-letter topic.
    #[error("{0}")]
    Rejected(String),
    /// The store failed; the worker must stop without committing.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn reject<T>(reason: impl Into<String>) -> Result<T, ApplyError> {
    Err(ApplyError::Rejected(reason.into()))
}

/// Counts of what the applied events wrote, for metrics and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Effects {
    pub log_entries: u64,
    pub inbox_entries: u64,
    pub mode_switches: u64,
}

pub struct Applier<'s> {
    store: &'s Store,
    policy: ModePolicy,
    /// `None` caches "no such session".
    sessions: HashMap<String, Option<SessionState>>,
    /// Sessions accessed in the current batch; only they can need flushing.
    touched: HashSet<String>,
    inbox_heads: HashMap<String, u64>,
    dirty_heads: HashSet<String>,
    /// Writes of the current batch that reads must see before it is committed.
    pending_tokens: HashMap<(String, String), u64>,
    pending_log: HashMap<(String, u64), LogEntry>,
    pub effects: Effects,
}

impl<'s> Applier<'s> {
    pub fn new(store: &'s Store, policy: ModePolicy) -> Self {
        Self {
            store,
            policy,
            sessions: HashMap::new(),
            touched: HashSet::new(),
            inbox_heads: HashMap::new(),
            dirty_heads: HashSet::new(),
            pending_tokens: HashMap::new(),
            pending_log: HashMap::new(),
            effects: Effects::default(),
        }
    }

    /// Forgets every cached state (after an assignment change or a failed batch).
    pub fn clear_cache(&mut self) {
        self.sessions.clear();
        self.touched.clear();
        self.inbox_heads.clear();
        self.dirty_heads.clear();
        self.pending_tokens.clear();
        self.pending_log.clear();
    }

    pub fn apply(&mut self, batch: &mut Batch<'_>, envelope: &Envelope) -> Result<Outcome, ApplyError> {
        match &envelope.event {
            Event::SessionCreated(e) => self.create(envelope, e),
            Event::MemberAdded(e) => self.add_member(envelope, e),
            Event::MemberRemoved(e) => self.remove_member(envelope, e),
            Event::SettingsChanged(e) => self.change_settings(envelope, e),
            Event::Message(e) => self.message(batch, envelope, e),
            Event::Recall(e) => self.recall(batch, envelope, e),
            Event::DeviceAdded(_) | Event::DeviceRemoved(_) => {
                reject(format!("{} belongs on the relation topic", envelope.event.type_name()))
            }
        }
    }

    /// Adds the batch's changed sessions, memberships and inbox heads to `batch`.
    /// Call once per batch, after the last `apply`.
    pub fn flush(&mut self, batch: &mut Batch<'_>) {
        for session_id in self.touched.drain() {
            let Some(Some(state)) = self.sessions.get_mut(&session_id) else { continue };
            if state.dirty {
                batch.put_session(&session_id, &state.record);
                state.dirty = false;
            }
            for user_id in state.dirty_members.drain() {
                batch.put_periods(&session_id, &user_id, &state.members[&user_id]);
            }
        }
        for user_id in self.dirty_heads.drain() {
            batch.put_inbox_head(&user_id, self.inbox_heads[&user_id]);
        }
        for ((session_id, token), seq) in self.pending_tokens.drain() {
            batch.put_dedup(&session_id, &token, seq);
        }
        self.pending_log.clear();
    }

    fn seen(&self, session_id: &str, token: &str) -> Result<bool, StoreError> {
        if self.pending_tokens.contains_key(&(session_id.to_string(), token.to_string())) {
            return Ok(true);
        }
        Ok(self.store.dedup(session_id, token)?.is_some())
    }

    fn remember(&mut self, session_id: &str, token: String, seq: u64) {
        self.pending_tokens.insert((session_id.to_string(), token), seq);
    }

    fn session(&mut self, session_id: &str) -> Result<Option<&mut SessionState>, StoreError> {
        if !self.touched.contains(session_id) {
            self.touched.insert(session_id.to_string());
        }
        if !self.sessions.contains_key(session_id) {
            let loaded = SessionState::load(self.store, session_id)?;
            self.sessions.insert(session_id.to_string(), loaded);
        }
        Ok(self.sessions.get_mut(session_id).and_then(Option::as_mut))
    }

    fn existing(&mut self, session_id: &str) -> Result<&mut SessionState, ApplyError> {
        match self.session(session_id)? {
            Some(state) => Ok(state),
            None => reject(format!("unknown session {session_id}")),
        }
    }

    fn next_inbox_seq(&mut self, user_id: &str) -> Result<u64, StoreError> {
        let head = match self.inbox_heads.get(user_id) {
            Some(head) => *head,
            None => self.store.inbox_head(user_id)?,
        };
        self.inbox_heads.insert(user_id.to_string(), head + 1);
        self.dirty_heads.insert(user_id.to_string());
        Ok(head + 1)
    }

    fn append_to_inboxes(&mut self, batch: &mut Batch<'_>, recipients: Vec<String>, entry: &InboxEntry) -> Result<(), StoreError> {
        for user_id in recipients {
            let inbox_seq = self.next_inbox_seq(&user_id)?;
            batch.put_inbox(&user_id, inbox_seq, entry);
            self.effects.inbox_entries += 1;
        }
        Ok(())
    }

    fn create(&mut self, envelope: &Envelope, e: &SessionCreated) -> Result<Outcome, ApplyError> {
        let token = format!("e:{}", envelope.event_id);
        if self.seen(&e.session_id, &token)? {
            return Ok(Outcome::Duplicate);
        }
        if self.session(&e.session_id)?.is_some() {
            return reject(format!("session {} already exists", e.session_id));
        }
        if !e.members.contains(&envelope.actor) {
            return reject("the creator must be one of the members");
        }
        let record = SessionRecord {
            kind: e.kind,
            owner: envelope.actor.clone(),
            settings: e.settings,
            created_ts_ms: envelope.ts_ms,
            last_seq: 0,
            member_count: e.members.len() as u64,
            eras: vec![Era { from_seq: 1, mode: self.policy.initial(e.members.len()) }],
        };
        let mut state = SessionState::new(record);
        for user_id in &e.members {
            let mut periods = Periods::default();
            periods.join(0, e.settings.history_visible);
            state.members.insert(user_id.clone(), periods);
            state.dirty_members.insert(user_id.clone());
        }
        self.sessions.insert(e.session_id.clone(), Some(state));
        self.touched.insert(e.session_id.clone());
        self.remember(&e.session_id, token, 0);
        Ok(Outcome::Applied)
    }

    fn add_member(&mut self, envelope: &Envelope, e: &MemberChange) -> Result<Outcome, ApplyError> {
        self.change_membership(envelope, e, true)
    }

    fn remove_member(&mut self, envelope: &Envelope, e: &MemberChange) -> Result<Outcome, ApplyError> {
        self.change_membership(envelope, e, false)
    }

    fn change_membership(&mut self, envelope: &Envelope, e: &MemberChange, join: bool) -> Result<Outcome, ApplyError> {
        let token = format!("e:{}", envelope.event_id);
        if self.seen(&e.session_id, &token)? {
            return Ok(Outcome::Duplicate);
        }
        let policy = self.policy;
        let state = self.existing(&e.session_id)?;
        let allowed = if join {
            membership::may_add(state.facts(), &envelope.actor, state.is_member(&envelope.actor), &e.user_id)
        } else {
            membership::may_remove(state.facts(), &envelope.actor, &e.user_id)
        };
        if let Err(reason) = allowed {
            return reject(reason);
        }
        let (last_seq, history_visible) = (state.record.last_seq, state.record.settings.history_visible);
        let periods = state.members.entry(e.user_id.clone()).or_default();
        let changed = if join { periods.join(last_seq, history_visible) } else { periods.leave(last_seq) };
        let mut switched = false;
        if changed {
            state.dirty_members.insert(e.user_id.clone());
            state.record.member_count = if join { state.record.member_count + 1 } else { state.record.member_count - 1 };
            let next = policy.next(state.record.mode(), state.record.member_count as usize);
            switched = state.record.switch_mode(next);
            state.dirty = true;
        }
        if switched {
            self.effects.mode_switches += 1;
        }
        self.remember(&e.session_id, token, 0);
        Ok(if changed { Outcome::Applied } else { Outcome::NoOp })
    }

    fn change_settings(&mut self, envelope: &Envelope, e: &SettingsChanged) -> Result<Outcome, ApplyError> {
        let token = format!("e:{}", envelope.event_id);
        if self.seen(&e.session_id, &token)? {
            return Ok(Outcome::Duplicate);
        }
        let state = self.existing(&e.session_id)?;
        if let Err(reason) = membership::may_change_settings(state.facts(), &envelope.actor) {
            return reject(reason);
        }
        state.record.settings = e.settings;
        state.dirty = true;
        self.remember(&e.session_id, token, 0);
        Ok(Outcome::Applied)
    }

    fn message(&mut self, batch: &mut Batch<'_>, envelope: &Envelope, e: &MessageSent) -> Result<Outcome, ApplyError> {
        let token = format!("m:{}:{}", envelope.actor, e.client_msg_id);
        if self.seen(&e.session_id, &token)? {
            return Ok(Outcome::Duplicate);
        }
        let state = self.existing(&e.session_id)?;
        if !state.is_member(&envelope.actor) {
            return reject(format!("sender {} is not a member of {}", envelope.actor, e.session_id));
        }
        let seq = state.record.last_seq + 1;
        state.record.last_seq = seq;
        state.dirty = true;
        let recipients: Vec<String> = match state.record.mode() {
            Mode::Write => state.current_members().map(str::to_string).collect(),
            Mode::Read => Vec::new(),
        };
        let entry = LogEntry {
            seq,
            sender: envelope.actor.clone(),
            client_msg_id: e.client_msg_id.clone(),
            event_id: envelope.event_id.clone(),
            ts_ms: envelope.ts_ms,
            kind: e.kind,
            text: Some(e.text.clone()),
            recalled: None,
        };
        batch.put_log(&e.session_id, &entry);
        self.effects.log_entries += 1;
        let copy = InboxEntry { session_id: e.session_id.clone(), item: InboxItem::Message(entry.clone()) };
        self.append_to_inboxes(batch, recipients, &copy)?;
        self.pending_log.insert((e.session_id.clone(), seq), entry);
        self.remember(&e.session_id, token, seq);
        Ok(Outcome::Applied)
    }

    fn recall(&mut self, batch: &mut Batch<'_>, envelope: &Envelope, e: &Recall) -> Result<Outcome, ApplyError> {
        let token = format!("e:{}", envelope.event_id);
        if self.seen(&e.session_id, &token)? {
            return Ok(Outcome::Duplicate);
        }
        let pending = self.pending_log.get(&(e.session_id.clone(), e.seq)).cloned();
        let store = self.store;
        let state = self.existing(&e.session_id)?;
        if e.seq > state.record.last_seq {
            return reject(format!("no message with seq {} in {}", e.seq, e.session_id));
        }
        let Some(mut entry) = pending.map(Ok).or_else(|| store.log_entry(&e.session_id, e.seq).transpose()).transpose()? else {
            return Err(StoreError::Corrupt { cf: im_store::cf::LOG, reason: format!("seq {} missing", e.seq) }.into());
        };
        if entry.recalled.is_some() {
            self.remember(&e.session_id, token, e.seq);
            return Ok(Outcome::NoOp);
        }
        if let Err(reason) = membership::may_recall(state.facts(), &envelope.actor, &entry.sender) {
            return reject(reason);
        }
        let recipients: Vec<String> = match state.record.mode_at(e.seq) {
            Mode::Write => state.recipients_of(e.seq).map(str::to_string).collect(),
            Mode::Read => Vec::new(),
        };
        entry.text = None;
        entry.recalled = Some(Recalled { by: envelope.actor.clone(), ts_ms: envelope.ts_ms });
        batch.put_log(&e.session_id, &entry);
        let notice = InboxEntry {
            session_id: e.session_id.clone(),
            item: InboxItem::Recall { recalled_seq: e.seq, by: envelope.actor.clone() },
        };
        self.append_to_inboxes(batch, recipients, &notice)?;
        self.pending_log.insert((e.session_id.clone(), e.seq), entry);
        self.remember(&e.session_id, token, e.seq);
        Ok(Outcome::Applied)
    }
}

#[cfg(test)]
mod tests;
