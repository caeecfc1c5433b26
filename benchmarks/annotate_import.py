"""Import and sample 500 conversations into a fresh store: SQLite and PostgreSQL side by side.

Run: ``python benchmarks/annotate_import.py [--pg URL] [--repeat 5]``
(``--pg`` defaults to ``$LLMKIT_TEST_POSTGRES_URL``; without one only SQLite runs).

Each repeat opens a fresh store (a new SQLite file, a new PostgreSQL schema), then times
``import_jsonl`` of the first 500 shipped sample conversations (validation, redaction off,
one transaction) and ``sample(n=100, stratify_by="model")`` separately. It prints the
median of each, and the rate of rating submissions as a reference for the write path.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from llmkit.annotate import (
    Conversation,
    Store,
    default_rubric,
    import_jsonl,
    sample,
    sample_conversations_path,
)


def _lines(n: int) -> list[str]:
    lines = sample_conversations_path().read_text(encoding="utf-8").splitlines()
    return lines[:n]


def _fresh_pg(base: str) -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}", schema


def _drop_pg(base: str, schema: str) -> None:
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


def run_once(url: str, lines: list[str]) -> dict[str, float]:
    with Store(url) as store:
        t0 = time.perf_counter()
        import_jsonl(store, lines, name="bench.jsonl")
        t1 = time.perf_counter()
        sample(store, 100, stratify_by="model", seed=1)
        t2 = time.perf_counter()
        version = store.register_rubric(default_rubric())
        store.add_user("bench", "rater", "bench-password")
        store.add_conversations(
            [Conversation("x", ({"role": "user", "content": "x"},))], source="b"
        )
        t3 = time.perf_counter()
        n_rates = 50
        for i in range(n_rates):
            store.rate(
                "bench",
                "x",
                {"overall_quality": 1 + i % 5},
                rubric_id=version.id,
                require_assignment=False,
            )
        t4 = time.perf_counter()
    return {
        "import_s": t1 - t0,
        "sample_s": t2 - t1,
        "import_sample_s": t2 - t0,
        "rate_ms": (t4 - t3) / n_rates * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("LLMKIT_TEST_POSTGRES_URL"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--n", type=int, default=500)
    args = parser.parse_args()
    lines = _lines(args.n)
    results: dict[str, list[dict[str, float]]] = {"sqlite": [], "postgresql": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            results["sqlite"].append(run_once(f"sqlite:///{Path(tmp) / f'b{i}.db'}", lines))
            if args.pg:
                url, schema = _fresh_pg(args.pg)
                try:
                    results["postgresql"].append(run_once(url, lines))
                finally:
                    _drop_pg(args.pg, schema)
    print(f"{len(lines)} conversations, median of {args.repeat} fresh stores")
    print(f"{'back end':<12}{'import s':>10}{'sample s':>10}{'both s':>10}{'rate ms':>10}")
    for backend, runs in results.items():
        if not runs:
            print(f"{backend:<12}   (skipped: give --pg or LLMKIT_TEST_POSTGRES_URL)")
            continue
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(
            f"{backend:<12}{med['import_s']:>10.3f}{med['sample_s']:>10.3f}"
            f"{med['import_sample_s']:>10.3f}{med['rate_ms']:>10.1f}"
        )


if __name__ == "__main__":
    main()
