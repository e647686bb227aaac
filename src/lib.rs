//! confab: a real-time chat server that speaks several Socket.IO chat APIs
//! (dialects) on one domain core, one store and one fan-out.

pub mod admin;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod core;
pub mod datadir;
pub mod dialects;
pub mod drain;
pub mod fanout;
pub mod http;
pub mod import;
pub mod logging;
pub mod media;
pub mod push;
pub mod sessions;
pub mod socket;
pub mod state;
pub mod store;
pub mod telemetry;
