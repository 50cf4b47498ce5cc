//! Dead-letter records: what could not be parsed or applied, where it came from and
//! why. Publishing is awaited before the source offset is stored, so a bad record
//! is never lost between the two.

use rdkafka::producer::FutureProducer;

use crate::produce::{publish_all, OutRecord};
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

impl DeadLetter {
    /// The dead letter of a polled record refused by `consumer` for `reason`.
    pub fn of(record: &crate::batch::Record, consumer: &str, reason: String) -> Self {
        DeadLetter {
            source_topic: record.topic.clone(),
            partition: record.partition,
            offset: record.offset,
            consumer: consumer.to_string(),
            reason,
            payload: record.payload.as_deref().map(|p| String::from_utf8_lossy(p).into_owned()).unwrap_or_default(),
        }
    }
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
        let records: Vec<OutRecord<'_>> = letters
            .iter()
            .zip(&values)
            .map(|((key, _), value)| OutRecord { topic: &self.topic, key: key.as_deref().unwrap_or_default(), payload: Some(value) })
            .collect();
        publish_all(&self.producer, &records).await.map_err(|e| anyhow::anyhow!("dead-letter publish failed: {e}"))
    }
}
