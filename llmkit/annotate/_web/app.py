"""The raters' web app: one place that puts the route modules and the security together.

Pages live in route modules by who uses them (``_auth``, ``_rate``,
``_adjudicate_routes``, ``_admin_routes``); the checks every request goes through (the
server-side session, the role, body limits, CSRF) live in ``_context.Web``; response
headers in ``_security``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from llmkit.annotate._store import Store
from llmkit.annotate._web import _adjudicate_routes, _admin_routes, _auth, _rate
from llmkit.annotate._web._context import (
    FORM_LIMIT,
    HERE,
    IMPORT_LIMIT,
    SESSION_IDLE,
    SESSION_MAX_AGE,
    LoginRequired,
    Settings,
    Web,
)
from llmkit.annotate._web._security import SecurityHeaders

__all__ = ["SESSION_IDLE", "SESSION_MAX_AGE", "create_app"]


def create_app(
    store: Store,
    *,
    secret_key: str | None = None,
    session_max_age: int = SESSION_MAX_AGE,
    session_idle: int = SESSION_IDLE,
    https_only: bool = False,
    form_limit: int = FORM_LIMIT,
    import_limit: int = IMPORT_LIMIT,
    logins_per_minute: int = 30,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """The ASGI app over ``store``.

    Args:
        store: the annotation store (sessions are kept there, so they can be revoked).
        secret_key: signs session cookies (default: random, so sessions end with the process).
        session_max_age: seconds a login lasts at most, however active.
        session_idle: seconds without a request after which a login ends.
        https_only: mark the session cookie Secure (set it behind HTTPS).
        form_limit: the largest request body a page form may send, in bytes.
        import_limit: the largest JSONL upload an admin may send, in bytes.
        logins_per_minute: login attempts allowed per client address in any minute.
        clock: epoch seconds now (tests move it forward instead of sleeping).
    """
    settings = Settings(
        session_max_age=session_max_age,
        session_idle=session_idle,
        https_only=https_only,
        form_limit=form_limit,
        import_limit=import_limit,
        logins_per_minute=logins_per_minute,
        clock=clock,
    )
    web = Web(store, settings)
    routes: list[BaseRoute] = [
        *_auth.routes(web),
        *_rate.routes(web),
        *_adjudicate_routes.routes(web),
        *_admin_routes.routes(web),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]

    async def login_required(request: Request, exc: Exception) -> Response:
        if request.method in ("GET", "HEAD"):
            request.session["next"] = request.url.path
            return RedirectResponse("/login", 303)
        return HTMLResponse("log in first", 403)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        html = web.templates.env.get_template("error.html").render(
            status=exc.status_code, detail=exc.detail
        )
        return HTMLResponse(html, exc.status_code, headers=exc.headers)

    return Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=secret_key or settings.secret_key,
                session_cookie="llmkit_annotate",
                max_age=session_max_age,
                same_site="strict",
                https_only=https_only,
            ),
        ],
        exception_handlers={LoginRequired: login_required, HTTPException: http_error},
    )
