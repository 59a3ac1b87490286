//! The domain layer: types, rules and SQL, one module per resource family. No HTTP in here.

pub mod address;
pub mod b2b;
pub mod balances;
pub mod blends;
pub mod caller;
pub mod carts;
pub mod catalog;
pub mod checkout;
pub mod content;
pub mod customers;
pub mod error;
pub mod events;
pub mod field;
pub mod idempotency;
pub mod integrations;
pub mod inventory;
pub mod keys;
pub mod media;
pub mod metafields;
pub mod money;
pub mod orders;
pub mod pagination;
pub mod patch;
pub mod pricing;
pub mod promotions;
pub mod shipping;
pub mod sites;
pub mod timestamps;
pub mod webhooks;

pub use caller::Caller;
pub use error::{Error, FieldError, Result};

/// A database connection (or transaction) that domain functions run on; handlers only pass it along.
pub type Conn = sqlx::PgConnection;

/// A transaction begun by a caller of the domain (dialects that mark their changes with an origin).
pub type Tx = sqlx::Transaction<'static, sqlx::Postgres>;

/// Escapes `\`, `%` and `_` so client text matches literally inside a `LIKE`/`ILIKE` pattern.
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
