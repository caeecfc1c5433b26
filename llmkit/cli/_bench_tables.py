"""The tables ``llmkit bench`` and ``llmkit bench compare`` print for people (rich)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmkit.bench import CompareResult

__all__ = ["compare_table", "fit_table", "level_table", "overview_table", "print_summary"]

# (label, summary key) of the metric rows in a level's table
_TABLE_METRICS = (
    ("TTFB", "ttfb_ms"),
    ("TTFT", "ttft_ms"),
    ("TTFR (reasoning)", "ttfr_ms"),
    ("ITL per token", "itl_ms"),
    ("ICL per chunk", "icl_ms"),
    ("TPOT", "tpot_ms"),
    ("E2E", "e2e_ms"),
    ("queue wait", "queue_wait_ms"),
    ("TTFT from schedule", "ttft_scheduled_ms"),
    ("E2E from schedule", "e2e_scheduled_ms"),
)


def _fmt(v: Any, digits: int = 1) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return str(v)


def fit_table(title: str) -> Any:
    """A table that fits 80 columns: no vertical rules, one space between cells, and
    cells fold onto a second line rather than being cut ("31.…") when space runs out."""
    from rich import box
    from rich.table import Table

    return Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
        caption_justify="left",
    )


def overview_table(summary: dict[str, Any]) -> Any:
    """A rich table with one row per level: the throughput/latency trade-off at a glance."""

    good_any = any(lv.get("goodput") for lv in summary["levels"])
    t = fit_table(f"llmkit bench · {summary['run']['model']}")
    for col in ("level", "ok", "fail", "req/s", "out tok/s", "TTFT p50", "TTFT p99",
                "ITL p50", "ITL p99", "E2E p50", "CPU"):  # fmt: skip
        t.add_column(col, justify="left" if col == "level" else "right", overflow="fold")
    if good_any:
        t.add_column("SLO met", justify="right", overflow="fold")
    for lv in summary["levels"]:
        req = lv["requests"]
        row = [
            lv["label"] + (" (interrupted)" if lv.get("interrupted") else ""),
            str(req["ok"]),
            f"[red]{req['failed']}[/]" if req["failed"] else "0",
            _fmt(lv["throughput"]["requests_per_s"], 2),
            _fmt(lv["throughput"]["output_tokens_per_s"], 0),
            _fmt(lv["ttft_ms"]["p50"]),
            _fmt(lv["ttft_ms"]["p99"]),
            _fmt(lv["itl_ms"]["p50"], 2),
            _fmt(lv["itl_ms"]["p99"], 2),
            _fmt(lv["e2e_ms"]["p50"], 0),
            (("[yellow]" if lv["client"]["bottleneck"] else "")
             + f"{lv['client']['cpu_percent']:.0f}%"
             + ("[/]" if lv["client"]["bottleneck"] else "")),
        ]  # fmt: skip
        if good_any:
            g = lv.get("goodput")
            row.append(f"{100 * g['share']:.0f}%" if g else "-")
        t.add_row(*row)
    t.caption = (
        "times in ms; ITL is per token (a chunk's gap spread over its tokens); CPU: the "
        "client's, of one core"
        + (
            "; SLO met: share of requests meeting --slo from their scheduled time"
            if good_any
            else ""
        )
    )
    return t


def level_table(level: dict[str, Any]) -> Any:
    """A rich table of one level: each metric's mean, p50, p90, p95, p99, max."""

    req = level["requests"]
    title = (
        f"{level['label']}: {req['ok']} ok, {req['failed']} failed"
        f", {level['throughput']['output_tokens_per_s']:,.0f} output tok/s"
        f", {level['throughput']['requests_per_s']:.2f} req/s"
    )
    t = fit_table(title)
    t.add_column("metric (ms)", overflow="fold")
    for k in ("mean", "p50", "p90", "p95", "p99", "max"):
        t.add_column(k, justify="right", overflow="fold")
    for name, key in _TABLE_METRICS:
        stats = level.get(key) or {}
        if all(v is None for v in stats.values()):
            continue
        t.add_row(
            name, *(_fmt(stats.get(k), 2) for k in ("mean", "p50", "p90", "p95", "p99", "max"))
        )
    captions = []
    if req["failed_reasons"]:
        captions.append(
            "failed: " + ", ".join(f"{k} {v}" for k, v in req["failed_reasons"].items())
        )
    tok = level["tokens"]
    if tok["itl_approximate"]:
        captions.append(f"ITL approximate for {tok['itl_approximate']} request(s) (offline counts)")
    if level.get("goodput"):
        g = level["goodput"]
        captions.append(f"goodput {g['requests_per_s']:.2f} req/s, {100 * g['share']:.0f}% met SLO")
    client = level["client"]
    captions.append(
        f"client CPU {client['cpu_percent']:.0f}%, loop lag p99 {_fmt(client['loop_lag_ms']['p99'], 2)} ms"
    )
    captions.extend(level.get("peers", {}).get("notes", []))  # where peers' figures differ
    t.caption = " · ".join(captions)
    return t


def print_summary(console: Any, summary: dict[str, Any], *, detail: bool = True) -> None:
    """Print the overview, one table per level, and every warning."""
    console.print(overview_table(summary))
    if detail:
        for lv in summary["levels"]:
            console.print(level_table(lv))
    fm = summary.get("find_max")
    if fm:
        best = fm["best"]
        unit = "concurrency" if fm["mode"] == "concurrency" else "req/s"
        console.print(
            f"[bold]highest load meeting the SLOs:[/] {unit} {best:g}"
            if best is not None
            else "[bold red]no load level tried met the SLOs[/]"
        )
    for w in summary.get("warnings", []):
        console.print(f"[yellow]warning:[/] {w}", highlight=False)


def compare_table(result: CompareResult) -> Any:
    """A rich table of the comparison, regressions in red, improvements in green."""
    from rich.markup import escape

    t = fit_table(f"{result.a}  →  {result.b}")
    for col in ("level", "metric", "A", "B", "change", "95% interval"):
        t.add_column(
            col, justify="left" if col in ("level", "metric") else "right", overflow="fold"
        )
    last = None
    for c in result.changes:
        pct = "-" if c.change_pct is None else f"{c.change_pct:+.1f}%"
        better = (
            c.change_pct is not None
            and abs(c.change_pct) > 100 * result.threshold
            and (c.change_pct > 0) == c.higher_is_better
            and c.significant
        )
        if c.missing:
            verdict, style = "missing", "red" if c.gated else "yellow"
        elif c.insufficient:
            verdict, style = "insufficient", "yellow"
        else:
            verdict = ""
            style = "red" if c.worse_beyond and c.significant else ("green" if better else "")
        mark = " ✗" if c.regression else ""
        interval = (
            escape(f"[{c.low_pct:+.1f}, {c.high_pct:+.1f}]%")
            if c.low_pct is not None and c.high_pct is not None
            else verdict or "-"
        )
        text = pct + mark
        t.add_row(
            c.level if c.level != last else "",
            c.metric + (" *" if c.gated else ""),
            "-" if c.a is None else f"{c.a:,.2f}",
            "-" if c.b is None else f"{c.b:,.2f}",
            f"[{style}]{text}[/]" if style else text,
            f"[{style}]{interval}[/]" if style and verdict else interval,
        )
        last = c.level
    t.caption = (
        f"* decides the exit code: worse by more than {100 * result.threshold:g}% with a "
        f"{100 * result.confidence:g}% interval that excludes no change fails"
    )
    return t
