"""Shared by the web app's tests: seeded data, login helpers, a live uvicorn server."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

from llmkit.annotate import Store, assign, import_jsonl, sample

PASSWORD = "correct horse battery"
# argon2id with tiny costs: the store takes the hasher, production keeps the defaults
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)
XSS = '<script>document.title="pwned"</script><img src=x onerror="document.title=\'pwned\'">'
XSS_LINK = "<a href=\"javascript:document.title='pwned'\">click me</a>"


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
    store = Store(url, password_hasher=CHEAP_HASHER)
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """The app under a real uvicorn server on 127.0.0.1, in a thread."""

    def __init__(self, store: Store, **app_options: Any) -> None:
        import uvicorn

        from llmkit.annotate._web import create_app

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(store, secret_key="test-secret", **app_options),
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


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "page carries no CSRF token"
    return found.group(1)


def login(client: Any, name: str, password: str = PASSWORD) -> Any:
    """Log in through the form; returns the page the login redirects to."""
    page = client.get("/login")
    return client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token(page.text)},
        follow_redirects=True,
    )
