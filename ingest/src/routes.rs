//! HTTP handlers. Every route authenticates the bearer token first (401), then
//! reads and checks the body (400), then checks who may act for whom (403), and
//! only then publishes and waits for Kafka's acknowledgement (202, or 503 when
//! Kafka fails). The actor of every event built here is the token's subject.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{MatchedPath, Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Json, Router};
use im_model::envelope::{DeviceChange, MemberChange, MessageSent, Recall, SessionCreated};
use im_model::{Envelope, Event};
use im_service::auth::{self, Principal};
use serde_json::{json, Value};

use crate::config::{ServeConfig, MAX_BATCH_EVENTS};
use crate::error::ApiError;
use crate::metrics;
use crate::publish::Publisher;
use crate::requests::{self, AddDevice, AddMember, CreateSession, RecallMessage, SendMessage};

#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    config: ServeConfig,
    publisher: Publisher,
}

impl AppState {
    pub fn new(config: ServeConfig, publisher: Publisher) -> Self {
        Self { inner: Arc::new(Inner { config, publisher }) }
    }

    fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, ApiError> {
        let header = headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok());
        Ok(auth::verify_header(&self.inner.config.auth_secret, header)?)
    }

    fn max_body(&self) -> usize {
        self.inner.config.max_body_bytes
    }

    /// Validates and publishes one event; answers 202 with its id.
    async fn publish_one(&self, envelope: Envelope) -> Result<Response, ApiError> {
        envelope.validate()?;
        self.publish(std::slice::from_ref(&envelope)).await?;
        Ok((StatusCode::ACCEPTED, Json(json!({"event_id": envelope.event_id}))).into_response())
    }

    async fn publish(&self, envelopes: &[Envelope]) -> Result<(), ApiError> {
        self.inner.publisher.publish(envelopes).await.map_err(|error| {
            tracing::warn!(%error, events = envelopes.len(), "publish failed");
            ::metrics::counter!(metrics::PUBLISH_FAILURES).increment(1);
            ApiError::unavailable(error.to_string())
        })
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/sessions", post(create_session))
        .route("/v1/sessions/{session_id}/members", post(add_member))
        .route("/v1/sessions/{session_id}/members/{user_id}", delete(remove_member))
        .route("/v1/sessions/{session_id}/messages", post(send_message))
        .route("/v1/sessions/{session_id}/recall", post(recall))
        .route("/v1/devices", post(add_device))
        .route("/v1/devices/{device_id}", delete(remove_device))
        .route("/v1/events", post(publish_events))
        .route_layer(middleware::from_fn(count_requests))
        .with_state(state)
}

/// Counts every answer under its route template (bounded cardinality) and status.
async fn count_requests(matched: MatchedPath, request: Request, next: Next) -> Response {
    let route = matched.as_str().to_string();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    ::metrics::counter!(metrics::REQUESTS, "route" => route, "status" => status).increment(1);
    response
}

fn envelope(event_id: String, actor: &Principal, event: Event) -> Envelope {
    Envelope { event_id, ts_ms: requests::now_ms(), actor: actor.subject.clone(), event }
}

async fn create_session(State(app): State<AppState>, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    let principal = app.authenticate(&headers)?;
    let request: CreateSession = requests::read_json(body, app.max_body()).await?;
    if !request.members.contains(&principal.subject) {
        return Err(ApiError::bad_request("invalid_request", "the creator must be one of the members"));
    }
    let event_id = requests::event_id(request.request_id.as_deref(), "session_created", &request.session_id, &principal.subject)?;
    let event = Event::SessionCreated(SessionCreated {
        session_id: request.session_id,
        kind: request.kind,
        members: request.members,
        settings: request.settings,
    });
    app.publish_one(envelope(event_id, &principal, event)).await
}

async fn add_member(
    State(app): State<AppState>,
    session_id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let principal = app.authenticate(&headers)?;
    let Path(session_id) = session_id?;
    let request: AddMember = requests::read_json(body, app.max_body()).await?;
    let event_id = requests::event_id(request.request_id.as_deref(), "member_added", &session_id, &principal.subject)?;
    let event = Event::MemberAdded(MemberChange { session_id, user_id: request.user_id });
    app.publish_one(envelope(event_id, &principal, event)).await
}

async fn remove_member(
    State(app): State<AppState>,
    ids: Result<Path<(String, String)>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let principal = app.authenticate(&headers)?;
    let Path((session_id, user_id)) = ids?;
    let event_id = requests::event_id(None, "member_removed", &session_id, &principal.subject)?;
    let event = Event::MemberRemoved(MemberChange { session_id, user_id });
    app.publish_one(envelope(event_id, &principal, event)).await
}

async fn send_message(
    State(app): State<AppState>,
    session_id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let principal = app.authenticate(&headers)?;
    let Path(session_id) = session_id?;
    let request: SendMessage = requests::read_json(body, app.max_body()).await?;
    let event_id = requests::message_event_id(&session_id, &principal.subject, &request.client_msg_id);
    let event =
        Event::Message(MessageSent { session_id, client_msg_id: request.client_msg_id, kind: request.kind, text: request.text });
    app.publish_one(envelope(event_id, &principal, event)).await
}

async fn recall(
    State(app): State<AppState>,
    session_id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let principal = app.authenticate(&headers)?;
    let Path(session_id) = session_id?;
    let request: RecallMessage = requests::read_json(body, app.max_body()).await?;
    let event_id = requests::event_id(request.request_id.as_deref(), "recall", &session_id, &principal.subject)?;
    let event = Event::Recall(Recall { session_id, seq: request.seq });
    app.publish_one(envelope(event_id, &principal, event)).await
}

async fn add_device(State(app): State<AppState>, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    let principal = app.authenticate(&headers)?;
    let request: AddDevice = requests::read_json(body, app.max_body()).await?;
    let event_id = requests::event_id(request.request_id.as_deref(), "device_added", &principal.subject, &principal.subject)?;
    let event = Event::DeviceAdded(DeviceChange { user_id: principal.subject.clone(), device_id: request.device_id });
    app.publish_one(envelope(event_id, &principal, event)).await
}

async fn remove_device(
    State(app): State<AppState>,
    device_id: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let principal = app.authenticate(&headers)?;
    let Path(device_id) = device_id?;
    let event_id = requests::event_id(None, "device_removed", &principal.subject, &principal.subject)?;
    let event = Event::DeviceRemoved(DeviceChange { user_id: principal.subject.clone(), device_id });
    app.publish_one(envelope(event_id, &principal, event)).await
}

/// The bulk path for importers: a JSON array of complete v1 envelopes, accepted or
/// refused as a whole.
async fn publish_events(State(app): State<AppState>, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    let principal = app.authenticate(&headers)?;
    let bytes = requests::read_body(body, app.inner.config.max_batch_body_bytes).await?;
    let value: Value = serde_json::from_str(requests::utf8(&bytes)?).map_err(|error| ApiError::from_json(&error))?;
    let envelopes = parse_batch(&principal, value)?;
    app.publish(&envelopes).await?;
    let event_ids: Vec<&str> = envelopes.iter().map(|envelope| envelope.event_id.as_str()).collect();
    Ok((StatusCode::ACCEPTED, Json(json!({"accepted": envelopes.len(), "event_ids": event_ids}))).into_response())
}

/// Parses every element with the topic contract's parser and checks that the
/// principal may act as its actor; the first refusal names its index.
fn parse_batch(principal: &Principal, value: Value) -> Result<Vec<Envelope>, ApiError> {
    let Value::Array(values) = value else {
        return Err(ApiError::bad_request("invalid_request", "body must be a JSON array of v1 envelopes"));
    };
    if values.len() > MAX_BATCH_EVENTS {
        let reason = format!("{} events in one request; at most {MAX_BATCH_EVENTS}", values.len());
        return Err(ApiError::bad_request("too_many_events", reason));
    }
    let mut envelopes = Vec::with_capacity(values.len());
    for (index, value) in values.into_iter().enumerate() {
        let envelope = im_model::envelope::parse_value(value).map_err(|error| ApiError::from(error).at_index(index))?;
        if !principal.may_act_as(&envelope.actor) {
            let reason = format!("{} may not act as {}", principal.subject, envelope.actor);
            return Err(ApiError::forbidden(reason).at_index(index));
        }
        envelopes.push(envelope);
    }
    Ok(envelopes)
}
