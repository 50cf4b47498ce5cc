//! Publishing validated envelopes to Kafka. Each envelope goes to the topic and
//! key of [`im_model::Event::route`]. All records of one call are handed to the
//! idempotent producer first and their acknowledgements awaited afterwards, in
//! order; the producer keeps per-partition order across its retries, so a batch
//! lands in each session's stream in the order it was given.

use std::time::{Duration, Instant};

use anyhow::Context;
use im_model::Envelope;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};

use crate::metrics;

/// How long a send waits for room in the producer's local queue.
const QUEUE_FULL_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("kafka refused the record: {0}")]
    Enqueue(KafkaError),
    #[error("kafka delivery failed: {0}")]
    Delivery(KafkaError),
    #[error("kafka delivery was cancelled (producer shut down)")]
    Cancelled,
}

#[derive(Clone)]
pub struct Publisher {
    producer: FutureProducer,
}

impl Publisher {
    /// Creates the producer; it connects lazily, so this succeeds without a broker.
    pub fn new(brokers: &str) -> anyhow::Result<Self> {
        let producer = im_kafka::config::producer(brokers).create().context("create kafka producer")?;
        Ok(Self { producer })
    }

    /// Publishes every envelope and returns once all are acknowledged by Kafka
    /// (acks=all), or at the first failure. After a failure some records may still
    /// have been written; the caller's retry is harmless because consumers
    /// deduplicate by event id.
    pub async fn publish(&self, envelopes: &[Envelope]) -> Result<(), PublishError> {
        let started = Instant::now();
        let mut deliveries = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            deliveries.push(self.enqueue(envelope).await?);
        }
        for (envelope, delivery) in envelopes.iter().zip(deliveries) {
            match delivery.await {
                Ok(Ok(_)) => ::metrics::counter!(metrics::EVENTS_PUBLISHED, "type" => envelope.event.type_name()).increment(1),
                Ok(Err((error, _))) => return Err(PublishError::Delivery(error)),
                Err(_) => return Err(PublishError::Cancelled),
            }
        }
        ::metrics::histogram!(metrics::PUBLISH_SECONDS).record(started.elapsed().as_secs_f64());
        Ok(())
    }

    async fn enqueue(&self, envelope: &Envelope) -> Result<DeliveryFuture, PublishError> {
        let payload = envelope.to_json();
        let (topic, key) = envelope.event.route();
        let mut record = FutureRecord::to(topic).key(key).payload(&payload);
        let deadline = Instant::now() + QUEUE_FULL_TIMEOUT;
        loop {
            match self.producer.send_result(record) {
                Ok(delivery) => return Ok(delivery),
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) if Instant::now() < deadline => {
                    record = returned;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                Err((error, _)) => return Err(PublishError::Enqueue(error)),
            }
        }
    }

    /// Waits (blocking) for queued records; call once at shutdown.
    pub fn flush(&self, timeout: Duration) {
        if let Err(error) = self.producer.flush(timeout) {
            tracing::warn!(%error, "kafka flush at shutdown failed");
        }
    }
}
