//! Keyed state of the relation job and the rules applied to it.
//!
//! The membership rules are the same pure functions fanout-worker applies
//! ([`im_model::membership`]), over the same facts in the same order, so both
//! reach the same verdict on every event without talking to each other.

use std::collections::HashMap;

use im_model::envelope::{DeviceChange, MemberChange, SessionCreated, SettingsChanged};
use im_model::membership::{self, SessionFacts};
use im_model::{keys, Envelope, Event, SessionKind, SessionSettings};
use im_store::{Batch, Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::table::{self, Changes, Pair};

/// Column families of the relation state store.
pub mod cf {
    pub use im_store::cf::META;
    /// `session` -> `Facts`.
    pub const SESSIONS: &str = "sessions";
    /// `session 0 user` -> empty: current members.
    pub const MEMBERS: &str = "members";
    /// `user 0 device` -> empty: current devices.
    pub const DEVICES: &str = "devices";
    /// `scope 0 event_id` -> empty: events already applied.
    pub const DEDUP: &str = "dedup";

    pub const ALL: &[&str] = &[META, SESSIONS, MEMBERS, DEVICES, DEDUP];
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Facts {
    kind: SessionKind,
    owner: String,
    settings: SessionSettings,
}

impl Facts {
    fn view(&self) -> SessionFacts<'_> {
        SessionFacts { kind: self.kind, owner: &self.owner, settings: self.settings }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    Duplicate,
    NoOp,
    /// Not a relation event (messages, recalls): nothing to do.
    Ignored,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("{0}")]
    Rejected(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn reject<T>(reason: impl Into<String>) -> Result<T, ApplyError> {
    Err(ApplyError::Rejected(reason.into()))
}

/// Applies events to the state through an overlay so later events of the same
/// batch see earlier ones; [`Relations::flush`] moves the overlay into the batch.
pub struct Relations<'s> {
    store: &'s Store,
    overlay: HashMap<(&'static str, Vec<u8>), Option<Vec<u8>>>,
    pub changes: Changes,
}

impl<'s> Relations<'s> {
    pub fn new(store: &'s Store) -> Self {
        Self { store, overlay: HashMap::new(), changes: Changes::new() }
    }

    fn get(&self, name: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self.overlay.get(&(name, key.to_vec())) {
            Some(value) => Ok(value.clone()),
            None => self.store.get_raw(name, key),
        }
    }

    fn put(&mut self, name: &'static str, key: Vec<u8>, value: Vec<u8>) {
        self.overlay.insert((name, key), Some(value));
    }

    fn delete(&mut self, name: &'static str, key: Vec<u8>) {
        self.overlay.insert((name, key), None);
    }

    pub fn flush(&mut self, batch: &mut Batch<'_>) {
        for ((name, key), value) in self.overlay.drain() {
            match value {
                Some(value) => batch.put_raw(name, &key, &value),
                None => batch.delete_raw(name, &key),
            }
        }
    }

    /// Forgets everything not yet flushed.
    pub fn discard(&mut self) {
        self.overlay.clear();
        self.changes.clear();
    }

    fn first_time(&mut self, scope: &str, event_id: &str) -> Result<bool, StoreError> {
        let key = keys::id_pair(scope, event_id);
        if self.get(cf::DEDUP, &key)?.is_some() {
            return Ok(false);
        }
        self.put(cf::DEDUP, key, Vec::new());
        Ok(true)
    }

    fn facts(&self, session_id: &str) -> Result<Option<Facts>, ApplyError> {
        match self.get(cf::SESSIONS, session_id.as_bytes())? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| StoreError::Corrupt { cf: cf::SESSIONS, reason: e.to_string() }.into()),
            None => Ok(None),
        }
    }

    fn is_member(&self, session_id: &str, user_id: &str) -> Result<bool, StoreError> {
        Ok(self.get(cf::MEMBERS, &keys::id_pair(session_id, user_id))?.is_some())
    }

    pub fn apply(&mut self, envelope: &Envelope) -> Result<Outcome, ApplyError> {
        let scope = match &envelope.event {
            Event::Message(_) | Event::Recall(_) => return Ok(Outcome::Ignored),
            Event::DeviceAdded(e) | Event::DeviceRemoved(e) => e.user_id.clone(),
            other => other.session_id().expect("session event").to_string(),
        };
        // Check before recording the token: a refused event must leave no trace.
        if self.get(cf::DEDUP, &keys::id_pair(&scope, &envelope.event_id))?.is_some() {
            return Ok(Outcome::Duplicate);
        }
        let outcome = match &envelope.event {
            Event::SessionCreated(e) => self.create(envelope, e)?,
            Event::MemberAdded(e) => self.membership(envelope, e, true)?,
            Event::MemberRemoved(e) => self.membership(envelope, e, false)?,
            Event::SettingsChanged(e) => self.settings(envelope, e)?,
            Event::DeviceAdded(e) => self.device(envelope, e, true)?,
            Event::DeviceRemoved(e) => self.device(envelope, e, false)?,
            Event::Message(_) | Event::Recall(_) => unreachable!("returned above"),
        };
        self.first_time(&scope, &envelope.event_id)?;
        Ok(outcome)
    }

    fn create(&mut self, envelope: &Envelope, e: &SessionCreated) -> Result<Outcome, ApplyError> {
        if self.facts(&e.session_id)?.is_some() {
            return reject(format!("session {} already exists", e.session_id));
        }
        if !e.members.contains(&envelope.actor) {
            return reject("the creator must be one of the members");
        }
        let facts = Facts { kind: e.kind, owner: envelope.actor.clone(), settings: e.settings };
        self.put(cf::SESSIONS, e.session_id.as_bytes().to_vec(), serde_json::to_vec(&facts).expect("facts serialise"));
        for user_id in &e.members {
            self.put(cf::MEMBERS, keys::id_pair(&e.session_id, user_id), Vec::new());
            table::upsert(&mut self.changes, &Pair::Member { session_id: e.session_id.clone(), user_id: user_id.clone() });
        }
        Ok(Outcome::Applied)
    }

    fn membership(&mut self, envelope: &Envelope, e: &MemberChange, join: bool) -> Result<Outcome, ApplyError> {
        let Some(facts) = self.facts(&e.session_id)? else {
            return reject(format!("unknown session {}", e.session_id));
        };
        let allowed = if join {
            let actor_is_member = self.is_member(&e.session_id, &envelope.actor)?;
            membership::may_add(facts.view(), &envelope.actor, actor_is_member, &e.user_id)
        } else {
            membership::may_remove(facts.view(), &envelope.actor, &e.user_id)
        };
        if let Err(reason) = allowed {
            return reject(reason);
        }
        if self.is_member(&e.session_id, &e.user_id)? == join {
            return Ok(Outcome::NoOp);
        }
        let key = keys::id_pair(&e.session_id, &e.user_id);
        let pair = Pair::Member { session_id: e.session_id.clone(), user_id: e.user_id.clone() };
        if join {
            self.put(cf::MEMBERS, key, Vec::new());
            table::upsert(&mut self.changes, &pair);
        } else {
            self.delete(cf::MEMBERS, key);
            table::remove(&mut self.changes, &pair);
        }
        Ok(Outcome::Applied)
    }

    fn settings(&mut self, envelope: &Envelope, e: &SettingsChanged) -> Result<Outcome, ApplyError> {
        let Some(mut facts) = self.facts(&e.session_id)? else {
            return reject(format!("unknown session {}", e.session_id));
        };
        if let Err(reason) = membership::may_change_settings(facts.view(), &envelope.actor) {
            return reject(reason);
        }
        facts.settings = e.settings;
        self.put(cf::SESSIONS, e.session_id.as_bytes().to_vec(), serde_json::to_vec(&facts).expect("facts serialise"));
        Ok(Outcome::Applied)
    }

    fn device(&mut self, envelope: &Envelope, e: &DeviceChange, add: bool) -> Result<Outcome, ApplyError> {
        if envelope.actor != e.user_id {
            return reject(format!("{} may not change devices of {}", envelope.actor, e.user_id));
        }
        let key = keys::id_pair(&e.user_id, &e.device_id);
        if self.get(cf::DEVICES, &key)?.is_some() == add {
            return Ok(Outcome::NoOp);
        }
        let pair = Pair::Device { user_id: e.user_id.clone(), device_id: e.device_id.clone() };
        if add {
            self.put(cf::DEVICES, key, Vec::new());
            table::upsert(&mut self.changes, &pair);
        } else {
            self.delete(cf::DEVICES, key);
            table::remove(&mut self.changes, &pair);
        }
        Ok(Outcome::Applied)
    }
}
