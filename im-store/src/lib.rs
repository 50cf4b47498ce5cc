//! RocksDB views of the Kafka log. Each store has exactly one writing process; the
//! writer records the Kafka offsets it has applied in the same `WriteBatch` as the
//! data, so a restart resumes exactly where the data stops. Readers open the store
//! as a RocksDB secondary instance and catch up with the primary periodically.
//!
//! - [`db`]: opening (primary or secondary), column families, offsets, store epoch.
//! - [`records`]: the values stored, as plain serde types.
//! - [`batch`]: the only way to write: a typed `WriteBatch` that encodes keys.
//! - [`reads`]: the queries the services run.

pub mod batch;
pub mod db;
pub mod reads;
pub mod records;

pub use batch::Batch;
pub use db::{cf, Store, StoreError};
pub use records::{Era, InboxEntry, InboxItem, LogEntry, Recalled, SessionRecord};
