//! Site content: pages and navigation menus.

pub mod menus;
pub mod pages;
