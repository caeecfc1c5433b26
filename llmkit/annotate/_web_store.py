"""Queue reads for the web app that stay fast on long queues.

:meth:`Store.queue` decodes every conversation of the day's queue; a rating page needs
only the statuses (progress, previous and next) and one conversation. Same rules as
``Store.queue``: only the rater's own assignments, the latest sampled day by default,
never the gold flag nor anyone else's ratings.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import sqlalchemy as sa

from llmkit.annotate import _schema as t
from llmkit.annotate._store import QueueEntry, Store

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

    def to_dict(self) -> dict[str, Any]:
        return dict(self._asdict())


def _rows(store: Store, rater: str, day: str | None, columns: list[Any]) -> list[Any]:
    user = store.user(rater)
    a, s, sub = t.assignments, t.samples, t.submissions
    with store.engine.connect() as conn:
        if day is None:
            day = conn.execute(
                sa.select(sa.func.max(s.c.day))
                .select_from(a.join(s, a.c.sample_id == s.c.id))
                .where(a.c.rater_id == user.id)
            ).scalar()
            if day is None:
                return []
        latest = (
            sa.select(sub.c.assignment_id, sa.func.max(sub.c.id).label("sid"))
            .where(sub.c.rater_id == user.id, sub.c.assignment_id.is_not(None))
            .group_by(sub.c.assignment_id)
            .subquery()
        )
        return list(
            conn.execute(
                sa.select(
                    a.c.id,
                    a.c.item_id,
                    a.c.position,
                    s.c.day,
                    a.c.rubric_id,
                    sub.c.status,
                    *columns,
                )
                .select_from(
                    a.join(s, a.c.sample_id == s.c.id)
                    .outerjoin(latest, latest.c.assignment_id == a.c.id)
                    .outerjoin(sub, sub.c.id == latest.c.sid)
                )
                .where(a.c.rater_id == user.id, s.c.day == day)
                .order_by(a.c.sample_id, a.c.position)
            ).all()
        )


def queue_slots(store: Store, rater: str, *, day: str | None = None) -> list[QueueSlot]:
    """The rater's queue (latest day, or ``day``) in order, without the conversations."""
    # rows unpacked as plain tuples: attribute access on SQLAlchemy rows costs more
    return [
        QueueSlot(aid, item, pos, day_, rubric, status or "pending")
        for aid, item, pos, day_, rubric, status in _rows(store, rater, day, [])
    ]


def queue_entry(store: Store, rater: str, slot: QueueSlot) -> QueueEntry:
    """The full entry (with the conversation) for one of the rater's own slots."""
    with store.engine.connect() as conn:
        messages = conn.execute(
            sa.select(t.items.c.messages_json)
            .select_from(t.items.join(t.assignments, t.assignments.c.item_id == t.items.c.id))
            .where(
                t.assignments.c.id == slot.assignment_id,
                t.assignments.c.rater_id == store.user(rater, conn=conn).id,
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
