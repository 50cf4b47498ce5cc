//! Metric names of ingest. Labels have bounded cardinality: route template, status
//! code and event type, never a user or session id.

/// Requests answered, by `route` (the path template) and `status`.
pub const REQUESTS: &str = "im_ingest_requests_total";
/// Records acknowledged by Kafka, by event `type`.
pub const EVENTS_PUBLISHED: &str = "im_ingest_events_published_total";
/// Time from the first send of a request's records to the last acknowledgement.
pub const PUBLISH_SECONDS: &str = "im_ingest_publish_seconds";
/// Requests refused because Kafka failed.
pub const PUBLISH_FAILURES: &str = "im_ingest_publish_failures_total";
