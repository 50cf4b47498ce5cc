use super::*;
use serde_json::json;

fn wire(event_type: &str, data: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schema": 1, "event_id": "e-1", "ts_ms": 1_700_000_000_000i64, "actor": "u1",
        "type": event_type, "data": data
    }))
    .unwrap()
}

#[test]
fn parses_every_event_type_and_round_trips() {
    let samples = [
        wire("session_created", json!({"session_id":"s1","kind":"group","members":["u1","u2"],"settings":{"history_visible":true}})),
        wire("member_added", json!({"session_id":"s1","user_id":"u3"})),
        wire("member_removed", json!({"session_id":"s1","user_id":"u3"})),
        wire("session_settings", json!({"session_id":"s1","settings":{"join_open":true}})),
        wire("message", json!({"session_id":"s1","client_msg_id":"c1","text":"hello ✓"})),
        wire("message", json!({"session_id":"s1","client_msg_id":"c2","kind":"action","text":""})),
        wire("recall", json!({"session_id":"s1","seq":3})),
        wire("device_added", json!({"user_id":"u1","device_id":"phone"})),
        wire("device_removed", json!({"user_id":"u1","device_id":"phone"})),
    ];
    for bytes in samples {
        let parsed = parse(&bytes).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)));
        let again = parse(&parsed.to_json()).unwrap();
        assert_eq!(parsed, again);
    }
}

#[test]
fn routes_session_events_by_session_and_device_events_by_user() {
    let msg = parse(&wire("message", json!({"session_id":"s9","client_msg_id":"c","text":"x"}))).unwrap();
    assert_eq!(msg.event.route(), (crate::topics::SESSION, "s9"));
    let dev = parse(&wire("device_added", json!({"user_id":"u7","device_id":"d"}))).unwrap();
    assert_eq!(dev.event.route(), (crate::topics::RELATION, "u7"));
}

#[test]
fn refuses_bytes_that_are_not_utf8() {
    assert_eq!(parse(b"{\"schema\":1,\xff}"), Err(EnvelopeError::NotUtf8));
}

#[test]
fn refuses_malformed_json_and_missing_envelope_fields() {
    assert!(matches!(parse(b"not json"), Err(EnvelopeError::Malformed(_))));
    assert!(matches!(parse(b"[]"), Err(EnvelopeError::Malformed(_))));
    let no_id = serde_json::to_vec(&json!({"schema":1,"ts_ms":1,"actor":"u","type":"recall","data":{}})).unwrap();
    let err = parse(&no_id).unwrap_err();
    assert!(err.to_string().contains("event_id"), "{err}");
}

#[test]
fn refuses_unknown_schema_and_unknown_type() {
    let v2 = serde_json::to_vec(&json!({"schema":2,"event_id":"e","ts_ms":1,"actor":"u","type":"recall","data":{}})).unwrap();
    assert_eq!(parse(&v2), Err(EnvelopeError::Schema(2)));
    assert_eq!(parse(&wire("poke", json!({}))), Err(EnvelopeError::UnknownType("poke".into())));
}

#[test]
fn refuses_wrong_types_missing_and_unknown_data_fields() {
    let wrong_type = parse(&wire("recall", json!({"session_id":"s","seq":"three"}))).unwrap_err();
    assert!(matches!(wrong_type, EnvelopeError::BadData { event_type: "recall", .. }), "{wrong_type}");
    let missing = parse(&wire("message", json!({"session_id":"s","text":"x"}))).unwrap_err();
    assert!(missing.to_string().contains("client_msg_id"), "{missing}");
    let unknown = parse(&wire("member_added", json!({"session_id":"s","user_id":"u","role":"admin"}))).unwrap_err();
    assert!(unknown.to_string().contains("role"), "{unknown}");
}

#[test]
fn refuses_rule_violations() {
    let cases = [
        wire("message", json!({"session_id":"s","client_msg_id":"c","text":"x".repeat(MAX_TEXT_BYTES + 1)})),
        wire("message", json!({"session_id":"bad id","client_msg_id":"c","text":"x"})),
        wire("recall", json!({"session_id":"s","seq":0})),
        wire("session_created", json!({"session_id":"s","kind":"direct","members":["a","b","c"]})),
        wire("session_created", json!({"session_id":"s","kind":"group","members":[]})),
        wire("session_created", json!({"session_id":"s","kind":"group","members":["a","a"]})),
    ];
    for bytes in cases {
        assert!(parse(&bytes).is_err(), "accepted {}", String::from_utf8_lossy(&bytes));
    }
}
