"""Queue reads for the web app that stay fast on long queues.

:meth:`Store.queue` decodes every conversation of the day's queue; a rating page needs
only the statuses (progress, previous and next) and one conversation. Same rules as
``Store.queue``: only the rater's own assignments, the latest sampled day (after earlier
days' unfinished items) by default,
never the gold flag nor anyone else's ratings.
"""

from __future__ import annotations

import json
import threading
from typing import Any, NamedTuple

import sqlalchemy as sa

from llmkit.annotate import _schema as t
from llmkit.annotate._queue import queue_rows
from llmkit.annotate._store import QueueEntry, Store

__all__ = ["QueueCache", "QueueSlot", "queue_entry", "queue_slots"]


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


class QueueCache:
    """Each rater's queue (slots, no conversations), reused while it cannot have changed.

    A queue changes only when the rater submits or is assigned more (rows are never
    updated or deleted), so its version is ``(the rater's submission count, their newest
    assignment id)``: one indexed query instead of the whole queue. After a submit through
    this app, :meth:`submitted` moves the cached copy on by one submission; had anyone else
    submitted for the rater meanwhile, the count is off and the next read rebuilds.
    """

    def __init__(self, store: Store, max_raters: int = 1000) -> None:
        self.store = store
        self.max_raters = max_raters
        self._lock = threading.Lock()
        self._cached: dict[int, tuple[tuple[int, int], list[QueueSlot]]] = {}

    def _version(self, rater_id: int) -> tuple[int, int]:
        sub, a = t.submissions, t.assignments
        with self.store.engine.connect() as conn:
            count, newest = conn.execute(
                sa.select(
                    sa.select(sa.func.count())
                    .select_from(sub)
                    .where(sub.c.rater_id == rater_id)
                    .scalar_subquery(),
                    sa.select(sa.func.max(a.c.id))
                    .where(a.c.rater_id == rater_id)
                    .scalar_subquery(),
                )
            ).one()
        return int(count or 0), int(newest or 0)

    def slots(self, rater: str, rater_id: int) -> list[QueueSlot]:
        """The rater's queue as :func:`queue_slots` reads it (a list not to be changed)."""
        version = self._version(rater_id)  # read before the queue: a race only rebuilds
        with self._lock:
            hit = self._cached.get(rater_id)
        if hit is not None and hit[0] == version:
            return hit[1]
        slots = queue_slots(self.store, rater, rater_id=rater_id)
        with self._lock:
            if len(self._cached) >= self.max_raters:
                self._cached.clear()
            self._cached[rater_id] = (version, slots)
        return slots

    def submitted(
        self, rater_id: int, assignment_id: int, status: str, reason: str | None
    ) -> list[QueueSlot] | None:
        """The rater's own submit just stored ``status`` for ``assignment_id``: the queue
        now (``None`` when none was cached)."""
        with self._lock:
            hit = self._cached.get(rater_id)
            if hit is None:
                return None
            (count, newest), slots = hit
            moved = [
                e._replace(status=status, skip_reason=reason)
                if e.assignment_id == assignment_id
                else e
                for e in slots
            ]
            self._cached[rater_id] = ((count + 1, newest), moved)
            return moved
