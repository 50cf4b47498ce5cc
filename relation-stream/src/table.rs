//! The relation table: record format on `im.relation.table.v1` and the in-memory
//! cache every process builds from it.
//!
//! Keys are `member/<session>/<user>` and `device/<user>/<device>`; the value is a
//! small JSON object while the pair exists and a tombstone (no value) once it is
//! gone, so log compaction keeps exactly the current relations.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use dashmap::DashMap;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

/// One change of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pair {
    Member { session_id: String, user_id: String },
    Device { user_id: String, device_id: String },
}

impl Pair {
    pub fn key(&self) -> String {
        match self {
            Pair::Member { session_id, user_id } => format!("member/{session_id}/{user_id}"),
            Pair::Device { user_id, device_id } => format!("device/{user_id}/{device_id}"),
        }
    }

    pub fn value(&self) -> Vec<u8> {
        let value = match self {
            Pair::Member { session_id, user_id } => serde_json::json!({"session_id": session_id, "user_id": user_id}),
            Pair::Device { user_id, device_id } => serde_json::json!({"user_id": user_id, "device_id": device_id}),
        };
        value.to_string().into_bytes()
    }

    pub fn from_key(key: &str) -> Option<Self> {
        let mut parts = key.splitn(3, '/');
        let (kind, a, b) = (parts.next()?, parts.next()?, parts.next()?);
        match kind {
            "member" => Some(Pair::Member { session_id: a.into(), user_id: b.into() }),
            "device" => Some(Pair::Device { user_id: a.into(), device_id: b.into() }),
            _ => None,
        }
    }
}

/// Table changes of one batch, coalesced per key (last write wins, as compaction would).
pub type Changes = BTreeMap<String, Option<Vec<u8>>>;

pub fn upsert(changes: &mut Changes, pair: &Pair) {
    changes.insert(pair.key(), Some(pair.value()));
}

pub fn remove(changes: &mut Changes, pair: &Pair) {
    changes.insert(pair.key(), None);
}

/// userID -> sessionIDs, sessionID -> userIDs, userID -> deviceIDs. Read-only to
/// everyone but its follower.
#[derive(Default)]
pub struct RelationCache {
    user_sessions: DashMap<String, HashSet<String>>,
    session_users: DashMap<String, HashSet<String>>,
    user_devices: DashMap<String, HashSet<String>>,
    caught_up: AtomicBool,
}

fn set_insert(map: &DashMap<String, HashSet<String>>, key: &str, value: &str) {
    map.entry(key.to_string()).or_default().insert(value.to_string());
}

fn set_remove(map: &DashMap<String, HashSet<String>>, key: &str, value: &str) {
    map.remove_if_mut(key, |_, set| {
        set.remove(value);
        set.is_empty()
    });
}

fn sorted(map: &DashMap<String, HashSet<String>>, key: &str) -> Vec<String> {
    let mut out: Vec<String> = map.get(key).map(|set| set.iter().cloned().collect()).unwrap_or_default();
    out.sort();
    out
}

impl RelationCache {
    /// Applies one table record (value `None` = tombstone). Unknown keys are ignored.
    pub fn apply(&self, key: &str, present: bool) {
        match (Pair::from_key(key), present) {
            (Some(Pair::Member { session_id, user_id }), true) => {
                set_insert(&self.user_sessions, &user_id, &session_id);
                set_insert(&self.session_users, &session_id, &user_id);
            }
            (Some(Pair::Member { session_id, user_id }), false) => {
                set_remove(&self.user_sessions, &user_id, &session_id);
                set_remove(&self.session_users, &session_id, &user_id);
            }
            (Some(Pair::Device { user_id, device_id }), true) => set_insert(&self.user_devices, &user_id, &device_id),
            (Some(Pair::Device { user_id, device_id }), false) => set_remove(&self.user_devices, &user_id, &device_id),
            (None, _) => tracing::debug!(key, "ignoring unknown relation table key"),
        }
    }

    pub fn sessions_of(&self, user_id: &str) -> Vec<String> {
        sorted(&self.user_sessions, user_id)
    }

    pub fn members_of(&self, session_id: &str) -> Vec<String> {
        sorted(&self.session_users, session_id)
    }

    pub fn devices_of(&self, user_id: &str) -> Vec<String> {
        sorted(&self.user_devices, user_id)
    }

    pub fn is_member(&self, user_id: &str, session_id: &str) -> bool {
        self.user_sessions.get(user_id).is_some_and(|set| set.contains(session_id))
    }

    /// True once the follower has read up to the table's end as of its start.
    pub fn is_caught_up(&self) -> bool {
        self.caught_up.load(Ordering::Acquire)
    }
}

/// Follows the whole table topic from the beginning into `cache` on a dedicated
/// thread until `shutdown` fires. Returns once the partitions are assigned.
pub fn spawn_follower(
    brokers: &str,
    topic: &str,
    cache: Arc<RelationCache>,
    shutdown: CancellationToken,
) -> anyhow::Result<std::thread::JoinHandle<()>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "relation-table-follower")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .set("fetch.wait.max.ms", "20")
        .create()
        .context("create relation table follower")?;
    let timeout = Duration::from_secs(10);
    let metadata = consumer.fetch_metadata(Some(topic), timeout).context("relation table metadata")?;
    let mut assignment = TopicPartitionList::new();
    let mut ends = BTreeMap::new();
    for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
        assignment.add_partition_offset(topic, partition.id(), Offset::Beginning)?;
        let (_, high) = consumer.fetch_watermarks(topic, partition.id(), timeout)?;
        if high > 0 {
            ends.insert(partition.id(), high);
        }
    }
    if assignment.count() == 0 {
        anyhow::bail!("topic {topic} has no partitions; run scripts/kafka.sh topics");
    }
    consumer.assign(&assignment).context("assign relation table")?;
    if ends.is_empty() {
        cache.caught_up.store(true, Ordering::Release);
    }
    let thread = std::thread::Builder::new().name("relation-follower".into()).spawn(move || {
        while !shutdown.is_cancelled() {
            match consumer.poll(Duration::from_millis(100)) {
                None => {}
                Some(Err(error)) => tracing::warn!(%error, "relation table poll error"),
                Some(Ok(message)) => {
                    if let Some(key) = message.key().and_then(|k| std::str::from_utf8(k).ok()) {
                        cache.apply(key, message.payload().is_some());
                    }
                    if !ends.is_empty() && ends.get(&message.partition()).is_some_and(|end| message.offset() + 1 >= *end) {
                        ends.remove(&message.partition());
                        if ends.is_empty() {
                            cache.caught_up.store(true, Ordering::Release);
                        }
                    }
                }
            }
        }
    })?;
    Ok(thread)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        for pair in [
            Pair::Member { session_id: "t:2004#1".into(), user_id: "u1".into() },
            Pair::Device { user_id: "u1".into(), device_id: "phone-1".into() },
        ] {
            assert_eq!(Pair::from_key(&pair.key()), Some(pair));
        }
        assert_eq!(Pair::from_key("other/x/y"), None);
    }

    #[test]
    fn cache_follows_upserts_and_tombstones() {
        let cache = RelationCache::default();
        cache.apply("member/s1/u1", true);
        cache.apply("member/s2/u1", true);
        cache.apply("member/s1/u2", true);
        cache.apply("device/u1/phone", true);
        assert_eq!(cache.sessions_of("u1"), vec!["s1", "s2"]);
        assert_eq!(cache.members_of("s1"), vec!["u1", "u2"]);
        assert_eq!(cache.devices_of("u1"), vec!["phone"]);
        cache.apply("member/s1/u1", false);
        cache.apply("device/u1/phone", false);
        assert_eq!(cache.sessions_of("u1"), vec!["s2"]);
        assert!(!cache.is_member("u1", "s1") && cache.is_member("u2", "s1"));
        assert!(cache.devices_of("u1").is_empty());
    }
}
