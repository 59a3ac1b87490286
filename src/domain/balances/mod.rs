//! Balances that pay for orders: gift cards (store credit and loyalty follow the same pattern: a balance, an
//! append-only ledger, and spends that are one conditional update).

pub mod gift_cards;
