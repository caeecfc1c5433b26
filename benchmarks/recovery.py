"""Recovery on realistic model answers: exact, wrong-but-ok, failed, per error class.

Run: ``python benchmarks/recovery.py`` (both corpora under ``tests/structured/corpus/``),
or ``--corpus FILE`` (repeatable), ``--json`` for a machine-readable summary,
``--show-wrong N`` to print examples, ``--via-cli`` to go through ``llmkit parse --jsonl``
as a new user would (and count where the CLI disagrees with ``llmkit.parse``).
``--generated N`` measures instead the cases of the compositional generator
(``compose_corpus.py``: one to three error operators per answer, with ground truth),
per operator alone and in pairs, and counts made-up values (an ``ok`` string that
appears nowhere in the answer).

Each corpus line is ``{"id", "class", "format", "text", "schema", "expected", "expect_ok",
"source", "finish_reason"?, "expect_stage"?}``. A case is:

- **exact**: ``ok`` and the value equals ``expected`` (strictly: ``True`` is not ``1``),
  or not ``ok`` when ``expect_ok`` is false; when ``expect_stage`` is given (the valid
  corpus: ``"clean"``) the stage must match too;
- **wrong-but-ok**: ``ok`` with another value, or ``ok`` where failure was expected, or
  the right value with the wrong stage (a valid answer reported as repaired);
- **failed**: not ``ok`` where a value was expected;
- **exception**: ``parse`` raised (or ran past ``--timeout`` seconds).

Goal (issue #7): on realistic.jsonl ≥ 97% exact and ≤ 0.5% wrong-but-ok, then 99% / 0.1%.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CORPUS_DIR = Path(__file__).resolve().parent.parent / "tests" / "structured" / "corpus"
DEFAULT_CORPORA = (CORPUS_DIR / "realistic.jsonl", CORPUS_DIR / "realistic_valid.jsonl")
OUTCOMES = ("exact", "wrong_ok", "failed", "exception")


def load_cases(path: Path) -> list[dict[str, Any]]:
    """Read one corpus file (JSON lines; blank lines skipped)."""
    cases = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            case = json.loads(line)
            case.setdefault("id", f"{path.name}:{n}")
            cases.append(case)
    return cases


def same(a: Any, b: Any) -> bool:
    """Strict JSON equality: bools are not numbers, ``1 == 1.0``, NaN never equal."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return not (isinstance(a, float) and math.isnan(a)) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def judge(case: dict[str, Any], got: dict[str, Any] | None) -> str:
    """One of OUTCOMES for a result dict ``{"ok", "value", "stage"}`` (None: exception)."""
    if got is None:
        return "exception"
    expect_ok = bool(case.get("expect_ok", True))
    if not got["ok"]:
        return "failed" if expect_ok else "exact"
    if not expect_ok or not same(got["value"], case.get("expected")):
        return "wrong_ok"
    stage = case.get("expect_stage")
    return "wrong_ok" if stage and got.get("stage") != stage else "exact"


class _Timeout(BaseException):  # not Exception: parsers may catch that
    pass


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise _Timeout after ``seconds`` (SIGALRM, main thread only; else a no-op).

    An alarm already set by someone else (pytest-timeout) is restored afterwards, less
    the time spent here.
    """
    if (
        seconds <= 0
        or not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def _raise(signum: int, frame: Any) -> None:
        raise _Timeout(f"over {seconds:g} s")

    old_handler = signal.signal(signal.SIGALRM, _raise)
    t0 = time.monotonic()
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        if old_delay > 0:
            left = max(old_delay - (time.monotonic() - t0), 0.001)
            signal.setitimer(signal.ITIMER_REAL, left, old_interval)


@dataclass
class Row:
    """One case's outcome."""

    case: dict[str, Any]
    outcome: str
    got: dict[str, Any] | None
    seconds: float
    error: str | None = None


def run_api(cases: list[dict[str, Any]], timeout: float = 10.0) -> list[Row]:
    """Parse every case with ``llmkit.parse``; never lets an exception escape."""
    import llmkit

    llmkit.parse("{}", None, format="json")  # warm up: lazy imports are not a case's time
    rows = []
    for case in cases:
        t0 = time.perf_counter()
        got: dict[str, Any] | None
        err = None
        try:
            with _deadline(timeout):
                result = llmkit.parse(
                    case["text"],
                    case.get("schema"),
                    format=case.get("format", "auto"),
                    finish_reason=case.get("finish_reason"),
                )
                got = result.to_dict()
        except BaseException as exc:  # a benchmark counts every escape
            if isinstance(exc, KeyboardInterrupt):
                raise
            got, err = None, f"{type(exc).__name__}: {exc}"[:300]
        rows.append(Row(case, judge(case, got), got, time.perf_counter() - t0, err))
    return rows


def run_cli(cases: list[dict[str, Any]]) -> list[Row]:
    """Send the cases through ``llmkit parse --jsonl --format F`` (one process per format)."""
    by_format: dict[str, list[int]] = defaultdict(list)
    for i, case in enumerate(cases):
        by_format[case.get("format", "auto")].append(i)
    rows: list[Row | None] = [None] * len(cases)
    for fmt, idx in by_format.items():
        lines = []
        for i in idx:
            rec = {"text": cases[i]["text"], "schema": cases[i].get("schema")}
            if cases[i].get("finish_reason"):
                rec["finish_reason"] = cases[i]["finish_reason"]
            lines.append(json.dumps(rec, ensure_ascii=False))
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "llmkit", "parse", "--jsonl", "--format", fmt],
            input="\n".join(lines) + "\n",
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            check=False,
        )
        per_case = (time.perf_counter() - t0) / max(1, len(idx))
        out = [ln for ln in proc.stdout.splitlines() if ln.strip()]
        for k, i in enumerate(idx):
            if k < len(out):
                try:
                    got = json.loads(out[k])
                except ValueError:
                    got = None
                err = None if got is not None else f"bad output line: {out[k][:100]}"
            else:
                got = None
                err = f"no output line (rc={proc.returncode}): {proc.stderr.strip()[-200:]}"
            rows[i] = Row(cases[i], judge(cases[i], got), got, per_case, err)
    return [r for r in rows if r is not None]


@dataclass
class Tally:
    """Counts and times for one group of cases."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    times: list[float] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.counts[row.outcome] += 1
        self.times.append(row.seconds)

    @property
    def n(self) -> int:
        return sum(self.counts.values())

    def rate(self, outcome: str) -> float:
        return self.counts[outcome] / self.n if self.n else 0.0

    def to_dict(self) -> dict[str, Any]:
        ts = sorted(self.times)
        p99 = ts[min(len(ts) - 1, math.ceil(0.99 * len(ts)) - 1)] if ts else 0.0
        return {
            "n": self.n,
            **self.counts,
            "exact_rate": round(self.rate("exact"), 4),
            "wrong_ok_rate": round(self.rate("wrong_ok"), 4),
            "failed_rate": round(self.rate("failed"), 4),
            "max_ms": round(1000 * (ts[-1] if ts else 0.0), 2),
            "p99_ms": round(1000 * p99, 2),
        }


def summarize(rows: list[Row]) -> dict[str, Any]:
    """``{"overall": {...}, "classes": {class: {...}}}``."""
    overall = Tally()
    classes: dict[str, Tally] = defaultdict(Tally)
    for row in rows:
        overall.add(row)
        classes[str(row.case.get("class", "?"))].add(row)
    return {
        "overall": overall.to_dict(),
        "classes": {k: classes[k].to_dict() for k in sorted(classes)},
    }


def _print_table(name: str, summary: dict[str, Any]) -> None:
    head = f"{'class':<18}{'n':>5}{'exact':>7}{'wrong':>7}{'failed':>7}{'exc':>5}"
    head += f"{'exact%':>8}{'wrong%':>8}{'p99 ms':>9}{'max ms':>9}"
    print(f"\n== {name}")
    print(head)
    items = [*summary["classes"].items(), ("OVERALL", summary["overall"])]
    for cls, t in items:
        print(
            f"{cls:<18}{t['n']:>5}{t['exact']:>7}{t['wrong_ok']:>7}{t['failed']:>7}"
            f"{t['exception']:>5}{100 * t['exact_rate']:>7.1f}%{100 * t['wrong_ok_rate']:>7.2f}%"
            f"{t['p99_ms']:>9.2f}{t['max_ms']:>9.2f}"
        )


def _show(rows: list[Row], n: int) -> None:
    bad = [r for r in rows if r.outcome != "exact"]
    order = {"exception": 0, "wrong_ok": 1, "failed": 2}
    bad.sort(key=lambda r: order.get(r.outcome, 3))
    for r in bad[:n]:
        c = r.case
        print(f"\n--- {r.outcome.upper()} {c.get('id')} [{c.get('format')}] {c.get('note', '')}")
        print("text:    ", json.dumps(c["text"], ensure_ascii=False)[:400])
        print(
            "expected:",
            json.dumps(c.get("expected"), ensure_ascii=False)[:300],
            "(expect_ok)" if c.get("expect_ok", True) else "(expect failure)",
        )
        if r.got is not None:
            print(
                "got:     ",
                json.dumps(r.got.get("value"), ensure_ascii=False)[:300],
                r.got.get("stage"),
                r.got.get("repairs"),
            )
            if r.got.get("error"):
                print("error:   ", str(r.got["error"])[:200])
        if r.error:
            print("raised:  ", r.error)


_SMART = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def made_up(value: Any, text: str) -> list[str]:
    """Strings of ``value`` that appear nowhere in ``text``, allowing only the changes
    the pipeline may record: line ends, smart quotes to ASCII, key case, unescaping."""
    plain = text.replace("\r\n", "\n").translate(_SMART)
    folded = plain.casefold()
    unescaped = plain.encode("utf-8", "replace").decode("unicode_escape", "replace")
    return [
        s
        for s in _strings(value)
        if s not in plain and s.casefold() not in folded and s not in unescaped
    ]


def _generated_report(rows: list[Row]) -> dict[str, Any]:
    alone: dict[str, Tally] = defaultdict(Tally)
    pairs: dict[str, Tally] = defaultdict(Tally)
    triples = Tally()
    overall = Tally()
    invented = []
    for row in rows:
        ops = row.case["operators"]
        overall.add(row)
        (
            alone[ops[0]]
            if len(ops) == 1
            else pairs[row.case["class"]]
            if len(ops) == 2
            else triples
        ).add(row)
        if row.got and row.got["ok"]:
            extra = made_up(row.got["value"], row.case["text"])
            if extra:
                invented.append((row.case["id"], extra[:3]))
    return {
        "overall": overall.to_dict(),
        "alone": {k: alone[k].to_dict() for k in sorted(alone)},
        "pairs": {k: pairs[k].to_dict() for k in sorted(pairs)},
        "triples": triples.to_dict(),
        "made_up": invented,
    }


def _print_generated(report: dict[str, Any]) -> None:
    _print_table(
        "generated, one operator", {"classes": report["alone"], "overall": report["overall"]}
    )
    weak = {k: t for k, t in report["pairs"].items() if t["exact_rate"] < 0.95 or t["wrong_ok"]}
    print(f"\npairs: {len(report['pairs'])}, below 95% exact or with a wrong-but-ok: {len(weak)}")
    if weak:
        _print_table("weak pairs", {"classes": weak, "overall": report["overall"]})
    t = report["triples"]
    if t["n"]:
        print(
            f"\ntriples: n={t['n']} exact {100 * t['exact_rate']:.1f}% "
            f"wrong {100 * t['wrong_ok_rate']:.2f}% failed {100 * t['failed_rate']:.1f}%"
        )
    print(f"made-up values in ok answers: {len(report['made_up'])} {report['made_up'][:5]}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", action="append", type=Path, help="corpus file (repeatable)")
    ap.add_argument("--json", action="store_true", help="print a JSON summary")
    ap.add_argument("--show-wrong", type=int, default=0, metavar="N", help="print N bad cases")
    ap.add_argument("--via-cli", action="store_true", help="go through `llmkit parse --jsonl`")
    ap.add_argument("--class", dest="klass", help="only cases of this class")
    ap.add_argument("--timeout", type=float, default=10.0, help="per case, API mode (s)")
    ap.add_argument("--generated", type=int, metavar="N", help="N generated cases instead")
    ap.add_argument("--triples", type=int, default=200, help="generated three-operator cases")
    ap.add_argument("--seed", type=int, default=0, help="generator seed")
    args = ap.parse_args(argv)
    if args.generated:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from compose_corpus import generate

        cases = generate(args.generated, args.seed, triples=args.triples)
        rows = run_cli(cases) if args.via_cli else run_api(cases, args.timeout)
        report = _generated_report(rows)
        if args.json:
            print(json.dumps(report, indent=2))
        else:
            _print_generated(report)
            if args.show_wrong:
                _show(rows, args.show_wrong)
        return 0
    paths = args.corpus or [p for p in DEFAULT_CORPORA if p.exists()]
    if not paths:
        print("no corpus file found", file=sys.stderr)
        return 2
    report: dict[str, Any] = {}
    for path in paths:
        if not path.exists():
            print(f"{path}: no such file", file=sys.stderr)
            return 2
        cases = load_cases(path)
        if args.klass:
            cases = [c for c in cases if c.get("class") == args.klass]
        rows = run_cli(cases) if args.via_cli else run_api(cases, args.timeout)
        summary = summarize(rows)
        if args.via_cli:
            api = run_api(cases, args.timeout)
            summary["cli_disagrees_with_api"] = [
                a.case["id"]
                for a, b in zip(api, rows, strict=True)
                if (a.got is None) != (b.got is None)
                or (
                    a.got
                    and b.got
                    and (a.got["ok"] != b.got["ok"] or not same(a.got["value"], b.got["value"]))
                )
            ]
        report[path.name] = summary
        if not args.json:
            _print_table(f"{path.name} ({'CLI' if args.via_cli else 'API'})", summary)
            if args.via_cli:
                dis = summary["cli_disagrees_with_api"]
                print(f"CLI disagrees with llmkit.parse on {len(dis)} case(s) {dis[:10]}")
            if args.show_wrong:
                _show(rows, args.show_wrong)
    if args.json:
        print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
