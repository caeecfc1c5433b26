"""Writing a run down: ``summary.json``, ``requests.csv`` and plots."""

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
    "write_report",
]

OUTPUT_FILES = ("summary.json", "requests.csv", "itl_ms.npz")
_PLOT_GLOB = "*.png"


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
