//! MOOD MNKY's e-commerce API under `/moodmnky/{siteId}/api`: customers sign in at `/api/auth/login` and send
//! `Authorization: Bearer <jwt>` (the native customer accounts and tokens); operators send `X-API-Key` (a
//! secret native key of the site, whose scopes apply); product reads need neither. Each request counts
//! against an hourly limit — 60 per client IP without credentials, 1000 per customer, 5000 per key — told
//! in `X-RateLimit-Limit`, `-Remaining` and `-Reset` (epoch seconds). Errors are
//! `{"error":{"code","message","details":[{"field","message"}]}}`.

mod auth;
mod blends;
mod cart;
mod customers;
mod errors;
mod fields;
mod orders;
mod products;
mod shapes;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use serde::de::DeserializeOwned;
use utoipa_axum::router::OpenApiRouter;

use self::errors::MnError;
use crate::domain;
use crate::domain::caller::{Audience, Caller, Mode};
use crate::domain::customers::tokens::{self, TokenRejection};
use crate::domain::keys::{AuthenticatedKey, KeyMode};
use crate::http::policy::{Dialect, RoutePolicy};
use crate::state::AppState;

/// Requests an hour per client IP, customer and key.
pub const ANONYMOUS_PER_HOUR: u32 = 60;
pub const CUSTOMER_PER_HOUR: u32 = 1000;
pub const ADMIN_PER_HOUR: u32 = 5000;

pub fn routes(state: &AppState) -> axum::Router<AppState> {
    let api = |path: &str| format!("/moodmnky/{{siteId}}/api{path}");
    let routes = OpenApiRouter::new()
        .route(&api("/auth/login"), post(auth::login))
        .route(&api("/auth/register"), post(auth::register))
        .route(&api("/auth/refresh"), post(auth::refresh))
        .route(&api("/auth/logout"), post(auth::logout))
        .route(&api("/products"), get(products::list))
        .route(&api("/products/{id}"), get(products::get))
        .route(&api("/admin/products"), post(products::create))
        .route(
            &api("/admin/products/{id}"),
            patch(products::update).delete(products::delete),
        )
        .route(&api("/orders"), get(orders::list).post(orders::create))
        .route(&api("/orders/{id}"), get(orders::get))
        .route(&api("/orders/{id}/cancel"), post(orders::cancel))
        .route(&api("/admin/orders/{id}/status"), patch(orders::set_status))
        .route(&api("/cart"), get(cart::get))
        .route(&api("/cart/items"), post(cart::add_item))
        .route(
            &api("/cart/items/{itemId}"),
            patch(cart::update_item).delete(cart::remove_item),
        )
        .route(&api("/cart/discounts"), post(cart::apply_discount))
        .route(
            &api("/cart/discounts/{code}"),
            delete(cart::remove_discount),
        )
        .route(&api("/cart/notes"), post(cart::set_notes))
        .route(
            &api("/cart/shipping-estimates"),
            post(cart::shipping_estimates),
        )
        .route(&api("/cart/checkout"), post(cart::checkout))
        .route(
            &api("/customers/profile"),
            get(customers::profile).patch(customers::update_profile),
        )
        .route(
            &api("/customers/addresses"),
            get(customers::addresses).post(customers::add_address),
        )
        .route(
            &api("/customers/addresses/{id}"),
            patch(customers::update_address).delete(customers::delete_address),
        )
        .route(&api("/customers/orders"), get(customers::orders))
        .route(
            &api("/customers/scent-profile"),
            get(customers::scent_profile).patch(customers::update_scent_profile),
        )
        .route(&api("/customers/loyalty"), get(customers::loyalty))
        .route(&api("/custom-blends/categories"), get(blends::categories))
        .route(&api("/custom-blends/notes"), get(blends::notes))
        .route(
            &api("/custom-blends/recommendations"),
            get(blends::recommendations),
        )
        .route(
            &api("/custom-blends"),
            get(blends::list).post(blends::create),
        )
        .route(
            &api("/custom-blends/{id}"),
            get(blends::get)
                .patch(blends::update)
                .delete(blends::delete),
        )
        .route(
            &api("/custom-blends/{id}/test-product"),
            post(blends::test_product),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), identify));
    let policy = RoutePolicy {
        dialect: Dialect::MoodMnky,
        ..RoutePolicy::native()
            .public()
            .own_credentials()
            .without_idempotency()
    };
    crate::http::mount(routes, state, policy)
        .split_for_parts()
        .0
}

/// Who is asking.
#[derive(Debug, Clone)]
pub enum Who {
    Anonymous,
    Customer(String),
    Admin(Arc<AuthenticatedKey>),
}

/// The request's site and credentials, as [`identify`] found them.
#[derive(Debug, Clone)]
pub struct Identity {
    pub site_id: String,
    pub who: Who,
}

impl Identity {
    /// The domain's view of the caller: a customer or anonymous visitor is a storefront caller (the active
    /// catalog, its own carts and orders); a key is what its key is.
    pub fn caller(&self) -> Caller {
        let storefront = |customer_id: Option<&String>| Caller {
            site_id: self.site_id.clone(),
            mode: Mode::Live,
            audience: Audience::Publishable,
            customer_id: customer_id.cloned(),
        };
        match &self.who {
            Who::Anonymous => storefront(None),
            Who::Customer(id) => storefront(Some(id)),
            Who::Admin(key) => Caller {
                site_id: self.site_id.clone(),
                mode: match key.mode {
                    KeyMode::Test => Mode::Test,
                    KeyMode::Live => Mode::Live,
                },
                audience: Audience::Secret,
                customer_id: None,
            },
        }
    }

    /// The signed-in customer (401 for anyone else).
    pub fn customer(&self) -> Result<&str, MnError> {
        match &self.who {
            Who::Customer(id) => Ok(id),
            _ => Err(MnError::unauthorized(
                "Customer authentication required: sign in at /api/auth/login and send `Authorization: Bearer <access_token>`",
            )),
        }
    }

    /// The caller of an operator's request whose key holds `scope` (401 without a key, 403 without the scope).
    pub fn admin(&self, scope: &str) -> Result<Caller, MnError> {
        match &self.who {
            Who::Admin(key) if key.has_scope(scope) => Ok(self.caller()),
            Who::Admin(_) => Err(MnError::forbidden(format!(
                "This API key does not have the `{scope}` scope required by this endpoint"
            ))),
            _ => Err(MnError::unauthorized(
                "Admin authentication required: send `X-API-Key: <secret key>`",
            )),
        }
    }

    /// The caller of a request a customer makes for itself or an operator makes with `scope`.
    pub fn customer_or_admin(&self, scope: &str) -> Result<Caller, MnError> {
        match &self.who {
            Who::Customer(_) => Ok(self.caller()),
            _ => self.admin(scope),
        }
    }
}

impl FromRequestParts<AppState> for Identity {
    type Rejection = MnError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, MnError> {
        parts.extensions.get::<Identity>().cloned().ok_or_else(|| {
            tracing::error!("a MOOD MNKY route without the identify middleware");
            MnError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                "Internal server error",
            )
        })
    }
}

/// Finds who is asking, counts the request against its hourly limit (failed credentials count against
/// the client IP), and tells the limit in the response headers.
async fn identify(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let site_id = RawPathParams::from_request_parts(&mut parts, &state)
        .await
        .ok()
        .and_then(|params| {
            params
                .iter()
                .find(|(name, _)| *name == "siteId")
                .map(|(_, v)| v.to_string())
        })
        .unwrap_or_default();
    let identity = who(&state, &parts.headers, &site_id).await;
    let (credential, limit) = match &identity {
        Ok(Identity {
            who: Who::Admin(key),
            ..
        }) => (format!("key:{}", key.id), ADMIN_PER_HOUR),
        Ok(Identity {
            who: Who::Customer(id),
            ..
        }) => (format!("customer:{site_id}:{id}"), CUSTOMER_PER_HOUR),
        _ => {
            let ip = parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_default();
            (format!("ip:{ip}"), ANONYMOUS_PER_HOUR)
        }
    };
    let decision = if state.config.rate_limit {
        let hour = std::time::Duration::from_secs(3600);
        Some(
            state
                .limiter
                .check("moodmnky", &credential, limit, hour)
                .await,
        )
    } else {
        None
    };
    let mut response = match (identity, &decision) {
        (_, Some(d)) if !d.allowed => {
            let retry_after = d.retry_after;
            MnError {
                retry_after: Some(retry_after),
                ..MnError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "RATE_LIMIT_EXCEEDED",
                    format!(
                        "Rate limit of {limit} requests per hour exceeded; retry in {retry_after} s"
                    ),
                )
            }
            .into_response()
        }
        (Err(e), _) => e.into_response(),
        (Ok(identity), _) => {
            parts.extensions.insert(identity);
            next.run(Request::from_parts(parts, body)).await
        }
    };
    if let Some(d) = &decision {
        crate::http::rate_limit::set_headers(response.headers_mut(), d);
    }
    response
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap_or_default().trim())
}

/// `X-API-Key` (a secret key of the site), else `Authorization: Bearer <customer access token>`, else
/// nobody (on a site that exists).
async fn who(state: &AppState, headers: &HeaderMap, site_id: &str) -> Result<Identity, MnError> {
    let identity = |who| Identity {
        site_id: site_id.to_string(),
        who,
    };
    if let Some(presented) = header(headers, "x-api-key") {
        let key = crate::http::auth::load_key(state, presented)
            .await
            .map_err(|e| MnError::unauthorized(e.message))?;
        if key.site_id != site_id {
            return Err(MnError::unauthorized("Invalid API key"));
        }
        if key.publishable {
            return Err(MnError::unauthorized(
                "A publishable key cannot authenticate here: send a secret key in `X-API-Key`",
            ));
        }
        if key.signing_secret.is_some() {
            return Err(MnError::unauthorized(
                "This API key requires signed requests, which this API does not carry: use a key without request signing",
            ));
        }
        return Ok(identity(Who::Admin(key)));
    }
    if let Some(authorization) = header(headers, "authorization") {
        let token = authorization
            .strip_prefix("Bearer ")
            .map(str::trim)
            .unwrap_or_default();
        return match tokens::verify_access(&state.server_key, token, site_id) {
            Ok(claims) => Ok(identity(Who::Customer(claims.sub))),
            Err(TokenRejection::Expired) => Err(MnError::new(
                StatusCode::UNAUTHORIZED,
                "TOKEN_EXPIRED",
                TokenRejection::Expired.message(),
            )),
            Err(rejection) => Err(MnError::unauthorized(rejection.message())),
        };
    }
    let mut conn = state.pool.acquire().await.map_err(domain::Error::from)?;
    domain::sites::get(&mut conn, site_id)
        .await
        .map_err(|e| match e {
            domain::Error::NotFound(_) => MnError::not_found("site"),
            other => other.into(),
        })?;
    Ok(identity(Who::Anonymous))
}

/// A JSON body read with the shared reader (a JSON object; wrong types and unknown fields named).
pub fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, MnError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        return Err(MnError::invalid("body", "must be a JSON object"));
    }
    if first.is_none() {
        return Err(MnError::invalid("body", "a JSON object is required"));
    }
    crate::http::extract::parse_json(bytes).map_err(MnError::from)
}

/// `page` (1-based) and `limit` (1 to `max`, default `default`) as an offset page; deep pages are refused.
pub fn page_request(
    page: Option<i64>,
    limit: Option<i64>,
    default: i64,
    max: i64,
) -> Result<domain::pagination::PageRequest, MnError> {
    let page = page.unwrap_or(1);
    let limit = limit.unwrap_or(default);
    if page < 1 {
        return Err(MnError::invalid("page", "must be 1 or more"));
    }
    if !(1..=max).contains(&limit) {
        return Err(MnError::invalid(
            "limit",
            format!("must be from 1 to {max}"),
        ));
    }
    if (page - 1).saturating_mul(limit) > domain::pagination::MAX_OFFSET {
        return Err(MnError::invalid(
            "page",
            format!(
                "pages start at most {} items deep: narrow the list with filters",
                domain::pagination::MAX_OFFSET
            ),
        ));
    }
    Ok(domain::pagination::PageRequest::Offset { page, limit })
}

/// `{"total","pages","page","limit"}` of an offset page.
pub fn pagination(info: &domain::pagination::PageInfo) -> serde_json::Value {
    match info {
        domain::pagination::PageInfo::Offset { page, limit, total } => {
            let pages = if *limit > 0 {
                (total.count + limit - 1) / limit
            } else {
                0
            };
            serde_json::json!({"total": total.count, "pages": pages, "page": page, "limit": limit,
                "totalIsEstimate": total.is_estimate})
        }
        domain::pagination::PageInfo::Cursor { .. } => serde_json::json!({}),
    }
}

/// `{"data": …}`.
pub fn data(value: serde_json::Value) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "data": value }))
}

/// Query parameters, refused in MOOD MNKY's error shape.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = MnError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, MnError> {
        crate::http::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(MnError::from)
    }
}

/// Path parameters (the site first), refused in MOOD MNKY's error shape.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = MnError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, MnError> {
        crate::http::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(MnError::from)
    }
}
