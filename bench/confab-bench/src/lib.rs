//! confab-bench: an open-loop load generator for Socket.IO chat servers that
//! speak the Dozaar dialect, and a ceiling server (WebSocket echo and fan-out
//! on the same stack, without Socket.IO library or storage) to compare with.
//!
//! The generator speaks Engine.IO v4 / Socket.IO v5 itself ([`wire`]), signs
//! its own HS256 tokens ([`token`]), sets users and conversations up over REST
//! ([`setup`]), drives sends on a fixed schedule ([`schedule`]) and measures
//! latency from each send's intended time into HDR histograms ([`report`]).

pub mod ceiling;
pub mod conn;
pub mod error;
pub mod fit;
pub mod proc_stats;
pub mod report;
pub mod scenario;
pub mod schedule;
pub mod setup;
pub mod table;
pub mod token;
pub mod tracker;
pub mod wire;

pub use error::BenchError;
