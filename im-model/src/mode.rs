//! Which diffusion mode a session uses, decided from its member count alone.
//!
//! Write diffusion copies each message into every member's inbox (cheap reads,
//! writes grow with members); read diffusion writes the shared log only. A session
//! switches to read diffusion when it grows past `write_max_members` and back to
//! write diffusion only when it shrinks to `write_return_members` or fewer; the gap
//! between the two is the hysteresis that keeps a group hovering at the threshold
//! from flapping. `write_return_members: None` means once read, always read.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Write,
    Read,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModePolicy {
    /// Largest member count that still uses write diffusion.
    pub write_max_members: usize,
    /// A read-diffusion session returns to write diffusion at this many members or fewer.
    pub write_return_members: Option<usize>,
}

impl Default for ModePolicy {
    fn default() -> Self {
        Self { write_max_members: 100, write_return_members: Some(50) }
    }
}

impl ModePolicy {
    /// The mode a new session starts in.
    pub fn initial(&self, members: usize) -> Mode {
        if members > self.write_max_members {
            Mode::Read
        } else {
            Mode::Write
        }
    }

    /// The mode after a membership change, given the current mode.
    pub fn next(&self, current: Mode, members: usize) -> Mode {
        match current {
            Mode::Write if members > self.write_max_members => Mode::Read,
            Mode::Read if self.write_return_members.is_some_and(|low| members <= low) => Mode::Write,
            unchanged => unchanged,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: ModePolicy = ModePolicy { write_max_members: 100, write_return_members: Some(50) };

    #[test]
    fn small_sessions_start_in_write_mode_and_large_in_read_mode() {
        assert_eq!(POLICY.initial(2), Mode::Write);
        assert_eq!(POLICY.initial(100), Mode::Write);
        assert_eq!(POLICY.initial(101), Mode::Read);
    }

    #[test]
    fn switches_up_past_the_threshold_and_down_only_below_the_return_mark() {
        assert_eq!(POLICY.next(Mode::Write, 100), Mode::Write);
        assert_eq!(POLICY.next(Mode::Write, 101), Mode::Read);
        for members in [51, 75, 100, 101] {
            assert_eq!(POLICY.next(Mode::Read, members), Mode::Read, "{members}");
        }
        assert_eq!(POLICY.next(Mode::Read, 50), Mode::Write);
    }

    #[test]
    fn never_returns_when_no_return_mark_is_set() {
        let sticky = ModePolicy { write_return_members: None, ..POLICY };
        assert_eq!(sticky.next(Mode::Read, 1), Mode::Read);
    }
}
