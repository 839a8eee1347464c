//! Secrets: passwords hashed with argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes,
//! 1 lane — OWASP's recommended minimum), and random tokens (API keys, session tokens) of 32
//! bytes from the operating system, stored as their SHA-256 (a token's own entropy makes a
//! slow hash pointless; the table never holds a usable credential).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

/// Why a secret could not be made or checked.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The operating system gave no randomness.
    #[error("no randomness from the operating system: {0}")]
    Random(String),
    /// Hashing failed, or a stored hash is not a PHC string.
    #[error("password hash: {0}")]
    Hash(String),
}

fn random_bytes<const N: usize>() -> Result<[u8; N], SecretError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| SecretError::Random(e.to_string()))?;
    Ok(b)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The argon2id PHC string of `password` with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String, SecretError> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|e| SecretError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| SecretError::Hash(e.to_string()))
}

/// Whether `password` matches the stored PHC string (constant-time comparison inside argon2).
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A new random token: `prefix` + 64 hex characters (256 bits).
pub fn new_token(prefix: &str) -> Result<String, SecretError> {
    Ok(format!("{prefix}{}", hex(&random_bytes::<32>()?)))
}

/// A readable random password for a demo account: 16 characters from a 54-letter alphabet
/// without look-alikes (about 92 bits).
pub fn new_password() -> Result<String, SecretError> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    Ok(random_bytes::<16>()?
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect())
}

/// The SHA-256 of a token, hex: what the database keeps.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves_and_are_salted() {
        let a = hash_password("correct horse").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert!(verify_password("correct horse", &a));
        assert!(!verify_password("correct horsE", &a));
        assert!(!verify_password("correct horse", "not a hash"));
        assert_ne!(a, hash_password("correct horse").unwrap());
    }

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let t = new_token("tsk_").unwrap();
        assert_eq!(t.len(), 4 + 64);
        assert_ne!(t, new_token("tsk_").unwrap());
        assert_eq!(token_hash("abc").len(), 64);
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(new_password().unwrap().len(), 16);
    }
}
