"""Every command, fed each kind of bad input that applies, answers the same way.

The commands come from click's own registry (``llmkit --help``'s tree), so a command added
later is walked without editing this file. For each file-like parameter (a ``click.Path``,
an :class:`~llmkit.cli._common.OutputPath` for what a command writes, and every ``--db``)
the test gives one bad value at a time, fills the command's other required parameters,
and asserts: exit status 2 (the contract's "bad input"), no traceback, and one line on
stderr that names the bad value or the parameter.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from llmkit._redact import redact_url
from llmkit.cli._common import EXIT_CODES_HELP, ExitCode, OutputPath, param_label
from llmkit.cli._main import cli

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "prompts" / "support_ticket.eval.yaml"
# Nothing listens on the discard port: a command that reached the network before checking
# its inputs would fail on the connection, and the line would not name the input.
NO_SERVER = "http://127.0.0.1:9/v1"
# A required value this test knows no good one for; an error naming it also names an input.
PLACEHOLDER = "placeholder-value"


def _walk(command: click.Command, path: tuple[str, ...]) -> Iterator[tuple[str, click.Command]]:
    if not isinstance(command, click.Group) or command.invoke_without_command:
        yield " ".join(path), command
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, name
            yield from _walk(sub, (*path, name))


COMMANDS = dict(_walk(cli, ()))


def _is_db(param: click.Parameter) -> bool:
    return isinstance(param, click.Option) and "--db" in param.opts


# What a file of each kind looks like when it is well-formed YAML but invalid inside.
INVALID = {
    "schema": "type: objectx\n",
    "rubric": "name: x\ndimensions:\n  - key: q\n    title: Q\n    guideline: g\n"
    "    scale: {type: likert}\n",
    "suite": "name: s\nprompt: {messages: [{role: user, content: hi}], schema: {type: objectx}}\n"
    "model: {name: m}\ncases: [{id: a}]\n",
}


def _content_kind(param: click.Parameter) -> str | None:
    """``schema``, ``rubric`` or ``suite`` for a parameter that reads one, by its name."""
    return next((kind for kind in INVALID if kind in (param.name or "")), None)


def _bad_values(param: click.Parameter) -> list[str]:
    """The kinds of bad value that apply to this parameter."""
    kind_of_content = _content_kind(param)
    if kind_of_content and not isinstance(param.type, click.Path):
        return [f"invalid-{kind_of_content}"]  # a name or a file: the file is bad inside
    if _is_db(param):  # a missing file is a new store; these are not stores
        return ["directory", "binary", "unsupported-url"]
    kind = param.type
    assert isinstance(kind, click.Path)
    if isinstance(kind, OutputPath):
        return ["unwritable", "file-for-folder" if not kind.file_okay else "directory"]
    values = ["missing-folder", "binary", "empty"] if kind.file_okay else ["missing-folder"]
    if kind_of_content:
        values.append(f"invalid-{kind_of_content}")
    return [*values, "directory"] if not kind.dir_okay else values


def _cases() -> Iterator[tuple[str, str, str]]:
    for name, command in COMMANDS.items():
        for param in command.params:
            if getattr(param, "hidden", False):  # deprecated aliases: tested by name below
                continue
            if _is_db(param) or isinstance(param.type, click.Path) or _content_kind(param):
                for bad in _bad_values(param):
                    yield name, str(param.name), bad


def _make(bad: str, tmp_path: Path) -> str:
    if bad in ("missing-folder", "unwritable"):
        return str(tmp_path / "no-such-folder" / "x.csv")
    if bad == "directory":
        folder = tmp_path / "a-folder"
        folder.mkdir()
        return str(folder)
    if bad == "binary" or bad == "file-for-folder":
        path = tmp_path / "binary.csv"
        path.write_bytes(bytes(range(256)) * 8)
        return str(path)
    if bad == "empty":
        path = tmp_path / "empty.csv"
        path.write_bytes(b"")
        return str(path)
    if bad.startswith("invalid-"):
        path = tmp_path / f"invalid.{'eval.' if bad == 'invalid-suite' else ''}yaml"
        path.write_text(INVALID[bad.removeprefix("invalid-")], encoding="utf-8")
        return str(path)
    assert bad == "unsupported-url"
    return "mysql://127.0.0.1/ratings"


def _good(command: str, param: click.Parameter, tmp_path: Path) -> str | None:
    """A good value for another parameter, where this test knows one."""
    if param.name == "suite":
        return str(SUITE)
    if command == "annotate export" and param.name == "file":
        return str(tmp_path / "out.csv")
    if command == "annotate import" and param.name == "file":
        return str(ROOT / "annotation" / "conversations.jsonl")
    if command == "taxonomy" and param.name == "file":
        path = tmp_path / "results.jsonl"
        path.write_text('{"text": "{}"}\n', encoding="utf-8")
        return str(path)
    return None


def _filler(command: str, param: click.Parameter, tmp_path: Path) -> str:
    """A value for another required parameter: good if known, else a plain placeholder."""
    good = _good(command, param, tmp_path)
    if good is not None:
        return good
    if isinstance(param.type, click.types._NumberParamTypeBase):
        return "1"
    if isinstance(param.type, click.Choice):
        return str(param.type.choices[0])
    return PLACEHOLDER


def _argv(name: str, target: click.Parameter, value: str, tmp_path: Path) -> list[str]:
    command = COMMANDS[name]
    argv = name.split()
    # The bad value first: click checks parameters in the order they were given.
    if isinstance(target, click.Option):
        argv += [target.opts[0], value]
    for param in command.params:
        if isinstance(param, click.Option) and param is not target and param.required:
            argv += [param.opts[0], _filler(name, param, tmp_path)]
    if any(isinstance(p, click.Option) and "--base-url" in p.opts for p in command.params):
        argv += ["--base-url", NO_SERVER]
    # A call log is read instead of FILE: give one or the other, not both.
    alongside = isinstance(target, click.Option) and target.name != "log_path"
    for param in command.params:
        if not isinstance(param, click.Argument) or param.nargs != 1:
            continue
        if param is target:
            argv.append(value)
        elif param.required or (alongside and _good(name, param, tmp_path) is not None):
            argv.append(_filler(name, param, tmp_path))
    return argv


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("name", "param_name", "bad"), list(_cases()))
def test_bad_input_is_one_line_and_exit_2(
    name: str, param_name: str, bad: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMKIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("LLMKIT_ANNOTATE_PASSWORD", "a-long-enough-password")
    monkeypatch.delenv("LLMKIT_DEBUG", raising=False)
    target = next(p for p in COMMANDS[name].params if p.name == param_name)
    value = _make(bad, tmp_path)
    argv = _argv(name, target, value, tmp_path)
    result = CliRunner().invoke(cli, argv, prog_name="llmkit")
    shown = f"llmkit {' '.join(argv)}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert "Traceback" not in result.output, shown
    assert result.exit_code == ExitCode.BAD_INPUT, shown
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, shown
    # a URL is named with its credentials masked (llmkit._redact)
    named = {
        value,
        redact_url(value),
        param_label(target),
        *getattr(target, "opts", ()),
        PLACEHOLDER,
    }
    assert any(n in lines[0] for n in named), shown


def test_the_walk_covers_every_command() -> None:
    # The walk is the registry: a command under `llmkit --help` is in it, and has inputs.
    assert {"eval", "bench", "bench compare", "annotate export", "annotate import"} <= set(COMMANDS)
    walked = {name for name, _, _ in _cases()}
    assert {"eval", "calibrate", "serve", "log", "parse", "taxonomy", "annotate report"} <= walked


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_help_documents_the_exit_codes(name: str) -> None:
    result = CliRunner().invoke(cli, [*name.split(), "--help"])
    assert result.exit_code == 0, result.output
    assert "Exit codes" in result.output and "inconclusive" in result.output
    assert EXIT_CODES_HELP.splitlines()[1].strip() in result.output


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_an_unknown_option_is_one_line_and_exit_2(name: str) -> None:
    result = CliRunner().invoke(cli, [*name.split(), "--no-such-option"])
    assert result.exit_code == ExitCode.BAD_INPUT
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--no-such-option" in lines[0], result.stderr


def _visible_options() -> Iterator[tuple[str, click.Option]]:
    for name, command in COMMANDS.items():
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                yield name, param


def test_one_name_for_one_thing_in_every_command() -> None:
    # Commands added later follow the same names: the call log is --log-path (taxonomy's
    # --log is a flag: "read the call log"), a model is -m/--model, a store is --db.
    for name, option in _visible_options():
        about = (option.help or "").lower()
        if "call log" in about and not option.is_flag:
            assert option.opts == ["--log-path"], (name, option.opts)
        if "--model" in option.opts:
            assert "-m" in option.opts, (name, option.opts)
        if "store" in about and "sqlite" in about:
            assert option.opts == ["--db"], (name, option.opts)
