//! Metric names of fanout-worker. Labels have bounded cardinality (event type and
//! outcome, never a user or session id).

pub const EVENTS: &str = "im_fanout_events_total";
pub const LOG_ENTRIES: &str = "im_fanout_log_entries_total";
pub const INBOX_ENTRIES: &str = "im_fanout_inbox_entries_total";
pub const MODE_SWITCHES: &str = "im_fanout_mode_switches_total";
pub const BATCH_SECONDS: &str = "im_fanout_batch_seconds";
pub const BATCH_RECORDS: &str = "im_fanout_batch_records";
pub const DEAD_LETTERS: &str = "im_fanout_dead_letters_total";
