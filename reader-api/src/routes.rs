//! HTTP handlers. Errors are JSON `{"error": <kind>, "reason": <text>}` with a
//! status a client can act on: 400 bad parameters, 401 bad token, 403 not a
//! member, 410 expired cursor, 503 still warming up.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use im_service::auth::{self, Principal};
use im_store::Store;
use relation_stream::table::RelationCache;
use serde::Serialize;
use serde_json::json;

use crate::cursor::SyncCursor;
use crate::query::{self, QueryError};
use crate::Config;

const REQUESTS: &str = "im_reader_requests_total";
const DEFAULT_LIMIT: usize = 100;

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    store: Arc<Store>,
    relations: Arc<RelationCache>,
}

impl AppState {
    pub fn new(config: Config, store: Arc<Store>, relations: Arc<RelationCache>) -> Self {
        Self { inner: Arc::new(Inner { config, store, relations }) }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/sync", get(sync))
        .route("/v1/sessions", get(sessions))
        .route("/v1/sessions/{session_id}/history", get(history))
        .route("/v1/devices", get(devices))
        .with_state(state)
}

pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    reason: String,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, reason: impl Into<String>) -> Self {
        Self { status, kind, reason: reason.into() }
    }

    fn bad_request(reason: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", reason)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"error": self.kind, "reason": self.reason}))).into_response()
    }
}

impl From<QueryError> for ApiError {
    fn from(error: QueryError) -> Self {
        match error {
            QueryError::CursorExpired => ApiError::new(StatusCode::GONE, "cursor_expired", error.to_string()),
            QueryError::NotMember(_) => ApiError::new(StatusCode::FORBIDDEN, "not_member", error.to_string()),
            QueryError::Store(store) => {
                tracing::error!(error = %store, "store read failed");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "store read failed")
            }
        }
    }
}

fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    let header = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    auth::verify_header(&state.inner.config.auth_secret, header)
        .map_err(|error| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", error.to_string()))
}

fn limit(params: &HashMap<String, String>, max: usize) -> Result<usize, ApiError> {
    match params.get("limit") {
        None => Ok(DEFAULT_LIMIT.min(max)),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(format!("limit must be an integer in 1..={max}"))),
        },
    }
}

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T, QueryError> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", error.to_string()))?
        .map_err(ApiError::from)
}

/// `GET /v1/sync?cursor=<token>&limit=<n>`: everything new for the caller.
async fn sync(State(state): State<AppState>, headers: HeaderMap, Query(params): Query<HashMap<String, String>>) -> Result<Response, ApiError> {
    metrics::counter!(REQUESTS, "route" => "sync").increment(1);
    let principal = authenticate(&state, &headers)?;
    let limit = limit(&params, state.inner.config.max_limit)?;
    let cursor = match params.get("cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(text) => Some(SyncCursor::decode(text).map_err(|e| ApiError::bad_request(e.to_string()))?),
    };
    let store = state.inner.store.clone();
    let page = blocking(move || query::sync(&store, &principal.subject, cursor, limit)).await?;
    Ok(Json(page).into_response())
}

/// `GET /v1/sessions/{id}/history?before=<seq>&limit=<n>`: older messages, newest first.
async fn history(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(session_id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    metrics::counter!(REQUESTS, "route" => "history").increment(1);
    let principal = authenticate(&state, &headers)?;
    im_model::ids::validate("session_id", &session_id).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let limit = limit(&params, state.inner.config.max_limit)?;
    let before = match params.get("before") {
        None => None,
        Some(text) => Some(text.parse::<u64>().map_err(|_| ApiError::bad_request("before must be a seq (unsigned integer)"))?),
    };
    let store = state.inner.store.clone();
    let page = blocking(move || query::history(&store, &principal.subject, &session_id, before, limit)).await?;
    Ok(Json(page).into_response())
}

#[derive(Serialize)]
struct SessionSummary {
    session_id: String,
    kind: im_model::SessionKind,
    mode: im_model::Mode,
    last_seq: u64,
    member_count: u64,
}

/// `GET /v1/sessions`: the caller's current sessions, from the relation cache.
async fn sessions(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    metrics::counter!(REQUESTS, "route" => "sessions").increment(1);
    let principal = authenticate(&state, &headers)?;
    if !state.inner.relations.is_caught_up() {
        return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "warming_up", "relation cache is still loading"));
    }
    let session_ids = state.inner.relations.sessions_of(&principal.subject);
    let store = state.inner.store.clone();
    let summaries = blocking(move || {
        let mut out = Vec::with_capacity(session_ids.len());
        for session_id in session_ids {
            // The relation table can be a moment ahead of the store: list what the store has.
            if let Some(record) = store.session(&session_id)? {
                let mode = record.mode();
                out.push(SessionSummary { session_id, kind: record.kind, mode, last_seq: record.last_seq, member_count: record.member_count });
            }
        }
        Ok(out)
    })
    .await?;
    Ok(Json(json!({ "sessions": summaries })).into_response())
}

/// `GET /v1/devices`: the caller's registered devices.
async fn devices(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let principal = authenticate(&state, &headers)?;
    Ok(Json(json!({ "devices": state.inner.relations.devices_of(&principal.subject) })).into_response())
}
