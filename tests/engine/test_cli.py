"""``llmkit serve`` as a subprocess: ready line, clean shutdown, JSONL send log, bad input."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from llmkit import ConfigError
from llmkit.cli._serve import _build_config, serve
from llmkit.engine import EngineConfig, Faults, config_to_args, read_send_log, start_engine_process
from llmkit.engine._scenarios import default_scenario_text

from ._http import request


def test_serve_process_ready_line_requests_and_clean_stop(tmp_path: Path) -> None:
    log = tmp_path / "send.jsonl"
    cfg = EngineConfig.zero_delay(send_log_path=log, api_key="k", faults=Faults(script=("429",)))
    with start_engine_process(cfg) as server:
        assert re.fullmatch(
            r"llmkit serve: ready on http://127\.0\.0\.1:\d+/v1 \(model llmkit-sim\)",
            server.ready_line,
        )
        auth = {"Authorization": "Bearer k"}
        body = {
            "model": "llmkit-sim",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
            "max_tokens": 5,
        }
        assert request(server.base_url, "/chat/completions", body, headers=auth).status == 429
        reply = request(server.base_url, "/chat/completions", body, headers=auth)
        assert reply.status == 200
        rid = reply.chunks[0]["id"]
        proc = server.proc
    assert proc.returncode == 143  # SIGTERM: the exit-code contract's "terminated"
    records = read_send_log(log)
    assert [r.kind for r in records if r.response_id == rid] == ["role", *["output"] * 5, "done"]
    assert records[0].kind == "error" and records[0].fault == "429"


def test_sigint_exits_cleanly_with_the_interrupted_status() -> None:
    server = start_engine_process(EngineConfig.zero_delay())
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(10) == 130  # the exit-code contract's "interrupted"
    err = server.stderr_text()
    server.stop()
    assert "Traceback" not in err


def test_bad_scenario_fails_cleanly(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules: [{answers: ['{{nosuchpool}}']}]\n")
    with pytest.raises(ConfigError) as info:
        start_engine_process(EngineConfig.zero_delay(scenario=bad))
    assert "nosuchpool" in str(info.value) and "Traceback" not in str(info.value)


@pytest.mark.slow
def test_port_in_use_fails_cleanly() -> None:
    with start_engine_process(EngineConfig.zero_delay()) as first:
        port = int(first.base_url.rsplit(":", 1)[1].split("/")[0])
        done = subprocess.run(
            [sys.executable, "-m", "llmkit", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert (
        done.returncode == 2 and "cannot listen" in done.stderr and "Traceback" not in done.stderr
    )


def test_config_round_trips_through_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(default_scenario_text(), encoding="utf-8")
    cfg = EngineConfig(
        model="m",
        aliases=("a", "b"),
        api_key="key",
        seed=5,
        scenario=tmp_path / "s.yaml",
        tokens_per_chunk=3,
        role_chunk=False,
        prefill_ms_per_token=0.125,
        decode_step_ms=7.5,
        decode_ms_per_seq=0.3,
        decode_ms_per_kv_token=1e-5,
        max_batch=9,
        send_log_path=tmp_path / "log.jsonl",
        faults=Faults(
            http_429=0.1,
            cut=0.2,
            retry_after_s=0.25,
            stall_s=2.0,
            malformed_kinds=("tabs", "fences"),
            script=("429", "ok"),
        ),
    )
    ctx = serve.make_context("serve", ["--host", "127.0.0.1", "--port", "0", *config_to_args(cfg)])
    assert _build_config(ctx.params) == cfg
