"""Accounts: roles, activation, passwords, sessions to revoke, login lockouts.

Every change that should end a login (deactivation, a new password) ends the user's
server-side sessions in the same transaction.
"""

from __future__ import annotations

import time
import unicodedata
from typing import Any

import sqlalchemy as sa

from llmkit.annotate import _schema as t
from llmkit.annotate._errors import AnnotationError
from llmkit.annotate._names import find_user_row, name_key
from llmkit.annotate._store import ROLES, Store

__all__ = [
    "LOCK_AFTER",
    "LOCK_MAX_SECONDS",
    "LOCK_WINDOW",
    "clear_login_failures",
    "login_wait",
    "name_collisions",
    "record_login_failure",
    "revoke_sessions",
    "set_active",
    "set_password",
    "set_role",
]

LOCK_AFTER = 10  # failures within LOCK_WINDOW before an account waits
LOCK_WINDOW = 15 * 60.0
LOCK_FIRST_SECONDS = 30.0  # the first wait; each further failure doubles it
LOCK_MAX_SECONDS = 15 * 60.0


def _row(conn: sa.Connection, name: str) -> Any:
    row = find_user_row(conn, name)
    if row is None:
        raise AnnotationError(f"no user {name!r} (add one: llmkit annotate user add)")
    return row


def revoke_sessions(store: Store, name: str, *, conn: sa.Connection | None = None) -> int:
    """End every open session of user ``name``; the number ended."""
    if conn is None:
        with store.transaction() as own:
            return revoke_sessions(store, name, conn=own)
    user_id = _row(conn, name).id
    ended = conn.execute(
        t.sessions.update()
        .where(t.sessions.c.user_id == user_id, t.sessions.c.ended_at.is_(None))
        .values(ended_at=time.time())
    )
    return int(ended.rowcount or 0)


def set_active(store: Store, name: str, active: bool) -> None:
    """Deactivate (ending the user's sessions at once) or reactivate user ``name``."""
    with store.transaction() as conn:
        row = _row(conn, name)
        conn.execute(t.users.update().where(t.users.c.id == row.id).values(active=active))
        if not active:
            revoke_sessions(store, name, conn=conn)


def set_role(store: Store, name: str, role: str) -> None:
    """Give user ``name`` another role (pages check the role on every request)."""
    if role not in ROLES:
        raise AnnotationError(f"role {role!r}: choose from {', '.join(ROLES)}")
    with store.transaction() as conn:
        row = _row(conn, name)
        conn.execute(t.users.update().where(t.users.c.id == row.id).values(role=role))


def set_password(store: Store, name: str, password: str) -> None:
    """A new password for user ``name``; their sessions end and any lockout is lifted."""
    if len(password) < 8:
        raise AnnotationError("the password needs at least 8 characters")
    digest = store.password_hasher.hash(password)
    with store.transaction() as conn:
        row = _row(conn, name)
        conn.execute(t.users.update().where(t.users.c.id == row.id).values(password_hash=digest))
        revoke_sessions(store, name, conn=conn)
        conn.execute(
            t.login_failures.delete().where(t.login_failures.c.name_key == _throttle_key(row.name))
        )


def name_collisions(store: Store) -> list[list[str]]:
    """Groups of existing names that compare equal under today's rules (older stores)."""
    groups: dict[str, list[str]] = {}
    for user in store.users():
        groups.setdefault(name_key(user.name), []).append(user.name)
    return [names for names in groups.values() if len(names) > 1]


# -- login throttling (per account) ----------------------------------------------------


def login_wait(store: Store, name: str, now: float) -> float:
    """Seconds before ``name`` may try to log in again (0: now).

    After :data:`LOCK_AFTER` failures within :data:`LOCK_WINDOW`, each further failure
    doubles the wait from :data:`LOCK_FIRST_SECONDS` up to :data:`LOCK_MAX_SECONDS`,
    counted from the latest failure. Works for unknown names too (no enumeration).
    """
    f = t.login_failures
    with store.engine.connect() as conn:
        count, last = conn.execute(
            sa.select(sa.func.count(), sa.func.max(f.c.at)).where(
                f.c.name_key == _throttle_key(name), f.c.at > now - LOCK_WINDOW
            )
        ).one()
    if not count or count < LOCK_AFTER:
        return 0.0
    wait = min(LOCK_MAX_SECONDS, LOCK_FIRST_SECONDS * 2.0 ** (int(count) - LOCK_AFTER))
    return max(0.0, float(last) + wait - now)


def record_login_failure(store: Store, name: str, now: float) -> None:
    with store.transaction() as conn:
        conn.execute(t.login_failures.insert().values(name_key=_throttle_key(name), at=now))
        # keep the table small: failures older than the window no longer count
        conn.execute(t.login_failures.delete().where(t.login_failures.c.at < now - LOCK_WINDOW))


def clear_login_failures(store: Store, name: str) -> None:
    """Lift a lockout (an admin's action, or a successful login)."""
    with store.transaction() as conn:
        conn.execute(
            t.login_failures.delete().where(t.login_failures.c.name_key == _throttle_key(name))
        )


def _throttle_key(name: str) -> str:
    return name_key(unicodedata.normalize("NFKC", name).strip())[:400]
