"""What a chat call accepts as its messages, shared by the client and ``Client.structured``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["Messages", "as_messages"]

Messages = str | Sequence[Mapping[str, Any]]


def as_messages(messages: Messages) -> list[dict[str, Any]]:
    """A fresh list of message dicts; a bare string is one user message."""
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    return [dict(m) for m in messages]
