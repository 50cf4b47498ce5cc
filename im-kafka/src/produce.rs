//! Publishing a batch of records: enqueue all, then await every acknowledgement.
//!
//! `FutureProducer::send` only enqueues when its future is first polled, so
//! collecting its futures and awaiting them one by one would send one record per
//! round trip. This enqueues synchronously with `send_result` (waiting briefly
//! when the local queue is full) so the whole batch is in flight at once; the
//! idempotent producer keeps per-partition order.

use std::time::{Duration, Instant};

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};

/// How long an enqueue waits for room in the producer's local queue.
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

/// One record to publish; `payload: None` is a tombstone.
pub struct OutRecord<'a> {
    pub topic: &'a str,
    pub key: &'a [u8],
    pub payload: Option<&'a [u8]>,
}

/// Enqueues one record, waiting while the local queue is full.
pub async fn enqueue(producer: &FutureProducer, record: &OutRecord<'_>) -> Result<DeliveryFuture, PublishError> {
    let mut future_record = FutureRecord::<[u8], [u8]>::to(record.topic).key(record.key);
    if let Some(payload) = record.payload {
        future_record = future_record.payload(payload);
    }
    let deadline = Instant::now() + QUEUE_FULL_TIMEOUT;
    loop {
        match producer.send_result(future_record) {
            Ok(delivery) => return Ok(delivery),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) if Instant::now() < deadline => {
                future_record = returned;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err((error, _)) => return Err(PublishError::Enqueue(error)),
        }
    }
}

/// Awaits one delivery.
pub async fn delivered(delivery: DeliveryFuture) -> Result<(), PublishError> {
    match delivery.await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err((error, _))) => Err(PublishError::Delivery(error)),
        Err(_) => Err(PublishError::Cancelled),
    }
}

/// Publishes every record and returns once all are acknowledged, or at the first failure.
pub async fn publish_all(producer: &FutureProducer, records: &[OutRecord<'_>]) -> Result<(), PublishError> {
    let mut deliveries = Vec::with_capacity(records.len());
    for record in records {
        deliveries.push(enqueue(producer, record).await?);
    }
    for delivery in deliveries {
        delivered(delivery).await?;
    }
    Ok(())
}

/// Runs `publish` on `runtime` until it succeeds, backing off between attempts
/// (a broker outage stalls the worker instead of killing it). Gives up only when
/// `shutdown` fires, returning the last error; the caller then exits without
/// committing, so nothing is lost.
pub fn retry_blocking<F, Fut>(
    runtime: &tokio::runtime::Handle,
    shutdown: &tokio_util::sync::CancellationToken,
    what: &str,
    mut publish: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let mut backoff = Duration::from_millis(100);
    loop {
        match runtime.block_on(publish()) {
            Ok(()) => return Ok(()),
            Err(error) if !shutdown.is_cancelled() => {
                tracing::warn!(error = %format!("{error:#}"), what, retry_in_ms = backoff.as_millis() as u64, "publish failed; retrying");
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            Err(error) => return Err(error),
        }
    }
}
