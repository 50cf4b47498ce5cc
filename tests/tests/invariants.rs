//! Client-visible invariants through the real pipeline (separate processes, real
//! Kafka, real RocksDB, real HTTP): idempotent sends, recall tombstones for late
//! devices, authorization, dead letters that never stop a partition, and a crash
//! of fanout-worker that loses, repeats and reorders nothing.

use std::time::Duration;

use im_tests::Stack;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::ClientConfig;
use serde_json::{json, Value};

const DRAIN: Duration = Duration::from_secs(120);

fn message_seqs(items: &[Value], session: &str) -> Vec<u64> {
    items
        .iter()
        .filter(|i| i["type"] == "message" && i["session_id"] == session)
        .map(|i| i["seq"].as_u64().unwrap())
        .collect()
}

async fn create(stack: &Stack, owner: &str, session: &str, kind: &str, members: &[&str]) {
    let (status, body) =
        stack.post("/v1/sessions", owner, &json!({"session_id": session, "kind": kind, "members": members})).await.unwrap();
    assert_eq!(status, 202, "{body}");
}

async fn send(stack: &Stack, sender: &str, session: &str, client_msg_id: &str) -> Value {
    let (status, body) = stack
        .post(&format!("/v1/sessions/{session}/messages"), sender, &json!({"client_msg_id": client_msg_id, "text": "hi"}))
        .await
        .unwrap();
    assert_eq!(status, 202, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sends_are_idempotent_recalls_reach_late_devices_and_reads_are_private() {
    let stack = Stack::start("idem").await.expect("start stack");
    create(&stack, "alice", "dm-1", "direct", &["alice", "bob"]).await;
    let first = send(&stack, "alice", "dm-1", "c-1").await;
    let retry = send(&stack, "alice", "dm-1", "c-1").await;
    assert_eq!(first["event_id"], retry["event_id"], "a retry is the same event");
    send(&stack, "bob", "dm-1", "c-2").await;
    let (status, body) = stack.post("/v1/sessions/dm-1/recall", "alice", &json!({"seq": 1})).await.unwrap();
    assert_eq!(status, 202, "{body}");
    stack.wait_drained(DRAIN).await.unwrap();

    // Bob's new device syncs from zero: one copy of each message, seq 1 recalled.
    let items = stack.sync_all("bob", 10).await.unwrap();
    assert_eq!(message_seqs(&items, "dm-1"), vec![1, 2], "{items:?}");
    let recalled = items.iter().find(|i| i["type"] == "message" && i["seq"] == 1).unwrap();
    assert!(recalled["text"].is_null() && recalled["recalled"]["by"] == "alice", "{recalled}");

    // Reads are private: no token, a stranger, a forged token.
    let (status, _) = stack.get(&stack.reader_url, "/v1/sessions/dm-1/history", "mallory").await.unwrap();
    assert_eq!(status, 403);
    let anonymous = stack.http.get(format!("{}/v1/sync", stack.reader_url)).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    let forged = stack
        .http
        .get(format!("{}/v1/sync", stack.reader_url))
        .bearer_auth(format!("bob.{}", "0".repeat(64)))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 401);
    let (status, sessions) = stack.get(&stack.reader_url, "/v1/sessions", "bob").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(sessions["sessions"][0]["session_id"], "dm-1", "{sessions}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_records_go_to_dead_letters_and_the_partition_moves_on() {
    let stack = Stack::start("dlq").await.expect("start stack");
    let session_topic = format!("{}im.session.v1", stack.prefix);
    let producer: FutureProducer = ClientConfig::new().set("bootstrap.servers", im_tests::brokers()).create().unwrap();
    let bad: [(&str, &[u8]); 4] = [
        ("s-bad", b"\xff\xfe not utf-8"),
        ("s-bad", br#"{"schema":1,"event_id":"x1","ts_ms":1,"actor":"a","type":"poke","data":{}}"#),
        ("s-bad", br#"{"schema":1,"event_id":"x2","ts_ms":1,"actor":"a","type":"message","data":{"session_id":"s-bad","client_msg_id":"c","text":"before create"}}"#),
        ("s-bad", br#"{"schema":1,"event_id":"x3","ts_ms":1,"actor":"a","type":"message","data":{"session_id":"elsewhere","client_msg_id":"c","text":"wrong key"}}"#),
    ];
    for (key, payload) in bad {
        let record = FutureRecord::to(&session_topic).key(key).payload(payload);
        producer.send(record, Duration::from_secs(10)).await.unwrap();
    }
    // Valid traffic on the same key (so the same partition) after the bad records.
    create(&stack, "a", "s-bad", "group", &["a", "b"]).await;
    send(&stack, "a", "s-bad", "ok-1").await;
    stack.wait_drained(DRAIN).await.unwrap();
    assert_eq!(message_seqs(&stack.sync_all("b", 10).await.unwrap(), "s-bad"), vec![1]);

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", im_tests::brokers())
        .set("group.id", format!("{}dlq-check", stack.prefix))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[&format!("{}im.deadletter.v1", stack.prefix)]).unwrap();
    let mut reasons = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while reasons.len() < 4 && std::time::Instant::now() < deadline {
        if let Some(Ok(message)) = consumer.poll(Duration::from_millis(500)) {
            let letter: Value = serde_json::from_slice(message.payload().unwrap()).unwrap();
            assert_eq!(letter["consumer"], "fanout-worker");
            reasons.push(letter["reason"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(reasons[0].contains("UTF-8"), "{reasons:?}");
    assert!(reasons[1].contains("unknown event type"), "{reasons:?}");
    assert!(reasons[2].contains("unknown session"), "{reasons:?}");
    assert!(reasons[3].contains("key does not match"), "{reasons:?}");
}

/// Publishes `count` messages of `sender` to `session` through the bulk endpoint.
async fn publish_bulk(stack: &Stack, session: &str, sender: &str, from: usize, count: usize) {
    let events: Vec<Value> = (from..from + count)
        .map(|i| {
            json!({"schema": 1, "event_id": format!("bulk-{i}"), "ts_ms": 1, "actor": sender, "type": "message",
                   "data": {"session_id": session, "client_msg_id": format!("m-{i}"), "text": format!("message {i}")}})
        })
        .collect();
    for chunk in events.chunks(500) {
        let (status, body) = stack.post("/v1/events", "svc:test", &Value::Array(chunk.to_vec())).await.unwrap();
        assert_eq!(status, 202, "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fanout_crash_loses_repeats_and_reorders_nothing() {
    let mut stack = Stack::start("crash").await.expect("start stack");
    create(&stack, "a", "g-crash", "group", &["a", "b", "c"]).await;
    publish_bulk(&stack, "g-crash", "a", 0, 3000).await;
    // Crash mid-stream (SIGKILL: no shutdown hook), then start again on the same store.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stack.service("fanout-worker").crash();
    publish_bulk(&stack, "g-crash", "b", 3000, 2000).await;
    stack.service("fanout-worker").restart().unwrap();
    let url = stack.fanout_url.clone();
    stack.wait_healthy(&url).await.unwrap();
    // Redelivery of already-applied events (same ids) must not create new seqs.
    publish_bulk(&stack, "g-crash", "a", 0, 500).await;
    stack.wait_drained(DRAIN).await.unwrap();

    let items = stack.sync_all("c", 1000).await.unwrap();
    let seqs = message_seqs(&items, "g-crash");
    assert_eq!(seqs, (1..=5000).collect::<Vec<u64>>(), "dense, once, in order");
    let history = stack.get(&stack.reader_url, "/v1/sessions/g-crash/history?limit=1", "c").await.unwrap().1;
    assert_eq!(history["items"][0]["seq"], 5000);
}
