"""The admin's pages: overview, import, sample, assign, accounts, report files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from llmkit.annotate._store import AnnotationError, Store, User
from llmkit.annotate._web._admin import (
    do_assign,
    do_import,
    do_sample,
    do_user,
    overview,
    queue_overview,
    report_file,
)
from llmkit.annotate._web._context import Web

__all__ = ["routes"]

Action = Callable[[Store, dict[str, Any], User], str]


def routes(web: Web) -> list[Route]:
    store = web.store

    def admin_page(request: Request) -> Response:
        user = web.current(request, "admin")
        return web.page(request, "admin.html", user, **overview(store))

    def admin_action(
        action: Action, limit: int | None = None, *, refresh: bool = False
    ) -> Callable[..., Any]:
        """A POST endpoint for ``action``; ``refresh``: a change the page's counts or user
        list show, so an htmx request reloads the page (the message comes as its flash)."""

        async def endpoint(request: Request) -> Response:
            user = await web.user(request, "admin")  # before a byte of the body is read
            form = await web.form(request, limit=limit)
            uploads = {}
            for key, value in form.multi_items():
                if hasattr(value, "read"):
                    uploads[key] = await value.read()

            def work() -> str:
                try:
                    return action(store, {**dict(form), **uploads}, user)
                except (AnnotationError, ValueError) as exc:
                    return f"Refused: {exc}"

            message = await run_in_threadpool(work)
            if request.headers.get("hx-request"):
                template = web.templates.env.get_template("_result.html")
                fragment = HTMLResponse(template.render(msg=message))
                if refresh and not message.startswith("Refused"):
                    request.session["flash"] = message
                    fragment.headers["HX-Refresh"] = "true"
                return fragment
            request.session["flash"] = message
            return RedirectResponse("/admin", 303)

        return endpoint

    def admin_queue(request: Request) -> Response:
        """Every rater's queue in one table, filtered by status, day, rater, disagreement."""
        user = web.current(request, "admin")
        rows = queue_overview(store)
        query = request.query_params
        chosen = {k: query.get(k, "") for k in ("status", "day", "rater", "disputed")}
        shown = [
            r
            for r in rows
            if all(not v or str(r[k]) == v for k, v in chosen.items() if k != "disputed")
            and (not chosen["disputed"] or r["disputed"])
        ]
        return web.page(
            request,
            "admin_queue.html",
            user,
            rows=shown,
            total=len(rows),
            chosen=chosen,
            days=sorted({str(r["day"]) for r in rows}),
            raters=sorted({str(r["rater"]) for r in rows}),
            statuses=("pending", "rated", "skipped"),
        )

    def admin_file(request: Request) -> Response:
        web.current(request, "admin")
        what = str(request.path_params["what"])
        try:
            body, media = report_file(store, what)
        except LookupError:
            raise HTTPException(404, "no such report") from None
        except AnnotationError as exc:
            raise HTTPException(400, str(exc)) from None
        return Response(body, media_type=media)

    return [
        Route("/admin", admin_page),
        Route(
            "/admin/import",
            admin_action(do_import, web.settings.import_limit, refresh=True),
            methods=["POST"],
        ),
        Route("/admin/sample", admin_action(do_sample), methods=["POST"]),
        Route("/admin/assign", admin_action(do_assign), methods=["POST"]),
        Route("/admin/users", admin_action(do_user, refresh=True), methods=["POST"]),
        Route("/admin/queue", admin_queue),
        Route("/admin/files/{what}", admin_file),
    ]
