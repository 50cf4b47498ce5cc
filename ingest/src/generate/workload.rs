//! A synthetic IM workload as a pure function of its parameters: the same
//! [`Params`] always give the same envelopes.
//!
//! Shape: one direct session per user on average and one small group (3 to 20
//! members, mostly small) per eight users, planned up front and created on their
//! first message; a few large rooms (targets 1500, 750, 500, ... capped by the user
//! count) that users join over the run and some leave. Activity is skewed: users
//! and sessions are drawn from Zipf-like weights, so a few of each are busy and
//! most are quiet. Now and then a sender recalls one of their own recent messages
//! (the generator knows its seq: only messages take seqs, densely from 1), and a
//! group member invites someone. Every user gets a phone (some also a laptop) on
//! first appearance. All ids start with `g<seed>-`, so runs with different seeds
//! never collide.

use std::collections::{HashMap, HashSet, VecDeque};

use im_model::envelope::{ContentKind, DeviceChange, MemberChange, MessageSent, Recall, SessionCreated};
use im_model::{Envelope, Event, SessionKind, SessionSettings};
use rand::distributions::{Distribution, WeightedIndex};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::replay::convert::ROOM_SETTINGS;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// At least 3.
    pub users: usize,
    pub events: usize,
    pub seed: u64,
    pub rooms: usize,
}

const MAX_GROUP: usize = 20;
const RECENT: usize = 10;
const START_MS: i64 = 1_700_000_000_000;
const WORDS: &[&str] = &[
    "hi", "ok", "thanks", "lunch", "today", "meeting", "build", "deploy", "kafka", "broken", "fixed", "lol", "see", "you",
    "tomorrow", "where", "is", "the", "doc", "ship", "it", "review", "please", "coffee", "now", "later", "why", "not", "great",
    "idea", "weekend", "plans", "call", "me", "back", "sure", "on", "my", "way", "done",
];

/// Generates the workload; see the module header.
pub fn generate(params: &Params) -> Vec<Envelope> {
    assert!(params.users >= 3, "the workload needs at least 3 users");
    let mut generator = Generator::new(*params);
    while generator.out.len() < params.events {
        generator.step();
    }
    // A step may emit a few events (devices, creation); trailing events only
    // depend on earlier ones, so cutting the tail keeps the prefix valid.
    generator.out.truncate(params.events);
    generator.out
}

/// A set with uniform sampling: members in a list plus each one's position.
#[derive(Default)]
struct Members {
    list: Vec<usize>,
    position: HashMap<usize, usize>,
}

impl Members {
    fn contains(&self, user: usize) -> bool {
        self.position.contains_key(&user)
    }

    fn insert(&mut self, user: usize) {
        debug_assert!(!self.contains(user));
        self.position.insert(user, self.list.len());
        self.list.push(user);
    }

    fn remove(&mut self, user: usize) {
        let index = self.position.remove(&user).expect("member");
        self.list.swap_remove(index);
        if let Some(moved) = self.list.get(index) {
            self.position.insert(*moved, index);
        }
    }
}

struct Session {
    id: String,
    kind: SessionKind,
    /// Initial members of directs and groups; empty for rooms.
    planned: Vec<usize>,
    /// Room size the joins aim at.
    target: usize,
    live: bool,
    members: Members,
    messages: u64,
    /// (seq, sender) of recent messages not yet recalled.
    recent: VecDeque<(u64, usize)>,
}

struct Generator {
    params: Params,
    rng: StdRng,
    users: Vec<String>,
    has_device: Vec<bool>,
    user_weights: WeightedIndex<f64>,
    sessions: Vec<Session>,
    session_weights: WeightedIndex<f64>,
    rooms: Vec<usize>,
    clock_ms: i64,
    out: Vec<Envelope>,
}

fn zipf(n: usize) -> WeightedIndex<f64> {
    WeightedIndex::new((0..n).map(|rank| 1.0 / (rank as f64 + 1.0))).expect("at least one weight")
}

impl Generator {
    fn new(params: Params) -> Self {
        let prefix = format!("g{}", params.seed);
        let users = (0..params.users).map(|i| format!("{prefix}-u{i:05}")).collect();
        let mut generator = Self {
            params,
            rng: StdRng::seed_from_u64(params.seed),
            users,
            has_device: vec![false; params.users],
            user_weights: zipf(params.users),
            sessions: Vec::new(),
            session_weights: zipf(1),
            rooms: Vec::new(),
            clock_ms: START_MS,
            out: Vec::new(),
        };
        generator.plan(&prefix);
        generator
    }

    /// Plans every session; rooms take the busiest ranks, the rest are shuffled.
    fn plan(&mut self, prefix: &str) {
        let users = self.params.users;
        for r in 0..self.params.rooms {
            let target = (1500 / (r + 1)).min(users);
            self.rooms.push(self.sessions.len());
            self.sessions.push(session(format!("{prefix}-room-{r}"), SessionKind::Room, Vec::new(), target));
        }
        let mut small = Vec::new();
        let mut pairs = HashSet::new();
        for _ in 0..users * 10 {
            if pairs.len() == users {
                break;
            }
            let (a, b) = (self.active_user(), self.active_user());
            if a != b && pairs.insert((a.min(b), a.max(b))) {
                small.push(session(format!("{prefix}-dm-{}", pairs.len()), SessionKind::Direct, vec![a, b], 2));
            }
        }
        for g in 0..(users / 8).max(1) {
            let size = (3 + (17.0 * self.rng.gen::<f64>().powi(3)) as usize).min(users);
            let mut members = Vec::new();
            while members.len() < size {
                let user = if self.rng.gen_bool(0.7) { self.active_user() } else { self.rng.gen_range(0..users) };
                if !members.contains(&user) {
                    members.push(user);
                }
            }
            small.push(session(format!("{prefix}-grp-{g}"), SessionKind::Group, members, size));
        }
        small.shuffle(&mut self.rng);
        self.sessions.extend(small);
        self.session_weights = zipf(self.sessions.len());
    }

    fn active_user(&mut self) -> usize {
        self.user_weights.sample(&mut self.rng)
    }

    fn step(&mut self) {
        let roll: f64 = self.rng.gen();
        let done = match roll {
            r if r < 0.07 => self.join_some_room(),
            r if r < 0.076 => self.leave_some_room(),
            r if r < 0.086 => self.invite(),
            r if r < 0.096 => self.recall(),
            _ => false,
        };
        if !done {
            self.message();
        }
    }

    fn emit(&mut self, actor: usize, event: Event) {
        self.clock_ms += self.rng.gen_range(0..500);
        let envelope = Envelope {
            event_id: format!("g{}-{}", self.params.seed, self.out.len()),
            ts_ms: self.clock_ms,
            actor: self.users[actor].clone(),
            event,
        };
        debug_assert_eq!(envelope.validate(), Ok(()), "generator built an invalid event");
        self.out.push(envelope);
    }

    /// Gives a user their devices on first appearance.
    fn ensure_device(&mut self, user: usize) {
        if std::mem::replace(&mut self.has_device[user], true) {
            return;
        }
        let mut devices = vec!["phone"];
        if self.rng.gen_bool(0.25) {
            devices.push("laptop");
        }
        for device in devices {
            let change = DeviceChange { user_id: self.users[user].clone(), device_id: format!("{}-{device}", self.users[user]) };
            self.emit(user, Event::DeviceAdded(change));
        }
    }

    fn create(&mut self, index: usize, creator: usize, members: Vec<usize>) {
        for &user in &members {
            self.ensure_device(user);
        }
        let session = &mut self.sessions[index];
        session.live = true;
        for &user in &members {
            session.members.insert(user);
        }
        let settings = if session.kind == SessionKind::Room { ROOM_SETTINGS } else { SessionSettings::default() };
        let event = Event::SessionCreated(SessionCreated {
            session_id: session.id.clone(),
            kind: session.kind,
            members: members.iter().map(|&user| self.users[user].clone()).collect(),
            settings,
        });
        self.emit(creator, event);
    }

    /// A user not yet in the session: an active one if possible, else anyone.
    fn outsider(&mut self, index: usize) -> Option<usize> {
        for attempt in 0..40 {
            let user = if attempt < 10 { self.active_user() } else { self.rng.gen_range(0..self.params.users) };
            if !self.sessions[index].members.contains(user) {
                return Some(user);
            }
        }
        None
    }

    /// A join to the room furthest from its target (weighted by the gap).
    fn join_some_room(&mut self) -> bool {
        let gaps: Vec<usize> =
            self.rooms.iter().map(|&r| self.sessions[r].target.saturating_sub(self.sessions[r].members.list.len())).collect();
        match WeightedIndex::new(&gaps) {
            Ok(pick) => {
                let room = self.rooms[pick.sample(&mut self.rng)];
                self.join_room(room)
            }
            Err(_) => false,
        }
    }

    /// Self-join of an open room; the first joiner creates it.
    fn join_room(&mut self, room: usize) -> bool {
        let Some(user) = self.outsider(room) else { return false };
        if !self.sessions[room].live {
            self.create(room, user, vec![user]);
            return true;
        }
        self.ensure_device(user);
        self.sessions[room].members.insert(user);
        let change = MemberChange { session_id: self.sessions[room].id.clone(), user_id: self.users[user].clone() };
        self.emit(user, Event::MemberAdded(change));
        true
    }

    fn leave_some_room(&mut self) -> bool {
        let Some(&room) = self.rooms.choose(&mut self.rng) else { return false };
        let session = &self.sessions[room];
        if !session.live || session.members.list.len() <= 2 {
            return false;
        }
        let user = *session.members.list.choose(&mut self.rng).expect("members");
        self.sessions[room].members.remove(user);
        let change = MemberChange { session_id: self.sessions[room].id.clone(), user_id: self.users[user].clone() };
        self.emit(user, Event::MemberRemoved(change));
        true
    }

    /// A group member adds someone, up to the group size limit.
    fn invite(&mut self) -> bool {
        let index = self.session_weights.sample(&mut self.rng);
        let session = &self.sessions[index];
        if session.kind != SessionKind::Group || !session.live || session.members.list.len() >= MAX_GROUP {
            return false;
        }
        let inviter = *session.members.list.choose(&mut self.rng).expect("members");
        let Some(user) = self.outsider(index) else { return false };
        self.ensure_device(user);
        self.sessions[index].members.insert(user);
        let change = MemberChange { session_id: self.sessions[index].id.clone(), user_id: self.users[user].clone() };
        self.emit(inviter, Event::MemberAdded(change));
        true
    }

    /// The sender of a recent message takes it back.
    fn recall(&mut self) -> bool {
        let index = self.session_weights.sample(&mut self.rng);
        let recent = &mut self.sessions[index].recent;
        if recent.is_empty() {
            return false;
        }
        let pick = self.rng.gen_range(0..recent.len());
        let (seq, sender) = recent.remove(pick).expect("in range");
        let session_id = self.sessions[index].id.clone();
        self.emit(sender, Event::Recall(Recall { session_id, seq }));
        true
    }

    fn message(&mut self) {
        let index = self.session_weights.sample(&mut self.rng);
        if !self.sessions[index].live {
            if self.sessions[index].kind == SessionKind::Room {
                self.join_room(index);
            } else {
                let members = self.sessions[index].planned.clone();
                self.create(index, members[0], members);
            }
        }
        // The more active of two members: skewed, and always a current member.
        let list = &self.sessions[index].members.list;
        let (a, b) = (list[self.rng.gen_range(0..list.len())], list[self.rng.gen_range(0..list.len())]);
        let sender = a.min(b);
        let kind = if self.rng.gen_bool(0.01) { ContentKind::Action } else { ContentKind::Text };
        let text = self.text();
        let session = &mut self.sessions[index];
        session.messages += 1;
        session.recent.push_back((session.messages, sender));
        if session.recent.len() > RECENT {
            session.recent.pop_front();
        }
        let client_msg_id = format!("m{}", self.out.len());
        let event = Event::Message(MessageSent { session_id: session.id.clone(), client_msg_id, kind, text });
        self.emit(sender, event);
    }

    /// A few words, now and then a long paragraph.
    fn text(&mut self) -> String {
        let words = if self.rng.gen_bool(0.02) { self.rng.gen_range(100..300) } else { self.rng.gen_range(1..12) };
        let picked: Vec<&str> = (0..words).map(|_| *WORDS.choose(&mut self.rng).expect("words")).collect();
        picked.join(" ")
    }
}

fn session(id: String, kind: SessionKind, planned: Vec<usize>, target: usize) -> Session {
    Session { id, kind, planned, target, live: false, members: Members::default(), messages: 0, recent: VecDeque::new() }
}

#[cfg(test)]
#[path = "workload_tests.rs"]
mod tests;
