//! HTTP handlers of the native dialect.

pub mod media;
pub mod v1;
