//! `ingest generate`: a deterministic synthetic workload published through a
//! running ingest as the service `svc:generator`.
//!
//! - [`workload`]: the pure generator (the same parameters give the same events).

pub mod workload;

use crate::client::{Sink, Summary};
use crate::config::GenerateArgs;

/// Service subject the generator publishes as.
pub const SUBJECT: &str = "svc:generator";

pub async fn run(args: GenerateArgs) -> anyhow::Result<Summary> {
    anyhow::ensure!(args.users >= 3, "--users must be at least 3");
    let params = workload::Params { users: args.users, events: args.events, seed: args.seed, rooms: args.rooms };
    tracing::info!(users = params.users, events = params.events, seed = params.seed, rooms = params.rooms, "generating workload");
    let events = tokio::task::spawn_blocking(move || workload::generate(&params)).await?;
    let mut sink = Sink::new("generate", &args.client, SUBJECT)?;
    for envelope in events {
        sink.push(envelope).await?;
    }
    sink.finish().await
}
