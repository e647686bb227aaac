"""Black-box test of confab's Prometheus metrics: the real binary with its admin
listener on a random port, driven through the Dozaar dialect with
python-socketio, and `/metrics` read with prometheus_client's text-format
parser.

Run with `pytest e2e/python` after `cargo build --bin confab` (or run
everything with `scripts/test`).
"""

import asyncio
import http.server
import json
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from test_dozaar import BIN, Client, Server, _child_env, new_conversation, new_user


@pytest.fixture(scope="module")
def server():
    srv = Server(extra_env={"CONFAB_ADMIN_LISTEN": "127.0.0.1:0"})
    yield srv
    srv.stop()


def scrape(server):
    """Every sample of /metrics, by (name, sorted labels)."""
    with urllib.request.urlopen(server.metrics_url, timeout=10) as res:
        assert res.status == 200
        assert res.headers["Content-Type"].startswith("text/plain")
        text = res.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before, after, name, **labels):
    return value(after, name, **labels) - value(before, name, **labels)


def bucket(samples, name, le, **labels):
    """A histogram's cumulative bucket `le` (however the bound is written)."""
    for (n, ls), v in samples.items():
        ls = dict(ls)
        bound = ls.pop("le", None)
        if n == name + "_bucket" and ls == labels and bound is not None and float(bound) == le:
            return v
    return 0.0


def scrape_until(server, before, want, timeout=5.0):
    """Scrapes until every `(name, labels, amount)` of `want` moved by its
    amount since `before` (the emits and their counts run beside the acks),
    and returns the last scrape."""
    deadline = time.monotonic() + timeout
    while True:
        after = scrape(server)
        missing = [
            (name, labels, amount, delta(before, after, name, **labels))
            for name, labels, amount in want
            if delta(before, after, name, **labels) != amount
        ]
        if not missing or time.monotonic() > deadline:
            assert not missing, f"(name, labels, wanted, moved): {missing}"
            return after
        time.sleep(0.05)


def test_the_admin_listener_is_bound_where_configured(server):
    url = urllib.parse.urlparse(server.metrics_url)
    assert url.hostname == "127.0.0.1"
    assert url.port and url.port not in {
        urllib.parse.urlparse(u).port for u in server.urls.values()
    }
    assert url.path == "/metrics"


def test_metrics_are_not_served_on_the_dialect_ports(server):
    for dialect, base in server.urls.items():
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + "/metrics", timeout=10)
        assert refused.value.code == 404, dialect


@pytest.mark.asyncio
async def test_connections_events_messages_deliveries_and_errors_are_counted(server):
    alice, bob = new_user(server, "alice"), new_user(server, "bob")
    conv = new_conversation(server, alice, [bob])
    before = scrape(server)

    ca = await Client().connect(server, alice["token"], transports=["websocket"])
    cb = await Client().connect(server, bob["token"], transports=["polling"])
    try:
        for c in (ca, cb):
            await c.emit("join:conversation", {"conversationId": conv["uuid"]})
            await c.wait_for("joined:conversation")
        ack = await ca.call("send:message", {"conversationId": conv["uuid"], "message": "counted"})
        assert ack["success"] is True, ack
        await cb.wait_for("new:message", lambda m: m["message"] == "counted")
        # Refused: a send without its text, and an event Dozaar does not know.
        await ca.emit("send:message", {"conversationId": conv["uuid"]})
        await ca.wait_for("exception")
        await ca.emit("no:such:event", {})
        await ca.wait_for("exception")

        d = {"dialect": "dozaar"}
        after = scrape_until(
            server,
            before,
            [
                ("confab_connects_total", d, 2),
                ("confab_events_in_total", {**d, "event": "join:conversation"}, 2),
                ("confab_events_in_total", {**d, "event": "send:message"}, 2),
                ("confab_events_in_total", {**d, "event": "other"}, 1),
                ("confab_messages_stored_total", {}, 1),
                # Bob's socket: the sender's own is not a delivery.
                ("confab_deliveries_total", d, 1),
                ("confab_errors_total", {**d, "code": "INVALID_PAYLOAD"}, 2),
                ("confab_send_to_delivery_seconds_count", d, 1),
                ("confab_store_seconds_count", {"op": "insert_message"}, 1),
            ],
        )
        # Gauges counted at the scrape: Alice on WebSocket, Bob polling.
        assert value(after, "confab_connections", transport="websocket", **d) == 1
        assert value(after, "confab_connections", transport="polling", **d) == 1
        assert delta(before, after, "confab_events_out_total", event="new:message", **d) == 1
        assert delta(before, after, "confab_events_out_total", event="joined:conversation", **d) == 2
        assert delta(before, after, "confab_events_out_total", event="exception", **d) == 2
        # The unknown name is counted as "other", and no label names it.
        moved = {
            dict(k[1])["event"]
            for k in after
            if k[0] == "confab_events_in_total" and delta(before, after, k[0], **dict(k[1]))
        }
        assert moved == {"join:conversation", "send:message", "other"}, moved
        assert not any("no:such:event" in str(k) for k in after)
        # The latency histograms have their buckets, and the +Inf one holds all.
        latency = value(after, "confab_send_to_delivery_seconds_count", **d)
        assert bucket(after, "confab_send_to_delivery_seconds", float("inf"), **d) == latency
        assert 0 < value(after, "confab_send_to_delivery_seconds_sum", **d) < 5
        # SQLite's group commit: the message went in one group of one.
        assert delta(before, after, "confab_store_seconds_count", op="group_commit") >= 1
        assert delta(before, after, "confab_group_commit_batch_messages_sum") == 1
        batches = "confab_group_commit_batch_messages"
        assert bucket(after, batches, 1.0) - bucket(before, batches, 1.0) >= 1
    finally:
        await ca.close()
        await cb.close()

    # Closed sockets leave the gauge at the next scrape.
    deadline = time.monotonic() + 5
    while True:
        now = scrape(server)
        open_now = sum(value(now, "confab_connections", transport=t, dialect="dozaar") for t in ("websocket", "polling"))
        if open_now == 0 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert open_now == 0


# ------------------------------------------------------------------ cluster

DATABASE_URL = os.environ.get("CONFAB_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def redis():
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not redis_answers(port):
        assert time.monotonic() < deadline, "redis-server did not answer PING"
        time.sleep(0.05)
    yield proc, f"redis://127.0.0.1:{port}"
    proc.kill()
    proc.wait()


@pytest.fixture
def schema():
    if not shutil.which("psql"):
        pytest.skip("psql is not installed")
    name = f"confab_metrics_{secrets.token_hex(4)}"
    subprocess.run(["psql", "-X", "-q", DATABASE_URL, "-c", f"CREATE SCHEMA {name}"], check=True)
    sep = "&" if "?" in DATABASE_URL else "?"
    yield f"{DATABASE_URL}{sep}options=-c%20search_path%3D{name}"
    subprocess.run(["psql", "-X", "-q", DATABASE_URL, "-c", f"DROP SCHEMA {name} CASCADE"], check=True)


@pytest.mark.asyncio
async def test_the_cluster_bus_and_redis_state_are_measured(redis, schema):
    redis_proc, redis_url = redis
    secret = secrets.token_hex(32)
    env = {
        "CONFAB_ADMIN_LISTEN": "127.0.0.1:0",
        "CONFAB_DATABASE_URL": schema,
        "CONFAB_REDIS_URL": redis_url,
        "CONFAB_AUTH_JWT_SECRET": secret,
    }
    a = Server(extra_env=env)
    b = Server(extra_env=env)
    try:

        def user(prefix):
            uid = f"{prefix}-{secrets.token_hex(4)}"
            out = subprocess.run(
                [BIN, "token", "--data-dir", a.data_dir, "--user", uid],
                env=_child_env({"CONFAB_AUTH_JWT_SECRET": secret}),
                capture_output=True,
                text=True,
                check=True,
            )
            return {"id": uid, "token": out.stdout.strip().splitlines()[-1].strip()}

        alice, bob = user("alice"), user("bob")
        conv = new_conversation(a, alice, [bob])
        before_a, before_b = scrape(a), scrape(b)
        assert value(before_a, "confab_redis_up") == 1
        assert value(before_b, "confab_redis_up") == 1
        ca = await Client().connect(a, alice["token"])
        cb = await Client().connect(b, bob["token"])
        try:
            await cb.emit("join:conversation", {"conversationId": conv["uuid"]})
            await cb.wait_for("joined:conversation")
            ack = await ca.call("send:message", {"conversationId": conv["uuid"], "message": "across"})
            assert ack["success"] is True, ack
            await cb.wait_for("new:message", lambda m: m["message"] == "across")
        finally:
            await ca.close()
            await cb.close()
        # Node A published the message; B heard it through Redis, with its lag.
        after_a = scrape_until(a, before_a, [("confab_messages_stored_total", {}, 1)])
        assert delta(before_a, after_a, "confab_bus_messages_out_total") >= 1
        after_b = scrape_until(b, before_b, [("confab_deliveries_total", {"dialect": "dozaar"}, 1)])
        heard = delta(before_b, after_b, "confab_bus_messages_in_total")
        assert heard >= 1
        lags = delta(before_b, after_b, "confab_bus_lag_seconds_count")
        assert lags == heard
        assert 0 <= delta(before_b, after_b, "confab_bus_lag_seconds_sum") < 5 * lags
        # The send arrived on A: B's delivery has no send-to-delivery time.
        assert delta(before_b, after_b, "confab_send_to_delivery_seconds_count", dialect="dozaar") == 0

        # Redis goes away: both nodes say so.
        redis_proc.kill()
        redis_proc.wait()
        for node in (a, b):
            deadline = time.monotonic() + 10
            while value(scrape(node), "confab_redis_up") != 0:
                assert time.monotonic() < deadline, "confab_redis_up stayed 1 without Redis"
                await asyncio.sleep(0.1)
    finally:
        a.stop()
        b.stop()


# --------------------------------------------------------------------- push


class Webhook:
    """A push webhook on a free port: 200 for Bob's pushes, 400 (not retried)
    for anyone else's."""

    def __init__(self):
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                received.append(body["recipient"])
                self.send_response(200 if body["recipient"].startswith("bob-") else 400)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/push"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()


@pytest.mark.asyncio
async def test_pushes_sent_and_failed_are_counted_and_the_queue_drains():
    hook = Webhook()
    srv = Server(
        extra_env={
            "CONFAB_ADMIN_LISTEN": "127.0.0.1:0",
            "CONFAB_PUSH_WEBHOOK_URL": hook.url,
            "CONFAB_PUSH_WEBHOOK_SECRET": secrets.token_hex(16),
            "CONFAB_PUSH_MAX_ATTEMPTS": "1",
        }
    )
    try:
        alice, bob, carol = (new_user(srv, p) for p in ("alice", "bob", "carol"))
        conv = new_conversation(srv, alice, [bob, carol])
        before = scrape(srv)
        ca = await Client().connect(srv, alice["token"])
        try:
            # Bob and Carol are offline: each gets a push.
            ack = await ca.call("send:message", {"conversationId": conv["uuid"], "message": "push me"})
            assert ack["success"] is True, ack
            after = scrape_until(
                srv,
                before,
                [
                    ("confab_push_sent_total", {"channel": "webhook"}, 1),
                    ("confab_push_failures_total", {"channel": "webhook"}, 1),
                ],
            )
        finally:
            await ca.close()
        assert sorted(r.split("-")[0] for r in hook.received) == ["bob", "carol"]
        assert value(after, "confab_push_queue_depth") == 0
        assert delta(before, after, "confab_push_dropped_total") == 0
    finally:
        srv.stop()
        hook.stop()
