//! The HTTP contract of ingest over a real socket: the server is the library's
//! `run` on 127.0.0.1:0. Its brokers point at a closed port, which is enough here:
//! every answer checked is decided before anything is published.

use ingest::ServeConfig;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

const SECRET: &str = "test-secret";
const MAX_BODY: usize = 1024;

struct Server {
    base: String,
    http: reqwest::Client,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Server {
    async fn start() -> Server {
        let config = ServeConfig {
            brokers: "127.0.0.1:1".into(),
            topic_prefix: String::new(),
            http_addr: String::new(),
            auth_secret: SECRET.into(),
            max_body_bytes: MAX_BODY,
            max_batch_body_bytes: 16 * 1024,
            publish_timeout_ms: 1000,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(ingest::run(config, listener, shutdown.clone()));
        Server { base, http: reqwest::Client::new(), shutdown, task }
    }

    /// POSTs raw bytes as `subject` (no token when `None`); returns status and JSON.
    async fn post(&self, path: &str, subject: Option<&str>, body: impl Into<reqwest::Body>) -> (StatusCode, Value) {
        let mut request = self.http.post(format!("{}{path}", self.base)).body(body);
        if let Some(subject) = subject {
            request = request.bearer_auth(im_service::auth::mint(SECRET, subject));
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}")))
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap().unwrap();
    }
}

fn envelope(actor: &str, event_type: &str, data: Value) -> Value {
    json!({"schema": 1, "event_id": format!("e-{actor}"), "ts_ms": 1, "actor": actor, "type": event_type, "data": data})
}

fn message(actor: &str) -> Value {
    envelope(actor, "message", json!({"session_id": "s1", "client_msg_id": "c1", "text": "hi"}))
}

#[track_caller]
fn assert_error(answer: &(StatusCode, Value), status: StatusCode, kind: &str, reason_contains: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["error"], kind, "{}", answer.1);
    let reason = answer.1["reason"].as_str().unwrap();
    assert!(reason.contains(reason_contains), "reason {reason:?} lacks {reason_contains:?}");
}

#[tokio::test]
async fn requests_without_a_valid_token_get_401() {
    let server = Server::start().await;
    let body = r#"{"client_msg_id":"c1","text":"hi"}"#;
    let missing = server.post("/v1/sessions/s1/messages", None, body).await;
    assert_error(&missing, StatusCode::UNAUTHORIZED, "unauthorized", "missing");
    let forged = server
        .http
        .post(format!("{}/v1/events", server.base))
        .header("authorization", format!("Bearer {}", im_service::auth::mint("other-secret", "svc:x")))
        .body("[]")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}

#[tokio::test]
async fn acting_as_another_user_in_bulk_gets_403() {
    let server = Server::start().await;
    let body = json!([message("alice"), message("bob")]).to_string();
    let answer = server.post("/v1/events", Some("alice"), body).await;
    assert_error(&answer, StatusCode::FORBIDDEN, "forbidden", "event 1: alice may not act as bob");
    assert_eq!(answer.1["index"], 1);
    server.stop().await;
}

#[tokio::test]
async fn bad_bulk_bodies_get_400_naming_the_element() {
    let server = Server::start().await;
    let unknown = json!([message("svc:a"), envelope("u1", "poke", json!({}))]).to_string();
    let answer = server.post("/v1/events", Some("svc:replay"), unknown).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "unknown_event_type", "event 1: unknown event type \"poke\"");
    assert_eq!(answer.1["index"], 1);

    let missing = json!([envelope("u1", "message", json!({"session_id": "s1", "text": "x"}))]).to_string();
    let answer = server.post("/v1/events", Some("svc:replay"), missing).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_event", "client_msg_id");

    let not_array = server.post("/v1/events", Some("svc:replay"), r#"{"schema":1}"#).await;
    assert_error(&not_array, StatusCode::BAD_REQUEST, "invalid_request", "JSON array");

    let too_large =
        json!([envelope("u1", "message", json!({"session_id": "s1", "client_msg_id": "c", "text": "x".repeat(20_000)}))]);
    let answer = server.post("/v1/events", Some("svc:replay"), too_large.to_string()).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "body_too_large", "16384");
    server.stop().await;
}

#[tokio::test]
async fn bad_single_event_bodies_get_400_with_a_json_reason() {
    let server = Server::start().await;
    let send = "/v1/sessions/s1/messages";
    let alice = Some("alice");
    let answer = server.post(send, alice, b"{\"client_msg_id\":\"c1\",\"text\":\"\xff\"}".to_vec()).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "not_utf8", "UTF-8");
    let answer = server.post(send, alice, r#"{"client_msg_id":"c1","text":"#).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "malformed_json", "EOF");
    let answer = server.post(send, alice, r#"{"client_msg_id":"c1"}"#).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request", "missing field `text`");
    let answer = server.post(send, alice, r#"{"client_msg_id":"c1","text":"x","colour":"red"}"#).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request", "unknown field `colour`");
    let answer = server.post("/v1/sessions/s1/recall", alice, r#"{"seq":"three"}"#).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request", "invalid type");
    let answer = server.post("/v1/sessions/s1/recall", alice, r#"{"seq":0}"#).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_event", "seq must be at least 1");
    let oversize = json!({"client_msg_id": "c1", "text": "x".repeat(MAX_BODY)}).to_string();
    let answer = server.post(send, alice, oversize).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "body_too_large", "1024");
    server.stop().await;
}

#[tokio::test]
async fn invalid_ids_get_400() {
    let server = Server::start().await;
    let body = r#"{"client_msg_id":"c1","text":"hi"}"#;
    let answer = server.post("/v1/sessions/bad%20id/messages", Some("alice"), body).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_id", "session_id");
    let answer = server.post("/v1/sessions/%FF/messages", Some("alice"), body).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_id", "UTF-8");
    let answer = server.post("/v1/sessions/s1/messages", Some("alice"), r#"{"client_msg_id":"c 1","text":"hi"}"#).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_id", "client_msg_id");
    let create = r#"{"session_id":"s!","kind":"group","members":["alice","bob"]}"#;
    let answer = server.post("/v1/sessions", Some("alice"), create).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_id", "session_id");
    let answer = server.post("/v1/sessions/s1/members", Some("alice"), r#"{"user_id":"bob","request_id":"r 1"}"#).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_id", "request_id");
    let answer = server.post("/v1/sessions", Some("carol"), r#"{"session_id":"s2","kind":"group","members":["alice"]}"#).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request", "creator");
    server.stop().await;
}

#[tokio::test]
async fn kafka_failure_gets_503_with_the_reason() {
    let server = Server::start().await;
    let answer = server.post("/v1/sessions/s1/messages", Some("alice"), r#"{"client_msg_id":"c1","text":"hi"}"#).await;
    assert_error(&answer, StatusCode::SERVICE_UNAVAILABLE, "unavailable", "kafka delivery failed");
    // A `#` in an id (thread sessions of the replay) travels percent-encoded.
    let answer = server.post("/v1/sessions/thread:d%231/messages", Some("alice"), r#"{"client_msg_id":"c1","text":"hi"}"#).await;
    assert_error(&answer, StatusCode::SERVICE_UNAVAILABLE, "unavailable", "kafka");
    let bulk = json!([message("svc:replay")]).to_string();
    let answer = server.post("/v1/events", Some("svc:replay"), bulk).await;
    assert_error(&answer, StatusCode::SERVICE_UNAVAILABLE, "unavailable", "kafka");
    server.stop().await;
}

#[tokio::test]
async fn ops_routes_are_served() {
    let server = Server::start().await;
    server.post("/v1/events", None, "[]").await;
    let health = server.http.get(format!("{}/health", server.base)).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let metrics = server.http.get(format!("{}/metrics", server.base)).send().await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    let text = metrics.text().await.unwrap();
    assert!(text.contains("im_ingest_requests_total{route=\"/v1/events\",status=\"401\"}"), "{text}");
    server.stop().await;
}
