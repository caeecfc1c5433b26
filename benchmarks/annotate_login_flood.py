"""A rater's page while 16 clients flood the login form with wrong passwords.

Run: ``python benchmarks/annotate_login_flood.py [--requests 60] [--flood 16] [--per-second 5]``

Builds a small SQLite store with production-strength argon2 hashes, serves the app in a
subprocess (uvicorn on 127.0.0.1), logs one rater in, and times ``--requests`` renders of
the rating page: idle; during a ``--flood``-way login flood (each client ``--per-second``
guesses a second, the rate one client reached before the limits) with the default limits
(30 attempts a minute per address, 10 failures per account); the same flood with the
per-address limit lifted, so every guess (a new name each time, so no account locks)
reaches the password hasher; and, for information, clients that send as fast as answers
come (on a 2-core machine the 16 client processes then take most of the CPU themselves).
It prints p50 and p95 per run and the ratio to idle; the issue's target is p50 within 2x
idle during the flood (the first two runs). Hashing runs on one
thread of its own, so a flood takes at most one core from the raters' pages.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from llmkit.annotate import Store, assign, import_jsonl, sample

PASSWORD = "benchmark-password"
SERVE = """
import sys, uvicorn
from llmkit.annotate import Store, create_app
from llmkit.cli._annotate_serve import listening_socket
app = create_app(Store(sys.argv[1]), secret_key="bench", logins_per_minute=int(sys.argv[2]))
sock = listening_socket("127.0.0.1", 0)
print(sock.getsockname()[1], flush=True)
uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off")).run(sockets=[sock])
"""


def build(url: str) -> None:
    store = Store(url)
    lines = [
        f'{{"id": "f-{i}", "messages": [{{"role": "user", "content": "Q{i}"}}, '
        f'{{"role": "assistant", "content": "{"Answer. " * 60}"}}]}}'
        for i in range(200)
    ]
    import_jsonl(store, lines, name="flood.jsonl")
    store.add_user("rater0", "rater", PASSWORD)
    sample(store, 200, day="2026-11-30")
    assign(store, ["rater0"], overlap=0.0)
    store.close()


def csrf_of(html: str) -> str:
    return html.split('name="csrf_token" value="')[1].split('"')[0]


def flood(base: str, stop: Any, counts: Any, worker: int, per_second: float) -> None:
    """One flooding client (a process of its own: client threads would share one GIL with
    the measuring client and slow it down themselves), at most ``per_second`` guesses a
    second (0: as fast as answers come)."""
    with httpx.Client(base_url=base, timeout=60) as client:
        token = csrf_of(client.get("/login").text)
        n = 0
        start = time.monotonic()
        while not stop.is_set():
            n += 1
            r = client.post(
                "/login",
                data={"name": f"guess{worker}-{n}", "password": "wrong", "csrf_token": token},
            )
            counts.append(r.status_code)
            if per_second:
                time.sleep(max(0.0, start + n / per_second - time.monotonic()))


def renders(base: str, requests: int) -> list[float]:
    with httpx.Client(base_url=base, timeout=60) as client:
        token = csrf_of(client.get("/login").text)
        r = client.post(
            "/login", data={"name": "rater0", "password": PASSWORD, "csrf_token": token}
        )
        assert r.status_code == 303, r.status_code
        item = client.get("/rate").headers["location"]  # the first item of the queue
        times = []
        for i in range(requests + 3):
            start = time.perf_counter()
            page = client.get(item)
            took = (time.perf_counter() - start) * 1000
            assert page.status_code == 200, page.status_code
            if i >= 3:  # warm-up
                times.append(took)
        return times


def run(
    url: str, per_minute: int, flood_size: int, requests: int, per_second: float = 0.0
) -> tuple[list[float], dict[int, int]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE, url, str(per_minute)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        base = f"http://127.0.0.1:{int(proc.stdout.readline())}"
        manager = multiprocessing.Manager()
        stop = manager.Event()
        answers = manager.list()
        workers = [
            multiprocessing.Process(
                target=flood, args=(base, stop, answers, w, per_second), daemon=True
            )
            for w in range(flood_size)
        ]
        for w in workers:
            w.start()
        if flood_size:
            time.sleep(2)  # let the flood build up
        try:
            times = renders(base, requests)
        finally:
            stop.set()
            for w in workers:
                w.join(60)
        counts = Counter(list(answers))
        manager.shutdown()
        return times, dict(counts)
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--flood", type=int, default=16)
    parser.add_argument(
        "--per-second",
        type=float,
        default=5.0,
        help="Guesses a second per flooding client (5: what one client managed before).",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'flood.db'}"
        build(url)
        idle, _ = run(url, 30, 0, args.requests)
        runs = [
            ("flood, default limits", *run(url, 30, args.flood, args.requests, args.per_second)),
            (
                "flood, per-address limit lifted",
                *run(url, 10**9, args.flood, args.requests, args.per_second),
            ),
            ("flood, as fast as answers come", *run(url, 30, args.flood, args.requests)),
        ]
    base = statistics.median(idle)
    print(
        f"rating page, {args.requests} renders each; flood: {args.flood} clients, "
        f"{args.per_second:g} guesses/s each unless said otherwise"
    )
    print(f"{'':34} {'p50':>8} {'p95':>8} {'p50/idle':>9}  login answers")
    for label, times, counts in [("idle", idle, {}), *runs]:
        p50 = statistics.median(times)
        p95 = statistics.quantiles(times, n=100, method="inclusive")[94]
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
        print(f"{label:34} {p50:6.1f}ms {p95:6.1f}ms {p50 / base:9.2f}  {answers}")
    worst = max(statistics.median(times) for _, times, _ in runs[:2]) / base
    print(
        f"target p50 <= 2x idle during a {args.flood}-way flood at {args.per_second:g}/s each: "
        f"{'met' if worst <= 2 else 'NOT met'} ({worst:.2f}x)"
    )


if __name__ == "__main__":
    main()
