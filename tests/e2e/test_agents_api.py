"""Agent runs through `glassbox serve`'s API, end to end: real servers on loopback over real SQLite
files (the log and a sample warehouse), a scripted model, and every response checked against
openapi.yaml (`Api` of test_api.py).

Start runs and read their events; the 400s; what the server says, and does, when no model is
configured; approvals (who may decide, approve, reject, decide twice); a server killed with SIGKILL
in the middle of a run resumes it without repeating a model or tool call that had ended; and a
call waiting for approval survives a graceful restart and is approved from another process.
"""

import collections
import signal
import sqlite3
import subprocess

from conftest import BINARY, wait_until
from test_api import SPEC_DICT, Api

COUNT_SQL = "SELECT country, count(*) AS customers FROM customers GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3"
ORDERS_SQL = "SELECT count(*) AS orders FROM orders"
INSERT_SQL = "INSERT INTO plans (plan_code, name, monthly_price, included_seats) VALUES ('e2e-plan', 'End-to-end plan', 9.00, 2)"
ANSWER = "The US has the most customers; the counts are in the query above."
BUILT_IN = ["analyst", "documenter", "engineer", "reporter"]

# Not listed by examples/policy.yaml, so its definition's grants apply, always within the caller's.
WRITER = """
name: e2e-writer
description: Adds rows when an admin approves (end-to-end test agent)
instructions: Change the warehouse as asked.
tools: [sql.query, sql.execute]
grants:
  - action: [sql:read, sql:write]
    resource: "warehouse.*"
"""
# In production, examples/policy.yaml sends every SQL write to an admin (writes-need-review).
PROD = {"environment": "prod"}


def sql_call(sql, tool="sql.query"):
    return {"name": tool, "arguments": {"connection": "warehouse", "sql": sql}}


def insert_script(final="Added the plan."):
    return [{"text": "Adding the plan.", "tool_calls": [sql_call(INSERT_SQL, "sql.execute")]}, {"text": final}]


def serve(start_server, config, db=None):
    server = start_server("--config", str(config), db=db)
    api = Api(server.url)
    api.server = server
    return api


def server_stderr(server):
    server.stderr.seek(0)
    return server.stderr.read().decode(errors="replace")


def events_of(api, run_id):
    events, after = [], 0
    while True:
        page = api.get(f"/api/v1/runs/{run_id}/events", {"after": after})
        if not page["events"]:
            return events
        events.extend(page["events"])
        after = page["nextAfter"]


def types_of(events, *types):
    return [e for e in events if e["type"] in types]


def wait_events(api, run_id, predicate, timeout=30, message="the run's events"):
    """Polls the run's events until `predicate(events)` holds; returns the events."""
    def check():
        events = events_of(api, run_id)
        return events if predicate(events) else None
    try:
        return wait_until(check, timeout=timeout, interval=0.05, message=message)
    except AssertionError as error:
        types = [e["type"] for e in events_of(api, run_id)]
        raise AssertionError(f"{error}; the run has {types}\n{server_stderr(api.server)[-2000:]}") from None


def ended(events):
    return any(e["type"] in ("run.completed", "run.failed", "run.cancelled") for e in events)


def start_run(api, agent, text, caller):
    body = api.post("/api/v1/runs", {"agent": agent, "input": text, "caller": caller}, expect=202).json()
    assert body["status"] == "running" and body["runId"], body
    return body


def warehouse_rows(path, sql):
    with sqlite3.connect(path) as connection:
        return connection.execute(sql).fetchall()


def test_openapi_documents_the_agent_routes():
    paths = SPEC_DICT["paths"]
    for path, method in [("/api/v1/runs", "post"), ("/api/v1/agents", "get"), ("/api/v1/approvals", "get"),
                         ("/api/v1/approvals/{id}/approve", "post"), ("/api/v1/approvals/{id}/reject", "post")]:
        assert method in paths.get(path, {}), f"{method.upper()} {path} is not in openapi.yaml"
    codes = SPEC_DICT["components"]["schemas"]["ErrorCode"]["enum"]
    assert {"not_an_approver", "already_decided", "agents_unavailable"} <= set(codes), codes


# --- starting runs -----------------------------------------------------------------------------------

def test_a_run_started_through_the_api_completes_with_its_events_in_order(start_server, agent_config):
    config = agent_config(replies=[
        {"text": "I will count the customers per country.", "tool_calls": [sql_call(COUNT_SQL)]},
        {"text": ANSWER},
    ])
    api = serve(start_server, config)
    agents = api.get("/api/v1/agents")
    assert agents["llm"]["configured"] is True and agents["llm"]["scripted"] is True, agents["llm"]
    assert agents["llm"]["provider"] == "scripted" and agents["llm"]["problem"] is None, agents["llm"]

    started = start_run(api, "analyst", "How many customers per country?", "user:alice")
    run_id = started["runId"]
    events = wait_events(api, run_id, ended, message="the run to end")

    # Model call, thoughts, tool call with its permission decision, model call, answer: in this order.
    assert [e["type"] for e in events if e["type"] != "agent.thought"] == [
        "run.started", "llm.requested", "llm.responded", "tool.requested", "tool.authorized", "tool.started",
        "tool.completed", "llm.requested", "llm.responded", "run.completed"], [e["type"] for e in events]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert {e["stream"] for e in events} == {f"run/{run_id}"}
    assert {e["traceId"] for e in events} == {started["traceId"]}
    assert events[0]["seq"] == started["seq"]

    run_started = events[0]["data"]
    assert (run_started["runId"], run_started["agent"], run_started["caller"], run_started["provider"]) == \
        (run_id, "analyst", "user:alice", "scripted")
    assert run_started["task"] == "How many customers per country?"
    # Each thought lies inside the model call that wrote it.
    calls = {e["data"]["callId"]: e["seq"] for e in types_of(events, "llm.requested")}
    answers = {e["data"]["callId"]: e["seq"] for e in types_of(events, "llm.responded")}
    thoughts = types_of(events, "agent.thought")
    assert "".join(t["data"]["text"] for t in thoughts if t["data"]["callId"] == list(calls)[0]) == \
        "I will count the customers per country."
    for thought in thoughts:
        call = thought["data"]["callId"]
        assert calls[call] < thought["seq"] < answers[call], thought

    first_answer = types_of(events, "llm.responded")[0]["data"]
    [asked] = first_answer["toolCalls"]
    assert asked["name"] == "sql.query" and asked["arguments"]["sql"] == COUNT_SQL, asked
    requested = types_of(events, "tool.requested")[0]["data"]
    assert requested["llmCallId"] == first_answer["callId"] and requested["modelCallId"] == asked["id"]
    assert requested["principal"] == "user:alice" and requested["tool"] == "sql.query"
    authorized = types_of(events, "tool.authorized")[0]["data"]
    assert authorized["callId"] == requested["callId"] and authorized["resource"] == "warehouse.main.customers"
    # The tool read the real warehouse.
    output = types_of(events, "tool.completed")[0]["data"]["output"]
    assert [list(row) for row in output["rows"]] == [list(row) for row in warehouse_rows(agent_config.warehouse, COUNT_SQL)]
    done = events[-1]["data"]
    assert done["output"] == ANSWER and done["runId"] == run_id and done["steps"] == 2, done

    run = api.get(f"/api/v1/runs/{run_id}")["run"]
    assert (run["status"], run["agent"], run["caller"], run["toolCalls"], run["llmCalls"]) == \
        ("completed", "analyst", "user:alice", 1, 2), run
    assert run_id in [r["runId"] for r in api.get("/api/v1/runs", {"agent": "analyst"})["runs"]]


def test_bad_run_requests_are_400_and_append_nothing(start_server, agent_config):
    api = serve(start_server, agent_config(replies=[{"text": "never asked"}], agents={"e2e-writer": WRITER}))
    head = api.get("/healthz")["lastSeq"]

    message = api.error("POST", "/api/v1/runs", 400, "bad_request",
                        json_body={"agent": "nobody", "input": "Count the customers", "caller": "user:alice"})
    assert "nobody" in message, message
    for name in BUILT_IN + ["e2e-writer"]:
        assert name in message, f"the message does not list {name}: {message}"

    message = api.error("POST", "/api/v1/runs", 400, "bad_request", json_body={"agent": "analyst", "input": "Count the customers"})
    assert "caller" in message, message
    for empty in ("", "  \n "):
        message = api.error("POST", "/api/v1/runs", 400, "bad_request",
                            json_body={"agent": "analyst", "input": empty, "caller": "user:alice"})
        assert "input" in message, message
    message = api.error("POST", "/api/v1/runs", 400, "bad_request",
                        json_body={"agent": "analyst", "input": "Count the customers", "caller": "alice"})
    assert "caller" in message and "alice" in message, message
    api.error("POST", "/api/v1/runs", 400, "bad_request", json_body={"agent": "analyst", "input": 42, "caller": "user:alice"})
    api.error("POST", "/api/v1/runs", 400, "bad_request")
    api.error("POST", "/api/v1/runs", 400, "bad_request", data='{"agent": ', headers={"Content-Type": "application/json"})

    assert api.get("/healthz")["lastSeq"] == head
    assert api.get("/api/v1/runs")["runs"] == []


def test_without_a_model_agents_say_why_and_a_run_fails_at_once(start_server, agent_config):
    api = serve(start_server, agent_config(replies=None, agents={"e2e-writer": WRITER}))
    listing = api.get("/api/v1/agents")
    agents = {agent["name"]: agent for agent in listing["agents"]}
    assert [agent["name"] for agent in listing["agents"]] == sorted(BUILT_IN + ["e2e-writer"])
    assert agents["e2e-writer"]["tools"] == ["sql.query", "sql.execute"]
    assert agents["e2e-writer"]["description"] == "Adds rows when an admin approves (end-to-end test agent)"
    assert "sql.query" in agents["analyst"]["tools"] and "email.send" in agents["reporter"]["tools"]
    assert all(agent["provider"] is None and agent["model"] is None for agent in agents.values()), agents
    llm = listing["llm"]
    assert llm["configured"] is False and llm["scripted"] is False, llm
    assert "OPENAI_API_KEY" in llm["problem"], llm

    started = start_run(api, "analyst", "How many customers per country?", "user:alice")
    events = wait_events(api, started["runId"], ended, timeout=10, message="the run to fail")
    assert [e["type"] for e in events] == ["run.started", "run.failed"], events
    # At once: appended together with run.started, before any model call could be made.
    assert events[1]["seq"] == events[0]["seq"] + 1
    failed = events[1]["data"]
    assert failed["errorType"] == "no_model" and "OPENAI_API_KEY" in failed["message"], failed
    assert events[0]["data"].get("provider", "") == ""
    run = api.get(f"/api/v1/runs/{started['runId']}")["run"]
    assert run["status"] == "failed" and run["errorType"] == "no_model", run


def test_stop_through_the_api_cancels_a_run_the_server_runs(start_server, agent_config):
    api = serve(start_server, agent_config(replies=[{"text": "This answer comes too late."}], delay_ms=30000))
    run_id = start_run(api, "analyst", "Take your time", "user:frank")["runId"]
    wait_events(api, run_id, lambda events: types_of(events, "llm.requested"), message="the model call")

    stop = api.post(f"/api/v1/runs/{run_id}/stop", {"requestedBy": "user:frank", "reason": "too slow"}, expect=202).json()
    assert stop["status"] == "stopping"
    # The model call waits 30 s: only a working stop ends the run within the wait.
    events = wait_events(api, run_id, ended, timeout=10, message="run.cancelled")
    assert events[-1]["type"] == "run.cancelled", [e["type"] for e in events]
    assert events[-1]["data"]["requestedBy"] == "user:frank" and events[-1]["data"]["reason"] == "too slow"
    assert not types_of(events, "run.completed", "run.failed")
    assert [e for e in types_of(events, "llm.responded") if not e["data"].get("errorType")] == []
    assert api.get(f"/api/v1/runs/{run_id}")["run"]["status"] == "cancelled"
    api.error("POST", f"/api/v1/runs/{run_id}/stop", 409, "run_finished", json_body={"requestedBy": "user:frank"})


# --- approvals -------------------------------------------------------------------------------------

def wait_for_approval(api, run_id):
    events = wait_events(api, run_id, lambda events: types_of(events, "approval.requested") or ended(events),
                         message="approval.requested")
    [requested] = types_of(events, "approval.requested")
    return requested["data"]


def test_approval_is_decided_by_an_admin_other_than_the_caller(start_server, agent_config):
    api = serve(start_server, agent_config(replies=insert_script(), agents={"e2e-writer": WRITER}, context=PROD))
    run_id = start_run(api, "e2e-writer", "Add the end-to-end plan", "user:dana")["runId"]
    requested = wait_for_approval(api, run_id)
    approval_id = requested["approvalId"]
    assert requested["approver"] == "role:admin" and requested["tool"] == "sql.execute", requested
    assert api.get(f"/api/v1/runs/{run_id}")["run"]["status"] == "waiting_for_approval"

    [pending] = api.get("/api/v1/approvals", {"status": "pending"})["approvals"]
    assert (pending["approvalId"], pending["runId"], pending["tool"], pending["status"], pending["caller"], pending["approver"]) == \
        (approval_id, run_id, "sql.execute", "pending", "user:dana", "role:admin"), pending
    assert pending["input"]["sql"] == INSERT_SQL and pending["decidedBy"] is None
    assert pending["callId"] == requested["callId"]
    assert api.get("/api/v1/approvals", {"status": "granted"})["approvals"] == []
    api.error("GET", "/api/v1/approvals", 400, "bad_request", params={"status": "maybe"})

    head = api.get("/healthz")["lastSeq"]
    # The caller may not approve their own call; nor may anyone who is no admin.
    for principal in ("user:dana", "user:bob", "user:alice"):
        message = api.error("POST", f"/api/v1/approvals/{approval_id}/approve", 403, "not_an_approver",
                            json_body={"as": principal, "comment": "looks fine"})
        assert principal in message, message
    api.error("POST", f"/api/v1/approvals/{approval_id}/approve", 400, "bad_request", json_body={"comment": "who am I"})
    message = api.error("POST", "/api/v1/approvals/no-such-approval/approve", 404, "not_found", json_body={"as": "user:sam"})
    assert "no-such-approval" in message
    api.error("POST", "/api/v1/approvals/no-such-approval/reject", 404, "not_found", json_body={"as": "user:sam"})
    assert api.get("/healthz")["lastSeq"] == head  # refusals append nothing
    assert warehouse_rows(agent_config.warehouse, "SELECT count(*) FROM plans WHERE plan_code = 'e2e-plan'") == [(0,)]

    decision = api.post(f"/api/v1/approvals/{approval_id}/approve", {"as": "user:sam", "comment": "ticket 4711"}, expect=200).json()
    assert decision["approvalId"] == approval_id and decision["status"] == "granted" and decision["seq"] > head
    events = wait_events(api, run_id, ended, message="the run to end after the approval")
    assert events[-1]["type"] == "run.completed" and events[-1]["data"]["output"] == "Added the plan.", events[-1]
    [granted] = types_of(events, "approval.granted")
    assert granted["seq"] == decision["seq"] and granted["actor"] == "user:sam"
    assert granted["data"]["decidedBy"] == "user:sam" and granted["data"]["comment"] == "ticket 4711"
    [completed] = types_of(events, "tool.completed")
    assert completed["data"]["callId"] == requested["callId"] and completed["seq"] > granted["seq"]
    assert warehouse_rows(agent_config.warehouse, "SELECT name, included_seats FROM plans WHERE plan_code = 'e2e-plan'") == \
        [("End-to-end plan", 2)]

    for verb in ("approve", "reject"):
        message = api.error("POST", f"/api/v1/approvals/{approval_id}/{verb}", 409, "already_decided", json_body={"as": "user:sam"})
        assert approval_id in message, message
    [decided] = api.get("/api/v1/approvals", {"status": "granted"})["approvals"]
    assert (decided["approvalId"], decided["decidedBy"], decided["comment"]) == (approval_id, "user:sam", "ticket 4711")
    assert api.get("/api/v1/approvals", {"status": "pending"})["approvals"] == []
    assert [a["approvalId"] for a in api.get("/api/v1/approvals")["approvals"]] == [approval_id]
    assert len(types_of(events_of(api, run_id), "approval.granted", "approval.rejected")) == 1


def test_a_rejected_call_is_denied_and_the_run_goes_on(start_server, agent_config):
    final = "The plan was not added: an admin rejected the insert."
    api = serve(start_server, agent_config(replies=insert_script(final), agents={"e2e-writer": WRITER}, context=PROD))
    run_id = start_run(api, "e2e-writer", "Add the end-to-end plan", "user:dana")["runId"]
    requested = wait_for_approval(api, run_id)

    decision = api.post(f"/api/v1/approvals/{requested['approvalId']}/reject", {"as": "user:sam", "comment": "not in production"},
                        expect=200).json()
    assert decision["status"] == "rejected"
    events = wait_events(api, run_id, ended, message="the run to end after the rejection")
    assert events[-1]["type"] == "run.completed" and events[-1]["data"]["output"] == final, events[-1]
    [rejected] = types_of(events, "approval.rejected")
    assert rejected["data"]["decidedBy"] == "user:sam" and rejected["data"]["comment"] == "not in production"
    [denied] = types_of(events, "tool.denied")
    assert denied["data"]["callId"] == requested["callId"] and denied["seq"] > rejected["seq"], denied
    assert not types_of(events, "tool.started", "tool.completed")
    # The model was asked again, and told the call was denied.
    second = types_of(events, "llm.requested")[1]
    assert second["seq"] > denied["seq"]
    assert warehouse_rows(agent_config.warehouse, "SELECT count(*) FROM plans WHERE plan_code = 'e2e-plan'") == [(0,)]

    api.error("POST", f"/api/v1/approvals/{requested['approvalId']}/approve", 409, "already_decided", json_body={"as": "user:sam"})
    [listed] = api.get("/api/v1/approvals", {"status": "rejected"})["approvals"]
    assert listed["approvalId"] == requested["approvalId"] and listed["decidedBy"] == "user:sam"
    call = api.get("/api/v1/tool-calls", {"run": run_id, "tool": "sql.execute"})["toolCalls"]
    assert [c["status"] for c in call] == ["denied"], call


def test_stopping_a_run_that_waits_for_approval_closes_the_approval(start_server, agent_config):
    api = serve(start_server, agent_config(replies=insert_script(), agents={"e2e-writer": WRITER}, context=PROD))
    run_id = start_run(api, "e2e-writer", "Add the end-to-end plan", "user:dana")["runId"]
    requested = wait_for_approval(api, run_id)

    api.post(f"/api/v1/runs/{run_id}/stop", {"requestedBy": "user:dana", "reason": "changed my mind"}, expect=202)
    events = wait_events(api, run_id, ended, timeout=10, message="run.cancelled")
    assert events[-1]["type"] == "run.cancelled" and events[-1]["data"]["requestedBy"] == "user:dana", events[-1]
    assert not types_of(events, "tool.started", "tool.completed", "approval.granted")
    [closed] = api.get("/api/v1/approvals", {"status": "closed"})["approvals"]
    assert closed["approvalId"] == requested["approvalId"] and closed["decidedBy"] is None, closed
    assert api.get("/api/v1/approvals", {"status": "pending"})["approvals"] == []
    message = api.error("POST", f"/api/v1/approvals/{requested['approvalId']}/approve", 409, "already_decided",
                        json_body={"as": "user:sam"})
    assert requested["approvalId"] in message, message
    assert warehouse_rows(agent_config.warehouse, "SELECT count(*) FROM plans WHERE plan_code = 'e2e-plan'") == [(0,)]


# --- crashes and restarts --------------------------------------------------------------------------

# Each model answer waits this long: time enough to see where the run is and kill the process there.
CRASH_DELAY_MS = 2500
CRASH_SCRIPT = [
    {"text": "First the customers per country.", "tool_calls": [sql_call(COUNT_SQL)]},
    {"text": "Now the orders.", "tool_calls": [sql_call(ORDERS_SQL)]},
    {"text": ANSWER},
]


def successful_answers(events):
    return [e for e in events if e["type"] == "llm.responded" and not e["data"].get("errorType")]


def check_resumed_once(events):
    """The run ended as if it had never been interrupted: one resume, no tool call run twice, three answers."""
    assert len(types_of(events, "run.started")) == 1
    [resumed] = types_of(events, "run.resumed")
    before = events[events.index(resumed) - 1]
    assert int(resumed["data"]["afterSeq"]) == before["seq"], (resumed, before)
    model_call_of = {e["data"]["callId"]: e["data"]["modelCallId"] for e in types_of(events, "tool.requested")}
    completed = collections.Counter(model_call_of[e["data"]["callId"]] for e in types_of(events, "tool.completed"))
    assert completed == {"scripted-0-0": 1, "scripted-1-0": 1}, completed
    assert len(successful_answers(events)) == 3, [e["data"] for e in types_of(events, "llm.responded")]
    assert events[-1]["type"] == "run.completed" and events[-1]["data"]["output"] == ANSWER, events[-1]
    return resumed


def verify_log(db):
    result = subprocess.run([str(BINARY), "verify", "--db", str(db)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def crash_and_resume(start_server, agent_config, tmp_path, kill_when):
    config = agent_config(replies=CRASH_SCRIPT, delay_ms=CRASH_DELAY_MS)
    db = tmp_path / "crash.db"
    first = serve(start_server, config, db=db)
    run_id = start_run(first, "analyst", "Customers per country, and how many orders?", "user:alice")["runId"]
    before = wait_events(first, run_id, kill_when, message="the moment to kill the server")
    first.server.process.send_signal(signal.SIGKILL)
    assert first.server.process.wait(timeout=10) == -signal.SIGKILL
    assert not ended(before)

    second = serve(start_server, config, db=db)
    events = wait_events(second, run_id, ended, timeout=60, message="the resumed run to end")
    assert events[:len(before)] == before  # the log kept everything up to the kill
    resumed = check_resumed_once(events)
    verify_log(db)
    return events, resumed


def test_a_run_resumes_after_sigkill_once_a_tool_call_completed(start_server, agent_config, tmp_path):
    events, resumed = crash_and_resume(start_server, agent_config, tmp_path,
                                       lambda events: types_of(events, "tool.completed"))
    # Killed during the second model call's pause: one model and one tool call were done.
    assert resumed["data"]["completedLlmCalls"] == 1 and resumed["data"]["completedToolCalls"] == 1, resumed
    sqls = [e["data"]["input"]["sql"] for e in types_of(events, "tool.requested")]
    assert sqls == [COUNT_SQL, ORDERS_SQL], sqls


def test_a_run_resumes_after_sigkill_during_a_model_call(start_server, agent_config, tmp_path):
    def in_third_model_call(events):
        return len(types_of(events, "llm.requested")) == 3 and len(types_of(events, "llm.responded")) == 2

    events, resumed = crash_and_resume(start_server, agent_config, tmp_path, in_third_model_call)
    assert resumed["data"]["completedLlmCalls"] == 2 and resumed["data"]["completedToolCalls"] == 2, resumed
    # The interrupted model call got no answer; it was asked again after the resume.
    requested = types_of(events, "llm.requested")
    answered = {e["data"]["callId"] for e in types_of(events, "llm.responded")}
    unanswered = [e for e in requested if e["data"]["callId"] not in answered]
    assert len(unanswered) == 1 and unanswered[0]["seq"] < resumed["seq"], unanswered
    assert requested[-1]["seq"] > resumed["seq"] and requested[-1]["data"]["callId"] in answered
    assert len(types_of(events, "tool.requested")) == 2


def test_a_call_waiting_for_approval_survives_a_restart(start_server, agent_config, tmp_path):
    config = agent_config(replies=insert_script(), agents={"e2e-writer": WRITER}, context=PROD)
    db = tmp_path / "restart.db"
    first = serve(start_server, config, db=db)
    run_id = start_run(first, "e2e-writer", "Add the end-to-end plan", "user:dana")["runId"]
    requested = wait_for_approval(first, run_id)

    assert first.server.stop() == 0, server_stderr(first.server)  # SIGTERM: a graceful shutdown
    assert "glassbox stopped" in first.server.process.stdout.read()
    second = serve(start_server, config, db=db)
    wait_events(second, run_id, lambda events: types_of(events, "run.resumed"), message="run.resumed")
    [pending] = second.get("/api/v1/approvals", {"status": "pending"})["approvals"]
    assert pending["approvalId"] == requested["approvalId"], pending
    assert second.get(f"/api/v1/runs/{run_id}")["run"]["status"] == "waiting_for_approval"

    def approve(principal):
        return subprocess.run([str(BINARY), "approve", requested["approvalId"], "--as", principal, "--comment", "after the restart",
                               "--config", str(config), "--db", str(db)], capture_output=True, text=True, timeout=60, cwd=tmp_path)

    refused = approve("user:dana")
    assert refused.returncode == 3 and "user:dana" in refused.stderr + refused.stdout, refused
    result = approve("user:sam")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"approved {requested['approvalId']} (sql.execute) as user:sam" in result.stdout, result.stdout

    events = wait_events(second, run_id, ended, message="the run to end after the approval")
    assert events[-1]["type"] == "run.completed", [e["type"] for e in events]
    assert len(types_of(events, "approval.requested")) == 1, [e["type"] for e in events]
    assert len(types_of(events, "run.resumed")) == 1
    [granted] = types_of(events, "approval.granted")
    assert granted["data"]["decidedBy"] == "user:sam" and granted["data"]["comment"] == "after the restart"
    [completed] = types_of(events, "tool.completed")
    assert completed["data"]["callId"] == requested["callId"] and completed["seq"] > granted["seq"]
    assert warehouse_rows(agent_config.warehouse, "SELECT count(*) FROM plans WHERE plan_code = 'e2e-plan'") == [(1,)]
    verify_log(db)
