//! Client configurations. Every service takes the broker list from its own config
//! (`--brokers` / `IM_BROKERS`) and passes it here.

use rdkafka::ClientConfig;

/// Default bootstrap servers of the local broker started by `scripts/kafka.sh`.
pub const DEFAULT_BROKERS: &str = "127.0.0.1:19092";

/// An idempotent producer waiting for all in-sync replicas: a retried send is never
/// written twice and per-partition order survives retries.
pub fn producer(brokers: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "2")
        .set("compression.type", "lz4")
        .set("message.timeout.ms", "30000");
    config
}

/// A consumer whose position is owned by the application: nothing is auto-committed
/// and a new group starts from the beginning of the log.
pub fn consumer(brokers: &str, group_id: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("group.id", group_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .set("session.timeout.ms", "10000")
        .set("fetch.wait.max.ms", "20");
    config
}
