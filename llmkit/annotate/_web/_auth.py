"""Log in, log out, and the home redirect.

Logins are limited twice before any password is hashed: per client address (a sliding
minute) and per account (after 10 failures in 15 minutes the account waits, the wait
doubling up to 15 minutes; an admin can lift it). Hashing runs on one thread of its own,
so a flood of guesses cannot starve the raters' pages.
"""

from __future__ import annotations

import math
import secrets
from collections import deque

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from llmkit.annotate._accounts import clear_login_failures, login_wait, record_login_failure
from llmkit.annotate._sessions import end_session, open_session, read_session
from llmkit.annotate._web._context import Web

__all__ = ["AddressLimiter", "routes"]


class AddressLimiter:
    """At most ``per_minute`` attempts per client address in any sliding minute."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.seen: dict[str, deque[float]] = {}

    def wait(self, address: str, now: float) -> float:
        """Seconds to wait before the next attempt (0: go ahead, and it is counted)."""
        times = self.seen.setdefault(address, deque())
        while times and times[0] <= now - 60:
            times.popleft()
        if len(times) >= self.per_minute:
            return times[0] + 60 - now
        times.append(now)
        if len(self.seen) > 10_000:  # forget idle addresses so the map stays small
            for key in [k for k, v in self.seen.items() if not v or v[-1] <= now - 60]:
                del self.seen[key]
        return 0.0


def _too_many(web: Web, request: Request, wait: float, name: str) -> Response:
    seconds = max(1, math.ceil(wait))
    response = web.page(
        request,
        "login.html",
        None,
        error=f"Too many attempts: try again in {seconds} seconds.",
        name=name,
    )
    response.status_code = 429
    response.headers["Retry-After"] = str(seconds)
    return response


def _local_path(value: object) -> str:
    """``value`` when it is a path on this site (never ``//host`` or a URL), else ``/``."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return "/"
    return "/" if "\\" in value or any(ord(c) < 32 for c in value) else value


def routes(web: Web) -> list[Route]:
    store = web.store
    limiter = AddressLimiter(web.settings.logins_per_minute)

    def login_form(request: Request) -> Response:
        return web.page(request, "login.html", None, error="", name="")

    async def login(request: Request) -> Response:
        address = request.client.host if request.client else "-"
        wait = limiter.wait(address, web.now())
        if wait > 0:  # the cheapest answer: a flood must not cost a page render each
            seconds = str(max(1, math.ceil(wait)))
            return PlainTextResponse(
                f"Too many login attempts from your address: try again in {seconds} seconds.",
                429,
                headers={"Retry-After": seconds},
            )
        form = await web.form(request)
        name = str(form.get("name", "")).strip()[:200]
        password = str(form.get("password", ""))[:1000]
        wait = await run_in_threadpool(login_wait, store, name, web.now())
        if wait > 0:
            return _too_many(web, request, wait, name)
        user = await web.hash_work(store.verify_password, name, password)
        if user is None:
            await run_in_threadpool(record_login_failure, store, name, web.now())
            response = web.page(
                request, "login.html", None, error="Wrong name or password.", name=name
            )
            response.status_code = 401
            return response
        await run_in_threadpool(clear_login_failures, store, name)
        token = await run_in_threadpool(open_session, store, user.id, web.now())
        target = _local_path(request.session.get("next"))
        draft = request.session.get("draft")  # a form kept when the last session ended
        request.session.clear()  # a fresh session (and CSRF token) on each login
        request.session.update(sid=token, csrf=secrets.token_urlsafe(32))
        if isinstance(draft, str):
            request.session["draft"] = draft
        return RedirectResponse(target, 303)

    async def logout(request: Request) -> Response:
        await web.form(request)
        token = request.session.get("sid")
        if isinstance(token, str):
            state = await run_in_threadpool(read_session, store, token)
            if state is not None:
                await run_in_threadpool(end_session, store, state.id, web.now())
        request.session.clear()
        return RedirectResponse("/login", 303)

    def home(request: Request) -> Response:
        user = web.current(request)
        target = {"admin": "/admin", "adjudicator": "/adjudicate"}.get(user.role, "/rate")
        return RedirectResponse(target, 303)

    return [
        Route("/", home),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]
