//! reader-api: the clients' read side over HTTP.
//!
//! It reads the message store as a RocksDB secondary instance of fanout-worker's
//! primary (caught up every few milliseconds) and the relation table from its
//! in-memory [`relation_stream::table::RelationCache`]. Every request is
//! authenticated; a user reads only their own inbox and sessions they belong to.
//!
//! - [`config`]: command line and environment.
//! - [`cursor`]: the opaque sync cursor.
//! - [`query`]: sync and history over the store (both diffusion modes).
//! - [`view`]: the item shape clients receive.
//! - [`routes`]: HTTP handlers, auth and error mapping.

pub mod config;
pub mod cursor;
pub mod query;
pub mod routes;
pub mod view;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
pub use config::Config;
use im_store::{cf, Store};
use relation_stream::table::{self, RelationCache};
use tokio_util::sync::CancellationToken;

/// Serves the API on `listener` until `shutdown` fires.
pub async fn run(config: Config, listener: tokio::net::TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let store = Arc::new(open_store(&config, &shutdown).await?);
    let catch_up = spawn_catch_up(store.clone(), Duration::from_millis(config.catch_up_ms), shutdown.clone());
    let relations = Arc::new(RelationCache::default());
    let follower = table::spawn_follower(&config.brokers, &config.topics().relation_table, relations.clone(), shutdown.clone())?;
    let state = routes::AppState::new(config, store, relations);
    let router = im_service::http::with_ops_routes(routes::router(state));
    im_service::http::serve(listener, router, shutdown.clone()).await?;
    shutdown.cancel();
    let _ = catch_up.join();
    let _ = follower.join();
    Ok(())
}

/// Opens the secondary, waiting for fanout-worker to create the primary.
async fn open_store(config: &Config, shutdown: &CancellationToken) -> anyhow::Result<Store> {
    let deadline = Instant::now() + Duration::from_secs(config.store_wait_secs);
    loop {
        let primary = config.store_path.clone();
        let secondary = config.secondary_path.clone();
        std::fs::create_dir_all(&secondary).with_context(|| format!("create {}", secondary.display()))?;
        let opened = tokio::task::spawn_blocking(move || Store::open_secondary(&primary, &secondary, cf::ALL)).await?;
        match opened {
            Ok(store) => return Ok(store),
            Err(error) if Instant::now() < deadline && !shutdown.is_cancelled() => {
                tracing::info!(%error, path = %config.store_path.display(), "waiting for the message store");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(error) => return Err(error).context("open message store as secondary"),
        }
    }
}

fn spawn_catch_up(store: Arc<Store>, every: Duration, shutdown: CancellationToken) -> std::thread::JoinHandle<()> {
    std::thread::Builder::new()
        .name("store-catch-up".into())
        .spawn(move || {
            while !shutdown.is_cancelled() {
                if let Err(error) = store.catch_up() {
                    tracing::warn!(%error, "secondary catch-up failed");
                }
                std::thread::sleep(every);
            }
        })
        .expect("spawn catch-up thread")
}
