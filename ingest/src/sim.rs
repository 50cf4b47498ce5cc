//! Test oracle: applies envelopes in order with the session rules of
//! `im_model::membership`, as the fanout-worker does, and reports the first event
//! it would refuse. Used to check that replay and generator output is accepted
//! whole, without Kafka or a store.

use std::collections::{HashMap, HashSet};

use im_model::membership::{self, SessionFacts};
use im_model::{Envelope, Event, SessionKind, SessionSettings};

#[derive(Debug)]
pub struct SimSession {
    pub kind: SessionKind,
    pub owner: String,
    pub settings: SessionSettings,
    pub members: HashSet<String>,
    /// Sender of each seq (index = seq - 1).
    pub senders: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Sim {
    pub sessions: HashMap<String, SimSession>,
    pub event_ids: HashSet<String>,
    pub message_tokens: HashSet<(String, String, String)>,
}

impl Sim {
    pub fn apply_all(envelopes: &[Envelope]) -> Result<Sim, String> {
        let mut sim = Sim::default();
        for (index, envelope) in envelopes.iter().enumerate() {
            sim.apply(envelope).map_err(|reason| format!("event {index} ({}): {reason}", envelope.event_id))?;
        }
        Ok(sim)
    }

    pub fn apply(&mut self, envelope: &Envelope) -> Result<(), String> {
        envelope.validate().map_err(|e| e.to_string())?;
        if !self.event_ids.insert(envelope.event_id.clone()) {
            return Err("duplicate event id".into());
        }
        let actor = envelope.actor.as_str();
        match &envelope.event {
            Event::SessionCreated(e) => {
                if self.sessions.contains_key(&e.session_id) {
                    return Err(format!("session {} already exists", e.session_id));
                }
                if !e.members.iter().any(|m| m == actor) {
                    return Err("the creator must be one of the members".into());
                }
                let session = SimSession {
                    kind: e.kind,
                    owner: actor.to_string(),
                    settings: e.settings,
                    members: e.members.iter().cloned().collect(),
                    senders: Vec::new(),
                };
                self.sessions.insert(e.session_id.clone(), session);
            }
            Event::MemberAdded(e) => {
                let session = self.session(&e.session_id)?;
                let actor_is_member = session.members.contains(actor);
                membership::may_add(facts(session), actor, actor_is_member, &e.user_id)?;
                if !session.members.insert(e.user_id.clone()) {
                    return Err(format!("{} is already a member (a no-op the producer should not emit)", e.user_id));
                }
            }
            Event::MemberRemoved(e) => {
                let session = self.session(&e.session_id)?;
                membership::may_remove(facts(session), actor, &e.user_id)?;
                if !session.members.remove(&e.user_id) {
                    return Err(format!("{} is not a member (a no-op the producer should not emit)", e.user_id));
                }
            }
            Event::SettingsChanged(e) => {
                let session = self.session(&e.session_id)?;
                membership::may_change_settings(facts(session), actor)?;
                session.settings = e.settings;
            }
            Event::Message(e) => {
                let token = (e.session_id.clone(), actor.to_string(), e.client_msg_id.clone());
                if !self.message_tokens.insert(token) {
                    return Err("duplicate client_msg_id".into());
                }
                let session = self.session(&e.session_id)?;
                if !session.members.contains(actor) {
                    return Err(format!("sender {actor} is not a member of {}", e.session_id));
                }
                session.senders.push(actor.to_string());
            }
            Event::Recall(e) => {
                let session = self.session(&e.session_id)?;
                let sender = session.senders.get(e.seq as usize - 1).ok_or_else(|| format!("no message with seq {}", e.seq))?;
                membership::may_recall(facts(session), actor, sender)?;
            }
            Event::DeviceAdded(_) | Event::DeviceRemoved(_) => {}
        }
        Ok(())
    }

    fn session(&mut self, session_id: &str) -> Result<&mut SimSession, String> {
        self.sessions.get_mut(session_id).ok_or_else(|| format!("unknown session {session_id}"))
    }
}

fn facts(session: &SimSession) -> SessionFacts<'_> {
    SessionFacts { kind: session.kind, owner: &session.owner, settings: session.settings }
}
