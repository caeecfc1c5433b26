"""``llmkit bench`` as a CI gate: exit codes, early checks, signals, secrets, queueing."""

from __future__ import annotations

import base64
import csv
import http.server
import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmkit.cli._main import cli
from llmkit.engine import EngineConfig, EngineHandle, Faults

MakeEngine = Callable[..., EngineHandle]
KEY = "sk-echoed-secret-0042"
PASSWORD = "url-pass-7781"


def bench(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, ["bench", *args], catch_exceptions=False)
    return res.exit_code, res.stdout, res.stderr


def _one_line_error(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip() and "━" not in ln]
    assert "Traceback" not in err
    errors = [ln for ln in lines if ln.startswith("error:")]
    assert len(errors) == 1, err
    return errors[0]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_closed_port_wrong_model_and_wrong_key_exit_2(bench_engine: MakeEngine) -> None:
    eng = bench_engine(EngineConfig.zero_delay(api_key=KEY))
    closed = f"http://127.0.0.1:{_closed_port()}/v1"
    cases = [
        ("--base-url", closed, "--model", "m"),
        ("--base-url", eng.base_url, "--api-key", KEY, "--model", "no-such-model"),
        ("--base-url", eng.base_url, "--api-key", "sk-wrong", "--model", "llmkit-sim"),
    ]
    for case in cases:
        code, _, err = bench(*case, "-n", "3", "--max-tokens", "2")
        assert code == 2, (case, err)  # the URL, model or key given cannot be used
        line = _one_line_error(err)
        assert "3 of 3 failed" in line and "no successful request" in line
        assert KEY not in err


@pytest.mark.slow
def test_max_error_rate(bench_engine: MakeEngine) -> None:
    eng = bench_engine(EngineConfig.zero_delay(faults=Faults(script=("500",))))
    args = ("--base-url", eng.base_url, "-n", "4", "--max-tokens", "2")
    code, _, err = bench(*args, "--max-error-rate", "10%")  # 1 of 4 failed: 25%
    assert code == 1 and "1 of 4 failed" in _one_line_error(err)
    assert "above --max-error-rate 10%" in err
    eng2 = bench_engine(EngineConfig.zero_delay(faults=Faults(script=("500",))))
    code, _, err = bench("--base-url", eng2.base_url, "-n", "4", "--max-tokens", "2",
                         "--max-error-rate", "0.3")  # fmt: skip
    assert code == 0, err
    code, _, err = bench(*args, "--max-error-rate", "150%")
    assert code == 2 and "--max-error-rate" in err


def test_unwritable_output_and_binary_prompt_file_fail_before_sending(
    bench_engine: MakeEngine, tmp_path: Path
) -> None:
    eng = bench_engine(EngineConfig.zero_delay())
    code, _, err = bench("--base-url", eng.base_url, "-n", "2", "-o", "/dev/null/x")
    assert code == 2 and "/dev/null/x" in _one_line_error(err)
    assert len(err.splitlines()) == 1, repr(err)  # no empty progress line above it
    binary = tmp_path / "prompts.jsonl"
    binary.write_bytes(bytes(range(256)) * 4)
    code, _, err = bench("--base-url", eng.base_url, "-n", "2", "--prompt-file", str(binary))
    assert code == 2 and "not UTF-8" in _one_line_error(err)
    assert len(err.splitlines()) == 1, repr(err)
    assert eng.send_log() == []  # nothing was sent


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stop_signal_writes_what_was_measured(
    bench_engine: MakeEngine, tmp_path: Path, sig: signal.Signals, code: int
) -> None:
    """CI's cancel (SIGTERM) and Ctrl-C (SIGINT) alike: what was measured is written."""
    eng = bench_engine(EngineConfig.slow(100.0))
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmkit", "bench", "--base-url", eng.base_url, "-c", "2",
         "-n", "10000", "--max-tokens", "5", "-o", str(out), "--no-plots"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(eng.send_log()) < 40:
        time.sleep(0.1)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == code, err.decode()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["run"]["interrupted"] is True
    assert summary["run"]["stopped_by"] == sig.name
    (level,) = summary["levels"]
    assert level["interrupted"] and level["requests"]["ok"] >= 3
    assert level["requests"]["failed"] == 0
    rows = list(csv.DictReader((out / "requests.csv").open()))
    assert sum(r["status"] == "ok" for r in rows) == level["requests"]["ok"]


class _Echo(http.server.BaseHTTPRequestHandler):
    """A proxy gone wrong: every error body quotes the request's credentials."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({
            "error": f"denied {self.headers.get('Authorization')} "
                     f"at http://user:{PASSWORD}@127.0.0.1/v1 key={KEY}",
        }).encode()  # fmt: skip
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://user:{PASSWORD}@127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_echoed_key_and_url_credentials_are_redacted_everywhere(
    echo_server: str, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    code, stdout, err = bench("--base-url", echo_server, "--api-key", KEY, "--model", "m",
                              "-n", "3", "-o", str(out), "--no-plots")  # fmt: skip
    assert code == 2  # every request refused the key
    rows = list(csv.DictReader((out / "requests.csv").open()))
    assert len(rows) == 3 and all(r["status"] == "http_401" for r in rows)
    assert all("denied" in r["error_detail"] and "***" in r["error_detail"] for r in rows), rows
    written = [f.read_bytes().decode("latin-1") for f in out.iterdir()] + [stdout, err]
    for text in written:
        assert KEY not in text and PASSWORD not in text


@pytest.mark.slow
def test_queue_wait_counts_against_slo_and_warns(bench_engine: MakeEngine) -> None:
    # One slot, answers of >= 0.45 s, six requests due within ~0.1 s: the later ones
    # wait client-side for seconds, and that wait is the users' wait too.
    eng = bench_engine(EngineConfig.slow(20.0))
    res = CliRunner().invoke(
        cli,
        ["bench", "--base-url", eng.base_url, "--rate", "100", "--burstiness", "50",
         "--max-concurrency", "1", "-n", "6", "--max-tokens", "10", "--ignore-eos",
         "--slo", "ttft=400ms", "--json"],
        catch_exceptions=False,
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    (level,) = json.loads(res.stdout)["levels"]
    assert level["requests"]["ok"] == 6
    wait = level["queue_wait_ms"]
    assert wait["max"] >= 4 * 450  # the sixth waited for five whole answers
    ttft, sched = level["ttft_ms"], level["ttft_scheduled_ms"]
    assert sched["max"] >= ttft["max"] + 4 * 450
    # at most the first two started within 400 ms of their scheduled time
    assert level["goodput"]["met"] <= 2 and level["goodput"]["share"] <= 2 / 6
    assert level["load"]["achieved_rate"] < 0.9 * level["load"]["scheduled_rate"]
    (warning,) = [w for w in level["client"]["warnings"] if "queue wait" in w]
    assert "--max-concurrency 1" in warning and "scheduled" in warning


def test_find_max_stays_within_the_levels_given(bench_engine: MakeEngine) -> None:
    eng = bench_engine(EngineConfig.zero_delay())
    code, stdout, _ = bench("--base-url", eng.base_url, "-c", "1,2", "-n", "2",
                            "--max-tokens", "2", "--slo", "ttft=10s", "--find-max", "--json")  # fmt: skip
    assert code == 0
    fm = json.loads(stdout)["find_max"]
    assert max(t["value"] for t in fm["tried"]) == 2 and fm["best"] == 2
    code, stdout, _ = bench("--help")
    words = " ".join(stdout.split())
    assert "--find-max-limit" in words and "the highest -c/--rate level given" in words


def test_tables_fold_instead_of_cutting_at_80_columns(
    bench_engine: MakeEngine, tmp_path: Path
) -> None:
    eng = bench_engine(EngineConfig.slow(400.0))
    out = tmp_path / "run"
    res = CliRunner(env={"COLUMNS": "80"}).invoke(
        cli,
        ["bench", "--base-url", eng.base_url, "-c", "1,2", "-n", "12", "--max-tokens", "4",
         "--slo", "ttft=1ms", "-o", str(out), "--no-plots"],
        catch_exceptions=False,
    )  # fmt: skip
    assert res.exit_code == 0
    assert "…" not in res.stdout and max(map(len, res.stdout.splitlines())) <= 80
    for word in ("TTFT", "p50", "ITL per token", "queue wait", "SLO met", "c=2"):
        assert word in res.stdout
    res = CliRunner(env={"COLUMNS": "80"}).invoke(
        cli, ["bench", "compare", str(out), str(out), "-m", "ttft_ms.p99,e2e_ms.p50"]
    )
    assert res.exit_code == 0, res.stderr
    assert "…" not in res.stdout and "insufficient" in res.stdout


def test_run_bench_gives_the_host_its_sigterm_handler_back(bench_engine: MakeEngine) -> None:
    from llmkit.bench import BenchConfig, run_bench

    eng = bench_engine(EngineConfig.zero_delay())

    def host_handler(signum: int, frame: object) -> None:
        pass

    old = signal.signal(signal.SIGTERM, host_handler)
    try:
        result = run_bench(BenchConfig(base_url=eng.base_url, requests=2, max_tokens=2))
        assert result.levels[0].ok == 2 and result.stopped_by is None
        assert signal.getsignal(signal.SIGTERM) is host_handler
    finally:
        signal.signal(signal.SIGTERM, old)


def test_url_credentials_echoed_as_basic_auth_are_redacted(
    echo_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With no --api-key, aiohttp sends the URL's user:password as ``Basic base64(...)``;
    # a proxy that echoes the header must not leak it in that form either.
    for name in ("LLMKIT_BENCH_API_KEY", "LLMKIT_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    basic = base64.b64encode(f"user:{PASSWORD}".encode()).decode()
    out = tmp_path / "run"
    code, stdout, err = bench("--base-url", echo_server, "--model", "m",
                              "-n", "2", "-o", str(out), "--no-plots")  # fmt: skip
    assert code == 2  # every request refused the credentials
    rows = list(csv.DictReader((out / "requests.csv").open()))
    assert len(rows) == 2 and all("denied" in r["error_detail"] for r in rows), rows
    written = [f.read_bytes().decode("latin-1") for f in out.iterdir()] + [stdout, err]
    for text in written:
        assert basic not in text and PASSWORD not in text


@pytest.mark.slow
def test_repeated_sigterm_never_leaves_half_a_report(
    bench_engine: MakeEngine, tmp_path: Path
) -> None:
    # CI cancels and ``timeout`` may signal again while the report is written (plots take
    # a while): the second signal must not kill the writer and leave half the files.
    eng = bench_engine(EngineConfig.slow(100.0))
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmkit", "bench", "--base-url", eng.base_url, "-c", "2",
         "-n", "10000", "--max-tokens", "5", "-o", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(eng.send_log()) < 20:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    # Signal again and again until the report is being written (summary.json comes
    # first, the plots last), then a few times more while the plots are drawn.
    while proc.poll() is None and not (out / "summary.json").exists():
        assert time.monotonic() < deadline + 30
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.02)
    for _ in range(5):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.02)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err.decode()
    assert "interrupted (SIGTERM)" in err.decode() and "wrote" in err.decode()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True
    rows = list(csv.DictReader((out / "requests.csv").open()))
    assert len(rows) == summary["levels"][0]["requests"]["total"]
    assert (out / "latency_distributions.png").exists()
