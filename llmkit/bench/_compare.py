"""Compare two runs level by level (``llmkit bench compare A B``).

Levels are matched by their load setting (mode, value, prompt length). Each metric is a
dotted path into a level of ``summary.json`` (``ttft_ms.p99``,
``throughput.output_tokens_per_s``); a bare ``ttft_ms`` means its p50. Latencies and
failure shares are better lower, throughput and goodput better higher.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmkit._exceptions import ConfigError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_GATED",
    "DEFAULT_SHOWN",
    "CompareResult",
    "MetricChange",
    "compare_runs",
    "compare_table",
    "higher_is_better",
    "load_summary",
    "normalize_metric",
    "parse_threshold",
]

DEFAULT_SHOWN = (
    "ttft_ms.p50",
    "ttft_ms.p99",
    "itl_ms.p50",
    "itl_ms.p99",
    "tpot_ms.p50",
    "e2e_ms.p50",
    "e2e_ms.p99",
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
    if value > 1:
        value /= 100
    if value < 0:
        raise ConfigError("threshold must be >= 0")
    return value


def normalize_metric(name: str) -> str:
    """Resolve aliases; a latency metric without a statistic means its p50."""
    name = _ALIASES.get(name.strip(), name.strip())
    head, _, rest = name.partition(".")
    head = _ALIASES.get(head, head)
    if not rest and (head.endswith("_ms") or head in ("output_tps", "output_tokens")):
        return f"{head}.p50"
    return f"{head}.{rest}" if rest else head


def higher_is_better(metric: str) -> bool:
    return metric.startswith(_HIGHER_BETTER_PREFIXES)


def load_summary(path: str | Path) -> dict[str, Any]:
    """Read ``summary.json`` from a run directory (or the file itself).

    Raises:
        ConfigError: missing, unreadable, or not an llmkit bench summary.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "summary.json"
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no benchmark run at {str(path)!r} (summary.json missing)") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {str(p)!r}: {exc}") from None
    if not isinstance(data, dict) or "levels" not in data or "schema_version" not in data:
        raise ConfigError(f"{str(p)!r} is not an llmkit bench summary")
    return data


def _value(level: dict[str, Any], metric: str) -> float | None:
    if metric == "failed_share":
        req = level.get("requests") or {}
        total = req.get("ok", 0) + req.get("failed", 0)
        return req.get("failed", 0) / total if total else None
    node: Any = level
    for part in metric.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None


@dataclass(frozen=True)
class MetricChange:
    """One metric of one level in two runs.

    Attributes:
        change_pct: ``(b − a) / a`` in percent (``None`` when ``a`` is 0 or missing).
        worse_beyond: got worse by more than the threshold.
        gated: the metric was chosen to decide the exit code.
    """

    level: str
    metric: str
    a: float | None
    b: float | None
    change_pct: float | None
    higher_is_better: bool
    worse_beyond: bool
    gated: bool

    @property
    def regression(self) -> bool:
        return self.gated and self.worse_beyond

    def to_dict(self) -> dict[str, Any]:
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

    @property
    def regressions(self) -> list[MetricChange]:
        return [c for c in self.changes if c.regression]

    @property
    def regressed(self) -> bool:
        """A gated metric got worse, or a baseline level is missing from run B.

        A level the new run did not measure cannot be shown not to have regressed.
        """
        return bool(self.regressions) or bool(self.only_a)

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "threshold": self.threshold,
            "regressed": self.regressed,
            "only_a": list(self.only_a),
            "only_b": list(self.only_b),
            "matched_by_position": self.matched_by_position,
            "changes": [c.to_dict() for c in self.changes],
        }

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([c.to_dict() for c in self.changes])


def _judge(
    a: float | None, b: float | None, higher: bool, threshold: float
) -> tuple[float | None, bool]:
    if a is None or b is None:
        return None, False
    if a == 0:
        return None, (b < 0) if higher else (b > 0)
    change = (b - a) / abs(a)
    worse = change < -threshold if higher else change > threshold
    return 100.0 * change, worse


def compare_runs(
    a: dict[str, Any] | str | Path,
    b: dict[str, Any] | str | Path,
    *,
    metrics: tuple[str, ...] | list[str] | None = None,
    threshold: float = 0.10,
) -> CompareResult:
    """Compare run ``b`` against baseline ``a``.

    Args:
        a, b: summaries or run directories.
        metrics: metrics that decide :attr:`CompareResult.regressed` (shown too);
            default :data:`DEFAULT_GATED`.
        threshold: relative change tolerated before a worse value counts (0.1 = 10%).
    """
    name_a = str(a) if not isinstance(a, dict) else "A"
    name_b = str(b) if not isinstance(b, dict) else "B"
    sa = a if isinstance(a, dict) else load_summary(a)
    sb = b if isinstance(b, dict) else load_summary(b)
    gated = [normalize_metric(m) for m in (metrics or DEFAULT_GATED)]
    shown = list(dict.fromkeys([*gated, *DEFAULT_SHOWN]))
    la = {lv["key"]: lv for lv in sa["levels"]}
    lb = {lv["key"]: lv for lv in sb["levels"]}
    pairs = [(la[k], lb[k]) for k in la if k in lb]
    by_position = False
    if not pairs and len(sa["levels"]) == len(sb["levels"]):
        pairs = list(zip(sa["levels"], sb["levels"], strict=True))
        by_position = bool(pairs)
    changes: list[MetricChange] = []
    for lva, lvb in pairs:
        label = lva["label"] if lva["label"] == lvb["label"] else f"{lva['label']} / {lvb['label']}"
        for metric in shown:
            va, vb = _value(lva, metric), _value(lvb, metric)
            if va is None and vb is None:
                continue
            higher = higher_is_better(metric)
            pct, worse = _judge(va, vb, higher, threshold)
            changes.append(MetricChange(label, metric, va, vb, pct, higher, worse, metric in gated))
    matched_a = {id(p[0]) for p in pairs}
    matched_b = {id(p[1]) for p in pairs}
    return CompareResult(
        a=name_a,
        b=name_b,
        threshold=threshold,
        changes=tuple(changes),
        only_a=tuple(lv["label"] for lv in sa["levels"] if id(lv) not in matched_a),
        only_b=tuple(lv["label"] for lv in sb["levels"] if id(lv) not in matched_b),
        matched_by_position=by_position,
    )


def compare_table(result: CompareResult) -> Any:
    """A rich table of the comparison, regressions in red, improvements in green."""
    from rich.table import Table

    t = Table(title=f"{result.a}  →  {result.b}", title_justify="left")
    for col in ("level", "metric", "A", "B", "change"):
        t.add_column(col, justify="left" if col in ("level", "metric") else "right")
    last = None
    for c in result.changes:
        pct = "-" if c.change_pct is None else f"{c.change_pct:+.1f}%"
        better = (
            c.change_pct is not None
            and abs(c.change_pct) > 100 * result.threshold
            and (c.change_pct > 0) == c.higher_is_better
        )
        style = "red" if c.worse_beyond else ("green" if better else "")
        mark = " ✗" if c.regression else ""
        t.add_row(
            c.level if c.level != last else "",
            c.metric + (" *" if c.gated else ""),
            "-" if c.a is None else f"{c.a:,.2f}",
            "-" if c.b is None else f"{c.b:,.2f}",
            f"[{style}]{pct}{mark}[/]" if style else pct,
        )
        last = c.level
    t.caption = f"* decides the exit code: worse by more than {100 * result.threshold:g}% fails"
    return t
