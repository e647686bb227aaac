"""The V Chat dialect with python-socketio: the raw token in the
Authorization header, the rooms list on `/` and the open room on `/message`,
whose payloads are JSON strings. The server harness is test_dozaar's."""

import asyncio
import json

import pytest
import socketio

from test_dozaar import new_conversation, new_user, server  # noqa: F401

pytestmark = pytest.mark.asyncio


async def test_rooms_list_and_open_room_with_json_string_payloads(server):  # noqa: F811
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    conv = new_conversation(server, alice, [bob])
    room = str(conv["id"])
    status, _ = server.rest("POST", f"/api/conversations/{room}/messages", token=bob["token"], body={"text": "hello"})
    assert status == 201

    sio = socketio.AsyncClient(reconnection=False)
    messages = asyncio.Queue()

    @sio.on("*", namespace="/message")
    async def any_message_event(event, *args):
        await messages.put((event, args[0] if args else None))

    await sio.connect(
        server.urls["vchat"],
        headers={"Authorization": alice["token"], "accept-language": "en"},
        namespaces=["/", "/message"],
        transports=["websocket"],
        wait_timeout=5,
    )
    try:
        rooms = await sio.call("join", namespace="/", timeout=5)
        assert rooms["success"] is True
        [r] = rooms["data"]
        assert r["_id"] == room and r["roomType"] == "single" and r["unReadCount"] == 1
        assert r["lastMessage"]["content"] == "hello"

        await sio.emit("join", room, namespace="/message")
        event, page = await asyncio.wait_for(messages.get(), 5)
        assert event == "all_messages"
        assert isinstance(page, str)
        assert [m["content"] for m in json.loads(page)] == ["hello"]

        # A room of others is not found, in the ack's {success, error, code}.
        carol, dave = new_user(server, "carol"), new_user(server, "dave")
        other = new_conversation(server, carol, [dave])
        refused = await sio.call("load_more", {"roomId": str(other["id"]), "beforeMessageId": "1"}, namespace="/message", timeout=5)
        assert refused["success"] is False and refused["code"] == "NOT_FOUND"
    finally:
        await sio.disconnect()
