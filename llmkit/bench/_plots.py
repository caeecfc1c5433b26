"""PNG plots of a run (matplotlib, imported only here and only when plotting).

* ``tradeoff.png``: output tokens/s against TTFT and against per-token ITL, one point
  per level (p50 and p99): the throughput/latency trade-off curve.
* ``latency_distributions.png``: empirical CDFs of TTFT, per-token ITL and E2E per level.
* ``ttft_vs_prompt.png``: TTFT against input length, when prompt lengths were swept.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmkit.extras import install_command

if TYPE_CHECKING:
    from llmkit.bench._runner import BenchResult

__all__ = ["PLOT_EXTRA_HINT", "write_plots"]

PLOT_EXTRA_HINT = f"plots skipped: they need the plot extra: {install_command('plot')}"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only; never open a window
    import matplotlib.pyplot as plt

    return plt


def write_plots(result: BenchResult, out: Path) -> tuple[list[Path], list[str]]:
    """Write the plots into ``out``; returns the files and notes (e.g. matplotlib missing)."""
    try:
        plt = _pyplot()
    except ImportError:
        return [], [PLOT_EXTRA_HINT]
    levels = [lv for lv in result.levels if lv.stats["requests"]["ok"]]
    if not levels:
        return [], ["plots skipped: no successful requests"]
    files = [_tradeoff(plt, result, out), _distributions(plt, result, out)]
    prompts = {lv.level.prompt_tokens for lv in levels}
    if len(prompts) > 1:
        files.append(_ttft_vs_prompt(plt, result, out))
    return files, []


def _tradeoff(plt: Any, result: BenchResult, out: Path) -> Path:
    stats = [lv.stats for lv in result.levels if lv.stats["requests"]["ok"]]
    stats.sort(key=lambda s: s["throughput"]["output_tokens_per_s"])
    tps = [s["throughput"]["output_tokens_per_s"] for s in stats]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, key, name in ((axes[0], "ttft_ms", "TTFT"), (axes[1], "itl_ms", "ITL per token")):
        for stat, style in (("p50", "o-"), ("p99", "s--")):
            ys = [s[key][stat] for s in stats]
            pts = [(x, y) for x, y in zip(tps, ys, strict=True) if y is not None]
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=f"{name} {stat}")
        for s, x in zip(stats, tps, strict=True):
            y = s[key]["p50"]
            if y is not None:
                ax.annotate(
                    s["label"], (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7
                )
        ax.set_xlabel("output tokens/s (all requests)")
        ax.set_ylabel(f"{name} (ms)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"Throughput vs latency · {result.model}")
    fig.tight_layout()
    path = out / "tradeoff.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _ecdf(values: list[float]) -> tuple[list[float], list[float]]:
    xs = sorted(values)
    n = len(xs)
    return xs, [(i + 1) / n for i in range(n)]


def _distributions(plt: Any, result: BenchResult, out: Path) -> Path:
    import numpy as np

    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    all_itl: list[float] = []
    for lv in result.levels:
        ok = [r for r in lv.records if r.ok and r.timing is not None]
        if not ok:
            continue
        series = {
            "TTFT": [r.ttft_ms for r in ok if r.ttft_ms is not None],
            "ITL per token": [v for r in ok if r.streamed and r.timing for v in r.timing.itl_ms],
            "E2E": [r.e2e_ms for r in ok if r.e2e_ms is not None],
        }
        all_itl += series["ITL per token"]
        for ax, vals in zip(axes, series.values(), strict=True):
            if vals:
                xs, ys = _ecdf(vals)
                ax.step(xs, ys, where="post", label=lv.level.label)
    for ax, name in zip(axes, ("TTFT", "ITL per token", "E2E"), strict=True):
        ax.set_xlabel(f"{name} (ms)")
        ax.set_ylabel("share of samples ≤ x")
        ax.set_title(name)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    itl_p99 = float(np.percentile(all_itl, 99)) if all_itl else 0.0
    if itl_p99 > 0:
        # A few stalls of hundreds of ms would squeeze every curve against zero: show the
        # body of the distribution (up to p99; the tail is in requests.csv).
        axes[1].set_xlim(0, itl_p99 * 1.1)
        axes[1].set_xlabel("ITL per token (ms, up to p99 of all levels)")
    fig.tight_layout()
    path = out / "latency_distributions.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _ttft_vs_prompt(plt: Any, result: BenchResult, out: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    by_load: dict[str, list[tuple[int, float, float]]] = {}
    for lv in result.levels:
        s = lv.stats
        if lv.level.prompt_tokens is None or s["ttft_ms"]["p50"] is None:
            continue
        load = lv.level.label.split(" in=")[0]
        by_load.setdefault(load, []).append(
            (lv.level.prompt_tokens, s["ttft_ms"]["p50"], s["ttft_ms"]["p99"])
        )
    for load, pts in by_load.items():
        pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=f"{load} p50")
        ax.plot([p[0] for p in pts], [p[2] for p in pts], "s--", label=f"{load} p99")
    ax.set_xlabel("prompt tokens")
    ax.set_ylabel("TTFT (ms)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = out / "ttft_vs_prompt.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
