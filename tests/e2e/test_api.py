"""End-to-end tests of `glassbox serve`'s HTTP API over loopback.

Every request goes through `Api.call`, which validates the response (and, for a 2xx answer, the
request too) against openapi.yaml with openapi-core; a route or method the document does not have
must answer with the documented JSON error. Events are appended with the real CLI
(`server.append`), as an agent host would.
"""

import base64
import functools
import json
import pathlib
import re
import subprocess

import pytest
import requests
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_spec

from conftest import BINARY, wait_until

SPEC_PATH = pathlib.Path(__file__).resolve().parents[2] / "openapi.yaml"
SPEC_DICT = yaml.safe_load(SPEC_PATH.read_text())
SPEC = OpenAPI.from_file_path(str(SPEC_PATH), config=Config(
    extra_media_type_deserializers={"text/event-stream": lambda data: data.decode("utf-8")}))

ALICE = "agent:analyst@user:alice"
BOB = "agent:analyst@user:bob"
CAROL = "agent:loader@user:carol"
TRACE_DONE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACE_OTHER = "0af7651916cd43dd8448eb211c80319c"
MODEL = "claude-sonnet-4-5"


# --- validation -----------------------------------------------------------------------------------

@functools.cache
def schema_validator(name):
    return OAS31Validator({"$ref": f"#/components/schemas/{name}", "components": SPEC_DICT["components"]},
                          format_checker=OAS31Validator.FORMAT_CHECKER)


def schema_errors(name, value):
    """The errors of `value` against components/schemas/`name` of openapi.yaml (empty when valid)."""
    validator = schema_validator(name)
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(value)]


def assert_matches(name, value):
    errors = schema_errors(name, value)
    assert not errors, f"{name} does not match openapi.yaml: {errors}\n{json.dumps(value)[:2000]}"


def describe(errors):
    lines = []
    for error in errors:
        lines.append(f"{type(error).__name__}: {error}")
        cause = error.__cause__
        for schema_error in getattr(cause, "schema_errors", None) or ():
            lines.append(f"  at {'/'.join(map(str, schema_error.absolute_path))}: {schema_error.message}")
    return "\n".join(lines)


def check_against_spec(prepared, response):
    """Fails unless `response` is what openapi.yaml documents for `prepared`."""
    openapi_request = RequestsOpenAPIRequest(prepared)
    result = SPEC.unmarshal_response(openapi_request, RequestsOpenAPIResponse(response))
    undocumented = [e for e in result.errors if isinstance(e, (PathNotFound, OperationNotFound))]
    context = f"{prepared.method} {prepared.url} → {response.status_code} {response.text[:500]!r}"
    if undocumented:
        if prepared.method == "OPTIONS":
            # CORS preflight: not an operation of the document; an answer with no body or an error.
            assert response.status_code < 300 or response.status_code >= 400, context
            if response.status_code >= 400:
                check_error_body(response, context)
            return
        # Routes and methods the document does not have must answer with the documented error.
        assert response.status_code in (404, 405), f"undocumented route answered: {context}"
        check_error_body(response, context)
        return
    assert not result.errors, f"response does not match openapi.yaml: {context}\n{describe(result.errors)}"
    if response.status_code < 300:
        # The server accepted it, so the document must accept it too.
        request_result = SPEC.unmarshal_request(openapi_request)
        assert not request_result.errors, \
            f"request accepted by the server is invalid per openapi.yaml: {context}\n{describe(request_result.errors)}"
    if response.status_code >= 400:
        check_error_body(response, context)


def check_error_body(response, context):
    assert response.headers.get("Content-Type", "").split(";")[0].strip() == "application/json", \
        f"error is not JSON: {context} ({response.headers.get('Content-Type')})"
    assert_matches("Error", response.json())


class Api:
    """HTTP calls to one server; every response is validated against openapi.yaml."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.session = requests.Session()

    def call(self, method, path, *, params=None, json_body=None, data=None, headers=None, expect=None):
        request = requests.Request(method, self.base_url + path, params=params, headers=headers or {},
                                   json=json_body, data=data)
        prepared = self.session.prepare_request(request)
        response = self.session.send(prepared, timeout=30, stream=True)
        if response.headers.get("Content-Type", "").startswith("text/event-stream"):
            # An endless stream: its body is checked in test_streams.py; here only that it is documented.
            response.close()
            assert response.status_code == 200 and prepared.path_url.startswith("/api/v1/events/stream"), \
                f"{method} {path}: unexpected event stream ({response.status_code})"
        else:
            response.content  # read the whole body
            check_against_spec(prepared, response)
        if expect is not None:
            assert response.status_code == expect, \
                f"{method} {path} {params or ''}: expected {expect}, got {response.status_code}: {response.text[:500]}"
        return response

    def get(self, path, params=None, expect=200, **kwargs):
        response = self.call("GET", path, params=params, expect=expect, **kwargs)
        return response.json() if expect == 200 and "json" in response.headers.get("Content-Type", "") else response

    def post(self, path, json_body=None, expect=None, **kwargs):
        return self.call("POST", path, json_body=json_body, expect=expect, **kwargs)

    def error(self, method, path, status, code, **kwargs):
        """Calls expecting an error; returns its message."""
        response = self.call(method, path, expect=status, **kwargs)
        body = response.json()
        assert body["error"]["code"] == code, f"{method} {path}: expected code {code}, got {body}"
        return body["error"]["message"]

    def all_events(self, **filters):
        events, after = [], 0
        while True:
            page = self.get("/api/v1/events", {**filters, "after": after, "limit": 1000})
            if not page["events"]:
                return events
            events.extend(page["events"])
            after = page["nextAfter"]


@pytest.fixture
def api(server):
    api = Api(server.url)
    api.server = server
    return api


# --- realistic events -----------------------------------------------------------------------------

def event(run, type_, data, actor=ALICE, trace=None, span=None):
    """One event line for `glassbox log append --stdin`; a trace context needs both ids."""
    result = {"stream": f"run/{run}", "type": type_, "actor": actor, "data": data}
    if trace:
        result["traceId"] = trace
        result["spanId"] = span or "a3ce929d0e0e4736"
    return result


def run_started(run, agent="analyst", caller="user:alice", task="Summarise yesterday's orders by region",
                actor=ALICE, trace=None):
    return event(run, "run.started", {
        "runId": run, "agent": agent, "agentVersion": "1.4.0", "task": task, "caller": caller,
        "provider": "anthropic", "model": MODEL, "labels": {"team": "finance"},
        "budget": {"maxSteps": 20, "maxTokens": 200000, "maxCostUsd": 2.5}}, actor=actor, trace=trace)


def completed_run(run="r-done", trace=TRACE_DONE):
    """A run that reads the warehouse with a permitted tool call and completes: 11 events."""
    def e(type_, data, span="00f067aa0ba902b7"):
        return event(run, type_, data, trace=trace, span=span)
    return [
        run_started(run, trace=trace),
        e("agent.thought", {"text": "I need the orders table first.", "callId": "llm-1", "step": 1}),
        e("llm.requested", {"callId": "llm-1", "provider": "anthropic", "model": MODEL, "messageCount": 3,
                            "toolCount": 2, "temperature": 0.2, "maxTokens": 4096}),
        e("llm.responded", {"callId": "llm-1", "provider": "anthropic", "model": MODEL, "responseId": "msg_01",
                            "finishReasons": ["tool_use"], "inputTokens": 1200, "outputTokens": 300,
                            "latencyMs": 840, "costUsd": 0.0081}),
        e("tool.requested", {"callId": "call-1", "tool": "sql.query", "risk": "low", "llmCallId": "llm-1",
                             "principal": "user:alice",
                             "input": {"sql": "SELECT region, SUM(total) FROM orders GROUP BY region"}},
          span="b7ad6b7169203331"),
        e("tool.authorized", {"callId": "call-1", "tool": "sql.query", "principal": "user:alice", "action": "read",
                              "resource": "warehouse.orders", "rule": "analysts-read-warehouse"}),
        e("tool.started", {"callId": "call-1", "tool": "sql.query", "executingAs": "svc-warehouse-ro"}),
        e("tool.completed", {"callId": "call-1", "tool": "sql.query", "output": {"regions": ["EMEA", "AMER"]},
                             "outputBytes": 512, "rows": 42, "durationMs": 120}),
        e("llm.requested", {"callId": "llm-2", "provider": "anthropic", "model": MODEL, "messageCount": 5,
                            "toolCount": 2, "temperature": 0.2, "maxTokens": 4096}),
        e("llm.responded", {"callId": "llm-2", "provider": "anthropic", "model": MODEL, "responseId": "msg_02",
                            "finishReasons": ["end_turn"], "inputTokens": 1500, "outputTokens": 200,
                            "latencyMs": 610, "costUsd": 0.006}),
        e("run.completed", {"runId": run, "output": "EMEA leads with 41% of revenue.", "steps": 2}),
    ]


def denied_run(run="r-denied"):
    """A run whose tool calls are denied by policy and by a guardrail, then fails: 6 events."""
    return [
        run_started(run, caller="user:bob", actor=BOB, task="Clean up the scratch files on the host"),
        event(run, "tool.requested", {"callId": "call-1", "tool": "shell.exec", "risk": "high",
                                      "principal": "user:bob", "input": {"command": "rm -rf /scratch/*"}}, actor=BOB),
        event(run, "tool.denied", {"callId": "call-1", "tool": "shell.exec", "principal": "user:bob",
                                   "action": "execute", "resource": "host:shell", "rule": "deny-shell",
                                   "reason": "shell access is not granted to analysts", "stage": "policy"}, actor=BOB),
        event(run, "tool.requested", {"callId": "call-2", "tool": "sql.query", "risk": "medium",
                                      "principal": "user:bob", "input": {"sql": "SELECT email FROM customers"}},
              actor=BOB),
        event(run, "guardrail.blocked", {"callId": "call-2", "tool": "sql.query", "guardrail": "pii-columns",
                                         "reason": "the query selects customers.email", "detail": "column email"},
              actor=BOB),
        event(run, "run.failed", {"runId": run, "errorType": "PermissionDenied",
                                  "message": "no permitted way to finish the task", "steps": 2}, actor=BOB),
    ]


def waiting_run(run="r-wait"):
    """A run whose destructive tool call waits for a data owner's approval: 4 events."""
    return [
        run_started(run, agent="loader", caller="user:carol", actor=CAROL, task="Drop last month's staging files"),
        event(run, "tool.requested", {"callId": "call-1", "tool": "s3.delete", "risk": "high",
                                      "principal": "user:carol", "input": {"prefix": "staging/2026-10/"}},
              actor=CAROL),
        event(run, "tool.authorized", {"callId": "call-1", "tool": "s3.delete", "principal": "user:carol",
                                       "action": "delete", "resource": "s3://lake/staging", "rule": "loaders-write-staging",
                                       "approvalRequired": True}, actor=CAROL),
        event(run, "approval.requested", {"approvalId": "ap-1", "callId": "call-1", "tool": "s3.delete",
                                          "runId": run, "reason": "destructive action on shared storage",
                                          "approver": "role:data-owner"}, actor=CAROL),
    ]


def live_run(run="r-live", trace=TRACE_OTHER):
    """A run that is still thinking: 2 events."""
    return [
        run_started(run, trace=trace),
        event(run, "agent.thought", {"text": "Looking at the schema.", "callId": "llm-1", "step": 1}, trace=trace),
    ]


def append(server, *events):
    """Appends through the CLI and returns the seqs, one per event."""
    out = server.append(*events)
    seqs = [json.loads(line)["seq"] for line in out.splitlines() if line.strip()]
    assert len(seqs) == len(events), out
    return seqs


def caught_up(api, seq):
    """Waits until the log head and the read models reflect `seq`."""
    wait_until(lambda: api.get("/healthz")["lastSeq"] >= seq, message=f"healthz lastSeq ≥ {seq}")
    wait_until(lambda: api.get("/api/v1/runs")["asOf"] >= seq, message=f"runs asOf ≥ {seq}")
    wait_until(lambda: api.get("/api/v1/tool-calls")["asOf"] >= seq, message=f"tool-calls asOf ≥ {seq}")


@pytest.fixture
def scenario(server, api):
    """Four runs: r-done (completed), r-denied (failed), r-wait (waiting for approval), r-live (running)."""
    runs = {"r-done": completed_run(), "r-denied": denied_run(), "r-wait": waiting_run(), "r-live": live_run()}
    seqs = {}
    for name, events in runs.items():
        seqs[name] = append(server, *events)
    caught_up(api, seqs["r-live"][-1])
    return {"events": runs, "seqs": seqs, "last": seqs["r-live"][-1]}


# --- the document ---------------------------------------------------------------------------------

def test_openapi_document_is_valid():
    validate_spec(SPEC_DICT)
    routes = set(SPEC_DICT["paths"])
    for route in ["/healthz", "/metrics", "/api/v1/events", "/api/v1/types", "/api/v1/stats", "/api/v1/runs",
                  "/api/v1/runs/{id}", "/api/v1/runs/{id}/events", "/api/v1/tool-calls", "/api/v1/runs/{id}/stop",
                  "/api/v1/audit/query", "/api/v1/stream", "/api/v1/events/stream"]:
        assert route in routes, route


# --- health, types, stats -------------------------------------------------------------------------

def test_healthz_reports_the_head_of_the_log(server, api):
    assert api.get("/healthz") == {"status": "ok", "lastSeq": 0}
    seqs = append(server, *live_run())
    wait_until(lambda: api.get("/healthz")["lastSeq"] == seqs[-1], message="healthz to see the appends")


def test_types_lists_every_event_type_with_its_fields(api):
    types = {entry["type"]: entry["fields"] for entry in api.get("/api/v1/types")["types"]}
    cli = subprocess.run([str(BINARY), "log", "types"], capture_output=True, text=True, check=True).stdout
    cli_types = {line.split()[0] for line in cli.splitlines() if re.match(r"^[a-z]+\.[a-z_]+\s", line)}
    assert cli_types and set(types) == cli_types
    assert types["run.started"][:2] == ["runId", "agent"]
    assert "stage" in types["tool.denied"] and "reason" in types["tool.denied"]
    assert types["audit.queried"] == ["principal", "query", "rows", "durationMs", "truncated", "error"]


def test_stats_counts_events_by_type(api, scenario):
    stats = api.get("/api/v1/stats")
    assert stats["lastSeq"] == scenario["last"]
    expected = {}
    for events in scenario["events"].values():
        for e in events:
            expected[e["type"]] = expected.get(e["type"], 0) + 1
    assert stats["eventsByType"] == expected


# --- events ---------------------------------------------------------------------------------------

def test_events_pages_with_after_and_limit(server, api):
    events = completed_run("r1") + completed_run("r2", trace=TRACE_OTHER) + live_run("r3")  # 24
    seqs = append(server, *events)
    assert seqs == list(range(1, 25))
    wait_until(lambda: api.get("/healthz")["lastSeq"] == 24, message="the appends")

    everything = api.get("/api/v1/events")
    assert [e["seq"] for e in everything["events"]] == seqs  # default limit 100, after 0
    assert everything["nextAfter"] == 24 and everything["lastSeq"] == 24

    pages, after = [], 0
    while True:
        page = api.get("/api/v1/events", {"after": after, "limit": 10})
        assert page["lastSeq"] == 24
        if not page["events"]:
            assert page["nextAfter"] == after  # nothing returned: stay where you are
            break
        assert page["nextAfter"] == page["events"][-1]["seq"]
        pages.append([e["seq"] for e in page["events"]])
        after = page["nextAfter"]
    assert pages == [list(range(1, 11)), list(range(11, 21)), list(range(21, 25))]

    middle = api.get("/api/v1/events", {"after": 7, "limit": 3})
    assert [e["seq"] for e in middle["events"]] == [8, 9, 10] and middle["nextAfter"] == 10
    beyond = api.get("/api/v1/events", {"after": 1000})
    assert beyond["events"] == [] and beyond["nextAfter"] == 1000 and beyond["lastSeq"] == 24
    assert len(api.get("/api/v1/events", {"limit": 1000})["events"]) == 24
    assert len(api.get("/api/v1/events", {"limit": 1})["events"]) == 1

    # The envelope carries what was appended, and the hash chain links consecutive events.
    listed = everything["events"]
    for appended, got in zip(events, listed):
        assert (got["stream"], got["type"], got["actor"]) == (appended["stream"], appended["type"], appended["actor"])
        assert got["data"] == appended["data"]
        assert got["traceId"] == appended.get("traceId") and got["spanId"] == appended.get("spanId")
    for previous, current in zip(listed, listed[1:]):
        assert current["prevHash"] == previous["hash"]
    assert [e["streamVersion"] for e in listed[:11]] == list(range(1, 12))
    assert len({e["id"] for e in listed}) == 24


def test_events_filters(server, api, scenario):
    all_events = api.all_events()
    assert len(all_events) == scenario["last"]

    def seqs(**params):
        return [e["seq"] for e in api.get("/api/v1/events", {"limit": 1000, **params})["events"]]

    def expected(predicate):
        return [e["seq"] for e in all_events if predicate(e)]

    assert seqs(type="run.started") == expected(lambda e: e["type"] == "run.started") and len(seqs(type="run.started")) == 4
    both = expected(lambda e: e["type"] in ("run.completed", "run.failed"))
    assert len(both) == 2
    assert seqs(type="run.completed,run.failed") == both
    assert seqs(type=["run.completed", "run.failed"]) == both
    assert seqs(stream="run/r-denied") == scenario["seqs"]["r-denied"]
    assert seqs(trace_id=TRACE_DONE) == scenario["seqs"]["r-done"]
    assert seqs(actor=BOB) == scenario["seqs"]["r-denied"]
    assert seqs(actor=CAROL, type="approval.requested") == [scenario["seqs"]["r-wait"][3]]
    assert seqs(stream="run/r-done", type="tool.requested,tool.completed") == \
        [scenario["seqs"]["r-done"][4], scenario["seqs"]["r-done"][7]]
    assert seqs(stream="run/nobody") == []
    assert seqs(type="no.such_type") == []

    # With a filter, pages still advance by the seq of the last event returned.
    page = api.get("/api/v1/events", {"type": "run.started", "limit": 2})
    assert [e["type"] for e in page["events"]] == ["run.started", "run.started"]
    assert page["nextAfter"] == page["events"][-1]["seq"] and page["lastSeq"] == scenario["last"]
    rest = api.get("/api/v1/events", {"type": "run.started", "after": page["nextAfter"]})
    assert len(rest["events"]) == 2 and rest["nextAfter"] == rest["events"][-1]["seq"]


@pytest.mark.parametrize("path,params,name", [
    ("/api/v1/events", {"limit": "0"}, "limit"),
    ("/api/v1/events", {"limit": "1001"}, "limit"),
    ("/api/v1/events", {"limit": "ten"}, "limit"),
    ("/api/v1/events", {"after": "-1"}, "after"),
    ("/api/v1/events", {"after": "1.5"}, "after"),
    ("/api/v1/events", {"after": "x"}, "after"),
    ("/api/v1/events", {"trace_id": "not-a-trace"}, "trace_id"),
    ("/api/v1/runs", {"limit": "0"}, "limit"),
    ("/api/v1/runs", {"as_of": "yesterday"}, "as_of"),
    ("/api/v1/runs", {"as_of": "-3"}, "as_of"),
    ("/api/v1/runs", {"status": "runing"}, "status"),
    ("/api/v1/runs/r-done", {"as_of": "x"}, "as_of"),
    ("/api/v1/runs/r-done/events", {"limit": "0"}, "limit"),
    ("/api/v1/runs/r-done/events", {"after": "-1"}, "after"),
    ("/api/v1/tool-calls", {"limit": "-5"}, "limit"),
    ("/api/v1/tool-calls", {"as_of": "1e3"}, "as_of"),
    ("/api/v1/tool-calls", {"status": "refused"}, "status"),
    ("/api/v1/events/stream", {"from": "-1"}, "from"),
    ("/api/v1/events/stream", {"from": "start"}, "from"),
])
def test_bad_parameters_are_400_naming_the_parameter(api, scenario, path, params, name):
    message = api.error("GET", path, 400, "bad_request", params=params)
    assert re.search(rf"\b{re.escape(name)}\b", message), f"message does not name {name!r}: {message!r}"


# --- runs -----------------------------------------------------------------------------------------

def test_runs_list_and_detail(api, scenario):
    seqs = scenario["seqs"]
    listing = api.get("/api/v1/runs")
    assert listing["asOf"] == scenario["last"]
    runs = {run["runId"]: run for run in listing["runs"]}
    assert [run["runId"] for run in listing["runs"]] == ["r-live", "r-wait", "r-denied", "r-done"]  # newest first

    done = runs["r-done"]
    assert done["status"] == "completed"
    assert (done["agent"], done["caller"], done["actor"], done["model"]) == ("analyst", "user:alice", ALICE, MODEL)
    assert done["task"] == "Summarise yesterday's orders by region"
    assert done["traceId"] == TRACE_DONE
    assert (done["llmCalls"], done["inputTokens"], done["outputTokens"]) == (2, 2700, 500)
    assert done["costUsd"] == pytest.approx(0.0141)
    assert (done["thoughts"], done["toolCalls"], done["toolCallsDenied"], done["toolCallsFailed"]) == (1, 1, 0, 0)
    assert (done["events"], done["firstSeq"], done["lastSeq"]) == (11, seqs["r-done"][0], seqs["r-done"][-1])
    assert done["endedAt"] >= done["startedAt"] and done["durationMs"] == (done["endedAt"] - done["startedAt"]) // 10**6
    assert done["lastEventAt"] == done["endedAt"]
    assert "error" not in done and "errorType" not in done and "stopRequestedBy" not in done

    denied = runs["r-denied"]
    assert denied["status"] == "failed"
    assert (denied["errorType"], denied["error"]) == ("PermissionDenied", "no permitted way to finish the task")
    assert (denied["toolCalls"], denied["toolCallsDenied"], denied["guardrailBlocks"]) == (2, 1, 1)

    wait = runs["r-wait"]
    assert (wait["status"], wait["approvalsPending"], wait["agent"]) == ("waiting_for_approval", 1, "loader")
    assert "endedAt" not in wait and "durationMs" not in wait

    live = runs["r-live"]
    assert live["status"] == "running" and live["traceId"] == TRACE_OTHER and live["events"] == 2

    # Filters and limit.
    assert [r["runId"] for r in api.get("/api/v1/runs", {"status": "running"})["runs"]] == ["r-live"]
    assert [r["runId"] for r in api.get("/api/v1/runs", {"status": "failed"})["runs"]] == ["r-denied"]
    assert [r["runId"] for r in api.get("/api/v1/runs", {"agent": "loader"})["runs"]] == ["r-wait"]
    assert api.get("/api/v1/runs", {"agent": "nobody"})["runs"] == []
    assert [r["runId"] for r in api.get("/api/v1/runs", {"limit": 2})["runs"]] == ["r-live", "r-wait"]

    # Detail is the same object.
    detail = api.get("/api/v1/runs/r-done")
    assert detail == {"run": done, "asOf": scenario["last"]}
    message = api.error("GET", "/api/v1/runs/r-nope", 404, "not_found")
    assert "r-nope" in message


def test_as_of_returns_the_state_at_that_seq(api, scenario):
    seqs = scenario["seqs"]["r-done"]
    before_end = seqs[-2]  # right before run.completed
    now = api.get("/api/v1/runs/r-done")["run"]
    assert now["status"] == "completed"

    earlier = api.get("/api/v1/runs/r-done", {"as_of": before_end})
    assert earlier["asOf"] == before_end
    run = earlier["run"]
    assert run["status"] == "running" and run["lastSeq"] == before_end and run["events"] == 10
    assert "endedAt" not in run and "durationMs" not in run
    assert (run["llmCalls"], run["inputTokens"]) == (2, 2700)

    after_first_llm = api.get("/api/v1/runs/r-done", {"as_of": seqs[3]})["run"]
    assert (after_first_llm["llmCalls"], after_first_llm["inputTokens"], after_first_llm["toolCalls"]) == (1, 1200, 0)

    listing = api.get("/api/v1/runs", {"as_of": before_end})
    assert listing["asOf"] == before_end
    assert [(r["runId"], r["status"]) for r in listing["runs"]] == [("r-done", "running")]
    assert [r["runId"] for r in api.get("/api/v1/runs", {"as_of": before_end, "status": "running"})["runs"]] == ["r-done"]
    assert api.get("/api/v1/runs", {"as_of": 0})["runs"] == []
    assert api.get("/api/v1/runs", {"as_of": scenario["last"] + 100})["asOf"] == scenario["last"]  # past the head

    # A run that had not started as of that seq is unknown then.
    api.error("GET", "/api/v1/runs/r-live", 404, "not_found", params={"as_of": scenario["seqs"]["r-live"][0] - 1})
    assert api.get("/api/v1/runs/r-live", {"as_of": scenario["seqs"]["r-live"][0]})["run"]["events"] == 1

    # Tool calls too: the call was running before it completed.
    call_started = seqs[6]
    calls = api.get("/api/v1/tool-calls", {"run": "r-done", "as_of": call_started})
    assert calls["asOf"] == call_started
    assert [(c["callId"], c["status"]) for c in calls["toolCalls"]] == [("call-1", "running")]


def test_run_events(api, scenario):
    seqs = scenario["seqs"]["r-denied"]
    page = api.get("/api/v1/runs/r-denied/events")
    assert [e["seq"] for e in page["events"]] == seqs
    assert all(e["stream"] == "run/r-denied" for e in page["events"])
    assert page["nextAfter"] == seqs[-1] and page["lastSeq"] == scenario["last"]
    assert [e["type"] for e in page["events"]] == [e["type"] for e in scenario["events"]["r-denied"]]
    assert [e["streamVersion"] for e in page["events"]] == list(range(1, 7))

    first = api.get("/api/v1/runs/r-denied/events", {"limit": 4})
    assert [e["seq"] for e in first["events"]] == seqs[:4] and first["nextAfter"] == seqs[3]
    second = api.get("/api/v1/runs/r-denied/events", {"after": first["nextAfter"], "limit": 4})
    assert [e["seq"] for e in second["events"]] == seqs[4:] and second["nextAfter"] == seqs[-1]
    empty = api.get("/api/v1/runs/r-denied/events", {"after": seqs[-1]})
    assert empty["events"] == [] and empty["nextAfter"] == seqs[-1]

    api.error("GET", "/api/v1/runs/r-nope/events", 404, "not_found")


def test_tool_calls_carry_the_permission_decision(api, scenario):
    done = api.get("/api/v1/tool-calls", {"run": "r-done"})
    assert done["asOf"] == scenario["last"]
    [call] = done["toolCalls"]
    assert (call["callId"], call["runId"], call["tool"], call["status"]) == ("call-1", "r-done", "sql.query", "completed")
    assert (call["decision"], call["rule"], call["principal"]) == ("allowed", "analysts-read-warehouse", "user:alice")
    assert (call["action"], call["resource"], call["executingAs"]) == ("read", "warehouse.orders", "svc-warehouse-ro")
    assert (call["rows"], call["outputBytes"], call["risk"]) == (42, 512, "low")
    assert call["traceId"] == TRACE_DONE and call["spanId"] == "b7ad6b7169203331"
    assert call["firstSeq"] == scenario["seqs"]["r-done"][4] and call["lastSeq"] == scenario["seqs"]["r-done"][7]
    assert call["endedAt"] >= call["startedAt"] >= call["requestedAt"]
    assert "deniedAt" not in call and "reason" not in call

    denied = {c["callId"]: c for c in api.get("/api/v1/tool-calls", {"run": "r-denied"})["toolCalls"]}
    assert set(denied) == {"call-1", "call-2"}
    shell = denied["call-1"]
    assert (shell["status"], shell["decision"], shell["deniedAt"]) == ("denied", "denied", "policy")
    assert (shell["rule"], shell["reason"]) == ("deny-shell", "shell access is not granted to analysts")
    assert (shell["tool"], shell["action"], shell["resource"]) == ("shell.exec", "execute", "host:shell")
    assert "startedAt" not in shell and "executingAs" not in shell
    pii = denied["call-2"]
    assert (pii["status"], pii["decision"], pii["deniedAt"], pii["rule"]) == ("denied", "denied", "guardrail", "pii-columns")

    [waiting] = api.get("/api/v1/tool-calls", {"run": "r-wait"})["toolCalls"]
    assert (waiting["status"], waiting["approvalId"], waiting["decision"]) == ("waiting_for_approval", "ap-1", "allowed")

    everything = api.get("/api/v1/tool-calls")["toolCalls"]
    assert sorted((c["runId"], c["callId"]) for c in everything) == [
        ("r-denied", "call-1"), ("r-denied", "call-2"), ("r-done", "call-1"), ("r-wait", "call-1")]
    only_denied = api.get("/api/v1/tool-calls", {"status": "denied"})["toolCalls"]
    assert sorted((c["runId"], c["callId"]) for c in only_denied) == [("r-denied", "call-1"), ("r-denied", "call-2")]
    assert len(api.get("/api/v1/tool-calls", {"limit": 1})["toolCalls"]) == 1
    assert api.get("/api/v1/tool-calls", {"run": "r-nope"})["toolCalls"] == []


# --- stop -----------------------------------------------------------------------------------------

def test_stop_appends_run_stop_requested(api, scenario):
    response = api.post("/api/v1/runs/r-live/stop", {"reason": "spending too much", "requestedBy": "user:carol"},
                        expect=202)
    body = response.json()
    assert body["runId"] == "r-live" and body["status"] == "stopping" and body["seq"] == scenario["last"] + 1

    [stop] = api.get("/api/v1/events", {"type": "run.stop_requested"})["events"]
    assert stop["seq"] == body["seq"] and stop["stream"] == "run/r-live"
    assert stop["data"]["runId"] == "r-live"
    assert stop["data"]["requestedBy"] == "user:carol" and stop["data"]["reason"] == "spending too much"
    assert stop["prevHash"] == api.get("/api/v1/events", {"after": body["seq"] - 2, "limit": 1})["events"][0]["hash"]

    wait_until(lambda: api.get("/api/v1/runs/r-live")["asOf"] >= body["seq"], message="the run to see the stop")
    run = api.get("/api/v1/runs/r-live")["run"]
    assert run["status"] == "stopping" and run["stopRequestedBy"] == "user:carol"



def test_stop_without_body_and_errors(api, scenario):
    response = api.call("POST", "/api/v1/runs/r-wait/stop", expect=202)
    assert response.json()["seq"] == scenario["last"] + 1
    [stop] = api.get("/api/v1/events", {"type": "run.stop_requested"})["events"]
    assert stop["stream"] == "run/r-wait" and stop["data"]["runId"] == "r-wait" and stop["data"].get("requestedBy")

    head = api.get("/healthz")["lastSeq"]
    message = api.error("POST", "/api/v1/runs/r-nope/stop", 404, "not_found", json_body={"reason": "x"})
    assert "r-nope" in message
    for finished in ("r-done", "r-denied"):
        message = api.error("POST", f"/api/v1/runs/{finished}/stop", 409, "run_finished",
                            json_body={"reason": "too late", "requestedBy": "user:alice"})
        assert finished in message
    api.error("POST", "/api/v1/runs/r-live/stop", 400, "bad_request", data="{\"reason\": ",
              headers={"Content-Type": "application/json"})
    api.error("POST", "/api/v1/runs/r-live/stop", 400, "bad_request", json_body={"reason": 42})
    assert api.get("/healthz")["lastSeq"] == head  # refused stops append nothing
    assert api.get("/api/v1/runs/r-live")["run"]["status"] == "running"


def test_stop_then_agent_cancels(api, scenario):
    body = api.post("/api/v1/runs/r-live/stop", {"reason": "spending too much", "requestedBy": "user:carol"},
                    expect=202).json()
    seq = append(api.server, event("r-live", "run.cancelled", {
        "runId": "r-live", "reason": "spending too much", "requestedBy": "user:carol", "steps": 1}))[0]
    assert seq == body["seq"] + 1
    caught_up(api, seq)
    run = api.get("/api/v1/runs/r-live")["run"]
    assert (run["status"], run["error"], run["stopRequestedBy"]) == ("cancelled", "spending too much", "user:carol")
    api.error("POST", "/api/v1/runs/r-live/stop", 409, "run_finished", json_body={"reason": "again"})


# --- audit ----------------------------------------------------------------------------------------

def audit_records(api):
    return api.get("/api/v1/events", {"type": "audit.queried", "limit": 1000})["events"]


def test_audit_query_answers_and_is_recorded(api, scenario):
    sql = "SELECT type, COUNT(*) AS n FROM events WHERE type <> 'audit.queried' GROUP BY type ORDER BY type"
    response = api.post("/api/v1/audit/query", {"sql": sql}, expect=200)
    result = response.json()
    assert result["columns"] == ["type", "n"]
    expected = {}
    for events in scenario["events"].values():
        for e in events:
            expected[e["type"]] = expected.get(e["type"], 0) + 1
    assert result["rows"] == [[type_, count] for type_, count in sorted(expected.items())]
    assert result["truncated"] is False and result["durationMs"] >= 0

    [record] = audit_records(api)
    assert record["seq"] == result["seq"] == scenario["last"] + 1
    assert record["data"]["query"] == sql
    assert record["data"]["rows"] == len(expected)
    assert "error" not in record["data"]

    # Cell types: null, integer, real, text, blob.
    cells = api.post("/api/v1/audit/query", {
        "sql": "SELECT NULL AS absent, 42 AS answer, 0.5 AS half, 'text' AS word, hash FROM events WHERE seq = 1"},
        expect=200).json()
    assert cells["columns"] == ["absent", "answer", "half", "word", "hash"]
    [[nothing, answer, half, word, blob]] = cells["rows"]
    assert (nothing, answer, half, word) == (None, 42, 0.5, "text")
    first = api.get("/api/v1/events", {"limit": 1})["events"][0]
    assert base64.b64decode(blob["base64"]).hex() == first["hash"]
    assert cells["seq"] == result["seq"] + 1


@pytest.mark.parametrize("sql", [
    "DELETE FROM events",
    "ATTACH DATABASE '{tmp}/attacked.db' AS other",
    "INSERT INTO events (seq, id, time, stream, stream_version, type, actor, data, prev_hash, hash) "
    "VALUES (999, 'x', 0, 'run/x', 1, 'run.started', 'me', '{}', x'00', x'00')",
    "UPDATE events SET actor = 'nobody'",
    "DROP TABLE events",
    "SELECT 1; DELETE FROM events",
    "PRAGMA writable_schema = ON",
])
def test_audit_refuses_writes_and_changes_nothing(api, scenario, sql, tmp_path):
    sql = sql.replace("{tmp}", str(tmp_path))
    before = api.all_events()
    message = api.error("POST", "/api/v1/audit/query", 422, "query_refused", json_body={"sql": sql})
    assert message
    after = api.all_events()
    assert after[:len(before)] == before, "existing events changed"
    added = after[len(before):]
    assert [e["type"] for e in added] == ["audit.queried"], "a refused query must append only its audit record"
    assert added[0]["data"]["query"] == sql and added[0]["data"].get("error")
    assert api.get("/api/v1/stats")["eventsByType"].get("audit.queried") == 1
    assert not (tmp_path / "attacked.db").exists()


@pytest.mark.parametrize("sql", ["SELEC * FROM events", "SELECT * FROM no_such_table", "SELECT no_such_column FROM events"])
def test_audit_invalid_sql_is_422(api, scenario, sql):
    message = api.error("POST", "/api/v1/audit/query", 422, "query_invalid", json_body={"sql": sql})
    assert message
    [record] = audit_records(api)
    assert record["data"]["query"] == sql and record["data"].get("error")


def test_audit_query_timeout_is_422(api, scenario):
    sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c"
    api.error("POST", "/api/v1/audit/query", 422, "query_timeout", json_body={"sql": sql, "timeoutMs": 200})
    [record] = audit_records(api)
    assert record["data"]["query"] == sql and record["data"].get("error")


def test_audit_max_rows_truncates(api, scenario):
    result = api.post("/api/v1/audit/query", {"sql": "SELECT seq FROM events ORDER BY seq", "maxRows": 5},
                      expect=200).json()
    assert result["rows"] == [[1], [2], [3], [4], [5]] and result["truncated"] is True
    [record] = audit_records(api)
    assert record["data"]["truncated"] is True and record["data"]["rows"] == 5

    exact = api.post("/api/v1/audit/query", {"sql": "SELECT seq FROM events WHERE seq <= 3", "maxRows": 3},
                     expect=200).json()
    assert exact["rows"] == [[1], [2], [3]] and exact["truncated"] is False


@pytest.mark.parametrize("body,name", [
    ({}, "sql"),
    ({"sql": 7}, "sql"),
    ({"sql": "SELECT 1", "maxRows": 0}, "maxRows"),
    ({"sql": "SELECT 1", "maxRows": "ten"}, "maxRows"),
    ({"sql": "SELECT 1", "timeoutMs": -1}, "timeoutMs"),
    ({"sql": "SELECT 1", "maxRows": 10001}, "maxRows"),
    ({"sql": "SELECT 1", "timeoutMs": 30001}, "timeoutMs"),
])
def test_audit_bad_body_is_400_naming_the_field(api, body, name):
    message = api.error("POST", "/api/v1/audit/query", 400, "bad_request", json_body=body)
    assert name in message, message


def test_bad_last_event_id_is_400(api):
    message = api.error("GET", "/api/v1/events/stream", 400, "bad_request", headers={"Last-Event-ID": "latest"})
    assert "Last-Event-ID" in message, message


def test_malformed_json_body_is_400(api):
    message = api.error("POST", "/api/v1/audit/query", 400, "bad_request", data="{\"sql\": \"SELECT 1\"",
                        headers={"Content-Type": "application/json"})
    assert message
    api.error("POST", "/api/v1/audit/query", 400, "bad_request", data="[1, 2]",
              headers={"Content-Type": "application/json"})


def test_oversized_body_is_413(api):
    body = json.dumps({"sql": "SELECT '" + "x" * (16 * 1024 * 1024) + "'"})
    api.error("POST", "/api/v1/audit/query", 413, "payload_too_large", data=body,
              headers={"Content-Type": "application/json"})
    assert api.get("/healthz")["status"] == "ok"


# --- routes, static files, metrics, CORS ---------------------------------------------------------

def test_unknown_routes_are_404_json(api):
    api.error("GET", "/api/v1/nope", 404, "not_found")
    api.error("GET", "/api/v2/events", 404, "not_found")
    api.error("GET", "/api/v1/runs/r1/nope", 404, "not_found")
    api.error("GET", "/no-such-file.html", 404, "not_found")


@pytest.mark.parametrize("method,path", [
    ("DELETE", "/api/v1/runs"),
    ("PUT", "/api/v1/events"),
    ("GET", "/api/v1/audit/query"),
    ("GET", "/api/v1/runs/r1/stop"),
    ("POST", "/healthz"),
])
def test_wrong_method_is_a_json_error(api, method, path):
    response = api.call(method, path)
    assert response.status_code == 405, response.text
    assert response.headers["Allow"] in ("GET", "POST", "GET, POST")
    assert method not in response.headers["Allow"]


def test_websocket_route_without_upgrade_is_an_error(api):
    """A plain GET (a browser tab, curl) on the WebSocket route must say what is wrong."""
    response = api.call("GET", "/api/v1/stream")
    assert response.status_code in (400, 426), f"{response.status_code} {response.text!r}"


def test_static_index(api):
    response = api.get("/")
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<html" in response.text.lower()


def test_metrics_names(server, api, scenario):
    from websockets.sync.client import connect

    api.get("/api/v1/runs/r-done")
    api.get("/api/v1/events", {"limit": 5})
    api.error("GET", "/api/v1/runs/r-nope", 404, "not_found")
    api.post("/api/v1/runs/r-live/stop", {"reason": "metrics test"}, expect=202)  # an append by the server
    def metrics_with(fragment):
        text = api.get("/metrics").text
        return text if fragment in text else None

    ws_url = server.url.replace("http://", "ws://") + "/api/v1/stream?from=0"
    with connect(ws_url, open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["kind"] == "hello"
        text = wait_until(lambda: metrics_with("glassbox_stream_client_lag_events{"),
                          message="a lag gauge for the connected client")
        assert re.search(r'^glassbox_stream_clients\{[^}]*transport="websocket"[^}]*\} 1(\.0)?$', text, re.M), text
    # glassbox_stream_disconnects_total counts disconnects the server makes (slow consumers, shutdown):
    # test_streams.py checks it.

    response = api.call("GET", "/metrics", expect=200)
    assert response.headers["Content-Type"].replace(" ", "").startswith("text/plain;version=0.0.4")
    samples = prometheus_samples(response.text)
    names = {name for name, _, _ in samples}

    def value(name, **labels):
        found = [v for n, l, v in samples if n == name and all(l.get(k) == w for k, w in labels.items())]
        return sum(found) if found else None

    for counter_or_gauge in ["glassbox_events_appended_total", "glassbox_stream_clients",
                             "glassbox_http_requests_total"]:
        assert counter_or_gauge in names, f"{counter_or_gauge} missing from {sorted(names)}"
    for histogram in ["glassbox_append_duration_seconds", "glassbox_http_request_duration_seconds"]:
        assert {histogram + "_bucket", histogram + "_sum", histogram + "_count"} <= names, histogram
    assert value("glassbox_events_appended_total", type="run.started") == 4
    assert value("glassbox_http_requests_total", route="/api/v1/runs/{id}", method="GET", status="404") >= 1
    assert value("glassbox_http_requests_total", route="/api/v1/runs/{id}", method="GET", status="200") >= 1
    assert value("glassbox_http_requests_total", route="/api/v1/runs/{id}/stop", method="POST", status="202") == 1
    assert value("glassbox_http_request_duration_seconds_count", route="/api/v1/events", method="GET") >= 1
    assert value("glassbox_append_duration_seconds_count") >= 1
    assert not any("r-done" in labels.get("route", "") for _, labels, _ in samples), \
        "route labels must be templates, not ids"


PROMETHEUS_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?[0-9]+)?$')
PROMETHEUS_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:\\.|[^"\\])*)"\s*(,|$)')


def prometheus_samples(text):
    """(name, labels, value) of every sample line; fails on a line that is not the text format."""
    samples = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = PROMETHEUS_SAMPLE.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        name, label_text, value = match.groups()
        labels, at = {}, 0
        while label_text and at < len(label_text):
            label = PROMETHEUS_LABEL.match(label_text, at)
            assert label, f"bad labels in {line!r}"
            labels[label.group(1)] = label.group(2)
            at = label.end()
        samples.append((name, labels, float(value)))
    return samples


def test_cors_allows_only_configured_origins(start_server):
    server = start_server("--cors-origin", "http://example.test")
    api = Api(server.url)
    preflight = api.call("OPTIONS", "/api/v1/events", headers={
        "Origin": "http://example.test", "Access-Control-Request-Method": "GET"})
    assert preflight.status_code in (200, 204), preflight.text
    assert preflight.headers.get("Access-Control-Allow-Origin") == "http://example.test"
    assert "GET" in preflight.headers.get("Access-Control-Allow-Methods", "GET")
    stop_preflight = api.call("OPTIONS", "/api/v1/runs/r1/stop", headers={
        "Origin": "http://example.test", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert stop_preflight.headers.get("Access-Control-Allow-Origin") == "http://example.test"
    assert "content-type" in stop_preflight.headers.get("Access-Control-Allow-Headers", "").lower()

    allowed = api.call("GET", "/api/v1/events", headers={"Origin": "http://example.test"}, expect=200)
    assert allowed.headers.get("Access-Control-Allow-Origin") == "http://example.test"
    error = api.call("GET", "/api/v1/runs/nope", headers={"Origin": "http://example.test"}, expect=404)
    assert error.headers.get("Access-Control-Allow-Origin") == "http://example.test"

    other = api.call("GET", "/api/v1/events", headers={"Origin": "http://evil.test"}, expect=200)
    assert "Access-Control-Allow-Origin" not in other.headers
    other_preflight = api.call("OPTIONS", "/api/v1/events", headers={
        "Origin": "http://evil.test", "Access-Control-Request-Method": "GET"})
    assert other_preflight.headers.get("Access-Control-Allow-Origin") is None


def test_no_cors_headers_without_cors_origin(api):
    response = api.call("GET", "/api/v1/events", headers={"Origin": "http://example.test"}, expect=200)
    assert "Access-Control-Allow-Origin" not in response.headers
