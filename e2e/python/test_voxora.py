"""The Voxora dialect with python-socketio: a binary `file_upload` (bytes
become a Buffer on the wire) through the upload pipeline, then sent as an
image message. The server harness is test_dozaar's."""

import asyncio
import base64
import os

import pytest
import socketio

from test_dozaar import history, new_conversation, new_user, server  # noqa: F401

pytestmark = pytest.mark.asyncio

# A 1×1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


async def voxora(server, user):
    sio = socketio.AsyncClient(reconnection=False)
    events = asyncio.Queue()

    @sio.on("*")
    async def any_event(event, *args):
        await events.put((event, args[0] if args else None))

    await sio.connect(server.urls["voxora"], auth={"token": user["token"]}, wait_timeout=5)
    return sio, events


async def next_event(events, name, timeout=5.0):
    async def scan():
        while True:
            event, data = await events.get()
            if event == name:
                return data

    return await asyncio.wait_for(scan(), timeout)


async def test_a_binary_file_upload_becomes_an_image_message(server):  # noqa: F811
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    conv = new_conversation(server, alice, [bob])
    sa, _ = await voxora(server, alice)
    sb, eb = await voxora(server, bob)
    try:
        ack = await sa.call("file_upload", PNG, timeout=10)
        assert "error" not in ack, ack
        assert ack["type"] == "image"
        assert ack["contentType"] == "image/webp"
        assert ack["path"].startswith("/uploads/")

        sent = await sa.call(
            "send_message",
            {"conversationId": str(conv["id"]), "content": ack["url"], "type": "image"},
            timeout=5,
        )
        assert sent["type"] == "image", sent
        got = await next_event(eb, "new_message")
        assert got["type"] == "image"
        assert got["content"] == ack["path"]
        assert [m["attachmentUrls"] for m in history(server, bob, conv["id"])] == [[ack["path"]]]

        # JSON where bytes are expected is refused, and the socket stays usable.
        refused = await sa.call("file_upload", {"file": "not bytes"}, timeout=5)
        assert refused["code"] == "INVALID_PAYLOAD", refused
        # Bytes that are no image are stored as a file, up to
        # uploads.socket_max_bytes (1 MiB) in one event.
        other = await sa.call("file_upload", b"%PDF-1.4\n" + os.urandom(900_000), timeout=10)
        assert other.get("type") == "file", other
        assert other["size"] == 900_009
    finally:
        await sa.disconnect()
        await sb.disconnect()
