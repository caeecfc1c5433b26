"""Helpers shared by CLI commands: consoles, JSON output, turning llmkit errors into exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from llmkit._exceptions import LLMKitError

__all__ = ["console", "err_console", "fail_cleanly", "json_option", "print_json"]

F = TypeVar("F", bound=Callable[..., Any])


def console() -> Any:
    from rich.console import Console

    return Console()


def err_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def json_option(func: F) -> F:
    """The ``--json`` flag every command that prints a human report has."""
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")(
        func
    )


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, allow_nan=False, default=str) + "\n")


@contextmanager
def fail_cleanly() -> Iterator[None]:
    """Turn an llmkit error into one red line and exit status 1, never a traceback."""
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
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        err_console().print("[yellow]interrupted[/]")
        raise SystemExit(130) from None
