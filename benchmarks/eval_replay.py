"""Replaying a 200-case suite, beside the time of its bare scorers.

Run: ``python benchmarks/eval_replay.py [--cases 200] [--repeat 3] [--cli] [--cli-runs 5]``

In a temporary directory it builds a suite of ``--cases`` support-ticket cases (the example
suite's prompt, schema and scorers, each case a different customer message), records it
against the embedded engine (in process, zero delay), then, in one run and best of
``--repeat``:

- **replay**: ``load_suite`` + ``run_suite(mode="replay")``, what ``llmkit eval`` does in CI
  (vcrpy matching every request by method, path and canonical body; the structured parse of
  every answer; every scorer), wall and CPU time;
- **bare scorers**: the same scorers called on the same answers, already parsed, with no
  client, no cassette and no parse: the floor replay cannot go below;
- with ``--cli``, the whole ``python -m llmkit eval SUITE --json`` command in a fresh
  interpreter (imports included), on the same suite without the benchmark's capturing
  scorer: the median of ``--cli-runs`` runs, wall and CPU (user + system of the child).

The goal: 200 cases through the CLI in at most 2.5 s, the median of 5 runs. The machine
may be shared, so CPU time is printed beside wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from llmkit.engine import EngineConfig, start_engine
from llmkit.evals import Score, ScoreContext, load_suite, register_scorer, run_suite
from llmkit.evals._scorers import build_scorer

PRODUCTS = [
    "wireless headphones",
    "standing desk",
    "espresso machine",
    "running shoes",
    "mechanical keyboard",
    "smart watch",
    "travel backpack",
    "air purifier",
]
PROBLEMS = [
    "arrived damaged",
    "never arrived",
    "was charged twice",
    "stopped working after a week",
    "is missing parts",
    "was the wrong size",
    "has a cracked screen",
]
ROOT = Path(__file__).resolve().parents[1]
_SEEN: list[ScoreContext] = []


@register_scorer("bench_capture")
def _capture(spec: Any, suite: Any) -> Any:
    """Keeps each context it sees (answer and parse), to time the bare scorers on them."""

    def score(ctx: ScoreContext) -> Score:
        _SEEN.append(ctx)
        return Score(1.0, True)

    return score


def build_suite(directory: Path, n: int) -> Path:
    base = yaml.safe_load((ROOT / "prompts" / "support_ticket.eval.yaml").read_text())
    base.pop("baseline", None)
    base["name"] = "replay_bench"
    base["cassettes"] = str(directory / "cassettes")
    base["min_pass_rate"] = 0.0
    base["scorers"] = [*base["scorers"], {"type": "bench_capture", "name": "capture"}]
    base["cases"] = [
        {
            "id": f"case-{i:04d}",
            "tags": ["bench"],
            "vars": {
                "message": f"Order ORD-{100000 + i}: my {PRODUCTS[i % len(PRODUCTS)]} "
                f"{PROBLEMS[i % len(PROBLEMS)]} (ticket {i})."
            },
        }
        for i in range(n)
    ]
    path = directory / "replay_bench.eval.yaml"
    path.write_text(yaml.safe_dump(base, sort_keys=False))
    return path


def timed(fn: Any, repeat: int) -> tuple[float, float, Any]:
    """Best wall and best CPU seconds of ``repeat`` calls, and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return min(walls), min(cpus), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cli", action="store_true", help="also time `llmkit eval` as a command")
    parser.add_argument("--cli-runs", type=int, default=5, help="CLI runs (the median counts)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = build_suite(Path(tmp), args.cases)
        engine = start_engine(EngineConfig.zero_delay())
        try:
            t = time.perf_counter()
            recorded = run_suite(
                load_suite(path), "record", base_url=engine.base_url, api_key="bench", concurrency=4
            )
            record_s = time.perf_counter() - t
        finally:
            engine.stop()
        if recorded.errors:
            raise SystemExit(f"recording failed: {recorded.errors[:3]}")

        def replay() -> Any:
            _SEEN.clear()
            return run_suite(load_suite(path), "replay")

        wall, cpu, run = timed(replay, args.repeat)
        if run.errors:
            raise SystemExit(f"replay failed: {run.errors[:3]}")
        contexts = list(_SEEN)
        suite = load_suite(path)
        scorers = [build_scorer(s, suite) for s in suite.scorers if s.type != "bench_capture"]

        def bare() -> int:
            n = 0
            for ctx in contexts:
                for scorer in scorers:
                    scorer(ctx)
                    n += 1
            return n

        bare_wall, bare_cpu, calls = timed(bare, args.repeat)
        rows = [
            ("record (embedded engine, 4 at once)", record_s, None),
            ("replay: load_suite + run_suite", wall, cpu),
            (f"bare scorers ({calls} calls, answers pre-parsed)", bare_wall, bare_cpu),
        ]
        cli: tuple[float, float] | None = None
        if args.cli:
            plain = _without_capture(path)
            cli = _time_cli(plain, args.cli_runs, args.cases)
            rows.append((f"`llmkit eval --json`, fresh process (median of {args.cli_runs})", *cli))

    print(
        f"{args.cases} cases, {len(run.records)} score records, best of {args.repeat}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'':52} {'wall s':>8} {'CPU s':>8}")
    for name, w, c in rows:
        print(f"{name:52} {w:8.2f} {'' if c is None else f'{c:8.2f}':>8}")
    print(
        f"replay / bare scorers: {wall / max(bare_wall, 1e-9):.0f}x wall; "
        f"replay per case: {1000 * wall / args.cases:.1f} ms wall, {1000 * cpu / args.cases:.1f} ms CPU"
    )
    print(f"replaying {args.cases} cases in process: {wall:.2f} s wall, {cpu:.2f} s CPU")
    if cli is not None:
        verdict = "meets" if cli[0] <= 2.5 else "MISSES"
        print(
            f"through the CLI: {cli[0]:.2f} s wall median, {cli[1]:.2f} s CPU median "
            f"({verdict} the 2.5 s goal)"
        )


def _without_capture(path: Path) -> Path:
    """The suite without the capturing scorer, which only this script registers."""
    data = yaml.safe_load(path.read_text())
    data["scorers"] = [
        s for s in data["scorers"] if s != {"type": "bench_capture", "name": "capture"}
    ]
    plain = path.with_name("plain.eval.yaml")
    plain.write_text(yaml.safe_dump(data, sort_keys=False))
    return plain


def _time_cli(path: Path, runs: int, cases: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``python -m llmkit eval PATH --json``."""
    env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT))}
    cmd = [sys.executable, "-m", "llmkit", "eval", str(path), "--json"]
    walls, cpus = [], []
    for _ in range(runs):
        before = os.times()
        t = time.perf_counter()
        # cwd outside the checkout: `-m` puts it first on sys.path, before PYTHONPATH
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=path.parent)
        walls.append(time.perf_counter() - t)
        after = os.times()
        cpus.append(
            after.children_user
            + after.children_system
            - before.children_user
            - before.children_system
        )
        summary = json.loads(out.stdout) if out.stdout.strip().startswith("{") else {}
        if summary.get("cases") != cases:
            raise SystemExit(f"the CLI run failed (exit {out.returncode}): {out.stderr[-500:]}")
    print("CLI runs (wall s): " + ", ".join(f"{w:.2f}" for w in walls), file=sys.stderr)
    return statistics.median(walls), statistics.median(cpus)


if __name__ == "__main__":
    main()
