//! Baselines for the pipeline's throughput on this machine, measured in the same
//! run: a raw RocksDB batched-write loop and a raw Kafka produce-then-consume loop
//! over records the size of a replayed message. Pipeline numbers are only
//! meaningful as ratios to these.
//!
//!   cargo run -p im-tests --bin baseline -- --records 300000

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::FutureProducer;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2).find(|w| w[0] == name).and_then(|w| w[1].parse().ok()).unwrap_or(default)
}

fn payload(i: usize) -> Vec<u8> {
    format!(
        r#"{{"schema":1,"event_id":"r-2004-12-25-{i}-0","ts_ms":1103966040000,"actor":"u{:05}","type":"message","data":{{"session_id":"room:ubuntu","client_msg_id":"2004-12-25:{i}","kind":"text","text":"does a subversion gnome client exist? i am looking for one that works"}}}}"#,
        i % 5000
    )
    .into_bytes()
}

fn rocksdb_loop(records: usize, batch: usize) -> f64 {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut options = rocksdb::Options::default();
    options.create_if_missing(true);
    options.set_compression_type(rocksdb::DBCompressionType::Lz4);
    let db = rocksdb::DB::open(&options, dir.path()).expect("open rocksdb");
    let started = Instant::now();
    let mut write = rocksdb::WriteBatch::default();
    for i in 0..records {
        write.put(im_model::keys::id_seq("room:ubuntu", i as u64), payload(i));
        if write.len() == batch {
            db.write(std::mem::take(&mut write)).expect("write");
        }
    }
    db.write(write).expect("write");
    records as f64 / started.elapsed().as_secs_f64()
}

async fn kafka_loop(records: usize) -> anyhow::Result<(f64, f64)> {
    im_tests::ensure_kafka();
    let brokers = im_tests::brokers();
    let prefix = format!("baseline-{}-", std::process::id());
    let topics = im_model::topics::Topics::with_prefix(&prefix);
    im_kafka::admin::ensure_topics(&brokers, &topics).await?;
    let producer: FutureProducer = im_kafka::config::producer(&brokers).create()?;
    let payloads: Vec<Vec<u8>> = (0..records).map(payload).collect();
    let started = Instant::now();
    for chunk in payloads.chunks(5000) {
        let out: Vec<im_kafka::produce::OutRecord<'_>> = chunk
            .iter()
            .map(|p| im_kafka::produce::OutRecord { topic: &topics.session, key: b"room:ubuntu", payload: Some(p) })
            .collect();
        im_kafka::produce::publish_all(&producer, &out).await?;
    }
    let produce_rate = records as f64 / started.elapsed().as_secs_f64();
    let consumer: BaseConsumer = im_kafka::config::consumer(&brokers, &format!("{prefix}baseline")).create()?;
    consumer.subscribe(&[&topics.session])?;
    let started = Instant::now();
    let mut seen = 0;
    while seen < records && started.elapsed() < Duration::from_secs(300) {
        if let Some(Ok(_)) = consumer.poll(Duration::from_millis(100)) {
            seen += 1;
        }
    }
    Ok((produce_rate, seen as f64 / started.elapsed().as_secs_f64()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let records = arg("--records", 300_000);
    let batch = arg("--batch", 2000);
    println!("records: {records} (~{} bytes each)", payload(0).len());
    println!("rocksdb batched writes (batch {batch}): {:.0} records/s", rocksdb_loop(records, batch));
    let (produce, consume) = kafka_loop(records).await?;
    println!("kafka produce (idempotent, acks=all, one key): {produce:.0} records/s");
    println!("kafka consume (one consumer, poll loop):       {consume:.0} records/s");
    Ok(())
}
