//! The ports of the core: what it needs from outside, as traits it owns and
//! others implement, so that the core imports none of them.
//!
//! - [`store`]: persistence ([`Store`]), implemented by `crate::store`.
//!
//! The other port, where domain events go once stored, is
//! [`Publisher`](crate::core::event::Publisher), beside the events.

pub mod store;

pub use store::{Credentials, DynStore, Inserted, Store, StoreResult};
