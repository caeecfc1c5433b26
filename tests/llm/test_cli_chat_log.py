"""``llmkit chat`` and ``llmkit log`` as a user and a CI job run them (issue 8)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hostile import Hostile, ok_chunks

from llmkit.llm import Client

MakeHostile = Callable[..., Hostile]
REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str], **kwargs: Any) -> Any:
    from llmkit.cli._main import cli

    return CliRunner().invoke(cli, args, prog_name="llmkit", **kwargs)


def _chat(url: str, *args: str, model: str = "llmkit-sim") -> list[str]:
    return ["chat", "--base-url", url, "--model", model, "--max-tokens", "12", "--no-log", *args]


@pytest.mark.slow
def test_chat_streams_the_answer_as_it_arrives(make_engine: Callable[..., Any]) -> None:
    eng = make_engine(decode_step_ms=150.0, prefill_ms_per_token=0.0, tokens_per_chunk=1)
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmkit", *_chat(eng.base_url, "Tell me a long story")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert proc.stdout is not None
    first = proc.stdout.read(1)  # blocks until the first byte of the answer is printed
    first_seen_ns = time.perf_counter_ns()
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    sent = [r.t_ns for r in eng.send_log() if r.kind == "output"]
    assert len(sent) >= 3
    # Same clock as the engine's send log: the first word was on screen before the last
    # one was even sent, so the answer streamed rather than printed at the end.
    assert first_seen_ns < sent[-1]
    assert first and b"TTFT=" not in first + rest and b"TTFT=" in err


def test_chat_stdout_is_the_answer_only(hostile: MakeHostile) -> None:
    words = " ".join(f"word{i}" for i in range(60))  # far wider than any terminal
    server = hostile("shape", chunks=ok_chunks(words))
    r = _run(_chat(server.base_url, "Hi", model="m"))
    assert r.exit_code == 0, r.stderr
    assert r.stdout == words + " \n"  # not wrapped, not padded, no markup
    assert "TTFT=" in r.stderr and "finish=stop" in r.stderr


def test_chat_sends_the_system_prompt(hostile: MakeHostile) -> None:
    server = hostile("shape", chunks=ok_chunks("ok"))
    r = _run(_chat(server.base_url, "--system", "You are terse.", "Hi", model="m"))
    assert r.exit_code == 0, r.stderr
    assert server.last_request["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Hi"},
    ]


def test_chat_json_is_one_object(hostile: MakeHostile) -> None:
    server = hostile("shape", chunks=ok_chunks("ok then"))
    r = _run(_chat(server.base_url, "--json", "Hi", model="m"))
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["text"] == "ok then "


def test_chat_on_a_wrong_shaped_chunk_prints_one_line(hostile: MakeHostile) -> None:
    chunks = ok_chunks("fine")
    chunks[0]["choices"][0]["delta"]["content"] = 5
    server = hostile("shape", chunks=chunks)
    r = _run(_chat(server.base_url, "Hi", model="m"))
    assert r.exit_code == 2
    assert "Traceback" not in r.stderr and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "BadResponseError" in lines[0] and "content" in lines[0]


@pytest.mark.slow
def test_chat_deadline_from_the_command_line(hostile: MakeHostile) -> None:
    server_runs_s = 30.0
    server = hostile("comments", interval=0.05, duration=server_runs_s)
    start = time.monotonic()
    r = _run(_chat(server.base_url, "--timeout", "1", "Hi", model="m"))
    # The server would go on for 30 s; half of it is a bound only a missing deadline
    # crosses, however long a busy machine takes to start Python.
    assert time.monotonic() - start < server_runs_s / 2
    assert r.exit_code == 2 and "CallTimeoutError" in r.stderr and "Traceback" not in r.stderr


def test_log_on_a_file_that_is_not_a_database_is_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database\n" * 200)
    r = _run(["log", "--log-path", str(junk)])
    assert r.exit_code == 2
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert str(junk) in r.stderr and "not an llmkit call log" in r.stderr
    assert junk.read_text() == "not a database\n" * 200


def test_log_with_a_typo_creates_nothing(tmp_path: Path) -> None:
    typo = tmp_path / "calsl.db"
    r = _run(["log", "--log-path", str(typo)])
    assert r.exit_code == 2 and "no call log" in r.stderr
    assert not typo.exists()


def test_log_shows_logged_calls(hostile: MakeHostile, tmp_path: Path) -> None:
    server = hostile("shape", chunks=ok_chunks("ok"))
    db = tmp_path / "calls.db"
    with Client(base_url=server.base_url, model="m", log=db) as client:
        client.chat("Hello", template=("triage", "2"))
    r = _run(["log", "--log-path", str(db), "--json"])
    assert r.exit_code == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [(x["prompt_name"], x["prompt_version"]) for x in rows] == [("triage", "2")]


@pytest.mark.slow
def test_chat_misuse_is_exit_2_and_a_failed_call_exit_1(
    monkeypatch: pytest.MonkeyPatch, free_port: int
) -> None:
    for name in ("LLMKIT_MODEL", "OPENAI_MODEL", "LLMKIT_CHAT_MODEL"):
        monkeypatch.delenv(name, raising=False)
    usage = [
        ["chat", "--base-url", "http://127.0.0.1:9/v1", "--no-log", "Hi"],  # no model
        ["chat", "--base-url", "notaurl", "--model", "m", "--no-log", "Hi"],
    ]
    for args in usage:
        r = _run(args)
        assert r.exit_code == 2, (args, r.stderr)
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = _run(_chat(f"http://127.0.0.1:{free_port}/v1", "Hi", model="m"))
    assert r.exit_code == 2 and "ConnectError" in r.stderr


def test_chat_with_an_empty_or_binary_stdin_is_one_line_exit_2(free_port: int) -> None:
    url = f"http://127.0.0.1:{free_port}/v1"
    for data in (b"", b"  \n", bytes(range(256))):
        r = _run(_chat(url, model="m"), input=data)
        assert r.exit_code == 2, (data[:8], r.stderr, r.exception)
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
        assert "prompt" in r.stderr or "UTF-8" in r.stderr
