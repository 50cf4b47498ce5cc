//! All RocksDB key encoding, in one place.
//!
//! Ids never contain `0x00` (see [`crate::ids`]), so `id 0x00 ...` is unambiguous
//! and sorts ids lexicographically; integers are fixed-width big-endian so byte
//! order equals numeric order. A prefix scan over `id 0x00` therefore yields one
//! session's log or one user's inbox in seq order.

/// Separator after an id; below every allowed id byte.
pub const SEP: u8 = 0x00;

/// `id 0x00`: the prefix of every key that starts with `id`.
pub fn prefix(id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(id.len() + 1);
    key.extend_from_slice(id.as_bytes());
    key.push(SEP);
    key
}

/// `id 0x00 seq(u64 BE)`: session log entries and inbox entries.
pub fn id_seq(id: &str, seq: u64) -> Vec<u8> {
    let mut key = prefix(id);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// Inverse of [`id_seq`].
pub fn decode_id_seq(key: &[u8]) -> Option<(&str, u64)> {
    let (id, rest) = split_id(key)?;
    let seq = u64::from_be_bytes(rest.try_into().ok()?);
    Some((id, seq))
}

/// `a 0x00 b`: membership in both directions, dedup tokens.
pub fn id_pair(a: &str, b: &str) -> Vec<u8> {
    let mut key = prefix(a);
    key.extend_from_slice(b.as_bytes());
    key
}

/// Inverse of [`id_pair`].
pub fn decode_id_pair(key: &[u8]) -> Option<(&str, &str)> {
    let (a, rest) = split_id(key)?;
    let b = std::str::from_utf8(rest).ok()?;
    Some((a, b))
}

/// Where a consumer has applied up to on one partition: `offset 0x00 topic 0x00 partition(u32 BE)`.
pub fn offset(topic: &str, partition: i32) -> Vec<u8> {
    let mut key = id_pair("offset", topic);
    key.push(SEP);
    key.extend_from_slice(&(partition as u32).to_be_bytes());
    key
}

fn split_id(key: &[u8]) -> Option<(&str, &[u8])> {
    let sep = key.iter().position(|b| *b == SEP)?;
    let id = std::str::from_utf8(&key[..sep]).ok()?;
    Some((id, &key[sep + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_seq_round_trips() {
        for (id, seq) in [("s1", 0), ("room:ubuntu", 1), ("u", u64::MAX), ("t:2004#7", 1 << 40)] {
            assert_eq!(decode_id_seq(&id_seq(id, seq)), Some((id, seq)));
        }
    }

    #[test]
    fn id_pair_round_trips() {
        assert_eq!(decode_id_pair(&id_pair("s1", "u2")), Some(("s1", "u2")));
        assert_eq!(decode_id_pair(&id_pair("s1", "")), Some(("s1", "")));
    }

    #[test]
    fn byte_order_equals_seq_order_within_an_id() {
        let seqs = [1u64, 2, 9, 10, 255, 256, 65_535, 65_536, 1 << 32, u64::MAX];
        for pair in seqs.windows(2) {
            assert!(id_seq("s", pair[0]) < id_seq("s", pair[1]), "{pair:?}");
        }
    }

    #[test]
    fn byte_order_equals_id_then_seq_order() {
        // A shorter id that is a prefix of a longer one sorts first, whatever the seq.
        assert!(id_seq("s", u64::MAX) < id_seq("s1", 0));
        assert!(id_seq("a", 5) < id_seq("b", 1));
        assert!(id_pair("s", "zz") < id_pair("s1", "a"));
    }

    #[test]
    fn prefix_covers_exactly_its_id() {
        let p = prefix("s");
        assert!(id_seq("s", 7).starts_with(&p));
        assert!(!id_seq("s1", 7).starts_with(&p));
    }

    #[test]
    fn offset_keys_order_by_partition() {
        assert!(offset("t", 1) < offset("t", 2));
        assert!(offset("t", 255) < offset("t", 256));
    }
}
