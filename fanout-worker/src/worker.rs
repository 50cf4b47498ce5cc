//! The consume / apply / commit loop, on a dedicated blocking thread.
//!
//! One iteration: poll up to `batch_max` records (rebalances happen only inside
//! poll), apply them in order into one `WriteBatch`, publish dead letters and wait
//! for their acks, then write data and offsets atomically. Only then are offsets
//! committed to Kafka, for monitoring; the store's offsets are what a restart uses.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use im_kafka::batch::{self, Record};
use im_kafka::{DeadLetter, DeadLetterPublisher, StoreAssignContext, StoreConsumer};
use im_model::envelope;
use im_store::{Batch, Store};
use rdkafka::consumer::Consumer;
use rdkafka::producer::FutureProducer;
use tokio_util::sync::CancellationToken;

use crate::apply::{ApplyError, Applier, Outcome};
use crate::metrics as m;
use crate::Config;

const CONSUMER_NAME: &str = "fanout-worker";

pub fn run(config: Config, store: Arc<Store>, runtime: tokio::runtime::Handle, shutdown: CancellationToken) -> anyhow::Result<()> {
    let lookup_store = store.clone();
    let lookup: im_kafka::assign::OffsetLookup = Arc::new(move |topic, partition| match lookup_store.offsets(topic) {
        Ok(offsets) => offsets.get(&partition).copied(),
        Err(error) => {
            tracing::error!(%error, "cannot read stored offsets; starting partition from the beginning");
            None
        }
    });
    let consumer: StoreConsumer = im_kafka::config::consumer(&config.brokers, &config.group_id)
        .create_with_context(StoreAssignContext::new(lookup))
        .context("create consumer")?;
    let topics = config.topics();
    consumer.subscribe(&[&topics.session]).context("subscribe")?;
    let producer: FutureProducer = im_kafka::config::producer(&config.brokers).create().context("create producer")?;
    let dead_letters = DeadLetterPublisher::new(producer, &topics.dead_letter);
    let mut applier = Applier::new(&store, config.mode_policy());
    let mut generation = consumer.context().generation();
    tracing::info!(brokers = %config.brokers, group = %config.group_id, "fanout-worker consuming {}", topics.session);

    while !shutdown.is_cancelled() {
        let records = batch::poll(&consumer, &mut generation, config.batch_max, || applier.clear_cache());
        if records.is_empty() {
            continue;
        }
        let started = Instant::now();
        let offsets = apply_batch(&store, &mut applier, &records, &dead_letters, &runtime, &shutdown)?;
        batch::commit_for_monitoring(&consumer, &offsets);
        metrics::histogram!(m::BATCH_SECONDS).record(started.elapsed().as_secs_f64());
        metrics::histogram!(m::BATCH_RECORDS).record(records.len() as f64);
    }
    tracing::info!("fanout-worker stopped");
    Ok(())
}

/// Applies records in order and commits them with their offsets. Returns the next
/// offset per partition.
pub fn apply_batch(
    store: &Store,
    applier: &mut Applier<'_>,
    records: &[Record],
    dead_letters: &DeadLetterPublisher,
    runtime: &tokio::runtime::Handle,
    shutdown: &CancellationToken,
) -> anyhow::Result<BTreeMap<(String, i32), i64>> {
    let mut batch = Batch::new(store);
    let mut letters = Vec::new();
    for record in records {
        match apply_record(applier, &mut batch, record)? {
            Ok((event_type, outcome)) => {
                let outcome = match outcome {
                    Outcome::Applied => "applied",
                    Outcome::Duplicate => "duplicate",
                    Outcome::NoOp => "noop",
                };
                metrics::counter!(m::EVENTS, "type" => event_type, "outcome" => outcome).increment(1);
            }
            Err(reason) => {
                tracing::warn!(partition = record.partition, offset = record.offset, %reason, "dead-lettering record");
                metrics::counter!(m::DEAD_LETTERS).increment(1);
                letters.push((record.key.clone(), DeadLetter::of(record, CONSUMER_NAME, reason)));
            }
        }
    }
    applier.flush(&mut batch);
    let next_offsets = batch::next_offsets(records);
    for ((topic, partition), next) in &next_offsets {
        batch.put_offset(topic, *partition, *next);
    }
    if !letters.is_empty() {
        im_kafka::produce::retry_blocking(runtime, shutdown, "dead letters", || dead_letters.publish_all(&letters))?;
    }
    if let Err(error) = store.write(batch) {
        applier.clear_cache();
        return Err(error).context("write batch");
    }
    let effects = applier.effects;
    metrics::counter!(m::LOG_ENTRIES).absolute(effects.log_entries);
    metrics::counter!(m::INBOX_ENTRIES).absolute(effects.inbox_entries);
    metrics::counter!(m::MODE_SWITCHES).absolute(effects.mode_switches);
    Ok(next_offsets)
}

/// Parses, checks the key and applies one record. The inner `Err` is the
/// dead-letter reason; the outer one is a store failure, which stops the worker
/// before anything of the batch is written.
fn apply_record(
    applier: &mut Applier<'_>,
    batch: &mut Batch<'_>,
    record: &Record,
) -> Result<Result<(&'static str, Outcome), String>, im_store::StoreError> {
    let Some(payload) = record.payload.as_deref() else {
        return Ok(Err("record has no value".into()));
    };
    let envelope = match envelope::parse(payload) {
        Ok(envelope) => envelope,
        Err(error) => return Ok(Err(error.to_string())),
    };
    let event_type = envelope.event.type_name();
    if let Some(session_id) = envelope.event.session_id() {
        if record.key.as_deref() != Some(session_id.as_bytes()) {
            return Ok(Err(format!(
                "record key does not match session_id {session_id:?}; the session stream must be keyed by session"
            )));
        }
    }
    match applier.apply(batch, &envelope) {
        Ok(outcome) => Ok(Ok((event_type, outcome))),
        Err(ApplyError::Rejected(reason)) => Ok(Err(reason)),
        Err(ApplyError::Store(error)) => Err(error),
    }
}

