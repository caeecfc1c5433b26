"""``llmkit watch``: alert rules, a dashboard, the canary judge and drift over the call log.

Exit codes (the canary contract): 0 promote / no drift, 1 roll back / drift found,
3 inconclusive (too few samples), 2 misuse.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from llmkit.cli._common import fail_cleanly

__all__ = ["watch"]

_SLO_HELP = (
    "Objectives, e.g. ttft_p95=800ms,itl_p95=80ms,error_rate=2%,parse_failure_rate=0.5%"
    " (keys: ttft_pNN, itl_pNN, e2e_pNN, error_rate, parse_failure_rate, reprompt_rate,"
    " length_rate)."
)


@click.group()
def watch() -> None:
    """Production watch: Prometheus rules, Grafana dashboard, canary judge, drift."""


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@watch.command("rules")
@click.option("--slo", default="", help=_SLO_HELP)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Rule file to write."
)
@click.option(
    "--latest-semconv/--classic-semconv",
    default=None,
    help="Series of the newer gen_ai.client.inference.* names (default: from"
    " OTEL_SEMCONV_STABILITY_OPT_IN).",
)
def rules_command(slo: str, output: Path | None, latest_semconv: bool | None) -> None:
    """Write Prometheus recording and alerting rules (check them with `promtool check rules`)."""
    from llmkit.watch import names, parse_slo, rules_yaml

    with fail_cleanly():
        _write(rules_yaml(parse_slo(slo), names(latest_semconv)), output)


@watch.command("dashboard")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="JSON file to write."
)
@click.option("--latest-semconv/--classic-semconv", default=None)
def dashboard_command(output: Path | None, latest_semconv: bool | None) -> None:
    """Write a Grafana dashboard (JSON) over the series the rules use."""
    from llmkit.watch import dashboard, names

    with fail_cleanly():
        _write(json.dumps(dashboard(names(latest_semconv)), indent=2) + "\n", output)
