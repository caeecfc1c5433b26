"""Fixtures for the raters' web app: a seeded store, an in-process client, a live server."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette", reason="the web extra is not installed")

from llmkit.annotate import Store, assign, import_jsonl, sample  # noqa: E402

PASSWORD = "correct horse battery"
XSS = '<script>document.title="pwned"</script><img src=x onerror="document.title=\'pwned\'">'
XSS_LINK = '<a href="javascript:document.title=\'pwned\'">click me</a>'


def conversations(n: int = 12) -> list[dict[str, Any]]:
    """Conversations with hostile content, a code block, a long message and a pairwise item."""
    out: list[dict[str, Any]] = []
    for i in range(n):
        answer = f"Answer {i}. {XSS} {XSS_LINK}\n```python\nprint('<b>{i}</b>')\n```\nDone."
        if i == 1:
            answer = "Long answer. " + "x" * 3000
        messages: list[dict[str, Any]] = [
            {"role": "user", "content": f"Question {i} <i>with tags</i>?"},
            {"role": "assistant", "content": answer},
        ]
        out.append({"id": f"c-{i:03d}", "messages": messages, "metadata": {"model": "m"}})
    out.append(
        {
            "id": "gold-1",
            "messages": [
                {"role": "user", "content": "Gold question"},
                {"role": "assistant", "content": "Gold answer"},
            ],
            "gold": {"overall_quality": "5", "hallucination": "no"},
        }
    )
    return out


@dataclass
class Seeded:
    store: Store
    url: str
    path: Path


def seed(url: str, path: Path, *, n: int = 12, overlap: float = 0.5) -> Store:
    store = Store(url)
    lines = [json.dumps(c) for c in conversations(n)]
    import_jsonl(store, lines, name="web-test.jsonl")
    for name, role in [
        ("ada", "rater"),
        ("grace", "rater"),
        ("judy", "adjudicator"),
        ("root", "admin"),
    ]:
        store.add_user(name, role, PASSWORD)
    sample(store, n, day="2026-11-30")
    assign(store, ["ada", "grace"], overlap=overlap, raters_per_item=2, gold_per_rater=1)
    return store


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One seeded SQLite file per session (argon2 hashing is slow on purpose); tests copy it."""
    path = tmp_path_factory.mktemp("web-template") / "web.db"
    store = seed(f"sqlite:///{path}", path)
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


@pytest.fixture
def seeded(tmp_path: Path, seeded_template: Path) -> Iterator[Seeded]:
    path = tmp_path / "web.db"
    shutil.copyfile(seeded_template, path)
    url = f"sqlite:///{path}"
    store = Store(url)
    try:
        yield Seeded(store, url, path)
    finally:
        store.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """The app under a real uvicorn server on 127.0.0.1, in a thread."""

    def __init__(self, store: Store) -> None:
        import uvicorn

        from llmkit.annotate._web import create_app

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(store, secret_key="test-secret"),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@pytest.fixture
def live(seeded: Seeded) -> Iterator[LiveServer]:
    with LiveServer(seeded.store) as server:
        yield server
