//! relation-stream: a Flink-style stateful stream job over the relation events.
//!
//! It consumes membership events from the session stream and device events from
//! the relation topic, keeps the relations as keyed state in its own RocksDB
//! store (offsets in the same batch), and publishes every change as one record of
//! a compacted table topic (`im.relation.table.v1`): one key per (session, user)
//! and per (user, device) pair, a tombstone when the pair goes away. Any process
//! follows that topic into a read-only in-memory [`table::RelationCache`].
//!
//! - [`config`]: command line and environment.
//! - [`state`]: the keyed state and the membership rules applied to it.
//! - [`table`]: table record format, the dashmap cache and its follower.
//! - [`worker`]: the consume / apply / publish / commit loop.

pub mod config;
pub mod state;
pub mod table;
pub mod worker;

use std::sync::Arc;

use anyhow::Context;
pub use config::Config;
use im_store::Store;
use tokio_util::sync::CancellationToken;

/// Opens the state store, serves `/stats` and `/metrics`, runs the job until
/// `shutdown` fires or the job fails.
pub async fn run(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir).with_context(|| format!("create {}", config.data_dir.display()))?;
    let store_path = config.data_dir.join("store");
    let store = Arc::new(
        Store::open_primary(&store_path, state::cf::ALL, config.fsync)
            .with_context(|| format!("open state store {}", store_path.display()))?,
    );
    let listener = tokio::net::TcpListener::bind(&config.http_addr)
        .await
        .with_context(|| format!("bind {}", config.http_addr))?;
    let router = im_service::http::with_ops_routes(worker::stats_router(store.clone(), config.brokers.clone(), config.topics()));
    let http = tokio::spawn(im_service::http::serve(listener, router, shutdown.clone()));

    let handle = tokio::runtime::Handle::current();
    let job_shutdown = shutdown.clone();
    let job = tokio::task::spawn_blocking(move || worker::run(config, store, handle, job_shutdown));
    let result = job.await.context("job thread panicked")?;
    shutdown.cancel();
    http.await.context("http task panicked")??;
    result
}
