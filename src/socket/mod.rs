//! The Socket.IO runtime every dialect shares. [`attach`] serves a dialect
//! on its namespace: the handshake is checked as the dialect's
//! [`Handshake`](crate::dialects::Handshake) says (`handshake.rs`); each
//! socket's events are handled in order by one worker that runs them through
//! the dialect's table and the core (`worker.rs`, `payload.rs`) and carries
//! out the answers on the socket (`outs.rs`); domain events are rendered
//! onto the dialect's rooms (`delivery.rs`), each socket sent a
//! conversation under the name it gave it (`names.rs`); what all of that
//! counts for the metrics is in `measure.rs`. Nothing here knows
//! one dialect from another. Clients of the Socket.IO v2 protocol (Engine.IO
//! 3) and of v3/v4 (Engine.IO 4) are served alike; a listener with no dialect
//! on `/` gets [`attach_v2_root`] for the v2 clients.

use serde_json::Value;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::{ProtocolVersion, SocketIo};
use socketioxide_core::adapter::DefinedAdapter;
use std::sync::Arc;

use crate::dialects::Dialect;
use crate::fanout::Bus;
use crate::state::AppState;

mod audience;
mod delivery;
mod handshake;
mod measure;
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
    let meters = Arc::new(measure::Meters::new(dialect.as_ref()));
    let audience = Arc::new(audience::Audience::default());
    let auth = {
        let (dialect, state, meters) = (dialect.clone(), state.clone(), meters.clone());
        let audience = audience.clone();
        move |s: SocketRef<A>, TryData(auth): TryData<Value>| {
            let (dialect, state, meters) = (dialect.clone(), state.clone(), meters.clone());
            // Counted before it joins any room, so that no event for it is
            // skipped.
            let present = audience.enter();
            async move {
                handshake::authenticate(&s, auth.ok(), dialect.as_ref(), &state).await?;
                worker::queue(&s, dialect, state.drain.clone(), meters, present);
                Ok::<(), String>(())
            }
        }
    };
    let connect = {
        let (dialect, state, meters) = (dialect.clone(), state.clone(), meters.clone());
        move |s: SocketRef<A>| {
            worker::start(s, dialect.clone(), state.clone(), meters.clone());
            async {}
        }
    };
    let init = io.ns(dialect.namespace(), connect.with(auth));
    let census = measure::census(io, dialect.namespace());
    state.census.add(dialect.name(), census);
    delivery::subscribe(io, dialect, state, bus, meters, audience);
    init
}

/// The root namespace `/` of a listener whose dialects serve only others
/// (Dozaar's `/chat`). A Socket.IO v2 client (protocol 4, Engine.IO 3:
/// socketioxide's [`ProtocolVersion::V4`]) is put in `/` as soon as its
/// connection opens, before it asks for its namespace, and socketioxide
/// closes a v2 connection on a listener that has no `/`. Nothing happens
/// there. A v3/v4 client that asks for it is refused as before, with
/// `Invalid namespace`.
pub fn attach_v2_root<A: Adapter + DefinedAdapter>(io: &SocketIo<A>) -> A::InitRes {
    let only_v2 = |s: SocketRef<A>| async move {
        match s.protocol() {
            ProtocolVersion::V4 => Ok(()),
            ProtocolVersion::V5 => Err("Invalid namespace"),
        }
    };
    io.ns("/", (async || {}).with(only_v2))
}
