//! fanout-worker settings: flags, or `IM_*` environment variables, with defaults
//! that run against the local stack.

use std::path::PathBuf;

use im_model::ModePolicy;

#[derive(Debug, Clone, clap::Parser)]
#[command(name = "fanout-worker", about = "Sequences the session stream into the message store")]
pub struct Config {
    /// Kafka bootstrap servers.
    #[arg(long, env = "IM_BROKERS", default_value = im_kafka::config::DEFAULT_BROKERS)]
    pub brokers: String,
    /// Prefix of every topic name (empty in production; tests use it for fresh topics).
    #[arg(long, env = "IM_TOPIC_PREFIX", default_value = "")]
    pub topic_prefix: String,
    /// Directory holding the message store (`<data_dir>/store`).
    #[arg(long, env = "IM_DATA_DIR", default_value = ".local/data/fanout")]
    pub data_dir: PathBuf,
    /// Address of `/metrics`, `/health` and `/stats`.
    #[arg(long, env = "IM_FANOUT_HTTP_ADDR", default_value = "127.0.0.1:9102")]
    pub http_addr: String,
    /// Kafka consumer group.
    #[arg(long, env = "IM_FANOUT_GROUP", default_value = "fanout-worker")]
    pub group_id: String,
    /// Largest member count that still uses write diffusion.
    #[arg(long, env = "IM_WRITE_MAX_MEMBERS", default_value_t = 100)]
    pub write_max_members: usize,
    /// A read-diffusion session returns to write diffusion at this many members or
    /// fewer; 0 means never return.
    #[arg(long, env = "IM_WRITE_RETURN_MEMBERS", default_value_t = 50)]
    pub write_return_members: usize,
    /// Most records applied in one RocksDB batch.
    #[arg(long, env = "IM_FANOUT_BATCH", default_value_t = 2000)]
    pub batch_max: usize,
    /// fsync every batch (survives machine crashes, not only process crashes).
    #[arg(long, env = "IM_FSYNC", default_value_t = false)]
    pub fsync: bool,
}

impl Config {
    pub fn topics(&self) -> im_model::topics::Topics {
        im_model::topics::Topics::with_prefix(&self.topic_prefix)
    }

    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join("store")
    }

    pub fn mode_policy(&self) -> ModePolicy {
        ModePolicy {
            write_max_members: self.write_max_members,
            write_return_members: (self.write_return_members > 0).then_some(self.write_return_members),
        }
    }
}
