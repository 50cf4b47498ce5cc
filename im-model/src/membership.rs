//! Membership periods and the rules of who may change a session.
//!
//! Membership changes at an exact point of the session's ordered stream: a join
//! applied when the session's last seq is `n` makes the member see seq `n + 1` on;
//! a leave at `m` makes seq `m` the last one they see. A re-join opens a new
//! period, so the gap between periods stays invisible. With `history_visible`, the
//! first join also reveals everything before it (re-joins never reveal gaps).

use serde::{Deserialize, Serialize};

use crate::envelope::{SessionKind, SessionSettings};

/// One inclusive range of seqs a member may see; `to: None` while still a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: u64,
    pub to: Option<u64>,
}

/// All periods of one user in one session, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Periods(pub Vec<Period>);

impl Periods {
    pub fn is_member(&self) -> bool {
        self.0.last().is_some_and(|p| p.to.is_none())
    }

    /// Opens a period after `last_seq`; false if already a member.
    pub fn join(&mut self, last_seq: u64, history_visible: bool) -> bool {
        if self.is_member() {
            return false;
        }
        let from = if self.0.is_empty() && history_visible { 1 } else { last_seq + 1 };
        self.0.push(Period { from, to: None });
        true
    }

    /// Closes the open period at `last_seq`; false if not a member.
    pub fn leave(&mut self, last_seq: u64) -> bool {
        match self.0.last_mut() {
            Some(open) if open.to.is_none() => {
                open.to = Some(last_seq);
                true
            }
            _ => false,
        }
    }

    pub fn contains(&self, seq: u64) -> bool {
        self.0.iter().any(|p| seq >= p.from && p.to.is_none_or(|to| seq <= to))
    }

    /// The visible seq ranges within `(after, upto]`, ascending, inclusive bounds.
    pub fn ranges(&self, after: u64, upto: u64) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.0.iter().filter_map(move |p| {
            let from = p.from.max(after + 1);
            let to = p.to.unwrap_or(u64::MAX).min(upto);
            (from <= to).then_some((from, to))
        })
    }
}

/// What the rules need to know about a session.
#[derive(Debug, Clone, Copy)]
pub struct SessionFacts<'a> {
    pub kind: SessionKind,
    pub owner: &'a str,
    pub settings: SessionSettings,
}

/// May `actor` add `user`, given whether the actor is currently a member?
pub fn may_add(facts: SessionFacts<'_>, actor: &str, actor_is_member: bool, user: &str) -> Result<(), String> {
    if facts.kind == SessionKind::Direct {
        return Err("members of a direct session are fixed".into());
    }
    if actor_is_member || (actor == user && facts.settings.join_open) {
        return Ok(());
    }
    Err(format!("{actor} is not a member and the session is not open to join"))
}

/// May `actor` remove `user`? Members may leave; the owner may remove anyone.
pub fn may_remove(facts: SessionFacts<'_>, actor: &str, user: &str) -> Result<(), String> {
    if facts.kind == SessionKind::Direct {
        return Err("members of a direct session are fixed".into());
    }
    if actor == user || actor == facts.owner {
        return Ok(());
    }
    Err(format!("{actor} may not remove {user}: only the owner removes others"))
}

/// May `actor` change the settings? Only the owner.
pub fn may_change_settings(facts: SessionFacts<'_>, actor: &str) -> Result<(), String> {
    if actor == facts.owner {
        return Ok(());
    }
    Err(format!("{actor} is not the owner"))
}

/// May `actor` recall a message sent by `sender`? The sender or the owner.
pub fn may_recall(facts: SessionFacts<'_>, actor: &str, sender: &str) -> Result<(), String> {
    if actor == sender || actor == facts.owner {
        return Ok(());
    }
    Err(format!("{actor} may not recall a message of {sender}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_sees_from_next_seq_and_leave_sees_up_to_current() {
        let mut p = Periods::default();
        assert!(p.join(10, false));
        assert!(!p.join(12, false), "second join while member is a no-op");
        assert!(p.leave(20));
        assert!(!p.leave(21), "second leave is a no-op");
        assert!(!p.contains(10));
        assert!(p.contains(11) && p.contains(20));
        assert!(!p.contains(21));
    }

    #[test]
    fn rejoin_shows_both_periods_never_the_gap() {
        let mut p = Periods::default();
        p.join(0, true);
        p.leave(5);
        p.join(9, true); // history_visible only applies to the first join
        assert!((1..=5).all(|s| p.contains(s)));
        assert!((6..=9).all(|s| !p.contains(s)));
        assert!(p.contains(10) && p.contains(1000));
        assert_eq!(p.ranges(3, 12).collect::<Vec<_>>(), vec![(4, 5), (10, 12)]);
        assert_eq!(p.ranges(5, 9).count(), 0);
    }

    #[test]
    fn history_visible_first_join_starts_at_one() {
        let mut p = Periods::default();
        p.join(42, true);
        assert!(p.contains(1));
    }

    #[test]
    fn join_and_leave_without_messages_sees_nothing() {
        let mut p = Periods::default();
        p.join(7, false);
        p.leave(7);
        assert_eq!(p.ranges(0, 100).count(), 0);
    }

    const ROOM: SessionFacts<'static> = SessionFacts {
        kind: SessionKind::Room,
        owner: "owner",
        settings: SessionSettings { history_visible: false, join_open: true },
    };

    #[test]
    fn rules_follow_roles() {
        assert!(may_add(ROOM, "u1", false, "u1").is_ok(), "open room: self-join");
        assert!(may_add(ROOM, "u1", false, "u2").is_err(), "outsider adds someone else");
        let group = SessionFacts { kind: SessionKind::Group, settings: SessionSettings::default(), ..ROOM };
        assert!(may_add(group, "u1", false, "u1").is_err(), "closed group: no self-join");
        assert!(may_add(group, "u1", true, "u9").is_ok(), "members invite");
        assert!(may_remove(group, "u1", "u1").is_ok());
        assert!(may_remove(group, "u1", "u2").is_err());
        assert!(may_remove(group, "owner", "u2").is_ok());
        let direct = SessionFacts { kind: SessionKind::Direct, ..group };
        assert!(may_add(direct, "owner", true, "u3").is_err());
        assert!(may_recall(group, "u1", "u1").is_ok());
        assert!(may_recall(group, "u1", "u2").is_err());
        assert!(may_recall(group, "owner", "u2").is_ok());
        assert!(may_change_settings(group, "u1").is_err());
    }
}
