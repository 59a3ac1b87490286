//! Customer tokens: short-lived access JWTs (HS256 with a key derived from the server secret) and
//! long-lived random refresh tokens, stored only as a keyed digest.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};

use crate::crypto::{self, ServerKey};
use crate::domain::error::{Error, Result};

/// Access tokens live 15 minutes.
pub const ACCESS_TTL_SECONDS: i64 = 15 * 60;
/// Refresh tokens live 30 days (and are single-use: each refresh rotates them).
pub const REFRESH_TTL_SECONDS: i64 = 30 * 24 * 60 * 60;
/// A refresh token is this many random alphanumerics.
pub const REFRESH_TOKEN_LEN: usize = 64;
/// The `typ` claim of access tokens.
pub const ACCESS_TYPE: &str = "access";
/// Longer tokens are refused before any parsing.
const MAX_TOKEN_LEN: usize = 4096;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    /// The customer id.
    pub sub: String,
    /// The site the customer belongs to.
    pub site: String,
    pub iat: i64,
    pub exp: i64,
    /// Always `access`.
    pub typ: String,
}

/// Why an access token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    /// Not a JWT, a bad signature, another algorithm, or claims missing.
    Invalid,
    Expired,
    /// A JWT of ours, but not an access token.
    WrongType,
    /// An access token of another site.
    WrongSite,
}

impl TokenRejection {
    pub fn message(self) -> &'static str {
        match self {
            TokenRejection::Invalid => "Invalid customer token",
            TokenRejection::Expired => "The customer token has expired: refresh it",
            TokenRejection::WrongType => "The customer token is not an access token",
            TokenRejection::WrongSite => "The customer token belongs to another site",
        }
    }
}

/// Signs an access token for `customer_id` of `site_id`, issued at `now`.
pub fn issue_access(
    key: &ServerKey,
    site_id: &str,
    customer_id: &str,
    now: DateTime<Utc>,
) -> Result<String> {
    let claims = AccessClaims {
        sub: customer_id.to_string(),
        site: site_id.to_string(),
        iat: now.timestamp(),
        exp: now.timestamp() + ACCESS_TTL_SECONDS,
        typ: ACCESS_TYPE.to_string(),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(key.jwt_key()),
    )
    .map_err(|e| Error::Internal(format!("cannot sign an access token: {e}")))
}

/// Checks an access token's signature (HS256 only), expiry, type and site; returns its claims.
pub fn verify_access(
    key: &ServerKey,
    token: &str,
    site_id: &str,
) -> std::result::Result<AccessClaims, TokenRejection> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(TokenRejection::Invalid);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "sub"]);
    validation.leeway = 5;
    let data = jsonwebtoken::decode::<AccessClaims>(
        token,
        &DecodingKey::from_secret(key.jwt_key()),
        &validation,
    )
    .map_err(|e| match e.kind() {
        ErrorKind::ExpiredSignature => TokenRejection::Expired,
        _ => TokenRejection::Invalid,
    })?;
    let claims = data.claims;
    if claims.typ != ACCESS_TYPE {
        return Err(TokenRejection::WrongType);
    }
    if !crypto::constant_time_eq(claims.site.as_bytes(), site_id.as_bytes()) {
        return Err(TokenRejection::WrongSite);
    }
    Ok(claims)
}

/// A new refresh token.
pub fn new_refresh_token() -> String {
    crypto::random_token(REFRESH_TOKEN_LEN)
}

/// Whether `token` has the shape of a refresh token (checked before any lookup).
pub fn is_refresh_token(token: &str) -> bool {
    token.len() == REFRESH_TOKEN_LEN && token.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ServerKey {
        ServerKey::from_secret("a-very-long-server-secret-for-tests-only")
    }

    #[test]
    fn access_tokens_round_trip() {
        let now = Utc::now();
        let token = issue_access(&key(), "site_a", "cust_1", now).unwrap();
        let claims = verify_access(&key(), &token, "site_a").unwrap();
        assert_eq!(claims.sub, "cust_1");
        assert_eq!(claims.site, "site_a");
        assert_eq!(claims.typ, "access");
        assert_eq!(claims.exp - claims.iat, 900);
    }

    #[test]
    fn refuses_other_sites_keys_types_and_expired_tokens() {
        let now = Utc::now();
        let token = issue_access(&key(), "site_a", "cust_1", now).unwrap();
        assert_eq!(
            verify_access(&key(), &token, "site_b"),
            Err(TokenRejection::WrongSite)
        );
        let other = ServerKey::from_secret("another-very-long-server-secret-for-tests");
        assert_eq!(
            verify_access(&other, &token, "site_a"),
            Err(TokenRejection::Invalid)
        );
        let old =
            issue_access(&key(), "site_a", "cust_1", now - chrono::Duration::hours(1)).unwrap();
        assert_eq!(
            verify_access(&key(), &old, "site_a"),
            Err(TokenRejection::Expired)
        );
        let refresh_like = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &AccessClaims {
                typ: "refresh".into(),
                ..verify_access(&key(), &token, "site_a").unwrap()
            },
            &EncodingKey::from_secret(key().jwt_key()),
        )
        .unwrap();
        assert_eq!(
            verify_access(&key(), &refresh_like, "site_a"),
            Err(TokenRejection::WrongType)
        );
        for garbage in ["", "abc", "a.b.c", &"x".repeat(5000)] {
            assert_eq!(
                verify_access(&key(), garbage, "site_a"),
                Err(TokenRejection::Invalid)
            );
        }
    }

    #[test]
    fn refuses_unsigned_tokens() {
        // {"alg":"none"} with valid-looking claims and no signature.
        let claims = serde_json::json!({"sub": "cust_1", "site": "site_a", "iat": 0, "exp": 4_000_000_000i64, "typ": "access"});
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let token = format!(
            "{}.{}.",
            b64.encode(br#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(claims.to_string())
        );
        assert_eq!(
            verify_access(&key(), &token, "site_a"),
            Err(TokenRejection::Invalid)
        );
    }

    #[test]
    fn refresh_tokens_have_a_fixed_shape() {
        let token = new_refresh_token();
        assert!(is_refresh_token(&token));
        assert!(!is_refresh_token("short"));
        assert!(!is_refresh_token(&"-".repeat(64)));
    }
}
