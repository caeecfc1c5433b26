"""Compare two runs level by level (``llmkit bench compare A B``), judging change against noise.

Levels are matched by their load setting (mode, value, prompt length); runs of different
load types are never paired. Each metric is a dotted path into a level of
``summary.json`` (``ttft_ms.p99``, ``throughput.output_tokens_per_s``); a bare ``ttft_ms``
means its p50. Latencies and failure shares are better lower, throughput and goodput
better higher.

A gated metric *regresses* when it got worse by more than the threshold **and** the 95%
interval of the change excludes no change. The interval comes from a seeded bootstrap
over the runs' ``requests.csv`` (per level, each run resampled on its own, with
:mod:`llmkit.stats`), so two runs of the same server do not fail on noise. A percentile
the sample cannot support (too few requests beyond it: p99 of 64 requests) is reported
as *insufficient* and not gated; a gated value that is missing, null or not a finite
number counts as a regression.
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmkit._exceptions import ConfigError
from llmkit.bench._metrics import STAT_KEYS
from llmkit.stats import (
    bootstrap_percentile_diff_ci,
    bootstrap_pooled_diff_ci,
    percentile_supported,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CONFIDENCE",
    "DEFAULT_GATED",
    "DEFAULT_SHOWN",
    "SCHEMA_MAJOR",
    "CompareResult",
    "CompareUsageError",
    "MetricChange",
    "compare_runs",
    "higher_is_better",
    "known_metrics",
    "load_summary",
    "normalize_metric",
    "parse_threshold",
]

SCHEMA_MAJOR = 1  # the summary.json major version this code reads
CONFIDENCE = 0.95
_SEED = 0
_MAX_JSON_BYTES = 256 * 1024 * 1024

DEFAULT_SHOWN = (
    "ttft_ms.p50",
    "ttft_ms.p99",
    "itl_ms.p50",
    "itl_ms.p99",
    "tpot_ms.p50",
    "e2e_ms.p50",
    "e2e_ms.p99",
    "queue_wait_ms.p50",
    "throughput.output_tokens_per_s",
    "throughput.requests_per_s",
    "goodput.requests_per_s",
    "failed_share",
)
DEFAULT_GATED = (
    "ttft_ms.p50",
    "itl_ms.p50",
    "e2e_ms.p50",
    "throughput.output_tokens_per_s",
)
_ALIASES = {
    "tps": "throughput.output_tokens_per_s",
    "output_tokens_per_s": "throughput.output_tokens_per_s",
    "requests_per_s": "throughput.requests_per_s",
    "rps": "throughput.requests_per_s",
    "goodput": "goodput.requests_per_s",
    "goodput_share": "goodput.share",
    "tbt_ms": "itl_ms",
}
_HIGHER_BETTER_PREFIXES = ("throughput.", "goodput.", "output_tps.")

# Distributions in a level (each with STAT_KEYS) -> the requests.csv column holding one
# value per request, when there is one. Pooled per-token ITL/ICL have no such column.
_DISTRIBUTIONS: dict[str, str | None] = {
    "ttfb_ms": "ttfb_ms",
    "ttft_ms": "ttft_ms",
    "ttfr_ms": "ttfr_ms",
    "itl_ms": None,
    "icl_ms": None,
    "request_itl_ms": "mean_itl_ms",
    "tpot_ms": "tpot_ms",
    "e2e_ms": "e2e_ms",
    "send_lag_ms": "queue_wait_ms",
    "queue_wait_ms": "queue_wait_ms",
    "ttft_scheduled_ms": "ttft_scheduled_ms",
    "e2e_scheduled_ms": "e2e_scheduled_ms",
    "output_tokens": "output_tokens",
    "prompt_tokens": "prompt_tokens",
    "output_tps": "output_tps",
}
_SCALARS = (
    "throughput.requests_per_s",
    "throughput.output_tokens_per_s",
    "throughput.input_tokens_per_s",
    "throughput.total_tokens_per_s",
    "goodput.requests_per_s",
    "goodput.share",
    "failed_share",
)
# Distributions over every measured request, not only the successful ones.
_ALL_REQUESTS = {"send_lag_ms", "queue_wait_ms"}


class CompareUsageError(ConfigError):
    """The comparison cannot be made as asked (exit 2): an unknown metric, summaries of
    another schema version, runs of different load types, or nothing gated that the
    samples can support."""


def known_metrics() -> list[str]:
    """Every metric name ``compare`` accepts (aliases aside)."""
    out = [f"{d}.{s}" for d in _DISTRIBUTIONS for s in STAT_KEYS]
    return out + list(_SCALARS)


def parse_threshold(text: str | float) -> float:
    """``"10%"`` or ``0.1`` → 0.1; a bare number above 1 is read as percent."""
    if isinstance(text, int | float):
        value = float(text)
    else:
        raw = text.strip()
        try:
            value = float(raw.rstrip("%"))
        except ValueError:
            raise ConfigError(f"not a threshold: {text!r} (use e.g. 10% or 0.1)") from None
        if raw.endswith("%"):
            value /= 100
    if not math.isfinite(value):
        raise ConfigError(f"not a threshold: {text!r}")
    if value > 1:
        value /= 100
    if value < 0:
        raise ConfigError("threshold must be >= 0")
    return value


def normalize_metric(name: str) -> str:
    """Resolve aliases; a distribution without a statistic means its p50.

    Raises:
        CompareUsageError: the metric is not one a summary holds.
    """
    name = _ALIASES.get(name.strip(), name.strip())
    head, _, rest = name.partition(".")
    # Only a distribution's alias stands before a statistic ("tbt_ms.p99"); the scalar
    # aliases name a whole metric ("goodput"), so "goodput.share" stays as written.
    if _ALIASES.get(head) in _DISTRIBUTIONS:
        head = _ALIASES[head]
    if not rest and head in _DISTRIBUTIONS:
        rest = "p50"
    full = f"{head}.{rest}" if rest else head
    if head in _DISTRIBUTIONS and rest in STAT_KEYS:
        return full
    if full in _SCALARS:
        return full
    if head in _DISTRIBUTIONS:
        raise CompareUsageError(
            f"unknown statistic {rest!r} in metric {name!r}: use one of {', '.join(STAT_KEYS)}"
        )
    raise CompareUsageError(
        f"unknown metric {name!r}: use a distribution ({', '.join(_DISTRIBUTIONS)}) "
        f"with .{'/.'.join(STAT_KEYS)}, or one of {', '.join(_SCALARS)}"
    )


def higher_is_better(metric: str) -> bool:
    return metric.startswith(_HIGHER_BETTER_PREFIXES)


def _major(version: Any, where: str) -> int:
    if isinstance(version, int) and not isinstance(version, bool):
        return version
    if isinstance(version, str):
        head = version.split(".", 1)[0]
        if head.isdigit():
            return int(head)
    raise ConfigError(f"{where}: schema_version {version!r} is not a version number")


def _check_levels(data: dict[str, Any], where: str) -> None:
    levels = data["levels"]
    if not isinstance(levels, list):
        raise ConfigError(f"{where}: 'levels' is {type(levels).__name__}, not a list")
    for i, lv in enumerate(levels):
        if not isinstance(lv, dict):
            raise ConfigError(f"{where}: levels[{i}] is {type(lv).__name__}, not an object")
        if not isinstance(lv.get("key"), str):
            raise ConfigError(f"{where}: levels[{i}] has no 'key' naming its load setting")
        if not isinstance(lv.get("label", ""), str):
            raise ConfigError(f"{where}: levels[{i}] has a 'label' that is not text")
        if "index" in lv and not isinstance(lv["index"], int):
            raise ConfigError(f"{where}: levels[{i}] has an 'index' that is not a number")


def load_summary(path: str | Path) -> dict[str, Any]:
    """Read and check ``summary.json`` from a run directory (or the file itself).

    Raises:
        ConfigError: missing, unreadable, malformed, or not an llmkit bench summary.
        CompareUsageError: written by a version of another major ``schema_version``.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "summary.json"
    try:
        if p.stat().st_size > _MAX_JSON_BYTES:
            raise ConfigError(f"{str(p)!r} is too large to be a benchmark summary")
        data = json.loads(p.read_bytes())
    except FileNotFoundError:
        raise ConfigError(f"no benchmark run at {str(path)!r} (summary.json missing)") from None
    except RecursionError:
        raise ConfigError(f"cannot read {str(p)!r}: JSON nested too deeply") from None
    except (OSError, ValueError) as exc:  # UnicodeDecodeError and JSONDecodeError too
        raise ConfigError(f"cannot read {str(p)!r}: {exc}") from None
    if not isinstance(data, dict) or "levels" not in data or "schema_version" not in data:
        raise ConfigError(f"{str(p)!r} is not an llmkit bench summary")
    major = _major(data["schema_version"], str(p))
    if major != SCHEMA_MAJOR:
        raise CompareUsageError(
            f"{str(p)!r} has schema_version {data['schema_version']!r}; this llmkit reads "
            f"major version {SCHEMA_MAJOR} only (compare runs written by the same version)"
        )
    _check_levels(data, str(p))
    return data


def _samples(run_dir: Path | None) -> dict[int, dict[str, Any]] | None:
    """``requests.csv`` as ``{level index: {column: values}}``; ``None`` when absent.

    With ``itl_ms.npz`` next to it, each level also gets ``"itl_clusters"``: the
    per-token ITL of each request, so pooled ITL can be resampled request by request.
    """
    if run_dir is None:
        return None
    path = run_dir / "requests.csv"
    if not path.is_file():
        return None
    out: dict[int, dict[str, Any]] = defaultdict(lambda: defaultdict(list))
    rows: Counter[int] = Counter()  # rows per level, interrupted ones included
    columns = {c for c in _DISTRIBUTIONS.values() if c is not None}
    try:
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                try:
                    level = int(row.get("level") or "")
                except ValueError:
                    continue
                status = row.get("status") or ""
                rows[level] += 1
                if status == "interrupted":
                    continue
                cols = out[level]
                cols["failed"].append(0.0 if status == "ok" else 1.0)
                for col in columns:
                    value = _float(row.get(col))
                    if value is None:
                        continue
                    if status == "ok":
                        cols[col].append(value)
                    if col == "queue_wait_ms":
                        cols["queue_wait_all"].append(value)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ConfigError(f"cannot read {str(path)!r}: {exc}") from None
    for level, n in rows.items():
        out[level]["rows"] = n
    _itl_clusters(run_dir / "itl_ms.npz", out)
    return out


def _itl_clusters(path: Path, out: dict[int, dict[str, Any]]) -> None:
    if not path.is_file():
        return
    import zipfile

    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            for name in data.files:
                if not name.startswith("values_"):
                    continue
                index = int(name.removeprefix("values_"))
                values = np.asarray(data[name], dtype=np.float64)
                sizes = np.asarray(data[f"sizes_{index}"], dtype=np.int64)
                if sizes.sum() != values.size or (sizes < 0).any():
                    raise ValueError(f"{name}: sizes do not add up to the values")
                out[index]["itl_clusters"] = np.split(values, np.cumsum(sizes)[:-1])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise ConfigError(f"cannot read {str(path)!r}: {exc}") from None


def _float(text: Any) -> float | None:
    if text is None or text == "":
        return None
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _value(level: dict[str, Any], metric: str) -> Any:
    """The raw value at ``metric`` (anything: the caller checks it is a finite number)."""
    if metric == "failed_share":
        req = level.get("requests")
        if not isinstance(req, dict):
            return None
        ok, failed = req.get("ok"), req.get("failed")
        if not isinstance(ok, int) or not isinstance(failed, int):
            return None
        return failed / (ok + failed) if ok + failed > 0 else None
    node: Any = level
    for part in metric.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    v = float(value)
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class MetricChange:
    """One metric of one level in two runs.

    Attributes:
        change_pct: ``(b − a) / |a|`` in percent (``None`` when ``a`` is 0 or missing).
        low_pct, high_pct: the 95% bootstrap interval of the change, in percent
            (``None`` when the change was judged on the summaries alone).
        method: ``"bootstrap"`` (over requests.csv) or ``"point"`` (summary values).
        worse_beyond: got worse by more than the threshold.
        significant: the interval excludes no change (always true for ``"point"``).
        insufficient: the samples cannot support this statistic; not gated.
        missing: a value is absent, null or not a finite number.
        gated: the metric was chosen to decide the exit code.
        note: why a value is missing or insufficient.
    """

    level: str
    metric: str
    a: float | None
    b: float | None
    change_pct: float | None
    higher_is_better: bool
    worse_beyond: bool
    gated: bool
    low_pct: float | None = None
    high_pct: float | None = None
    method: str = "point"
    significant: bool = True
    insufficient: bool = False
    missing: bool = False
    note: str = ""

    @property
    def regression(self) -> bool:
        """Whether this change fails the gate: missing, or worse beyond the threshold and significant."""
        if not self.gated:
            return False
        if self.missing:
            return True
        return not self.insufficient and self.worse_beyond and self.significant

    def to_dict(self) -> dict[str, Any]:
        """The change as plain JSON-ready data, with its verdict."""
        return {**asdict(self), "regression": self.regression}


@dataclass(frozen=True)
class CompareResult:
    """Every compared metric, plus levels found in only one run."""

    a: str
    b: str
    threshold: float
    changes: tuple[MetricChange, ...]
    only_a: tuple[str, ...]
    only_b: tuple[str, ...]
    matched_by_position: bool = False
    notes: tuple[str, ...] = ()

    @property
    def intervals_missing(self) -> bool:
        """A run gave no usable per-request samples: changes are judged on points alone."""
        return bool(self.notes)

    @property
    def confidence(self) -> float:
        """The level of the intervals that decide a regression."""
        return CONFIDENCE

    @property
    def regressions(self) -> list[MetricChange]:
        """The gated metrics that got significantly worse beyond the threshold."""
        return [c for c in self.changes if c.regression]

    @property
    def regressed(self) -> bool:
        """A gated metric got worse, or a baseline level is missing from run B.

        A level the new run did not measure cannot be shown not to have regressed.
        """
        return bool(self.regressions) or bool(self.only_a)

    @property
    def gated_insufficient(self) -> bool:
        """Every gated value compared was insufficient: the gate decided nothing."""
        gated = [c for c in self.changes if c.gated]
        return bool(gated) and all(c.insufficient and not c.missing for c in gated)

    def to_dict(self) -> dict[str, Any]:
        """The comparison as plain JSON-ready data."""
        return {
            "a": self.a,
            "b": self.b,
            "threshold": self.threshold,
            "confidence": CONFIDENCE,
            "regressed": self.regressed,
            "only_a": list(self.only_a),
            "only_b": list(self.only_b),
            "matched_by_position": self.matched_by_position,
            "notes": list(self.notes),
            "intervals_missing": self.intervals_missing,
            "changes": [c.to_dict() for c in self.changes],
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per metric change, as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame([c.to_dict() for c in self.changes])


def _stat_q(stat: str) -> float | None:
    """The percentile a statistic is (``None`` for the mean); max is the 100th."""
    if stat == "mean":
        return None
    if stat == "max":
        return 100.0
    return float(stat[1:])


def _supported(n: int, stat: str) -> bool:
    if stat == "max":
        return False  # nothing lies beyond the maximum: it is the noisiest statistic
    q = _stat_q(stat)
    return percentile_supported(n, 50.0 if q is None else q)


def _level_n(level: dict[str, Any]) -> int:
    req = level.get("requests")
    n = req.get("ok") if isinstance(req, dict) else None
    return n if isinstance(n, int) and not isinstance(n, bool) else 0


def _judge(
    metric: str,
    label: str,
    lva: dict[str, Any],
    lvb: dict[str, Any],
    sa: dict[str, Any] | None,
    sb: dict[str, Any] | None,
    *,
    threshold: float,
    gated: bool,
) -> MetricChange:
    higher = higher_is_better(metric)
    raw_a, raw_b = _value(lva, metric), _value(lvb, metric)
    va, vb = _number(raw_a), _number(raw_b)

    def made(**fields: Any) -> MetricChange:
        return MetricChange(
            level=label, metric=metric, higher_is_better=higher, gated=gated, **fields
        )

    if va is None or vb is None:
        which = " and ".join(n for n, v in (("A", va), ("B", vb)) if v is None)
        shown = raw_b if vb is None else raw_a
        note = f"no finite value in {which} ({json.dumps(shown)[:40]})"
        return made(a=va, b=vb, change_pct=None, worse_beyond=False, missing=True,
                            note=note)  # fmt: skip
    pct: float | None = None
    if va == 0:
        worse = (vb < 0) if higher else (vb > 0)
    else:
        change = (vb - va) / abs(va)
        pct = 100.0 * change
        worse = change < -threshold if higher else change > threshold
    head, _, stat = metric.partition(".")
    column = _DISTRIBUTIONS.get(head) if stat in STAT_KEYS else None
    if metric == "failed_share":
        column, stat = "failed", "mean"
    elif head in _ALL_REQUESTS and column is not None:
        column = "queue_wait_all"
    if head == "itl_ms" and stat in STAT_KEYS:
        ca = sa.get("itl_clusters") if sa is not None else None
        cb = sb.get("itl_clusters") if sb is not None else None
        if ca and cb:
            n = min(sum(len(c) for c in ca), sum(len(c) for c in cb))
            if not _supported(n, stat):
                return made(a=va, b=vb, change_pct=pct, worse_beyond=worse,
                            insufficient=True, method="bootstrap",
                            note=f"{stat} of {n} token gaps: too few beyond it")  # fmt: skip
            ci = bootstrap_pooled_diff_ci(
                ca, cb, _stat_q(stat), relative=True, confidence=CONFIDENCE, seed=_SEED
            )
            return _with_interval(made, va, vb, pct, worse, ci.low, ci.high)
    xs = sa.get(column) if sa is not None and column else None
    ys = sb.get(column) if sb is not None and column else None
    if xs and ys:
        n = min(len(xs), len(ys))
        if not _supported(n, stat):
            return made(a=va, b=vb, change_pct=pct, worse_beyond=worse,
                        insufficient=True, method="bootstrap",
                        note=f"{stat} of {n} requests: too few beyond it")  # fmt: skip
        ci = bootstrap_percentile_diff_ci(
            xs, ys, _stat_q(stat), relative=True, confidence=CONFIDENCE, seed=_SEED
        )
        return _with_interval(made, va, vb, pct, worse, ci.low, ci.high)
    # No per-request samples (pooled ITL, throughput, a summary without requests.csv):
    # judge the summary values, and only statistics the request count can support.
    if stat in STAT_KEYS:
        n = min(_level_n(lva), _level_n(lvb))
        if head in ("itl_ms", "icl_ms"):  # pooled over tokens: as many values as gaps
            n = min(_pooled_n(lva), _pooled_n(lvb))
        if not _supported(n, stat):
            return made(a=va, b=vb, change_pct=pct, worse_beyond=worse,
                                insufficient=True, note=f"{stat} of {n} values: too few "
                                "beyond it")  # fmt: skip
    return made(a=va, b=vb, change_pct=pct, worse_beyond=worse)


def _with_interval(
    made: Any, va: float, vb: float, pct: float | None, worse: bool, low: float, high: float
) -> MetricChange:
    significant = (low > 0 or high < 0) if va != 0 else True
    change: MetricChange = made(
        a=va, b=vb, change_pct=pct, worse_beyond=worse, significant=significant,
        low_pct=None if math.isnan(low) else 100 * low,
        high_pct=None if math.isnan(high) else 100 * high,
        method="bootstrap",
    )  # fmt: skip
    return change


def _pooled_n(level: dict[str, Any]) -> int:
    thr = level.get("throughput")
    tokens = thr.get("output_tokens") if isinstance(thr, dict) else None
    if not isinstance(tokens, int | float) or isinstance(tokens, bool):
        return _level_n(level)
    return max(0, int(tokens) - _level_n(level))


def _modes(summary: dict[str, Any]) -> set[str]:
    modes = set()
    for lv in summary["levels"]:
        load = lv.get("load")
        mode = load.get("mode") if isinstance(load, dict) else None
        modes.add(mode if isinstance(mode, str) else lv["key"].split("=", 1)[0])
    return modes


def compare_runs(
    a: dict[str, Any] | str | Path,
    b: dict[str, Any] | str | Path,
    *,
    metrics: tuple[str, ...] | list[str] | None = None,
    threshold: float = 0.10,
) -> CompareResult:
    """Compare run ``b`` against baseline ``a``.

    Args:
        a, b: summaries or run directories (a directory's ``requests.csv`` gives the
            per-request samples the noise is judged from).
        metrics: metrics that decide :attr:`CompareResult.regressed` (shown too);
            default :data:`DEFAULT_GATED`.
        threshold: relative change tolerated before a worse value counts (0.1 = 10%).

    Raises:
        CompareUsageError: an unknown metric, another schema version, or runs of
            different load types.
        ConfigError: a summary or requests.csv cannot be read or is malformed.
    """
    name_a = str(a) if not isinstance(a, dict) else "A"
    name_b = str(b) if not isinstance(b, dict) else "B"
    gated = [normalize_metric(m) for m in (metrics or DEFAULT_GATED)]
    sa = a if isinstance(a, dict) else load_summary(a)
    sb = b if isinstance(b, dict) else load_summary(b)
    for name, s in ((name_a, sa), (name_b, sb)):
        if "levels" not in s or "schema_version" not in s:
            raise ConfigError(f"{name} is not an llmkit bench summary")
        if _major(s["schema_version"], name) != SCHEMA_MAJOR:
            raise CompareUsageError(f"{name} has schema_version {s['schema_version']!r}")
        _check_levels(s, name)
    ma, mb = _modes(sa), _modes(sb)
    if ma and mb and ma != mb:
        raise CompareUsageError(
            f"runs of different load types cannot be compared: {name_a} is "
            f"{'/'.join(sorted(ma))}, {name_b} is {'/'.join(sorted(mb))}"
        )
    notes: list[str] = []
    samples_a = _usable(_samples(_run_dir(a)), sa, name_a, notes)
    samples_b = _usable(_samples(_run_dir(b)), sb, name_b, notes)
    shown = list(dict.fromkeys([*gated, *DEFAULT_SHOWN]))
    la = {lv["key"]: lv for lv in sa["levels"]}
    lb = {lv["key"]: lv for lv in sb["levels"]}
    pairs = [(la[k], lb[k]) for k in la if k in lb]
    by_position = False
    if not pairs and len(sa["levels"]) == len(sb["levels"]):
        # Same load type (checked above), other values: pair in order, and say so.
        pairs = list(zip(sa["levels"], sb["levels"], strict=True))
        by_position = bool(pairs)
    changes: list[MetricChange] = []
    for lva, lvb in pairs:
        la_label, lb_label = lva.get("label") or lva["key"], lvb.get("label") or lvb["key"]
        label = la_label if la_label == lb_label else f"{la_label} / {lb_label}"
        xa = _level_samples(samples_a, lva, sa)
        xb = _level_samples(samples_b, lvb, sb)
        for metric in shown:
            is_gated = metric in gated
            if not is_gated and _value(lva, metric) is None and _value(lvb, metric) is None:
                continue
            changes.append(
                _judge(metric, label, lva, lvb, xa, xb, threshold=threshold, gated=is_gated)
            )
    matched_a = {id(p[0]) for p in pairs}
    matched_b = {id(p[1]) for p in pairs}
    return CompareResult(
        a=name_a,
        b=name_b,
        threshold=threshold,
        changes=tuple(changes),
        only_a=tuple(lv.get("label") or lv["key"] for lv in sa["levels"] if id(lv) not in matched_a),
        only_b=tuple(lv.get("label") or lv["key"] for lv in sb["levels"] if id(lv) not in matched_b),
        matched_by_position=by_position,
        notes=tuple(notes),
    )  # fmt: skip


def _usable(
    samples: dict[int, dict[str, Any]] | None, summary: dict[str, Any], name: str, notes: list[str]
) -> dict[int, dict[str, Any]] | None:
    """``samples`` if they can give intervals; else ``None``, with a note saying why.

    Without them every change is judged on the summaries' point estimates alone: a gate
    that then passes or fails on noise must say so.
    """
    alone = "changes are judged on point estimates alone, without intervals"
    if samples is None:
        notes.append(f"{name}: no requests.csv: {alone}")
        return None
    for index, level in enumerate(summary["levels"]):
        counts = level.get("requests") if isinstance(level.get("requests"), dict) else {}
        total = _number(counts.get("total"))
        rows = samples.get(int(level.get("index", index)), {}).get("rows", 0)
        if total is not None and rows < total:
            notes.append(
                f"{name}: requests.csv holds {rows} of the {int(total)} requests the summary "
                f"counts in level {level.get('label') or level.get('key')} (truncated?): {alone}"
            )
            return None
    columns = {c for c in _DISTRIBUTIONS.values() if c is not None}
    if not any(level.get(c) for level in samples.values() for c in columns):
        notes.append(f"{name}: requests.csv has no usable values (all empty or NaN): {alone}")
        return None
    return samples


def _run_dir(arg: dict[str, Any] | str | Path) -> Path | None:
    if isinstance(arg, dict):
        return None
    p = Path(arg)
    return p if p.is_dir() else p.parent


def _level_samples(
    samples: dict[int, dict[str, Any]] | None, level: dict[str, Any], summary: Any
) -> dict[str, Any] | None:
    if samples is None:
        return None
    index = level.get("index", summary["levels"].index(level))
    return samples.get(index)
