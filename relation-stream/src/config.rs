//! relation-stream settings: flags, or `IM_*` environment variables.

use std::path::PathBuf;

#[derive(Debug, Clone, clap::Parser)]
#[command(name = "relation-stream", about = "Keeps user/session/device relations and publishes them as a table")]
pub struct Config {
    /// Kafka bootstrap servers.
    #[arg(long, env = "IM_BROKERS", default_value = im_kafka::config::DEFAULT_BROKERS)]
    pub brokers: String,
    /// Prefix of every topic name (empty in production; tests use it for fresh topics).
    #[arg(long, env = "IM_TOPIC_PREFIX", default_value = "")]
    pub topic_prefix: String,
    /// Directory holding the keyed state (`<data_dir>/store`).
    #[arg(long, env = "IM_RELATION_DATA_DIR", default_value = ".local/data/relation")]
    pub data_dir: PathBuf,
    /// Address of `/metrics`, `/health` and `/stats`.
    #[arg(long, env = "IM_RELATION_HTTP_ADDR", default_value = "127.0.0.1:9103")]
    pub http_addr: String,
    /// Kafka consumer group.
    #[arg(long, env = "IM_RELATION_GROUP", default_value = "relation-stream")]
    pub group_id: String,
    /// Most records applied in one batch.
    #[arg(long, env = "IM_RELATION_BATCH", default_value_t = 2000)]
    pub batch_max: usize,
    /// fsync every batch.
    #[arg(long, env = "IM_FSYNC", default_value_t = false)]
    pub fsync: bool,
}

impl Config {
    pub fn topics(&self) -> im_model::topics::Topics {
        im_model::topics::Topics::with_prefix(&self.topic_prefix)
    }
}
