//! The job loop: poll a batch from both topics, apply it to the keyed state,
//! publish the table changes and dead letters (awaiting acks), then commit state
//! and offsets in one RocksDB batch. A crash before the commit republishes the same
//! table values on restart, which the compacted table absorbs.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use im_kafka::batch::{self, Record};
use im_kafka::{DeadLetter, DeadLetterPublisher, StoreAssignContext, StoreConsumer};
use im_model::envelope;
use im_model::topics::Topics;
use im_store::{Batch, Store};
use rdkafka::consumer::Consumer;
use im_kafka::produce::{publish_all, OutRecord};
use rdkafka::producer::FutureProducer;
use tokio_util::sync::CancellationToken;

use crate::state::{ApplyError, Outcome, Relations};
use crate::Config;

const CONSUMER_NAME: &str = "relation-stream";
const EVENTS: &str = "im_relation_events_total";
const TABLE_RECORDS: &str = "im_relation_table_records_total";
const DEAD_LETTERS: &str = "im_relation_dead_letters_total";

pub fn run(config: Config, store: Arc<Store>, runtime: tokio::runtime::Handle, shutdown: CancellationToken) -> anyhow::Result<()> {
    let lookup_store = store.clone();
    let lookup: im_kafka::assign::OffsetLookup =
        Arc::new(move |topic, partition| lookup_store.offsets(topic).ok().and_then(|o| o.get(&partition).copied()));
    let consumer: StoreConsumer = im_kafka::config::consumer(&config.brokers, &config.group_id)
        .create_with_context(StoreAssignContext::new(lookup))
        .context("create consumer")?;
    let topics = config.topics();
    consumer.subscribe(&[&topics.session, &topics.relation]).context("subscribe")?;
    let producer: FutureProducer = im_kafka::config::producer(&config.brokers).create().context("create producer")?;
    let dead_letters = DeadLetterPublisher::new(producer.clone(), &topics.dead_letter);
    let mut relations = Relations::new(&store);
    let mut generation = consumer.context().generation();
    tracing::info!(brokers = %config.brokers, "relation-stream consuming {} and {}", topics.session, topics.relation);

    while !shutdown.is_cancelled() {
        let records = batch::poll(&consumer, &mut generation, config.batch_max, || relations.discard());
        if records.is_empty() {
            continue;
        }
        let mut letters = Vec::new();
        for record in &records {
            if let Some(reason) = apply_record(&mut relations, record, &topics)? {
                metrics::counter!(DEAD_LETTERS).increment(1);
                letters.push((record.key.clone(), DeadLetter::of(record, CONSUMER_NAME, reason)));
            }
        }
        let changes = std::mem::take(&mut relations.changes);
        let publish_started = std::time::Instant::now();
        im_kafka::produce::retry_blocking(&runtime, &shutdown, "relation table and dead letters", || async {
            publish_changes(&producer, &topics.relation_table, &changes).await?;
            dead_letters.publish_all(&letters).await
        })?;
        metrics::counter!(TABLE_RECORDS).increment(changes.len() as u64);
        tracing::debug!(records = records.len(), changes = changes.len(), publish_ms = publish_started.elapsed().as_millis() as u64, "batch published");
        let mut write = Batch::new(&store);
        relations.flush(&mut write);
        let offsets = batch::next_offsets(&records);
        for ((topic, partition), next) in &offsets {
            write.put_offset(topic, *partition, *next);
        }
        store.write(write).context("write state batch")?;
        batch::commit_for_monitoring(&consumer, &offsets);
    }
    tracing::info!("relation-stream stopped");
    Ok(())
}

/// Applies one record; returns a dead-letter reason for records of the relation
/// topic that cannot be applied. Bad session-topic records are fanout-worker's to
/// dead-letter, so they are only counted here.
fn apply_record(relations: &mut Relations<'_>, record: &Record, topics: &Topics) -> anyhow::Result<Option<String>> {
    let own_topic = record.topic == topics.relation;
    let verdict = match record.payload.as_deref().map(envelope::parse) {
        None => Err("record has no value".to_string()),
        Some(Err(error)) => Err(error.to_string()),
        Some(Ok(envelope)) => {
            let key = envelope.event.route().1;
            if topics.for_event(&envelope.event) != record.topic {
                Err(format!("{} does not belong on {}", envelope.event.type_name(), record.topic))
            } else if record.key.as_deref() != Some(key.as_bytes()) {
                Err(format!("record key does not match {key:?}"))
            } else {
                match relations.apply(&envelope) {
                    Ok(outcome) => Ok((envelope.event.type_name(), outcome)),
                    Err(ApplyError::Rejected(reason)) => Err(reason),
                    Err(ApplyError::Store(error)) => return Err(error).context("state store"),
                }
            }
        }
    };
    match verdict {
        Ok((event_type, outcome)) => {
            let outcome = match outcome {
                Outcome::Applied => "applied",
                Outcome::Duplicate => "duplicate",
                Outcome::NoOp => "noop",
                Outcome::Ignored => "ignored",
            };
            metrics::counter!(EVENTS, "type" => event_type, "outcome" => outcome).increment(1);
            Ok(None)
        }
        Err(reason) if own_topic => Ok(Some(reason)),
        Err(reason) => {
            tracing::debug!(partition = record.partition, offset = record.offset, %reason, "skipping session record");
            metrics::counter!(EVENTS, "type" => "invalid", "outcome" => "skipped").increment(1);
            Ok(None)
        }
    }
}

async fn publish_changes(producer: &FutureProducer, topic: &str, changes: &crate::table::Changes) -> anyhow::Result<()> {
    let records: Vec<OutRecord<'_>> = changes
        .iter()
        .map(|(key, value)| OutRecord { topic, key: key.as_bytes(), payload: value.as_deref() })
        .collect();
    publish_all(producer, &records).await.context("relation table publish")
}


/// `/stats`: lag behind both input topics.
pub fn stats_router(store: Arc<Store>, brokers: String, topics: Topics) -> Router {
    Router::new().route("/stats", get(stats)).with_state(Arc::new((store, brokers, topics)))
}

async fn stats(State(shared): State<Arc<(Arc<Store>, String, Topics)>>) -> Result<Json<serde_json::Value>, (StatusCode, String)> {
    let computed = tokio::task::spawn_blocking(move || -> anyhow::Result<serde_json::Value> {
        let (store, brokers, topics) = &*shared;
        let client = im_kafka::lag::watermark_client(brokers)?;
        let mut lag = BTreeMap::new();
        for topic in [&topics.session, &topics.relation] {
            lag.insert(topic.clone(), im_kafka::lag::lag(&client, topic, &store.offsets(topic)?)?);
        }
        let total: i64 = lag.values().sum();
        Ok(serde_json::json!({"lag": total, "lag_by_topic": lag}))
    })
    .await;
    match computed {
        Ok(Ok(value)) => Ok(Json(value)),
        Ok(Err(error)) => Err((StatusCode::SERVICE_UNAVAILABLE, format!("stats unavailable: {error:#}"))),
        Err(error) => Err((StatusCode::INTERNAL_SERVER_ERROR, error.to_string())),
    }
}
