//! Partition assignment driven by the store's own offsets (the Kafka Streams /
//! Flink checkpoint idea). On every assignment each partition is positioned at the
//! next offset the store has not applied; Kafka's committed offsets are written
//! only for monitoring and never read back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::KafkaResult;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::ClientContext;

/// Looks up the next offset to consume for `(topic, partition)` in the store.
pub type OffsetLookup = Arc<dyn Fn(&str, i32) -> Option<i64> + Send + Sync>;

pub struct StoreAssignContext {
    lookup: OffsetLookup,
    generation: AtomicU64,
}

pub type StoreConsumer = BaseConsumer<StoreAssignContext>;

impl StoreAssignContext {
    pub fn new(lookup: OffsetLookup) -> Self {
        Self { lookup, generation: AtomicU64::new(0) }
    }

    /// Bumped on every assignment change. A worker that sees it change while it
    /// was collecting a batch drops that batch unwritten: the new assignment has
    /// already been positioned at the store's offsets, so nothing is lost.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }
}

impl ClientContext for StoreAssignContext {}

impl ConsumerContext for StoreAssignContext {
    fn rebalance(&self, consumer: &BaseConsumer<Self>, err: RDKafkaRespErr, tpl: &mut TopicPartitionList) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let assigned: Vec<(String, i32)> =
                    tpl.elements().iter().map(|element| (element.topic().to_string(), element.partition())).collect();
                for (topic, partition) in assigned {
                    let offset = match (self.lookup)(&topic, partition) {
                        Some(next) => Offset::Offset(next),
                        None => Offset::Beginning,
                    };
                    tracing::info!(topic, partition, ?offset, "partition assigned");
                    if let Err(error) = tpl_set(tpl, &topic, partition, offset) {
                        tracing::error!(%error, topic, partition, "cannot position partition");
                    }
                }
                if let Err(error) = consumer.assign(tpl) {
                    tracing::error!(%error, "assign failed");
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                tracing::info!(partitions = tpl.count(), "partitions revoked");
                if let Err(error) = consumer.unassign() {
                    tracing::error!(%error, "unassign failed");
                }
            }
            other => tracing::error!(?other, "rebalance error"),
        }
    }
}

fn tpl_set(tpl: &mut TopicPartitionList, topic: &str, partition: i32, offset: Offset) -> KafkaResult<()> {
    tpl.set_partition_offset(topic, partition, offset)
}
