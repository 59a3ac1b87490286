//! Inventory: locations and stock per (variant, location), changed only through [`stock::adjust`], which
//! writes a ledger row for every change and keeps the variant's `inventory_count` in step.

pub mod locations;
pub mod stock;

pub use locations::Location;
pub use stock::{Adjustment, Operation, StockChange};
