//! API-key authentication (a middleware on every `/api/v1/{siteId}` route) and scope checks (an extractor
//! whose type names the scope, so a handler's signature shows what it needs).

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::customer::CustomerToken;
use super::error::ApiError;
use super::policy::{Access, RoutePolicy};
use super::signature;
use crate::domain::caller::{Audience, Caller, Mode};
use crate::domain::keys::{self, AuthenticatedKey, KeyMode, KeyRejection};
use crate::state::AppState;

/// The key a request authenticated with; its site is the `{siteId}` of the path.
#[derive(Debug, Clone)]
pub struct AuthContext {
    pub key: Arc<AuthenticatedKey>,
}

impl AuthContext {
    pub fn site_id(&self) -> &str {
        &self.key.site_id
    }

    pub fn key_id(&self) -> &str {
        &self.key.id
    }

    pub fn is_test(&self) -> bool {
        self.key.mode == KeyMode::Test
    }

    /// A browser key: sees only the active catalog and its own customers' carts.
    pub fn is_publishable(&self) -> bool {
        self.key.publishable
    }

    /// Who is asking, for the domain: this key's site, mode and audience, and the customer signed in with
    /// the request's verified token, if any.
    pub fn caller(&self, customer_id: Option<&str>) -> Caller {
        Caller {
            site_id: self.key.site_id.clone(),
            mode: match self.key.mode {
                KeyMode::Test => Mode::Test,
                KeyMode::Live => Mode::Live,
            },
            audience: if self.key.publishable {
                Audience::Publishable
            } else {
                Audience::Secret
            },
            customer_id: customer_id.map(str::to_string),
        }
    }
}

/// A permission scope, as a type.
pub trait Scope {
    const NAME: &'static str;

    /// Whether an authenticated key may call an endpoint that needs this scope.
    fn allows(key: &AuthenticatedKey) -> bool {
        key.has_scope(Self::NAME)
    }
}

macro_rules! scopes {
    ($($ty:ident => $name:literal),* $(,)?) => {
        $(
            #[doc = concat!("The `", $name, "` scope.")]
            pub struct $ty;
            impl Scope for $ty {
                const NAME: &'static str = $name;
            }
        )*
    };
}

scopes! {
    ReadCatalog => "read:catalog",
    WriteCatalog => "write:catalog",
    ReadContent => "read:content",
    ReadOrders => "read:orders",
    WriteOrders => "write:orders",
    ReadCustomers => "read:customers",
    WriteCustomers => "write:customers",
    ReadCart => "read:cart",
    WriteCart => "write:cart",
    ReadCheckout => "read:checkout",
    WriteCheckout => "write:checkout",
    ReadInventory => "read:inventory",
    WriteInventory => "write:inventory",
    ReadPromotions => "read:promotions",
    WritePromotions => "write:promotions",
    ReadGiftCards => "read:gift-cards",
    WriteGiftCards => "write:gift-cards",
    ReadStoreCredit => "read:store-credit",
    WriteStoreCredit => "write:store-credit",
    ReadLoyalty => "read:loyalty",
    WriteLoyalty => "write:loyalty",
    ReadB2b => "read:b2b",
    WriteB2b => "write:b2b",
    WebhooksRead => "webhooks:read",
    WebhooksWrite => "webhooks:write",
    MetafieldsRead => "metafields:read",
    MetafieldsWrite => "metafields:write",
    Admin => "admin:*",
}

/// Any valid key of the site, whatever its scopes (publishable keys included): for storefront endpoints
/// such as customer registration and login. Documented in OpenAPI as the pseudo-scope `any`.
pub struct AnyKey;

impl Scope for AnyKey {
    const NAME: &'static str = "any";

    fn allows(_key: &AuthenticatedKey) -> bool {
        true
    }
}

/// An authenticated request whose key holds scope `S` (or `admin:*`); otherwise 403 naming the scope.
pub struct Scoped<S: Scope> {
    pub auth: AuthContext,
    _scope: PhantomData<S>,
}

impl<S: Scope> Scoped<S> {
    pub fn site_id(&self) -> &str {
        self.auth.site_id()
    }

    /// The caller without a signed-in customer.
    pub fn caller(&self) -> Caller {
        self.auth.caller(None)
    }

    /// The caller, signed in as the customer of `token` when there is one.
    pub fn caller_with(&self, token: Option<&CustomerToken>) -> Caller {
        self.auth.caller(token.map(|t| t.customer_id.as_str()))
    }
}

impl<S: Scope, St: Send + Sync> FromRequestParts<St> for Scoped<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &St) -> Result<Self, Self::Rejection> {
        let auth = parts
            .extensions
            .get::<AuthContext>()
            .cloned()
            .ok_or_else(|| {
                tracing::error!(
                    "Scoped extractor used on a route without the authentication middleware"
                );
                ApiError::internal()
            })?;
        if !S::allows(&auth.key) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                format!(
                    "This API key does not have the `{}` scope required by this endpoint",
                    S::NAME
                ),
            ));
        }
        Ok(Scoped {
            auth,
            _scope: PhantomData,
        })
    }
}

/// When a key was loaded, and what it authenticated as.
type CachedKey = (Instant, Arc<AuthenticatedKey>);

/// Successful authentications, remembered briefly so hot paths skip the key lookup. Revocation through
/// this process clears the entry at once; other processes notice within [`AuthCache::TTL`].
#[derive(Default)]
pub struct AuthCache {
    entries: Mutex<HashMap<[u8; 32], CachedKey>>,
}

impl AuthCache {
    const TTL: Duration = Duration::from_secs(10);
    const MAX_ENTRIES: usize = 10_000;

    fn get(&self, digest: &[u8; 32]) -> Option<Arc<AuthenticatedKey>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // An expiry that passes while the key is cached takes effect at once: the caller then goes to the
        // database, which answers `Expired`.
        entries
            .get(digest)
            .filter(|(at, key)| at.elapsed() < Self::TTL && !key.is_expired(chrono::Utc::now()))
            .map(|(_, key)| key.clone())
    }

    fn put(&self, digest: [u8; 32], key: Arc<AuthenticatedKey>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= Self::MAX_ENTRIES {
            entries.retain(|_, (at, _)| at.elapsed() < Self::TTL);
            if entries.len() >= Self::MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(digest, (Instant::now(), key));
    }

    /// Forgets every key of a site (after the site's settings, such as its rate limit, changed).
    pub fn forget_site(&self, site_id: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, (_, key)| key.site_id != site_id);
    }

    /// Forgets every key.
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Forgets a key (after it was revoked).
    pub fn forget(&self, key_id: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, (_, key)| key.id != key_id);
    }
}

fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized(
            "UNAUTHORIZED",
            "Missing API key: send `Authorization: Bearer <key>`",
        )
    })?;
    let value = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or_default();
    if value.is_empty() {
        return Err(ApiError::unauthorized(
            "UNAUTHORIZED",
            "Malformed Authorization header: expected `Bearer <key>`",
        ));
    }
    Ok(value)
}

/// The key `presented`, from the cache or the database; a rejection says why (malformed, unknown,
/// revoked, expired).
pub async fn load_key(
    state: &AppState,
    presented: &str,
) -> Result<Arc<AuthenticatedKey>, ApiError> {
    if !keys::is_well_formed(presented) {
        return Err(ApiError::unauthorized("UNAUTHORIZED", "Malformed API key"));
    }
    let digest = state.server_key.key_digest(presented);
    if let Some(key) = state.auth_cache.get(&digest) {
        return Ok(key);
    }
    // One connection for the lookup and the touch: a request must never wait for a second connection
    // while it holds one (a burst of cache misses would then hold the whole pool, each waiting for more).
    let mut conn = state.pool.acquire().await?;
    match keys::authenticate(&mut conn, &state.server_key, presented).await? {
        Ok(key) => {
            let key = Arc::new(key);
            state.auth_cache.put(digest, key.clone());
            if let Err(e) = keys::touch(&mut conn, &key.id).await {
                tracing::warn!(error = %e, "could not record key use");
            }
            Ok(key)
        }
        Err(KeyRejection::Malformed) => {
            Err(ApiError::unauthorized("UNAUTHORIZED", "Malformed API key"))
        }
        Err(KeyRejection::Unknown) => {
            Err(ApiError::unauthorized("UNAUTHORIZED", "Invalid API key"))
        }
        Err(KeyRejection::Revoked) => Err(ApiError::unauthorized(
            "UNAUTHORIZED",
            "This API key has been revoked",
        )),
        Err(KeyRejection::Expired) => Err(ApiError::unauthorized(
            "UNAUTHORIZED",
            "This API key has expired",
        )),
    }
}

/// Authenticates requests to keyed routes: the key, its site (the path's `{siteId}`), and its signature
/// when it signs. Public routes pass without a key; rejections are rendered by the route's dialect.
pub async fn authenticate<Fut: Future<Output = Response>>(
    state: &AppState,
    policy: RoutePolicy,
    request: Request,
    next: impl FnOnce(Request) -> Fut,
) -> Response {
    if policy.access != Access::Key {
        return next(request).await;
    }
    match authenticated(state, request).await {
        Ok(request) => next(request).await,
        Err(error) => policy.dialect.render(error),
    }
}

async fn authenticated(state: &AppState, request: Request) -> Result<Request, ApiError> {
    let (mut parts, body) = request.into_parts();
    let params = RawPathParams::from_request_parts(&mut parts, state)
        .await
        .map_err(|rejection| ApiError::bad_request("INVALID_PATH", rejection.body_text()))?;
    let site_id = params
        .iter()
        .find(|(name, _)| *name == "siteId")
        .map(|(_, v)| v.to_string())
        .ok_or_else(|| {
            tracing::error!("a keyed route without a {{siteId}} path parameter");
            ApiError::internal()
        })?;
    let mut request = Request::from_parts(parts, body);
    let key = load_key(state, bearer(request.headers())?).await?;
    if key.site_id != site_id {
        // Same answer as for a site that does not exist: no hint either way.
        return Err(ApiError::not_found());
    }
    if let Some(secret) = &key.signing_secret {
        request = signature::verify(state, &key, secret, request).await?;
    }
    request.extensions_mut().insert(AuthContext { key });
    Ok(request)
}
