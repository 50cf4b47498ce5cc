//! Lag of a store behind its topics: high watermark minus the store's next offset,
//! summed over partitions.

use std::collections::HashMap;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::ClientConfig;

/// Watermark client: a consumer that never subscribes, used only for metadata.
pub fn watermark_client(brokers: &str) -> anyhow::Result<BaseConsumer> {
    Ok(ClientConfig::new().set("bootstrap.servers", brokers).create()?)
}

/// Sum over the topic's partitions of `high_watermark - applied`.
pub fn lag(client: &BaseConsumer, topic: &str, applied: &HashMap<i32, i64>) -> anyhow::Result<i64> {
    let timeout = Duration::from_secs(5);
    let metadata = client.fetch_metadata(Some(topic), timeout)?;
    let mut total = 0;
    for meta_topic in metadata.topics() {
        for partition in meta_topic.partitions() {
            let (low, high) = client.fetch_watermarks(topic, partition.id(), timeout)?;
            let next = applied.get(&partition.id()).copied().unwrap_or(low).max(low);
            total += (high - next).max(0);
        }
    }
    Ok(total)
}
