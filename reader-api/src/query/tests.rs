//! Sync and history over a real store written by fanout-worker's applier.

use super::*;
use fanout_worker::apply::Applier;
use im_model::envelope::{ContentKind, MemberChange, MessageSent, Recall, SessionCreated, SessionKind, SessionSettings};
use im_model::{Envelope, Event, ModePolicy};
use im_store::{cf, Batch};

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    next_id: u64,
}

const POLICY: ModePolicy = ModePolicy { write_max_members: 3, write_return_members: Some(2) };

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_primary(dir.path(), cf::ALL, false).unwrap();
        Self { _dir: dir, store, next_id: 0 }
    }

    fn apply(&mut self, actor: &str, event: Event) {
        self.next_id += 1;
        let envelope = Envelope { event_id: format!("e{}", self.next_id), ts_ms: 1, actor: actor.into(), event };
        let mut applier = Applier::new(&self.store, POLICY);
        let mut batch = Batch::new(&self.store);
        applier.apply(&mut batch, &envelope).unwrap();
        applier.flush(&mut batch);
        self.store.write(batch).unwrap();
    }

    fn create(&mut self, session: &str, kind: SessionKind, members: &[&str], settings: SessionSettings) {
        let members = members.iter().map(|m| m.to_string()).collect::<Vec<_>>();
        let owner = members[0].clone();
        self.apply(&owner, Event::SessionCreated(SessionCreated { session_id: session.into(), kind, members, settings }));
    }

    fn send(&mut self, session: &str, sender: &str) {
        let client_msg_id = format!("c{}", self.next_id);
        self.apply(sender, Event::Message(MessageSent { session_id: session.into(), client_msg_id, kind: ContentKind::Text, text: "hi".into() }));
    }

    fn join(&mut self, session: &str, actor: &str, user: &str) {
        self.apply(actor, Event::MemberAdded(MemberChange { session_id: session.into(), user_id: user.into() }));
    }

    fn leave(&mut self, session: &str, user: &str) {
        self.apply(user, Event::MemberRemoved(MemberChange { session_id: session.into(), user_id: user.into() }));
    }
}

/// Syncs from zero in pages of `limit` and returns (session, seq) of messages.
fn sync_all(store: &Store, user: &str, limit: usize) -> Vec<(String, u64)> {
    let mut cursor = None;
    let mut out = Vec::new();
    loop {
        let page = sync(store, user, cursor, limit).unwrap();
        assert!(page.items.len() <= limit);
        for item in page.items {
            if let Item::Message { session_id, seq, .. } = item {
                out.push((session_id, seq));
            }
        }
        cursor = Some(SyncCursor::decode(&page.cursor).unwrap());
        if !page.has_more {
            return out;
        }
    }
}

fn seqs(items: &[(String, u64)], session: &str) -> Vec<u64> {
    items.iter().filter(|(s, _)| s == session).map(|(_, seq)| *seq).collect()
}

#[test]
fn sync_pages_are_gap_free_and_duplicate_free_across_a_mode_switch() {
    let mut f = Fixture::new();
    f.create("g", SessionKind::Group, &["a", "b", "c"], SessionSettings::default());
    f.send("g", "a"); // 1 write
    f.send("g", "b"); // 2 write
    f.join("g", "a", "d"); // 4 members: read from 3
    f.send("g", "c"); // 3 read
    f.send("g", "a"); // 4 read
    f.leave("g", "c");
    f.leave("g", "d"); // 2 members: write from 5
    f.send("g", "a"); // 5 write
    for limit in [1, 2, 3, 100] {
        let items = sync_all(&f.store, "b", limit);
        assert_eq!(seqs(&items, "g"), vec![1, 2, 3, 4, 5], "limit {limit}");
        let items = sync_all(&f.store, "d", limit);
        assert_eq!(seqs(&items, "g"), vec![3, 4], "d joined at 3 and left after 4 (limit {limit})");
        let items = sync_all(&f.store, "c", limit);
        assert_eq!(seqs(&items, "g"), vec![1, 2, 3, 4], "limit {limit}");
    }
}

#[test]
fn sync_continues_exactly_from_a_cursor_after_new_writes() {
    let mut f = Fixture::new();
    f.create("room", SessionKind::Room, &["a", "b", "c", "d"], SessionSettings { join_open: true, history_visible: false });
    f.create("dm", SessionKind::Direct, &["a", "b"], SessionSettings::default());
    f.send("room", "a");
    f.send("dm", "a");
    let first = sync(&f.store, "b", None, 100).unwrap();
    assert_eq!(first.items.len(), 2);
    assert!(!first.has_more);
    f.send("room", "c");
    f.send("dm", "b");
    let second = sync(&f.store, "b", Some(SyncCursor::decode(&first.cursor).unwrap()), 100).unwrap();
    let got: Vec<(String, u64)> = second
        .items
        .into_iter()
        .filter_map(|i| match i {
            Item::Message { session_id, seq, .. } => Some((session_id, seq)),
            _ => None,
        })
        .collect();
    assert_eq!(got, vec![("dm".to_string(), 2), ("room".to_string(), 2)]);
}

#[test]
fn expired_cursor_is_refused_explicitly() {
    let f = Fixture::new();
    let stale = SyncCursor::start("some-other-epoch");
    assert!(matches!(sync(&f.store, "a", Some(stale), 10), Err(QueryError::CursorExpired)));
}

#[test]
fn recall_shows_as_tombstone_for_a_device_syncing_from_zero() {
    let mut f = Fixture::new();
    f.create("dm", SessionKind::Direct, &["a", "b"], SessionSettings::default());
    f.send("dm", "a");
    f.apply("a", Event::Recall(Recall { session_id: "dm".into(), seq: 1 }));
    let page = sync(&f.store, "b", None, 10).unwrap();
    match &page.items[0] {
        Item::Message { text, recalled, .. } => assert!(text.is_none() && recalled.is_some()),
        other => panic!("expected the message first, got {other:?}"),
    }
    assert!(matches!(page.items[1], Item::Recall { seq: 1, .. }));
}

#[test]
fn history_pages_backwards_by_seq_within_membership_periods() {
    let mut f = Fixture::new();
    f.create("g", SessionKind::Group, &["a", "b"], SessionSettings::default());
    for _ in 0..3 {
        f.send("g", "a"); // 1..3
    }
    f.leave("g", "b");
    f.send("g", "a"); // 4: b is away
    f.join("g", "a", "b");
    for _ in 0..2 {
        f.send("g", "a"); // 5, 6
    }
    let mut before = None;
    let mut seen = Vec::new();
    loop {
        let page = history(&f.store, "b", "g", before, 2).unwrap();
        seen.extend(page.items.iter().map(|i| match i {
            Item::Message { seq, .. } | Item::Recall { seq, .. } => *seq,
        }));
        if !page.has_more {
            break;
        }
        before = page.next_before;
    }
    assert_eq!(seen, vec![6, 5, 3, 2, 1]);
    assert!(matches!(history(&f.store, "zed", "g", None, 10), Err(QueryError::NotMember(_))));
}
