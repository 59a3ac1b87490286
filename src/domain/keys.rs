//! API keys: creation, listing, revocation and authentication.
//!
//! A key is `sk_live_`/`sk_test_` (secret) or `pk_live_`/`pk_test_` (publishable) followed by 64 random
//! alphanumerics. Only a keyed SHA-256 digest is stored; lookups go through a unique index on it.
//! A key may carry a signing secret (`sks_…`), sealed with the server key because it must be read back.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection};

use super::error::{Error, Result, Validator};
use super::field::FieldKey;
use crate::crypto::{self, ServerKey};
use crate::ids;

/// Every scope a key can hold. `admin:*` grants all of them.
pub const SCOPES: &[&str] = &[
    "read:catalog",
    "write:catalog",
    "read:content",
    "read:orders",
    "write:orders",
    "read:customers",
    "write:customers",
    "read:cart",
    "write:cart",
    "read:checkout",
    "write:checkout",
    "read:inventory",
    "write:inventory",
    "read:promotions",
    "write:promotions",
    "read:gift-cards",
    "write:gift-cards",
    "read:store-credit",
    "write:store-credit",
    "read:loyalty",
    "write:loyalty",
    "read:b2b",
    "write:b2b",
    "webhooks:read",
    "webhooks:write",
    "metafields:read",
    "metafields:write",
    ADMIN_SCOPE,
];

pub const ADMIN_SCOPE: &str = "admin:*";

/// What a publishable (`pk_`) key may hold at most: read the active catalog and site content, and create and
/// drive carts and checkouts. Promotion validation needs no key at all.
pub const PUBLISHABLE_SCOPES: &[&str] = &[
    "read:catalog",
    "read:content",
    "read:cart",
    "write:cart",
    "read:checkout",
    "write:checkout",
];
const KEY_RANDOM_LEN: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMode {
    Live,
    Test,
}

/// A key as stored, without its secrets. `Serialize` is for the CLI's `key list --json`.
#[derive(Debug, Clone, Serialize, FromRow)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    pub id: String,
    pub site_id: String,
    /// `secret` or `publishable`.
    pub kind: String,
    /// `live` or `test`.
    pub mode: String,
    /// The start and end of the key, to recognise it; the key itself is shown only once.
    pub display_prefix: String,
    pub name: Option<String>,
    pub scopes: Vec<String>,
    /// Whether requests with this key must be signed.
    pub signing: bool,
    /// Whether signatures must use the request-bound form.
    pub require_request_signature: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const KEY_COLUMNS: &str = "id, site_id, kind, mode, display_prefix, name, scopes, \
    (signing_secret_enc is not null) as signing, require_request_signature, expires_at, revoked_at, last_used_at, \
    created_at";

pub struct NewKey {
    /// For a publishable key, empty means all of [`PUBLISHABLE_SCOPES`].
    pub scopes: Vec<String>,
    /// A `pk_` key, safe to embed in a web page.
    pub publishable: bool,
    pub test: bool,
    pub signing: bool,
    /// Refuse signatures that do not bind the method and path (needs `signing`).
    pub require_request_signature: bool,
    pub name: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A freshly created key with its secrets, which are never shown again.
pub struct CreatedKey {
    pub key: ApiKey,
    pub plaintext: String,
    pub signing_secret: Option<String>,
}

/// What a request authenticated with.
#[derive(Debug, Clone)]
pub struct AuthenticatedKey {
    pub id: String,
    pub site_id: String,
    pub mode: KeyMode,
    /// A publishable key: sees only the active catalog and its own customers' carts.
    pub publishable: bool,
    pub scopes: Vec<String>,
    pub signing_secret: Option<Vec<u8>>,
    /// Signatures must use the request-bound form.
    pub require_request_signature: bool,
    /// The site's own default limit (requests per minute), when it sets one.
    pub rate_limit_rpm: Option<u32>,
    /// When the key stops working; a cached authentication must not outlive it.
    pub expires_at: Option<DateTime<Utc>>,
}

impl AuthenticatedKey {
    /// Whether the key has expired by `now`.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|t| t <= now)
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope || s == ADMIN_SCOPE)
    }
}

pub fn validate_scopes(v: &mut Validator, scopes: &[String]) {
    v.rule(!scopes.is_empty(), "scopes", "must list at least one scope");
    for (i, scope) in scopes.iter().enumerate() {
        v.check(
            SCOPES.contains(&scope.as_str()),
            FieldKey::from("scopes").at(i),
            format!("unknown scope `{scope}`"),
        );
    }
}

pub async fn create(
    conn: &mut PgConnection,
    server_key: &ServerKey,
    site_id: &str,
    new: NewKey,
) -> Result<CreatedKey> {
    let mut v = Validator::new();
    let scopes = if new.publishable && new.scopes.is_empty() {
        PUBLISHABLE_SCOPES.iter().map(|s| s.to_string()).collect()
    } else {
        new.scopes
    };
    validate_scopes(&mut v, &scopes);
    if new.publishable {
        for (i, scope) in scopes.iter().enumerate() {
            v.rule(
                PUBLISHABLE_SCOPES.contains(&scope.as_str()),
                FieldKey::from("scopes").at(i),
                format!(
                    "a publishable key cannot hold `{scope}`: only {}",
                    PUBLISHABLE_SCOPES.join(", ")
                ),
            );
        }
        v.rule(
            !new.signing,
            "signing",
            "publishable keys live in browsers and cannot sign requests",
        );
    }
    v.rule(
        new.signing || !new.require_request_signature,
        "require_request_signature",
        "needs a signing secret (signing: true)",
    );
    if let Some(name) = &new.name {
        v.text("name", name, 1, 100);
    }
    v.finish()?;

    let mode = if new.test { "test" } else { "live" };
    let (kind, prefix) = if new.publishable {
        ("publishable", "pk")
    } else {
        ("secret", "sk")
    };
    let plaintext = format!("{prefix}_{mode}_{}", crypto::random_token(KEY_RANDOM_LEN));
    let display_prefix = format!("{}…{}", &plaintext[..12], &plaintext[plaintext.len() - 4..]);
    let signing_secret = new
        .signing
        .then(|| format!("sks_{}", crypto::random_token(48)));
    let sealed = signing_secret
        .as_ref()
        .map(|s| server_key.seal(s.as_bytes()));
    let mut scopes = scopes;
    scopes.sort();
    scopes.dedup();

    let key = sqlx::query_as::<_, ApiKey>(sqlx::AssertSqlSafe(format!(
        "insert into api_keys (site_id, id, kind, mode, digest, display_prefix, name, scopes, signing_secret_enc, expires_at, \
         require_request_signature) values ($1, $2, $10, $3, $4, $5, $6, $7, $8, $9, $11) returning {KEY_COLUMNS}"
    )))
    .bind(site_id)
    .bind(ids::new_id("key"))
    .bind(mode)
    .bind(&server_key.key_digest(&plaintext)[..])
    .bind(display_prefix)
    .bind(new.name)
    .bind(&scopes)
    .bind(sealed)
    .bind(new.expires_at)
    .bind(kind)
    .bind(new.require_request_signature)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => Error::NotFound("site"),
        _ => Error::Database(e),
    })?;
    Ok(CreatedKey {
        key,
        plaintext,
        signing_secret,
    })
}

pub async fn list(conn: &mut PgConnection, site_id: &str) -> Result<Vec<ApiKey>> {
    Ok(sqlx::query_as::<_, ApiKey>(sqlx::AssertSqlSafe(format!(
        "select {KEY_COLUMNS} from api_keys where site_id = $1 order by id"
    )))
    .bind(site_id)
    .fetch_all(&mut *conn)
    .await?)
}

/// Revokes a key of this site; revoking twice is harmless. `NotFound` when the site has no such key.
pub async fn revoke(
    conn: &mut PgConnection,
    site_id: Option<&str>,
    key_id: &str,
) -> Result<ApiKey> {
    sqlx::query_as::<_, ApiKey>(sqlx::AssertSqlSafe(format!(
        "update api_keys set revoked_at = coalesce(revoked_at, now()) \
         where id = $1 and ($2::text is null or site_id = $2) returning {KEY_COLUMNS}"
    )))
    .bind(key_id)
    .bind(site_id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound("API key"))
}

/// Why a presented key was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRejection {
    Malformed,
    Unknown,
    Revoked,
    Expired,
}

/// Whether the text has the shape of a key (`sk_live_` + 64 alphanumerics, and the others).
pub fn is_well_formed(presented: &str) -> bool {
    let rest = ["sk_live_", "sk_test_", "pk_live_", "pk_test_"]
        .iter()
        .find_map(|p| presented.strip_prefix(p));
    rest.is_some_and(|r| r.len() == KEY_RANDOM_LEN && r.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Looks a presented key up by its digest and checks that it is usable now.
pub async fn authenticate(
    conn: &mut PgConnection,
    server_key: &ServerKey,
    presented: &str,
) -> Result<std::result::Result<AuthenticatedKey, KeyRejection>> {
    if !is_well_formed(presented) {
        return Ok(Err(KeyRejection::Malformed));
    }
    let digest = server_key.key_digest(presented);
    let row: Option<KeyRow> = sqlx::query_as(
        "select k.id, k.site_id, k.mode, k.kind, k.digest, k.scopes, k.signing_secret_enc, k.require_request_signature, k.expires_at, k.revoked_at, \
         (s.settings ->> 'rateLimitPerMinute')::int as rate_limit_rpm \
         from api_keys k join sites s on s.id = k.site_id where k.digest = $1",
    )
    .bind(&digest[..])
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(Err(KeyRejection::Unknown));
    };
    // The index lookup already matched; comparing again in constant time keeps timing independent of
    // how many bytes matched should the lookup ever become a prefix search.
    if !crypto::constant_time_eq(&row.digest, &digest) {
        return Ok(Err(KeyRejection::Unknown));
    }
    if row.revoked_at.is_some() {
        return Ok(Err(KeyRejection::Revoked));
    }
    if row.expires_at.is_some_and(|t| t <= Utc::now()) {
        return Ok(Err(KeyRejection::Expired));
    }
    let signing_secret = match row.signing_secret_enc {
        Some(sealed) => Some(server_key.open(&sealed).ok_or_else(|| {
            Error::Internal(format!(
                "signing secret of key {} cannot be opened with this server key",
                row.id
            ))
        })?),
        None => None,
    };
    Ok(Ok(AuthenticatedKey {
        id: row.id,
        site_id: row.site_id,
        mode: if row.mode == "test" {
            KeyMode::Test
        } else {
            KeyMode::Live
        },
        publishable: row.kind == "publishable",
        scopes: row.scopes,
        signing_secret,
        require_request_signature: row.require_request_signature,
        rate_limit_rpm: row
            .rate_limit_rpm
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0),
        expires_at: row.expires_at,
    }))
}

#[derive(FromRow)]
struct KeyRow {
    id: String,
    site_id: String,
    mode: String,
    kind: String,
    digest: Vec<u8>,
    scopes: Vec<String>,
    signing_secret_enc: Option<Vec<u8>>,
    require_request_signature: bool,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    rate_limit_rpm: Option<i32>,
}

/// Records that a key was used, at most once a minute per key.
pub async fn touch(conn: &mut PgConnection, key_id: &str) -> Result<()> {
    sqlx::query(
        "update api_keys set last_used_at = now() \
         where id = $1 and (last_used_at is null or last_used_at < now() - interval '1 minute')",
    )
    .bind(key_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Remembers a signature until its window closes, with whether its first use was a read. `false` for a
/// replay: a signature seen before, unless both uses are reads.
pub async fn remember_signature(
    conn: &mut PgConnection,
    site_id: &str,
    key_id: &str,
    signature: &str,
    safe: bool,
    expires_at: DateTime<Utc>,
) -> Result<bool> {
    // First use: remembered with whether it was a read. Again: accepted only for a read, after a read.
    let first_use_was_safe: Option<Option<bool>> = sqlx::query_scalar(
        "with inserted as ( \
           insert into seen_signatures (key_id, signature, safe, expires_at, site_id) values ($1, $2, $3, $4, $5) \
           on conflict do nothing returning true) \
         select null::boolean from inserted \
         union all \
         select s.safe from seen_signatures s \
         where s.site_id = $5 and s.key_id = $1 and s.signature = $2 and not exists (select 1 from inserted)",
    )
    .bind(key_id)
    .bind(signature)
    .bind(safe)
    .bind(expires_at)
    .bind(site_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match first_use_was_safe {
        // Inserted: the first use.
        Some(None) => true,
        Some(Some(first_safe)) => safe && first_safe,
        // A concurrent first use committed meanwhile, outside this statement's snapshot: only a read may
        // share it (at worst it reads what the other request could).
        None => safe,
    })
}
