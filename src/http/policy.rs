//! Route policies: what the shared plumbing does for a group of routes, declared where the routes are
//! mounted (`api::v1::groups`, and each dialect's router) instead of matched from path substrings.
//!
//! [`mount`] wraps a group in the plumbing stack and tags every request with the group's policy, so
//! authentication, rate limiting, the read cache and idempotency read the declaration, and their
//! rejections are rendered by the group's [`Dialect`].

use axum::Extension;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use utoipa_axum::router::OpenApiRouter;

use super::error::ApiError;
use super::rate_limit::Group;
use crate::config::Config;
use crate::state::AppState;

/// Who renders the plumbing's rejections (401, 403, 413, 422, 429) for a route group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The Shopvo v1 envelope: `{"success":false,"error":"…","code":"…"}`.
    Native,
    /// Mofavo's `{"success":false,"error":"…"}`.
    Mofavo,
    /// WordPress's `{"code":"…","message":"…","data":{"status":…}}` (Mulopim).
    Mulopim,
    /// Mozello's `{"error":true,"error_code":…,"error_message":"…"}`.
    Mozello,
    /// MOOD MNKY's `{"error":{"code":"…","message":"…"}}`.
    MoodMnky,
}

impl Dialect {
    /// Renders a rejection of the shared plumbing in this dialect's error format.
    pub fn render(self, error: ApiError) -> Response {
        match self {
            Dialect::Native => error.into_response(),
            Dialect::Mofavo => {
                let body = serde_json::json!({"success": false, "error": error.message});
                vendor_response(&error, body)
            }
            Dialect::Mozello => {
                let body = serde_json::json!({"error": true, "error_code": error.status.as_u16(),
                    "error_message": error.message});
                vendor_response(&error, body)
            }
            Dialect::MoodMnky => {
                let code = match error.status.as_u16() {
                    400 => "INVALID_INPUT",
                    429 => "RATE_LIMIT_EXCEEDED",
                    _ => error.code,
                };
                let body = serde_json::json!({"error": {"code": code, "message": error.message}});
                vendor_response(&error, body)
            }
            Dialect::Mulopim => {
                let code = format!("rest_{}", error.code.to_ascii_lowercase());
                let body = serde_json::json!({"code": code, "message": error.message,
                    "data": {"status": error.status.as_u16()}});
                vendor_response(&error, body)
            }
        }
    }
}

/// A vendor dialect's error body with the rejection's status and, for a rate limit, its `Retry-After`.
fn vendor_response(error: &ApiError, body: serde_json::Value) -> Response {
    let mut response = (error.status, axum::Json(body)).into_response();
    if let Some(seconds) = error.retry_after {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, seconds.into());
    }
    response
}

/// How requests to a group of routes authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// An API key of the path's site (`Authorization: Bearer …`, and a signature when the key signs).
    Key,
    /// No key; counted per client IP in [`Group::Public`].
    Public,
    /// The dialect's own credentials, checked and counted per credential by its handlers (Mozello's API
    /// keys, 5 requests a second each): the plumbing neither authenticates nor counts these requests.
    Dialect,
}

/// The rate-limit group of a route group's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateGroup {
    /// A fixed group.
    Fixed(Group),
    /// `Group::ProductSearch` for a GET with a non-empty query parameter of this name, else `Group::All`.
    SearchBy(&'static str),
}

impl RateGroup {
    /// The group a request falls in.
    pub fn of(self, method: &Method, query: Option<&str>) -> Group {
        match self {
            RateGroup::Fixed(group) => group,
            RateGroup::SearchBy(param) => {
                let searches = method == Method::GET
                    && query.is_some_and(|q| {
                        form_urlencoded::parse(q.as_bytes())
                            .any(|(k, v)| k == param && !v.trim().is_empty())
                    });
                if searches {
                    Group::ProductSearch
                } else {
                    Group::All
                }
            }
        }
    }
}

/// The plumbing's settings for one group of routes.
#[derive(Debug, Clone, Copy)]
pub struct RoutePolicy {
    pub dialect: Dialect,
    pub access: Access,
    pub rate: RateGroup,
    /// GET answers may be kept briefly in the read cache and served to keys holding this scope (answers
    /// that depend only on the site's catalog; never per-customer data).
    pub cached_for_scope: Option<&'static str>,
    /// `Idempotency-Key` is honoured on writes (off for routes whose answers must never be replayed, such
    /// as fresh session tokens).
    pub idempotency: bool,
    /// Which body limit applies.
    pub body: BodyLimit,
}

/// The largest request body a route group accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLimit {
    /// `SHOPVO_BODY_LIMIT`.
    Default,
    /// Room for an image upload (`Config::media_body_limit`).
    Media,
}

impl RoutePolicy {
    /// Keyed, counted in `Group::All`, not cached, idempotent writes.
    pub const fn native() -> Self {
        RoutePolicy {
            dialect: Dialect::Native,
            access: Access::Key,
            rate: RateGroup::Fixed(Group::All),
            cached_for_scope: None,
            idempotency: true,
            body: BodyLimit::Default,
        }
    }

    pub const fn media_uploads(self) -> Self {
        RoutePolicy {
            body: BodyLimit::Media,
            ..self
        }
    }

    /// The largest body, in bytes, this group's requests may send.
    pub fn body_limit(&self, config: &Config) -> usize {
        match self.body {
            BodyLimit::Default => config.body_limit,
            BodyLimit::Media => config.media_body_limit(),
        }
    }

    pub const fn public(self) -> Self {
        RoutePolicy {
            access: Access::Public,
            rate: RateGroup::Fixed(Group::Public),
            ..self
        }
    }

    /// For a dialect that authenticates and rate-limits with its own credentials.
    pub const fn own_credentials(self) -> Self {
        RoutePolicy {
            access: Access::Dialect,
            ..self
        }
    }

    pub const fn rate(self, rate: RateGroup) -> Self {
        RoutePolicy { rate, ..self }
    }

    pub const fn cached_for(self, scope: &'static str) -> Self {
        RoutePolicy {
            cached_for_scope: Some(scope),
            ..self
        }
    }

    pub const fn without_idempotency(self) -> Self {
        RoutePolicy {
            idempotency: false,
            ..self
        }
    }

    /// The policy of a request (every mounted route has one; anything else is treated as native).
    pub fn of(request: &Request) -> RoutePolicy {
        request
            .extensions()
            .get::<RoutePolicy>()
            .copied()
            .unwrap_or_else(RoutePolicy::native)
    }
}

/// Wraps a route group in the plumbing stack. Requests pass, in order: the policy tag, the body limit,
/// authentication, rate limiting, the read cache, idempotency, then the handler.
///
/// The stack is one layer around each route, and its steps one middleware: axum wraps every route layer in
/// its own boxed route, which copies everything inside it on every request, and boxes each middleware's
/// future; seven separate layers cost a product GET about a tenth of its time (docs/performance.md).
pub fn mount(
    routes: OpenApiRouter<AppState>,
    state: &AppState,
    policy: RoutePolicy,
) -> OpenApiRouter<AppState> {
    routes.route_layer(
        ServiceBuilder::new()
            .layer(Extension(policy))
            // Overrides the router-wide limit for this group's extractors (a larger one for uploads).
            .layer(DefaultBodyLimit::max(policy.body_limit(&state.config)))
            .layer(middleware::from_fn_with_state(state.clone(), plumbing)),
    )
}

/// The steps, each given the group's policy (read once) and handed the rest as `next`. Rate limiting is
/// inside authentication (it counts per key) and the read cache inside rate limiting (cached reads still
/// count), outside idempotency (replays are writes too).
async fn plumbing(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let state = &state;
    let policy = RoutePolicy::of(&request);
    super::body_limit::reject_large_bodies(state, policy, request, |request| {
        super::auth::authenticate(state, policy, request, |request| {
            super::rate_limit::limit(state, policy, request, |request| {
                super::read_cache::cache(state, policy, request, |request| {
                    super::idempotency::idempotent(state, policy, request, |request| {
                        next.run(request)
                    })
                })
            })
        })
    })
    .await
}
