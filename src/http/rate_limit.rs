//! Per-key rate limits by route group, with `X-RateLimit-*` headers on every authenticated response: so
//! many requests a minute for each key (or client address, on public routes), counted by
//! [`super::limiter`] (in Redis when configured, so across replicas).

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
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

pub use super::limiter::{Decision, RateLimiter};

const MINUTE: Duration = Duration::from_secs(60);

/// Counts a request made with a dialect's own credential (routes with `Access::Dialect`, which the
/// plumbing does not count) against `limit` requests a minute; `Err` holds the seconds to wait. Always `Ok`
/// when the server's rate limiting is off.
pub async fn per_credential(state: &AppState, credential: &str, limit: u32) -> Result<(), u64> {
    if !state.config.rate_limit {
        return Ok(());
    }
    let decision = state
        .limiter
        .check(Group::Dialect.name(), credential, limit, MINUTE)
        .await;
    if decision.allowed {
        Ok(())
    } else {
        Err(decision.retry_after)
    }
}

pub fn set_headers(headers: &mut HeaderMap, d: &Decision) {
    headers.insert("x-ratelimit-limit", HeaderValue::from(d.limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(d.remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(d.reset_at));
}

pub async fn limit<Fut: Future<Output = Response>>(
    state: &AppState,
    policy: RoutePolicy,
    request: Request,
    next: impl FnOnce(Request) -> Fut,
) -> Response {
    if !state.config.rate_limit {
        return next(request).await;
    }
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
        None => return next(request).await,
    };
    let decision = state.limiter.check(group.name(), &who, limit, MINUTE).await;
    let mut response = if decision.allowed {
        next(request).await
    } else {
        let retry_after = decision.retry_after;
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
}
