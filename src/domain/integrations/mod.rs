//! Integrations that reach the domain through a vendor's own protocol, with their credentials.

pub mod mofavo;
pub mod mozello;
pub mod mulopim;
