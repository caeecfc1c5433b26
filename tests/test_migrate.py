"""The one migration runner: each migration runs once, in order, and is recorded as it goes."""

from __future__ import annotations

import ast
import sqlite3
from pathlib import Path

import pytest

from llmkit._migrate import apply_migrations

PACKAGE = Path(__file__).resolve().parents[1] / "llmkit"


def _version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def _record(db: sqlite3.Connection, number: int) -> None:
    db.execute(f"PRAGMA user_version = {number}")


def _m1(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE t (a TEXT)")


def _m2(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE t ADD COLUMN b TEXT")


def _m3(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE t ADD COLUMN c TEXT")


def test_runs_what_is_new_once_in_order_and_records_each(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "x.db")
    assert apply_migrations(db, (_m1, _m2), _version(db), _record) == 2
    assert apply_migrations(db, (_m1, _m2), _version(db), _record) == 2  # nothing again
    assert apply_migrations(db, (_m1, _m2, _m3), _version(db), _record) == 3  # only _m3
    assert [row[1] for row in db.execute("PRAGMA table_info(t)")] == ["a", "b", "c"]
    assert _version(db) == 3


def test_a_failing_migration_keeps_the_versions_before_it(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "x.db", isolation_level=None)

    def broken(conn: sqlite3.Connection) -> None:
        raise sqlite3.OperationalError("disk full")

    with pytest.raises(sqlite3.OperationalError):
        apply_migrations(db, (_m1, broken, _m3), 0, _record)
    assert _version(db) == 1  # the next open resumes at the broken one


@pytest.mark.parametrize("user", ["llmkit/llm/_log.py", "llmkit/annotate/_store.py"])
def test_both_stores_use_the_one_runner(user: str) -> None:
    source = (PACKAGE.parent / user).read_text(encoding="utf-8")
    imported = {
        alias.name
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom) and node.module == "llmkit._migrate"
        for alias in node.names
    }
    assert imported == {"apply_migrations"}
    assert "enumerate(MIGRATIONS" not in source  # no second loop over migrations
