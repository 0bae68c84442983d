"""Agent runs in the web dashboard, in a real browser (headless Chromium) against a real `glassbox serve`
whose model is scripted: start a run from the New-run form and watch it, approve a tool call that the
policy sends to an admin, stop a slow run, and see why a run without a model fails.

Needs Debian's `chromium` and `chromium-driver` packages and `pip install selenium pytest`.
Screenshots at 1280 px and 390 px go to tests/e2e/artifacts/agents-*.png: look at them after changing the layout.
"""

import json
import os
import subprocess
import time

import pytest

from conftest import BINARY, ROOT, wait_until
from test_browser import console_errors, make_browser, resize, screenshot, wait_connected

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

POLICY = ROOT / "examples" / "policy.yaml"

# Agents the example policy does not list, so their definitions' grants apply (always within the caller's).
AGENTS = {
    "e2e-analyst": """
name: e2e-analyst
description: Counts customers with read-only SQL (end-to-end test agent)
instructions: Answer with read-only SQL.
tools: [sql.query]
grants:
  - action: sql:read
    resource: "warehouse.*"
""",
    "e2e-cleaner": """
name: e2e-cleaner
description: Deletes stale rows when an admin approves (end-to-end test agent)
instructions: Delete what you are asked to delete.
tools: [sql.execute]
grants:
  - action: [sql:read, sql:write, sql:destructive]
    resource: "warehouse.*"
""",
}

COUNT_SQL = "SELECT country, count(*) AS customers FROM customers GROUP BY 1 ORDER BY 2 DESC LIMIT 3"
ANSWER = "Most customers are in the first country of the list; the query above has the counts."


def agent_server(start_server, tmp_path, replies=None, delay_ms=0, llm=True):
    """A server on a fresh log and warehouse, with the test agents and a scripted model (or none)."""
    warehouse = tmp_path / "warehouse.db"
    if not warehouse.exists():
        result = subprocess.run([str(BINARY), "sample-warehouse", "--sqlite", str(warehouse)],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
    agents = tmp_path / "agents"
    agents.mkdir(exist_ok=True)
    for name, text in AGENTS.items():
        (agents / f"{name}.yaml").write_text(text)
    config = {
        "policy": str(POLICY),
        "connections": {"warehouse": {"url": f"sqlite:{warehouse}"}},
        "agents": str(agents),
    }
    if llm:
        script = tmp_path / "script.yaml"
        script.write_text(json.dumps({"replies": replies, "delay_ms": delay_ms}))  # JSON is YAML
        config["llm"] = {"provider": "scripted", "script": str(script)}
    config_file = tmp_path / "glassbox.yaml"
    config_file.write_text(json.dumps(config))
    return start_server("--config", str(config_file))


@pytest.fixture
def browser():
    driver = make_browser()
    yield driver
    driver.quit()


def act_as(driver, principal):
    field = driver.find_element(By.ID, "acting-as")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(principal)
    wait_until(lambda: driver.execute_script("return window.glassbox.actingAs.get()") == principal, timeout=2,
               message=f"acting as {principal}")


def start_run(driver, server, agent, question):
    """Opens the New-run form, picks the agent, asks, and waits for the run's own view."""
    driver.find_element(By.ID, "new-run-button").click()
    WebDriverWait(driver, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, f'#new-run-agent option[value="{agent}"]'))
    Select(driver.find_element(By.ID, "new-run-agent")).select_by_value(agent)
    description = driver.find_element(By.ID, "new-run-agent-description").text
    assert AGENTS[agent].split("description: ")[1].split("\n")[0] in description, description
    driver.find_element(By.ID, "new-run-input").send_keys(question)
    driver.find_element(By.ID, "new-run-start").click()
    run_id = wait_until(lambda: (h := driver.execute_script("return location.hash")).startswith("#/runs/") and h[7:],
                        timeout=5, message="the new run's view")
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#run-transcript .tx-task'),
                                    message="the run's task in the transcript")
    return run_id


def status(driver):
    return driver.execute_script("return document.querySelector('#run-status .status')?.dataset.status")


def text(driver, css):
    return driver.execute_script("const e = document.querySelector(arguments[0]); return e ? e.innerText : ''", css)


def events_of(server, run_id):
    return server.get(f"/api/v1/runs/{run_id}/events")["events"]


def test_a_run_from_the_form_shows_thoughts_tool_call_and_answer(start_server, tmp_path, browser):
    server = agent_server(start_server, tmp_path, replies=[
        {"text": "I will count the customers per country first.",
         "tool_calls": [{"name": "sql.query", "arguments": {"connection": "warehouse", "sql": COUNT_SQL}}]},
        {"text": ANSWER},
    ])
    browser.get(server.url + "/")
    wait_connected(browser)
    run_id = start_run(browser, server, "e2e-analyst", "How many customers per country?")

    # The answer, prominently, once run.completed is in; before it the thoughts, the model calls and the tool call.
    WebDriverWait(browser, 15).until(lambda d: status(d) == "completed", message="run completed")
    assert ANSWER in text(browser, '#run-outcome [data-testid="run-answer"]')
    assert "How many customers per country?" in text(browser, '#run-transcript [data-testid="run-task"]')
    assert browser.find_elements(By.CSS_SELECTOR, '#run-badges [data-testid="scripted-badge"]'), "scripted badge"
    # Thoughts of one model call read as one paragraph, however many batches they came in.
    first_call = browser.find_element(By.CSS_SELECTOR, "#run-transcript .tx-llm")
    paragraphs = first_call.find_elements(By.CSS_SELECTOR, ".tx-thought")
    assert len(paragraphs) == 1 and paragraphs[0].text.strip() == "I will count the customers per country first.", \
        [p.text for p in paragraphs]
    assert first_call.get_attribute("data-status") == "done"
    assert "finish tool_calls" in first_call.text and "tok" in first_call.text, first_call.text
    tool = browser.find_element(By.CSS_SELECTOR, '#run-transcript .tx-tool[data-tool="sql.query"]')
    assert tool.get_attribute("data-status") == "completed", tool.text
    assert "allowed" in tool.text and "completed" in tool.text, tool.text
    calls = browser.find_elements(By.CSS_SELECTOR, "#run-transcript .tx-llm")
    assert len(calls) == 2 and calls[1].get_attribute("data-status") == "done"
    # The transcript follows the log's order: task, model call, tool call, model call, end.
    kinds = browser.execute_script("return [...document.querySelectorAll('#run-transcript > .tx-entry')].map(e => e.dataset.kind)")
    assert kinds == ["task", "llm", "tool", "llm", "end"], kinds

    # What the page shows is what the log says.
    events = events_of(server, run_id)
    types = [e["type"] for e in events]
    assert "agent.thought" in types and types[-1] == "run.completed", types
    started = next(e for e in events if e["type"] == "run.started")
    assert started["data"]["caller"] == "user:alice" and started["data"]["provider"] == "scripted"

    # The answer text and the tool calls a model call asked for open on demand.
    first_call.find_element(By.CSS_SELECTOR, ".tx-requested-calls summary").click()
    assert COUNT_SQL in first_call.find_element(By.CSS_SELECTOR, ".tx-requested-calls pre.json").text
    screenshot(browser, "agents-run-1280")
    assert console_errors(browser) == []


def test_approval_from_the_run_view_completes_the_run(start_server, tmp_path, browser):
    server = agent_server(start_server, tmp_path, replies=[
        {"text": "Deleting the stale churn labels.",
         "tool_calls": [{"name": "sql.execute", "arguments": {"connection": "warehouse", "sql": "DELETE FROM churn_labels"}}]},
        {"text": "Deleted the churn labels."},
    ])
    browser.get(server.url + "/")
    wait_connected(browser)
    act_as(browser, "user:dana")  # an admin: destructive SQL is hers to ask for, and another admin's to approve
    run_id = start_run(browser, server, "e2e-cleaner", "Delete the stale churn labels")

    approve = WebDriverWait(browser, 15).until(
        lambda d: d.find_element(By.CSS_SELECTOR, '#run-transcript [data-testid="approve-button"]'),
        message="the Approve button")
    WebDriverWait(browser, 5).until(lambda d: status(d) == "waiting_for_approval")
    card = browser.find_element(By.CSS_SELECTOR, '#run-transcript .approval-card[data-status="pending"]')
    assert "sql.execute" in card.text and "role:admin" in card.text, card.text
    assert "DELETE FROM churn_labels" in card.find_element(By.CSS_SELECTOR, "pre.json").text
    tool = browser.find_element(By.CSS_SELECTOR, '#run-transcript .tx-tool[data-tool="sql.execute"]')
    assert tool.get_attribute("data-status") == "waiting"
    # The counter next to the views knows too.
    wait_until(lambda: browser.find_element(By.CSS_SELECTOR, '[data-testid="approvals-count"]').text == "1", timeout=5,
               message="approvals counter 1")
    screenshot(browser, "agents-approval-1280")

    # Nobody approves their own call: the server says so, and the page shows its words.
    approve.click()
    error = WebDriverWait(browser, 5).until(
        lambda d: (e := d.find_element(By.CSS_SELECTOR, '#run-transcript [data-testid="approval-error"]')).is_displayed() and e)
    assert "user:dana" in error.text, error.text
    assert browser.find_element(By.CSS_SELECTOR, '#run-transcript [data-testid="approve-button"]').is_enabled()

    act_as(browser, "user:sam")
    browser.find_element(By.CSS_SELECTOR, '#run-transcript [data-testid="approval-comment"]').send_keys("ticket 4711")
    browser.find_element(By.CSS_SELECTOR, '#run-transcript [data-testid="approve-button"]').click()
    WebDriverWait(browser, 15).until(lambda d: status(d) == "completed", message="run completed after the approval")
    assert not browser.find_elements(By.CSS_SELECTOR, '#run-transcript [data-testid="approve-button"]')
    decision = text(browser, '#run-transcript [data-testid="approval-decision"]')
    assert "approved" in decision and "user:sam" in decision and "ticket 4711" in decision, decision
    assert browser.find_element(By.CSS_SELECTOR, '#run-transcript .tx-tool[data-tool="sql.execute"]').get_attribute("data-status") == "completed"
    assert "Deleted the churn labels." in text(browser, '#run-outcome [data-testid="run-answer"]')
    wait_until(lambda: browser.find_element(By.CSS_SELECTOR, '[data-testid="approvals-count"]').text == "", timeout=5,
               message="approvals counter cleared")

    granted = [e for e in events_of(server, run_id) if e["type"] == "approval.granted"]
    assert len(granted) == 1 and granted[0]["data"]["decidedBy"] == "user:sam", granted
    assert granted[0]["data"].get("comment") == "ticket 4711"
    screenshot(browser, "agents-approved-1280")

    # The Approvals view lists the decision.
    browser.get(server.url + "/#/approvals")
    WebDriverWait(browser, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#approvals-decided tr[data-status="granted"]'))
    assert not browser.find_elements(By.CSS_SELECTOR, '#approvals-pending .approval-card')
    assert console_errors(browser, allow=("403",)) == []


def test_approvals_view_decides_and_reports_refusals(start_server, tmp_path, browser):
    server = agent_server(start_server, tmp_path, replies=[
        {"text": "Deleting.", "tool_calls": [{"name": "sql.execute", "arguments": {"connection": "warehouse", "sql": "DELETE FROM churn_labels"}}]},
        {"text": "Nothing was deleted: the call was rejected."},
    ])
    browser.get(server.url + "/")
    wait_connected(browser)
    act_as(browser, "user:dana")
    run_id = start_run(browser, server, "e2e-cleaner", "Delete the churn labels")
    WebDriverWait(browser, 15).until(lambda d: status(d) == "waiting_for_approval")

    browser.find_element(By.CSS_SELECTOR, '[data-testid="nav-approvals"]').click()
    card = WebDriverWait(browser, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, '#approvals-pending .approval-card'))
    assert run_id[:8] in card.text and "DELETE FROM churn_labels" in card.text, card.text
    # user:bob is no admin: his approval is refused, with the server's reason.
    act_as(browser, "user:bob")
    card.find_element(By.CSS_SELECTOR, '[data-testid="approve-button"]').click()
    error = WebDriverWait(browser, 5).until(
        lambda d: (e := d.find_element(By.CSS_SELECTOR, '#approvals-pending [data-testid="approval-error"]')).is_displayed() and e)
    assert "user:bob" in error.text, error.text
    act_as(browser, "user:sam")
    card.find_element(By.CSS_SELECTOR, '[data-testid="approval-comment"]').send_keys("not in production")
    card.find_element(By.CSS_SELECTOR, '[data-testid="reject-button"]').click()
    WebDriverWait(browser, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#approvals-decided tr[data-status="rejected"]'))
    assert not browser.find_elements(By.CSS_SELECTOR, '#approvals-pending .approval-card')
    screenshot(browser, "agents-approvals-1280")

    browser.get(server.url + f"/#/runs/{run_id}")
    WebDriverWait(browser, 15).until(lambda d: status(d) in ("completed", "failed"), message="run ended after the rejection")
    tool = browser.find_element(By.CSS_SELECTOR, '#run-transcript .tx-tool[data-tool="sql.execute"]')
    assert tool.get_attribute("data-status") == "denied", tool.text
    assert "rejected" in text(browser, '#run-transcript [data-testid="approval-decision"]')
    assert console_errors(browser, allow=("403",)) == []


def test_stop_ends_a_slow_run(start_server, tmp_path, browser):
    server = agent_server(start_server, tmp_path, delay_ms=60000, replies=[{"text": "This answer comes too late."}])
    browser.get(server.url + "/")
    wait_connected(browser)
    act_as(browser, "user:frank")
    run_id = start_run(browser, server, "e2e-analyst", "Take your time")
    WebDriverWait(browser, 5).until(lambda d: status(d) == "running")
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, '#run-transcript .tx-llm[data-status="waiting"]'))

    stop = WebDriverWait(browser, 5).until(lambda d: (b := d.find_element(By.ID, "stop-button")).is_enabled() and b)
    stop.click()
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.ID, "stop-result").get_attribute("data-state") in ("ok", "error"))
    assert browser.find_element(By.ID, "stop-result").get_attribute("data-state") == "ok", text(browser, "#stop-result")
    WebDriverWait(browser, 10).until(lambda d: status(d) == "cancelled", message="run cancelled within seconds")
    outcome = text(browser, "#run-outcome")
    assert "Cancelled" in outcome and "user:frank" in outcome, outcome
    assert not browser.find_element(By.ID, "stop-button").is_enabled()
    assert "stopping" not in browser.find_element(By.ID, "stop-button").text
    # The model call that was cut off says so.
    assert browser.find_element(By.CSS_SELECTOR, "#run-transcript .tx-llm").get_attribute("data-status") != "waiting"

    events = events_of(server, run_id)
    stops = [e for e in events if e["type"] == "run.stop_requested"]
    assert len(stops) == 1 and stops[0]["data"]["requestedBy"] == "user:frank", stops
    assert events[-1]["type"] == "run.cancelled", [e["type"] for e in events]
    screenshot(browser, "agents-stopped-1280")
    assert console_errors(browser) == []


def test_without_a_model_the_form_says_why_and_the_run_fails_at_once(start_server, tmp_path, browser):
    if any(os.environ.get(name) for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GLASSBOX_LLM_PROVIDER")):
        pytest.skip("a model is configured in this environment")
    server = agent_server(start_server, tmp_path, llm=False)
    llm = server.get("/api/v1/agents")["llm"]
    assert llm["configured"] is False and llm["problem"], llm
    browser.get(server.url + "/#/new")
    wait_connected(browser)
    notice = WebDriverWait(browser, 5).until(
        lambda d: (e := d.find_element(By.ID, "new-run-llm")).is_displayed() and e.get_attribute("data-state") == "unconfigured" and e)
    assert llm["problem"] in notice.text, notice.text
    Select(browser.find_element(By.ID, "new-run-agent")).select_by_value("e2e-analyst")
    browser.find_element(By.ID, "new-run-input").send_keys("Anything")
    browser.find_element(By.ID, "new-run-input").send_keys(Keys.CONTROL, Keys.ENTER)
    WebDriverWait(browser, 10).until(lambda d: status(d) == "failed", message="run failed at once")
    assert "no_model" in text(browser, "#run-outcome"), text(browser, "#run-outcome")
    assert console_errors(browser, allow=("404",)) == []


def test_agent_screens_at_phone_width(start_server, tmp_path):
    """The form, a run waiting for approval and the Approvals view fit a phone (look at the screenshots)."""
    server = agent_server(start_server, tmp_path, replies=[
        {"text": "Deleting the stale churn labels.",
         "tool_calls": [{"name": "sql.execute", "arguments": {"connection": "warehouse", "sql": "DELETE FROM churn_labels"}}]},
        {"text": "Done."},
    ])
    driver = make_browser(390, 844)
    try:
        resize(driver, 390, 844)
        driver.get(server.url + "/#/new")
        wait_connected(driver)
        act_as(driver, "user:dana")
        WebDriverWait(driver, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#new-run-agent option[value="e2e-cleaner"]'))
        Select(driver.find_element(By.ID, "new-run-agent")).select_by_value("e2e-cleaner")
        driver.find_element(By.ID, "new-run-input").send_keys("Delete the stale churn labels")
        screenshot(driver, "agents-new-run-390")
        assert_fits(driver)
        driver.find_element(By.ID, "new-run-start").click()
        WebDriverWait(driver, 15).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#run-transcript [data-testid="approve-button"]'))
        time.sleep(0.3)
        screenshot(driver, "agents-run-390")
        assert_fits(driver)
        driver.get(server.url + "/#/approvals")
        WebDriverWait(driver, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#approvals-pending .approval-card"))
        screenshot(driver, "agents-approvals-390")
        assert_fits(driver)
        assert console_errors(driver) == []
    finally:
        driver.quit()


def assert_fits(driver):
    widths = driver.execute_script(
        "const m = document.querySelector('main');"
        "return {body: document.body.scrollWidth, main: m.scrollWidth, mainClient: m.clientWidth, inner: window.innerWidth}")
    assert widths["body"] <= widths["inner"] and widths["main"] <= widths["mainClient"], widths
