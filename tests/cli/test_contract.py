"""The exit-code contract at the edges: closed pipes, signals, old flag names, named endpoints.

Each test runs a command as a user or a CI job would (a real subprocess where pipes and
signals matter, click's runner elsewhere) and checks the status, and that stderr is one
line and never a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from llmkit.cli._common import ExitCode
from llmkit.cli._main import cli

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "prompts" / "support_ticket.eval.yaml"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _run(args: list[str], **kwargs: Any) -> Result:
    return CliRunner().invoke(cli, args, prog_name="llmkit", **kwargs)


def _error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def _into_a_closed_pipe(args: list[str], stdin: bytes = b"", **env: str) -> tuple[int, str]:
    """Run ``llmkit ARGS`` with stdout a pipe whose reader is already gone."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "llmkit", *args],
            input=stdin,
            stdout=write_end,
            stderr=subprocess.PIPE,
            env={**ENV, **env},
            timeout=120,
        )
    finally:
        os.close(write_end)
    return done.returncode, done.stderr.decode()


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["eval", str(SUITE)], b""),
        (["eval", str(SUITE), "--json"], b""),
        (["parse", "--jsonl"], b'{"text": "{\\"a\\": 1}"}\n' * 50),
        (["annotate", "rubric"], b""),
        (["demo", "--quick"], b""),
    ],
    ids=["eval-table", "eval-json", "parse-jsonl", "annotate-rubric", "demo"],
)
def test_a_closed_pipe_ends_quietly_with_0(args: list[str], stdin: bytes, tmp_path: Path) -> None:
    code, err = _into_a_closed_pipe(args, stdin, LLMKIT_HOME=str(tmp_path))
    assert code == 0, err
    assert err == ""


def test_bench_into_a_closed_pipe_ends_quietly(
    make_engine: Callable[..., Any], tmp_path: Path
) -> None:
    eng = make_engine()
    args = ["bench", "--base-url", eng.base_url, "-c", "1", "-n", "2", "--max-tokens", "4"]
    code, err = _into_a_closed_pipe(args, LLMKIT_HOME=str(tmp_path))
    assert code == 0, err
    assert "Traceback" not in err and "Broken pipe" not in err


def _blocked_reading_stdin(pid: int) -> bool:
    """Whether the process sits in read(0, ...): past start-up, its handlers installed."""
    read_syscall = {"x86_64": "0", "aarch64": "63"}.get(os.uname().machine)
    if read_syscall is None:
        pytest.skip("read(2)'s number on this machine is not known to this test")
    try:
        fields = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        pytest.skip("/proc/PID/syscall cannot be read here")
    return fields[:2] == [read_syscall, "0x0"]


def _signal_when(proc: subprocess.Popen[bytes], ready: Callable[[], bool], sig: int) -> bytes:
    """Send ``sig`` once ``ready()`` holds; the process's stderr once it has ended."""
    try:
        while not ready():
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    return err


@pytest.mark.parametrize(
    ("sig", "code", "word"),
    [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")],
    ids=["sigterm", "ctrl-c"],
)
def test_a_signal_mid_command_is_its_exit_code(sig: int, code: int, word: str) -> None:
    # chat waits on stdin for its prompt: a command caught in the middle of its work.
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmkit", "chat", "--base-url", "http://127.0.0.1:9/v1"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
    )
    err = _signal_when(proc, lambda: _blocked_reading_stdin(proc.pid), sig)
    assert proc.returncode == code, err
    assert err.decode().strip().splitlines() == [word]


def test_old_flag_names_still_work_with_a_warning(tmp_path: Path) -> None:
    missing = tmp_path / "calls.db"
    old = _run(["log", "--path", str(missing)])
    new = _run(["log", "--log-path", str(missing)])
    assert old.exit_code == new.exit_code == ExitCode.BAD_INPUT
    assert old.stderr.splitlines()[0] == (
        "warning: --path is deprecated and will be removed; use --log-path"
    )
    assert old.stderr.splitlines()[1:] == new.stderr.splitlines()
    assert "--path" not in _run(["log", "--help"]).output.replace("--log-path", "")

    out = tmp_path / "run"
    old_eval = _run(["eval", str(SUITE), "--output", str(out), "--summary", str(tmp_path / "s.md")])
    assert old_eval.exit_code == 0, old_eval.stderr
    assert "use --results-dir" in old_eval.stderr and "use --markdown" in old_eval.stderr
    assert (out / "summary.json").is_file() and (tmp_path / "s.md").read_text().strip()


def test_an_empty_markdown_path_is_no_report_and_a_warning(tmp_path: Path) -> None:
    # `--markdown "$GITHUB_STEP_SUMMARY"` outside GitHub Actions.
    result = _run(["eval", str(SUITE), "--markdown", ""], env={"LLMKIT_HOME": str(tmp_path)})
    assert result.exit_code == 0, result.stderr
    assert "warning: --markdown is empty" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["chat", "hello"],
        ["eval", str(SUITE), "--mode", "record"],
        ["calibrate", str(SUITE), "--scorer", "judge", "--mode", "record"],
    ],
    ids=["chat", "eval-record", "calibrate-record"],
)
def test_a_model_is_called_only_at_a_named_endpoint(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("LLMKIT_BASE_URL", "OPENAI_BASE_URL", "LLMKIT_CHAT_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-would-be-billed")
    result = _run(args)
    assert result.exit_code == ExitCode.BAD_INPUT
    (line,) = _error_lines(result)
    assert "no endpoint named: give --base-url URL" in line and "LLMKIT_BASE_URL" in line


def test_a_base_url_without_v1_suggests_it(make_engine: Callable[..., Any]) -> None:
    eng = make_engine()
    bare = eng.base_url.removesuffix("/v1")
    result = _run(["chat", "--base-url", bare, "-m", "llmkit-sim", "--no-log", "hi"])
    assert result.exit_code == ExitCode.BAD_INPUT
    (line,) = _error_lines(result)
    assert "HTTP 404" in line and f"try {bare}/v1" in line


def test_a_binary_suite_names_the_file(tmp_path: Path) -> None:
    suite = tmp_path / "ls.eval.yaml"
    suite.write_bytes(bytes(range(256)))
    result = _run(["eval", str(suite)])
    assert result.exit_code == ExitCode.BAD_INPUT
    (line,) = _error_lines(result)
    assert str(suite) in line and "not UTF-8" in line


def _suite_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "prompts", tmp_path / "prompts")
    shutil.copytree(ROOT / "cassettes", tmp_path / "cassettes")
    return tmp_path / "prompts" / SUITE.name


def test_an_invalid_schema_in_a_suite_fails_at_load_naming_the_line(tmp_path: Path) -> None:
    suite = _suite_copy(tmp_path)
    text = suite.read_text(encoding="utf-8")
    lines = text.splitlines()
    line_no = next(i for i, line in enumerate(lines, 1) if line.strip() == "type: object")
    suite.write_text(text.replace("type: object\n", "type: objectx\n", 1), encoding="utf-8")
    result = _run(["eval", str(suite), "--mode", "record", "--base-url", "http://127.0.0.1:9/v1"])
    assert result.exit_code == ExitCode.BAD_INPUT
    (line,) = _error_lines(result)
    assert f"{suite}:{line_no - 1}" in line or f"{suite}:{line_no}" in line
    assert "prompt.schema" in line and "objectx" in line and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (b"code: 200", b"code: abc", "status code 'abc' is not an HTTP status"),
        (b"code: 200", b"code: 200\n# \xff\xfe", "not UTF-8"),
    ],
    ids=["code-abc", "non-utf8"],
)
def test_a_broken_cassette_is_bad_input_naming_it(
    old: bytes, new: bytes, says: str, tmp_path: Path
) -> None:
    suite = _suite_copy(tmp_path)
    cassette = sorted((tmp_path / "cassettes" / "support_ticket").glob("*.yaml"))[0]
    cassette.write_bytes(cassette.read_bytes().replace(old, new, 1))
    result = _run(["eval", str(suite)])
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert "Traceback" not in result.output
    assert any(str(cassette) in line and says in line for line in _error_lines(result))


def test_export_never_creates_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMKIT_HOME", str(tmp_path / "home"))
    target = tmp_path / "no" / "such" / "ratings.csv"
    result = _run(["annotate", "export", str(target)])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert _error_lines(result) == [
        f"error: FILE: cannot write {target}: no folder {target.parent}"
    ]
    assert not (tmp_path / "no").exists()


def test_an_unreadable_home_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLMKIT_HOME", "/proc/nope")
    result = _run(["annotate", "import", str(ROOT / "annotation" / "conversations.jsonl")])
    assert result.exit_code == ExitCode.BAD_INPUT
    (line,) = _error_lines(result)
    assert "/proc/nope" in line and "Traceback" not in result.output


def test_chat_picks_the_listed_model_and_says_so(
    make_engine: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("LLMKIT_MODEL", "OPENAI_MODEL", "LLMKIT_CHAT_MODEL"):
        monkeypatch.delenv(name, raising=False)
    eng = make_engine()
    result = _run(["chat", "--base-url", eng.base_url, "--no-log", "--no-stream", "hi"])
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == "model: llmkit-sim (the first the server lists; choose with -m)"
    # Without a stream there is no TPOT to measure: said as such, not "TPOT=-ms".
    assert "TPOT=n/a" in lines[-1] and "-ms" not in lines[-1]


@pytest.mark.parametrize(
    "args",
    [["--timeout", "0s"], ["--stall-timeout", "0s"], ["-r", "1", "--max-concurrency", "0"]],
    ids=["timeout", "stall-timeout", "max-concurrency"],
)
def test_bench_refuses_limits_of_zero(args: list[str]) -> None:
    result = _run(["bench", "--base-url", "http://127.0.0.1:9/v1", "-m", "m", *args])
    assert result.exit_code == ExitCode.BAD_INPUT
    (line,) = _error_lines(result)
    assert args[-2] in line


def test_bench_help_shows_every_default() -> None:
    text = " ".join(_run(["bench", "--help"]).output.split())
    assert "Requests per level [default: 4 x the concurrency" in text
    assert "[default: 1 unless --rate]" in text


def test_a_piped_table_keeps_every_row_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from llmkit.cli._common import console, make_table

    monkeypatch.delenv("COLUMNS", raising=False)
    cells = [
        "prompt_extraction_v2",
        "finish_reason=length",
        "hallucination_rate_per_day",
        "98765.4",
    ]
    table = make_table("name", "finish", "metric", "ttft_ms", numeric=("ttft_ms",))
    table.add_row(*cells)
    buffer = io.StringIO()  # not a terminal, as `llmkit log | cat`
    console(buffer).print(table)
    text = buffer.getvalue()
    assert "…" not in text and "\x1b[" not in text
    row = next(line for line in text.splitlines() if cells[0] in line)
    assert all(cell in row for cell in cells)  # one line, nothing cut or folded
    assert len(row) > 80  # wider than the 80 columns a pipe used to get


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_eval_record_stopped_keeps_what_finished_and_names_the_new_cassettes(
    sig: int, code: int, tmp_path: Path, make_engine: Callable[..., Any]
) -> None:
    # Slow enough that a signal lands mid-run: each case takes a second or more.
    eng = make_engine(decode_step_ms=60.0, tokens_per_chunk=1)
    suite = _suite_copy(tmp_path)
    cassettes = sorted((tmp_path / "cassettes" / "support_ticket").glob("*.yaml"))
    before = {path.stem: path.read_bytes() for path in cassettes}
    out = tmp_path / "results"
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmkit", "eval", str(suite), "--mode", "record",
         "--concurrency", "1", "--base-url", eng.base_url, "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**ENV, "LLMKIT_HOME": str(tmp_path / "home")},
    )  # fmt: skip

    def rewritten() -> bool:
        return any(p.read_bytes() != before[p.stem] for p in cassettes)

    text = _signal_when(proc, rewritten, sig).decode()
    assert proc.returncode == code, text
    assert "Traceback" not in text
    changed = sorted(p.stem for p in cassettes if p.read_bytes() != before[p.stem])
    assert 1 <= len(changed) < len(cassettes)  # stopped early, after at least one
    assert f"cassettes re-recorded: {', '.join(sorted(changed, key=_case_order(suite)))}" in text
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert {json.loads(line)["case"] for line in lines} == set(changed)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["interrupted"] is True


def _case_order(suite: Path) -> Callable[[str], int]:
    from llmkit.evals import load_suite

    ids = [case.id for case in load_suite(suite).cases]
    return ids.index


@pytest.mark.parametrize("model", [[], ["-m", "llmkit-sim"]], ids=["listed-model", "named-model"])
def test_bench_with_a_wrong_key_is_bad_input_either_way(
    model: list[str], make_engine: Callable[..., Any]
) -> None:
    eng = make_engine(api_key="the-right-key")
    args = ["bench", "--base-url", eng.base_url, "--api-key", "a-wrong-key", *model]
    result = _run([*args, "-c", "1", "-n", "2", "--max-tokens", "4"])
    assert result.exit_code == ExitCode.BAD_INPUT, result.stderr
    assert "401" in result.stderr and "Traceback" not in result.output


def test_bench_itl_panel_shows_the_body_of_the_distribution(
    make_engine: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt
    import numpy as np

    limits: list[tuple[Any, ...]] = []
    original = plt.Axes.set_xlim

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        limits.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(plt.Axes, "set_xlim", spy)
    eng = make_engine(decode_step_ms=2.0, tokens_per_chunk=1)
    out = tmp_path / "run"
    args = ["bench", "--base-url", eng.base_url, "-c", "1,2", "-n", "4", "--max-tokens", "8"]
    result = _run([*args, "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    with np.load(out / "itl_ms.npz") as saved:
        # values_<level> are the gaps; sizes_<level> count them per request (not samples)
        itl = np.concatenate([saved[name] for name in saved.files if name.startswith("values_")])
    # Other plots set their own limits; the ITL panel's is the one starting at 0, at the p99
    # of the very samples the run saved (successful streamed requests, as the plot keeps).
    (itl_limit,) = [args[1] for args in limits if len(args) == 2 and args[0] == 0]
    assert itl_limit == pytest.approx(float(np.percentile(itl, 99)) * 1.1, rel=1e-9)


EXPORT = """item_id,rater,rater_id,dimension,value,rubric_version,score
a,ada,1,quality,4,1,4.0
a,ada,1,comment,fine,1,
a,ada,1,hallucination,no,1,0.0
a,grace,2,quality,5,1,5.0
a,grace,2,hallucination,no,1,0.0
b,ada,1,quality,2,1,2.0
b,ada,1,hallucination,yes,1,1.0
b,grace,2,quality,2,1,2.0
b,grace,2,hallucination,yes,1,1.0
"""


def test_agreement_reads_what_export_writes(tmp_path: Path) -> None:
    ratings = tmp_path / "ratings.csv"
    ratings.write_text(EXPORT, encoding="utf-8")
    first = _run(["annotate", "agreement", str(ratings), "--level", "ordinal", "--json"])
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["n_items"] == 2
    assert "agreement on dimension 'quality' (also in the file: hallucination" in first.stderr
    chosen = _run(["annotate", "agreement", str(ratings), "--dimension", "hallucination"])
    assert chosen.exit_code == 0 and "agreement on dimension" not in chosen.stderr
    text = _run(["annotate", "agreement", str(ratings), "--dimension", "comment"])
    assert text.exit_code == ExitCode.BAD_INPUT
    assert "no scored ratings on dimension 'comment' (scored: quality, hallucination)" in (
        text.stderr
    )
