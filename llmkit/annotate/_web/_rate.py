"""The rater's pages: the rating form, submit and skip, and the queue.

Raters reach assignments only through their own queue, so an id from someone else's
queue answers 404 exactly like a missing one. A submit or a skip that arrives after the
session ended is never lost: its form is kept as a draft, and after logging in again the
rater lands on the same item with the same values (or the same skip reason) filled in, to
send again.
"""

from __future__ import annotations

import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from llmkit.annotate._sessions import save_draft, take_draft
from llmkit.annotate._store import AnnotationError, QueueEntry, User
from llmkit.annotate._web._context import LoginRequired, Web, csrf_ok, read_form
from llmkit.annotate._web._view import choices, pairwise_left, render_messages, split_pairwise
from llmkit.annotate._web_store import QueueCache, QueueSlot, queue_entry

__all__ = ["QUEUE_STATUSES", "SKIP_REASONS", "routes"]

QUEUE_STATUSES = ("pending", "rated", "skipped")
SKIP_REASONS = ("not in my language", "unreadable or broken", "needs domain expertise", "other")
STALE_FLASH = (
    "That page was out of date (you logged in again since it was opened), so nothing was "
    "saved yet: your answers are back in the form. Check them and submit again."
)
DRAFT_FLASH = (
    "Your session ended before that answer was saved. Log in again: the answers you gave "
    "are kept and will be back in the form."
)
SKIP_DRAFT_FLASH = (
    "Your session ended before that skip was saved. Log in again: the reason you gave is "
    "kept and will be back in the skip form."
)
SKIP_STALE_FLASH = (
    "That page was out of date (you logged in again since it was opened), so the item was "
    "not skipped yet: your reason is back in the skip form. Check it and skip again."
)
#: the draft field that marks a kept skip (rating fields all start with ``dim.``)
SKIP_MARK = "skip"


def _answers(form: Any) -> dict[str, str]:
    """The rating fields of a submitted form (what a draft keeps)."""
    return {k: str(v) for k, v in form.items() if k.startswith("dim.") or k == "shown_at"}


def _skip_answers(form: Any) -> dict[str, str]:
    """The fields of a skip form (what a draft keeps), marked as a skip."""
    return {
        SKIP_MARK: "1",
        "reason": str(form.get("reason", ""))[:200],
        "detail": str(form.get("detail", ""))[:500],
    }


def next_pending(queue: list[QueueSlot], after: int | None = None) -> QueueSlot | None:
    """The first pending slot after assignment ``after`` in queue order, else the first."""
    start = next((i for i, e in enumerate(queue) if e.assignment_id == after), -1)
    for slot in [*queue[start + 1 :], *queue[: start + 1]]:
        if slot.status == "pending":
            return slot
    return None


def routes(web: Web) -> list[Route]:
    store = web.store

    # Whether an item is pairwise, by id: items never change once imported, and the
    # submit that follows a page then needs no read of the conversation.
    pairwise: dict[str, bool] = {}

    queues = QueueCache(store)

    def own_slot(user: User, assignment_id: int) -> tuple[QueueSlot, list[QueueSlot]]:
        slots = queues.slots(user.name, user.id)
        for slot in slots:
            if slot.assignment_id == assignment_id:
                return slot, slots
        # the same answer for someone else's assignment and for none at all
        raise HTTPException(404, "no such item in your queue")

    def own_entry(user: User, assignment_id: int) -> tuple[QueueEntry, list[QueueSlot]]:
        slot, slots = own_slot(user, assignment_id)
        entry = queue_entry(store, user.name, slot, rater_id=user.id)
        if len(pairwise) > 100_000:
            pairwise.clear()
        pairwise[entry.item_id] = bool(split_pairwise(entry.messages)[1])
        return entry, slots

    def rate_next(request: Request) -> Response:
        user = web.current(request)
        slot = next_pending(queues.slots(user.name, user.id))
        return RedirectResponse(f"/rate/{slot.assignment_id}" if slot else "/queue", 303)

    def rate_page(request: Request) -> Response:
        user = web.current(request)
        entry, queue = own_entry(user, int(request.path_params["assignment_id"]))
        version = store.rubric_version(entry.rubric_id)
        rubric = version.rubric
        mine = store.own_ratings(user.name, entry.item_id) if entry.status == "rated" else {}
        draft: dict[str, Any] | None = None
        skip_draft: dict[str, str] | None = None
        if request.session.get("draft") == request.url.path:
            del request.session["draft"]
            draft = take_draft(store, user.id, request.url.path)
            if draft is not None and draft.get(SKIP_MARK):
                skip_draft = {k: str(draft.get(k, "")) for k in ("reason", "detail")}
                draft = None
            elif draft is not None:
                mine = {k[4:]: str(v) for k, v in draft.items() if k.startswith("dim.")}
        preselect = rubric.preselect_defaults and not mine
        context_msgs, pair = split_pairwise(entry.messages)
        left = pairwise_left(entry.assignment_id)
        right = "B" if left == "A" else "A"
        dims = [
            {
                "dim": dim,
                "choices": choices(dim, left=left),
                # nothing pre-selected unless the rubric asks: defaults are hints
                "value": mine.get(dim.key, (dim.default or "") if preselect else ""),
            }
            for dim in rubric.dimensions
        ]
        index = next(i for i, e in enumerate(queue) if e.assignment_id == entry.assignment_id)
        done = sum(1 for e in queue if e.status != "pending")
        skipped = sum(1 for e in queue if e.status == "skipped")
        shown_at = draft.get("shown_at") if draft else None
        return web.page(
            request,
            "rate.html",
            user,
            entry=entry,
            rubric=rubric,
            version=version,
            dims=dims,
            messages=render_messages(context_msgs),
            pair=[render_messages((pair[left],))[0], render_messages((pair[right],))[0]]
            if pair
            else [],
            left=left if pair else "",
            index=index,
            total=len(queue),
            done=done,
            skipped=skipped,
            prev_id=queue[index - 1].assignment_id if index > 0 else None,
            next_id=queue[index + 1].assignment_id if index + 1 < len(queue) else None,
            shown_at=shown_at if isinstance(shown_at, str) else f"{time.time():.3f}",
            skip_reasons=SKIP_REASONS,
            skip_draft=skip_draft,
        )

    async def keep_draft(
        request: Request, ended: LoginRequired, path: str, *, skip: bool = False
    ) -> Response:
        """The session ran out under the rater: keep the form for after the next login.

        ``path`` is the item's page, where the rater lands after logging in again.
        """
        assert ended.ended is not None
        form = await web.form(request)
        answers = _skip_answers(form) if skip else _answers(form)
        user_id = ended.ended.user.id
        await run_in_threadpool(save_draft, store, user_id, path, answers, web.now())
        request.session.pop("sid", None)
        flash = SKIP_DRAFT_FLASH if skip else DRAFT_FLASH
        request.session.update(next=path, draft=path, flash=flash)
        return RedirectResponse("/login", 303)

    async def sent_by(
        request: Request, page: str, *, skip: bool
    ) -> tuple[User, FormData] | Response:
        """The rater and the form of a rating or skip, or where the rater goes back to.

        A form sent after the session ended waits for the next login (:func:`keep_draft`).
        One from a page older than the rater's latest login (another tab, say) has a stale
        token but the rater's own answers: they come back in a fresh form on ``page`` to
        be sent again; nothing is stored from a request that may be forged.
        """
        try:
            user = await web.user(request)
        except LoginRequired as exc:
            if exc.ended is None:
                raise
            return await keep_draft(request, exc, page, skip=skip)
        form = await read_form(request, web.settings.form_limit)
        if not csrf_ok(request, form):
            answers = _skip_answers(form) if skip else _answers(form)
            await run_in_threadpool(save_draft, store, user.id, page, answers, web.now())
            request.session.update(draft=page, flash=SKIP_STALE_FLASH if skip else STALE_FLASH)
            return RedirectResponse(page, 303)
        return user, form

    def following_page(user: User, assignment_id: int, status: str, reason: str | None) -> str:
        """Where the rater goes after submitting: the next pending item, else the queue."""
        queue = queues.submitted(user.id, assignment_id, status, reason)
        following = next_pending(queue or queues.slots(user.name, user.id), assignment_id)
        return f"/rate/{following.assignment_id}" if following else "/queue"

    async def rate_submit(request: Request) -> Response:
        assignment_id = int(request.path_params["assignment_id"])
        sent = await sent_by(request, request.url.path, skip=False)
        if isinstance(sent, Response):
            return sent
        user, form = sent

        def work() -> str:
            entry, _ = own_slot(user, assignment_id)
            if entry.item_id not in pairwise:
                own_entry(user, assignment_id)
            rubric = store.rubric_version(entry.rubric_id).rubric
            values = {d.key: str(form.get(f"dim.{d.key}", "")) for d in rubric.dimensions}
            extra: dict[str, Any] = {}
            # dimensions the rater never chose: the rubric's default is stored, marked so
            # that metrics and agreement leave it out
            untouched = [
                d.key for d in rubric.dimensions if not values[d.key] and d.default is not None
            ]
            if untouched:
                extra["untouched"] = untouched
            if pairwise[entry.item_id]:
                extra["pairwise_left"] = pairwise_left(entry.assignment_id)
            try:
                seconds = max(0.0, min(86400.0, time.time() - float(str(form.get("shown_at")))))
            except ValueError:
                seconds = None
            try:
                store.rate(
                    user.name,
                    entry.item_id,
                    values,
                    assignment_id=entry.assignment_id,
                    seconds=seconds,
                    extra=extra or None,
                )
            except AnnotationError as exc:
                raise HTTPException(400, str(exc)) from None
            return following_page(user, assignment_id, "rated", None)

        return RedirectResponse(await run_in_threadpool(work), 303)

    async def skip_submit(request: Request) -> Response:
        assignment_id = int(request.path_params["assignment_id"])
        # the same care as a rating's: a skip that cannot be taken comes back in the skip form
        sent = await sent_by(request, f"/rate/{assignment_id}", skip=True)
        if isinstance(sent, Response):
            return sent
        user, form = sent
        reason = str(form.get("reason", "")).strip()
        detail = str(form.get("detail", "")).strip()
        if detail:
            reason = f"{reason}: {detail}" if reason else detail

        def work() -> str:
            entry, _ = own_slot(user, assignment_id)
            try:
                store.skip(user.name, entry.assignment_id, reason)
            except AnnotationError as exc:
                raise HTTPException(400, str(exc)) from None
            return following_page(user, assignment_id, "skipped", reason)

        return RedirectResponse(await run_in_threadpool(work), 303)

    def queue_page(request: Request) -> Response:
        user = web.current(request)
        queue = queues.slots(user.name, user.id)
        counts = {s: sum(1 for e in queue if e.status == s) for s in QUEUE_STATUSES}
        days = sorted({e.day for e in queue})
        status = request.query_params.get("status", "")
        day = request.query_params.get("day", "")
        shown = [
            e for e in queue if (not status or e.status == status) and (not day or e.day == day)
        ]
        return web.page(
            request,
            "queue.html",
            user,
            queue=queue,
            shown=shown,
            counts=counts,
            days=days,
            status=status if status in QUEUE_STATUSES else "",
            day=day if day in days else "",
            statuses=QUEUE_STATUSES,
        )

    return [
        Route("/rate", rate_next),
        Route("/rate/{assignment_id:int}", rate_page, methods=["GET"]),
        Route("/rate/{assignment_id:int}", rate_submit, methods=["POST"]),
        Route("/rate/{assignment_id:int}/skip", skip_submit, methods=["POST"]),
        Route("/queue", queue_page),
    ]
