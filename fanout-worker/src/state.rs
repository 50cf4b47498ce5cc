//! In-memory state of the sessions this worker owns, loaded from the store on first
//! touch. The worker is the store's only writer, so its cache is authoritative
//! until its partition assignment changes; then the cache is dropped and reloaded.

use std::collections::{HashMap, HashSet};

use im_model::membership::{Periods, SessionFacts};
use im_store::{SessionRecord, Store, StoreError};

pub struct SessionState {
    pub record: SessionRecord,
    /// Everyone who is or was a member, with their periods.
    pub members: HashMap<String, Periods>,
    /// Members whose periods changed in the current batch.
    pub dirty_members: HashSet<String>,
    /// The record changed in the current batch.
    pub dirty: bool,
}

impl SessionState {
    pub fn new(record: SessionRecord) -> Self {
        Self { record, members: HashMap::new(), dirty_members: HashSet::new(), dirty: true }
    }

    pub fn load(store: &Store, session_id: &str) -> Result<Option<Self>, StoreError> {
        let Some(record) = store.session(session_id)? else {
            return Ok(None);
        };
        let members = store.members(session_id)?.into_iter().collect();
        Ok(Some(Self { record, members, dirty_members: HashSet::new(), dirty: false }))
    }

    pub fn facts(&self) -> SessionFacts<'_> {
        SessionFacts { kind: self.record.kind, owner: &self.record.owner, settings: self.record.settings }
    }

    pub fn is_member(&self, user_id: &str) -> bool {
        self.members.get(user_id).is_some_and(Periods::is_member)
    }

    /// Current members, in no particular order.
    pub fn current_members(&self) -> impl Iterator<Item = &str> {
        self.members.iter().filter(|(_, periods)| periods.is_member()).map(|(user, _)| user.as_str())
    }

    /// Users who could see `seq` (its recipients, whether or not still members).
    pub fn recipients_of(&self, seq: u64) -> impl Iterator<Item = &str> {
        self.members.iter().filter(move |(_, periods)| periods.contains(seq)).map(|(user, _)| user.as_str())
    }
}
