"""``llmkit bench`` and ``llmkit bench compare`` end to end."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from llmkit.cli._main import cli
from llmkit.engine import EngineConfig, EngineHandle

MakeEngine = Callable[..., EngineHandle]
SECRET = "sk-never-store-me-42"


def bench(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, ["bench", *args], catch_exceptions=False)
    return res.exit_code, res.stdout, res.stderr


@pytest.fixture
def engine(bench_engine: MakeEngine) -> EngineHandle:
    return bench_engine(EngineConfig.slow(400.0, tokens_per_chunk=2, api_key=SECRET))


@pytest.mark.slow
def test_run_writes_summary_csv_and_plots(engine: EngineHandle, tmp_path: Path) -> None:
    out = tmp_path / "run"
    code, stdout, _ = bench(
        "--base-url", engine.base_url, "--api-key", SECRET, "-c", "1,3", "-n", "6",
        "--max-tokens", "8", "--ignore-eos", "--prompt-tokens", "32",
        "--slo", "ttft=2s,itl=1s", "-o", str(out), "--json",
    )  # fmt: skip
    assert code == 0
    summary = json.loads(stdout)
    assert summary == json.loads((out / "summary.json").read_text())
    assert summary["schema_version"] == 1
    run = summary["run"]
    assert run["model"] == "llmkit-sim" and run["seed"] == 0 and run["llmkit_version"]
    assert run["host"] and run["started_at"] and "api_key" not in run["args"]
    levels = summary["levels"]
    assert [lv["load"]["concurrency"] for lv in levels] == [1, 3]
    for lv in levels:
        assert lv["requests"] == {"total": 6, "ok": 6, "failed": 0, "interrupted": 0,
                                  "failed_reasons": {}}  # fmt: skip
        for key in ("ttft_ms", "itl_ms", "tpot_ms", "e2e_ms", "ttfb_ms"):
            assert set(lv[key]) == {"mean", "p50", "p90", "p95", "p99", "max"}
        assert lv["throughput"]["output_tokens_per_s"] > 0
        assert lv["goodput"]["share"] == 1.0
        assert "cpu_percent" in lv["client"] and "loop_lag_ms" in lv["client"]
    rows = list(csv.DictReader((out / "requests.csv").open()))
    assert len(rows) == 12
    assert {"level", "scheduled_ms", "sent_ms", "first_byte_ms", "first_token_ms",
            "last_token_ms", "output_tokens", "status"} <= set(rows[0])  # fmt: skip
    assert all(r["status"] == "ok" and r["output_tokens"] == "8" for r in rows)
    assert (out / "tradeoff.png").stat().st_size > 1000
    assert (out / "latency_distributions.png").exists() and (out / "itl_ms.npz").exists()
    for f in out.iterdir():
        assert SECRET not in f.read_bytes().decode("latin-1")
    assert SECRET not in stdout

    # an earlier run is refused unless --overwrite
    code, _, err = bench("--base-url", engine.base_url, "--api-key", SECRET, "-n", "1",
                         "-o", str(out))  # fmt: skip
    assert code == 2 and "--overwrite" in err
    code, _, _ = bench("--base-url", engine.base_url, "--api-key", SECRET, "-n", "2",
                       "-o", str(out), "--overwrite", "--no-plots")  # fmt: skip
    assert code == 0 and not (out / "tradeoff.png").exists()


def test_tables_for_people(engine: EngineHandle) -> None:
    code, stdout, _ = bench("--base-url", engine.base_url, "--api-key", SECRET, "-n", "3",
                            "--max-tokens", "4")  # fmt: skip
    assert code == 0
    assert "TTFT" in stdout and "ITL per token" in stdout and "c=1" in stdout


def test_bad_options_are_usage_errors() -> None:
    code, _, err = bench("--base-url", "http://127.0.0.1:9/v1", "-c", "1", "--rate", "2")
    assert code == 2 and "exclude" in err
    code, _, err = bench("--base-url", "http://127.0.0.1:9/v1", "--slo", "fast")
    assert code == 2 and "SLO" in err
    code, _, err = bench("-n", "1")
    assert code == 2 and "--base-url" in err


def test_help_documents_the_metrics() -> None:
    code, stdout, _ = bench("--help")
    assert code == 0
    for word in ("TTFT", "TPOT", "ITL", "goodput", "--concurrency", "--rate", "compare"):
        assert word in stdout


def _fake_run(path: Path, ttft_p50: float, tps: float) -> Path:
    stats = {"mean": ttft_p50, "p50": ttft_p50, "p90": ttft_p50, "p95": ttft_p50,
             "p99": ttft_p50, "max": ttft_p50}  # fmt: skip
    level = {
        "label": "c=4", "key": "concurrency=4|prompt=None",
        "requests": {"ok": 10, "failed": 0},
        "ttft_ms": stats, "itl_ms": {**stats, "p50": 5.0}, "e2e_ms": {**stats, "p50": 100.0},
        "throughput": {"output_tokens_per_s": tps, "requests_per_s": 2.0},
    }  # fmt: skip
    path.mkdir()
    (path / "summary.json").write_text(json.dumps({"schema_version": 1, "levels": [level]}))
    return path


def test_compare_exit_codes(tmp_path: Path) -> None:
    a = _fake_run(tmp_path / "a", 100.0, 1000.0)
    same = _fake_run(tmp_path / "same", 104.0, 990.0)
    slower = _fake_run(tmp_path / "slower", 150.0, 1000.0)
    code, stdout, _ = bench("compare", str(a), str(same))
    assert code == 0 and "no regression" in stdout
    code, stdout, _ = bench("compare", str(a), str(slower))
    assert code == 1 and "regression" in stdout and "ttft_ms.p50" in stdout
    # only the chosen metric decides; a looser threshold forgives
    assert bench("compare", str(a), str(slower), "--metric", "itl_ms.p50")[0] == 0
    assert bench("compare", str(a), str(slower), "--threshold", "60%")[0] == 0
    code, stdout, _ = bench("compare", str(a), str(slower), "--json")
    doc = json.loads(stdout)
    assert code == 1 and doc["regressed"]
    (ch,) = [c for c in doc["changes"] if c["metric"] == "ttft_ms.p50"]
    assert ch["change_pct"] == pytest.approx(50.0) and ch["regression"]
    assert bench("compare", str(a), str(tmp_path))[0] == 2  # not a run: misuse, clear error


def test_compare_fails_when_a_baseline_level_was_not_measured(tmp_path: Path) -> None:
    a = _fake_run(tmp_path / "a", 100.0, 1000.0)
    b = _fake_run(tmp_path / "b", 100.0, 1000.0)
    summary = json.loads((a / "summary.json").read_text())
    extra = {**summary["levels"][0], "label": "c=16", "key": "concurrency=16|prompt=None"}
    summary["levels"].append(extra)
    (a / "summary.json").write_text(json.dumps(summary))
    code, stdout, _ = bench("compare", str(a), str(b))
    assert code == 1 and "c=16 not measured in B" in stdout
    assert bench("compare", str(b), str(a))[0] == 0  # a new level in B is no regression
