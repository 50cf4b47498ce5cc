//! Bearer tokens: `<subject>.<hex HMAC-SHA256(secret, subject)>`.
//!
//! A stand-in for a real identity provider that is still cryptographically honest:
//! only a holder of the shared secret can mint a token, and a token names exactly
//! one subject. Subjects starting with `svc:` are trusted services (importers,
//! bridges) that may act on behalf of any user; everyone else acts as themselves.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Secret used when none is configured; fine on a laptop, refused nowhere, so set
/// `IM_AUTH_SECRET` in any shared deployment.
pub const DEV_SECRET: &str = "im-dev-secret-change-me";
/// Prefix of service subjects.
pub const SERVICE_PREFIX: &str = "svc:";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
}

impl Principal {
    pub fn is_service(&self) -> bool {
        self.subject.starts_with(SERVICE_PREFIX)
    }

    /// May this principal produce events whose actor is `actor`?
    pub fn may_act_as(&self, actor: &str) -> bool {
        self.is_service() || self.subject == actor
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing Authorization: Bearer token")]
    Missing,
    #[error("malformed bearer token")]
    Malformed,
    #[error("bad token signature")]
    BadSignature,
}

fn mac(secret: &str, subject: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("hmac takes any key length");
    mac.update(subject.as_bytes());
    mac
}

/// Mints the token of `subject`.
pub fn mint(secret: &str, subject: &str) -> String {
    format!("{subject}.{}", hex::encode(mac(secret, subject).finalize().into_bytes()))
}

/// Verifies a token (without the `Bearer ` prefix) in constant time.
pub fn verify(secret: &str, token: &str) -> Result<Principal, AuthError> {
    let (subject, signature) = token.rsplit_once('.').ok_or(AuthError::Malformed)?;
    if subject.is_empty() {
        return Err(AuthError::Malformed);
    }
    let signature = hex::decode(signature).map_err(|_| AuthError::Malformed)?;
    mac(secret, subject).verify_slice(&signature).map_err(|_| AuthError::BadSignature)?;
    Ok(Principal { subject: subject.to_string() })
}

/// Verifies an `Authorization` header value.
pub fn verify_header(secret: &str, header: Option<&str>) -> Result<Principal, AuthError> {
    let value = header.ok_or(AuthError::Missing)?;
    let token = value.strip_prefix("Bearer ").ok_or(AuthError::Malformed)?;
    verify(secret, token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_verify_and_name_their_subject() {
        let token = mint("s", "u.42");
        assert_eq!(verify("s", &token), Ok(Principal { subject: "u.42".into() }));
        assert_eq!(verify_header("s", Some(&format!("Bearer {token}"))).unwrap().subject, "u.42");
    }

    #[test]
    fn tampered_or_foreign_tokens_fail() {
        let token = mint("s", "alice");
        assert_eq!(verify("other", &token), Err(AuthError::BadSignature));
        let forged = token.replacen("alice", "mallory", 1);
        assert_eq!(verify("s", &forged), Err(AuthError::BadSignature));
        assert_eq!(verify("s", "nodot"), Err(AuthError::Malformed));
        assert_eq!(verify_header("s", None), Err(AuthError::Missing));
        assert_eq!(verify_header("s", Some("Basic x")), Err(AuthError::Malformed));
    }

    #[test]
    fn only_services_act_for_others() {
        let user = Principal { subject: "alice".into() };
        assert!(user.may_act_as("alice") && !user.may_act_as("bob"));
        assert!(Principal { subject: "svc:replay".into() }.may_act_as("bob"));
    }
}
