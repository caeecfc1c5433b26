"""``llmkit bench compare`` as a CI gate: change judged against noise, misuse exits 2."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from llmkit.bench import compare_runs, describe
from llmkit.cli._main import cli
from llmkit.engine import EngineConfig, EngineHandle, Faults

MakeEngine = Callable[..., EngineHandle]


def bench(*args: str) -> tuple[int, str, str]:
    res = CliRunner().invoke(cli, ["bench", *args], catch_exceptions=False)
    return res.exit_code, res.stdout, res.stderr


def make_run(
    path: Path,
    ttft: np.ndarray,
    *,
    mode: str = "concurrency",
    key: str = "concurrency=4|prompt=None",
    edit: Callable[[dict[str, Any]], None] | None = None,
    itl: list[np.ndarray] | None = None,
) -> Path:
    """A run directory as ``llmkit bench -o`` writes it, from per-request TTFTs."""
    itl = itl if itl is not None else [np.full(9, 5.0)] * len(ttft)
    e2e = ttft + 100.0
    n = len(ttft)
    level = {
        "index": 0, "label": key.split("|")[0], "key": key,
        "load": {"mode": mode}, "requests": {"total": n, "ok": n, "failed": 0},
        "ttft_ms": describe(ttft.tolist()), "e2e_ms": describe(e2e.tolist()),
        "itl_ms": describe(np.concatenate(itl).tolist()),
        "throughput": {"output_tokens_per_s": 1000.0, "requests_per_s": 2.0,
                       "output_tokens": sum(len(v) + 1 for v in itl)},
    }  # fmt: skip
    summary: dict[str, Any] = {"schema_version": 1, "levels": [level]}
    if edit is not None:
        edit(summary)
    path.mkdir()
    (path / "summary.json").write_text(json.dumps(summary))
    with (path / "requests.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, ["level_label", "level", "index", "status", "ttft_ms", "e2e_ms"])
        w.writeheader()
        for i, (t, e) in enumerate(zip(ttft, e2e, strict=True)):
            w.writerow({"level_label": "c=4", "level": 0, "index": i, "status": "ok",
                        "ttft_ms": t, "e2e_ms": e})  # fmt: skip
    np.savez(path / "itl_ms.npz", values_0=np.concatenate(itl),
             sizes_0=np.array([len(v) for v in itl]))  # fmt: skip
    return path


def _same_server(seed: int, n: int = 64, scale: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).lognormal(4.0, 0.5, n) * scale


def _noisy_pair(tmp_path: Path) -> tuple[Path, Path]:
    """Two runs of one server whose p99 moved > 30% by chance alone (seeds chosen so)."""
    for seed in range(1, 200):
        a, b = _same_server(seed), _same_server(seed + 1000)
        p99a, p99b = np.percentile(a, 99), np.percentile(b, 99)
        p50a, p50b = np.percentile(a, 50), np.percentile(b, 50)
        if p99b > 1.3 * p99a and p50b > 1.1 * p50a:
            return make_run(tmp_path / "a", a), make_run(tmp_path / "b", b)
    raise AssertionError("no noisy pair found")


@pytest.mark.slow
def test_two_runs_of_one_server_do_not_fail(tmp_path: Path) -> None:
    a, b = _noisy_pair(tmp_path)  # p50 +10% and p99 +30%, all noise
    code, stdout, _ = bench("compare", str(a), str(b))
    assert code == 0, stdout
    code, stdout, _ = bench("compare", str(a), str(b), "--json", "-m", "ttft_ms.p50")
    (ch,) = [c for c in json.loads(stdout)["changes"] if c["metric"] == "ttft_ms.p50"]
    assert ch["worse_beyond"] and not ch["significant"] and not ch["regression"]
    assert ch["method"] == "bootstrap" and ch["low_pct"] < 0 < ch["high_pct"]


@pytest.mark.slow
def test_a_real_shift_is_a_regression(tmp_path: Path) -> None:
    a = make_run(tmp_path / "a", _same_server(1, 200))
    b = make_run(tmp_path / "b", _same_server(2, 200, scale=1.5))
    code, stdout, _ = bench("compare", str(a), str(b), "--json")
    assert code == 1
    (ch,) = [c for c in json.loads(stdout)["changes"] if c["metric"] == "ttft_ms.p50"]
    assert ch["regression"] and ch["low_pct"] > 10


@pytest.mark.slow
def test_unsupported_percentile_is_insufficient_and_not_gated(tmp_path: Path) -> None:
    a, b = _noisy_pair(tmp_path)
    code, _, err = bench("compare", str(a), str(b), "--metric", "ttft_ms.p99")
    assert code == 3 and "insufficient" in err and "Traceback" not in err  # inconclusive
    code, stdout, _ = bench("compare", str(a), str(b), "-m", "ttft_ms.p99", "-m",
                            "e2e_ms.p50", "--json")  # fmt: skip
    assert code == 0
    (ch,) = [c for c in json.loads(stdout)["changes"] if c["metric"] == "ttft_ms.p99"]
    assert ch["insufficient"] and not ch["regression"] and "64 requests" in ch["note"]


@pytest.mark.parametrize("metric", ["bogus.p99", "ttft_ms.p77", "throughput.bogus", "e2e"])
def test_unknown_metric_exits_2(tmp_path: Path, metric: str) -> None:
    a, b = make_run(tmp_path / "a", _same_server(1)), make_run(tmp_path / "b", _same_server(2))
    code, _, err = bench("compare", str(a), str(b), "--metric", metric)
    assert code == 2 and "unknown" in err and metric.split(".")[-1] in err
    assert len(err.strip().splitlines()) == 1


def test_other_major_schema_version_exits_2(tmp_path: Path) -> None:
    def v2(s: dict[str, Any]) -> None:
        s["schema_version"] = 2

    a = make_run(tmp_path / "a", _same_server(1))
    b = make_run(tmp_path / "b", _same_server(1), edit=v2)
    code, _, err = bench("compare", str(a), str(b))
    assert code == 2 and "schema_version" in err


@pytest.mark.slow
@pytest.mark.parametrize("bad", [None, float("nan"), "fast", "missing"])
def test_gated_value_null_nan_string_or_missing_is_a_regression(tmp_path: Path, bad: Any) -> None:
    def spoil(s: dict[str, Any]) -> None:
        if bad == "missing":
            del s["levels"][0]["ttft_ms"]["p50"]
        else:
            s["levels"][0]["ttft_ms"]["p50"] = bad

    a = make_run(tmp_path / "a", _same_server(1))
    b = make_run(tmp_path / "b", _same_server(1), edit=spoil)
    code, stdout, _ = bench("compare", str(a), str(b), "--metric", "ttft_ms.p50")
    assert code == 1 and "regression" in stdout


def test_different_load_types_are_never_paired(tmp_path: Path) -> None:
    a = make_run(tmp_path / "a", _same_server(1))
    b = make_run(tmp_path / "b", _same_server(1), mode="rate", key="rate=4|prompt=None")
    code, _, err = bench("compare", str(a), str(b))
    assert code == 2 and "different load types" in err


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"schema_version": 1, "levels": {"a": 1}}', "not a list"),
        ('{"schema_version": 1, "levels": [{"label": "c=1"}]}', "no 'key'"),
        ('{"schema_version": 1, "levels": [' + "[" * 100_000, "nested too deeply"),
        ('{"schema_version": "one", "levels": []}', "not a version"),
        ('{"schema_version": 1, "levels": [7]}', "not an object"),
    ],
)
def test_malformed_summaries_give_a_clear_error(tmp_path: Path, text: str, reason: str) -> None:
    a = make_run(tmp_path / "a", _same_server(1))
    b = tmp_path / "b"
    b.mkdir()
    (b / "summary.json").write_text(text)
    code, _, err = bench("compare", str(a), str(b))
    assert code == 2 and reason in err and "Traceback" not in err


def test_readme_example_fails_when_every_request_of_the_new_run_failed(
    bench_engine: MakeEngine, tmp_path: Path
) -> None:
    good = bench_engine(EngineConfig.zero_delay())
    broken = bench_engine(EngineConfig.zero_delay(faults=Faults(http_500=1.0)))
    for name, eng in (("run1", good), ("run2", broken)):
        bench("--base-url", eng.base_url, "-c", "4", "-n", "16", "--max-tokens", "4",
              "-o", str(tmp_path / name), "--no-plots")  # fmt: skip
    summary = json.loads((tmp_path / "run2" / "summary.json").read_text())
    assert summary["levels"][0]["requests"]["ok"] == 0
    code, stdout, _ = bench("compare", str(tmp_path / "run1"), str(tmp_path / "run2"),
                            "--metric", "ttft_ms.p90", "--threshold", "10%")  # fmt: skip
    assert code == 1 and "regression" in stdout


def test_library_api_reports_intervals(tmp_path: Path) -> None:
    a, b = _noisy_pair(tmp_path)
    result = compare_runs(a, b, metrics=["ttft_ms.p50", "ttft_ms.p99"])
    frame = result.to_frame()
    assert set(frame["method"]) == {"bootstrap", "point"}
    assert not result.regressed and not result.gated_insufficient


def _paces(seed: int, n: int = 64, scale: float = 1.0) -> list[np.ndarray]:
    """Per-request token gaps: each request has its own pace (its batch, its length)."""
    rng = np.random.default_rng(seed)
    return [rng.normal(m, 0.2, 100) * scale for m in rng.lognormal(1.5, 0.35, n)]


def test_pooled_itl_is_judged_request_by_request(tmp_path: Path) -> None:
    ttft = _same_server(1)
    for seed in range(1, 300):  # two runs of one server whose pooled ITL p50 moved > 10%
        ia, ib = _paces(seed), _paces(seed + 1000)
        if np.percentile(np.concatenate(ib), 50) > 1.1 * np.percentile(np.concatenate(ia), 50):
            break
    a = make_run(tmp_path / "a", ttft, itl=ia)
    b = make_run(tmp_path / "b", ttft, itl=ib)
    code, stdout, _ = bench("compare", str(a), str(b), "-m", "itl_ms.p50", "--json")
    (ch,) = [c for c in json.loads(stdout)["changes"] if c["metric"] == "itl_ms.p50"]
    assert code == 0 and ch["method"] == "bootstrap" and ch["worse_beyond"]
    assert not ch["significant"]
    slower = make_run(tmp_path / "slower", ttft, itl=_paces(5, scale=1.5))
    assert bench("compare", str(a), str(slower), "-m", "itl_ms.p50")[0] == 1


@pytest.mark.slow
def test_goodput_metrics_can_be_gated(tmp_path: Path) -> None:
    # "goodput" is an alias of goodput.requests_per_s; it once swallowed the head of
    # every goodput metric, so the names the error message offered were refused.
    def with_goodput(rps: float, share: float) -> Callable[[dict[str, Any]], None]:
        def edit(summary: dict[str, Any]) -> None:
            summary["levels"][0]["goodput"] = {"requests_per_s": rps, "share": share}

        return edit

    a = make_run(tmp_path / "a", _same_server(1), edit=with_goodput(2.0, 1.0))
    b = make_run(tmp_path / "b", _same_server(2), edit=with_goodput(1.0, 0.5))
    for metric in ("goodput.requests_per_s", "goodput.share", "goodput", "goodput_share"):
        code, stdout, err = bench("compare", str(a), str(b), "--metric", metric)
        assert code == 1 and "regression" in stdout, (metric, err)
        assert bench("compare", str(a), str(a), "--metric", metric)[0] == 0


def test_an_empty_metric_is_misuse_not_the_default_gate(tmp_path: Path) -> None:
    a = make_run(tmp_path / "a", _same_server(1))
    for empty in ("", " ", ","):
        code, _, err = bench("compare", str(a), str(a), "--metric", empty)
        assert code == 2 and "--metric is empty" in err and len(err.splitlines()) == 1
