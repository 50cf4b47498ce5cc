//! Event semantics against a real RocksDB store in a temp dir.

use super::*;
use im_model::envelope::{ContentKind, SessionKind, SessionSettings};
use im_store::cf;

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_primary(dir.path(), cf::ALL, false).unwrap();
        Self { _dir: dir, store }
    }
}

fn env(event_id: &str, actor: &str, event: Event) -> Envelope {
    Envelope { event_id: event_id.into(), ts_ms: 1, actor: actor.into(), event }
}

fn create(id: &str, actor: &str, members: &[&str]) -> Envelope {
    env(
        &format!("create-{id}"),
        actor,
        Event::SessionCreated(SessionCreated {
            session_id: id.into(),
            kind: SessionKind::Group,
            members: members.iter().map(|m| m.to_string()).collect(),
            settings: SessionSettings::default(),
        }),
    )
}

fn msg(session: &str, sender: &str, client_msg_id: &str) -> Envelope {
    env(
        &format!("m-{session}-{sender}-{client_msg_id}"),
        sender,
        Event::Message(MessageSent {
            session_id: session.into(),
            client_msg_id: client_msg_id.into(),
            kind: ContentKind::Text,
            text: format!("text {client_msg_id}"),
        }),
    )
}

fn member(event_id: &str, actor: &str, session: &str, user: &str, join: bool) -> Envelope {
    let change = MemberChange { session_id: session.into(), user_id: user.into() };
    env(event_id, actor, if join { Event::MemberAdded(change) } else { Event::MemberRemoved(change) })
}

/// Applies envelopes one batch each, as the worker would.
fn apply_all(store: &Store, applier: &mut Applier<'_>, envelopes: &[Envelope]) -> Vec<Result<Outcome, String>> {
    let mut batch = Batch::new(store);
    let outcomes = envelopes
        .iter()
        .map(|e| applier.apply(&mut batch, e).map_err(|err| err.to_string()))
        .collect();
    applier.flush(&mut batch);
    store.write(batch).unwrap();
    outcomes
}

fn inbox_seqs(store: &Store, user: &str, session: &str) -> Vec<u64> {
    store
        .inbox_after(user, 0, 10_000)
        .unwrap()
        .into_iter()
        .filter(|(_, e)| e.session_id == session)
        .filter_map(|(_, e)| match e.item {
            InboxItem::Message(log) => Some(log.seq),
            InboxItem::Recall { .. } => None,
        })
        .collect()
}

const POLICY: ModePolicy = ModePolicy { write_max_members: 3, write_return_members: Some(2) };

#[test]
fn seqs_are_dense_and_resends_are_idempotent() {
    let f = Fixture::new();
    let mut applier = Applier::new(&f.store, POLICY);
    let events = [create("s", "a", &["a", "b"]), msg("s", "a", "1"), msg("s", "b", "1"), msg("s", "a", "1"), msg("s", "a", "2")];
    let outcomes = apply_all(&f.store, &mut applier, &events);
    assert_eq!(outcomes[3], Ok(Outcome::Duplicate), "same sender and client id within a batch");
    // Redelivery in a later batch, with a fresh cache (as after a restart).
    let mut restarted = Applier::new(&f.store, POLICY);
    assert_eq!(apply_all(&f.store, &mut restarted, &[msg("s", "a", "2")]), vec![Ok(Outcome::Duplicate)]);
    let record = f.store.session("s").unwrap().unwrap();
    assert_eq!(record.last_seq, 3);
    let seqs: Vec<u64> = f.store.log_range("s", 1, 100, 100).unwrap().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3]);
}

#[test]
fn write_mode_copies_to_every_member_and_read_mode_to_none() {
    let f = Fixture::new();
    let mut applier = Applier::new(&f.store, POLICY);
    apply_all(&f.store, &mut applier, &[create("small", "a", &["a", "b"]), msg("small", "a", "1")]);
    assert_eq!(inbox_seqs(&f.store, "a", "small"), vec![1]);
    assert_eq!(inbox_seqs(&f.store, "b", "small"), vec![1]);
    apply_all(&f.store, &mut applier, &[create("big", "a", &["a", "b", "c", "d"]), msg("big", "a", "1")]);
    assert_eq!(f.store.session("big").unwrap().unwrap().mode(), Mode::Read);
    assert!(inbox_seqs(&f.store, "b", "big").is_empty());
    assert_eq!(f.store.log_range("big", 1, 1, 10).unwrap().len(), 1);
}

#[test]
fn growing_past_the_threshold_switches_at_an_exact_seq_and_back_with_hysteresis() {
    let f = Fixture::new();
    let mut applier = Applier::new(&f.store, POLICY);
    apply_all(
        &f.store,
        &mut applier,
        &[
            create("g", "a", &["a", "b", "c"]),
            msg("g", "a", "1"),
            member("j1", "a", "g", "d", true), // 4 members > 3: read from seq 2
            msg("g", "a", "2"),
            member("l1", "c", "g", "c", false), // 3: still read (return at <= 2)
            member("l2", "d", "g", "d", false), // 2: back to write from seq 3
            msg("g", "a", "3"),
        ],
    );
    let record = f.store.session("g").unwrap().unwrap();
    assert_eq!(record.eras, vec![Era { from_seq: 1, mode: Mode::Write }, Era { from_seq: 2, mode: Mode::Read }, Era { from_seq: 3, mode: Mode::Write }]);
    assert_eq!(inbox_seqs(&f.store, "b", "g"), vec![1, 3]);
    assert!(inbox_seqs(&f.store, "d", "g").is_empty(), "d was a member only during the read era");
}

#[test]
fn membership_decides_recipients_at_the_exact_seq() {
    let f = Fixture::new();
    let mut applier = Applier::new(&f.store, POLICY);
    apply_all(
        &f.store,
        &mut applier,
        &[
            create("s", "a", &["a"]),
            msg("s", "a", "1"),
            member("j", "a", "s", "b", true),
            msg("s", "a", "2"),
            member("l", "b", "s", "b", false),
            msg("s", "a", "3"),
            member("j2", "a", "s", "b", true),
            msg("s", "a", "4"),
        ],
    );
    assert_eq!(inbox_seqs(&f.store, "b", "s"), vec![2, 4]);
    assert_eq!(inbox_seqs(&f.store, "a", "s"), vec![1, 2, 3, 4]);
}

#[test]
fn refusals_leave_no_trace() {
    let f = Fixture::new();
    let mut applier = Applier::new(&f.store, POLICY);
    let outcomes = apply_all(
        &f.store,
        &mut applier,
        &[
            msg("nope", "a", "1"),
            create("s", "a", &["a", "b"]),
            Envelope { event_id: "create-again".into(), ..create("s", "a", &["a"]) },
            msg("s", "x", "1"),
            member("j", "x", "s", "y", true),
            env("r", "b", Event::Recall(Recall { session_id: "s".into(), seq: 1 })),
            msg("s", "a", "1"),
            env("r2", "b", Event::Recall(Recall { session_id: "s".into(), seq: 1 })),
        ],
    );
    assert!(outcomes[0].as_ref().unwrap_err().contains("unknown session"));
    assert!(outcomes[2].as_ref().unwrap_err().contains("already exists"));
    assert!(outcomes[3].as_ref().unwrap_err().contains("not a member"));
    assert!(outcomes[4].is_err());
    assert!(outcomes[5].as_ref().unwrap_err().contains("no message with seq 1"));
    assert!(outcomes[7].as_ref().unwrap_err().contains("may not recall"));
    assert_eq!(f.store.session("s").unwrap().unwrap().last_seq, 1);
    assert!(f.store.periods("y", "s").unwrap().is_none());
}

#[test]
fn recall_tombstones_the_log_and_notifies_recipients_in_write_mode() {
    let f = Fixture::new();
    let mut applier = Applier::new(&f.store, POLICY);
    let recall = env("r", "a", Event::Recall(Recall { session_id: "s".into(), seq: 1 }));
    let outcomes = apply_all(&f.store, &mut applier, &[create("s", "a", &["a", "b"]), msg("s", "a", "1"), recall.clone(), recall]);
    assert_eq!(outcomes[3], Ok(Outcome::Duplicate));
    let entry = f.store.log_entry("s", 1).unwrap().unwrap();
    assert!(entry.text.is_none() && entry.recalled.is_some());
    let inbox = f.store.inbox_after("b", 0, 10).unwrap();
    assert_eq!(inbox.len(), 2);
    assert_eq!(inbox[1].1.item, InboxItem::Recall { recalled_seq: 1, by: "a".into() });
}
