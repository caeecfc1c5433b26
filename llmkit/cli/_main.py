"""Root command group. Subcommands are imported only when called, so ``--help`` stays fast."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import click

from llmkit.cli._common import (
    EXIT_CODES_HELP,
    catch_sigterm,
    guard_command,
    quiet_closed_pipe,
    require_extras,
)

__all__ = ["cli", "main"]

# name -> (module, attribute, one-line help). Help is here so `llmkit --help` imports nothing.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "demo": (
        "llmkit.cli._demo",
        "demo",
        "Run llmkit's main job offline against the embedded engine.",
    ),
    "serve": ("llmkit.cli._serve", "serve", "Serve the embedded OpenAI-compatible engine."),
    "chat": (
        "llmkit.cli._chat",
        "chat",
        "Send one prompt to an endpoint and print answer and timing.",
    ),
    "log": ("llmkit.cli._log", "log", "Show recent calls from the call log."),
    "parse": ("llmkit.cli._parse", "parse", "Parse model output into a schema-valid value."),
    "taxonomy": (
        "llmkit.cli._taxonomy",
        "taxonomy",
        "Error taxonomy and prompt hints over many parse results.",
    ),
    "bench": (
        "llmkit.cli._bench",
        "bench",
        "Benchmark an endpoint: TTFT, ITL and throughput under load.",
    ),
    "eval": (
        "llmkit.cli._eval",
        "eval_command",
        "Run an eval suite over recorded traffic; gate CI on regressions.",
    ),
    "calibrate": (
        "llmkit.cli._calibrate",
        "calibrate_command",
        "Calibrate a model-graded judge against human ratings.",
    ),
    "annotate": (
        "llmkit.cli._annotate",
        "annotate",
        "Human annotation: rubrics, queues, agreement, adjudication, metrics.",
    ),
    "watch": (
        "llmkit.cli._watch",
        "watch",
        "Production watch: alert rules, dashboard, canary judge, drift.",
    ),
}

# "command subcommand" -> (module, attribute): subcommands of a command that is not a group
# (`llmkit eval SUITE` stays as it is; `llmkit eval merge ...` is another command)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "eval merge": ("llmkit.cli._eval_merge", "merge_command"),
    "eval view": ("llmkit.cli._eval_view", "view_command"),
}

# command (or command and subcommand) -> the extras it needs beyond the base install
COMMAND_EXTRAS: dict[str, tuple[str, ...]] = {
    "demo": ("engine", "bench", "annotate", "eval"),
    "serve": ("engine",),
    "bench": ("bench",),
    "eval": ("eval",),
    "calibrate": ("eval",),
    "annotate": ("annotate",),
    "annotate serve": ("web",),  # the web extra brings the annotate extra too
    "watch": ("watch",),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n, (mod, _, _) in COMMANDS.items() if importlib.util.find_spec(mod))

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        # Checked before the command's module is imported, which needs the extra.
        words = [word for word in args[:2] if not word.startswith("-")]
        command = (
            " ".join(words) if " ".join(words) in COMMAND_EXTRAS else words[0] if words else ""
        )
        require_extras(f"llmkit {command}", *COMMAND_EXTRAS.get(command, ()))
        pair = " ".join(args[:2])
        if pair in SUBCOMMANDS:
            module_name, attr = SUBCOMMANDS[pair]
            sub: click.Command = getattr(importlib.import_module(module_name), attr)
            _add_exit_codes_epilog(sub)
            return pair, sub, args[2:]
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attr, _ = entry
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        command: click.Command = getattr(module, attr)
        _add_exit_codes_epilog(command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        with guard_command():
            return super().invoke(ctx)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from llmkit.extras import install_command, missing_extras

        rows = []
        for name in self.list_commands(ctx):
            missing = missing_extras(*COMMAND_EXTRAS.get(name, ()))
            # this install lacks what the command needs: say so before it is tried
            needs = f" (needs {install_command(*missing)})" if missing else ""
            rows.append((name, COMMANDS[name][2] + needs))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _add_exit_codes_epilog(command: click.Command) -> None:
    """Every command's ``--help`` ends with the one exit-code contract."""
    if EXIT_CODES_HELP not in (command.epilog or ""):
        command.epilog = (
            f"{command.epilog}\n\n{EXIT_CODES_HELP}" if command.epilog else EXIT_CODES_HELP
        )
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _add_exit_codes_epilog(sub)


@click.group(
    cls=LazyGroup,
    epilog=EXIT_CODES_HELP,
    context_settings={"help_option_names": ["-h", "--help"], "show_default": True},
)
# package_name: the version is read from the metadata only when asked for (~20 ms)
@click.version_option(None, "-V", "--version", package_name="llmkit", prog_name="llmkit")
def cli() -> None:
    """llmkit: dependable LLM applications.

    Every option can also be set as an environment variable LLMKIT_<COMMAND>_<OPTION>
    (for example LLMKIT_BENCH_CONCURRENCY).
    """


def main(argv: list[str] | None = None) -> Any:
    catch_sigterm()
    try:
        return cli.main(args=argv, prog_name="llmkit", auto_envvar_prefix="LLMKIT")
    except SystemExit:
        # Output still buffered meets a reader that quit (`| head`): end quietly, status 0.
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            quiet_closed_pipe()
            raise SystemExit(0) from None
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
