//! Polling a batch of records for a store-checkpointed consumer.

use std::time::Duration;

use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::StoreConsumer;

/// An owned copy of a polled record.
#[derive(Debug, Clone)]
pub struct Record {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<Vec<u8>>,
    pub payload: Option<Vec<u8>>,
}

/// Polls until `max` records or a short quiet period. If the assignment changes
/// meanwhile, records polled before the change are dropped (the new assignment
/// restarts from the store's offsets) and `on_reassign` runs so the caller can drop
/// cached state of partitions it may no longer own.
pub fn poll(consumer: &StoreConsumer, generation: &mut u64, max: usize, mut on_reassign: impl FnMut()) -> Vec<Record> {
    let mut records = Vec::new();
    let mut timeout = Duration::from_millis(100);
    while records.len() < max {
        let polled = consumer.poll(timeout);
        let current = consumer.context().generation();
        if current != *generation {
            *generation = current;
            records.clear();
            on_reassign();
        }
        match polled {
            None => break,
            Some(Err(error)) => {
                tracing::warn!(%error, "poll error");
                break;
            }
            Some(Ok(message)) => records.push(Record {
                topic: message.topic().to_string(),
                partition: message.partition(),
                offset: message.offset(),
                key: message.key().map(<[u8]>::to_vec),
                payload: message.payload().map(<[u8]>::to_vec),
            }),
        }
        timeout = Duration::from_millis(5);
    }
    records
}

/// Next offset per (topic, partition) after `records`.
pub fn next_offsets(records: &[Record]) -> std::collections::BTreeMap<(String, i32), i64> {
    let mut next = std::collections::BTreeMap::new();
    for record in records {
        next.insert((record.topic.clone(), record.partition), record.offset + 1);
    }
    next
}

/// Commits offsets to Kafka for monitoring only (asynchronously; failures ignored).
pub fn commit_for_monitoring(consumer: &StoreConsumer, offsets: &std::collections::BTreeMap<(String, i32), i64>) {
    let mut list = TopicPartitionList::new();
    for ((topic, partition), next) in offsets {
        let _ = list.add_partition_offset(topic, *partition, Offset::Offset(*next));
    }
    if let Err(error) = consumer.commit(&list, CommitMode::Async) {
        tracing::debug!(%error, "kafka offset commit failed (monitoring only)");
    }
}
