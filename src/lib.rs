//! Shopvo: a self-hostable headless commerce API server.

pub mod api;
pub mod app;
pub mod cli;
pub mod compat;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod domain;
pub mod http;
pub mod ids;
pub mod jobs;
pub mod metrics;
pub mod state;
