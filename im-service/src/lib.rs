//! What every service binary wires the same way.
//!
//! - [`telemetry`]: tracing subscriber and the Prometheus recorder.
//! - [`shutdown`]: a cancellation token fired by SIGTERM or Ctrl-C.
//! - [`auth`]: HMAC bearer tokens shared by ingest and reader-api.
//! - [`http`]: serve an axum router until shutdown, with `/metrics` and `/health`.

pub mod auth;
pub mod http;
pub mod shutdown;
pub mod telemetry;
