"""``llmkit annotate serve``: the raters' web app on a local port."""

from __future__ import annotations

import os
import socket
import sys

import click

from llmkit.cli._common import fail_cleanly, require_extras

__all__ = ["listening_socket", "serve"]

SECRET_ENV = "LLMKIT_ANNOTATE_SECRET"


@click.command("serve")
@click.option(
    "--db",
    envvar="LLMKIT_ANNOTATE_DB",
    help="Store: SQLAlchemy URL or SQLite file [default: $LLMKIT_HOME/annotate.db].",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0 picks a free one; the URL line says which).",
)
@click.option(
    "--secret-env",
    default=SECRET_ENV,
    show_default=True,
    help="Environment variable holding the session-signing key (unset: a random key, so "
    "logins end when the server stops).",
)
@click.option(
    "--session-hours",
    default=12.0,
    show_default=True,
    type=click.FloatRange(0.01, 24 * 30),
    help="How long a login lasts at most, however active.",
)
@click.option(
    "--idle-minutes",
    default=120.0,
    show_default=True,
    type=click.FloatRange(1, 24 * 60 * 30),
    help="A login ends after this long without a request (a form sent after that is kept "
    "and filled in again after the next login).",
)
@click.option("--https-only", is_flag=True, help="Secure cookies (behind an HTTPS proxy).")
def serve(
    db: str | None,
    host: str,
    port: int,
    secret_env: str,
    session_hours: float,
    idle_minutes: float,
    https_only: bool,
) -> None:
    """Serve the raters' web app: rating, queue, adjudication and admin pages."""
    require_extras("llmkit annotate serve", "web")
    import uvicorn

    from llmkit.annotate import Store, create_app

    with fail_cleanly():
        store = Store(db)
        app = create_app(
            store,
            secret_key=os.environ.get(secret_env) or None,
            session_max_age=int(session_hours * 3600),
            session_idle=int(idle_minutes * 60),
            https_only=https_only,
        )
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            sock = listening_socket(host, port)
        except OSError as exc:
            click.echo(f"error: cannot listen on {host}:{port}: {exc.strerror}", err=True)
            raise SystemExit(1) from None
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if family == socket.AF_INET6 else host
        print(f"llmkit annotate: serving on http://{shown}:{bound}/ (Ctrl+C stops)", flush=True)
        if host not in ("127.0.0.1", "::1", "localhost") and not https_only:
            click.echo(
                "warning: listening beyond this machine without --https-only: put it behind "
                "an HTTPS proxy so passwords and session cookies are not sent in clear",
                err=True,
            )
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        try:
            uvicorn.Server(config).run(sockets=[sock])
        finally:
            store.close()
    sys.exit(0)


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket for uvicorn, with Nagle off on every connection it accepts.

    asyncio turns Nagle off only on sockets whose ``proto`` is ``IPPROTO_TCP``; one made
    with ``socket.socket(family, SOCK_STREAM)`` has proto 0, so a response written as
    headers then body waited for the client's delayed ACK: 40 ms on every keep-alive
    request. Accepted sockets inherit ``TCP_NODELAY`` from the listening one on Linux.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock
