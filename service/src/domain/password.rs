use anyhow::Context;
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

/// A new password: 8 to 128 characters.
pub struct Password(String);

impl Password {
    pub fn parse(s: &str) -> Result<Self, String> {
        let len = s.chars().count();
        if len < 8 {
            Err("Passwords need at least 8 characters.".into())
        } else if len > 128 {
            Err("Passwords are limited to 128 characters.".into())
        } else {
            Ok(Password(s.to_owned()))
        }
    }
}

/// Hashes with argon2id (the crate's defaults) on a blocking thread: hashing
/// takes tens of milliseconds and must not stall the request workers.
pub async fn hash_password(password: Password) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.0.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await
    .context("the password hashing task failed")?
}

/// A hash of a password nobody knows, verified when the email is unknown so
/// that a login takes as long whether or not the account exists.
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$\
     c2hvcGRlY295c2FsdA$lvVYjCmnYGqSW8cpAwFGpxfBvcBTcdVW1qBnQnvvpMk";

/// Whether `password` matches `hash` (or the decoy, which never matches).
pub async fn verify_password(password: String, hash: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DECOY_HASH.to_owned());
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| anyhow::anyhow!("a stored password hash is malformed: {e}"))?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await
    .context("the password verification task failed")?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let hash = hash_password(Password::parse("correct horse").unwrap())
            .await
            .unwrap();
        assert!(verify_password("correct horse".into(), Some(hash.clone()))
            .await
            .unwrap());
        assert!(!verify_password("wrong horse!".into(), Some(hash))
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        assert!(!verify_password("anything".into(), None).await.unwrap());
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(Password::parse("short").is_err());
    }
}
