"""``llmkit demo``: the main job, offline, on embedded defaults."""

from __future__ import annotations

import click

from llmkit.cli._common import fail_cleanly, json_option, print_json

__all__ = ["demo"]


@click.command()
@click.option(
    "--section",
    "sections",
    multiple=True,
    help="Run only these sections (repeatable): client, structured, latency.",
)
@json_option
def demo(sections: tuple[str, ...], as_json: bool) -> None:
    """Start the embedded engine on a free port and show what llmkit measures and repairs.

    Runs offline in well under a minute and leaves no process behind.
    """
    import io

    from rich.console import Console

    from llmkit._demo import SECTIONS, run_demo

    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise click.BadParameter(f"unknown section(s) {unknown}; choose from {list(SECTIONS)}")
    # With --json the human report is suppressed and only the numbers are printed.
    console = Console(file=io.StringIO()) if as_json else Console()
    with fail_cleanly():
        report = run_demo(console, list(sections) or None)
    if as_json:
        print_json(report)
