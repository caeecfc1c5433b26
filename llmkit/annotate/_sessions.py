"""Server-side login sessions and the drafts kept when one ends mid-rating.

The browser's cookie holds a random token; the store keeps only its SHA-256, so a copy of
the database cannot be replayed as cookies. A session ends when its user logs out, when
an admin (or a new password, or deactivation) revokes it, and when it has been idle too
long or has reached its absolute cap; the web app decides the last two with its clock.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from llmkit.annotate import _schema as t
from llmkit.annotate._store import Store, User

__all__ = [
    "SessionState",
    "end_session",
    "open_session",
    "read_session",
    "save_draft",
    "take_draft",
    "touch_session",
]


@dataclass(frozen=True)
class SessionState:
    """A stored session with its user, as read for one request."""

    id: str
    user: User
    created_at: float
    seen_at: float
    ended_at: float | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(store: Store, user_id: int, now: float) -> str:
    """A new session for the user; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    with store.transaction() as conn:
        conn.execute(
            t.sessions.insert().values(
                id=_digest(token), user_id=user_id, created_at=now, seen_at=now
            )
        )
    return token


def read_session(store: Store, token: str) -> SessionState | None:
    """The session and its user in one query, ended or not; ``None`` for an unknown token."""
    s, u = t.sessions, t.users
    with store.engine.connect() as conn:
        row = conn.execute(
            sa.select(s.c.id, s.c.created_at, s.c.seen_at, s.c.ended_at, u.c.id, u.c.name, u.c.role)
            .add_columns(u.c.active)
            .select_from(s.join(u, u.c.id == s.c.user_id))
            .where(s.c.id == _digest(token))
        ).first()
    if row is None:
        return None
    sid, created, seen, ended, user_id, name, role, active = row
    return SessionState(sid, User(user_id, name, role, bool(active)), created, seen, ended)


def touch_session(store: Store, session_id: str, now: float) -> None:
    """Record activity (the web app does so at most once a minute per session)."""
    with store.transaction() as conn:
        conn.execute(t.sessions.update().where(t.sessions.c.id == session_id).values(seen_at=now))


def end_session(store: Store, session_id: str, now: float) -> None:
    with store.transaction() as conn:
        conn.execute(
            t.sessions.update()
            .where(t.sessions.c.id == session_id, t.sessions.c.ended_at.is_(None))
            .values(ended_at=now)
        )


def save_draft(store: Store, user_id: int, path: str, form: dict[str, Any], now: float) -> None:
    """Keep a form the user sent after their session ended, to fill in after the next login."""
    d = t.drafts
    with store.transaction() as conn:
        conn.execute(d.delete().where(d.c.user_id == user_id, d.c.path == path))
        conn.execute(
            d.insert().values(user_id=user_id, path=path, form_json=json.dumps(form), saved_at=now)
        )


def take_draft(store: Store, user_id: int, path: str) -> dict[str, Any] | None:
    """The draft kept for ``path``, removed from the store (it goes back into the form)."""
    d = t.drafts
    with store.transaction() as conn:
        text = conn.execute(
            sa.select(d.c.form_json).where(d.c.user_id == user_id, d.c.path == path)
        ).scalar()
        if text is None:
            return None
        conn.execute(d.delete().where(d.c.user_id == user_id, d.c.path == path))
    form: dict[str, Any] = json.loads(text)
    return form
