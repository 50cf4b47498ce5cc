//! The shared vocabulary of the message store: what travels on Kafka and how it is
//! keyed on disk, plus the pure decisions every service must agree on.
//!
//! - [`envelope`]: topic contract v1, the JSON envelope and its validating parser.
//! - [`ids`]: validation of user, session, device and event ids.
//! - [`keys`]: RocksDB key encoding (byte order equals logical order).
//! - [`mode`]: write- or read-diffusion decision per session, with hysteresis.
//! - [`membership`]: membership periods and who may do what to a session.
//! - [`topics`]: topic names.
//!
//! Nothing here does I/O; everything is tested without Kafka or disks.

pub mod envelope;
pub mod ids;
pub mod keys;
pub mod membership;
pub mod mode;
pub mod topics;

pub use envelope::{ContentKind, Envelope, EnvelopeError, Event, SessionKind, SessionSettings};
pub use mode::{Mode, ModePolicy};
