//! Per-key rate limits by route group, with `X-RateLimit-*` headers on every authenticated response.
//!
//! Fixed one-minute windows kept in this process (the shape of the spec's "requests per minute"). With
//! several server processes each keeps its own counts; a shared store is future work (see README).

use std::collections::HashMap;
use std::sync::Mutex;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::auth::AuthContext;
use super::error::ApiError;
use super::policy::{Access, RoutePolicy};
use crate::state::AppState;

/// Route groups with their own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Group {
    All,
    Checkout,
    Orders,
    ProductSearch,
    /// Unauthenticated routes, counted per client IP.
    Public,
    /// A dialect's requests, counted per credential by the dialect ([`RateLimiter::check_per_second`]).
    Dialect,
}

impl Group {
    /// The group's name in metrics.
    pub fn name(self) -> &'static str {
        match self {
            Group::All => "all",
            Group::Checkout => "checkout",
            Group::Orders => "orders",
            Group::ProductSearch => "product_search",
            Group::Public => "public",
            Group::Dialect => "dialect",
        }
    }

    fn fixed_limit(self) -> Option<u32> {
        match self {
            Group::All => None,
            Group::Checkout => Some(10),
            Group::Orders => Some(30),
            Group::ProductSearch => Some(60),
            Group::Public => Some(30),
            Group::Dialect => None,
        }
    }
}

pub struct Decision {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Unix time at which the window resets.
    pub reset_at: i64,
}

#[derive(Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<(String, Group), (i64, u32)>>,
}

impl RateLimiter {
    /// Counts a request of `key_id` in `group` against `limit` per minute.
    pub fn check(&self, key_id: &str, group: Group, limit: u32, now: i64) -> Decision {
        self.check_in(key_id, group, limit, now, 60)
    }

    /// Counts a dialect's request of `credential` against `limit` per hour.
    pub fn check_per_hour(&self, credential: &str, limit: u32, now: i64) -> Decision {
        self.check_in(credential, Group::Dialect, limit, now, 3600)
    }

    /// Counts a dialect's request of `credential` against `limit` per second.
    pub fn check_per_second(&self, credential: &str, limit: u32, now: i64) -> Decision {
        self.check_in(credential, Group::Dialect, limit, now, 1)
    }

    fn check_in(&self, key_id: &str, group: Group, limit: u32, now: i64, length: i64) -> Decision {
        let window = now - now.rem_euclid(length);
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > 100_000 {
            windows.retain(|_, (start, _)| *start == window);
        }
        let entry = windows
            .entry((key_id.to_string(), group))
            .or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        let allowed = entry.1 < limit;
        if allowed {
            entry.1 += 1;
        } else {
            crate::metrics::rate_limited(group.name());
        }
        Decision {
            allowed,
            limit,
            remaining: limit.saturating_sub(entry.1),
            reset_at: window + length,
        }
    }
}

/// Counts a request made with a dialect's own credential (routes with `Access::Dialect`, which the
/// plumbing does not count) against `limit` requests a minute; `Err` holds the seconds to wait. Always `Ok`
/// when the server's rate limiting is off.
pub fn per_credential(state: &AppState, credential: &str, limit: u32) -> Result<(), u64> {
    if !state.config.rate_limit {
        return Ok(());
    }
    let now = chrono::Utc::now().timestamp();
    let decision = state.limiter.check(credential, Group::Dialect, limit, now);
    if decision.allowed {
        Ok(())
    } else {
        Err((decision.reset_at - now).max(1) as u64)
    }
}

pub fn set_headers(headers: &mut HeaderMap, d: &Decision) {
    headers.insert("x-ratelimit-limit", HeaderValue::from(d.limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(d.remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(d.reset_at));
}

pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !state.config.rate_limit {
        return next.run(request).await;
    }
    let policy = RoutePolicy::of(&request);
    let (who, group, limit) = match request.extensions().get::<AuthContext>() {
        Some(auth) => {
            let group = policy.rate.of(request.method(), request.uri().query());
            let limit = group.fixed_limit().unwrap_or_else(|| {
                auth.key
                    .rate_limit_rpm
                    .unwrap_or(state.config.rate_limit_default)
            });
            (auth.key_id().to_string(), group, limit)
        }
        None if policy.access == Access::Public => {
            let ip = request
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_default();
            (
                format!("ip:{ip}"),
                Group::Public,
                Group::Public.fixed_limit().unwrap_or(30),
            )
        }
        None => return next.run(request).await,
    };
    let now = chrono::Utc::now().timestamp();
    let decision = state.limiter.check(&who, group, limit, now);
    let mut response = if decision.allowed {
        next.run(request).await
    } else {
        let retry_after = (decision.reset_at - now).max(1) as u64;
        policy.dialect.render(ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                format!(
                    "Rate limit of {limit} requests per minute exceeded; retry in {retry_after} s"
                ),
            )
        })
    };
    set_headers(response.headers_mut(), &decision);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::policy::RateGroup;
    use axum::http::Method;

    #[test]
    fn groups() {
        let get = Method::GET;
        let search = RateGroup::SearchBy("search");
        assert_eq!(
            RateGroup::Fixed(Group::Checkout).of(&Method::POST, None),
            Group::Checkout
        );
        assert_eq!(search.of(&get, Some("search=shirt")), Group::ProductSearch);
        assert_eq!(search.of(&get, Some("search=")), Group::All);
        assert_eq!(search.of(&get, None), Group::All);
        assert_eq!(search.of(&Method::POST, Some("search=shirt")), Group::All);
    }

    #[test]
    fn windows_count_and_reset() {
        let limiter = RateLimiter::default();
        let t = 1_700_000_040;
        assert!(limiter.check("k", Group::All, 2, t).allowed);
        let second = limiter.check("k", Group::All, 2, t);
        assert!(second.allowed && second.remaining == 0);
        assert!(!limiter.check("k", Group::All, 2, t + 1).allowed);
        assert!(limiter.check("other", Group::All, 2, t).allowed);
        assert!(limiter.check("k", Group::All, 2, t + 60).allowed);
    }
}
