//! Mofavo's request and response bodies.

use serde::{Deserialize, Serialize};

use crate::domain::integrations::mofavo::OrderStatus;

/// `{"refs": [...]}`: 1 to [`MAX_REFS`] strings.
#[derive(Debug, Deserialize)]
pub struct RefsIn {
    pub refs: Vec<String>,
}

/// The most refs one request may ask for.
pub const MAX_REFS: usize = 1000;

#[derive(Debug, Serialize)]
pub struct StockOut {
    pub success: bool,
    pub products: Vec<ProductStock>,
}

#[derive(Debug, Serialize)]
pub struct ProductStock {
    #[serde(rename = "ref")]
    pub reference: String,
    pub quantity: i64,
}

#[derive(Debug, Serialize)]
pub struct StatusOut {
    pub success: bool,
    pub orders: Vec<OrderStatusOut>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderStatusOut {
    #[serde(rename = "ref")]
    pub reference: String,
    pub status: String,
    pub final_destination: String,
}

impl From<OrderStatus> for OrderStatusOut {
    fn from(o: OrderStatus) -> Self {
        OrderStatusOut {
            reference: o.reference,
            status: o.status,
            final_destination: o.destination,
        }
    }
}
