"""The one migration runner: an append-only list of functions, each run once, in order.

The call log (stdlib ``sqlite3``) and the annotation store (SQLAlchemy Core) keep their own
migration lists and their own way of storing the version; this module owns the rule that
migration ``n`` (1-based) runs exactly once, after ``n - 1``, recorded as it goes. Callers
run it inside the transaction that holds their write lock, so two processes never apply
the same migration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

__all__ = ["Migration", "apply_migrations"]

C = TypeVar("C")
Migration = Callable[[C], None]


def apply_migrations(
    conn: C,
    migrations: Sequence[Callable[[C], None]],
    applied: int,
    record: Callable[[C, int], None],
) -> int:
    """Run ``migrations[applied:]`` on ``conn``; returns the schema version reached.

    Args:
        conn: the connection, inside the caller's write transaction.
        migrations: every migration ever shipped, oldest first (never edit or reorder one).
        applied: how many have run already (the stored schema version).
        record: stores the version number after each migration.
    """
    for number, migration in enumerate(migrations[applied:], start=applied + 1):
        migration(conn)
        record(conn, number)
    return max(applied, len(migrations))
