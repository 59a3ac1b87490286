//! HTTP handlers of the native dialect.

pub mod v1;
