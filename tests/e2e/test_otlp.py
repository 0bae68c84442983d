"""End-to-end tests of the OTLP export against the real receiver `scripts/otlp-receiver`.

Every test starts its own receiver (data and control port picked by the OS) and its own
SQLite log, drives `glassbox export otlp` or `glassbox serve` as a user would, and compares
what the receiver recorded with what the log says should have been exported: one span per
event that opens a span and has a matching closing event (same span id).
"""

import json
import os
import pathlib
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

import pytest

from conftest import BINARY, ROOT

RECEIVER = ROOT / "scripts" / "otlp-receiver"

OPENERS = {"mission.started": "mission", "step.started": "step", "run.started": "run",
           "llm.requested": "llm", "tool.requested": "tool"}
CLOSERS = {"mission.completed": "mission", "mission.failed": "mission",
           "step.completed": "step", "step.failed": "step", "step.retry_scheduled": "step",
           "run.completed": "run", "run.failed": "run", "run.cancelled": "run",
           "llm.responded": "llm",
           "tool.completed": "tool", "tool.failed": "tool", "tool.denied": "tool"}

SPAN_KIND_INTERNAL = 1
SPAN_KIND_CLIENT = 3
STATUS_ERROR = 2


# ---------------------------------------------------------------------------- the log

def read_events(db):
    """Every event of the log, in seq order, as dicts."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        rows = connection.execute(
            "SELECT seq, time, type, stream, data, trace_id, span_id, parent_span_id "
            "FROM events ORDER BY seq").fetchall()
    finally:
        connection.close()
    return [{"seq": seq, "time": t, "type": type_, "stream": stream, "data": json.loads(data),
             "trace_id": trace_id or "", "span_id": span_id or "", "parent_span_id": parent or ""}
            for seq, t, type_, stream, data, trace_id, span_id, parent in rows]


def expected_spans(db, events=None):
    """The spans the log defines: {(trace_id, span_id, parent_span_id): (opener, closer)}.

    A span is an opening event with span id S followed by a closing event of the same role
    with span id S; a span id opened again after it closed (a retried step) is a new span."""
    events = read_events(db) if events is None else events
    open_spans, spans = {}, {}
    for event in events:
        span_id = event["span_id"]
        if not span_id:
            continue
        if event["type"] in OPENERS:
            open_spans[span_id] = event
        elif event["type"] in CLOSERS:
            opener = open_spans.get(span_id)
            if opener is not None and OPENERS[opener["type"]] == CLOSERS[event["type"]]:
                del open_spans[span_id]
                spans[(opener["trace_id"], span_id, opener["parent_span_id"])] = (opener, event)
    return spans


def span_key(span):
    return (span["trace_id"], span["span_id"], span["parent_span_id"])


# ---------------------------------------------------------------------------- processes

def glassbox(*args, env=None, timeout=180, input=None):
    environment = dict(os.environ)
    environment.update(env or {})
    return subprocess.run([str(BINARY), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=environment, input=input)


def add_demo_runs(db, count):
    for _ in range(count):
        result = glassbox("demo", "--db", db, timeout=60)
        assert result.returncode == 0, result.stderr


class Receiver:
    """A running `scripts/otlp-receiver`; `endpoint` is the OTLP base URL."""

    def __init__(self, directory):
        directory = pathlib.Path(directory)
        self.ready_file = directory / "receiver-ready.json"
        self.log_file = directory / "receiver.log"
        self.output = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, str(RECEIVER), "--port", "0", "--control-port", "0",
             "--ready-file", str(self.ready_file), "--log", str(self.log_file)],
            stdout=self.output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not self.ready_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"otlp-receiver did not start: {self.diagnostics()}")
            time.sleep(0.05)
        ready = json.loads(self.ready_file.read_text())
        self.port, self.control_port = ready["port"], ready["control_port"]
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.control_port}{path}", data=data,
                                         method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def spans(self):
        return self.control("GET", "/spans")

    def logs(self):
        return self.control("GET", "/logs")

    def stats(self):
        return self.control("GET", "/stats")

    def reset(self):
        return self.control("POST", "/reset", {})

    def faults(self, entries):
        return self.control("POST", "/faults", entries)

    def span_keys(self):
        return {span_key(span) for span in self.spans()["spans"]}

    def diagnostics(self):
        parts = []
        if self.log_file.exists():
            parts.append("receiver log:\n" + self.log_file.read_text()[-6000:])
        self.output.seek(0)
        parts.append("receiver output:\n" + self.output.read().decode(errors="replace")[-3000:])
        return "\n".join(parts)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def receiver(tmp_path):
    receiver = Receiver(tmp_path)
    yield receiver
    receiver.stop()


def export(db, receiver, *args, env=None, timeout=180):
    """Runs `glassbox export otlp --json` once; returns (result, {signal: summary})."""
    result = glassbox("export", "otlp", "--db", db, "--endpoint", receiver.endpoint, "--json", *args,
                      env=env, timeout=timeout)
    summaries = {}
    for line in result.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            summary = json.loads(line)
            summaries[summary["signal"]] = summary
    return result, summaries


def describe(result, receiver):
    return (f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}\n"
            f"{receiver.diagnostics()}")


def rejected_events(db):
    return [event for event in read_events(db) if event["type"] == "export.rejected"]


def wait_for(predicate, timeout, explain, interval=0.2):
    """Polls `predicate` until it returns something truthy; on timeout fails with `explain()`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s: {explain()}")


def set_difference_report(expected, got):
    missing, unexpected = expected - got, got - expected
    return f"{len(missing)} missing: {sorted(missing)[:5]}; {len(unexpected)} unexpected: {sorted(unexpected)[:5]}"


# ---------------------------------------------------------------------------- tests

@pytest.mark.parametrize("protocol,compression,content_type,encoding", [
    ("http/protobuf", "none", "application/x-protobuf", "identity"),
    ("http/json", "none", "application/json", "identity"),
    ("http/protobuf", "gzip", "application/x-protobuf", "gzip"),
    ("http/json", "gzip", "application/json", "gzip"),
])
def test_export_sends_every_span_of_the_log(tmp_path, receiver, protocol, compression, content_type, encoding):
    db = tmp_path / "log.db"
    add_demo_runs(db, 5)
    events = read_events(db)
    expected = expected_spans(db, events)
    assert len(expected) == 5 * 6, "a demo run should define 6 spans (run, 3 llm, 2 tool)"

    service = f"otlp-e2e-{uuid.uuid4().hex[:8]}"
    result, summaries = export(db, receiver, "--protocol", protocol, "--compression", compression,
                               env={"OTEL_SERVICE_NAME": service,
                                    "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=e2e"})
    assert result.returncode == 0, describe(result, receiver)
    summary = summaries["traces"]
    assert summary["items"] == len(expected) and summary["rejected"] == 0 and summary["unmatched"] == 0, summary
    assert (summary["from"], summary["to"]) == (1, events[-1]["seq"]), summary

    recorded = receiver.spans()
    spans = recorded["spans"]
    got = [span_key(span) for span in spans]
    assert len(got) == len(set(got)), "a span was sent twice"
    assert set(got) == set(expected), set_difference_report(set(expected), set(got))

    by_id = {span["span_id"]: span for span in spans}
    for key, (opener, closer) in expected.items():
        span = by_id[key[1]]
        assert span["attributes"]["glassbox.seq.start"] == opener["seq"], span
        assert span["attributes"]["glassbox.seq.end"] == closer["seq"], span
        assert span["start_time_unix_nano"] == opener["time"], span
        assert span["end_time_unix_nano"] == closer["time"], span
        assert span["resource"].get("service.name") == service, span["resource"]
        assert span["resource"].get("deployment.environment") == "e2e", span["resource"]
        if opener["type"] == "run.started":
            assert span["name"] == "invoke_agent analyst" and span["parent_span_id"] == "", span
        elif opener["type"] == "llm.requested":
            assert span["name"] == "chat scripted-demo" and span["kind"] == SPAN_KIND_CLIENT, span
            assert span["status"]["code"] != STATUS_ERROR, span
        elif opener["type"] == "tool.requested":
            assert span["name"] == "execute_tool sql_query" and span["kind"] == SPAN_KIND_INTERNAL, span
            if closer["type"] == "tool.denied":
                assert span["status"]["code"] == STATUS_ERROR, span
                assert span["attributes"].get("error.type") == "permission_denied", span
            else:
                assert span["status"]["code"] != STATUS_ERROR, span
    denied = [key for key, (_, closer) in expected.items() if closer["type"] == "tool.denied"]
    assert len(denied) == 5

    stats = receiver.stats()
    assert stats["requests"]["by_status"] == {"200": summary["batches"]}, stats
    assert stats["content_types"] == {content_type: summary["batches"]}, stats
    assert stats["content_encodings"] == {encoding: summary["batches"]}, stats
    assert stats["duplicate_spans"] == 0 and stats["spans"] == len(expected), stats
    if compression == "gzip":
        assert stats["bytes"] < stats["bytes_decoded"], stats


def test_export_logs_sends_one_record_per_event(tmp_path, receiver):
    db = tmp_path / "log.db"
    add_demo_runs(db, 3)
    events = read_events(db)

    result, summaries = export(db, receiver, "--signal", "logs")
    assert result.returncode == 0, describe(result, receiver)
    assert set(summaries) == {"logs"}, summaries
    assert summaries["logs"]["items"] == len(events), summaries

    records = receiver.logs()["logs"]
    assert len(records) == len(events), describe(result, receiver)
    by_seq = {}
    for record in records:
        seq = record["attributes"]["glassbox.seq"]
        assert seq not in by_seq, f"seq {seq} sent twice"
        by_seq[seq] = record
    assert sorted(by_seq) == [event["seq"] for event in events]
    for event in events:
        record = by_seq[event["seq"]]
        assert record["event_name"] == event["type"], (record, event)
        assert record["trace_id"] == event["trace_id"], (record, event)
        assert record["span_id"] == event["span_id"], (record, event)
        assert record["attributes"]["glassbox.stream"] == event["stream"], (record, event)
        assert record["time_unix_nano"] == event["time"], (record, event)
    stats = receiver.stats()
    assert stats["requests"]["by_path"] == {"/v1/logs": summaries["logs"]["batches"]}, stats
    assert stats["spans"] == 0, stats


def test_export_rides_out_retryable_faults(tmp_path, receiver):
    db = tmp_path / "log.db"
    add_demo_runs(db, 20)
    expected = set(expected_spans(db))
    assert len(expected) == 120

    # The refusal outlasts the request timeout: the HTTP client keeps trying to connect until
    # the request's deadline, so a shorter refusal can end within one attempt (not a retry).
    receiver.faults([{"status": 503, "retry_after": "1", "times": 2},
                     {"refuse_seconds": 4},
                     {"hang_seconds": 6, "times": 1}])
    result, summaries = export(db, receiver, "--batch-items", "10", "--give-up-after", "120",
                               env={"OTEL_EXPORTER_OTLP_TIMEOUT": "1500"})
    assert result.returncode == 0, describe(result, receiver)
    summary = summaries["traces"]
    assert summary["retries"] >= 4, summary
    assert summary["items"] == len(expected) and summary["rejected"] == 0, summary
    assert receiver.control("GET", "/faults") == [], describe(result, receiver)

    # The hung request is answered (and its spans recorded) 6 s after it arrived, possibly
    # after the export ended: wait for that answer before counting duplicates.
    def settled():
        stats = receiver.stats()
        return stats if stats["requests"]["by_status"].get("200", 0) >= summary["batches"] + 1 else None
    stats = wait_for(settled, 30, lambda: "the hung request was not answered\n" + describe(result, receiver))
    got = receiver.span_keys()
    assert got == expected, set_difference_report(expected, got) + "\n" + describe(result, receiver)
    assert stats["requests"]["by_status"]["503"] == 2, stats
    assert stats["duplicate_spans"] <= 10, stats
    assert stats["requests"]["by_status"]["200"] == summary["batches"] + 1, stats


def test_export_does_not_retry_a_400_and_records_it(tmp_path, receiver):
    db = tmp_path / "log.db"
    add_demo_runs(db, 5)
    spans = expected_spans(db)
    expected = set(spans)

    receiver.faults([{"status": 400, "times": 1, "message": "bad batch"}])
    result, summaries = export(db, receiver, "--batch-items", "10")
    assert result.returncode == 5, describe(result, receiver)
    assert "export.rejected" in result.stderr, result.stderr
    summary = summaries["traces"]
    assert summary["retries"] == 0, summary
    assert summary["rejected"] == 10, summary
    # The summary counts what was accepted: every batch but the refused one.
    assert summary["batches"] == len(expected) // 10 - 1 and summary["items"] == len(expected) - 10, summary

    stats = receiver.stats()
    assert stats["requests"]["by_status"] == {"400": 1, "200": stats["requests"]["total"] - 1}, stats
    assert stats["requests"]["total"] == len(expected) // 10, stats

    incidents = rejected_events(db)
    assert len(incidents) == 1, incidents
    incident = incidents[0]
    assert incident["stream"] == "export/backfill", incident
    data = incident["data"]
    assert data["httpStatus"] == 400 and data["signal"] == "traces", data
    assert data["items"] == 10 and data["rejectedItems"] == 10, data
    assert "bad batch" in data.get("message", ""), data

    got = receiver.span_keys()
    missing = expected - got
    assert got <= expected and len(missing) == 10, set_difference_report(expected, got)
    # The refused spans are exactly those that close in the range the incident names.
    in_range = {key for key, (_, closer) in spans.items()
                if int(data["fromSeq"]) <= closer["seq"] <= int(data["throughSeq"])}
    assert missing == in_range, (data, sorted(missing), sorted(in_range))

    # The CLI shows the incident too.
    tail = glassbox("log", "tail", "--db", db, "--type", "export.rejected", "--json")
    assert tail.returncode == 0, tail.stderr
    shown = [json.loads(line) for line in tail.stdout.splitlines() if line.strip()]
    assert len(shown) == 1 and shown[0]["type"] == "export.rejected", tail.stdout


def test_export_records_a_partial_success(tmp_path, receiver):
    db = tmp_path / "log.db"
    add_demo_runs(db, 3)
    expected = set(expected_spans(db))

    receiver.faults([{"partial": 2, "message": "two spans too old", "times": 1}])
    result, summaries = export(db, receiver)
    assert result.returncode == 5, describe(result, receiver)
    assert summaries["traces"]["rejected"] == 2, summaries

    incidents = rejected_events(db)
    assert len(incidents) == 1, incidents
    data = incidents[0]["data"]
    assert data["rejectedItems"] == 2 and data["httpStatus"] == 200, data
    assert data["items"] == len(expected), data
    assert "two spans too old" in data.get("message", ""), data
    # A partial success is recorded by the receiver: every span is there.
    assert receiver.span_keys() == expected
    assert receiver.stats()["partial_rejected_spans"] == 2


def _boundary_seqs(db):
    """Split points: in the middle of a run's first LLM call, right at a run.started, the
    seq just before a run.completed, and the first seq."""
    events = read_events(db)
    runs = [e["seq"] for e in events if e["type"] == "run.started"]
    llm = [e["seq"] for e in events if e["type"] == "llm.requested"]
    completions = [e["seq"] for e in events if e["type"] == "run.completed"]
    return [llm[3], runs[1], completions[1] - 1, 1]


@pytest.mark.parametrize("split", range(4))
def test_export_ranges_partition_the_spans(tmp_path, receiver, split):
    db = tmp_path / "log.db"
    add_demo_runs(db, 4)
    events = read_events(db)
    spans = expected_spans(db, events)
    last = events[-1]["seq"]
    k = _boundary_seqs(db)[split]

    result, _ = export(db, receiver)
    assert result.returncode == 0, describe(result, receiver)
    full = {span["span_id"]: span for span in receiver.spans()["spans"]}
    receiver.reset()

    result, summaries = export(db, receiver, "--from", 1, "--to", k)
    assert result.returncode == 0, describe(result, receiver)
    assert (summaries["traces"]["from"], summaries["traces"]["to"]) == (1, k), summaries
    first = receiver.spans()["spans"]
    receiver.reset()

    result, summaries = export(db, receiver, "--from", k + 1, "--to", last)
    assert result.returncode == 0, describe(result, receiver)
    assert (summaries["traces"]["from"], summaries["traces"]["to"]) == (k + 1, last), summaries
    second = receiver.spans()["spans"]

    first_keys = [span_key(span) for span in first]
    second_keys = [span_key(span) for span in second]
    assert len(first_keys) == len(set(first_keys)) and len(second_keys) == len(set(second_keys))
    assert not set(first_keys) & set(second_keys), "a span was exported in both ranges"
    assert set(first_keys) | set(second_keys) == set(spans), \
        set_difference_report(set(spans), set(first_keys) | set(second_keys))
    assert set(first_keys) == {key for key, (_, closer) in spans.items() if closer["seq"] <= k}
    # Spans opened before --from are rebuilt from the log: identical to a full export's.
    straddling = [key for key, (opener, closer) in spans.items() if opener["seq"] <= k < closer["seq"]]
    if split != 3:
        assert straddling, "the split point should cut through at least one span"
    for span in first + second:
        assert span == full[span["span_id"]], (span, full[span["span_id"]])


def _serve_env(monkeypatch, receiver, **extra):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "glassbox-e2e-serve")
    for name, value in extra.items():
        monkeypatch.setenv(name, value)


def _server_stderr(server):
    server.stderr.seek(0)
    return server.stderr.read().decode(errors="replace")[-4000:]


def _checkpoint(db, consumer):
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        row = connection.execute("SELECT seq FROM consumer_checkpoints WHERE consumer = ?", (consumer,)).fetchone()
    finally:
        connection.close()
    return None if row is None else row[0]


def test_serve_exports_every_span_across_a_crash(tmp_path, receiver, start_server, monkeypatch):
    _serve_env(monkeypatch, receiver)
    db = tmp_path / "live.db"
    server = start_server("--demo", db=db)
    wait_for(lambda: receiver.stats()["distinct_span_ids"] >= 10, 180,
             lambda: f"10 spans at the receiver\n{receiver.diagnostics()}\n{_server_stderr(server)}", interval=0.5)
    # The collector starts failing, so spans pile up unexported; then the server crashes.
    receiver.faults([{"status": 503, "times": 100000}])
    arrived = receiver.span_keys()
    wait_for(lambda: len(set(expected_spans(db)) - arrived) >= 6, 180,
             lambda: f"6 more spans in the log\n{receiver.diagnostics()}\n{_server_stderr(server)}", interval=0.5)
    server.process.kill()
    server.process.wait(timeout=30)
    before_restart = receiver.stats()
    pending = set(expected_spans(db)) - receiver.span_keys()
    assert len(pending) >= 6

    # The collector is down for a moment when the server comes back.
    receiver.faults([{"refuse_seconds": 2}])
    server = start_server(db=db)
    expected = set(expected_spans(db))
    assert len(expected) >= 10

    wait_for(lambda: receiver.span_keys() == expected, 90,
             lambda: ("every span of the log at the receiver: "
                      + set_difference_report(expected, receiver.span_keys()) + "\n" + receiver.diagnostics()
                      + "\nserver stderr:\n" + _server_stderr(server)), interval=0.5)
    assert server.stop() == 0, _server_stderr(server)
    assert expected_spans(db).keys() == expected, "the log grew without --demo"

    stats = receiver.stats()
    print(f"spans before the crash: {before_restart['distinct_span_ids']}, pending at the crash: {len(pending)}, "
          f"expected {len(expected)}, "
          f"duplicates after the restart: {stats['duplicate_spans']} copies of {stats['duplicate_span_ids']} spans")
    assert receiver.span_keys() == expected
    assert _checkpoint(db, "otlp:default:traces") is not None


def test_serve_exports_a_span_whose_opener_precedes_the_checkpoint(tmp_path, receiver, start_server, monkeypatch):
    _serve_env(monkeypatch, receiver)
    db = tmp_path / "live.db"
    server = start_server(db=db)
    trace, span = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    started = glassbox("log", "append", "--db", db, "--stream", "run/late", "--type", "run.started",
                       "--data", json.dumps({"runId": "late", "agent": "slow"}),
                       "--trace-id", trace, "--span-id", span, "--actor", "agent:slow")
    assert started.returncode == 0, started.stderr

    # Another run, opened and closed after it: once its span arrives, the exporter has read
    # past the open run.started.
    other_trace, other_span = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    for type_, data in (("run.started", {"runId": "quick", "agent": "fast"}),
                        ("run.completed", {"runId": "quick", "output": "ok"})):
        result = glassbox("log", "append", "--db", db, "--stream", "run/quick", "--type", type_,
                          "--data", json.dumps(data), "--trace-id", other_trace, "--span-id", other_span,
                          "--actor", "agent:fast")
        assert result.returncode == 0, result.stderr
    wait_for(lambda: (other_trace, other_span, "") in receiver.span_keys(), 60,
             lambda: f"the quick run's span\n{receiver.diagnostics()}\n{_server_stderr(server)}")
    assert (trace, span, "") not in receiver.span_keys(), "a span was exported before it closed"

    # Restart (checkpoint past the opener), then close the slow run.
    assert server.stop() == 0, _server_stderr(server)
    checkpoint = _checkpoint(db, "otlp:default:traces")
    opener_seq = next(e["seq"] for e in read_events(db) if e["span_id"] == span)
    assert checkpoint is not None and checkpoint > opener_seq, checkpoint
    server = start_server(db=db)
    completed = glassbox("log", "append", "--db", db, "--stream", "run/late", "--type", "run.completed",
                         "--data", json.dumps({"runId": "late", "output": "finally"}),
                         "--trace-id", trace, "--span-id", span, "--actor", "agent:slow")
    assert completed.returncode == 0, completed.stderr
    wait_for(lambda: (trace, span, "") in receiver.span_keys(), 60,
             lambda: f"the late run's span\n{receiver.diagnostics()}\n{_server_stderr(server)}")

    events = {e["seq"]: e for e in read_events(db) if e["span_id"] == span}
    late = next(s for s in receiver.spans()["spans"] if s["span_id"] == span)
    opener = next(e for e in events.values() if e["type"] == "run.started")
    closer = next(e for e in events.values() if e["type"] == "run.completed")
    assert late["attributes"]["glassbox.seq.start"] == opener["seq"], late
    assert late["attributes"]["glassbox.seq.end"] == closer["seq"], late
    assert late["start_time_unix_nano"] == opener["time"], late
    assert late["end_time_unix_nano"] == closer["time"], late
    assert late["name"] == "invoke_agent slow", late
    assert receiver.span_keys() == set(expected_spans(db))
    assert receiver.stats()["duplicate_spans"] == 0


def _metric(server, name, **labels):
    """The value of one Prometheus series on /metrics (labels in any order), or None."""
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        series, _, value = line.rpartition(" ")
        found = dict(part.split("=", 1) for part in series[len(name):].strip("{}").split(",") if "=" in part)
        if all(found.get(key) == f'"{wanted}"' for key, wanted in labels.items()):
            return float(value)
    return None


def test_serve_shows_exporter_figures_in_metrics(tmp_path, receiver, start_server, monkeypatch):
    _serve_env(monkeypatch, receiver)
    db = tmp_path / "metrics.db"
    assert glassbox("demo", "--db", db).returncode == 0
    server = start_server(db=db)
    labels = {"destination": "default", "signal": "traces"}
    expected = set(expected_spans(db))
    wait_for(lambda: receiver.span_keys() == expected, 60,
             lambda: f"the demo run's spans\n{receiver.diagnostics()}\n{_server_stderr(server)}")
    wait_for(lambda: _metric(server, "glassbox_otlp_items_sent_total", **labels) == len(expected), 30,
             lambda: f"items sent = {_metric(server, 'glassbox_otlp_items_sent_total', **labels)}, expected {len(expected)}")
    wait_for(lambda: _metric(server, "glassbox_otlp_lag_events", **labels) == 0, 30,
             lambda: f"lag = {_metric(server, 'glassbox_otlp_lag_events', **labels)}")

    # A 503 is retried and counted; then a 400 is counted as rejected and recorded in the log.
    receiver.faults([{"status": 503, "retry_after": "0", "times": 1}, {"status": 400, "times": 1}])
    assert glassbox("demo", "--db", db).returncode == 0
    wait_for(lambda: (_metric(server, "glassbox_otlp_retries_total", reason="http_503", **labels) or 0) >= 1, 60,
             lambda: f"a retry on /metrics\n{receiver.diagnostics()}\n{_server_stderr(server)}")
    wait_for(lambda: (_metric(server, "glassbox_otlp_items_rejected_total", **labels) or 0) >= 1, 60,
             lambda: f"a rejection on /metrics\n{receiver.diagnostics()}\n{_server_stderr(server)}")
    rejected = [e for e in read_events(db) if e["type"] == "export.rejected"]
    assert len(rejected) == 1 and rejected[0]["stream"] == "export/default", rejected
    assert rejected[0]["data"]["httpStatus"] == 400 and rejected[0]["data"]["signal"] == "traces", rejected
    assert server.stop() == 0, _server_stderr(server)
