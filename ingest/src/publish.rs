//! Publishing validated envelopes to Kafka. Each envelope goes to its topic
//! ([`Topics::for_event`], under the deployment's prefix) keyed by the key of
//! [`im_model::Event::route`]. All records of one call are in flight at once
//! ([`im_kafka::produce`]) and their acknowledgements are awaited in order; the
//! idempotent producer keeps per-partition order across its retries, so a batch
//! lands in each session's stream in the order it was given.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
pub use im_kafka::produce::PublishError;
use im_kafka::produce::{self, OutRecord};
use im_model::topics::Topics;
use im_model::Envelope;
use rdkafka::producer::{FutureProducer, Producer};

use crate::metrics;

#[derive(Clone)]
pub struct Publisher {
    producer: FutureProducer,
    topics: Arc<Topics>,
}

impl Publisher {
    /// Creates the producer; it connects lazily, so this succeeds without a broker.
    /// A record not acknowledged within `timeout` fails its request.
    pub fn new(brokers: &str, topics: Topics, timeout: Duration) -> anyhow::Result<Self> {
        let producer = im_kafka::config::producer(brokers)
            .set("message.timeout.ms", timeout.as_millis().to_string())
            .create()
            .context("create kafka producer")?;
        Ok(Self { producer, topics: Arc::new(topics) })
    }

    /// Publishes every envelope and returns once all are acknowledged by Kafka
    /// (acks=all), or at the first failure. After a failure some records may still
    /// have been written; the caller's retry is harmless because consumers
    /// deduplicate by event id.
    pub async fn publish(&self, envelopes: &[Envelope]) -> Result<(), PublishError> {
        let started = Instant::now();
        let payloads: Vec<Vec<u8>> = envelopes.iter().map(Envelope::to_json).collect();
        let mut deliveries = Vec::with_capacity(envelopes.len());
        for (envelope, payload) in envelopes.iter().zip(&payloads) {
            let record = OutRecord {
                topic: self.topics.for_event(&envelope.event),
                key: envelope.event.route().1.as_bytes(),
                payload: Some(payload),
            };
            deliveries.push(produce::enqueue(&self.producer, &record).await?);
        }
        for (envelope, delivery) in envelopes.iter().zip(deliveries) {
            produce::delivered(delivery).await?;
            ::metrics::counter!(metrics::EVENTS_PUBLISHED, "type" => envelope.event.type_name()).increment(1);
        }
        ::metrics::histogram!(metrics::PUBLISH_SECONDS).record(started.elapsed().as_secs_f64());
        Ok(())
    }

    /// Waits (blocking) for queued records; call once at shutdown.
    pub fn flush(&self, timeout: Duration) {
        if let Err(error) = self.producer.flush(timeout) {
            tracing::warn!(%error, "kafka flush at shutdown failed");
        }
    }
}
