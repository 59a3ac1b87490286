//! Customer accounts: registration, password login, refresh-token rotation and logout.
//!
//! Passwords are hashed with argon2id on the blocking pool. A login for an unknown email (or a customer
//! without a password) still verifies a password against a dummy hash, so both failures take as long as
//! a wrong password and answer the same. Refresh tokens are single-use: refreshing revokes the presented
//! token and issues a new pair in one transaction, so a token can be exchanged at most once.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::Utc;
use sqlx::{PgConnection, PgPool};

use super::tokens::{self, ACCESS_TTL_SECONDS, REFRESH_TTL_SECONDS};
use super::{Customer, Email, profiles};
use crate::crypto::{self, ServerKey};
use crate::domain::error::{Error, Result, Validator};
use crate::ids;

pub const MIN_PASSWORD_LEN: usize = 8;
pub const MAX_PASSWORD_LEN: usize = 128;

/// A registration, as sent: checked here.
#[derive(Debug)]
pub struct RegisterInput {
    pub email: String,
    pub password: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

#[derive(Debug)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
}

/// A logged-in customer's tokens: a short-lived access token and a single-use refresh token that
/// exchanges for a new pair.
#[derive(Debug)]
pub struct Session {
    /// A JWT (HS256) valid for `expires_in` seconds.
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Lifetime of the access token in seconds.
    pub expires_in: i64,
    /// Lifetime of the refresh token in seconds.
    pub refresh_expires_in: i64,
    pub customer: Customer,
}

/// Why a login or refresh was refused. Deliberately coarse: the caller cannot tell an unknown email from
/// a wrong password, nor a revoked refresh token from an expired one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    InvalidCredentials,
    InvalidRefreshToken,
}

impl AuthFailure {
    pub fn message(self) -> &'static str {
        match self {
            AuthFailure::InvalidCredentials => "Invalid email or password",
            AuthFailure::InvalidRefreshToken => {
                "Invalid refresh token: it is unknown, expired, revoked or already used"
            }
        }
    }
}

/// Hashes a password (argon2id, fresh salt) on the blocking pool.
pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| Error::Internal(format!("password hashing task failed: {e}")))?
}

fn hash_blocking(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Internal(format!("cannot hash a password: {e}")))
}

/// Verifies `password` against `hash` on the blocking pool. With no hash, verifies against a dummy one
/// (and answers `false`), so the time taken does not tell whether the account exists.
pub async fn verify_password(password: String, hash: Option<String>) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        static DUMMY: OnceLock<String> = OnceLock::new();
        let (hash, real) = match &hash {
            Some(h) => (h.as_str(), true),
            None => {
                let dummy = DUMMY
                    .get_or_init(|| hash_blocking(&crypto::random_token(32)).unwrap_or_default());
                (dummy.as_str(), false)
            }
        };
        let Ok(parsed) = PasswordHash::new(hash) else {
            return false;
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        ok && real
    })
    .await
    .map_err(|e| Error::Internal(format!("password verification task failed: {e}")))
}

fn check_password(v: &mut Validator, password: &str) {
    let len = password.chars().count();
    v.check(
        (MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&len),
        "password",
        format!("must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters"),
    );
}

/// Creates a customer with a password and logs them in. An email already on the site (in any case) is a
/// 409, also for customers an admin created without a password.
pub async fn register(
    pool: &PgPool,
    key: &ServerKey,
    site_id: &str,
    input: RegisterInput,
) -> Result<Session> {
    let first_name = super::trimmed(input.first_name);
    let last_name = super::trimmed(input.last_name);
    let mut v = Validator::new();
    let email = Email::parse(&input.email)
        .map_err(|message| v.error("email", message))
        .ok();
    check_password(&mut v, &input.password);
    profiles::check_names(&mut v, first_name.as_deref(), last_name.as_deref());
    v.finish()?;
    let email = email.expect("validated");
    let hash = hash_password(input.password).await?;
    let mut tx = pool.begin().await?;
    let customer_id =
        profiles::create_with_password(&mut tx, site_id, &email, first_name, last_name, &hash)
            .await?;
    let customer = profiles::find(&mut tx, site_id, &customer_id).await?;
    crate::domain::events::record(&mut tx, site_id, "customer.created", &customer).await?;
    let session = issue(&mut tx, key, site_id, &customer_id).await?;
    tx.commit().await?;
    Ok(session)
}

/// Checks an email and password; on success, a new session.
pub async fn login(
    pool: &PgPool,
    key: &ServerKey,
    site_id: &str,
    input: LoginInput,
) -> Result<std::result::Result<Session, AuthFailure>> {
    let Ok(email) = Email::parse(&input.email) else {
        // Cannot be anyone's email; still costs a hash, like every other failure.
        verify_password(input.password, None).await?;
        return Ok(Err(AuthFailure::InvalidCredentials));
    };
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "select id, password_hash from customers where site_id = $1 and lower(email) = $2",
    )
    .bind(site_id)
    .bind(email.normalized())
    .fetch_optional(pool)
    .await?;
    let (customer_id, hash) = match row {
        Some((id, hash)) => (Some(id), hash),
        None => (None, None),
    };
    if !verify_password(input.password, hash).await? {
        return Ok(Err(AuthFailure::InvalidCredentials));
    }
    let customer_id = customer_id.expect("a verified password belongs to a customer");
    let mut tx = pool.begin().await?;
    let session = issue(&mut tx, key, site_id, &customer_id).await?;
    tx.commit().await?;
    Ok(Ok(session))
}

/// Exchanges a refresh token for a new pair; the presented token is revoked (rotation).
pub async fn refresh(
    pool: &PgPool,
    key: &ServerKey,
    site_id: &str,
    refresh_token: &str,
) -> Result<std::result::Result<Session, AuthFailure>> {
    if !tokens::is_refresh_token(refresh_token) {
        return Ok(Err(AuthFailure::InvalidRefreshToken));
    }
    let mut tx = pool.begin().await?;
    let Some(customer_id) = revoke(&mut tx, key, site_id, refresh_token).await? else {
        return Ok(Err(AuthFailure::InvalidRefreshToken));
    };
    let session = issue(&mut tx, key, site_id, &customer_id).await?;
    tx.commit().await?;
    Ok(Ok(session))
}

/// Revokes a refresh token. `false` when it was unknown, expired or already revoked (logout is
/// idempotent, so that is not an error).
pub async fn logout(
    pool: &PgPool,
    key: &ServerKey,
    site_id: &str,
    refresh_token: &str,
) -> Result<bool> {
    if !tokens::is_refresh_token(refresh_token) {
        return Ok(false);
    }
    let mut conn = pool.acquire().await?;
    Ok(revoke(&mut conn, key, site_id, refresh_token)
        .await?
        .is_some())
}

/// Revokes a live refresh token in one conditional update, so that of two concurrent uses only one wins;
/// returns its customer.
async fn revoke(
    conn: &mut PgConnection,
    key: &ServerKey,
    site_id: &str,
    refresh_token: &str,
) -> Result<Option<String>> {
    let digest = key.refresh_token_digest(refresh_token);
    let row: Option<(String, Vec<u8>)> = sqlx::query_as(
        "update refresh_tokens set revoked_at = now() \
         where site_id = $1 and digest = $2 and revoked_at is null and expires_at > now() \
         returning customer_id, digest",
    )
    .bind(site_id)
    .bind(&digest[..])
    .fetch_optional(conn)
    .await?;
    // The index lookup already matched; comparing again in constant time, as for API keys.
    Ok(row
        .filter(|(_, stored)| crypto::constant_time_eq(stored, &digest))
        .map(|(customer_id, _)| customer_id))
}

/// Issues an access token and a stored refresh token for a customer, forgetting the customer's dead
/// refresh tokens on the way.
async fn issue(
    conn: &mut PgConnection,
    key: &ServerKey,
    site_id: &str,
    customer_id: &str,
) -> Result<Session> {
    sqlx::query(
        "delete from refresh_tokens where site_id = $1 and customer_id = $2 \
         and (expires_at <= now() or revoked_at <= now() - interval '1 day')",
    )
    .bind(site_id)
    .bind(customer_id)
    .execute(&mut *conn)
    .await?;
    let refresh_token = tokens::new_refresh_token();
    sqlx::query(
        "insert into refresh_tokens (site_id, id, customer_id, digest, expires_at) \
         values ($1, $2, $3, $4, now() + make_interval(secs => $5))",
    )
    .bind(site_id)
    .bind(ids::new_id("rtk"))
    .bind(customer_id)
    .bind(&key.refresh_token_digest(&refresh_token)[..])
    .bind(REFRESH_TTL_SECONDS as f64)
    .execute(&mut *conn)
    .await?;
    let access_token = tokens::issue_access(key, site_id, customer_id, Utc::now())?;
    let customer = profiles::get(conn, site_id, customer_id).await?;
    Ok(Session {
        access_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: ACCESS_TTL_SECONDS,
        refresh_expires_in: REFRESH_TTL_SECONDS,
        customer,
    })
}
