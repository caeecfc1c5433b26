"""Queue reads for the web app that stay fast on long queues.

:meth:`Store.queue` decodes every conversation of the day's queue; a rating page needs
only the statuses (progress, previous and next) and one conversation. Same rules as
``Store.queue``: only the rater's own assignments, the latest sampled day (after earlier
days' unfinished items) by default,
never the gold flag nor anyone else's ratings.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import sqlalchemy as sa

from llmkit.annotate import _schema as t
from llmkit.annotate._store import QueueEntry, Store, queue_rows

__all__ = ["QueueSlot", "queue_entry", "queue_slots"]


class QueueSlot(NamedTuple):
    """One queue entry without its conversation.

    A NamedTuple, not a frozen dataclass: a page builds hundreds of these per request and
    a tuple is several times cheaper to create.
    """

    assignment_id: int
    item_id: str
    position: int
    day: str
    rubric_id: int
    status: str
    skip_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self._asdict())


def queue_slots(
    store: Store, rater: str, *, day: str | None = None, rater_id: int | None = None
) -> list[QueueSlot]:
    """The rater's queue (as :meth:`Store.queue` orders it) without the conversations."""
    # rows unpacked as plain tuples: attribute access on SQLAlchemy rows costs more
    return [
        QueueSlot(aid, item, pos, day_, rubric, status or "pending", reason)
        for aid, item, pos, day_, rubric, status, reason in queue_rows(
            store, rater, day, with_conversation=False, rater_id=rater_id
        )
    ]


def queue_entry(
    store: Store, rater: str, slot: QueueSlot, *, rater_id: int | None = None
) -> QueueEntry:
    """The full entry (with the conversation) for one of the rater's own slots."""
    with store.engine.connect() as conn:
        if rater_id is None:
            rater_id = store.user(rater, conn=conn).id
        messages = conn.execute(
            sa.select(t.items.c.messages_json)
            .select_from(t.items.join(t.assignments, t.assignments.c.item_id == t.items.c.id))
            .where(
                t.assignments.c.id == slot.assignment_id,
                t.assignments.c.rater_id == rater_id,
            )
        ).scalar()
    if messages is None:  # pragma: no cover - slots come from the rater's own queue
        raise LookupError(slot.assignment_id)
    return QueueEntry(
        assignment_id=slot.assignment_id,
        item_id=slot.item_id,
        position=slot.position,
        day=slot.day,
        rubric_id=slot.rubric_id,
        status=slot.status,
        messages=tuple(json.loads(messages)),
    )
