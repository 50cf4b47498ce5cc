//! The importers' side of `POST /v1/events`, shared by `replay` and `generate`.
//!
//! [`Sink`] collects envelopes into batches and sends them one at a time, in
//! order, waiting for each answer before the next: with one request in flight the
//! order in which a session's events reach Kafka is the order they were produced.
//! A 503 or a connection error is retried with the same body (event ids make the
//! retry harmless); any other refusal stops the run with the server's reason.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use im_model::{Envelope, Event, SessionKind};

use crate::config::ClientArgs;

const PROGRESS_EVERY: Duration = Duration::from_secs(10);
const MAX_ATTEMPTS: u32 = 8;

/// A client of one ingest, authenticated as a service subject (`svc:...`).
pub struct BulkClient {
    http: reqwest::Client,
    url: String,
    authorization: String,
}

impl BulkClient {
    pub fn new(base_url: &str, secret: &str, subject: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).build().context("build http client")?;
        let url = format!("{}/v1/events", base_url.trim_end_matches('/'));
        Ok(Self { http, url, authorization: format!("Bearer {}", im_service::auth::mint(secret, subject)) })
    }

    /// Sends one batch and waits until ingest answered 202 (all acknowledged).
    pub async fn send(&self, batch: &[Envelope]) -> anyhow::Result<()> {
        let body = encode_batch(batch);
        let mut backoff = Duration::from_millis(200);
        for attempt in 1..=MAX_ATTEMPTS {
            let request =
                self.http.post(&self.url).header("authorization", &self.authorization).header("content-type", "application/json");
            let retry_reason = match request.body(body.clone()).send().await {
                Ok(response) if response.status().is_success() => return Ok(()),
                Ok(response) if response.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE => {
                    response.text().await.unwrap_or_default()
                }
                Ok(response) => {
                    let status = response.status();
                    bail!("ingest refused a batch with {status}: {}", response.text().await.unwrap_or_default());
                }
                Err(error) => error.to_string(),
            };
            tracing::warn!(attempt, reason = %retry_reason, "batch not accepted; retrying");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
        bail!("ingest at {} did not accept a batch after {MAX_ATTEMPTS} attempts", self.url)
    }
}

/// The body of `/v1/events`: a JSON array of contract-v1 envelopes.
pub fn encode_batch(batch: &[Envelope]) -> Vec<u8> {
    let mut body = Vec::with_capacity(batch.len() * 256 + 2);
    body.push(b'[');
    for (i, envelope) in batch.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&envelope.to_json());
    }
    body.push(b']');
    body
}

/// What a run produced, printed as one summary line at the end.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    pub events_by_type: BTreeMap<&'static str, u64>,
    pub sessions_by_kind: BTreeMap<&'static str, u64>,
    /// Dataset lines that could not be read (replay only).
    pub bad_lines: u64,
    /// The sender of the first message: a user with traffic to look at afterwards.
    pub sample_user: Option<String>,
}

impl Tally {
    pub fn observe(&mut self, envelope: &Envelope) {
        *self.events_by_type.entry(envelope.event.type_name()).or_default() += 1;
        if let Event::SessionCreated(created) = &envelope.event {
            let kind = match created.kind {
                SessionKind::Direct => "direct",
                SessionKind::Group => "group",
                SessionKind::Room => "room",
            };
            *self.sessions_by_kind.entry(kind).or_default() += 1;
        }
        if self.sample_user.is_none() && matches!(envelope.event, Event::Message(_)) {
            self.sample_user = Some(envelope.actor.clone());
        }
    }

    pub fn events(&self) -> u64 {
        self.events_by_type.values().sum()
    }
}

/// A finished run: its tally, wall time and whether anything was published.
pub struct Summary {
    pub label: &'static str,
    pub tally: Tally,
    pub wall: Duration,
    pub published: bool,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let events = self.tally.events();
        let seconds = self.wall.as_secs_f64();
        write!(f, "{} done: events={events} published={}", self.label, self.published)?;
        for (event_type, count) in &self.tally.events_by_type {
            write!(f, " {event_type}={count}")?;
        }
        for kind in ["room", "direct", "group"] {
            write!(f, " sessions_{kind}={}", self.tally.sessions_by_kind.get(kind).copied().unwrap_or(0))?;
        }
        let rate = if seconds > 0.0 { events as f64 / seconds } else { 0.0 };
        write!(f, " bad_lines={} wall_s={seconds:.2} events_per_s={rate:.0}", self.tally.bad_lines)
    }
}

/// Batches envelopes and publishes them (or only counts them on a dry run).
pub struct Sink {
    label: &'static str,
    client: Option<BulkClient>,
    batch_size: usize,
    buffer: Vec<Envelope>,
    pub tally: Tally,
    started: Instant,
    last_progress: Instant,
}

impl Sink {
    pub fn new(label: &'static str, args: &ClientArgs, subject: &str) -> anyhow::Result<Self> {
        let client = if args.dry_run { None } else { Some(BulkClient::new(&args.ingest_url, &args.auth_secret, subject)?) };
        let now = Instant::now();
        Ok(Self {
            label,
            client,
            batch_size: args.batch as usize,
            buffer: Vec::new(),
            tally: Tally::default(),
            started: now,
            last_progress: now,
        })
    }

    pub async fn push(&mut self, envelope: Envelope) -> anyhow::Result<()> {
        self.buffer.push(envelope);
        if self.buffer.len() >= self.batch_size {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> anyhow::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        if let Some(client) = &self.client {
            client.send(&self.buffer).await?;
        }
        for envelope in self.buffer.drain(..) {
            self.tally.observe(&envelope);
        }
        if self.last_progress.elapsed() >= PROGRESS_EVERY {
            self.last_progress = Instant::now();
            let events = self.tally.events();
            let elapsed_s = self.started.elapsed().as_secs_f64();
            tracing::info!(label = self.label, events, elapsed_s, events_per_s = events as f64 / elapsed_s, "progress");
        }
        Ok(())
    }

    /// Sends what is left and returns the summary.
    pub async fn finish(mut self) -> anyhow::Result<Summary> {
        self.flush().await?;
        Ok(Summary { label: self.label, tally: self.tally, wall: self.started.elapsed(), published: self.client.is_some() })
    }
}
