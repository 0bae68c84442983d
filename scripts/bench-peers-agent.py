#!/usr/bin/env python3
"""LangGraph's prebuilt ReAct agent on an instant fake chat model: the peer of agent-bench.

A step is one model call and one tool call. The fake model answers every run with a call of
a no-op tool until the run has `steps` tool results, then with a final text answer; it returns
at once, so what is timed is the framework: graph, state, messages, tool node, checkpointer.

Measured twice, with the in-memory checkpointer (MemorySaver) and with the SQLite checkpointer
(langgraph-checkpoint-sqlite, on a file in a temporary directory, with the library's own
settings: it turns on WAL and leaves `synchronous` at SQLite's default, reported as read back
from its connection):
  - µs per step of one run of `steps` steps, median and p99 over `--runs` runs (sync `invoke`,
    SqliteSaver for SQLite);
  - steps/s with 50 runs at once (asyncio, `ainvoke`, AsyncSqliteSaver for SQLite), the
    median of `--rounds` rounds.
LangGraph's default durability ("async": a step's checkpoint is written while the next step
runs, and all are written before the run returns) unless `--durability` says otherwise.
Every run has its own thread_id and is checked: the last message is the fake final answer and
there are exactly `steps` tool results, each the tool's output.

Prints one JSON object. Run through scripts/bench-agent, which installs the packages into
.venv-bench and prints the ratios to Glassbox's agent-bench measured in the same run.
  bench-peers-agent.py [--steps N] [--runs N] [--rounds N] [--durability async|sync|exit]
"""
import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from importlib.metadata import version

import aiosqlite
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.tools import StructuredTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.checkpoint.memory import MemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.prebuilt import create_react_agent

CONCURRENT = 50  # runs at once, as the issue sets
FINAL_ANSWER = "done: the table has 10 rows"
TOOL_OUTPUT = "ok"


class LoopbackChatModel(BaseChatModel):
    """A chat model that answers at once: a tool call while the conversation has fewer than
    `steps` tool results, then a final answer. It reads its turn from the messages, so any
    number of runs can share it."""

    steps: int

    @property
    def _llm_type(self) -> str:
        return "loopback"

    def bind_tools(self, tools, *, tool_choice=None, **kwargs):
        # What a real provider does: the tools' schemas travel with every call.
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _answer(self, messages) -> ChatResult:
        done = sum(1 for m in messages if isinstance(m, ToolMessage))
        if done < self.steps:
            call = {"name": "noop", "args": {"table": "orders", "limit": 10},
                    "id": f"call-{uuid.uuid4().hex[:12]}", "type": "tool_call"}
            message = AIMessage(content="", tool_calls=[call])
        else:
            message = AIMessage(content=FINAL_ANSWER)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        return self._answer(messages)

    # Without this, BaseChatModel runs _generate on a thread pool: a cost no real async provider has.
    async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs):
        return self._answer(messages)


def _noop(table: str, limit: int = 10) -> str:
    return TOOL_OUTPUT


async def _anoop(table: str, limit: int = 10) -> str:
    return TOOL_OUTPUT


# Both bodies, so that ainvoke does not hop to a thread pool for a sync-only tool.
noop = StructuredTool.from_function(func=_noop, coroutine=_anoop, name="noop", description="Does nothing.")


def build(steps, checkpointer):
    with warnings.catch_warnings():
        # create_react_agent is deprecated in favour of langchain.agents.create_agent; it is still
        # LangGraph's own prebuilt agent, the one the comparison names.
        warnings.simplefilter("ignore")
        return create_react_agent(LoopbackChatModel(steps=steps), [noop], checkpointer=checkpointer)


def run_input(i):
    return {"messages": [{"role": "user", "content": f"How many rows has table orders? ({i})"}]}


def run_config(steps):
    # Each run its own thread, so no run reads another's checkpoints.
    return {"configurable": {"thread_id": uuid.uuid4().hex}, "recursion_limit": 2 * steps + 5}


def check(out, steps):
    messages = out["messages"]
    last = messages[-1]
    tool_results = [m for m in messages if isinstance(m, ToolMessage)]
    if not (isinstance(last, AIMessage) and last.content == FINAL_ANSWER and not last.tool_calls):
        sys.exit(f"bench-peers-agent: the run did not end with the final answer: {last!r}")
    if len(tool_results) != steps or any(m.content != TOOL_OUTPUT for m in tool_results):
        sys.exit(f"bench-peers-agent: expected {steps} tool results '{TOOL_OUTPUT}', got "
                 f"{[m.content for m in tool_results]}")


def single_run(app, steps, runs, durability):
    """µs per step of one run at a time: median and p99 over `runs` runs, after a warm-up."""
    for i in range(max(5, runs // 10)):
        check(app.invoke(run_input(i), run_config(steps), durability=durability), steps)
    per_step = []
    for i in range(runs):
        config = run_config(steps)
        start = time.perf_counter_ns()
        out = app.invoke(run_input(i), config, durability=durability)
        per_step.append((time.perf_counter_ns() - start) / 1000 / steps)
        check(out, steps)
    per_step.sort()
    return statistics.median(per_step), per_step[min(len(per_step) - 1, int(len(per_step) * 0.99))]


async def concurrent_runs(app, steps, concurrent, rounds, durability):
    """steps/s with `concurrent` runs at once, median of `rounds` rounds, after a warm-up round."""

    async def one(i):
        check(await app.ainvoke(run_input(i), run_config(steps), durability=durability), steps)

    rates = []
    for r in range(rounds + 1):
        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(concurrent)))
        if r > 0:
            rates.append(concurrent * steps / (time.perf_counter() - start))
    return statistics.median(rates)


SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


def fsync_rate(directory):
    """fsyncs per second of a small file in `directory`, over about one second."""
    path = os.path.join(directory, "fsync-probe")
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o644)
    try:
        count, start = 0, time.perf_counter()
        while time.perf_counter() - start < 1:
            os.pwrite(fd, b"\1", 0)
            os.fsync(fd)
            count += 1
        return count / (time.perf_counter() - start)
    finally:
        os.close(fd)
        os.unlink(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="tool-calling steps per run (default 20)")
    parser.add_argument("--runs", type=int, default=100, help="runs timed one at a time (default 100)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of concurrent runs (default 3)")
    parser.add_argument("--durability", choices=["async", "sync", "exit"], default="async",
                        help="LangGraph's durability mode (default: its default, async)")
    args = parser.parse_args()
    if min(args.steps, args.runs, args.rounds) < 1:
        sys.exit("bench-peers-agent: --steps, --runs and --rounds must be at least 1")

    result = {"steps": args.steps, "runs": args.runs, "concurrent": CONCURRENT,
              "langgraph_durability": args.durability}

    memory = MemorySaver()
    app = build(args.steps, memory)
    median, p99 = single_run(app, args.steps, args.runs, args.durability)
    rate = asyncio.run(concurrent_runs(app, args.steps, CONCURRENT, args.rounds, args.durability))
    result["memory"] = {"us_per_step_median": median, "us_per_step_p99": p99,
                        "steps_per_s_50_runs": rate}

    with tempfile.TemporaryDirectory(prefix="langgraph-agent-bench") as directory:
        result["fsync_per_s"] = fsync_rate(directory)

        conn = sqlite3.connect(os.path.join(directory, "single.db"), check_same_thread=False)
        try:
            saver = SqliteSaver(conn)
            saver.setup()
            synchronous = SYNCHRONOUS.get(conn.execute("PRAGMA synchronous").fetchone()[0], "?")
            journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
            median, p99 = single_run(build(args.steps, saver), args.steps, args.runs, args.durability)
        finally:
            conn.close()

        async def sqlite_concurrent():
            async with aiosqlite.connect(os.path.join(directory, "concurrent.db")) as aconn:
                saver = AsyncSqliteSaver(aconn)
                await saver.setup()
                async with aconn.execute("PRAGMA synchronous") as cursor:
                    async_synchronous = SYNCHRONOUS.get((await cursor.fetchone())[0], "?")
                async with aconn.execute("PRAGMA journal_mode") as cursor:
                    async_journal = (await cursor.fetchone())[0]
                rate = await concurrent_runs(build(args.steps, saver), args.steps, CONCURRENT,
                                             args.rounds, args.durability)
                return rate, async_synchronous, async_journal

        rate, async_synchronous, async_journal = asyncio.run(sqlite_concurrent())
        if (async_synchronous, async_journal) != (synchronous, journal):
            synchronous = f"{synchronous} (SqliteSaver), {async_synchronous} (AsyncSqliteSaver)"
            journal = f"{journal} (SqliteSaver), {async_journal} (AsyncSqliteSaver)"
        result["sqlite"] = {"us_per_step_median": median, "us_per_step_p99": p99,
                            "steps_per_s_50_runs": rate,
                            "synchronous": synchronous, "journal_mode": journal}

    result["versions"] = {name: version(name) for name in
                          ["langgraph", "langgraph-prebuilt", "langgraph-checkpoint",
                           "langgraph-checkpoint-sqlite", "langchain-core", "aiosqlite"]}
    result["versions"]["python"] = sys.version.split()[0]
    result["versions"]["sqlite"] = sqlite3.sqlite_version
    print(json.dumps(result))


if __name__ == "__main__":
    main()
