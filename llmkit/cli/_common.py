"""Helpers shared by CLI commands: consoles, tables that fold, JSON output, exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from llmkit import ConfigError, LLMKitError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

__all__ = [
    "BadInputError",
    "console",
    "err_console",
    "fail_cleanly",
    "json_option",
    "make_table",
    "print_json",
    "require_extras",
]

F = TypeVar("F", bound=Callable[..., Any])


def console(file: IO[str] | None = None) -> Console:
    """The console for a command's report on stdout (or ``file``).

    On a terminal: its width, colour and live widgets. Piped or redirected: plain text
    (no colour codes, no spinners) at ``$COLUMNS`` or 80 columns; tables made by
    :func:`make_table` fold to fit that width instead of cutting cells.
    """
    from rich.console import Console

    return Console(file=file)


def err_console() -> Console:
    """Like :func:`console`, on stderr (progress, warnings, errors)."""
    from rich.console import Console

    return Console(stderr=True)


def make_table(
    *columns: str,
    title: str | None = None,
    numeric: Collection[str] = (),
    **options: Any,
) -> Table:
    """A rich table that fits its console by folding, never by cutting (no "31.…").

    Every column wraps (at spaces, folding long words); when the table is too wide, the
    widest columns give up room first, so short cells such as numbers stay whole as long
    as anything else can still wrap. No cell is cut or dropped, however narrow.

    Args:
        *columns: column headers, in order.
        title: the table's title.
        numeric: the headers of columns holding numbers (right-aligned).
        **options: further ``rich.table.Table`` options.
    """
    from rich.table import Table

    table = Table(title=title, **options)
    for name in columns:
        table.add_column(
            name, justify="right" if name in numeric else "left", overflow="fold", no_wrap=False
        )
    return table


class BadInputError(click.ClickException):
    """A file or value the user gave cannot be used: one line on stderr, exit status 2.

    Like a usage error, without the usage text: ``error: --scenario: FILE:3:7: ...``.
    """

    exit_code = 2

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", file=file or sys.stderr)


def require_extras(feature: str, *extras: str) -> None:
    """Exit 1 with one plain line naming the ``pip install`` when an extra is missing.

    Plain ``click.echo``, not rich: markup would eat the ``[bench]`` of the command.
    """
    from llmkit.extras import MissingExtraError, require_extra

    try:
        require_extra(feature, *extras)
    except MissingExtraError as exc:
        raise _MissingExtraExit(str(exc)) from None


class _MissingExtraExit(click.ClickException):
    exit_code = 1

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", file=file or sys.stderr)


def json_option(func: F) -> F:
    """The ``--json`` flag every command that prints a human report has."""
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")(
        func
    )


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, allow_nan=False, default=str) + "\n")


@contextmanager
def fail_cleanly(*, config_is_misuse: bool = True) -> Iterator[None]:
    """Turn an llmkit error into one red line, never a traceback.

    Exit status 2 for a :class:`~llmkit.ConfigError` (misuse: an argument, file or setting
    the user gave cannot be used), 1 for any other failure.

    Args:
        config_is_misuse: ``False`` where a ``ConfigError`` comes from the environment at
            run time (a port already taken), which is a failure (1), not misuse.
    """
    try:
        yield
    except LLMKitError as exc:
        from rich.markup import escape

        # Messages carry server text: escape it so brackets are not read as markup.
        err_console().print(
            f"[bold red]error:[/] {type(exc).__name__}: {escape(str(exc))}",
            highlight=False,
            soft_wrap=True,
        )
        misuse = config_is_misuse and isinstance(exc, ConfigError)
        raise SystemExit(2 if misuse else 1) from None
    except KeyboardInterrupt:
        err_console().print("[yellow]interrupted[/]")
        raise SystemExit(130) from None
