"""Run the ``llmkit`` CLI in-process and keep exit code, stdout and stderr apart."""

from __future__ import annotations

from dataclasses import dataclass

from click.testing import CliRunner

from llmkit.cli._main import cli


@dataclass
class Ran:
    code: int
    out: str
    err: str


def llmkit(*args: str) -> Ran:
    result = CliRunner().invoke(
        cli, list(args), auto_envvar_prefix="LLMKIT", catch_exceptions=False
    )
    return Ran(result.exit_code, result.stdout, result.stderr)
