//! Shared HTTP plumbing of the native dialect: errors and envelopes, extractors, auth and scopes, request
//! signing, rate limits, idempotency.

pub mod auth;
pub mod body_limit;
pub mod cors;
pub mod customer;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod idempotency;
pub mod invalidation;
pub mod limiter;
pub mod login_limit;
pub mod policy;
pub mod rate_limit;
pub mod read_cache;
pub mod reads;
pub mod signature;
pub mod unread_body;

pub use auth::{AuthContext, Scoped};
pub use envelope::{Created, Data, Deleted, List, Pagination};
pub use error::{ApiError, CommonErrors, ErrorBody};
pub use extract::{Json, Path, Query};
pub use policy::{RoutePolicy, mount};
