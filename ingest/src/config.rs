//! Command line and environment of the `ingest` binary: `serve` (the default), and
//! the two traffic sources `replay` and `generate`, which publish through a running
//! ingest's bulk route like any other importer.

use std::path::PathBuf;

/// Most envelopes one `POST /v1/events` may carry.
pub const MAX_BATCH_EVENTS: usize = 5000;

#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "ingest",
    about = "Accepts sends, recalls and membership changes over HTTP and publishes them to Kafka",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings of `serve` when no subcommand is given.
    #[command(flatten)]
    pub serve: ServeConfig,
}

impl Cli {
    /// The subcommand to run; no subcommand means `serve` with the top-level flags.
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Serve(self.serve))
    }
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve(ServeConfig),
    /// Convert the Ubuntu IRC dataset into v1 events and publish them via ingest.
    Replay(ReplayArgs),
    /// Publish a deterministic synthetic workload via ingest.
    Generate(GenerateArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeConfig {
    /// Kafka bootstrap servers.
    #[arg(long, env = "IM_BROKERS", default_value = im_kafka::config::DEFAULT_BROKERS)]
    pub brokers: String,
    /// Prefix of every topic name (empty in production; tests use it for fresh topics).
    #[arg(long, env = "IM_TOPIC_PREFIX", default_value = "")]
    pub topic_prefix: String,
    /// Address of the API, `/metrics` and `/health`.
    #[arg(long, env = "IM_INGEST_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: String,
    /// Shared secret of the bearer tokens.
    #[arg(long, env = "IM_AUTH_SECRET", default_value = im_service::auth::DEV_SECRET)]
    pub auth_secret: String,
    /// Largest body of the single-event routes; larger bodies get a 400.
    #[arg(long, env = "IM_INGEST_MAX_BODY", default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,
    /// Largest body of `POST /v1/events`.
    #[arg(long, env = "IM_INGEST_MAX_BATCH_BODY", default_value_t = 8 * 1024 * 1024)]
    pub max_batch_body_bytes: usize,
    /// How long a record may wait for Kafka's acknowledgement before the request
    /// fails with 503 (the producer's `message.timeout.ms`).
    #[arg(long, env = "IM_INGEST_PUBLISH_TIMEOUT_MS", default_value_t = 30_000)]
    pub publish_timeout_ms: u64,
}

/// How `replay` and `generate` reach ingest.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// Base URL of a running ingest.
    #[arg(long, env = "IM_INGEST_URL", default_value = "http://127.0.0.1:8080")]
    pub ingest_url: String,
    /// Secret used to mint this tool's service token.
    #[arg(long, env = "IM_AUTH_SECRET", default_value = im_service::auth::DEV_SECRET)]
    pub auth_secret: String,
    /// Envelopes per `POST /v1/events` (at most 5000).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=MAX_BATCH_EVENTS as u64))]
    pub batch: u64,
    /// Convert and print the summary without publishing anything.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ReplayArgs {
    /// Dataset directory: holds `events/*.jsonl` (or is that folder itself).
    pub dataset_dir: PathBuf,
    /// Replay only the first N day files in sorted order.
    #[arg(long)]
    pub days: Option<usize>,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct GenerateArgs {
    /// Distinct users.
    #[arg(long, default_value_t = 2000)]
    pub users: usize,
    /// Total events to produce (every type counts).
    #[arg(long, default_value_t = 50_000)]
    pub events: usize,
    /// Seed of the workload; the same seed gives the same events.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Large rooms.
    #[arg(long, default_value_t = 3)]
    pub rooms: usize,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[test]
    fn no_subcommand_means_serve_with_defaults() {
        let Command::Serve(serve) = Cli::parse_from(["ingest", "--http-addr", "0.0.0.0:1"]).into_command() else {
            panic!("expected serve");
        };
        assert_eq!(serve.http_addr, "0.0.0.0:1");
        assert_eq!(serve.max_body_bytes, 65536);
        assert_eq!(serve.max_batch_body_bytes, 8 << 20);
    }

    #[test]
    fn subcommands_parse_their_own_flags() {
        let Command::Replay(replay) = Cli::parse_from(["ingest", "replay", "data", "--days", "2", "--dry-run"]).into_command()
        else {
            panic!("expected replay");
        };
        assert_eq!((replay.days, replay.client.batch, replay.client.dry_run), (Some(2), 1000, true));
        assert!(Cli::try_parse_from(["ingest", "generate", "--batch", "5001"]).is_err());
        let Command::Generate(generate) = Cli::parse_from(["ingest", "generate", "--seed", "7"]).into_command() else {
            panic!("expected generate");
        };
        assert_eq!((generate.seed, generate.users, generate.rooms), (7, 2000, 3));
    }
}
