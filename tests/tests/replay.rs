//! Acceptance: one full day of real chat traffic through the whole pipeline.
//!
//! Replays `shared/data/ubuntu-irc` day 1 through ingest (separate processes, real
//! Kafka, real RocksDB), waits for the pipeline to drain, then checks through
//! reader-api that every member of every session sees exactly the messages sent
//! while they were a member, each once, with dense seqs, and that counts match.
//! The expectation is computed here from the raw dataset, independently of the
//! replay converter.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use im_tests::{binary, Stack, AUTH_SECRET};
use serde_json::Value;

const DAY: &str = "2004-12-25";

fn dataset_dir() -> PathBuf {
    im_tests::repo_root().join("../shared/data/ubuntu-irc")
}

/// session id -> ordered client message ids; user -> session -> visible seqs.
#[derive(Default)]
struct Expected {
    messages: BTreeMap<String, Vec<String>>,
    visible: BTreeMap<String, BTreeMap<String, Vec<u64>>>,
}

impl Expected {
    fn deliver(&mut self, session: &str, client_msg_id: String, recipients: impl IntoIterator<Item = String>) {
        let log = self.messages.entry(session.to_string()).or_default();
        log.push(client_msg_id);
        let seq = log.len() as u64;
        for user in recipients {
            self.visible.entry(user).or_default().entry(session.to_string()).or_default().push(seq);
        }
    }
}

fn expected_for(path: &std::path::Path) -> Expected {
    let text = std::fs::read_to_string(path).expect("read day file");
    let events: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).expect("dataset line")).collect();
    let mut expected = Expected::default();
    // The room: membership from joins, leaves and first appearance.
    let mut members = BTreeSet::new();
    for event in &events {
        let user = event["user"].as_str().unwrap().to_string();
        match event["type"].as_str().unwrap() {
            "join" => {
                members.insert(user);
            }
            "leave" => {
                members.remove(&user);
            }
            _ => {
                members.insert(user);
                let id = format!("{DAY}:{}", event["line"]);
                expected.deliver("room:ubuntu", id, members.iter().cloned());
            }
        }
    }
    // Threads with two or more participants: every participant sees every line.
    let mut threads: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for event in &events {
        let (Some(thread), Some(kind)) = (event["thread"].as_str(), event["type"].as_str()) else { continue };
        if kind == "message" || kind == "action" {
            let user = event["user"].as_str().unwrap().to_string();
            threads.entry(thread.to_string()).or_default().push((user, format!("{DAY}:{}", event["line"])));
        }
    }
    for (thread, lines) in threads {
        let participants: BTreeSet<String> = lines.iter().map(|(user, _)| user.clone()).collect();
        if participants.len() < 2 {
            continue;
        }
        for (_, id) in lines {
            expected.deliver(&format!("thread:{thread}"), id, participants.iter().cloned());
        }
    }
    expected
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replayed_day_reaches_every_member_exactly_once() {
    let stack = Stack::start("replay").await.expect("start stack");
    let day_dir = stack.dir.path().join("dataset/events");
    std::fs::create_dir_all(&day_dir).unwrap();
    let day_file = dataset_dir().join(format!("events/{DAY}.jsonl"));
    std::fs::copy(&day_file, day_dir.join(format!("{DAY}.jsonl"))).expect("copy day file");

    let replay = Command::new(binary("ingest"))
        .arg("replay")
        .arg(stack.dir.path().join("dataset"))
        .args(["--ingest-url", &stack.ingest_url, "--auth-secret", AUTH_SECRET])
        .output()
        .expect("run ingest replay");
    assert!(replay.status.success(), "replay failed: {}\n{}", String::from_utf8_lossy(&replay.stderr), stack.logs());

    stack.wait_drained(Duration::from_secs(300)).await.expect("drain");
    let expected = expected_for(&day_file);

    // Counts: the logs hold exactly the messages of the input, seqs 1..n.
    let stats: Value = stack.http.get(format!("{}/stats", stack.fanout_url)).send().await.unwrap().json().await.unwrap();
    let total: usize = expected.messages.values().map(Vec::len).sum();
    assert_eq!(stats["log_entries"], total as u64, "log entries vs input messages; stats {stats}");
    assert_eq!(stats["sessions_read_mode"], 1, "the room crossed the threshold; stats {stats}");

    for (user, sessions) in &expected.visible {
        let items = stack.sync_all(user, 500).await.unwrap_or_else(|e| panic!("{e}\n{}", stack.logs()));
        let mut got: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
        for item in &items {
            assert_eq!(item["type"], "message", "only messages in this replay: {item}");
            let session = item["session_id"].as_str().unwrap().to_string();
            let seq = item["seq"].as_u64().unwrap();
            got.entry(session).or_default().push((seq, item["client_msg_id"].as_str().unwrap().to_string()));
        }
        assert_eq!(got.keys().collect::<Vec<_>>(), sessions.keys().collect::<Vec<_>>(), "sessions of {user}");
        for (session, seqs) in sessions {
            let want: Vec<(u64, String)> =
                seqs.iter().map(|seq| (*seq, expected.messages[session][*seq as usize - 1].clone())).collect();
            assert_eq!(got[session], want, "messages of {user} in {session}");
        }
    }

    // Dense seqs per session, seen through history by a member with full view.
    for (session, ids) in &expected.messages {
        let owner = expected.visible.iter().find(|(_, s)| s.get(session).is_some_and(|v| v.len() == ids.len()));
        let Some((user, _)) = owner else { continue };
        let (status, page) = stack
            .get(&stack.reader_url, &format!("/v1/sessions/{}/history?limit=1000", session.replace('#', "%23")), user)
            .await
            .unwrap();
        assert_eq!(status, 200);
        let seqs: Vec<u64> = page["items"].as_array().unwrap().iter().map(|i| i["seq"].as_u64().unwrap()).collect();
        let dense: Vec<u64> = (1..=ids.len() as u64).rev().collect();
        assert_eq!(seqs[..dense.len().min(1000)], dense[..dense.len().min(1000)], "history of {session}");
    }
}
