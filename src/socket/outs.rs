//! Carrying out a dialect's [`Out`]s on the socket that sent an event:
//! emits, its acknowledgement, rooms joined and left, and the conversations
//! the socket views.

use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, SocketRef};

use super::measure::Meters;
use crate::core::UserId;
use crate::dialects::{Out, conversation_room, room_conversation};
use crate::state::AppState;

/// The socket's user, for the outs that change what it views.
pub(super) struct Viewer<'a> {
    pub(super) state: &'a AppState,
    pub(super) user: &'a UserId,
    pub(super) socket_key: &'a str,
}

/// Carries out a handler's outs on its socket (counted on its dialect's
/// `meters`). A broadcast
/// reaches the room on every node through the cluster adapter, or this
/// node's part of it while the cluster is not `cluster_up` (Redis away, or
/// no cluster).
pub(super) fn apply<A: Adapter>(
    meters: &Meters,
    socket: &SocketRef<A>,
    mut ack: Option<AckSender<A>>,
    outs: Vec<Out>,
    viewer: Option<Viewer<'_>>,
    cluster_up: bool,
) {
    for out in outs {
        match out {
            Out::Emit(event, data) => {
                meters.event_out(event);
                if let Err(e) = socket.emit(event, &data) {
                    tracing::debug!(error = %e, event, "emit to socket failed");
                }
            }
            Out::Ack(data) => {
                if let Some(Err(e)) = ack.take().map(|ack| ack.send(&data)) {
                    tracing::debug!(error = %e, "ack failed");
                }
            }
            Out::View(conversation_id) => {
                socket.join(conversation_room(conversation_id));
                if let Some(v) = &viewer {
                    let viewing = v.state.service.viewing();
                    viewing.view(v.user, conversation_id, v.socket_key);
                }
            }
            Out::Unview(conversation_id) => {
                socket.leave(conversation_room(conversation_id));
                if let Some(v) = &viewer {
                    let viewing = v.state.service.viewing();
                    viewing.unview(v.user, conversation_id, v.socket_key);
                }
            }
            Out::UnviewAll => {
                for room in socket.rooms() {
                    let Some(id) = room_conversation(&room) else {
                        continue;
                    };
                    socket.leave(room.to_string());
                    if let Some(v) = &viewer {
                        v.state.service.viewing().unview(v.user, id, v.socket_key);
                    }
                }
            }
            Out::Join(room) => socket.join(room),
            Out::Leave(room) => socket.leave(room),
            Out::Broadcast(room, event, data) => {
                meters.event_out(event);
                let to = if cluster_up {
                    socket.within(room)
                } else {
                    socket.within(room).local()
                };
                tokio::spawn(async move {
                    if let Err(e) = to.emit(event, &data).await {
                        tracing::debug!(error = %e, event, "broadcast failed for some sockets");
                    }
                });
            }
        }
    }
}
