"""What every route module shares: the store, templates, settings, clock, and the checks.

The order of checks on a request is fixed here: the session and the role first (from the
store, on every request, so a revoked session or a changed role counts at once), then the
body's size (by ``Content-Length``, then while it streams), and only then the form and
its CSRF token. An anonymous upload is refused before a byte of it is read.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from llmkit.annotate._sessions import SessionState, read_session, touch_session
from llmkit.annotate._store import Store, User
from llmkit.annotate._web._security import CSRF_FIELD, CSRF_HEADER, csrf_token

__all__ = [
    "FORM_LIMIT",
    "IMPORT_LIMIT",
    "SESSION_IDLE",
    "SESSION_MAX_AGE",
    "LoginRequired",
    "Settings",
    "Web",
    "csrf_ok",
    "read_form",
]

HERE = Path(__file__).parent
SESSION_MAX_AGE = 12 * 3600  # the absolute cap: one long working day
SESSION_IDLE = 2 * 3600  # activity slides the session on, up to the cap
FORM_LIMIT = 1 << 20  # 1 MiB: any form a page sends
IMPORT_LIMIT = 50 << 20  # 50 MiB: an admin's JSONL upload
TOUCH_EVERY = 60.0  # seconds between writes of a session's last activity


@dataclass(frozen=True)
class Settings:
    """The app's knobs (``create_app``'s keyword arguments)."""

    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    session_max_age: int = SESSION_MAX_AGE
    session_idle: int = SESSION_IDLE
    https_only: bool = False
    form_limit: int = FORM_LIMIT
    import_limit: int = IMPORT_LIMIT
    logins_per_minute: int = 30  # per client address
    clock: Callable[[], float] = time.time


class LoginRequired(Exception):
    """No live session. ``ended`` is the session that timed out (its form may be kept)."""

    def __init__(self, ended: SessionState | None = None) -> None:
        super().__init__("log in first")
        self.ended = ended


def _templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every string from the store is escaped
        undefined=jinja2.StrictUndefined,
    )
    return Jinja2Templates(env=env)


class Web:
    """The store, templates and settings, and the per-request checks routes call."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.templates = _templates()
        # One thread hashes passwords: a login flood queues here instead of taking the
        # event loop or every core from the raters' pages.
        self.hash_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llmkit-argon2")

    def now(self) -> float:
        return self.settings.clock()

    def page(self, request: Request, template: str, user: User | None, **context: Any) -> Response:
        context.update(user=user, csrf=csrf_token(request), flash=request.session.pop("flash", ""))
        return self.templates.TemplateResponse(request, template, context)

    def session(self, request: Request) -> SessionState:
        """The request's live session (sliding its idle time on), else :class:`LoginRequired`."""
        token = request.session.get("sid")
        if not isinstance(token, str):
            raise LoginRequired
        state = read_session(self.store, token)
        if state is None or state.ended_at is not None or not state.user.active:
            request.session.clear()
            raise LoginRequired
        now = self.now()
        cfg = self.settings
        if now - state.seen_at > cfg.session_idle or now - state.created_at > cfg.session_max_age:
            raise LoginRequired(state)
        if now - state.seen_at > TOUCH_EVERY:
            touch_session(self.store, state.id, now)
        return state

    def current(self, request: Request, *roles: str) -> User:
        """The logged-in user, who must hold one of ``roles`` (any role when none given)."""
        user = self.session(request).user
        if roles and user.role not in roles:
            raise HTTPException(403, f"this page is for {' or '.join(roles)}s")
        return user

    async def user(self, request: Request, *roles: str) -> User:
        """:meth:`current` off the event loop (it reads the store)."""
        return await run_in_threadpool(self.current, request, *roles)

    async def form(self, request: Request, *, limit: int | None = None) -> FormData:
        """The request's form: at most ``limit`` bytes, then the CSRF token checked.

        Raises:
            HTTPException: 413 over the limit, 403 when the CSRF token is missing or wrong.
        """
        form = await read_form(request, limit or self.settings.form_limit)
        if not csrf_ok(request, form):
            raise HTTPException(403, "CSRF token missing or wrong: reload the page and try again")
        return form

    async def hash_work(self, func: Callable[..., Any], *args: Any) -> Any:
        """Run password hashing on the single hashing thread."""
        return await asyncio.get_running_loop().run_in_executor(self.hash_pool, func, *args)


async def read_form(request: Request, limit: int) -> FormData:
    """The form, refusing bodies over ``limit`` bytes before and while reading them."""
    length = request.headers.get("content-length")
    if length is not None:
        if not length.isdigit():
            raise HTTPException(400, "Content-Length is not a number")
        if int(length) > limit:
            raise HTTPException(413, f"the request is over the {limit:,}-byte limit")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"the request is over the {limit:,}-byte limit")
    request._body = bytes(body)  # Starlette's form parser reads the cached body
    return await request.form()


def csrf_ok(request: Request, form: FormData) -> bool:
    """Whether the request sent its session's CSRF token (form field or header)."""
    sent = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    return (
        isinstance(sent, str)
        and isinstance(expected, str)
        and hmac.compare_digest(sent.encode(), expected.encode())
    )
