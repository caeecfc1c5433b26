"""The annotation store's plain records: users, rubric versions, conversations, queue entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from llmkit.annotate._rubric import Rubric

__all__ = ["ROLES", "Conversation", "QueueEntry", "Role", "RubricVersion", "User"]

Role = Literal["rater", "adjudicator", "admin"]
ROLES: tuple[str, ...] = ("rater", "adjudicator", "admin")


@dataclass(frozen=True)
class User:
    """A person who rates, adjudicates or administers."""

    id: int
    name: str
    role: str
    active: bool = True

    def to_dict(self) -> dict[str, Any]:
        """The account as plain JSON-ready data (never the password hash)."""
        return {"id": self.id, "name": self.name, "role": self.role, "active": self.active}


@dataclass(frozen=True)
class RubricVersion:
    """A rubric as the store numbered it.

    Attributes:
        id: the row id (what ratings reference).
        name: the rubric's name.
        version: 1, 2, ... per name, in the order the store first saw each content.
        content_hash: SHA-256 of the validated content.
        rubric: the rubric itself.
    """

    id: int
    name: str
    version: int
    content_hash: str
    rubric: Rubric

    def to_dict(self) -> dict[str, Any]:
        """The stored version as plain JSON-ready data."""
        return {
            "id": self.id,
            "name": self.name,
            "version": self.version,
            "content_hash": self.content_hash,
        }


@dataclass(frozen=True)
class Conversation:
    """One conversation to rate.

    Attributes:
        id: unique id (from the import file or the call log).
        messages: chat-format messages (``role``, ``content``).
        metadata: free fields (model, prompt version, structured stage, latency band...).
        gold: known answers per dimension, for gold items.
        alternatives: for pairwise A/B items, the two answers to compare (``A``, ``B``).
    """

    id: str
    messages: tuple[dict[str, Any], ...]
    metadata: dict[str, Any] = field(default_factory=dict)
    gold: dict[str, str] = field(default_factory=dict)
    alternatives: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The conversation as plain JSON-ready data (the import format)."""
        out: dict[str, Any] = {
            "id": self.id,
            "messages": list(self.messages),
            "metadata": self.metadata,
        }
        if self.gold:
            out["gold"] = self.gold
        if self.alternatives:
            out["alternatives"] = self.alternatives
        return out


@dataclass(frozen=True)
class QueueEntry:
    """One item in a rater's queue, as the rater may see it (no gold flag, no others' ratings).

    Attributes:
        assignment_id: the assignment (pass it to :meth:`Store.rate`).
        item_id: the conversation's id.
        position: 0-based place in the day's queue.
        day: the sample's day (``YYYY-MM-DD``).
        rubric_id: the rubric version to rate with.
        status: ``pending``, ``rated`` or ``skipped`` (the rater's own latest submission).
        messages: the conversation.
        alternatives: pairwise items' answers ``A`` and ``B`` (empty otherwise).
        left: which alternative to show on the left, drawn once per assignment so a reload
            shows the same sides; :meth:`Store.rate` records it.
    """

    assignment_id: int
    item_id: str
    position: int
    day: str
    rubric_id: int
    status: str
    messages: tuple[dict[str, Any], ...]
    alternatives: dict[str, str] = field(default_factory=dict)
    left: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The queue entry as plain JSON-ready data."""
        return {
            "alternatives": self.alternatives,
            "left": self.left,
            "assignment_id": self.assignment_id,
            "item_id": self.item_id,
            "position": self.position,
            "day": self.day,
            "rubric_id": self.rubric_id,
            "status": self.status,
            "messages": list(self.messages),
        }
