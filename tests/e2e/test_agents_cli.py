"""The agent commands of the `glassbox` CLI, end to end: real processes over real SQLite files (the
log and a sample warehouse) with a scripted model.

`ask` shows thoughts, tool calls and the answer; `stop` from another process ends a slow `ask`;
`ask` without a model says what to set; a killed `ask` run is continued with `resume`; `replay`
checks a recorded run; `whatif` lists exactly the calls a stricter policy would deny; `agents list`.
"""

import json
import re
import signal
import sqlite3
import subprocess

import yaml

from conftest import BINARY, ROOT, wait_until
from test_agents_api import (ANSWER, BUILT_IN, COUNT_SQL, CRASH_DELAY_MS, CRASH_SCRIPT, ORDERS_SQL, check_resumed_once,
                             sql_call)

QUESTION = "How many customers per country?"
PII_SQL = "SELECT count(*) FROM pii_customer_details"


def glassbox(*args, cwd, timeout=120):
    """Runs the CLI to its end (in `cwd`, so that no glassbox.yaml or glassbox.db of the checkout is used)."""
    return subprocess.run([str(BINARY), *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=cwd)


def log_events(db, run_id=None):
    """The events of the log file (of one run), oldest first, read with SQLite itself."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
            rows = connection.execute(
                "SELECT seq, stream, type, actor, data FROM events WHERE ?1 IS NULL OR stream = 'run/' || ?1 ORDER BY seq",
                (run_id,)).fetchall()
    except sqlite3.OperationalError:
        return []  # not created yet
    return [{"seq": seq, "stream": stream, "type": type_, "actor": actor, "data": json.loads(data) if data else {}}
            for seq, stream, type_, actor, data in rows]


def types_of(events, *types):
    return [e for e in events if e["type"] in types]


def run_ids(db):
    return [e["stream"][4:] for e in log_events(db) if e["type"] == "run.started"]


def ask(config, db, cwd, question=QUESTION, caller="user:alice", *extra):
    return glassbox("ask", "--as", caller, "--config", config, "--db", db, *extra, question, cwd=cwd)


class Background:
    """A CLI process left running while the test acts on it; killed at the end if still alive."""

    def __init__(self, *args, cwd):
        self.process = subprocess.Popen([str(BINARY), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, cwd=cwd)

    def finish(self, timeout):
        out, err = self.process.communicate(timeout=timeout)
        return self.process.returncode, out, err

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


def test_ask_prints_the_thoughts_the_tool_call_and_the_answer(agent_config, tmp_path):
    thought = "I will count the customers per country first."
    config = agent_config(replies=[{"text": thought, "tool_calls": [sql_call(COUNT_SQL)]}, {"text": ANSWER}])
    db = tmp_path / "ask.db"
    result = ask(config, db, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    [run_id] = run_ids(db)
    lines = out.splitlines()
    assert lines[0].startswith("▶ analyst") and "for user:alice" in lines[0] and run_id in lines[0], lines[0]
    assert "scripted" in out

    def line_with(text):
        return next((i for i, line in enumerate(lines) if text in line), None)

    thought_at, call_at, result_at = line_with(thought), line_with("→ sql.query"), line_with("✓ sql.query")
    # The answer streams as the last thought and is not printed a second time.
    answer_at = next((i for i in reversed(range(len(lines))) if ANSWER in lines[i]), None)
    assert None not in (thought_at, call_at, result_at, answer_at), out
    assert thought_at < call_at < result_at < answer_at, out
    assert "SELECT country, count(*)" in lines[call_at], lines[call_at]
    assert "3 rows" in lines[result_at], lines[result_at]
    assert "done in 2 steps" in lines[-1], out

    events = log_events(db, run_id)
    assert events[-1]["type"] == "run.completed" and events[-1]["data"]["output"] == ANSWER
    assert events[0]["data"]["caller"] == "user:alice" and events[0]["data"]["runner"] == "cli"
    assert len(types_of(events, "tool.completed")) == 1

    # --json: the run's events, one JSON object a line, as the log holds them.
    result = ask(config, db, tmp_path, QUESTION, "user:alice", "--json")
    assert result.returncode == 0, result.stderr
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    second = run_ids(db)[1]
    assert [e["type"] for e in printed] == [e["type"] for e in log_events(db, second)]
    assert [e["seq"] for e in printed] == [e["seq"] for e in log_events(db, second)]


def test_ask_with_an_unknown_agent_or_bad_caller_is_bad_input(agent_config, tmp_path):
    config = agent_config(replies=[{"text": "never asked"}])
    db = tmp_path / "bad.db"
    result = glassbox("ask", "--agent", "nobody", "--as", "user:alice", "--config", config, "--db", db, QUESTION, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "nobody" in result.stderr and all(name in result.stderr for name in BUILT_IN), result.stderr
    result = ask(config, db, tmp_path, QUESTION, "alice")
    assert result.returncode == 2 and "alice" in result.stderr, result.stdout + result.stderr
    assert run_ids(db) == []


def test_stop_from_another_process_ends_a_slow_ask(agent_config, tmp_path):
    config = agent_config(replies=[{"text": "This answer comes too late."}], delay_ms=30000)
    db = tmp_path / "stop.db"
    asking = Background("ask", "--as", "user:alice", "--config", config, "--db", db, "Take your time", cwd=tmp_path)
    try:
        wait_until(lambda: types_of(log_events(db), "llm.requested"), timeout=30, message="the model call of the ask")
        [run_id] = run_ids(db)
        stop = glassbox("stop", run_id, "--as", "user:carol", "--reason", "too slow", "--db", db, cwd=tmp_path)
        assert stop.returncode == 0, stop.stdout + stop.stderr
        # The model would answer after 30 s; the run ended within stop's wait (5 s), and says how soon.
        match = re.search(rf"run {run_id}: run\.cancelled (\d+) ms after the stop request", stop.stdout)
        assert match, stop.stdout
        print(f"the run was cancelled {match.group(1)} ms after the stop request")
        code, out, err = asking.finish(timeout=20)
    finally:
        asking.kill()
    assert code == 130, out + err
    assert "stop requested by user:carol" in out and "stopped by user:carol" in out, out

    events = log_events(db, run_id)
    [requested] = types_of(events, "run.stop_requested")
    assert requested["data"]["requestedBy"] == "user:carol" and requested["data"]["reason"] == "too slow"
    assert events[-1]["type"] == "run.cancelled" and events[-1]["seq"] > requested["seq"], [e["type"] for e in events]
    assert events[-1]["data"]["requestedBy"] == "user:carol"
    assert not types_of(events, "run.completed", "run.failed")

    again = glassbox("stop", run_id, "--db", db, cwd=tmp_path)
    assert again.returncode == 3 and run_id in again.stderr, again.stdout + again.stderr
    unknown = glassbox("stop", "no-such-run", "--db", db, cwd=tmp_path)
    assert unknown.returncode == 2 and "no-such-run" in unknown.stderr, unknown.stdout + unknown.stderr


def test_ask_without_a_model_says_what_to_set(agent_config, tmp_path):
    config = agent_config(replies=None)
    db = tmp_path / "nomodel.db"
    result = ask(config, db, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "OPENAI_API_KEY" in result.stdout + result.stderr, result.stdout + result.stderr
    [run_id] = run_ids(db)
    events = log_events(db, run_id)
    assert [e["type"] for e in events] == ["run.started", "run.failed"]
    assert events[1]["data"]["errorType"] == "no_model" and "OPENAI_API_KEY" in events[1]["data"]["message"]


def test_resume_continues_an_ask_killed_with_sigkill(agent_config, tmp_path):
    config = agent_config(replies=CRASH_SCRIPT, delay_ms=CRASH_DELAY_MS)
    db = tmp_path / "resume.db"
    asking = Background("ask", "--as", "user:alice", "--config", config, "--db", db, QUESTION, cwd=tmp_path)
    try:
        wait_until(lambda: types_of(log_events(db), "tool.completed"), timeout=30, message="the first tool call to complete")
        asking.process.send_signal(signal.SIGKILL)
        assert asking.process.wait(timeout=10) == -signal.SIGKILL
    finally:
        asking.kill()
    [run_id] = run_ids(db)
    assert not types_of(log_events(db, run_id), "run.completed")

    result = glassbox("resume", run_id, "--config", config, "--db", db, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "resumed (1 model and 1 tool calls already done)" in result.stdout, result.stdout
    assert ANSWER in result.stdout
    resumed = check_resumed_once(log_events(db, run_id))
    assert resumed["data"]["completedToolCalls"] == 1

    again = glassbox("resume", run_id, "--config", config, "--db", db, cwd=tmp_path)
    assert again.returncode == 2 and "already ended" in again.stderr, again.stdout + again.stderr


def test_replay_finds_every_decision_matched_for_a_completed_run(agent_config, tmp_path):
    config = agent_config(replies=CRASH_SCRIPT)
    db = tmp_path / "replay.db"
    assert ask(config, db, tmp_path).returncode == 0
    [run_id] = run_ids(db)

    result = glassbox("replay", run_id, "--config", config, "--db", db, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "every decision matched" in result.stdout and "3 steps" in result.stdout, result.stdout

    result = glassbox("replay", run_id, "--json", "--config", config, "--db", db, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert (report["runId"], report["agent"], report["steps"], report["matched"], report["unfinished"]) == \
        (run_id, "analyst", 3, True, False), report
    assert report["mismatches"] == [] and report["policyChanges"] == [] and report["checks"] > 0, report

    # Under a policy that denies the orders table, the replay names the call it would have changed.
    strict = stricter_policy(tmp_path)
    result = glassbox("replay", run_id, "--json", "--config", config, "--policy", strict, "--db", db, cwd=tmp_path)
    report = json.loads(result.stdout)
    orders_calls = [e["data"]["callId"] for e in types_of(log_events(db, run_id), "tool.requested")
                    if "orders" in e["data"]["input"]["sql"]]
    assert [change["callId"] for change in report["policyChanges"]] == orders_calls, report

    unknown = glassbox("replay", "no-such-run", "--config", config, "--db", db, cwd=tmp_path)
    assert unknown.returncode == 2 and "no-such-run" in unknown.stderr, unknown.stdout + unknown.stderr


def stricter_policy(tmp_path):
    """examples/policy.yaml plus a deny rule for the orders table."""
    policy = yaml.safe_load((ROOT / "examples" / "policy.yaml").read_text())
    policy["deny"].append({"id": "no-orders", "action": "*", "resource": "warehouse.*.orders", "reason": "orders are off limits"})
    path = tmp_path / "stricter-policy.yaml"
    path.write_text(yaml.safe_dump(policy, sort_keys=False))
    return path


def test_whatif_lists_exactly_the_calls_a_stricter_policy_would_deny(agent_config, tmp_path):
    db = tmp_path / "whatif.db"
    # Three runs: customers then orders (alice); orders only (frank); personal data, denied as recorded (alice).
    both = agent_config(replies=CRASH_SCRIPT)
    orders = agent_config(replies=[{"text": "Counting orders.", "tool_calls": [sql_call(ORDERS_SQL)]}, {"text": "1,200 orders."}])
    pii = agent_config(replies=[{"text": "Reading personal data.", "tool_calls": [sql_call(PII_SQL)]}, {"text": "I may not."}])
    for config, caller in ((both, "user:alice"), (orders, "user:frank"), (pii, "user:alice")):
        result = ask(config, db, tmp_path, QUESTION, caller)
        assert result.returncode == 0, result.stdout + result.stderr
    requested = types_of(log_events(db), "tool.requested")
    assert len(requested) == 4
    orders_calls = sorted(e["data"]["callId"] for e in requested if "FROM orders" in e["data"]["input"]["sql"])
    assert len(orders_calls) == 2
    assert len(types_of(log_events(db), "tool.denied")) == 1  # the personal data

    strict = stricter_policy(tmp_path)
    result = glassbox("whatif", "--policy", strict, "--json", "--config", both, "--db", db, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["examined"] == 4, report
    assert sorted(change["callId"] for change in report["changes"]) == orders_calls, report
    for change in report["changes"]:
        assert (change["recorded"], change["proposed"], change["tool"]) == ("allowed", "denied", "sql.query"), change
        assert "no-orders" in change["proposedRule"], change

    text = glassbox("whatif", "--policy", strict, "--config", both, "--db", db, cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "2 would have been DENIED, 0 would have been ALLOWED" in text.stdout, text.stdout

    # The policy the calls were decided with changes nothing; --since later than every call examines none.
    # (Before 2262: later dates are past the log's Int64 nanosecond times.)
    same = glassbox("whatif", "--policy", ROOT / "examples" / "policy.yaml", "--json", "--config", both, "--db", db, cwd=tmp_path)
    assert json.loads(same.stdout) == {"examined": 4, "changes": []}, same.stdout + same.stderr
    future = glassbox("whatif", "--policy", strict, "--since", "2200-01-01", "--json", "--config", both, "--db", db, cwd=tmp_path)
    assert json.loads(future.stdout) == {"examined": 0, "changes": []}, future.stdout + future.stderr
    recent = glassbox("whatif", "--policy", strict, "--since", "1d", "--json", "--config", both, "--db", db, cwd=tmp_path)
    assert sorted(c["callId"] for c in json.loads(recent.stdout)["changes"]) == orders_calls, recent.stdout
    bad = glassbox("whatif", "--policy", strict, "--since", "last tuesday", "--config", both, "--db", db, cwd=tmp_path)
    assert bad.returncode == 2 and "--since" in bad.stderr, bad.stdout + bad.stderr


def test_agents_list_shows_the_built_in_agents(agent_config, tmp_path):
    agent_config(replies=None)  # only for the environment without model variables
    result = glassbox("agents", "list", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines() if line and not line[0].isspace() and not line.startswith("model:")]
    assert names == BUILT_IN, result.stdout
    assert "model: no model configured" in result.stdout, result.stdout
    assert "from the policy's entry for agent:analyst" not in result.stdout  # no policy configured

    writer = "name: e2e-writer\ndescription: Adds rows (end-to-end test agent)\ninstructions: Write.\ntools: [sql.execute]\n" \
             "grants: [{action: sql:write, resource: \"warehouse.*\"}]\n"
    config = agent_config(replies=[{"text": "hi"}], agents={"e2e-writer": writer})
    result = glassbox("agents", "list", "--config", config, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    blocks = {}
    for line in result.stdout.splitlines():
        if line and not line[0].isspace() and not line.startswith("model:"):
            current = line.split()[0]
            blocks[current] = line
        elif line.startswith("  "):
            blocks[current] += "\n" + line
    assert sorted(blocks) == sorted(BUILT_IN + ["e2e-writer"]), result.stdout
    assert "Adds rows (end-to-end test agent)" in blocks["e2e-writer"] and "tools: sql.execute" in blocks["e2e-writer"]
    assert "its definition's grants" in blocks["e2e-writer"], blocks["e2e-writer"]
    assert "from the policy's entry for agent:analyst" in blocks["analyst"], blocks["analyst"]
    assert "scripted" in result.stdout.splitlines()[-1], result.stdout

    shown = glassbox("agents", "show", "analyst", cwd=tmp_path)
    assert shown.returncode == 0 and yaml.safe_load(shown.stdout)["name"] == "analyst", shown.stdout
    missing = glassbox("agents", "show", "nobody", cwd=tmp_path)
    assert missing.returncode == 2 and all(name in missing.stderr for name in BUILT_IN), missing.stderr
