//! Password hashing (argon2id, OWASP parameters) and the password policy.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::Rng;
use rand::distr::Alphanumeric;
use secrecy::{ExposeSecret, SecretString};

/// OWASP Password Storage Cheat Sheet: argon2id, m = 19 MiB, t = 2, p = 1.
fn hasher() -> Argon2<'static> {
    // These constants are valid; the crate's default is the same OWASP set.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &NewPassword) -> anyhow::Result<String> {
    hasher()
        .hash_password(password.0.expose_secret().as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("password hashing failed: {e}"))
}

/// A hash of a random password, verified against when an email is unknown so
/// that a login costs the same whether or not the account exists.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let password = NewPassword(SecretString::from(generate()));
    hash(&password).unwrap_or_default()
});

/// Checks a candidate against a stored hash (or, for `None`, against the
/// dummy hash, always failing). Slow on purpose; call off the async threads.
pub fn verify(candidate: &SecretString, stored: Option<&str>) -> bool {
    let hash = stored.unwrap_or(DUMMY_HASH.as_str());
    let ok = hasher()
        .verify_password(candidate.expose_secret().as_bytes(), hash)
        .is_ok();
    ok && stored.is_some()
}

/// Computes the dummy hash ahead of the first login (start-up).
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

/// A random password for bootstrap accounts: 20 characters from [A-Za-z0-9].
pub fn generate() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(20)
        .map(char::from)
        .collect()
}

/// A password that meets the policy (NIST SP 800-63B / OWASP ASVS): length
/// 12–128 characters, not one repeated character, not the email address.
/// No composition rules.
pub struct NewPassword(SecretString);

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 128;

impl NewPassword {
    pub fn parse(candidate: &SecretString, email: &str) -> Result<Self, String> {
        let pw = candidate.expose_secret();
        let len = pw.chars().count();
        if len < MIN_LENGTH {
            return Err(format!("must be at least {MIN_LENGTH} characters"));
        }
        if len > MAX_LENGTH {
            return Err(format!("must be at most {MAX_LENGTH} characters"));
        }
        let mut chars = pw.chars();
        let first = chars.next();
        if chars.all(|c| Some(c) == first) {
            return Err("must not be one repeated character".into());
        }
        if !email.is_empty() && pw.trim().eq_ignore_ascii_case(email.trim()) {
            return Err("must not be the email address".into());
        }
        Ok(NewPassword(SecretString::from(pw.to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn the_policy_refuses_short_repeated_and_email_passwords() {
        assert!(NewPassword::parse(&secret("short"), "a@b.jp").is_err());
        assert!(NewPassword::parse(&secret("aaaaaaaaaaaaaaaa"), "a@b.jp").is_err());
        assert!(NewPassword::parse(&secret("someone@example.jp"), "someone@example.jp").is_err());
        assert!(NewPassword::parse(&secret(&"x1".repeat(65)), "a@b.jp").is_err());
        assert!(NewPassword::parse(&secret("correct horse battery"), "a@b.jp").is_ok());
        assert!(NewPassword::parse(&secret("パスワードはとても長いです"), "a@b.jp").is_ok());
    }

    #[test]
    fn a_hash_verifies_only_its_password() {
        let pw = NewPassword::parse(&secret("correct horse battery"), "").unwrap();
        let stored = hash(&pw).unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify(&secret("correct horse battery"), Some(&stored)));
        assert!(!verify(&secret("correct horse batterY"), Some(&stored)));
    }

    #[test]
    fn an_unknown_account_never_verifies() {
        assert!(!verify(&secret("anything at all"), None));
    }

    #[test]
    fn generated_passwords_meet_the_policy() {
        let pw = generate();
        assert_eq!(pw.len(), 20);
        assert!(NewPassword::parse(&secret(&pw), "a@b.jp").is_ok());
    }
}
