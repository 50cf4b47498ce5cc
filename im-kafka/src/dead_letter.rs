//! Dead-letter records: what could not be parsed or applied, where it came from and
//! why. Publishing is awaited before the source offset is stored, so a bad record
//! is never lost between the two.

use std::time::Duration;

use rdkafka::producer::{FutureProducer, FutureRecord};
use serde::{Deserialize, Serialize};

/// The value written to the dead-letter topic (key = the source record's key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub source_topic: String,
    pub partition: i32,
    pub offset: i64,
    /// Which consumer refused it (`fanout-worker`, `relation-stream`, ...).
    pub consumer: String,
    pub reason: String,
    /// The original value, lossily decoded when it was not UTF-8.
    pub payload: String,
}

#[derive(Clone)]
pub struct DeadLetterPublisher {
    producer: FutureProducer,
    topic: String,
}

impl DeadLetterPublisher {
    pub fn new(producer: FutureProducer, topic: &str) -> Self {
        Self { producer, topic: topic.to_string() }
    }

    /// Publishes all records and waits for every acknowledgement.
    pub async fn publish_all(&self, letters: &[(Option<Vec<u8>>, DeadLetter)]) -> anyhow::Result<()> {
        let values = letters.iter().map(|(_, letter)| serde_json::to_vec(letter)).collect::<Result<Vec<_>, _>>()?;
        let mut pending = Vec::with_capacity(letters.len());
        for ((key, _), value) in letters.iter().zip(&values) {
            let mut record = FutureRecord::<[u8], [u8]>::to(&self.topic).payload(value);
            if let Some(key) = key {
                record = record.key(key);
            }
            pending.push(self.producer.send(record, Duration::from_secs(30)));
        }
        for delivery in pending {
            delivery.await.map_err(|(error, _)| anyhow::anyhow!("dead-letter publish failed: {error}"))?;
        }
        Ok(())
    }
}
