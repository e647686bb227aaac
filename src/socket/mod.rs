//! The Socket.IO runtime every dialect shares. [`attach`] serves a dialect
//! on its namespace: the handshake is checked as the dialect's
//! [`Handshake`](crate::dialects::Handshake) says (`handshake.rs`); each
//! socket's events are handled in order by one worker that runs them through
//! the dialect's table and the core (`worker.rs`, `payload.rs`) and carries
//! out the answers on the socket (`outs.rs`); domain events are rendered
//! onto the dialect's rooms (`delivery.rs`), each socket sent a
//! conversation under the name it gave it (`names.rs`). Nothing here knows
//! one dialect from another.

use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide_core::adapter::DefinedAdapter;
use std::sync::Arc;

use crate::dialects::Dialect;
use crate::fanout::Bus;
use crate::state::AppState;

mod delivery;
mod handshake;
mod names;
mod outs;
mod payload;
mod worker;

/// Serves `dialect` on its namespace of `io`, and subscribes its renderer to
/// the bus. With a cluster adapter, the namespace is ready once the returned
/// initialisation is done.
pub fn attach<D: Dialect, A: Adapter + DefinedAdapter>(
    io: &SocketIo<A>,
    dialect: Arc<D>,
    state: AppState,
    bus: &Bus,
) -> A::InitRes {
    let auth = {
        let (dialect, state) = (dialect.clone(), state.clone());
        move |s: SocketRef<A>, TryData(auth): TryData<Value>| {
            let (dialect, state) = (dialect.clone(), state.clone());
            async move {
                handshake::authenticate(&s, auth.ok(), dialect.as_ref(), &state).await?;
                worker::queue(&s, dialect);
                Ok::<(), String>(())
            }
        }
    };
    let connect = {
        let (dialect, state) = (dialect.clone(), state.clone());
        move |s: SocketRef<A>| {
            worker::start(s, dialect.clone(), state.clone());
            async {}
        }
    };
    let init = io.ns(dialect.namespace(), connect.with(auth));
    delivery::subscribe(io, dialect, state, bus);
    init
}
