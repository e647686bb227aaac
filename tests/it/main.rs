//! confab's integration tests, one binary: the real server in-process on
//! port 0 with a fresh database, driven by Rust Socket.IO clients and reqwest;
//! the store contract against SQLite and PostgreSQL; the cluster's Redis side
//! against a real Redis. One module per area; what they share is in
//! [`helpers`].
//!
//! The tests run on parallel threads of this one process, so none may touch
//! what the others see: none sets an environment variable or other global;
//! every server listens on port 0 with a temporary directory of its own;
//! every store-contract case on PostgreSQL has a schema of its own (the
//! outage test a database of its own); every Redis key a test makes names a
//! fresh id. Each test picks its own tokio runtime in its attribute.
//!
//! Run one area with a filter: `cargo test --test it store_contract::`.

mod helpers;

mod admin_api;

mod dozaar;
mod http_api;
mod jobspare;
mod postgres;
mod presence;
mod protocol_v2;
mod push;
mod redis;
mod service;
mod store_contract;
mod syarah;
mod tokens;
mod uploads;
mod vchat;
mod voxora;
mod web;
