"""The V Chat dialect with python-socketio: the raw token in the
Authorization header, the rooms list on `/` and the open room on `/message`,
whose payloads are JSON strings; and the V Chat Flutter SDK v1's own calls
(user/register, room/*, `join` with "join", typing_changed, kick_from_group,
all_rooms). The server harness is test_dozaar's."""

import asyncio
import hashlib
import json
import secrets
import urllib.error
import urllib.request

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


# --- the V Chat Flutter SDK v1's own calls -----------------------------------

HASH_KEY = "py-password-hash-key"


def sdk(server, method, path, token=None, body=None):
    """CustomDio: `/api/v1/<path>` on the V Chat listener, `Bearer <token>`
    (`Bearer xxx` logged out), a JSON body; (status, parsed body)."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{server.urls['vchat']}/api/v1/{path}", data=data, method=method)
    req.add_header("authorization", f"Bearer {token or 'xxx'}")
    req.add_header("accept-language", "en")
    if data is not None:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status, json.loads(res.read().decode() or "null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode() or "null")


def sdk_user(server, prefix):
    """VChatController.register: user/register {name, email, password, fcmToken, platform}."""
    email = f"{prefix}-{secrets.token_hex(4)}@example.com"
    password = hashlib.sha512(f"{HASH_KEY}_{email}".encode()).hexdigest()
    status, body = sdk(server, "POST", "user/register", body={
        "name": prefix.title(), "email": email, "password": password,
        "fcmToken": "you don't use firebase on flutter app ", "platform": "Android",
    })
    assert status == 201, (status, body)
    user = body["data"]
    for key in ("_id", "name", "imageThumb", "email", "accessToken"):
        assert isinstance(user[key], str), (key, user)
    return {"id": user["_id"], "name": user["name"], "email": email, "token": user["accessToken"]}


def check_sdk_room(room):
    """VChatRoom.fromMap's casts: lastMessage is always a map."""
    assert isinstance(room["_id"], str)
    last = room["lastMessage"]
    assert isinstance(last, dict), room
    for key in ("_id", "messageType", "content", "senderId", "senderName", "senderImageThumb", "roomId"):
        assert isinstance(last[key], str), (key, last)
    assert isinstance(last["createdAt"], int)
    if room["roomType"] != "single":
        g = room["groupSetting"]
        assert isinstance(g["name"], str) and isinstance(g["roomMembersCount"], int)
        assert isinstance(g["isGroupCreator"], bool) and g["role"] in ("admin", "member")


async def sdk_socket(server, user, events):
    """SocketService.getSocket: the raw token in Authorization, websocket only."""
    sio = socketio.AsyncClient(reconnection=False)

    @sio.on("*")
    async def any_event(event, *args):
        await events.put((event, args[0] if args else None))

    await sio.connect(
        server.urls["vchat"],
        headers={"Authorization": user["token"], "accept-language": "en"},
        transports=["websocket"],
        wait_timeout=5,
    )
    return sio


async def next_event(events, name):
    while True:
        event, data = await asyncio.wait_for(events.get(), 5)
        if event == name:
            return data


async def test_the_sdk_lists_empty_rooms_relays_typing_changed_and_tells_a_kicked_member(server):  # noqa: F811
    alice, bob = sdk_user(server, "alice"), sdk_user(server, "bob")
    status, single = sdk(server, "POST", "room/single", alice["token"], {"peerEmail": bob["email"], "message": ""})
    assert status == 200, single
    status, group = sdk(server, "POST", "room/group", alice["token"], {"peerEmails": [bob["email"]], "title": "Py"})
    assert status == 201, group
    room_id, group_id = single["data"]["_id"], group["data"]["_id"]

    bob_events, alice_events = asyncio.Queue(), asyncio.Queue()
    sb = await sdk_socket(server, bob, bob_events)
    sa = await sdk_socket(server, alice, alice_events)
    try:
        # emitWithAck("join", "join"): rooms without messages parse.
        joined = await sb.call("join", "join", timeout=5)
        assert joined["success"] is True
        rooms = joined["data"]
        assert sorted(r["_id"] for r in rooms) == sorted([room_id, group_id])
        for r in rooms:
            check_sdk_room(r)
        [g] = [r for r in rooms if r["_id"] == group_id]
        assert g["lastMessage"]["messageType"] == "create"
        assert g["groupSetting"]["role"] == "member" and g["groupSetting"]["isGroupCreator"] is False

        # MessageCubit.emitTypingChange -> user_typing_changed (a map).
        await sa.emit("typing_changed", {"status": "recording", "name": alice["name"], "roomId": room_id})
        typing = await next_event(bob_events, "user_typing_changed")
        assert typing == {"status": "recording", "name": alice["name"], "roomId": room_id}
        refused = await sa.call("typing_changed", {"status": "busy", "name": "x", "roomId": room_id}, timeout=5)
        assert refused["success"] is False and refused["code"] == "INVALID_PAYLOAD"

        # kickUserFromGroup: kick_from_group (the room id) and all_rooms without it.
        status, body = sdk(server, "POST", "room/kick-member", bob["token"], {"roomId": group_id, "peerId": alice["id"]})
        assert status == 403 and body["data"] == body["error"], body
        status, body = sdk(server, "POST", "room/kick-member", alice["token"], {"roomId": group_id, "peerId": bob["id"]})
        assert status == 200, body
        assert await next_event(bob_events, "kick_from_group") == group_id
        left = await next_event(bob_events, "all_rooms")
        assert [r["_id"] for r in left] == [room_id]
        for r in left:
            check_sdk_room(r)
    finally:
        await sa.disconnect()
        await sb.disconnect()
