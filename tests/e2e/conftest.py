"""Fixtures for end-to-end tests: a real `glassbox serve` on loopback with its own SQLite file."""

import json
import os
import pathlib
import signal
import subprocess
import tempfile
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BINARY = pathlib.Path(os.environ.get("GLASSBOX_BIN", ROOT / ".build" / "debug" / "glassbox"))


class Server:
    """A running `glassbox serve`; `url` is its base URL, `db` its log file."""

    def __init__(self, db, args=()):
        self.db = str(db)
        self.stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [str(BINARY), "serve", "--db", self.db, "--host", "127.0.0.1", "--port", "0",
             "--dashboard", str(ROOT / "dashboards" / "web"), *args],
            stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        line = self.process.stdout.readline()
        if "serving" not in line:
            self.process.kill()
            self.stderr.seek(0)
            raise RuntimeError(f"glassbox serve did not start: {line!r} {self.stderr.read().decode()}")
        self.url = line.split("serving ", 1)[1].split()[0].rstrip("/")

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.loads(response.read())

    def append(self, *events, batch=1):
        """Appends events (dicts with stream, type, actor, data) through the CLI, as a user would.

        `batch` > 1 lets the CLI commit up to that many consecutive events of one stream at once
        (`--batch`), for tests that append thousands."""
        lines = "".join(json.dumps(event) + "\n" for event in events)
        result = subprocess.run([str(BINARY), "log", "append", "--db", self.db, "--stdin", "--json",
                                 "--batch", str(batch)],
                                input=lines, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def rss_kib(self):
        for line in pathlib.Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def stop(self, timeout=20):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture
def start_server(tmp_path):
    """Starts servers on fresh logs: `start_server("--demo")`; all are stopped after the test."""
    servers = []

    def start(*args, db=None):
        server = Server(db or tmp_path / f"glassbox-{len(servers)}.db", args)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(start_server):
    return start_server()


def wait_until(predicate, timeout=5.0, interval=0.05, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


# --- agent runs (tests/e2e/test_agents_api.py, test_agents_cli.py) -------------------------------

# Variables that would pick a model or a caller behind a test's back; agent tests run without them.
MODEL_VARIABLES = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL",
                   "GLASSBOX_LLM_PROVIDER", "GLASSBOX_LLM_MODEL", "GLASSBOX_LLM_SCRIPT", "GLASSBOX_CALLER", "GLASSBOX_DB")


@pytest.fixture
def agent_config(tmp_path, monkeypatch):
    """Writes a glassbox.yaml for agent runs and returns its path: `agent_config(replies=[…], delay_ms=0)`.

    The configuration has `policy` (examples/policy.yaml), one SQLite sample warehouse per test
    (connection `warehouse`; its file is `agent_config.warehouse`), a folder with the `agents`
    given (name → definition YAML), the scripted model with `replies` (no model at all when
    `replies` is None) and `tools.context` from `context`. Every process the test starts (servers,
    CLI) runs without the model variables, so that only the configuration picks the model."""
    for name in MODEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    warehouse = tmp_path / "warehouse.db"
    count = [0]

    def make(replies=None, delay_ms=0, agents=None, context=None, policy=ROOT / "examples" / "policy.yaml"):
        if not warehouse.exists():
            result = subprocess.run([str(BINARY), "sample-warehouse", "--sqlite", str(warehouse)],
                                    capture_output=True, text=True, timeout=120)
            assert result.returncode == 0, result.stderr
        count[0] += 1
        folder = tmp_path / f"agents-{count[0]}"
        folder.mkdir()
        for name, text in (agents or {}).items():
            (folder / f"{name}.yaml").write_text(text)
        config = {"policy": str(policy), "connections": {"warehouse": {"url": f"sqlite:{warehouse}"}}, "agents": str(folder)}
        if context:
            config["tools"] = {"context": context}
        if replies is not None:
            script = tmp_path / f"script-{count[0]}.yaml"
            script.write_text(json.dumps({"replies": replies, "delay_ms": delay_ms}))  # JSON is YAML
            config["llm"] = {"provider": "scripted", "script": str(script)}
        path = tmp_path / f"glassbox-{count[0]}.yaml"
        path.write_text(json.dumps(config))
        return path

    make.warehouse = warehouse
    return make
