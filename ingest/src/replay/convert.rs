//! The dataset as contract-v1 events: a pure, deterministic function of the day
//! files in sorted order (the same input always gives byte-identical envelopes).
//!
//! Rules:
//! - Each `room` is one session `room:<room>` (kind `room`, `join_open`, history
//!   hidden), created by the user of the room's first line with that user as its
//!   only member.
//! - A line by a user who is not a member is preceded by an implicit
//!   `member_added` (actor = user_id = that user). A `join` by a member and a
//!   `leave` by a non-member emit nothing; a `leave` by a member is a
//!   `member_removed` (actor = user_id = user).
//! - `message` and `action` lines become `message` events (kind text / action)
//!   with `client_msg_id` = `<day>:<line>`.
//! - A thread with at least two participants (distinct users of its message and
//!   action lines in that day file) becomes the session `thread:<thread id>`: kind
//!   `direct` for two participants, `group` for more, created right before its
//!   first message line by that line's user with all participants (sorted) as
//!   members. Each of its message lines is also a message there, same
//!   `client_msg_id`. Join and leave lines never touch thread sessions.
//! - A user's first line anywhere emits `device_added` `<user>-phone`.
//! - Event ids are `r-<day>-<line>-<n>`, n counting the events of that line; ts_ms
//!   is the line's timestamp. Events are emitted in log order, so each session's
//!   events are in log order.

use std::collections::{BTreeSet, HashMap, HashSet};

use im_model::envelope::{
    ContentKind, DeviceChange, MemberChange, MessageSent, SessionCreated, SessionKind, SessionSettings, MAX_TEXT_BYTES,
};
use im_model::{ids, Envelope, Event};

use super::dataset::{self, Line, LineKind};

/// Settings of the room sessions: anyone joins, newcomers do not see the past.
pub const ROOM_SETTINGS: SessionSettings = SessionSettings { history_visible: false, join_open: true };

/// A dataset line that was skipped, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub day: String,
    /// 1-based line number in the day file.
    pub line_number: usize,
    pub reason: String,
}

/// The events of one day file and the lines skipped in it.
#[derive(Debug, Default)]
pub struct DayOutput {
    pub envelopes: Vec<Envelope>,
    pub bad_lines: Vec<BadLine>,
}

pub fn room_session_id(room: &str) -> String {
    format!("room:{room}")
}

pub fn thread_session_id(thread: &str) -> String {
    format!("thread:{thread}")
}

pub fn device_id(user: &str) -> String {
    format!("{user}-phone")
}

/// State carried from one day to the next: room memberships and users seen.
#[derive(Debug, Default)]
pub struct Converter {
    /// Current members of every room created so far.
    rooms: HashMap<String, HashSet<String>>,
    seen_users: HashSet<String>,
}

impl Converter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Converts one day file; days must be given in sorted order. Fails only when
    /// the day name itself cannot be part of an id.
    pub fn convert_day(&mut self, day: &str, content: &[u8]) -> Result<DayOutput, String> {
        ids::validate("day", day).map_err(|e| format!("day file name {day:?} cannot be used in ids: {e}"))?;
        let mut output = DayOutput::default();
        let mut lines = Vec::new();
        for (index, raw) in content.split(|byte| *byte == b'\n').enumerate() {
            if raw.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match dataset::parse_line(raw).and_then(check_derived_ids) {
                Ok(line) => lines.push(line),
                Err(reason) => output.bad_lines.push(BadLine { day: day.to_string(), line_number: index + 1, reason }),
            }
        }
        let threads = shared_threads(&lines);
        let mut created_threads = HashSet::new();
        for line in &lines {
            let mut emitter = Emitter { day, line, n: 0, out: &mut output.envelopes };
            self.convert_line(&mut emitter, &threads, &mut created_threads);
        }
        Ok(output)
    }

    fn convert_line(
        &mut self,
        emitter: &mut Emitter<'_>,
        threads: &HashMap<&str, BTreeSet<&str>>,
        created_threads: &mut HashSet<String>,
    ) {
        let line = emitter.line;
        let user = line.user.as_str();
        if self.seen_users.insert(user.to_string()) {
            emitter.emit(Event::DeviceAdded(DeviceChange { user_id: user.to_string(), device_id: device_id(user) }));
        }
        let room_session = room_session_id(&line.room);
        let members = match self.rooms.get_mut(&line.room) {
            Some(members) => members,
            None => {
                emitter.emit(Event::SessionCreated(SessionCreated {
                    session_id: room_session.clone(),
                    kind: SessionKind::Room,
                    members: vec![user.to_string()],
                    settings: ROOM_SETTINGS,
                }));
                self.rooms.entry(line.room.clone()).or_default().insert(user.to_string());
                self.rooms.get_mut(&line.room).expect("just inserted")
            }
        };
        let change = MemberChange { session_id: room_session.clone(), user_id: user.to_string() };
        match line.kind {
            LineKind::Leave => {
                if members.remove(user) {
                    emitter.emit(Event::MemberRemoved(change));
                }
                return;
            }
            LineKind::Join | LineKind::Message | LineKind::Action => {
                if members.insert(user.to_string()) {
                    emitter.emit(Event::MemberAdded(change));
                }
            }
        }
        if !line.is_message() {
            return;
        }
        emitter.emit(message(&room_session, emitter.day, line));
        let Some((thread, participants)) = line.thread.as_deref().and_then(|thread| threads.get_key_value(thread)) else {
            return;
        };
        let thread_session = thread_session_id(thread);
        if created_threads.insert(thread.to_string()) {
            emitter.emit(Event::SessionCreated(SessionCreated {
                session_id: thread_session.clone(),
                kind: if participants.len() == 2 { SessionKind::Direct } else { SessionKind::Group },
                members: participants.iter().map(|p| p.to_string()).collect(),
                settings: SessionSettings::default(),
            }));
        }
        emitter.emit(message(&thread_session, emitter.day, line));
    }
}

/// Converts whole days in the given order (tests and one-shot callers).
pub fn convert_days(days: &[(&str, &[u8])]) -> Result<DayOutput, String> {
    let mut converter = Converter::new();
    let mut all = DayOutput::default();
    for (day, content) in days {
        let output = converter.convert_day(day, content)?;
        all.envelopes.extend(output.envelopes);
        all.bad_lines.extend(output.bad_lines);
    }
    Ok(all)
}

/// Builds the ids derived from a line's fields; a line whose derived ids are
/// invalid (too long) is a bad line rather than a refused batch.
fn check_derived_ids(line: Line) -> Result<Line, String> {
    ids::validate("session_id", &room_session_id(&line.room)).map_err(|e| e.to_string())?;
    ids::validate("device_id", &device_id(&line.user)).map_err(|e| e.to_string())?;
    if let Some(thread) = &line.thread {
        ids::validate("session_id", &thread_session_id(thread)).map_err(|e| e.to_string())?;
    }
    Ok(line)
}

/// Threads of the day with at least two participants, each with its participants
/// in sorted order.
fn shared_threads(lines: &[Line]) -> HashMap<&str, BTreeSet<&str>> {
    let mut threads: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for line in lines.iter().filter(|line| line.is_message()) {
        if let Some(thread) = &line.thread {
            threads.entry(thread).or_default().insert(&line.user);
        }
    }
    threads.retain(|_, participants| participants.len() >= 2);
    threads
}

fn message(session_id: &str, day: &str, line: &Line) -> Event {
    Event::Message(MessageSent {
        session_id: session_id.to_string(),
        client_msg_id: format!("{day}:{}", line.line),
        kind: if line.kind == LineKind::Action { ContentKind::Action } else { ContentKind::Text },
        text: truncate_text(&line.text),
    })
}

/// The contract refuses texts over [`MAX_TEXT_BYTES`]; the dataset has none that
/// long, but one overlong line must not refuse a whole batch, so such a text is
/// cut at the last char boundary within the limit (the rest is lost).
pub fn truncate_text(text: &str) -> String {
    if text.len() <= MAX_TEXT_BYTES {
        return text.to_string();
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// Emits the events of one line with ids `r-<day>-<line>-<n>`; the actor is
/// always the line's user.
struct Emitter<'a> {
    day: &'a str,
    line: &'a Line,
    n: u32,
    out: &'a mut Vec<Envelope>,
}

impl Emitter<'_> {
    fn emit(&mut self, event: Event) {
        let envelope = Envelope {
            event_id: format!("r-{}-{}-{}", self.day, self.line.line, self.n),
            ts_ms: self.line.ts_ms,
            actor: self.line.user.clone(),
            event,
        };
        debug_assert_eq!(envelope.validate(), Ok(()), "converter built an invalid event");
        self.n += 1;
        self.out.push(envelope);
    }
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;
