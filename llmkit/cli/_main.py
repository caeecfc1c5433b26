"""Root command group. Subcommands are imported only when called, so ``--help`` stays fast."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import click

from llmkit import __version__

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


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(n for n, (mod, _, _) in COMMANDS.items() if importlib.util.find_spec(mod))

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
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="llmkit")
def cli() -> None:
    """llmkit: dependable LLM applications.

    Every option can also be set as an environment variable LLMKIT_<COMMAND>_<OPTION>
    (for example LLMKIT_BENCH_CONCURRENCY).
    """


def main(argv: list[str] | None = None) -> Any:
    return cli.main(args=argv, prog_name="llmkit", auto_envvar_prefix="LLMKIT")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
