"""User names that cannot impersonate, and the password hasher.

Names are compared NFKC-normalised and case-folded (``ＡＤＡ``, ``Ada`` and ``ada`` are one
name) and may not hold whitespace, control, format (bidi overrides such as U+202E) or
HTML characters. Stores made before these rules keep their users: names that now
collide are listed by ``llmkit annotate user list``, and new collisions are refused.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from llmkit.annotate import _schema as t
from llmkit.annotate._errors import AnnotationError
from llmkit.annotate._schema import name_key

if TYPE_CHECKING:
    from argon2 import PasswordHasher

__all__ = ["check_name", "default_hasher", "find_user_row", "name_key"]

_HTML = set("<>&\"'`/\\")


def default_hasher() -> PasswordHasher:
    """argon2id with argon2-cffi's (strong) defaults."""
    from argon2 import PasswordHasher

    return PasswordHasher()


def check_name(name: str) -> str:
    """``name`` NFKC-normalised, or an error naming the offending character.

    Raises:
        AnnotationError: empty, too long, or holding a space, control, format or HTML
            character.
    """
    text = unicodedata.normalize("NFKC", name).strip()
    if not text or len(text) > 100:
        raise AnnotationError(f"user name {name!r}: 1-100 characters")
    for char in text:
        category = unicodedata.category(char)
        if category[0] in "CZ" or char in _HTML:
            raise AnnotationError(
                f"user name {name!r}: U+{ord(char):04X} ({unicodedata.name(char, category)}) "
                "is not allowed (no spaces, control, bidi or HTML characters)"
            )
    return text


def find_user_row(conn: sa.Connection, name: str) -> Any:
    """The users row for ``name`` (compared by :func:`name_key`), or ``None``.

    Where an old store holds two names with one key, the exact spelling wins.
    """
    text = unicodedata.normalize("NFKC", name).strip()
    return conn.execute(
        sa.select(t.users)
        .where(t.users.c.name_key == name_key(text))
        .order_by(sa.case((t.users.c.name == text, 0), else_=1), t.users.c.id)
        .limit(1)
    ).first()
