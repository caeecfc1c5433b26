"""The raters' web app: routes for login, rating, the queue, adjudication and admin.

Every page checks the signed session and the user's role (read from the store on each
request, so a changed role counts at once); every POST checks the CSRF token. Raters
reach assignments only through their own queue, so an id from someone else's queue
answers 404 exactly like a missing one.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from llmkit.annotate import AnnotationError, QueueEntry, Store, User
from llmkit.annotate._web._security import SecurityHeaders, csrf_token, verified_form
from llmkit.annotate._web._view import (
    choices,
    pairwise_left,
    render_messages,
    rows_of,
    split_pairwise,
)
from llmkit.annotate._web_store import QueueSlot, queue_entry, queue_slots

__all__ = ["SESSION_MAX_AGE", "create_app"]

HERE = Path(__file__).parent
SESSION_MAX_AGE = 8 * 3600  # one working day
SKIP_REASONS = ("not in my language", "unreadable or broken", "needs domain expertise", "other")


class _LoginRequired(Exception):
    pass


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every string from the store is escaped
        undefined=jinja2.StrictUndefined,
    )
    return Jinja2Templates(env=env)


def create_app(
    store: Store,
    *,
    secret_key: str | None = None,
    session_max_age: int = SESSION_MAX_AGE,
    https_only: bool = False,
) -> Starlette:
    """The ASGI app over ``store``.

    Args:
        store: the annotation store.
        secret_key: signs session cookies (default: random, so sessions end with the process).
        session_max_age: seconds a login lasts.
        https_only: mark the session cookie Secure (set it behind HTTPS).
    """
    templates = _templates()

    def page(request: Request, template: str, user: User | None, **context: Any) -> Response:
        context.update(user=user, csrf=csrf_token(request), flash=request.session.pop("flash", ""))
        return templates.TemplateResponse(request, template, context)

    def current(request: Request, *roles: str) -> User:
        name = request.session.get("user")
        if not isinstance(name, str):
            raise _LoginRequired
        try:
            user = store.user(name)
        except AnnotationError:
            request.session.clear()
            raise _LoginRequired from None
        if not user.active:
            request.session.clear()
            raise _LoginRequired
        if roles and user.role not in roles:
            raise HTTPException(403, f"this page is for {' or '.join(roles)}s")
        return user

    # -- login ----------------------------------------------------------------------------

    def login_form(request: Request) -> Response:
        return page(request, "login.html", None, error="", name="")

    async def login(request: Request) -> Response:
        form = await verified_form(request)
        name = str(form.get("name", "")).strip()
        password = str(form.get("password", ""))
        user = await run_in_threadpool(store.verify_password, name, password)
        if user is None:
            response = page(request, "login.html", None, error="Wrong name or password.", name=name)
            response.status_code = 401
            return response
        request.session.clear()  # a fresh session (and CSRF token) on each login
        request.session.update(user=user.name, csrf=secrets.token_urlsafe(32))
        return RedirectResponse("/", 303)

    async def logout(request: Request) -> Response:
        await verified_form(request)
        request.session.clear()
        return RedirectResponse("/login", 303)

    def home(request: Request) -> Response:
        user = current(request)
        target = {"admin": "/admin", "adjudicator": "/adjudicate"}.get(user.role, "/rate")
        return RedirectResponse(target, 303)

    # -- rating ---------------------------------------------------------------------------

    def own_entry(user: User, assignment_id: int) -> tuple[QueueEntry, list[QueueSlot]]:
        slots = queue_slots(store, user.name)
        for slot in slots:
            if slot.assignment_id == assignment_id:
                return queue_entry(store, user.name, slot), slots
        # the same answer for someone else's assignment and for none at all
        raise HTTPException(404, "no such item in your queue")

    def next_pending(queue: list[QueueSlot], after: int = -1) -> QueueSlot | None:
        pending = [e for e in queue if e.status == "pending"]
        later = [e for e in pending if e.position > after]
        return (later or pending)[0] if pending else None

    def rate_next(request: Request) -> Response:
        user = current(request)
        slot = next_pending(queue_slots(store, user.name))
        return RedirectResponse(f"/rate/{slot.assignment_id}" if slot else "/queue", 303)

    def rate_page(request: Request) -> Response:
        user = current(request)
        entry, queue = own_entry(user, int(request.path_params["assignment_id"]))
        version = store.rubric_version(entry.rubric_id)
        rubric = version.rubric
        mine = store.own_ratings(user.name, entry.item_id) if entry.status == "rated" else {}
        context_msgs, pair = split_pairwise(entry.messages)
        left = pairwise_left(entry.assignment_id)
        right = "B" if left == "A" else "A"
        dims = []
        for dim in rubric.dimensions:
            dims.append(
                {
                    "dim": dim,
                    "choices": choices(dim, left=left),
                    "value": mine.get(dim.key, dim.default or ""),
                }
            )
        index = next(i for i, e in enumerate(queue) if e.assignment_id == entry.assignment_id)
        done = sum(1 for e in queue if e.status != "pending")
        return page(
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
            prev_id=queue[index - 1].assignment_id if index > 0 else None,
            next_id=queue[index + 1].assignment_id if index + 1 < len(queue) else None,
            shown_at=f"{time.time():.3f}",
            skip_reasons=SKIP_REASONS,
        )

    async def rate_submit(request: Request) -> Response:
        form = await verified_form(request)
        assignment_id = int(request.path_params["assignment_id"])

        def work() -> str:
            user = current(request)
            entry, queue = own_entry(user, assignment_id)
            rubric = store.rubric_version(entry.rubric_id).rubric
            values = {d.key: str(form.get(f"dim.{d.key}", "")) for d in rubric.dimensions}
            extra: dict[str, Any] = {}
            if split_pairwise(entry.messages)[1]:
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
            refreshed = [
                e if e.assignment_id != assignment_id else _with_status(e, "rated") for e in queue
            ]
            following = next_pending(refreshed, entry.position)
            return f"/rate/{following.assignment_id}" if following else "/queue"

        return RedirectResponse(await run_in_threadpool(work), 303)

    async def skip_submit(request: Request) -> Response:
        form = await verified_form(request)
        assignment_id = int(request.path_params["assignment_id"])
        reason = str(form.get("reason", "")).strip()
        detail = str(form.get("detail", "")).strip()
        if detail:
            reason = f"{reason}: {detail}" if reason else detail

        def work() -> str:
            user = current(request)
            entry, queue = own_entry(user, assignment_id)
            try:
                store.skip(user.name, entry.assignment_id, reason)
            except AnnotationError as exc:
                raise HTTPException(400, str(exc)) from None
            refreshed = [
                e if e.assignment_id != assignment_id else _with_status(e, "skipped") for e in queue
            ]
            following = next_pending(refreshed, entry.position)
            return f"/rate/{following.assignment_id}" if following else "/queue"

        return RedirectResponse(await run_in_threadpool(work), 303)

    def queue_page(request: Request) -> Response:
        user = current(request)
        queue = queue_slots(store, user.name)
        done = sum(1 for e in queue if e.status != "pending")
        return page(request, "queue.html", user, queue=queue, done=done)

    # -- adjudication ---------------------------------------------------------------------

    def adjudicate_list(request: Request) -> Response:
        user = current(request, "adjudicator", "admin")
        from llmkit.annotate import adjudication_queue

        disputes = adjudication_queue(store)
        items: dict[str, list[Any]] = {}
        for d in disputes:
            items.setdefault(d.item_id, []).append(d)
        return page(request, "adjudicate_list.html", user, items=items)

    def adjudicate_item(request: Request) -> Response:
        user = current(request, "adjudicator", "admin")
        from llmkit.annotate import adjudication_queue, final_labels

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
        dims = []
        for dim in rubric.dimensions if rubric else ():
            dims.append(
                {
                    "dim": dim,
                    "values": table.get(dim.key, {}),
                    "choices": choices(dim, left=None),
                    "disputed": dim.key in disputed,
                    "final": settled.get(dim.key),
                }
            )
        return page(
            request,
            "adjudicate.html",
            user,
            item_id=item_id,
            messages=render_messages(conversation.messages),
            raters=raters,
            dims=dims,
        )

    async def adjudicate_submit(request: Request) -> Response:
        form = await verified_form(request)
        item_id = str(request.path_params["item_id"])

        def work() -> None:
            from llmkit.annotate import set_final_label

            user = current(request, "adjudicator", "admin")
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
        return RedirectResponse(f"/adjudicate/{_quote(item_id)}", 303)

    # -- admin ----------------------------------------------------------------------------

    def admin_page(request: Request) -> Response:
        user = current(request, "admin")
        from llmkit.annotate._web._admin import overview

        return page(request, "admin.html", user, **overview(store))

    def admin_action(action: Callable[[Store, Any, User], str]) -> Callable[..., Any]:
        async def endpoint(request: Request) -> Response:
            form = await verified_form(request)
            uploads = {}
            for key, value in form.multi_items():
                if hasattr(value, "read"):
                    uploads[key] = await value.read()

            def work() -> str:
                user = current(request, "admin")
                try:
                    return action(store, {**dict(form), **uploads}, user)
                except (AnnotationError, ValueError) as exc:
                    return f"Refused: {exc}"

            message = await run_in_threadpool(work)
            if request.headers.get("hx-request"):
                return HTMLResponse(templates.env.get_template("_result.html").render(msg=message))
            request.session["flash"] = message
            return RedirectResponse("/admin", 303)

        return endpoint

    def admin_file(request: Request) -> Response:
        current(request, "admin")
        from llmkit.annotate._web._admin import report_file

        what = str(request.path_params["what"])
        try:
            body, media = report_file(store, what)
        except LookupError:
            raise HTTPException(404, "no such report") from None
        except AnnotationError as exc:
            raise HTTPException(400, str(exc)) from None
        return Response(body, media_type=media)

    from llmkit.annotate._web._admin import do_assign, do_import, do_sample

    routes = [
        Route("/", home),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/rate", rate_next),
        Route("/rate/{assignment_id:int}", rate_page, methods=["GET"]),
        Route("/rate/{assignment_id:int}", rate_submit, methods=["POST"]),
        Route("/rate/{assignment_id:int}/skip", skip_submit, methods=["POST"]),
        Route("/queue", queue_page),
        Route("/adjudicate", adjudicate_list),
        Route("/adjudicate/{item_id:path}", adjudicate_item, methods=["GET"]),
        Route("/adjudicate/{item_id:path}", adjudicate_submit, methods=["POST"]),
        Route("/admin", admin_page),
        Route("/admin/import", admin_action(do_import), methods=["POST"]),
        Route("/admin/sample", admin_action(do_sample), methods=["POST"]),
        Route("/admin/assign", admin_action(do_assign), methods=["POST"]),
        Route("/admin/files/{what}", admin_file),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]

    async def login_required(request: Request, exc: Exception) -> Response:
        if request.method in ("GET", "HEAD"):
            return RedirectResponse("/login", 303)
        return HTMLResponse("log in first", 403)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        html = templates.env.get_template("error.html").render(
            status=exc.status_code, detail=exc.detail
        )
        return HTMLResponse(html, exc.status_code)

    return Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=secret_key or secrets.token_urlsafe(32),
                session_cookie="llmkit_annotate",
                max_age=session_max_age,
                same_site="strict",
                https_only=https_only,
            ),
        ],
        exception_handlers={_LoginRequired: login_required, HTTPException: http_error},
    )


def _with_status(entry: QueueSlot, status: str) -> QueueSlot:
    return entry._replace(status=status)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")
