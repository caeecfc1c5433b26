"""The adjudicator's pages: disputed items, one item's ratings side by side, final labels."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from llmkit.annotate._adjudicate import adjudication_queue, final_labels, set_final_label
from llmkit.annotate._store import AnnotationError
from llmkit.annotate._web._context import Web
from llmkit.annotate._web._view import choices, render_messages, rows_of

__all__ = ["item_path", "routes"]

ADJUDICATORS = ("adjudicator", "admin")


def item_path(item_id: str) -> str:
    """``/adjudicate/<id>`` with the id as one path segment: ``/`` and dots encoded, so an
    id like ``a/../../admin`` cannot make the link point anywhere else."""
    return "/adjudicate/" + quote(item_id, safe="").replace(".", "%2E")


def routes(web: Web) -> list[Route]:
    store = web.store

    def adjudicate_list(request: Request) -> Response:
        user = web.current(request, *ADJUDICATORS)
        items: dict[str, list[Any]] = {}
        for d in adjudication_queue(store):
            items.setdefault(d.item_id, []).append(d)
        links = {item_id: item_path(item_id) for item_id in items}
        return web.page(request, "adjudicate_list.html", user, items=items, links=links)

    def adjudicate_item(request: Request) -> Response:
        user = web.current(request, *ADJUDICATORS)
        item_id = str(request.path_params["item_id"])
        try:
            conversation = store.conversation(item_id)
        except AnnotationError:
            raise HTTPException(404, "no such item") from None
        frame = store.ratings_frame()
        rows = rows_of(frame[frame["item_id"] == item_id])
        raters = sorted({str(r["rater"]) for r in rows})
        table: dict[str, dict[str, str]] = {}
        rubric_id = None
        for r in rows:
            table.setdefault(str(r["dimension"]), {})[str(r["rater"])] = str(r["value"])
            rubric_id = int(r["rubric_id"])
        rubric = store.rubric_version(rubric_id).rubric if rubric_id is not None else None
        disputed = {d.dimension for d in adjudication_queue(store) if d.item_id == item_id}
        finals = rows_of(final_labels(store))
        settled = {str(f["dimension"]): f for f in finals if f["item_id"] == item_id}
        dims = [
            {
                "dim": dim,
                "values": table.get(dim.key, {}),
                "choices": choices(dim, left=None),
                "disputed": dim.key in disputed,
                "final": settled.get(dim.key),
            }
            for dim in (rubric.dimensions if rubric else ())
        ]
        return web.page(
            request,
            "adjudicate.html",
            user,
            item_id=item_id,
            action=item_path(item_id),
            messages=render_messages(conversation.messages),
            raters=raters,
            dims=dims,
        )

    async def adjudicate_submit(request: Request) -> Response:
        user = await web.user(request, *ADJUDICATORS)
        form = await web.form(request)
        item_id = str(request.path_params["item_id"])

        def work() -> None:
            try:
                set_final_label(
                    store,
                    item_id,
                    str(form.get("dimension", "")),
                    str(form.get("value", "")),
                    by=user.name,
                    note=str(form.get("note", "")),
                )
            except AnnotationError as exc:
                raise HTTPException(400, str(exc)) from None
            request.session["flash"] = f"Final label set for {form.get('dimension')}."

        await run_in_threadpool(work)
        return RedirectResponse(item_path(item_id), 303)

    return [
        Route("/adjudicate", adjudicate_list),
        Route("/adjudicate/{item_id:path}", adjudicate_item, methods=["GET"]),
        Route("/adjudicate/{item_id:path}", adjudicate_submit, methods=["POST"]),
    ]
