"""Helpers shared by CLI commands: consoles, tables that fold, JSON output, exit codes.

Every ``llmkit`` command keeps one exit-code contract, :class:`ExitCode`, documented once in
:data:`EXIT_CODES_HELP` (the epilog of every command's ``--help``).
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from enum import IntEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import click

from llmkit import LLMKitError, StructuredOutputError
from llmkit.cli._columns import printable

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

__all__ = [
    "EXIT_CODES_HELP",
    "EXIT_CODE_MEANINGS",
    "BadInputError",
    "ExitCode",
    "InconclusiveError",
    "OutputPath",
    "console",
    "deprecated_alias",
    "err_console",
    "exit_code_for",
    "fail_cleanly",
    "guard_command",
    "json_option",
    "make_table",
    "param_label",
    "print_json",
    "require_endpoint",
    "require_extras",
]

F = TypeVar("F", bound=Callable[..., Any])


class ExitCode(IntEnum):
    """The exit status of every ``llmkit`` command."""

    OK = 0
    #: a check failed: a regression, an SLO, an error rate, a parse that found no value.
    CHECK_FAILED = 1
    #: misuse or bad input: an argument, file, setting or endpoint that cannot be used.
    BAD_INPUT = 2
    #: the data cannot decide: too few samples, no usable items.
    INCONCLUSIVE = 3
    #: Ctrl-C (SIGINT).
    INTERRUPTED = 130
    #: SIGTERM.
    TERMINATED = 143


#: What each exit status means: the one source of ``--help``'s epilog and the docs' page.
EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "ok (also when a reader such as `head` closes the pipe early)",
    ExitCode.CHECK_FAILED: "a check failed: regression, SLO, error rate, no valid value",
    ExitCode.BAD_INPUT: (
        "misuse or bad input: an argument, file, setting or endpoint that cannot be used"
        " (a wrong key, a refused connection, a missing extra); one line names it"
    ),
    ExitCode.INCONCLUSIVE: "inconclusive: the data cannot decide (too few samples, no usable items)",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
    ExitCode.TERMINATED: "terminated (SIGTERM)",
}


def _exit_codes_help() -> str:
    import textwrap

    lines = ["\b", "Exit codes (every llmkit command):"]  # \b: click keeps the lines as they are
    for code, meaning in EXIT_CODE_MEANINGS.items():
        wrapped = textwrap.wrap(meaning, width=70)
        lines.append(f"  {int(code):<4} {wrapped[0]}")
        lines += [f"       {more}" for more in wrapped[1:]]
    return "\n".join(lines)


EXIT_CODES_HELP = _exit_codes_help()


def console(file: IO[str] | None = None) -> Console:
    """The console for a command's report on stdout (or ``file``).

    On a terminal: its width, colour and live widgets. Piped or redirected: plain text
    (no colour codes, no spinners), as wide as the text is (a table's row on one line,
    every cell whole) unless ``$COLUMNS`` sets a width; tables made by :func:`make_table`
    fold to fit a width instead of cutting cells. A reader that quits early (``| head``)
    ends the command quietly with status 0.
    """
    return _console_class()(file=file, width=_piped_width(file or sys.stdout))


def err_console() -> Console:
    """Like :func:`console`, on stderr (progress, warnings, errors)."""
    return _console_class()(stderr=True, width=_piped_width(sys.stderr))


# Wide enough for any table llmkit prints; a pipe has no edge to fold at.
_PIPE_WIDTH = 1000


def _piped_width(stream: IO[str]) -> int | None:
    import os

    if os.environ.get("COLUMNS"):
        return None  # rich reads it
    try:
        return None if stream.isatty() else _PIPE_WIDTH
    except (AttributeError, ValueError):
        return _PIPE_WIDTH


@functools.cache
def _console_class() -> type[Console]:
    from rich.console import Console

    class QuietOnClosedPipe(Console):
        def on_broken_pipe(self) -> None:
            # rich exits 1 here; a reader that has all it wants is no failure.
            self.quiet = True
            quiet_closed_pipe()
            raise SystemExit(ExitCode.OK)

    return QuietOnClosedPipe


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

    exit_code = ExitCode.BAD_INPUT

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", file=file or sys.stderr)


class InconclusiveError(BadInputError):
    """The data cannot decide (no usable items, too few samples): one line, exit status 3."""

    exit_code = ExitCode.INCONCLUSIVE


class OutputPath(click.Path):
    """A file (or, with ``file_okay=False``, a folder) a command will write, checked before
    any work: its folder must exist and be writable (nothing creates missing parents), and
    a file output must not name a folder. Every command's outputs use it, which is also how
    the command-tree test knows an output from an input.
    """

    name = "output path"

    def __init__(self, *, file_okay: bool = True, dir_okay: bool = False) -> None:
        super().__init__(file_okay=file_okay, dir_okay=dir_okay, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        import os

        if isinstance(value, Path):
            return value
        where = param_label(param)
        if not str(value).strip():
            raise BadInputError(f"{where}: an empty path (is the variable naming it unset?)")
        path = Path(os.fsdecode(value))
        why = None
        if path.is_dir() and not self.dir_okay:
            why = "it is a folder"
        elif path.exists() and not path.is_dir() and not self.file_okay:
            why = "it is a file, not a folder"
        elif not path.parent.is_dir():
            why = f"no folder {path.parent}"
        elif not os.access(path if path.exists() else path.parent, os.W_OK):
            why = "permission denied"
        if why:
            raise BadInputError(f"{where}: cannot write {path}: {why}")
        return path


def param_label(param: click.Parameter | None) -> str:
    """How an error names a parameter: ``--plot`` for an option, ``FILE`` for an argument."""
    if param is None:
        return "value"
    if isinstance(param, click.Option) and param.opts:
        return max(param.opts, key=len)
    return (param.human_readable_name or param.name or "value").upper()


def deprecated_alias(old: str, dest: str, new: str, **option: Any) -> Callable[[F], F]:
    """Keep the old option name ``old`` working, hidden from ``--help``, with a warning.

    Put it under ``@click.command`` beside the option it stands for; a value given by the
    old name goes to parameter ``dest`` (the new option ``new`` wins when both are given).

    Args:
        old: the option's former name, e.g. ``"--path"``.
        dest: the command function's parameter the new option fills.
        new: the new option's name, named in the warning.
        **option: further ``click.option`` arguments (``type`` ...), as the new option's.
    """
    hidden = f"deprecated_{dest}"

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            value = kwargs.pop(hidden, None)
            if value is not None:
                click.echo(f"warning: {old} is deprecated and will be removed; use {new}", err=True)
                if kwargs.get(dest) is None:
                    kwargs[dest] = value
            return func(*args, **kwargs)

        opt = click.option(old, hidden, hidden=True, default=None, expose_value=True, **option)
        return opt(wrapper)  # type: ignore[return-value]

    return decorate


ENDPOINT_VARIABLES = ("LLMKIT_BASE_URL", "OPENAI_BASE_URL")


def require_endpoint(base_url: str | None, flag: str = "--base-url") -> str:
    """The endpoint the user named (flag, else environment); none named is misuse.

    Commands never fall back to a default service: with a key set, that would send prompts
    (and bills) somewhere nobody asked for.
    """
    import os

    chosen = base_url or next((os.environ[v] for v in ENDPOINT_VARIABLES if os.environ.get(v)), "")
    if not chosen.strip():
        raise BadInputError(
            f"no endpoint named: give {flag} URL (e.g. http://127.0.0.1:8000/v1) "
            f"or set {ENDPOINT_VARIABLES[0]}; llmkit sends nothing to a default service"
        )
    return chosen


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
    exit_code = ExitCode.BAD_INPUT  # misuse: this install lacks what the command needs

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", file=file or sys.stderr)


def json_option(func: F) -> F:
    """The ``--json`` flag every command that prints a human report has."""
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")(
        func
    )


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, allow_nan=False, default=str) + "\n")


def exit_code_for(exc: LLMKitError) -> ExitCode:
    """1 where a check failed (no valid value could be recovered), else 2: the input, file,
    setting or endpoint the user named cannot be used (a wrong key, a refused connection)."""
    return ExitCode.CHECK_FAILED if isinstance(exc, StructuredOutputError) else ExitCode.BAD_INPUT


_KEPT = "\n\t"  # an error message's own line breaks and tabs print as they are


@contextmanager
def fail_cleanly() -> Iterator[None]:
    """Turn an llmkit error into one red line, never a traceback, with the exit code of
    :func:`exit_code_for`; Ctrl-C is exit 130 and SIGTERM 143.

    Plain ``click`` (colour only on a terminal): the commands of the base install use it,
    and the base install has no rich.
    """
    try:
        yield
    except Terminated:
        click.secho("terminated", fg="yellow", err=True)
        raise SystemExit(ExitCode.TERMINATED) from None
    except KeyboardInterrupt:
        click.secho("interrupted", fg="yellow", err=True)
        raise SystemExit(ExitCode.INTERRUPTED) from None
    except LLMKitError as exc:
        # Messages carry server text: no escape sequence of theirs reaches the terminal.
        message = f"{type(exc).__name__}: {printable(str(exc), keep=_KEPT)}"
        click.echo(f"{click.style('error:', fg='red', bold=True)} {message}", err=True)
        raise SystemExit(exit_code_for(exc)) from None


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is so that ``finally`` blocks and writers run."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


def catch_sigterm() -> None:
    """Make SIGTERM unwind like Ctrl-C (partial results written), ending in exit 143."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_terminated)


def quiet_closed_pipe() -> None:
    """The reader went away (``| head``): point stdout at /dev/null so exit flushes quietly."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (a test runner's buffer)
        pass


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def guard_command() -> Iterator[None]:
    """The last net under every command: one line and the contract's exit code, no traceback.

    Commands name their own inputs in their errors; this only catches what slipped past:
    a closed pipe (quiet, exit 0), Ctrl-C (130), SIGTERM (143), an llmkit error, a file
    that cannot be read or written, text that is not UTF-8. ``LLMKIT_DEBUG=1`` lets the
    traceback through.
    """
    import errno
    import os

    try:
        yield
    except click.exceptions.NoArgsIsHelpError:
        raise  # a group called bare shows its help
    except click.UsageError as exc:
        # One line, not click's usage block: which argument, and where to read more.
        where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        click.echo(f"error: {exc.format_message()}{where}", err=True)
        raise SystemExit(ExitCode.BAD_INPUT) from None
    except (click.exceptions.Exit, click.ClickException, click.Abort):
        raise
    except BrokenPipeError:
        quiet_closed_pipe()
        raise SystemExit(ExitCode.OK) from None
    except Terminated:
        click.echo("terminated", err=True)
        raise SystemExit(ExitCode.TERMINATED) from None
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        raise SystemExit(ExitCode.INTERRUPTED) from None
    except Exception as exc:
        if os.environ.get("LLMKIT_DEBUG"):
            raise
        if isinstance(exc, OSError) and exc.errno == errno.EPIPE:
            quiet_closed_pipe()
            raise SystemExit(ExitCode.OK) from None
        code = ExitCode.BAD_INPUT
        if isinstance(exc, LLMKitError):
            message = f"{type(exc).__name__}: {_one_line(exc)}"
            code = exit_code_for(exc)
        elif isinstance(exc, OSError):
            where = exc.filename if exc.filename is not None else ""
            message = f"{where}: {exc.strerror or _one_line(exc)}" if where else _one_line(exc)
        elif isinstance(exc, UnicodeDecodeError):
            message = f"input is not UTF-8 text (byte at offset {exc.start})"
        else:
            message = (
                f"{type(exc).__name__}: {_one_line(exc)} (unexpected: LLMKIT_DEBUG=1 shows where)"
            )
        click.echo(f"error: {printable(message)}", err=True)  # no escape sequence of theirs
        raise SystemExit(code) from None
