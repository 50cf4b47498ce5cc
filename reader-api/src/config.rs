//! reader-api settings: flags, or `IM_*` environment variables.

use std::path::PathBuf;

#[derive(Debug, Clone, clap::Parser)]
#[command(name = "reader-api", about = "Serves sync, history and session lists")]
pub struct Config {
    /// Kafka bootstrap servers (for the relation table).
    #[arg(long, env = "IM_BROKERS", default_value = im_kafka::config::DEFAULT_BROKERS)]
    pub brokers: String,
    /// Prefix of every topic name (empty in production; tests use it for fresh topics).
    #[arg(long, env = "IM_TOPIC_PREFIX", default_value = "")]
    pub topic_prefix: String,
    /// The message store written by fanout-worker (its `<data_dir>/store`).
    #[arg(long, env = "IM_STORE_PATH", default_value = ".local/data/fanout/store")]
    pub store_path: PathBuf,
    /// Where this reader keeps its secondary-instance metadata.
    #[arg(long, env = "IM_READER_SECONDARY_PATH", default_value = ".local/data/reader/secondary")]
    pub secondary_path: PathBuf,
    /// HTTP address of the API (also `/metrics`, `/health`).
    #[arg(long, env = "IM_READER_HTTP_ADDR", default_value = "127.0.0.1:8081")]
    pub http_addr: String,
    /// Shared secret of bearer tokens.
    #[arg(long, env = "IM_AUTH_SECRET", default_value = im_service::auth::DEV_SECRET, hide_default_value = true)]
    pub auth_secret: String,
    /// How often the secondary catches up with fanout-worker's writes.
    #[arg(long, env = "IM_READER_CATCH_UP_MS", default_value_t = 10)]
    pub catch_up_ms: u64,
    /// How long to wait at start-up for fanout-worker to create the store.
    #[arg(long, env = "IM_READER_STORE_WAIT_SECS", default_value_t = 60)]
    pub store_wait_secs: u64,
    /// Largest page a client may ask for.
    #[arg(long, env = "IM_READER_MAX_LIMIT", default_value_t = 1000)]
    pub max_limit: usize,
}

impl Config {
    pub fn topics(&self) -> im_model::topics::Topics {
        im_model::topics::Topics::with_prefix(&self.topic_prefix)
    }
}
