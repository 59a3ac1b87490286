//! Inventory: locations and stock per (variant, location), changed only through [`stock::adjust`] (one
//! change) or [`levels::write`] (whole levels in bulk, for integrations); both write a ledger row for every
//! change and keep the variant's `inventory_count` in step.

pub mod levels;
pub mod locations;
pub mod stock;

pub use locations::Location;
pub use stock::{Adjustment, Operation, StockChange};
