use std::collections::BTreeMap;

use super::*;
use crate::sim::Sim;

const SMALL: Params = Params { users: 300, events: 20_000, seed: 7, rooms: 2 };

#[test]
fn same_seed_same_events_other_seed_other_events() {
    let first = generate(&SMALL);
    assert_eq!(first.len(), SMALL.events);
    assert_eq!(first, generate(&SMALL));
    let other = generate(&Params { seed: 8, ..SMALL });
    assert_ne!(first, other);
    assert!(other.iter().all(|e| e.event_id.starts_with("g8-")));
}

#[test]
fn every_event_is_one_the_worker_accepts() {
    // The oracle refuses a message whose sender is not a member at that point, a
    // use of a session before its creation, a recall by someone else, and joins or
    // leaves that change nothing.
    let events = generate(&SMALL);
    let sim = Sim::apply_all(&events).unwrap();
    for session in sim.sessions.values() {
        match session.kind {
            SessionKind::Direct => assert_eq!(session.members.len(), 2),
            SessionKind::Group => assert!((3..=MAX_GROUP).contains(&session.members.len()), "{}", session.members.len()),
            SessionKind::Room => assert_eq!(session.settings, ROOM_SETTINGS),
        }
    }
}

#[test]
fn the_default_workload_has_a_realistic_mix() {
    let events = generate(&Params { users: 2000, events: 50_000, seed: 42, rooms: 3 });
    let sim = Sim::apply_all(&events).unwrap();
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    for envelope in &events {
        *by_type.entry(envelope.event.type_name()).or_default() += 1;
    }
    for event_type in ["session_created", "member_added", "member_removed", "message", "recall", "device_added"] {
        assert!(by_type.get(event_type).copied().unwrap_or(0) > 0, "no {event_type}: {by_type:?}");
    }
    assert!(by_type["message"] > 35_000, "{by_type:?}");
    let mut rooms: Vec<usize> = sim.sessions.values().filter(|s| s.kind == SessionKind::Room).map(|s| s.members.len()).collect();
    rooms.sort();
    assert_eq!(rooms.len(), 3);
    assert!(rooms[0] >= 200 && rooms[2] >= 1000 && rooms[2] <= 1500, "room sizes {rooms:?}");
    let directs = sim.sessions.values().filter(|s| s.kind == SessionKind::Direct).count();
    let groups = sim.sessions.values().filter(|s| s.kind == SessionKind::Group).count();
    assert!(directs > 500 && groups > 50, "directs {directs}, groups {groups}");
    // Skew: the busiest session carries far more than an average one.
    let mut sizes: Vec<usize> = sim.sessions.values().map(|s| s.senders.len()).collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    let average = by_type["message"] / sizes.len();
    assert!(sizes[0] > 50 * average, "busiest {} vs average {average}", sizes[0]);
}

#[test]
fn members_set_removes_by_swapping() {
    let mut members = Members::default();
    for user in [5, 6, 7] {
        members.insert(user);
    }
    members.remove(5);
    assert!(!members.contains(5) && members.contains(6) && members.contains(7));
    members.remove(7);
    assert_eq!(members.list, [6]);
    assert_eq!(members.position[&6], 0);
}
