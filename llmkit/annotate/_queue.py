"""A rater's queue in one query: the rows :meth:`Store.queue` and the web app build on.

Only the rater's own assignments, never the gold flag nor anyone else's ratings. Without
a day, the latest sampled day's items come after every earlier day's item the rater has
neither rated nor skipped (oldest first): a new day never hides unfinished work.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from llmkit.annotate import _schema as t

if TYPE_CHECKING:
    from llmkit.annotate._store import Store

__all__ = ["queue_rows"]


def queue_rows(
    store: Store,
    rater: str,
    day: str | None,
    *,
    with_conversation: bool,
    rater_id: int | None = None,
) -> list[Any]:
    """Rows of a rater's queue, in order, in one query.

    With ``day``, that day's assignments. Without, the latest sampled day's, preceded by
    every earlier day's item the rater has neither rated nor skipped (oldest first): a new
    day never hides unfinished work.

    Each row is ``(id, item_id, position, day, rubric_id, status, skip_reason)``, then the
    conversation's ``messages_json`` and ``alternatives_json`` when ``with_conversation``
    (the web app's queue listing leaves them out: decoding them is most of its cost).
    ``rater_id`` (the user's id, when the caller has it) saves looking the name up.
    """
    user_id = store.user(rater).id if rater_id is None else rater_id
    a, s, sub = t.assignments, t.samples, t.submissions

    # Each assignment's newest submission by the rater, looked up per assignment in the
    # submissions_rater_assignment index: the cost follows the queue, not the store (a
    # join to a grouped subquery scanned it once per assignment on SQLite).
    def newest(column: Any) -> Any:
        return (
            sa.select(column)
            .where(sub.c.rater_id == user_id, sub.c.assignment_id == a.c.id)
            .order_by(sub.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )

    status = newest(sub.c.status)
    columns: list[Any] = [a.c.id, a.c.item_id, a.c.position, s.c.day, a.c.rubric_id]
    columns += [status.label("status"), newest(sub.c.skip_reason).label("skip_reason")]
    joined = a.join(s, a.c.sample_id == s.c.id)
    if with_conversation:
        columns += [t.items.c.messages_json, t.items.c.alternatives_json]
        joined = joined.join(t.items, t.items.c.id == a.c.item_id)
    if day is None:
        last_day = (
            sa.select(sa.func.max(s.c.day))
            .select_from(a.join(s, a.c.sample_id == s.c.id))
            .where(a.c.rater_id == user_id)
            .scalar_subquery()
        )
        which = sa.or_(s.c.day == last_day, status.is_(None))
    else:
        which = s.c.day == day
    with store.engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(*columns)
                .select_from(joined)
                .where(a.c.rater_id == user_id, which)
                .order_by(s.c.day, a.c.sample_id, a.c.position)
            ).all()
        )
