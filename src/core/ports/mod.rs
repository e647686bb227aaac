//! The ports of the core: what it needs from outside, as traits it owns and
//! others implement, so that the core imports none of them.
//!
//! - [`store`]: persistence ([`Store`]), implemented by `crate::store`.
//! - [`cluster`]: the state a node shares with the other nodes of a cluster,
//!   the claims behind presence and viewing ([`ClaimStore`]) and the
//!   per-user rate limit ([`RateCounter`]) and the failed logins
//!   ([`FailureCounter`]), implemented on Redis by
//!   `crate::fanout::cluster`.
//!
//! The third port, where domain events go once stored, is
//! [`Publisher`](crate::core::event::Publisher), beside the events.

pub mod cluster;
pub mod store;

pub use cluster::{
    Change, ClaimStore, FailureCounter, Holders, RateCounter, Shared, SharedError, SharedResult,
};
pub use store::{Credentials, DynStore, Inserted, Store, StoreResult};
