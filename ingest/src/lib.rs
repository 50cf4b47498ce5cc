//! ingest: the authenticated HTTP front door of the message store, and the two
//! traffic sources that drive it.
//!
//! `serve` accepts sends, recalls, membership and device changes, turns each into
//! a contract-v1 envelope acting as the token's subject, and publishes it to the
//! session or relation topic, answering only after Kafka acknowledged it. The bulk
//! route `/v1/events` takes ready envelopes from trusted importers.
//!
//! - [`config`]: command line and environment of every subcommand.
//! - [`routes`]: the HTTP handlers; [`requests`]: bodies and event ids;
//!   [`error`]: the JSON error answers.
//! - [`publish`]: Kafka publishing with per-request acknowledgement.
//! - [`client`]: the bulk client, batching, progress and run summary shared by
//!   `replay` and `generate`.
//! - [`replay`]: the Ubuntu IRC dataset converted into v1 events.
//! - [`generate`]: a deterministic synthetic workload.
//! - [`metrics`]: metric names.

pub mod client;
pub mod config;
pub mod error;
pub mod generate;
pub mod metrics;
pub mod publish;
pub mod replay;
pub mod requests;
pub mod routes;

#[cfg(test)]
mod sim;

use std::time::Duration;

pub use config::{Cli, Command, ServeConfig};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Serves the API (plus `/metrics` and `/health`) on `listener` until `shutdown`
/// fires and in-flight requests have finished.
pub async fn run(config: ServeConfig, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let topics = im_model::topics::Topics::with_prefix(&config.topic_prefix);
    tracing::info!(brokers = %config.brokers, session_topic = %topics.session, "ingest starting");
    let publisher = publish::Publisher::new(&config.brokers, topics, Duration::from_millis(config.publish_timeout_ms))?;
    let router = im_service::http::with_ops_routes(routes::router(routes::AppState::new(config, publisher.clone())));
    im_service::http::serve(listener, router, shutdown).await?;
    // Every answered request already awaited its acks; this only covers requests
    // cut off by the shutdown while their records were queued.
    tokio::task::spawn_blocking(move || publisher.flush(Duration::from_secs(5))).await?;
    tracing::info!("ingest stopped");
    Ok(())
}
