"""Fixtures for the raters' web app: a seeded store and a live server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette", reason="the web extra is not installed")

from annotate.conftest import postgres_schema_url  # noqa: F401 - a fixture, shared

from annotate_web.support import CHEAP_HASHER, LiveServer, Seeded, seed
from llmkit.annotate import Store


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One seeded SQLite file per session; tests copy it."""
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
    store = Store(url, password_hasher=CHEAP_HASHER)
    try:
        yield Seeded(store, url, path)
    finally:
        store.close()


@pytest.fixture
def live(seeded: Seeded) -> Iterator[LiveServer]:
    with LiveServer(seeded.store) as server:
        yield server


CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"browser tests need {reason} under CI=true")
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package (pip install playwright)")
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which("chromium")):
        _unavailable(f"{CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()
