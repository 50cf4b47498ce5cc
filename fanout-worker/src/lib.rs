//! fanout-worker: the single writer of the message store.
//!
//! It consumes the session stream (`im.session.v1`, keyed by session id), assigns
//! each session's dense seqs, appends the shared per-session log, and for sessions
//! in write-diffusion mode copies each message into every member's inbox. Each
//! batch of records is applied into one RocksDB `WriteBatch` together with the
//! partition offsets it covers, so a crash at any point resumes exactly where the
//! data stops. Records that cannot be parsed or applied go to the dead-letter topic.
//!
//! - [`config`]: command line and environment.
//! - [`state`]: in-memory session state (record, members), loaded lazily.
//! - [`apply`]: the event semantics: one envelope in, store writes out.
//! - [`worker`]: the consume / apply / commit loop.
//! - [`stats`]: `/stats` for drain checks and the run summary.

pub mod apply;
pub mod config;
pub mod metrics;
pub mod state;
pub mod stats;
pub mod worker;

use std::sync::Arc;

use anyhow::Context;
pub use config::Config;
use im_store::{cf, Store};
use tokio_util::sync::CancellationToken;

/// Opens the store, serves `/stats` and `/metrics`, and runs the worker until
/// `shutdown` fires or the worker fails.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| format!("create {}", config.data_dir.display()))?;
    let store = Arc::new(
        Store::open_primary(&config.store_path(), cf::ALL, config.fsync)
            .with_context(|| format!("open store {}", config.store_path().display()))?,
    );
    let listener = tokio::net::TcpListener::bind(&config.http_addr)
        .await
        .with_context(|| format!("bind {}", config.http_addr))?;
    let router = im_service::http::with_ops_routes(stats::router(store.clone(), config.brokers.clone(), config.topics().session));
    let http = tokio::spawn(im_service::http::serve(listener, router, shutdown.clone()));

    let worker_shutdown = shutdown.clone();
    let handle = tokio::runtime::Handle::current();
    let worker_config = config.clone();
    let worker = tokio::task::spawn_blocking(move || worker::run(worker_config, store, handle, worker_shutdown));
    let result = worker.await.context("worker thread panicked")?;
    shutdown.cancel();
    http.await.context("http task panicked")??;
    result
}
