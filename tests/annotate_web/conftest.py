"""Fixtures for the raters' web app: a seeded store and a live server."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the web extra is not installed")

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
