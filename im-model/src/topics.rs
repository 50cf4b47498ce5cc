//! Topic names of contract v1. The names carry the major version so a breaking
//! change gets new topics instead of surprising old consumers. A deployment may
//! prefix every name (`IM_TOPIC_PREFIX`), which tests use to get fresh topics on a
//! shared broker.

use crate::envelope::Event;

/// Everything that belongs to one session, keyed by session id (total order per session).
pub const SESSION: &str = "im.session.v1";
/// User-scoped relation events (devices), keyed by user id.
pub const RELATION: &str = "im.relation.v1";
/// Compacted table of the current relation pairs, published by relation-stream.
pub const RELATION_TABLE: &str = "im.relation.table.v1";
/// Records that could not be parsed or applied, with the reason.
pub const DEAD_LETTER: &str = "im.deadletter.v1";

/// One topic's creation settings; `scripts/kafka.sh` creates the same set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
    pub config: &'static [(&'static str, &'static str)],
}

/// The topic names of one deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    pub session: String,
    pub relation: String,
    pub relation_table: String,
    pub dead_letter: String,
}

impl Default for Topics {
    fn default() -> Self {
        Self::with_prefix("")
    }
}

impl Topics {
    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            session: format!("{prefix}{SESSION}"),
            relation: format!("{prefix}{RELATION}"),
            relation_table: format!("{prefix}{RELATION_TABLE}"),
            dead_letter: format!("{prefix}{DEAD_LETTER}"),
        }
    }

    /// The topic an event is published to (its key is `event.route().1`).
    pub fn for_event(&self, event: &Event) -> &str {
        match event.route().0 {
            SESSION => &self.session,
            _ => &self.relation,
        }
    }

    /// Creation settings: logs are kept forever (the stores are rebuilt from them);
    /// the relation table is compacted.
    pub fn specs(&self) -> Vec<TopicSpec> {
        const KEEP: &[(&str, &str)] = &[("retention.ms", "-1")];
        const COMPACT: &[(&str, &str)] = &[("cleanup.policy", "compact")];
        vec![
            TopicSpec { name: self.session.clone(), partitions: 8, config: KEEP },
            TopicSpec { name: self.relation.clone(), partitions: 4, config: KEEP },
            TopicSpec { name: self.relation_table.clone(), partitions: 4, config: COMPACT },
            TopicSpec { name: self.dead_letter.clone(), partitions: 1, config: KEEP },
        ]
    }
}
