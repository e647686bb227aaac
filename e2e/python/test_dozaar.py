"""Black-box tests of confab's Dozaar dialect with python-socketio's asyncio client.

Spawns the real `confab` binary (target/debug/confab, or $CONFAB_BIN) with a
fresh data directory on a random port. Run with `pytest e2e/python` after
`cargo build --bin confab` (or run everything with `scripts/test`).
"""

import asyncio
import json
import os
import queue
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import pytest_asyncio
import socketio

pytestmark = pytest.mark.asyncio

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("CONFAB_BIN") or str(ROOT / "target" / "debug" / "confab")
NS = "/chat"


def _child_env(extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFAB_") or k == "CONFAB_BIN"}
    env.update(extra)
    return env


class Server:
    def __init__(self, extra_env=None):
        if not os.path.exists(BIN):
            raise RuntimeError(f"{BIN} does not exist: run `cargo build --bin confab` first")
        self.data_dir = tempfile.mkdtemp(prefix="confab-e2e-py-")
        env = _child_env(
            {
                "CONFAB_DATA_DIR": self.data_dir,
                "CONFAB_BIND": "127.0.0.1",
                "CONFAB_DOZAAR_PORT": "0",
                "CONFAB_SYARAH_PORT": "0",
                "CONFAB_JOBSPARE_PORT": "0",
                "CONFAB_VOXORA_PORT": "0",
                "CONFAB_VCHAT_PORT": "0",
                "CONFAB_LOG": os.environ.get("CONFAB_E2E_LOG", "warn"),
                "CONFAB_LOG_FORMAT": "pretty",
                **(extra_env or {}),
            }
        )
        self.proc = subprocess.Popen(
            [BIN, "serve"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        lines = queue.Queue()
        self.urls = {}
        self.metrics_url = None

        def pump():
            for line in self.proc.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        seen = []
        while True:
            try:
                line = lines.get(timeout=30)
            except queue.Empty:
                self.stop()
                raise RuntimeError(f"confab did not print its listening line: {seen}")
            if line is None:
                self.stop()
                raise RuntimeError(f"confab exited before listening: {seen}")
            seen.append(line)
            m = re.search(r"confab: (\w+) listening on (http://\S+)", line)
            if m:
                self.urls[m.group(1)] = m.group(2).rstrip("/")
            m = re.search(r"confab: metrics on (http://\S+)", line)
            if m:
                self.metrics_url = m.group(1)
            # Every listening line comes before the "data in" line.
            if "confab: data in " in line:
                self.url = self.urls["dozaar"]
                break

    def token(self, user, name=None, ttl=None):
        args = [BIN, "token", "--data-dir", self.data_dir, "--user", user]
        if name:
            args += ["--name", name]
        if ttl:
            args += ["--ttl", ttl]
        out = subprocess.run(args, env=_child_env({}), capture_output=True, text=True, check=True)
        return out.stdout.strip().splitlines()[-1].strip()

    def rest(self, method, path, token=None, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as res:
                text = res.read().decode()
                return res.status, (json.loads(text) if text else None)
        except urllib.error.HTTPError as e:
            text = e.read().decode()
            try:
                return e.code, json.loads(text)
            except ValueError:
                return e.code, text

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def server():
    srv = Server()
    yield srv
    srv.stop()


def new_user(server, prefix):
    uid = f"{prefix}-{secrets.token_hex(4)}"
    return {"id": uid, "token": server.token(uid, name=prefix.title())}


def new_conversation(server, creator, others):
    status, body = server.rest(
        "POST",
        "/api/conversations",
        token=creator["token"],
        body={"kind": "direct" if len(others) == 1 else "group", "memberIds": [o["id"] for o in others]},
    )
    assert 200 <= status < 300, (status, body)
    return body


def history(server, user, conversation_id):
    status, body = server.rest("GET", f"/api/conversations/{conversation_id}/messages?limit=100", token=user["token"])
    assert status == 200, (status, body)
    return body["messages"]


class Client:
    """A python-socketio AsyncClient on /chat that records every event."""

    def __init__(self):
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events = []
        self.changed = asyncio.Event()
        self.connect_error = None

        @self.sio.on("*", namespace=NS)
        async def any_event(event, *args):
            self.events.append((event, args[0] if args else None))
            self.changed.set()

        @self.sio.on("connect_error", namespace=NS)
        async def on_connect_error(data=None):
            self.connect_error = data

    async def connect(self, server, token=None, via="header", transports=None):
        headers, auth = {}, None
        if token is not None and via == "header":
            headers["Authorization"] = f"Bearer {token}"
        elif token is not None:
            auth = {"token": token}
        await self.sio.connect(
            server.url,
            headers=headers,
            auth=auth,
            namespaces=[NS],
            transports=transports,
            wait_timeout=5,
        )
        return self

    async def call(self, event, data):
        return await self.sio.call(event, data, namespace=NS, timeout=5)

    async def emit(self, event, data):
        await self.sio.emit(event, data, namespace=NS)

    async def wait_for(self, event, pred=lambda d: True, timeout=5.0):
        async def scan():
            while True:
                for i, (e, d) in enumerate(self.events):
                    if e == event and pred(d):
                        del self.events[i]
                        return d
                self.changed.clear()
                await self.changed.wait()

        try:
            return await asyncio.wait_for(scan(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"no {event} within {timeout} s; got {[e for e, _ in self.events]}") from None

    def seen(self, event):
        return [d for e, d in self.events if e == event]

    async def close(self):
        if self.sio.connected:
            await self.sio.disconnect()


@pytest_asyncio.fixture
async def clients():
    opened = []

    async def make(server, user=None, **kw):
        c = Client()
        opened.append(c)
        return await c.connect(server, token=user["token"] if user else kw.pop("token", None), **kw)

    yield make
    for c in opened:
        await c.close()


async def test_connects_with_the_authorization_header(server, clients):
    alice = new_user(server, "alice")
    c = await clients(server, alice, via="header")
    assert c.sio.connected
    ack = await c.call("get:online_status", {"userIds": [alice["id"]]})
    assert ack["success"] is True


async def test_connects_with_auth_token_over_websocket_only(server, clients):
    alice = new_user(server, "alice")
    c = await clients(server, alice, via="auth", transports=["websocket"])
    assert c.sio.transport() == "websocket"
    ack = await c.call("get:online_status", {"userIds": []})
    assert ack["success"] is True


@pytest.mark.parametrize(
    "token,why",
    [
        (None, r"missing token"),
        ("not-a-jwt", r"malformed token"),
        ("SIGNATURE", r"invalid token signature"),
    ],
)
async def test_a_bad_token_is_refused_with_a_reason(server, token, why):
    if token == "SIGNATURE":
        a, b = new_user(server, "alice")["token"], new_user(server, "bob")["token"]
        token = ".".join(a.split(".")[:2] + [b.split(".")[2]])
    c = Client()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await c.connect(server, token=token)
    assert c.connect_error is not None
    message = c.connect_error.get("message") if isinstance(c.connect_error, dict) else str(c.connect_error)
    assert re.search(why, message, re.I), message
    assert not c.sio.connected


async def test_two_users_exchange_a_message(server, clients):
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    conv = new_conversation(server, alice, [bob])
    ca = await clients(server, alice)
    cb = await clients(server, bob, via="auth")
    for c in (ca, cb):
        await c.emit("join:conversation", {"conversationId": conv["uuid"]})
        joined = await c.wait_for("joined:conversation")
        assert joined == {"conversationId": conv["uuid"]}

    ack = await ca.call("send:message", {"conversationId": conv["uuid"], "message": "hi from python"})
    assert ack["success"] is True and ack["duplicate"] is False
    m = await cb.wait_for("new:message", lambda d: d["message"] == "hi from python")
    assert m["senderId"] == alice["id"]
    assert m["conversationId"] == conv["uuid"]
    assert m["id"] == ack["message"]["id"]
    assert m["sender"]["id"] == alice["id"]

    await cb.emit("send:message", {"conversationId": conv["uuid"], "message": "hi back"})
    back = await ca.wait_for("new:message", lambda d: d["message"] == "hi back")
    assert back["senderId"] == bob["id"]
    assert sorted(x["text"] for x in history(server, alice, conv["id"])) == ["hi back", "hi from python"]


async def test_an_invalid_payload_gives_an_exception_and_the_connection_stays(server, clients):
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    conv = new_conversation(server, alice, [bob])
    ca = await clients(server, alice)
    await ca.emit("send:message", {"conversationId": conv["uuid"]})
    exc = await ca.wait_for("exception")
    assert exc["event"] == "send:message"
    assert exc["code"] == "INVALID_PAYLOAD"
    assert isinstance(exc["error"], str) and exc["error"]

    ack = await ca.call("send:message", {"conversationId": "nope", "message": "x"})
    assert ack["success"] is False and ack["code"] == "INVALID_PAYLOAD"
    assert history(server, alice, conv["id"]) == []

    assert ca.sio.connected
    ok = await ca.call("send:message", {"conversationId": conv["uuid"], "message": "still here"})
    assert ok["success"] is True
    assert len(history(server, alice, conv["id"])) == 1


async def test_a_non_member_cannot_join(server, clients):
    alice, bob, carol = (new_user(server, n) for n in ("alice", "bob", "carol"))
    conv = new_conversation(server, alice, [bob])
    cc = await clients(server, carol)
    await cc.emit("join:conversation", {"conversationId": conv["uuid"]})
    exc = await cc.wait_for("exception")
    assert exc["event"] == "join:conversation"
    assert exc["code"] == "NOT_FOUND"
    ack = await cc.call("join:conversation", {"conversationId": conv["uuid"]})
    assert ack["success"] is False and ack["code"] == "NOT_FOUND"
    assert cc.seen("joined:conversation") == []

    # Carol is in no room: Alice's message does not reach her.
    ca = await clients(server, alice)
    await ca.call("join:conversation", {"conversationId": conv["uuid"]})
    await ca.call("send:message", {"conversationId": conv["uuid"], "message": "secret"})
    await asyncio.sleep(0.3)
    assert cc.seen("new:message") == [] and cc.seen("message:notification") == []
