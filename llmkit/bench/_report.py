"""Writing a run down: ``summary.json``, ``requests.csv``, plots, and tables for people."""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmkit._exceptions import ConfigError

if TYPE_CHECKING:
    from llmkit.bench._runner import BenchResult

__all__ = [
    "OUTPUT_FILES",
    "check_output_dir",
    "fit_table",
    "level_table",
    "overview_table",
    "print_summary",
    "write_report",
]

OUTPUT_FILES = ("summary.json", "requests.csv", "itl_ms.npz")
_PLOT_GLOB = "*.png"

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


def check_output_dir(path: str | Path, *, overwrite: bool = False) -> Path:
    """Make sure ``path`` may receive a run; call it *before* running.

    Creates the directory and writes (then removes) a probe file in it, so a path that
    cannot be written fails now rather than after every request was sent.

    Raises:
        ConfigError: it holds an earlier run and ``overwrite`` is false, it is a file,
            or it cannot be created or written.
    """
    p = Path(path)
    try:
        if p.exists() and not p.is_dir():
            raise ConfigError(f"--output {str(p)!r} is a file, not a directory")
        earlier = [n for n in OUTPUT_FILES if (p / n).exists()]
        if earlier and not overwrite:
            raise ConfigError(
                f"--output {str(p)!r} already holds a run ({', '.join(earlier)}); "
                "pass --overwrite to replace it"
            )
        p.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=p):
            pass
    except OSError as exc:
        raise ConfigError(f"--output {str(p)!r} cannot be written: {exc.strerror or exc}") from None
    return p


def write_report(
    result: BenchResult, path: str | Path, *, overwrite: bool = False, plots: bool = True
) -> tuple[list[Path], list[str]]:
    """Write ``summary.json``, ``requests.csv`` and the PNG plots into ``path``.

    Returns:
        The files written, and notes for the user (e.g. the plot extra is missing).
    """
    p = check_output_dir(path, overwrite=overwrite)
    try:
        return _write(result, p, overwrite=overwrite, plots=plots)
    except OSError as exc:
        raise ConfigError(f"cannot write the run into {str(p)!r}: {exc}") from None


def _write(
    result: BenchResult, p: Path, *, overwrite: bool, plots: bool
) -> tuple[list[Path], list[str]]:
    if overwrite:  # no stale plots from the earlier run next to the new summary
        for old in p.glob(_PLOT_GLOB):
            old.unlink()
    summary = result.summary()
    written: list[Path] = []
    notes: list[str] = []
    summary_path = p / "summary.json"
    tmp = summary_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(summary_path)
    written.append(summary_path)
    written.append(_write_csv(result, p / "requests.csv"))
    written.append(_write_itl(result, p / "itl_ms.npz"))
    if plots:
        from llmkit.bench._plots import write_plots

        files, plot_notes = write_plots(result, p)
        written.extend(files)
        notes.extend(plot_notes)
    return written, notes


def _write_itl(result: BenchResult, path: Path) -> Path:
    """Per-token ITL of every successful streamed request, kept per request.

    ``values_<level>`` holds the gaps in request order and ``sizes_<level>`` how many
    belong to each request, so ``bench compare`` can resample whole requests when it
    judges the pooled ITL percentiles against noise.
    """
    import numpy as np

    arrays: dict[str, Any] = {}
    for lv in result.levels:
        per_request = [r.timing.itl_ms for r in lv.records if r.ok and r.streamed and r.timing]
        per_request = [v for v in per_request if v]
        values = [x for v in per_request for x in v]
        arrays[f"values_{lv.index}"] = np.asarray(values, dtype=np.float64)
        arrays[f"sizes_{lv.index}"] = np.asarray([len(v) for v in per_request], dtype=np.int64)
    with path.open("wb") as f:
        np.savez_compressed(f, **arrays)
    return path


def _write_csv(result: BenchResult, path: Path) -> Path:
    from llmkit.bench._records import ROW_FIELDS

    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["level_label", *ROW_FIELDS], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(result.rows())
    return path


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
