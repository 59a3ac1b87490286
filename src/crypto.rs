//! Keyed digests, HMAC signatures, sealing of secrets that must be read back, random tokens.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use hmac::{Hmac, Mac};
use rand::RngExt;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// The server's secret key. Everything else (the API key digest key, the sealing key, the customer token
/// keys) is derived from it, each under its own label.
#[derive(Clone)]
pub struct ServerKey {
    digest_key: [u8; 32],
    seal_key: [u8; 32],
    jwt_key: [u8; 32],
    refresh_digest_key: [u8; 32],
    mofavo_jwt_key: [u8; 32],
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(..)")
    }
}

impl ServerKey {
    /// Derives the key material from the configured secret (any string of at least 32 characters).
    pub fn from_secret(secret: &str) -> Self {
        let master = Sha256::digest(secret.as_bytes());
        Self {
            digest_key: hmac_sha256(&master, b"shopvo api-key digest v1"),
            seal_key: hmac_sha256(&master, b"shopvo seal v1"),
            jwt_key: hmac_sha256(&master, b"shopvo customer jwt hs256 v1"),
            refresh_digest_key: hmac_sha256(&master, b"shopvo refresh-token digest v1"),
            mofavo_jwt_key: hmac_sha256(&master, b"shopvo mofavo jwt hs256 v1"),
        }
    }

    /// The HS256 key that signs and verifies customer access tokens (JWTs).
    pub fn jwt_key(&self) -> &[u8; 32] {
        &self.jwt_key
    }

    /// The HS256 key that signs and verifies Mofavo integration tokens.
    pub fn mofavo_jwt_key(&self) -> &[u8; 32] {
        &self.mofavo_jwt_key
    }

    /// The keyed SHA-256 digest under which a customer refresh token is stored and looked up.
    pub fn refresh_token_digest(&self, token: &str) -> [u8; 32] {
        hmac_sha256(&self.refresh_digest_key, token.as_bytes())
    }

    /// The keyed SHA-256 digest under which an API key is stored and looked up.
    pub fn key_digest(&self, key: &str) -> [u8; 32] {
        hmac_sha256(&self.digest_key, key.as_bytes())
    }

    /// Encrypts a secret for storage: `nonce (12 bytes) || ciphertext`.
    pub fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        let cipher = ChaCha20Poly1305::new_from_slice(&self.seal_key).expect("32-byte key");
        let nonce_bytes: [u8; 12] = rand::random();
        let ciphertext = cipher
            .encrypt(&Nonce::from(nonce_bytes), plaintext)
            .expect("encryption cannot fail for in-memory buffers");
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&ciphertext);
        out
    }

    /// Decrypts what [`seal`](Self::seal) produced; `None` when it was sealed with another key or altered.
    pub fn open(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < 12 {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().ok()?;
        let cipher = ChaCha20Poly1305::new_from_slice(&self.seal_key).ok()?;
        cipher.decrypt(&Nonce::from(nonce), ciphertext).ok()
    }
}

pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// The `sha256=` part of a Shopvo signature: hex HMAC-SHA256(secret, "<t>.<body>").
pub fn signature_hex(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The extended request signature: HMAC-SHA256 over `v2\n<t>\n<METHOD>\n<path?query>\n<body>`. The `v2`
/// marker keeps it from ever equalling a signature of the short form over some body.
pub fn request_signature_hex(
    secret: &[u8],
    timestamp: i64,
    method: &str,
    path_and_query: &str,
    body: &[u8],
) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts any key length");
    for part in [
        "v2".as_bytes(),
        timestamp.to_string().as_bytes(),
        method.as_bytes(),
        path_and_query.as_bytes(),
    ] {
        mac.update(part);
        mac.update(b"\n");
    }
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Constant-time equality for secrets and digests.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// A random alphanumeric string of `len` characters (about 5.95 bits each).
pub fn random_token(len: usize) -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trips_and_detects_other_keys() {
        let key = ServerKey::from_secret("a-very-long-server-secret-for-tests-only");
        let sealed = key.seal(b"sks_secret");
        assert_eq!(key.open(&sealed).as_deref(), Some(&b"sks_secret"[..]));
        let other = ServerKey::from_secret("another-very-long-server-secret-for-tests");
        assert_eq!(other.open(&sealed), None);
    }

    #[test]
    fn derived_keys_are_distinct_and_stable() {
        let key = ServerKey::from_secret("a-very-long-server-secret-for-tests-only");
        let again = ServerKey::from_secret("a-very-long-server-secret-for-tests-only");
        assert_eq!(key.jwt_key(), again.jwt_key());
        assert_ne!(key.jwt_key(), &key.digest_key);
        assert_ne!(key.refresh_token_digest("t"), key.key_digest("t"));
        let other = ServerKey::from_secret("another-very-long-server-secret-for-tests");
        assert_ne!(key.jwt_key(), other.jwt_key());
    }

    #[test]
    fn signature_matches_the_spec_recipe() {
        // HMAC-SHA256("secret", "1700000000.{}") computed independently.
        let sig = signature_hex(b"secret", 1_700_000_000, b"{}");
        assert_eq!(sig.len(), 64);
        assert_eq!(sig, hex::encode(hmac_sha256(b"secret", b"1700000000.{}")));
        let v2 = request_signature_hex(b"secret", 1_700_000_000, "GET", "/p?q=1", b"{}");
        assert_eq!(
            v2,
            hex::encode(hmac_sha256(b"secret", b"v2\n1700000000\nGET\n/p?q=1\n{}"))
        );
    }
}
