use super::*;
use crate::sim::Sim;

const DAY1: &str = r#"{"line": 0, "ts": "2020-01-01T10:00:00Z", "type": "message", "room": "ubuntu", "user": "ann", "text": "hello"}
{"line": 1, "ts": "2020-01-01T10:00:00Z", "type": "message", "room": "ubuntu", "user": "bob", "text": "hi"}
{"line": 2, "ts": "2020-01-01T10:01:00Z", "type": "join", "room": "ubuntu", "user": "cat"}
{"line": 3, "ts": "2020-01-01T10:01:00Z", "type": "join", "room": "ubuntu", "user": "cat"}
{"line": 4, "ts": "2020-01-01T10:02:00Z", "type": "leave", "room": "ubuntu", "user": "bob"}
{"line": 5, "ts": "2020-01-01T10:02:00Z", "type": "leave", "room": "ubuntu", "user": "zed"}
{"line": 6, "ts": "2020-01-01T10:03:00Z", "type": "message", "room": "ubuntu", "user": "bob", "text": "back"}
{"line": 1000, "ts": "2020-01-01T10:04:00Z", "type": "message", "room": "ubuntu", "user": "bob", "text": "q", "thread": "2020-01-01#1000"}
{"line": 1001, "ts": "2020-01-01T10:04:00Z", "type": "message", "room": "ubuntu", "user": "cat", "text": "alone", "thread": "2020-01-01#1001"}
this line is not json
{"line": 1002, "ts": "2020-01-01T10:05:00Z", "type": "message", "room": "ubuntu", "user": "ann", "text": "a", "thread": "2020-01-01#1000", "reply_to": [1000]}
{"line": 1003, "ts": "2020-01-01T10:05:00Z", "type": "join", "room": "ubuntu", "user": "dan", "thread": "2020-01-01#1000"}
{"line": 1004, "ts": "2020-01-01T10:06:00Z", "type": "action", "room": "ubuntu", "user": "dan", "text": "waves", "thread": "2020-01-01#1004"}
{"line": 1005, "ts": "2020-01-01T10:06:00Z", "type": "message", "room": "ubuntu", "user": "cat", "text": "yo", "thread": "2020-01-01#1004"}
{"line": 1006, "ts": "2020-01-01T10:07:00Z", "type": "message", "room": "ubuntu", "user": "ann", "text": "me too", "thread": "2020-01-01#1004"}
"#;

const DAY2: &str = r#"{"line": 0, "ts": "2020-01-02T08:00:00Z", "type": "message", "room": "ubuntu", "user": "cat", "text": "morning"}
{"line": 1, "ts": "2020-01-02T08:00:00Z", "type": "leave", "room": "ubuntu", "user": "cat"}
{"line": 2, "ts": "2020-01-02T08:01:00Z", "type": "join", "room": "ubuntu", "user": "cat"}
"#;

fn convert(days: &[(&str, &str)]) -> DayOutput {
    let days: Vec<(&str, &[u8])> = days.iter().map(|(day, text)| (*day, text.as_bytes())).collect();
    convert_days(&days).unwrap()
}

/// `<type> <session or device> <actor> [<user or client_msg_id>]` per event.
fn describe(envelope: &Envelope) -> String {
    let who = &envelope.actor;
    match &envelope.event {
        Event::SessionCreated(e) => format!("created {} {who} {:?} {:?}", e.session_id, e.kind, e.members),
        Event::MemberAdded(e) => format!("added {} {who} {}", e.session_id, e.user_id),
        Event::MemberRemoved(e) => format!("removed {} {who} {}", e.session_id, e.user_id),
        Event::Message(e) => format!("message {} {who} {} {:?}", e.session_id, e.client_msg_id, e.kind),
        Event::DeviceAdded(e) => format!("device {} {who} {}", e.device_id, e.user_id),
        other => format!("{other:?}"),
    }
}

#[test]
fn converts_a_day_with_implicit_joins_rejoins_and_threads() {
    let output = convert(&[("2020-01-01", DAY1)]);
    let described: Vec<String> = output.envelopes.iter().map(describe).collect();
    let expected = [
        "device ann-phone ann ann",
        "created room:ubuntu ann Room [\"ann\"]",
        "message room:ubuntu ann 2020-01-01:0 Text",
        "device bob-phone bob bob",
        "added room:ubuntu bob bob",
        "message room:ubuntu bob 2020-01-01:1 Text",
        "device cat-phone cat cat",
        "added room:ubuntu cat cat",
        // line 3: a join by a member emits nothing
        "removed room:ubuntu bob bob",
        // line 5: a leave by a non-member only reveals a new user's device
        "device zed-phone zed zed",
        // line 6: rejoin after leave
        "added room:ubuntu bob bob",
        "message room:ubuntu bob 2020-01-01:6 Text",
        // thread 1000 (bob, ann) is direct; created before its first message
        "message room:ubuntu bob 2020-01-01:1000 Text",
        "created thread:2020-01-01#1000 bob Direct [\"ann\", \"bob\"]",
        "message thread:2020-01-01#1000 bob 2020-01-01:1000 Text",
        // thread 1001 has one participant: no session
        "message room:ubuntu cat 2020-01-01:1001 Text",
        "message room:ubuntu ann 2020-01-01:1002 Text",
        "message thread:2020-01-01#1000 ann 2020-01-01:1002 Text",
        // a join carrying a thread does not touch the thread session
        "device dan-phone dan dan",
        "added room:ubuntu dan dan",
        // thread 1004 (dan, cat, ann) is a group
        "message room:ubuntu dan 2020-01-01:1004 Action",
        "created thread:2020-01-01#1004 dan Group [\"ann\", \"cat\", \"dan\"]",
        "message thread:2020-01-01#1004 dan 2020-01-01:1004 Action",
        "message room:ubuntu cat 2020-01-01:1005 Text",
        "message thread:2020-01-01#1004 cat 2020-01-01:1005 Text",
        "message room:ubuntu ann 2020-01-01:1006 Text",
        "message thread:2020-01-01#1004 ann 2020-01-01:1006 Text",
    ];
    assert_eq!(described, expected);
    assert_eq!(output.bad_lines.len(), 1);
    assert_eq!(output.bad_lines[0].line_number, 10);
    let created = output.envelopes.iter().find(|e| e.event.type_name() == "session_created").unwrap();
    let Event::SessionCreated(room) = &created.event else { unreachable!() };
    assert_eq!(room.settings, ROOM_SETTINGS);
    assert_eq!(output.envelopes[0].event_id, "r-2020-01-01-0-0");
    assert_eq!(output.envelopes[2].event_id, "r-2020-01-01-0-2");
    assert_eq!(output.envelopes[2].ts_ms, dataset::parse_utc("2020-01-01T10:00:00Z").unwrap());
}

#[test]
fn membership_carries_over_days_and_the_output_is_accepted_whole() {
    let output = convert(&[("2020-01-01", DAY1), ("2020-01-02", DAY2)]);
    let day2: Vec<String> = output.envelopes.iter().filter(|e| e.event_id.starts_with("r-2020-01-02")).map(describe).collect();
    assert_eq!(day2, ["message room:ubuntu cat 2020-01-02:0 Text", "removed room:ubuntu cat cat", "added room:ubuntu cat cat"]);
    let sim = Sim::apply_all(&output.envelopes).unwrap();
    let room = &sim.sessions["room:ubuntu"];
    let mut members: Vec<&String> = room.members.iter().collect();
    members.sort();
    assert_eq!(members, ["ann", "bob", "cat", "dan"]);
    assert_eq!(room.senders.len(), 10);
    assert_eq!(sim.sessions["thread:2020-01-01#1000"].senders, ["bob", "ann"]);
}

#[test]
fn two_runs_give_identical_output() {
    let first = convert(&[("2020-01-01", DAY1), ("2020-01-02", DAY2)]);
    let second = convert(&[("2020-01-01", DAY1), ("2020-01-02", DAY2)]);
    let bytes = |output: &DayOutput| output.envelopes.iter().map(Envelope::to_json).collect::<Vec<_>>();
    assert_eq!(bytes(&first), bytes(&second));
}

#[test]
fn each_session_sees_its_events_in_log_order() {
    let output = convert(&[("2020-01-01", DAY1), ("2020-01-02", DAY2)]);
    let mut last: HashMap<&str, (String, u64, u32)> = HashMap::new();
    for envelope in &output.envelopes {
        let Some(session) = envelope.event.session_id() else { continue };
        // `r-<day>-<line>-<n>`: (day, line, n) is the position in the log
        let parts: Vec<&str> = envelope.event_id.rsplitn(3, '-').collect();
        let position = (parts[2].to_string(), parts[1].parse().unwrap(), parts[0].parse().unwrap());
        if let Some(previous) = last.get(session) {
            assert!(*previous < position, "{session}: {position:?} after {previous:?}");
        }
        last.insert(session, position);
    }
    assert_eq!(last.len(), 3);
}

#[test]
fn overlong_text_is_cut_at_a_char_boundary() {
    let text = "é".repeat(MAX_TEXT_BYTES); // 2 bytes each
    let cut = truncate_text(&text);
    assert_eq!(cut.len(), MAX_TEXT_BYTES);
    let odd = format!("a{text}");
    let cut = truncate_text(&odd);
    assert_eq!(cut.len(), MAX_TEXT_BYTES - 1);
    assert!(odd.starts_with(&cut));
    assert_eq!(truncate_text("short"), "short");
}

#[test]
fn refuses_day_names_that_cannot_be_ids() {
    assert!(Converter::new().convert_day("bad day", b"").is_err());
}
