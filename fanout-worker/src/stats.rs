//! `GET /stats`: exact totals computed from the store, plus lag behind Kafka. Used
//! by the run summary and by tests waiting for the pipeline to drain.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use im_model::Mode;
use im_store::{cf, SessionRecord, Store};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Stats {
    pub sessions_write_mode: u64,
    pub sessions_read_mode: u64,
    /// Sum of every session's last seq: messages in the shared logs.
    pub log_entries: u64,
    /// Sum of every inbox head: entries in per-user inboxes.
    pub inbox_entries: u64,
    pub users_with_inbox: u64,
    /// Next offset to apply per partition of the session topic.
    pub applied_offsets: BTreeMap<i32, i64>,
    /// Records published but not yet applied; 0 means drained.
    pub lag: i64,
}

struct Shared {
    store: Arc<Store>,
    brokers: String,
    session_topic: String,
}

pub fn router(store: Arc<Store>, brokers: String, session_topic: String) -> Router {
    Router::new().route("/stats", get(stats)).with_state(Arc::new(Shared { store, brokers, session_topic }))
}

async fn stats(State(shared): State<Arc<Shared>>) -> Result<Json<Stats>, (StatusCode, String)> {
    let computed = tokio::task::spawn_blocking(move || compute(&shared.store, &shared.brokers, &shared.session_topic)).await;
    match computed {
        Ok(Ok(stats)) => Ok(Json(stats)),
        Ok(Err(error)) => Err((StatusCode::SERVICE_UNAVAILABLE, format!("stats unavailable: {error:#}"))),
        Err(error) => Err((StatusCode::INTERNAL_SERVER_ERROR, error.to_string())),
    }
}

pub fn compute(store: &Store, brokers: &str, session_topic: &str) -> anyhow::Result<Stats> {
    let mut stats = Stats {
        sessions_write_mode: 0,
        sessions_read_mode: 0,
        log_entries: 0,
        inbox_entries: 0,
        users_with_inbox: 0,
        applied_offsets: BTreeMap::new(),
        lag: 0,
    };
    store.scan_all(cf::SESSIONS, |_, value| {
        if let Ok(record) = serde_json::from_slice::<SessionRecord>(value) {
            match record.mode() {
                Mode::Write => stats.sessions_write_mode += 1,
                Mode::Read => stats.sessions_read_mode += 1,
            }
            stats.log_entries += record.last_seq;
        }
    })?;
    store.scan_all(cf::INBOX_HEAD, |_, value| {
        if let Ok(bytes) = <[u8; 8]>::try_from(value) {
            stats.inbox_entries += u64::from_be_bytes(bytes);
            stats.users_with_inbox += 1;
        }
    })?;
    let offsets = store.offsets(session_topic)?;
    let client = im_kafka::lag::watermark_client(brokers)?;
    stats.lag = im_kafka::lag::lag(&client, session_topic, &offsets)?;
    stats.applied_offsets = offsets.into_iter().collect();
    Ok(stats)
}
