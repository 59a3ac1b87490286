//! Balances that pay for orders: gift cards and store credit (loyalty follows the same pattern). Each is a
//! balance and an append-only ledger; a spend is one conditional update that never takes the balance below
//! zero, so two concurrent spends can never spend the same money.

pub mod gift_cards;
pub mod store_credit;
