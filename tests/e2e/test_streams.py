"""End-to-end tests of the live streams of `glassbox serve`: WebSocket `/api/v1/stream` and SSE
`/api/v1/events/stream`.

Clients here behave as real ones must: they resume after any disconnect from the last seq they
processed (WebSocket `from=`, SSE `Last-Event-ID`), and the tests check that every event then
arrives exactly once, in order. Every WebSocket message is checked against the `StreamMessage`
schema of openapi.yaml, every SSE event's data against `Event`.
"""

import base64
import hashlib
import http.client
import json
import os
import signal
import socket
import struct
import threading
import time
import urllib.parse

import pytest
import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from conftest import wait_until
from test_api import ALICE, BOB, schema_errors

PAUSE = 30  # seconds a reader waits for the next message before it gives up


# --- clients ----------------------------------------------------------------------------------------

def address(server):
    parsed = urllib.parse.urlsplit(server.url)
    return parsed.hostname, parsed.port


def query_string(params):
    params = {key: value for key, value in params.items() if value is not None}
    return ("?" + urllib.parse.urlencode(params, doseq=True)) if params else ""


def checked(name, value):
    errors = schema_errors(name, value)
    assert not errors, f"{name} does not match openapi.yaml: {errors}\n{json.dumps(value)[:1000]}"
    return value


def abort(sock):
    """Drops a connection the rude way: no close frame, RST instead of FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def ws_open(server, **params):
    url = server.url.replace("http://", "ws://", 1) + "/api/v1/stream" + query_string(params)
    # Entered at once (the context-manager form of websockets), closed by the caller.
    return connect(url, open_timeout=10, close_timeout=5, max_size=None).__enter__()


def ws_message(ws, timeout=PAUSE, validate=True):
    text = ws.recv(timeout=timeout)
    assert isinstance(text, str), "stream messages are text frames"
    message = json.loads(text)
    return checked("StreamMessage", message) if validate else message


def ws_abort(ws):
    abort(ws.socket)
    ws.close_socket()


class Sse:
    """One SSE connection read line by line with http.client (chunked or not)."""

    def __init__(self, server, last_event_id=None, timeout=PAUSE, **params):
        host, port = address(server)
        self.connection = http.client.HTTPConnection(host, port, timeout=timeout)
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.connection.request("GET", "/api/v1/events/stream" + query_string(params), headers=headers)
        self.socket = self.connection.sock
        self.response = self.connection.getresponse()
        if self.response.status != 200:
            body = self.response.read()
            raise AssertionError(f"SSE answered {self.response.status}: {body[:500]!r}")
        content_type = self.response.getheader("Content-Type", "")
        assert content_type.split(";")[0].strip() == "text/event-stream", content_type

    def next(self):
        """The next record as a dict (id, event, data, retry, comments), or None at the end of the response."""
        record = {"comments": [], "data": []}
        while True:
            line = self.response.readline()
            if not line:
                return None
            line = line.decode("utf-8")
            if line.endswith("\n"):
                line = line[:-1]
            if line.endswith("\r"):
                line = line[:-1]
            if line == "":
                if record["comments"] or record["data"] or len(record) > 2:
                    return record
                continue
            if line.startswith(":"):
                record["comments"].append(line[1:].strip())
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "data":
                record["data"].append(value)
            else:
                record[field] = value

    @staticmethod
    def event_of(record):
        """The Event of a message record, checked against the schema and its id."""
        assert record.get("event", "message") == "message", record
        event = checked("Event", json.loads("\n".join(record["data"])))
        assert record.get("id") == str(event["seq"]), f"SSE id {record.get('id')} ≠ seq {event['seq']}"
        return event

    def abort(self):
        abort(self.socket)
        self.close()

    def close(self):
        self.response.close()
        self.connection.close()


class Follower(threading.Thread):
    """A client that follows the log until it has processed seq `until`, resuming after every
    disconnect from the last seq it processed. It drops its own connection after processing each
    count in `drop_after`."""

    def __init__(self, server, transport, until, drop_after=(), validate_every=1, **params):
        super().__init__(daemon=True)
        self.server, self.transport, self.until = server, transport, until
        self.drops = list(drop_after)
        self.validate_every = validate_every
        self.params = params
        self.seqs = []
        self.connections = 0
        self.closings = []
        self.error = None
        self.messages = 0

    @property
    def last(self):
        return self.seqs[-1] if self.seqs else 0

    def done(self):
        return self.last >= self.until or self.error is not None

    def run(self):
        deadline = time.monotonic() + 600
        try:
            while self.last < self.until:
                assert time.monotonic() < deadline, f"{self.transport} follower did not finish: at {self.last}"
                self.connections += 1
                (self.follow_ws if self.transport == "websocket" else self.follow_sse)()
        except BaseException as error:  # reported by the test
            self.error = error

    def process(self, event):
        self.seqs.append(event["seq"])
        if self.drops and len(self.seqs) >= self.drops[0]:
            self.drops.pop(0)
            return True  # drop the connection now
        return False

    def validate(self):
        self.messages += 1
        return self.messages % self.validate_every == 1 or self.validate_every == 1

    def follow_ws(self):
        resume = self.last
        ws = ws_open(self.server, **{"from": resume, **self.params})
        try:
            hello = ws_message(ws)
            assert hello["kind"] == "hello" and hello["from"] == resume, hello
            while self.last < self.until:
                message = ws_message(ws, validate=self.validate())
                if message["kind"] == "events":
                    assert message["cursor"] >= message["events"][-1]["seq"], message["cursor"]
                    for event in message["events"]:
                        if self.process(event):
                            ws_abort(ws)
                            return
                elif message["kind"] == "closing":
                    self.closings.append(message)
                    return
            ws.close()
        except ConnectionClosed:
            return  # the server closed it: resume
        finally:
            ws.close_socket()

    def follow_sse(self):
        # As a browser's EventSource does: the URL stays the same, Last-Event-ID says where to resume.
        sse = Sse(self.server, last_event_id=self.last if self.connections > 1 else None,
                  **{"from": 0, **self.params})
        try:
            while self.last < self.until:
                record = sse.next()
                if record is None:
                    return  # the server ended the response: resume
                if record.get("event") == "closing":
                    self.closings.append(checked("SseClosing", json.loads("\n".join(record["data"]))))
                    return
                if record["data"]:
                    if self.process(Sse.event_of(record)):
                        sse.abort()
                        return
        finally:
            sse.close()


def thought_run(run, count, size=60, actor=ALICE):
    """A run of `count` events: started, thoughts, completed."""
    text = "Checking the partitions of the orders table. " * (size // 45 + 1)
    events = [{"stream": f"run/{run}", "type": "run.started", "actor": actor,
               "data": {"runId": run, "agent": "analyst", "task": "Reconcile order totals", "caller": "user:alice"}}]
    for step in range(1, count - 1):
        events.append({"stream": f"run/{run}", "type": "agent.thought", "actor": actor,
                       "data": {"text": text[:size], "callId": f"llm-{step}", "step": step}})
    events.append({"stream": f"run/{run}", "type": "run.completed", "actor": actor,
                   "data": {"runId": run, "output": "totals match", "steps": count - 2}})
    return events


def join_all(followers, timeout):
    wait_until(lambda: all(f.done() for f in followers), timeout=timeout, interval=0.2,
               message="every follower to reach the end: " + ", ".join(
                   f"{f.transport}@{f.last} error={f.error!r}" for f in followers))
    for follower in followers:
        follower.join(timeout=10)
        if follower.error is not None:
            raise AssertionError(f"{follower.transport} follower failed: {follower.error!r}") from follower.error


def metrics(server):
    import urllib.request
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as response:
        return response.read().decode()


def metric_value(text, name, **labels):
    """The sum of the samples of `name` whose labels include `labels`."""
    total, found = 0.0, False
    for line in text.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        metric, _, label_text = head.partition("{")
        if metric != name:
            continue
        if all(f'{key}="{wanted}"' in label_text for key, wanted in labels.items()):
            total += float(value)
            found = True
    return total if found else None


# --- resuming -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["websocket", "sse"])
def test_three_clients_resume_after_drops_and_get_every_event_once(start_server, transport):
    server = start_server()
    total, batches = 3000, 6
    followers = [Follower(server, transport, until=total, drop_after=(300 + 250 * i, 1400 + 300 * i, 2600 + 100 * i))
                 for i in range(3)]
    for follower in followers:
        follower.start()
    wait_until(lambda: all(f.connections for f in followers), message="the followers to connect")

    appended = []
    for index in range(batches):
        out = server.append(*thought_run(f"load-{index}", total // batches), batch=50)
        appended.extend(json.loads(line)["seq"] for line in out.splitlines())
    assert appended == list(range(1, total + 1))

    join_all(followers, timeout=300)
    for number, follower in enumerate(followers):
        assert follower.drops == [], f"client {number} did not get to drop its connection at {follower.drops}"
        assert follower.connections >= 4, f"client {number} connected {follower.connections} times"
        duplicates = len(follower.seqs) - len(set(follower.seqs))
        assert duplicates == 0, f"client {number} got {duplicates} events twice"
        assert follower.seqs == list(range(1, total + 1)), \
            f"client {number}: events missing or out of order (got {len(follower.seqs)})"


def test_sse_last_event_id_wins_over_from(server):
    server.append(*thought_run("r1", 10))
    sse = Sse(server, last_event_id=7, **{"from": 2})
    try:
        seqs = []
        while len(seqs) < 3:
            record = sse.next()
            assert record is not None
            if record["data"]:
                seqs.append(Sse.event_of(record)["seq"])
        assert seqs == [8, 9, 10]
    finally:
        sse.close()


def test_without_from_only_new_events_arrive(server):
    server.append(*thought_run("old", 5))
    ws = ws_open(server)
    sse = Sse(server)
    try:
        hello = ws_message(ws)
        assert hello == {"kind": "hello", "from": 5, "lastSeq": 5}
        server.append(*thought_run("new", 3))
        got = []
        while len(got) < 3:
            message = ws_message(ws)
            if message["kind"] == "events":
                got.extend(e["seq"] for e in message["events"])
        assert got == [6, 7, 8]
        got = []
        while len(got) < 3:
            record = sse.next()
            assert record is not None
            if record["data"]:
                got.append(Sse.event_of(record)["seq"])
        assert got == [6, 7, 8]
    finally:
        ws.close()
        sse.close()


def refusal(ws):
    """The error message and close code of a WebSocket the server refused after the upgrade."""
    from websockets.exceptions import ConnectionClosed
    message = ws_message(ws)
    assert message["kind"] == "error", message
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=10)
    return message["error"], closed.value.rcvd.code


def test_stream_bad_parameters_are_refused(server):
    ws = ws_open(server, **{"from": "yesterday"})
    try:
        error, code = refusal(ws)
    finally:
        ws.close()
    assert error["code"] == "bad_request" and "from" in error["message"]
    assert code == 4400


# --- filters --------------------------------------------------------------------------------------------

class FilteredReader(threading.Thread):
    """Reads a filtered stream from 0 until its cursor reaches `until`; collects events and cursors."""

    def __init__(self, server, transport, until, **params):
        super().__init__(daemon=True)
        self.server, self.transport, self.until, self.params = server, transport, until, params
        self.events, self.cursors, self.error, self.cursor = [], [], None, 0
        self.connected = threading.Event()

    def run(self):
        try:
            if self.transport == "websocket":
                with ws_open(self.server, **{"from": 0, **self.params}) as ws:
                    assert ws_message(ws)["kind"] == "hello"
                    self.connected.set()
                    while self.cursor < self.until:
                        message = ws_message(ws)
                        if message["kind"] == "events":
                            self.events.extend(message["events"])
                        assert message["kind"] in ("events", "heartbeat"), message
                        assert message["cursor"] >= self.cursor, "the cursor went back"
                        self.cursor = message["cursor"]
                        self.cursors.append(self.cursor)
            else:
                sse = Sse(self.server, **{"from": 0, **self.params})
                self.connected.set()
                try:
                    while self.cursor < self.until:
                        record = sse.next()
                        assert record is not None, "the SSE response ended"
                        if record["data"]:
                            self.events.append(Sse.event_of(record))
                        if "id" in record:
                            assert int(record["id"]) >= self.cursor, "the cursor went back"
                            self.cursor = int(record["id"])
                            self.cursors.append(self.cursor)
                finally:
                    sse.close()
        except BaseException as error:
            self.error = error


@pytest.mark.parametrize("transport", ["websocket", "sse"])
def test_filters_deliver_only_matching_events_and_the_cursor_advances(start_server, transport):
    server = start_server("--heartbeat", "1")
    denied_call = [
        {"stream": "run/f-2", "type": "tool.requested", "actor": BOB,
         "data": {"callId": "call-1", "tool": "shell.exec", "risk": "high", "principal": "user:bob"}},
        {"stream": "run/f-2", "type": "tool.denied", "actor": BOB,
         "data": {"callId": "call-1", "tool": "shell.exec", "principal": "user:bob", "rule": "deny-shell",
                  "reason": "no shell for analysts", "stage": "policy"}},
    ]
    before = thought_run("f-1", 20) + denied_call
    server.append(*before)  # replayed from the log
    readers = {
        "type": FilteredReader(server, transport, 0, type="tool.denied"),
        "types": FilteredReader(server, transport, 0, type=["run.started", "run.completed"]),
        "stream": FilteredReader(server, transport, 0, stream="run/f-2"),
        "actor+type": FilteredReader(server, transport, 0, actor=BOB, type="tool.requested,tool.denied"),
    }
    after = thought_run("f-3", 30) + [dict(e, stream="run/f-2") for e in denied_call] + thought_run("f-4", 10)
    total = len(before) + len(after)
    for reader in readers.values():
        reader.until = total
        reader.start()
        assert reader.connected.wait(10), "a reader did not connect"
    server.append(*after)  # live; the log ends with events no filter but `types` wants
    log = before + after  # seq = index + 1

    wait_until(lambda: all(r.cursor >= total or r.error for r in readers.values()), timeout=30,
               message="every filtered cursor to reach the head: " + str({k: r.cursor for k, r in readers.items()}))
    for name, reader in readers.items():
        reader.join(5)
        assert reader.error is None, f"{name}: {reader.error!r}"

    def expected(predicate):
        return [seq for seq, e in enumerate(log, 1) if predicate(e)]

    def got(name):
        return [e["seq"] for e in readers[name].events]

    assert got("type") == expected(lambda e: e["type"] == "tool.denied") and len(got("type")) == 2
    assert got("types") == expected(lambda e: e["type"] in ("run.started", "run.completed")) and len(got("types")) == 6
    assert got("stream") == expected(lambda e: e["stream"] == "run/f-2") and len(got("stream")) == 4
    assert got("actor+type") == expected(lambda e: e["actor"] == BOB) and len(got("actor+type")) == 4
    for name, reader in readers.items():
        assert reader.cursor == total, f"{name}: cursor {reader.cursor} ≠ head {total}"


# --- heartbeats -----------------------------------------------------------------------------------------

def test_heartbeats_on_idle_connections(start_server):
    server = start_server("--heartbeat", "1")
    server.append(*thought_run("r1", 3))
    ws = ws_open(server, **{"from": 0})
    sse = Sse(server, **{"from": 0})
    try:
        assert ws_message(ws)["kind"] == "hello"
        heartbeats, seqs = [], []
        while len(heartbeats) < 2:
            message = ws_message(ws, timeout=15)
            if message["kind"] == "events":
                seqs.extend(e["seq"] for e in message["events"])
            else:
                assert message["kind"] == "heartbeat", message
                heartbeats.append(message)
        assert seqs == [1, 2, 3]
        assert all(h == {"kind": "heartbeat", "cursor": 3, "lastSeq": 3} for h in heartbeats), heartbeats

        first = sse.next()
        assert first is not None and first.get("retry") == "1000", f"SSE must start with retry: 1000, got {first}"
        records = [first]
        while sum("heartbeat" in r["comments"] for r in records) < 2:
            record = sse.next()
            assert record is not None, "SSE response ended"
            records.append(record)
        events = [Sse.event_of(r)["seq"] for r in records if r["data"]]
        assert events == [1, 2, 3]
        for record in records:
            if "heartbeat" in record["comments"]:
                assert record.get("id") == "3" and not record["data"], record
    finally:
        ws.close()
        sse.close()


# --- slow consumers --------------------------------------------------------------------------------------

def raw_websocket(server, path, receive_buffer=4096):
    """A WebSocket that completes the handshake by hand and then reads nothing."""
    host, port = address(server)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(10)
    sock.connect((host, port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while not head.endswith(b"\r\n\r\n"):  # byte by byte: consume nothing past the response head
        byte = sock.recv(1)
        assert byte, f"connection closed during the handshake: {head!r}"
        head += byte
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 101"), lines[0]
    accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
    assert any(line.lower() == f"sec-websocket-accept: {accept}".lower() for line in lines), lines
    return sock


def drain(sock, timeout):
    """Reads until the peer closes (EOF or reset); returns the bytes, or fails if it stays open."""
    sock.settimeout(timeout)
    data = bytearray()
    while True:
        try:
            chunk = sock.recv(1 << 16)
        except ConnectionResetError:
            return bytes(data)
        except socket.timeout:
            raise AssertionError(f"the server kept the slow connection open ({len(data)} bytes drained)")
        if not chunk:
            return bytes(data)
        data += chunk


def frames(data):
    """Server frames (unmasked) in `data`: (opcode, payload); a cut-off last frame is left out."""
    result, at = [], 0
    while at + 2 <= len(data):
        opcode, length = data[at] & 0x0F, data[at + 1] & 0x7F
        at += 2
        if length == 126:
            if at + 2 > len(data):
                break
            length, at = struct.unpack(">H", data[at:at + 2])[0], at + 2
        elif length == 127:
            if at + 8 > len(data):
                break
            length, at = struct.unpack(">Q", data[at:at + 8])[0], at + 8
        if at + length > len(data):
            break
        result.append((opcode, data[at:at + length]))
        at += length
    return result


def test_slow_consumer_is_disconnected_and_others_get_everything(start_server):
    server = start_server("--stream-buffer", "1000", "--stream-stall-timeout", "3")
    total, per_call = 30_000, 3_000
    slow = raw_websocket(server, "/api/v1/stream?from=0")
    good = Follower(server, "websocket", until=total, validate_every=50)
    good.start()
    wait_until(lambda: metric_value(metrics(server), "glassbox_stream_clients", transport="websocket") == 2,
               message="both WebSocket clients counted")
    baseline = server.rss_kib()
    peak = [baseline]
    sampling = threading.Event()

    def sample():
        while not sampling.is_set():
            peak[0] = max(peak[0], server.rss_kib())
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        for index in range(total // per_call):
            server.append(*thought_run(f"bulk-{index}", per_call, size=1000), batch=500)
        join_all([good], timeout=600)
        # The good client is done and gone; the slow one must have been dropped by the server too.
        good_connections = good.connections
        wait_until(lambda: metric_value(metrics(server), "glassbox_stream_clients", transport="websocket") == 0,
                   timeout=60, message="the server to drop the slow WebSocket")
    finally:
        sampling.set()
        sampler.join(5)

    data = drain(slow, timeout=30)
    slow.close()
    messages = [json.loads(payload) for opcode, payload in frames(data) if opcode == 1]
    closes = [payload for opcode, payload in frames(data) if opcode == 8]
    seqs = [e["seq"] for m in messages if m.get("kind") == "events" for e in m["events"]]
    assert seqs == list(range(1, len(seqs) + 1)), "what the slow client got was out of order"
    assert len(seqs) < total, "the slow client was not cut off"
    if closes and len(closes[0]) >= 2:
        assert struct.unpack(">H", closes[0][:2])[0] == 1013, closes[0]
    closing = [m for m in messages if m.get("kind") == "closing"]
    if closing:
        assert checked("StreamMessage", closing[0])["reason"] == "slow_consumer"

    grew_mib = (peak[0] - baseline) / 1024
    assert grew_mib < 150, f"the server's RSS grew by {grew_mib:.0f} MiB while a client stalled"
    assert good.seqs == list(range(1, total + 1)), f"the good client got {len(good.seqs)} events, not each once"
    assert good_connections >= 1
    text = metrics(server)
    disconnects = sum(metric_value(text, "glassbox_stream_disconnects_total", reason=reason) or 0
                      for reason in ("slow_consumer", "stalled"))
    assert disconnects >= 1, "the slow client's disconnect is not in glassbox_stream_disconnects_total"


# --- shutdown -------------------------------------------------------------------------------------------

def test_graceful_shutdown_tells_stream_clients(start_server):
    server = start_server("--heartbeat", "1")
    server.append(*thought_run("r1", 5))
    ws = ws_open(server, **{"from": 0})
    sse = Sse(server, **{"from": 0})
    try:
        assert ws_message(ws)["kind"] == "hello"
        seqs = []
        while len(seqs) < 5:
            message = ws_message(ws)
            if message["kind"] == "events":
                seqs.extend(e["seq"] for e in message["events"])
        sse_seqs = []
        while len(sse_seqs) < 5:
            record = sse.next()
            assert record is not None
            if record["data"]:
                sse_seqs.append(Sse.event_of(record)["seq"])
        assert seqs == sse_seqs == [1, 2, 3, 4, 5]

        server.process.send_signal(signal.SIGTERM)

        while True:
            message = ws_message(ws, timeout=20)
            if message["kind"] != "heartbeat":
                break
        assert message == {"kind": "closing", "reason": "shutdown", "cursor": 5}
        with pytest.raises(ConnectionClosed):
            ws_message(ws, timeout=20)
        assert ws.close_code == 1001, f"close code {ws.close_code}"

        while True:
            record = sse.next()
            assert record is not None, "the SSE response ended without event: closing"
            if record.get("event") == "closing":
                break
            assert not record["data"], f"unexpected event after shutdown began: {record}"
        assert checked("SseClosing", json.loads("\n".join(record["data"]))) == {"reason": "shutdown", "cursor": 5}
        assert sse.next() is None, "the SSE response must end after closing"
    finally:
        ws.close_socket()
        sse.close()
    assert server.process.wait(timeout=30) == 0


# --- origins ------------------------------------------------------------------------------------------

def test_websocket_origins(start_server):
    from websockets.exceptions import InvalidStatus
    server = start_server("--cors-origin", "http://example.test")
    host, port = address(server)
    url = server.url.replace("http://", "ws://", 1) + "/api/v1/stream"
    for origin in ("http://example.test", f"http://{host}:{port}"):
        with connect(url, origin=origin, open_timeout=10) as ws:
            assert ws_message(ws)["kind"] == "hello", origin
    with connect(url, origin="http://evil.test", open_timeout=10) as ws:
        error, code = refusal(ws)
    assert error["code"] == "origin_not_allowed" and code == 4403
    # Without upgrade headers the same request gets the JSON error over plain HTTP.
    plain = requests.get(server.url + "/api/v1/stream", headers={"Origin": "http://evil.test"}, timeout=10)
    assert plain.status_code == 403 and plain.json()["error"]["code"] == "origin_not_allowed"
