//! Kafka plumbing shared by the services.
//!
//! - [`config`]: client configurations (idempotent producer, store-driven consumer).
//! - [`admin`]: idempotent topic creation.
//! - [`assign`]: a consumer context that starts each assigned partition at the
//!   offset recorded in the consumer's own RocksDB store, not at Kafka's committed
//!   offset: the store is the checkpoint.
//! - [`batch`]: polling a batch, offsets after it.
//! - [`dead_letter`]: the dead-letter record and its publisher.
//! - [`produce`]: publish a batch with every record in flight at once.
//! - [`lag`]: how far a store trails the topic, for drain checks and `/stats`.

pub mod admin;
pub mod assign;
pub mod batch;
pub mod config;
pub mod dead_letter;
pub mod lag;
pub mod produce;

pub use assign::{StoreAssignContext, StoreConsumer};
pub use dead_letter::{DeadLetter, DeadLetterPublisher};
