"""The raters' web app under load: rating-page render and submit with 100,000 ratings stored.

Run: ``python benchmarks/annotate_web.py [--ratings 100000] [--requests 200] [--postgres URL]``

For SQLite (a temporary file), and PostgreSQL when ``--postgres`` or
``LLMKIT_TEST_POSTGRES_URL`` gives a server (a fresh schema, dropped afterwards), it:

1. imports 5,000 conversations, adds 10 raters, samples them all for one day and assigns
   them with 20% overlap (about 600 items per queue);
2. starts the real server (``llmkit annotate serve --port 0``, a subprocess) and times,
   from an HTTP client on 127.0.0.1, ``--requests`` rating-page renders (GET) and
   submits (POST, default values plus a comment) of one rater's queue: the *empty* run;
3. stores ``--ratings`` more ratings of the other raters' queues (bulk SQL inserts: the
   store's own ``rate()`` takes minutes for 100,000), restarts the server, and times the
   same requests again: the *full* run.

It prints p50, p95 and max per run and the full/empty ratio of each, side by side, as the
client saw them and as the app measured itself (its ``Server-Timing`` header: no network,
no client). The
issue's target is p95 <= 50 ms with 100,000 ratings stored. Timing on a shared machine is
noisy: read the ratios first.
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
import uuid
from pathlib import Path

import httpx
import sqlalchemy as sa

from llmkit.annotate import Store, assign, import_jsonl, sample
from llmkit.annotate import _schema as t

PASSWORD = "benchmark-password"
RATERS = [f"rater{i}" for i in range(10)]
DIMENSIONS = {
    "overall_quality": "3",
    "correctness": "4",
    "helpfulness": "3",
    "hallucination": "no",
    "rai_violation": "none",
    "coherence": "4",
    "style": "4",
}


def build(url: str, items: int) -> None:
    store = Store(url)
    lines = [
        json.dumps(
            {
                "id": f"b-{i:05d}",
                "messages": [
                    {"role": "system", "content": "You are the shop's assistant."},
                    {"role": "user", "content": f"Question {i}: where is my order? " * 3},
                    {
                        "role": "assistant",
                        "content": f"Answer {i}.\n```python\nprint({i})\n```\n" + "Text. " * 80,
                    },
                ],
                "metadata": {"model": f"m{i % 3}"},
            }
        )
        for i in range(items)
    ]
    import_jsonl(store, lines, name="bench.jsonl")
    for name in RATERS:
        store.add_user(name, "rater", PASSWORD)
    sample(store, items, day="2026-11-30")
    assign(store, RATERS, overlap=0.2)
    store.close()


def fill(url: str, n_ratings: int) -> int:
    """Bulk-insert submissions of every rater but rater0, edits included, to n_ratings."""
    store = Store(url)
    users = {u.name: u.id for u in store.users()}
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                t.assignments.c.id,
                t.assignments.c.item_id,
                t.assignments.c.rater_id,
                t.assignments.c.rubric_id,
            ).where(t.assignments.c.rater_id != users["rater0"])
        ).all()
        next_id = int(conn.execute(sa.select(sa.func.max(t.submissions.c.id))).scalar() or 0) + 1
    per = len(DIMENSIONS)
    wanted = -(-n_ratings // per)
    now = time.time()
    done = 0
    while done < wanted:
        chunk = min(5000, wanted - done)
        subs, rats = [], []
        for k in range(chunk):
            a = rows[(done + k) % len(rows)]
            sid = next_id + done + k
            subs.append(
                {
                    "id": sid,
                    "item_id": a.item_id,
                    "rater_id": a.rater_id,
                    "rubric_id": a.rubric_id,
                    "assignment_id": a.id,
                    "status": "rated",
                    "seconds": 30.0,
                    "rated_at": now - 3600 + k * 0.01,
                }
            )
            rats += [
                {"submission_id": sid, "dimension": d, "value": v} for d, v in DIMENSIONS.items()
            ]
        with store.transaction() as conn:
            conn.execute(t.submissions.insert(), subs)
            conn.execute(t.ratings.insert(), rats)
        done += chunk
    total = store.count("ratings")
    if store.dialect == "postgresql":
        with store.transaction() as conn:  # ids were given explicitly: move the sequence on
            conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('submissions', 'id'), "
                "(SELECT max(id) FROM submissions))"
            )
            conn.exec_driver_sql("ANALYZE")
    store.close()
    return total


class Server:
    def __init__(self, url: str) -> None:
        cmd = [sys.executable, "-c", "from llmkit.cli import main; main()", "annotate", "serve"]
        self.proc = subprocess.Popen(
            [*cmd, "--db", url, "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "LLMKIT_ANNOTATE_SECRET": "bench"},
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if "serving on" not in line:
            raise SystemExit(f"the server did not start: {line!r}")
        self.base = line.split("serving on ")[1].split()[0].rstrip("/")

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def measure(url: str, requests: int) -> dict[str, list[float]]:
    store = Store(url)
    queue = [e.assignment_id for e in store.queue("rater0")]
    store.close()
    server = Server(url)
    times: dict[str, list[float]] = {
        "render": [],
        "submit": [],
        "render@server": [],
        "submit@server": [],
    }
    try:
        with httpx.Client(base_url=server.base, timeout=60) as client:
            page = client.get("/login")
            csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
            r = client.post(
                "/login", data={"name": "rater0", "password": PASSWORD, "csrf_token": csrf}
            )
            assert r.status_code == 303, r.status_code
            for i in range(requests + 5):  # the first 5 warm up
                aid = queue[i % len(queue)]
                start = time.perf_counter()
                page = client.get(f"/rate/{aid}")
                render = time.perf_counter() - start
                assert page.status_code == 200, page.status_code
                token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
                data = {"csrf_token": token, "shown_at": str(time.time()), "dim.comment": f"c{i}"}
                start = time.perf_counter()
                r = client.post(f"/rate/{aid}", data=data)
                submit = time.perf_counter() - start
                assert r.status_code == 303, r.text[:200]
                if i >= 5:
                    times["render"].append(render * 1000)
                    times["submit"].append(submit * 1000)
                    times["render@server"].append(server_ms(page))
                    times["submit@server"].append(server_ms(r))
    finally:
        server.close()
    return times


def server_ms(response: httpx.Response) -> float:
    """The app's own time from its Server-Timing header (``app;dur=12.3``)."""
    return float(response.headers["server-timing"].split("dur=")[1])


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def run(label: str, url: str, args: argparse.Namespace) -> None:
    print(f"\n== {label}: building 5,000 conversations, 10 raters ...", flush=True)
    build(url, 5000)
    empty = measure(url, args.requests)
    stored = fill(url, args.ratings)
    full = measure(url, args.requests)
    print(f"{label}: {stored:,} ratings stored for the full run; {args.requests} requests each")
    print(
        f"{'':8} {'empty p50':>10} {'p95':>8} {'full p50':>10} {'p95':>8} {'max':>8} {'p95 full/empty':>15}"
    )
    for kind in ("render", "submit", "render@server", "submit@server"):
        e, f = empty[kind], full[kind]
        print(
            f"{kind:13} {pct(e, 50):8.1f}ms {pct(e, 95):6.1f}ms {pct(f, 50):8.1f}ms "
            f"{pct(f, 95):6.1f}ms {max(f):6.1f}ms {pct(f, 95) / pct(e, 95):15.2f}"
        )
    ok = all(pct(full[k], 95) <= 50 for k in ("render", "submit"))
    print(f"{label}: target p95 <= 50 ms with {stored:,} ratings: {'met' if ok else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ratings", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--postgres", default=os.environ.get("LLMKIT_TEST_POSTGRES_URL"))
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            run("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", args)
    if args.postgres:
        schema = f"bench_web_{uuid.uuid4().hex[:8]}"
        engine = sa.create_engine(args.postgres)
        with engine.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        sep = "&" if "?" in args.postgres else "?"
        try:
            run("PostgreSQL", f"{args.postgres}{sep}options=-csearch_path%3D{schema}", args)
        finally:
            with engine.begin() as conn:
                conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
            engine.dispose()
    else:
        print("\nPostgreSQL skipped: pass --postgres URL or set LLMKIT_TEST_POSTGRES_URL")


if __name__ == "__main__":
    main()
