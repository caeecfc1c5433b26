"""The canary judge: promote or roll back on evidence from the call log.

Per metric, Kayenta's method for latencies (outliers beyond 3 IQR trimmed, Mann-Whitney U,
a tolerance band and a direction: slower is worse) plus a p95 comparison that trims
nothing (a slow tail for 10% of users hides from a trimmed median): the share of canary
requests above the baseline's p95 against the baseline's own 5%, by a two-proportion test.
Error, parse-failure, re-prompt and ``finish_reason=length`` rates: two-proportion tests.
The two-proportion tests are Fisher's exact test: the z test rejects too often for rare
events (a 2% error rate over a few hundred calls), and repeated checks compound that.
Every metric has a direction (higher is worse), so every test is one-sided: is the canary
worse?
Benjamini-Hochberg over all the metrics' p-values; a metric fails when its adjusted p-value
is under the check's alpha and the canary is worse by more than the tolerance.

Repeated checks during one rollout spend alpha: check ``k`` (1, 2, ...) uses
``alpha * 6 / (pi^2 k^2)``, which sums to ``alpha`` over any number of checks, so the chance
of a false roll-back over the whole rollout stays under ``alpha`` (a union bound; no
independence assumed). ``tests/watch/test_canary.py`` shows it by simulation.

Verdicts and exit codes: ``promote`` 0, ``rollback`` 1, ``inconclusive`` 3 (too few samples).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from llmkit._exceptions import ConfigError
from llmkit.stats import benjamini_hochberg, fisher_exact_greater, mann_whitney_u

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "EXIT_CODES",
    "CanaryMetric",
    "CanaryVerdict",
    "VariantSample",
    "alpha_for_check",
    "compare",
    "judge",
    "sample_from_log",
]

Floats = npt.NDArray[np.float64]
EXIT_CODES = {"promote": 0, "rollback": 1, "inconclusive": 3}
LATENCIES = {"ttft": "ttft_ms", "itl": "mean_itl_ms", "e2e": "e2e_ms"}
RATES = ("error_rate", "parse_failure_rate", "reprompt_rate", "length_rate")
DEFAULT_CRITICAL = ("error_rate", "parse_failure_rate")
TAIL_Q = 95.0


@dataclass(frozen=True)
class VariantSample:
    """What one variant's calls say: latency values (ms), (hits, trials) per rate, and
    eval scores (0..1) per scorer."""

    calls: int
    latencies: Mapping[str, Sequence[float]] = field(default_factory=dict)
    rates: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    scores: Mapping[str, Sequence[float]] = field(default_factory=dict)


@dataclass(frozen=True)
class CanaryMetric:
    """One metric's comparison: values, change, raw and adjusted p-values, and status."""

    name: str
    kind: str  # latency | tail | rate
    critical: bool
    baseline: float | None
    canary: float | None
    change: float | None  # canary / baseline - 1
    p_value: float | None
    p_adjusted: float | None
    status: str  # pass | fail | no_data | n/a
    reason: str


@dataclass(frozen=True)
class CanaryVerdict:
    """The judge's verdict (``promote``, ``rollback``, ``inconclusive``) with its exit code."""

    verdict: str
    exit_code: int
    reason: str
    baseline: str
    canary: str
    samples: dict[str, int]
    check: int
    alpha: float
    alpha_check: float
    score: float | None
    metrics: tuple[CanaryMetric, ...]

    @property
    def failing(self) -> list[str]:
        """The metrics that failed, by name."""
        return [m.name for m in self.metrics if m.status == "fail"]

    def to_dict(self) -> dict[str, Any]:
        """The verdict as JSON-ready data (what ``--json`` prints)."""
        out = asdict(self)
        out["metrics"] = [asdict(m) for m in self.metrics]
        out["failing"] = self.failing
        return out


def alpha_for_check(alpha: float, check: int) -> float:
    """The alpha spent on check ``check`` of a rollout (sums to ``alpha`` over all checks)."""
    if check < 1:
        raise ConfigError(f"--check {check}: checks count from 1")
    return alpha * 6.0 / (math.pi**2 * check**2)


def _trim(values: Floats) -> Floats:
    """Kayenta-style outlier removal: drop values beyond 3 IQR from the quartiles."""
    q1, q3 = np.percentile(values, [25, 75])
    spread = 3.0 * (q3 - q1)
    kept: Floats = values[(values >= q1 - spread) & (values <= q3 + spread)]
    return kept


def _change(baseline: float, canary: float) -> float | None:
    """``canary / baseline - 1``; ``None`` from a baseline of 0 (no ratio to speak of)."""
    return None if baseline == 0 else canary / baseline - 1.0


@dataclass
class _Row:
    name: str
    kind: str
    baseline: float | None = None
    canary: float | None = None
    p: float | None = None
    status: str = "pass"
    reason: str = ""
    lower_is_worse: bool = False


def _latency_rows(name: str, base: Floats, can: Floats, min_n: int) -> list[_Row]:
    if len(base) < min_n or len(can) < min_n:
        why = f"{len(base)} baseline and {len(can)} canary values (need {min_n} each)"
        return [_Row(name, "latency", status="no_data", reason=why),
                _Row(f"{name}_p95", "tail", status="no_data", reason=why)]  # fmt: skip
    tb, tc = _trim(base), _trim(can)
    median = _Row(name, "latency", float(np.median(tb)), float(np.median(tc)))
    median.p = mann_whitney_u(tc, tb, "greater").pvalue
    threshold = float(np.percentile(base, TAIL_Q))
    over_b, over_c = int((base > threshold).sum()), int((can > threshold).sum())
    tail = _Row(f"{name}_p95", "tail", over_b / len(base), over_c / len(can))
    tail.p = fisher_exact_greater(over_c, len(can), over_b, len(base)).pvalue
    tail.reason = f"share above the baseline's p95 ({threshold:.4g} ms)"
    median.reason = "median after trimming outliers (Mann-Whitney U)"
    return [median, tail]


def _score_row(name: str, base: Floats, can: Floats, min_n: int) -> _Row:
    """Kayenta's method in the other direction: a lower score is worse."""
    if len(base) < min_n or len(can) < min_n:
        why = f"{len(base)} baseline and {len(can)} canary scores (need {min_n} each)"
        return _Row(name, "score", status="no_data", reason=why, lower_is_worse=True)
    tb, tc = _trim(base), _trim(can)
    row = _Row(name, "score", float(np.mean(tb)), float(np.mean(tc)), lower_is_worse=True)
    row.p = mann_whitney_u(tb, tc, "greater").pvalue
    row.reason = "mean after trimming outliers (Mann-Whitney U)"
    return row


def _rate_row(name: str, base: tuple[int, int], can: tuple[int, int], min_n: int) -> _Row:
    (xb, nb), (xc, nc) = base, can
    if nb == 0 and nc == 0:
        return _Row(name, "rate", status="n/a", reason="no calls of this kind")
    if nb < min_n or nc < min_n:
        return _Row(
            name,
            "rate",
            status="no_data",
            reason=f"{nb} baseline and {nc} canary calls of this kind (need {min_n} each)",
        )
    row = _Row(name, "rate", xb / nb, xc / nc, fisher_exact_greater(xc, nc, xb, nb).pvalue)
    row.reason = f"{xc}/{nc} against {xb}/{nb} (Fisher exact)"
    return row


def judge(
    baseline: VariantSample,
    canary: VariantSample,
    *,
    baseline_name: str = "baseline",
    canary_name: str = "canary",
    alpha: float = 0.05,
    check: int = 1,
    min_samples: int = 50,
    tolerance: float = 0.10,
    critical: Sequence[str] = DEFAULT_CRITICAL,
    pass_score: float = 75.0,
) -> CanaryVerdict:
    """Judge ``canary`` against ``baseline`` (see the module docstring for the method)."""
    if not 0 < alpha < 1:
        raise ConfigError(f"--alpha {alpha}: expected a number between 0 and 1")
    if tolerance < 0:
        raise ConfigError(f"--tolerance {tolerance}: expected a number >= 0")
    alpha_k = alpha_for_check(alpha, check)
    samples = {baseline_name: baseline.calls, canary_name: canary.calls}
    rows: list[_Row] = []
    for name in LATENCIES:
        base = np.asarray(baseline.latencies.get(name, ()), dtype=np.float64)
        can = np.asarray(canary.latencies.get(name, ()), dtype=np.float64)
        rows += _latency_rows(name, base[np.isfinite(base)], can[np.isfinite(can)], min_samples)
    for scorer in sorted(set(baseline.scores) | set(canary.scores)):
        base = np.asarray(baseline.scores.get(scorer, ()), dtype=np.float64)
        can = np.asarray(canary.scores.get(scorer, ()), dtype=np.float64)
        rows.append(
            _score_row(
                f"score:{scorer}", base[np.isfinite(base)], can[np.isfinite(can)], min_samples
            )
        )
    for name in RATES:
        rows.append(
            _rate_row(
                name, baseline.rates.get(name, (0, 0)), canary.rates.get(name, (0, 0)), min_samples
            )
        )
    unknown = set(critical) - {r.name for r in rows}
    if unknown:
        raise ConfigError(
            f"--critical {', '.join(sorted(unknown))}: unknown metric (known: {', '.join(r.name for r in rows)})"
        )
    tested = [r for r in rows if r.p is not None]
    adjusted = dict(
        zip(
            (id(r) for r in tested),
            benjamini_hochberg([r.p for r in tested if r.p is not None]),
            strict=True,
        )
    )
    metrics = []
    for r in rows:
        p_adj = adjusted.get(id(r))
        change = (
            _change(r.baseline, r.canary)
            if r.baseline is not None and r.canary is not None
            else None
        )
        status = r.status
        reason = r.reason
        if p_adj is not None and r.baseline is not None and r.canary is not None:
            # Worse beyond the band; from a baseline of 0, any canary value is worse.
            if r.lower_is_worse:
                worse = r.canary < r.baseline * (1 - tolerance)
            else:
                worse = r.canary > r.baseline * (1 + tolerance) and r.canary > r.baseline
            if p_adj < alpha_k and worse:
                status = "fail"
                moved = "from 0" if change is None else f"{change:+.1%}"
                reason = f"{r.reason}: {moved} (beyond the {tolerance:.0%} tolerance), adjusted p {p_adj:.3g} < {alpha_k:.3g}"
        metrics.append(
            CanaryMetric(
                r.name,
                r.kind,
                r.name in critical,
                r.baseline,
                r.canary,
                change,
                r.p,
                p_adj,
                status,
                reason,
            )
        )
    return _verdict(
        metrics, baseline_name, canary_name, samples, check, alpha, alpha_k, min_samples, pass_score
    )


def _verdict(
    metrics: list[CanaryMetric],
    baseline: str,
    canary: str,
    samples: dict[str, int],
    check: int,
    alpha: float,
    alpha_k: float,
    min_samples: int,
    pass_score: float,
) -> CanaryVerdict:
    def done(verdict: str, reason: str, score: float | None) -> CanaryVerdict:
        return CanaryVerdict(
            verdict,
            EXIT_CODES[verdict],
            reason,
            baseline,
            canary,
            samples,
            check,
            alpha,
            alpha_k,
            score,
            tuple(metrics),
        )

    few = [name for name, n in samples.items() if n < min_samples]
    if few:
        return done(
            "inconclusive", f"too few calls for {', '.join(few)} (need {min_samples} each)", None
        )
    critical_failed = [m.name for m in metrics if m.critical and m.status == "fail"]
    if critical_failed:
        return done("rollback", f"critical metric failed: {', '.join(critical_failed)}", 0.0)
    judged = [m for m in metrics if m.status in ("pass", "fail")]
    missing = [m.name for m in metrics if m.critical and m.status == "no_data"]
    if missing or not judged:
        return done("inconclusive", f"no data for {', '.join(missing) or 'any metric'}", None)
    score = 100.0 * sum(m.status == "pass" for m in judged) / len(judged)
    failing = [m.name for m in judged if m.status == "fail"]
    if score < pass_score:
        return done(
            "rollback",
            f"score {score:.0f} < {pass_score:.0f}; failing: {', '.join(failing)}",
            score,
        )
    note = f"; failing but tolerated: {', '.join(failing)}" if failing else ""
    return done("promote", f"score {score:.0f} >= {pass_score:.0f}{note}", score)


def sample_from_log(frame: pd.DataFrame) -> VariantSample:
    """One variant's rows of the call log as a :class:`VariantSample`."""
    ok = frame[frame["error_type"].isna()]
    latencies = {
        name: ok[column].dropna().astype(float).tolist()
        for name, column in LATENCIES.items()
        if column in ok
    }
    stages: list[str] = (
        frame["structured_stage"].dropna().tolist() if "structured_stage" in frame else []
    )
    finish: list[str | None] = ok["finish_reason"].tolist()
    rates = {
        "error_rate": (len(frame) - len(ok), len(frame)),
        "parse_failure_rate": (stages.count("failed"), len(stages)),
        "reprompt_rate": (stages.count("reprompted"), len(stages)),
        "length_rate": (finish.count("length"), len(ok)),
    }
    return VariantSample(len(frame), latencies, rates)


def compare(
    frame: pd.DataFrame,
    baseline: str,
    canary: str,
    *,
    scores: Mapping[str, Mapping[str, Sequence[float]]] | None = None,
    **options: Any,
) -> CanaryVerdict:
    """Judge variant ``canary`` against ``baseline`` over the call-log rows in ``frame``
    (and ``scores``: variant -> scorer -> eval scores, when given).

    Raises:
        ConfigError: the two names are equal, or the log has no ``variant`` column.
    """
    if baseline == canary:
        raise ConfigError(f"--baseline and --canary are both {baseline!r}")
    if "variant" not in frame:
        raise ConfigError(
            "the call log has no variant column (calls are tagged by llmkit.watch.variant)"
        )
    scores = scores or {}
    base = sample_from_log(frame[frame["variant"] == baseline])
    can = sample_from_log(frame[frame["variant"] == canary])
    return judge(
        replace(base, scores=dict(scores.get(baseline, {}))),
        replace(can, scores=dict(scores.get(canary, {}))),
        baseline_name=baseline,
        canary_name=canary,
        **options,
    )
