//! The domain layer: types, rules and SQL, one module per resource family. No HTTP in here.

pub mod catalog;
pub mod customers;
pub mod error;
pub mod idempotency;
pub mod inventory;
pub mod keys;
pub mod pagination;
pub mod patch;
pub mod sites;

pub use error::{Error, FieldError, Result};
