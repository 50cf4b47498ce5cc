//! One line of the Ubuntu IRC dataset (`shared/data/ubuntu-irc/README.md`), read
//! strictly enough that everything the converter builds from it is a valid event:
//! ids are checked here, so a bad user or thread id makes a bad line, not a
//! refused batch.

use im_model::ids;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Message,
    /// An IRC "/me" line.
    Action,
    Join,
    Leave,
}

/// A parsed dataset line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Line number in the day's original log; unique within a day file.
    pub line: u64,
    pub ts_ms: i64,
    pub kind: LineKind,
    pub room: String,
    pub user: String,
    pub text: String,
    pub thread: Option<String>,
}

impl Line {
    pub fn is_message(&self) -> bool {
        matches!(self.kind, LineKind::Message | LineKind::Action)
    }
}

/// The JSON shape; extra fields such as `reply_to` are ignored.
#[derive(Deserialize)]
struct Raw {
    line: u64,
    ts: String,
    #[serde(rename = "type")]
    kind: String,
    room: String,
    user: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    thread: Option<String>,
}

/// Parses one line; the error is a reason for the bad-line report.
pub fn parse_line(bytes: &[u8]) -> Result<Line, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "line is not valid UTF-8".to_string())?;
    let raw: Raw = serde_json::from_str(text).map_err(|e| format!("malformed line: {e}"))?;
    let kind = match raw.kind.as_str() {
        "message" => LineKind::Message,
        "action" => LineKind::Action,
        "join" => LineKind::Join,
        "leave" => LineKind::Leave,
        other => return Err(format!("unknown line type {other:?}")),
    };
    ids::validate("user", &raw.user).map_err(|e| e.to_string())?;
    ids::validate("room", &raw.room).map_err(|e| e.to_string())?;
    if let Some(thread) = &raw.thread {
        ids::validate("thread", thread).map_err(|e| e.to_string())?;
    }
    let ts_ms = parse_utc(&raw.ts).ok_or_else(|| format!("bad timestamp {:?}", raw.ts))?;
    Ok(Line {
        line: raw.line,
        ts_ms,
        kind,
        room: raw.room,
        user: raw.user,
        text: raw.text.unwrap_or_default(),
        thread: raw.thread,
    })
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` into ms since the epoch.
pub fn parse_utc(ts: &str) -> Option<i64> {
    let b = ts.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| ts.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_timestamps() {
        assert_eq!(parse_utc("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_utc("2004-12-25T09:14:00Z"), Some(1_103_966_040_000));
        assert_eq!(parse_utc("2000-03-01T00:00:01Z"), Some(951_868_801_000));
        assert_eq!(parse_utc("2004-13-25T09:14:00Z"), None);
        assert_eq!(parse_utc("2004-12-25 09:14:00"), None);
    }

    #[test]
    fn parses_lines_and_refuses_bad_ones() {
        let line = br#"{"line": 3, "ts": "2004-12-25T09:15:00Z", "type": "action", "room": "ubuntu", "user": "u1", "text": "waves", "reply_to": [1]}"#;
        let parsed = parse_line(line).unwrap();
        assert_eq!((parsed.line, parsed.kind, parsed.text.as_str(), parsed.thread), (3, LineKind::Action, "waves", None));
        let join = br#"{"line": 4, "ts": "2004-12-25T09:15:00Z", "type": "join", "room": "ubuntu", "user": "u2"}"#;
        assert_eq!(parse_line(join).unwrap().text, "");
        assert!(parse_line(b"{not json").is_err());
        assert!(parse_line(b"\xff").is_err());
        let bad_type = br#"{"line": 4, "ts": "2004-12-25T09:15:00Z", "type": "nick", "room": "ubuntu", "user": "u2"}"#;
        assert!(parse_line(bad_type).unwrap_err().contains("nick"));
        let bad_user = br#"{"line": 4, "ts": "2004-12-25T09:15:00Z", "type": "join", "room": "ubuntu", "user": "a b"}"#;
        assert!(parse_line(bad_user).is_err());
    }
}
