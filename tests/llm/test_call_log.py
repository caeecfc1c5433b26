"""The call log never fails a call that succeeded (issue 8), and records prompt templates.

Real processes, real SQLite locks held by another connection, a real non-database file.
"""

from __future__ import annotations

import itertools
import json
import logging
import multiprocessing
import queue
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hostile import Hostile, ok_chunks

import llmkit
from llmkit.llm import CallLog, Client, read_log
from llmkit.llm._log import MIGRATIONS
from llmkit.prompts import load_prompt

MakeHostile = Callable[..., Hostile]
REPO = Path(__file__).resolve().parents[2]


def _row(n: int) -> dict[str, Any]:
    return {
        "started_at": float(n),
        "base_url": "u",
        "request_json": "{}",
        "attempts": 1,
        "attempts_json": "[]",
    }


@pytest.mark.slow
@pytest.mark.parametrize("processes", [24])
def test_many_processes_create_a_fresh_log_at_once(tmp_path: Path, processes: int) -> None:
    ctx = multiprocessing.get_context("forkserver")
    # Children fork from a server that already imported llmkit, so they start together.
    # (Python 3.11's forkserver ignores sys.path, so name a module importable from the root.)
    ctx.set_forkserver_preload(["llmkit.llm"])
    import logworkers

    db = tmp_path / "fresh" / "calls.db"
    barrier = ctx.Barrier(processes)
    results = ctx.Queue()
    workers = [
        ctx.Process(target=logworkers.first_write, args=(str(db), barrier, results, n))
        for n in range(processes)
    ]
    for w in workers:
        w.start()
    outcomes: dict[int, str | None] = {}
    while len(outcomes) < processes:
        try:
            n, err = results.get(timeout=1)
            outcomes[n] = err
        except queue.Empty:
            dead = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            assert not dead, f"workers died with exit codes {dead}"
            assert any(w.is_alive() for w in workers) or not results.empty(), outcomes
    for w in workers:
        w.join(timeout=60)
    failures = {n: err for n, err in outcomes.items() if err}
    assert not failures, (
        f"{len(failures)} of {processes} starts failed: {next(iter(failures.values()))}"
    )
    frame = read_log(db)
    assert sorted(frame["started_at"]) == [float(n) for n in range(processes)]
    assert sqlite3.connect(db).execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def _good_server(hostile: MakeHostile) -> Hostile:
    return hostile("shape", chunks=ok_chunks("fine answer"))


def test_a_writer_holding_the_lock_never_fails_the_call(
    hostile: MakeHostile, tmp_path: Path
) -> None:
    server = _good_server(hostile)
    db = tmp_path / "calls.db"
    client = Client(base_url=server.base_url, model="m", log=db)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock (longer than 5 s)
    try:
        first = client.chat("Hello")  # must not raise 'database is locked'
        assert first.text == "fine answer "
        assert client.call_log is not None and client.call_log.pending == 1
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    second = client.chat("Hello again")  # the kept row goes in with this one
    assert second.text == "fine answer "
    client.close()
    frame = read_log(db)
    assert len(frame) == 2 and list(frame["response_text"]) == ["fine answer "] * 2


def test_a_row_that_can_never_be_written_gives_one_log_message(
    hostile: MakeHostile, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = _good_server(hostile)
    db = tmp_path / "calls.db"
    log = CallLog(db, write_timeout=0.05, flush_timeout=0.2)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with caplog.at_level(logging.WARNING, logger="llmkit.llm"):
            with Client(base_url=server.base_url, model="m", log=log) as client:
                answers = [client.chat("Hello").text for _ in range(3)]
            log.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert answers == ["fine answer "] * 3
    messages = [
        r.getMessage()
        for r in caplog.records
        if r.name == "llmkit.llm" and r.levelno >= logging.WARNING
    ]
    assert len(messages) == 1, messages
    assert "3 call(s) were not written" in messages[0] and "locked" in messages[0]


def test_a_log_path_that_is_not_a_database_does_not_fail_calls(
    hostile: MakeHostile, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = _good_server(hostile)
    junk = tmp_path / "notes.txt"
    junk.write_text("these are my notes, not a database\n" * 100)
    with caplog.at_level(logging.WARNING, logger="llmkit.llm"):
        with Client(base_url=server.base_url, model="m", log=junk) as client:
            answers = [client.chat("Hello").text for _ in range(2)]
    assert answers == ["fine answer "] * 2
    messages = [
        r.getMessage()
        for r in caplog.records
        if r.name == "llmkit.llm" and r.levelno >= logging.WARNING
    ]
    assert len(messages) == 1, messages
    assert "not a database" in messages[0]
    assert junk.read_text().startswith("these are my notes")  # untouched


def test_a_kept_row_is_written_at_exit(tmp_path: Path) -> None:
    """A process that never closes its log still writes the kept row when it exits."""
    db = tmp_path / "calls.db"
    CallLog(db).close()  # create it
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    script = textwrap.dedent(
        f"""
        import sys
        from llmkit.llm import CallLog
        log = CallLog({str(db)!r}, write_timeout=0.05)
        log.append({json.dumps(_row(7))})
        print(log.pending, flush=True)
        sys.stdin.readline()  # the parent releases the lock, then lets us exit
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    assert child.stdout is not None and child.stdin is not None
    assert child.stdout.readline().strip() == "1"  # kept, not written, no error
    holder.execute("ROLLBACK")
    holder.close()
    child.stdin.write("\n")
    child.stdin.close()
    assert child.wait(timeout=60) == 0
    assert list(read_log(db)["started_at"]) == [7.0]


def test_an_old_log_is_migrated_under_the_lock_and_keeps_its_rows(tmp_path: Path) -> None:
    db = tmp_path / "calls.db"
    old = sqlite3.connect(db, isolation_level=None)
    for migration in MIGRATIONS[:2]:
        migration(old)
    old.execute("PRAGMA user_version = 2")
    old.execute(
        "INSERT INTO calls (started_at, base_url, request_json, attempts, attempts_json)"
        " VALUES (1, 'u', '{}', 1, '[]')"
    )
    old.close()
    log = CallLog(db)
    log.append({**_row(2), "prompt_name": "t", "prompt_version": "3"})
    log.close()
    frame = read_log(db)
    assert list(frame["started_at"]) == [1.0, 2.0]
    assert list(frame["prompt_version"].fillna("-")) == ["-", "3"]


def test_calls_record_their_prompt_template(hostile: MakeHostile, tmp_path: Path) -> None:
    server = _good_server(hostile)
    template = load_prompt("support_ticket")
    db = tmp_path / "calls.db"
    with Client(base_url=server.base_url, model="m", log=db) as client:
        client.chat(template.render(message="My order never came."), template=template)
        client.chat("no template")
        client.chat("a pair", template=("triage", "7"))
    frame = read_log(db)
    assert list(frame["prompt_name"].fillna("-")) == ["support_ticket", "-", "triage"]
    assert list(frame["prompt_version"].fillna("-")) == [template.version, "-", "7"]


def test_template_of_the_wrong_kind_is_a_config_error(hostile: MakeHostile) -> None:
    server = _good_server(hostile)
    with Client(base_url=server.base_url, model="m") as client:
        with pytest.raises(llmkit.ConfigError, match="template"):
            client.chat("Hello", template=42)


@pytest.mark.parametrize("content", [None, b"not a database at all" * 50, b""])
def test_read_log_never_creates_a_file_and_names_what_is_wrong(
    tmp_path: Path, content: bytes | None
) -> None:
    path = tmp_path / "calls.db"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(llmkit.ConfigError, match=str(path)):
        read_log(path)
    assert path.exists() == (content is not None)
    if content is not None:
        assert path.read_bytes() == content


def test_async_calls_write_the_log_off_the_event_loop(hostile: MakeHostile, tmp_path: Path) -> None:
    """While another writer holds the log, the async client's wait must not freeze the loop."""
    import asyncio

    from llmkit.llm import AsyncClient

    server = _good_server(hostile)
    db = tmp_path / "calls.db"
    log = CallLog(db, write_timeout=4.0)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.05)

    async def main() -> str:
        task = asyncio.create_task(ticker())
        async with AsyncClient(base_url=server.base_url, model="m", log=log) as client:
            text = (await client.chat("Hello")).text
        task.cancel()
        return text

    try:
        assert asyncio.run(main()) == "fine answer "
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    log.close()
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert ticks[-1] - ticks[0] >= 3.5  # the call waited its 4 s for the lock...
    assert max(gaps) < 2.0  # ...and the loop kept running meanwhile
    assert len(read_log(db)) == 1  # then written at close
