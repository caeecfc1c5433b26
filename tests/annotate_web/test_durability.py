"""Ratings survive concurrency and a killed server: 10 raters at once through HTTP, and
``kill -9`` of ``llmkit annotate serve`` mid-run loses no rating the server acknowledged."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from annotate_web.support import PASSWORD, LiveServer, token
from llmkit.annotate import Store, assign, import_jsonl, ratings, sample

pytestmark = pytest.mark.slow
RATERS = [f"rater{i}" for i in range(10)]


def many_raters(path: Path, per_rater: int) -> Store:
    store = Store(f"sqlite:///{path}")
    lines = [
        json.dumps(
            {
                "id": f"i-{i:04d}",
                "messages": [
                    {"role": "user", "content": f"q{i}"},
                    {"role": "assistant", "content": f"a{i}"},
                ],
            }
        )
        for i in range(per_rater * len(RATERS))
    ]
    import_jsonl(store, lines, name="many.jsonl")
    for name in RATERS:
        store.add_user(name, "rater", PASSWORD)
    sample(store, per_rater * len(RATERS), day="2026-11-30")
    assign(store, RATERS, overlap=0.0)
    return store


def http_login(client: httpx.Client, name: str) -> None:
    page = client.get("/login")
    r = client.post(
        "/login", data={"name": name, "password": PASSWORD, "csrf_token": token(page.text)}
    )
    assert r.status_code == 303, r.text


def submit(client: httpx.Client, aid: int, comment: str) -> int:
    page = client.get(f"/rate/{aid}")
    r = client.post(
        f"/rate/{aid}",
        data={
            "csrf_token": token(page.text),
            "shown_at": str(time.time()),
            "dim.overall_quality": "2",
            "dim.comment": comment,
        },
    )
    return r.status_code


def test_ten_raters_submitting_at_once_lose_no_rating(tmp_path: Path) -> None:
    store = many_raters(tmp_path / "many.db", per_rater=6)
    queues = {name: [e.assignment_id for e in store.queue(name)] for name in RATERS}
    barrier = threading.Barrier(len(RATERS))
    acked: dict[str, list[str]] = {name: [] for name in RATERS}
    errors: list[BaseException] = []

    def work(name: str, base: str) -> None:
        try:
            with httpx.Client(base_url=base, timeout=120) as client:
                http_login(client, name)
                barrier.wait(60)
                for n, aid in enumerate(queues[name]):
                    comment = f"{name}-{n}"
                    assert submit(client, aid, comment) == 303
                    acked[name].append(comment)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    with LiveServer(store) as live:
        threads = [threading.Thread(target=work, args=(n, live.url)) for n in RATERS]
        for th in threads:
            th.start()
        for th in threads:
            th.join(300)
    assert not errors, errors
    frame = ratings(store)
    comments = set(frame[frame["dimension"] == "comment"]["value"])
    assert comments == {c for got in acked.values() for c in got}
    assert len(comments) == 6 * len(RATERS)
    assert store.count("submissions") == 6 * len(RATERS)
    assert all(e.status == "rated" for name in RATERS for e in store.queue(name))
    store.close()


def test_kill_9_of_the_server_loses_no_committed_rating(tmp_path: Path) -> None:
    path = tmp_path / "kill.db"
    many_raters(path, per_rater=3).close()
    env = {**os.environ, "LLMKIT_ANNOTATE_SECRET": "kill-test"}
    cli = [sys.executable, "-c", "from llmkit.cli import main; main()", "annotate", "serve"]
    log = (tmp_path / "serve.err").open("w")
    proc = subprocess.Popen(
        [*cli, "--db", str(path), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        started = line.startswith("llmkit annotate: serving on http://127.0.0.1:")
        assert started, line + (tmp_path / "serve.err").read_text()
        base = line.split("serving on ")[1].split()[0].rstrip("/")
        store = Store(f"sqlite:///{path}")
        queues = {name: [e.assignment_id for e in store.queue(name)] for name in RATERS}
        store.close()
        acked: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def work(name: str) -> None:
            n = 0
            try:
                with httpx.Client(base_url=base, timeout=30) as client:
                    http_login(client, name)
                    while not stop.is_set():  # keep editing: every POST is a new submission
                        comment = f"{name}-{n}"
                        if submit(client, queues[name][n % 3], comment) == 303:
                            with lock:
                                acked.append(comment)
                        n += 1
            except (httpx.HTTPError, AssertionError):
                return  # the server died under us: expected

        threads = [threading.Thread(target=work, args=(n,)) for n in RATERS]
        for th in threads:
            th.start()
        deadline = time.monotonic() + 240
        while len(acked) < 60 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        stop.set()
        for th in threads:
            th.join(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        log.close()
    assert proc.returncode == -signal.SIGKILL
    assert len(acked) >= 60
    every = ratings(f"sqlite:///{path}", latest=False)
    stored = set(every[every["dimension"] == "comment"]["value"])
    missing = set(acked) - stored
    assert not missing, f"{len(missing)} acknowledged ratings lost, e.g. {sorted(missing)[:3]}"
