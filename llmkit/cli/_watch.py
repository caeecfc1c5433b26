"""``llmkit watch``: alert rules, a dashboard, the canary judge and drift over the call log.

Exit codes (the canary contract): 0 promote / no drift, 1 roll back / drift found,
3 inconclusive (too few samples), 2 misuse.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from llmkit import ConfigError
from llmkit.cli._common import OutputPath, fail_cleanly, require_extras

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
@click.option("-o", "--output", type=OutputPath(), help="Rule file to write.")
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
@click.option("-o", "--output", type=OutputPath(), help="JSON file to write.")
@click.option("--latest-semconv/--classic-semconv", default=None)
def dashboard_command(output: Path | None, latest_semconv: bool | None) -> None:
    """Write a Grafana dashboard (JSON) over the series the rules use."""
    from llmkit.watch import dashboard, names

    with fail_cleanly():
        _write(json.dumps(dashboard(names(latest_semconv)), indent=2) + "\n", output)


def _load(log: Path | None) -> Any:
    from llmkit.llm import default_log_path, read_log

    return read_log(log if log is not None else default_log_path())


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "-"
    return f"{value:.2%}" if kind in ("rate", "tail") else f"{value:.1f} ms"


_SCORES_OPTION = click.option(
    "--scores",
    "scores_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help='Eval scores, JSON lines: {"variant": "B", "scorer": "helpful", "score": 0.8, "at": 1764950000}.',
)
_LOG_OPTION = click.option(
    "--log-path",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Call log file (default: LLMKIT_HOME/calls.db). Read only.",
)


@watch.command("compare")
@click.option("--baseline", required=True, help="The variant serving now (e.g. A).")
@click.option("--canary", required=True, help="The variant being rolled out (e.g. B).")
@click.option("--since", default="1h", show_default=True, help="Window: 1h, 30m, or A..B dates.")
@_LOG_OPTION
@click.option(
    "--alpha",
    type=float,
    default=0.05,
    show_default=True,
    help="False roll-back rate over the rollout.",
)
@click.option(
    "--check",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Which check of this rollout this is (alpha spending).",
)
@click.option(
    "--min-samples",
    type=click.IntRange(min=2),
    default=50,
    show_default=True,
    help="Calls needed per variant.",
)
@click.option(
    "--tolerance", type=float, default=0.10, show_default=True, help="Relative worsening tolerated."
)
@click.option(
    "--critical",
    default="error_rate,parse_failure_rate",
    show_default=True,
    help="Metrics whose failure rolls back on its own.",
)
@_SCORES_OPTION
@click.option("--pass-score", type=click.FloatRange(0, 100), default=75.0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
def compare_command(
    baseline: str,
    canary: str,
    since: str,
    log_path: Path | None,
    alpha: float,
    check: int,
    min_samples: int,
    tolerance: float,
    critical: str,
    scores_path: Path | None,
    pass_score: float,
    as_json: bool,
) -> None:
    """Canary judge: exit 0 promote, 1 roll back, 3 inconclusive, 2 misuse."""
    import time

    from llmkit.watch import compare, parse_window, read_scores, select

    require_extras("llmkit watch compare", "watch")
    with fail_cleanly():
        window = parse_window(since, "--since", time.time())
        scores = read_scores(scores_path, window) if scores_path else None
        frame = _load(log_path)
        if "variant" not in frame or not {baseline, canary} <= set(frame["variant"].dropna()):
            seen = sorted(set(frame["variant"].dropna())) if "variant" in frame else []
            missing = [v for v in (baseline, canary) if v not in seen]
            raise ConfigError(
                f"variant {', '.join(map(repr, missing))} never appears in the call log"
                f" (variants seen: {', '.join(seen) or 'none'})"
            )
        verdict = compare(
            select(frame, window),
            baseline,
            canary,
            scores=scores,
            alpha=alpha,
            check=check,
            min_samples=min_samples,
            tolerance=tolerance,
            critical=[c.strip() for c in critical.split(",") if c.strip()],
            pass_score=pass_score,
        )
    if as_json:
        from llmkit.cli._common import print_json

        print_json(verdict.to_dict())
    else:
        from llmkit.cli._common import console, make_table

        table = make_table(
            "metric", "baseline", "canary", "change", "p", "p adj.", "status",
            title=f"canary {canary} against {baseline} (check {check}, alpha {verdict.alpha_check:.3g})",
            numeric=("baseline", "canary", "change", "p", "p adj."),
        )  # fmt: skip
        for m in verdict.metrics:
            table.add_row(
                m.name + (" *" if m.critical else ""),
                _fmt(m.baseline, m.kind),
                _fmt(m.canary, m.kind),
                "-" if m.change is None else f"{m.change:+.1%}",
                "-" if m.p_value is None else f"{m.p_value:.3g}",
                "-" if m.p_adjusted is None else f"{m.p_adjusted:.3g}",
                m.status,
            )
        out = console()
        out.print(table)
        out.print(f"[bold]{verdict.verdict}[/]: {verdict.reason}  (* critical)", highlight=False)
    raise SystemExit(verdict.exit_code)


@watch.command("drift")
@click.option("--reference", required=True, help="Reference window: 2026-11-01..2026-11-07 or 7d.")
@click.option("--current", default="1d", show_default=True, help="Current window: 1d, 6h, or A..B.")
@_LOG_OPTION
@click.option("--alpha", type=float, default=0.05, show_default=True)
@click.option("--min-samples", type=click.IntRange(min=2), default=50, show_default=True)
@_SCORES_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def drift_command(
    reference: str,
    current: str,
    log_path: Path | None,
    alpha: float,
    min_samples: int,
    scores_path: Path | None,
    as_json: bool,
) -> None:
    """Drift of the current window against a reference: exit 0 none, 1 drift, 3 too few, 2 misuse."""
    import time

    from llmkit.watch import drift, parse_window, read_scores, select

    def scores_in(window: tuple[float, float]) -> dict[str, list[float]] | None:
        if scores_path is None:
            return None
        merged: dict[str, list[float]] = {}
        for by_scorer in read_scores(scores_path, window).values():  # every variant
            for scorer, values in by_scorer.items():
                merged.setdefault(scorer, []).extend(values)
        return merged

    require_extras("llmkit watch drift", "watch")
    with fail_cleanly():
        now = time.time()
        ref_window = parse_window(reference, "--reference", now)
        cur_window = parse_window(current, "--current", now)
        ref_scores, cur_scores = scores_in(ref_window), scores_in(cur_window)
        frame = _load(log_path)
        report = drift(
            select(frame, ref_window),
            select(frame, cur_window),
            alpha=alpha,
            min_samples=min_samples,
            reference_scores=ref_scores,
            current_scores=cur_scores,
        )
    if as_json:
        from llmkit.cli._common import print_json

        print_json(report.to_dict())
    else:
        from llmkit.cli._common import console, make_table

        table = make_table(
            "signal", "test", "ref n", "cur n", "p adj.", "JS", "Wasserstein", "drift", "what moved",
            title="drift: current window against the reference",
            numeric=("ref n", "cur n", "p adj.", "JS", "Wasserstein"),
        )  # fmt: skip
        for s in report.signals:
            table.add_row(
                s.signal,
                s.test,
                str(s.reference_n),
                str(s.current_n),
                "-" if s.p_adjusted is None else f"{s.p_adjusted:.3g}",
                "-" if s.jensen_shannon is None else f"{s.jensen_shannon:.3f}",
                "-" if s.wasserstein is None else f"{s.wasserstein:.4g}",
                "yes" if s.drifted else ("-" if s.status == "no_data" else "no"),
                s.detail,
            )
        out = console()
        out.print(table)
        out.print(f"[bold]{report.verdict}[/]: {report.reason}", highlight=False)
    raise SystemExit(report.exit_code)
