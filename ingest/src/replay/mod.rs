//! `ingest replay <dataset-dir>`: the Ubuntu IRC dataset published through a
//! running ingest as the service `svc:replay`.
//!
//! - [`dataset`]: one line of the dataset, parsed and checked.
//! - [`convert`]: the pure conversion into v1 envelopes (rules in its header).
//!
//! Day files are read one at a time in sorted order and their events streamed to
//! the shared [`Sink`](crate::client::Sink), one batch in flight.

pub mod convert;
pub mod dataset;

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::client::{Sink, Summary};
use crate::config::ReplayArgs;

/// Service subject the replay publishes as.
pub const SUBJECT: &str = "svc:replay";

pub async fn run(args: ReplayArgs) -> anyhow::Result<Summary> {
    let mut files = day_files(&args.dataset_dir)?;
    if let Some(days) = args.days {
        files.truncate(days);
    }
    tracing::info!(days = files.len(), dir = %args.dataset_dir.display(), dry_run = args.client.dry_run, "replay starting");
    let mut sink = Sink::new("replay", &args.client, SUBJECT)?;
    let mut converter = convert::Converter::new();
    for path in files {
        let day = path.file_stem().and_then(|stem| stem.to_str()).context("day file name is not UTF-8")?.to_string();
        let content = tokio::fs::read(&path).await.with_context(|| format!("read {}", path.display()))?;
        let output = converter.convert_day(&day, &content).map_err(anyhow::Error::msg)?;
        for bad in &output.bad_lines {
            tracing::warn!(day = %bad.day, line = bad.line_number, reason = %bad.reason, "bad dataset line skipped");
        }
        sink.tally.bad_lines += output.bad_lines.len() as u64;
        tracing::debug!(day, events = output.envelopes.len(), "day converted");
        for envelope in output.envelopes {
            sink.push(envelope).await?;
        }
    }
    sink.finish().await
}

/// The `*.jsonl` day files of the dataset in sorted order: those in
/// `<dir>/events/` when it exists, else those in `<dir>` itself.
pub fn day_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let events = dir.join("events");
    let dir = if events.is_dir() { events } else { dir.to_path_buf() };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("list {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "jsonl") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    anyhow::ensure!(!files.is_empty(), "no *.jsonl day files in {}", dir.display());
    Ok(files)
}
