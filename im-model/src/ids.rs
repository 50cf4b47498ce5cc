//! Identifier rules. Ids are short ASCII strings so that they can be embedded in
//! RocksDB keys with a `0x00` terminator (see [`crate::keys`]) and printed in logs.

/// Longest accepted id, in bytes.
pub const MAX_ID_LEN: usize = 128;

/// Why an id was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{field} is empty")]
    Empty { field: &'static str },
    #[error("{field} is longer than {MAX_ID_LEN} bytes")]
    TooLong { field: &'static str },
    #[error("{field} contains {found:?}; allowed are A-Z a-z 0-9 and . _ - : @ #")]
    BadChar { field: &'static str, found: char },
}

/// Checks one id: 1..=128 bytes of `[A-Za-z0-9._\-:@#]`.
pub fn validate(field: &'static str, id: &str) -> Result<(), IdError> {
    if id.is_empty() {
        return Err(IdError::Empty { field });
    }
    if id.len() > MAX_ID_LEN {
        return Err(IdError::TooLong { field });
    }
    if let Some(found) = id.chars().find(|c| !is_id_char(*c)) {
        return Err(IdError::BadChar { field, found });
    }
    Ok(())
}

fn is_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '@' | '#')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_typical_ids() {
        for id in ["u00042", "room:ubuntu", "t:2004-12-25#1002", "a@b.c", "x"] {
            assert_eq!(validate("id", id), Ok(()), "{id}");
        }
    }

    #[test]
    fn refuses_empty_long_and_odd_ids() {
        assert_eq!(validate("user_id", ""), Err(IdError::Empty { field: "user_id" }));
        assert_eq!(validate("user_id", &"a".repeat(129)), Err(IdError::TooLong { field: "user_id" }));
        assert_eq!(validate("user_id", "a b"), Err(IdError::BadChar { field: "user_id", found: ' ' }));
        assert_eq!(validate("user_id", "a\0b"), Err(IdError::BadChar { field: "user_id", found: '\0' }));
        assert!(validate("user_id", "é").is_err());
    }
}
