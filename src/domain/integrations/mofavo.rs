//! Mofavo: a courier's integration that reads a merchant's (a site's) stock and order statuses by reference.
//! Its clients hold a JWT (HS256, claims `merchantId` = the site id and `jti`) issued here, valid while its
//! row is active and not revoked, and sign each request body with the token's own signing secret
//! (`x-mofavo-signature`: base64 HMAC-SHA256 of the body as `JSON.stringify` writes it).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgConnection};

use crate::crypto::{self, ServerKey};
use crate::domain::caller::Caller;
use crate::domain::error::{Error, Result};

/// The longest `Authorization` token looked at.
const MAX_TOKEN_LEN: usize = 4096;

/// Why a request was refused, in the order the checks run (each has Mofavo's own message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `Authorization: Bearer …`.
    Header,
    /// Not a JWT, or its signature does not verify (or it expired).
    Token,
    /// Verified, but without `merchantId` or `jti`.
    Payload,
    /// No active, unrevoked token with this `jti` for this merchant.
    Revoked,
    /// `x-mofavo-signature` does not match the body.
    Signature,
}

/// An authenticated request's merchant and token.
#[derive(Debug, Clone)]
pub struct Merchant {
    pub site_id: String,
    pub jti: String,
    signing_secret: Vec<u8>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Claims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    merchant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
}

/// A token as issued: the JWT and the signing secret are shown this once.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub jti: String,
    pub signing_secret: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, FromRow)]
pub struct TokenInfo {
    pub jti: String,
    pub active: bool,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A random UUID (version 4), as Mofavo's `jti` is.
fn uuid_v4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Issues a token for the caller's site.
pub async fn issue(
    conn: &mut PgConnection,
    key: &ServerKey,
    caller: &Caller,
) -> Result<IssuedToken> {
    let site_id = caller.site_id();
    let jti = uuid_v4();
    let now = Utc::now();
    let claims = Claims {
        merchant_id: Some(site_id.to_string()),
        jti: Some(jti.clone()),
        iat: Some(now.timestamp()),
        exp: None,
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(key.mofavo_jwt_key()),
    )
    .map_err(|e| Error::Internal(format!("cannot sign a Mofavo token: {e}")))?;
    let signing_secret = format!("mfs_{}", crypto::random_token(48));
    let created_at: DateTime<Utc> = sqlx::query_scalar(
        "insert into mofavo_tokens (site_id, jti, signing_secret) values ($1, $2, $3) returning created_at",
    )
    .bind(site_id)
    .bind(&jti)
    .bind(key.seal(signing_secret.as_bytes()))
    .fetch_one(conn)
    .await?;
    Ok(IssuedToken {
        token,
        jti,
        signing_secret,
        created_at,
    })
}

/// The site's tokens, newest first (never their secrets).
pub async fn list(conn: &mut PgConnection, caller: &Caller) -> Result<Vec<TokenInfo>> {
    Ok(sqlx::query_as(
        "select jti, active and revoked_at is null as active, revoked_at, last_used_at, created_at \
         from mofavo_tokens where site_id = $1 order by created_at desc, jti limit 1000",
    )
    .bind(caller.site_id())
    .fetch_all(conn)
    .await?)
}

/// Revokes a token at once (revoking twice is a no-op).
pub async fn revoke(conn: &mut PgConnection, caller: &Caller, jti: &str) -> Result<()> {
    let found = sqlx::query(
        "update mofavo_tokens set active = false, revoked_at = coalesce(revoked_at, now()) \
         where site_id = $1 and jti = $2",
    )
    .bind(caller.site_id())
    .bind(jti)
    .execute(conn)
    .await?;
    if found.rows_affected() == 0 {
        return Err(Error::NotFound("token"));
    }
    Ok(())
}

/// The header, the token, its payload and its row, in that order. `Ok(Err(..))` is a refusal;
/// `Err(..)` a failure of the database.
pub async fn authenticate(
    conn: &mut PgConnection,
    key: &ServerKey,
    authorization: Option<&str>,
) -> Result<std::result::Result<Merchant, AuthFailure>> {
    let Some(token) = authorization
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return Ok(Err(AuthFailure::Header));
    };
    if token.len() > MAX_TOKEN_LEN {
        return Ok(Err(AuthFailure::Token));
    }
    let mut validation = Validation::new(Algorithm::HS256);
    // No `exp` is documented: accept tokens without one, honour it when present.
    validation.set_required_spec_claims::<&str>(&[]);
    validation.validate_exp = true;
    validation.leeway = 5;
    let Ok(data) = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(key.mofavo_jwt_key()),
        &validation,
    ) else {
        return Ok(Err(AuthFailure::Token));
    };
    let (Some(site_id), Some(jti)) = (data.claims.merchant_id, data.claims.jti) else {
        return Ok(Err(AuthFailure::Payload));
    };
    let sealed: Option<Vec<u8>> = sqlx::query_scalar(
        "update mofavo_tokens set last_used_at = now() \
         where site_id = $1 and jti = $2 and active and revoked_at is null returning signing_secret",
    )
    .bind(&site_id)
    .bind(&jti)
    .fetch_optional(conn)
    .await?;
    let Some(signing_secret) = sealed.and_then(|s| key.open(&s)) else {
        return Ok(Err(AuthFailure::Revoked));
    };
    Ok(Ok(Merchant {
        site_id,
        jti,
        signing_secret,
    }))
}

impl Merchant {
    /// Whether `signature` (base64) is the HMAC of the raw body or of its compact re-serialization with
    /// keys in their original order (what `JSON.stringify` of the parsed body gives), in constant time.
    pub fn signed(&self, body: &[u8], signature: Option<&str>) -> bool {
        let Some(given) = signature.and_then(|s| BASE64.decode(s.trim()).ok()) else {
            return false;
        };
        let raw = crypto::hmac_sha256(&self.signing_secret, body);
        let compact = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| serde_json::to_vec(&v).ok())
            .map(|c| crypto::hmac_sha256(&self.signing_secret, &c));
        let raw_ok = crypto::constant_time_eq(&raw, &given);
        let compact_ok = compact.is_some_and(|c| crypto::constant_time_eq(&c, &given));
        raw_ok | compact_ok
    }
}

/// The sellable stock of each ref that names a variant's SKU or a product's handle (a SKU wins): the
/// variant's count, or the sum over the product's variants, never below zero. Unknown refs are left out.
pub async fn stock(
    conn: &mut PgConnection,
    site_id: &str,
    refs: &[String],
) -> Result<Vec<(String, i64)>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "select r.ref, coalesce( \
            (select greatest(v.inventory_count, 0)::bigint from variants v where v.site_id = $1 and v.sku = r.ref), \
            (select sum(greatest(v.inventory_count, 0))::bigint from products p \
               join variants v on v.site_id = p.site_id and v.product_id = p.id \
             where p.site_id = $1 and p.handle = r.ref)) as quantity \
         from unnest($2::text[]) with ordinality as r(ref, n) order by r.n",
    )
    .bind(site_id)
    .bind(refs)
    .fetch_all(&mut *conn)
    .await
    .map(|rows: Vec<(String, Option<i64>)>| {
        rows.into_iter()
            .filter_map(|(r, q)| q.map(|q| (r, q)))
            .collect()
    })?;
    Ok(rows)
}

/// An order found by its external reference: its fulfilment status (Mofavo's names) and delivery address.
#[derive(Debug, Clone)]
pub struct OrderStatus {
    pub reference: String,
    pub status: String,
    /// The shipping address on one line.
    pub destination: String,
}

/// The orders whose external reference is one of `refs`, in the order asked. Unknown refs are left out.
pub async fn statuses(
    conn: &mut PgConnection,
    site_id: &str,
    refs: &[String],
) -> Result<Vec<OrderStatus>> {
    let rows: Vec<(String, String, Option<serde_json::Value>)> = sqlx::query_as(
        "select o.external_ref, o.fulfillment_status, o.shipping_address \
         from unnest($2::text[]) with ordinality as r(ref, n) \
         join orders o on o.site_id = $1 and o.external_ref = r.ref order by r.n",
    )
    .bind(site_id)
    .bind(refs)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(reference, status, address)| OrderStatus {
            reference,
            status,
            destination: address.as_ref().map(one_line).unwrap_or_default(),
        })
        .collect())
}

/// `line1, line2, postalCode city, province, country`, leaving out what is empty.
fn one_line(address: &serde_json::Value) -> String {
    let field = |k: &str| address[k].as_str().unwrap_or_default().trim().to_string();
    let town = [field("postalCode"), field("city")]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    [
        field("line1"),
        field("line2"),
        town,
        field("province"),
        field("country"),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(", ")
}

#[cfg(test)]
mod tests {
    use super::{one_line, uuid_v4};

    #[test]
    fn uuids_and_addresses() {
        let id = uuid_v4();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        let a = serde_json::json!({"line1": "Brīvības iela 1", "line2": "", "city": "Rīga",
            "postalCode": "LV-1010", "country": "LV"});
        assert_eq!(one_line(&a), "Brīvības iela 1, LV-1010 Rīga, LV");
    }
}
