"""Drift between a reference window of the call log and a current one.

Categorical signals (parse stage, finish reason, response model) by a chi-square test of
the 2 x K table; continuous ones (prompt and answer length in tokens, TTFT, ITL) by the
two-sample Kolmogorov-Smirnov test; Benjamini-Hochberg over all their p-values. Jensen-
Shannon distance (both kinds) and Wasserstein distance (continuous, in the signal's unit)
are reported beside them as effect sizes, never tested.

Exit codes: 0 no drift, 1 drift found, 3 too few calls in a window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from llmkit._exceptions import ConfigError
from llmkit.stats import (
    benjamini_hochberg,
    chi_square_contingency,
    jensen_shannon,
    ks_2samp,
    wasserstein,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CATEGORICAL", "CONTINUOUS", "DriftReport", "DriftSignal", "drift"]

# signal -> call-log column
CATEGORICAL = {
    "parse_stage": "structured_stage",
    "finish_reason": "finish_reason",
    "response_model": "model",
}
CONTINUOUS = {
    "prompt_tokens": "prompt_tokens",
    "answer_tokens": "completion_tokens",
    "ttft_ms": "ttft_ms",
    "itl_ms": "mean_itl_ms",
}
_BINS = 20


@dataclass(frozen=True)
class DriftSignal:
    """One signal's test: sample sizes, statistic, p-values, effect sizes, verdict."""

    signal: str
    kind: str  # categorical | continuous
    test: str  # chi-square | kolmogorov-smirnov
    reference_n: int
    current_n: int
    statistic: float | None
    p_value: float | None
    p_adjusted: float | None
    jensen_shannon: float | None
    wasserstein: float | None
    drifted: bool
    status: str  # tested | no_data
    detail: str = ""


@dataclass(frozen=True)
class DriftReport:
    """Drift over all signals, with its verdict and exit code."""

    verdict: str  # drift | no_drift | inconclusive
    exit_code: int
    reason: str
    alpha: float
    reference_calls: int
    current_calls: int
    signals: tuple[DriftSignal, ...]

    @property
    def drifted(self) -> list[str]:
        """The signals that drifted, by name."""
        return [s.signal for s in self.signals if s.drifted]

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (what ``--json`` prints)."""
        out = asdict(self)
        out["signals"] = [asdict(s) for s in self.signals]
        out["drifted"] = self.drifted
        return out


def _shares_detail(ref: pd.Series[Any], cur: pd.Series[Any]) -> str:
    r = ref.value_counts(normalize=True)
    c = cur.value_counts(normalize=True)
    moved = (
        c.reindex(r.index.union(c.index), fill_value=0)
        - r.reindex(r.index.union(c.index), fill_value=0)
    ).sort_values(key=abs, ascending=False)
    return ", ".join(f"{k} {v:+.1%}" for k, v in moved.head(3).items())


def _categorical(name: str, ref: pd.Series[Any], cur: pd.Series[Any]) -> dict[str, Any]:
    categories = sorted(set(ref) | set(cur), key=str)
    counts_r = [int((ref == c).sum()) for c in categories]
    counts_c = [int((cur == c).sum()) for c in categories]
    result = chi_square_contingency([counts_r, counts_c])
    return {
        "test": "chi-square",
        "statistic": result.statistic,
        "p_value": result.pvalue,
        "jensen_shannon": jensen_shannon(counts_r, counts_c),
        "wasserstein": None,
        "detail": _shares_detail(ref, cur),
    }


def _continuous(name: str, ref: np.ndarray[Any, Any], cur: np.ndarray[Any, Any]) -> dict[str, Any]:
    result = ks_2samp(ref, cur)
    edges = np.unique(np.quantile(np.concatenate([ref, cur]), np.linspace(0, 1, _BINS + 1)))
    hist_r = np.histogram(ref, bins=edges)[0] if len(edges) > 1 else np.array([len(ref)])
    hist_c = np.histogram(cur, bins=edges)[0] if len(edges) > 1 else np.array([len(cur)])
    return {
        "test": "kolmogorov-smirnov",
        "statistic": result.statistic,
        "p_value": result.pvalue,
        "jensen_shannon": jensen_shannon(hist_r, hist_c),
        "wasserstein": wasserstein(ref, cur),
        "detail": f"median {np.median(ref):.4g} -> {np.median(cur):.4g}, p95 {np.percentile(ref, 95):.4g} -> {np.percentile(cur, 95):.4g}",
    }


def _values(frame: pd.DataFrame, column: str) -> pd.Series[Any]:
    import pandas as pd

    return frame[column].dropna() if column in frame else pd.Series([], dtype=object)


def drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    alpha: float = 0.05,
    min_samples: int = 50,
    reference_scores: Mapping[str, Sequence[float]] | None = None,
    current_scores: Mapping[str, Sequence[float]] | None = None,
) -> DriftReport:
    """Compare the call-log rows of ``current`` with those of ``reference``.

    Eval scores (scorer -> scores, when given) are discrete: each scorer's score mix is one
    more categorical signal, ``score:<scorer>``, tested by chi-square.
    """
    import pandas as pd

    if not 0 < alpha < 1:
        raise ConfigError(f"--alpha {alpha}: expected a number between 0 and 1")
    rows: list[dict[str, Any]] = []
    for kind, columns in (("categorical", CATEGORICAL), ("continuous", CONTINUOUS)):
        for name, column in columns.items():
            ref, cur = _values(reference, column), _values(current, column)
            row: dict[str, Any] = {
                "signal": name,
                "kind": kind,
                "reference_n": len(ref),
                "current_n": len(cur),
            }
            if min(len(ref), len(cur)) >= min_samples:
                if kind == "categorical":
                    row.update(_categorical(name, ref.astype(str), cur.astype(str)))
                else:
                    row.update(
                        _continuous(name, ref.to_numpy(np.float64), cur.to_numpy(np.float64))
                    )
            rows.append(row)
    ref_scores, cur_scores = reference_scores or {}, current_scores or {}
    for scorer in sorted(set(ref_scores) | set(cur_scores)):
        ref = pd.Series([f"{v:g}" for v in ref_scores.get(scorer, ())], dtype=object)
        cur = pd.Series([f"{v:g}" for v in cur_scores.get(scorer, ())], dtype=object)
        row = {
            "signal": f"score:{scorer}",
            "kind": "categorical",
            "reference_n": len(ref),
            "current_n": len(cur),
        }
        if min(len(ref), len(cur)) >= min_samples:
            row.update(_categorical(scorer, ref, cur))
        rows.append(row)
    tested = [r for r in rows if "p_value" in r]
    for r, p_adj in zip(tested, benjamini_hochberg([r["p_value"] for r in tested]), strict=True):
        r["p_adjusted"] = p_adj
    signals = tuple(
        DriftSignal(
            signal=r["signal"],
            kind=r["kind"],
            test=r.get(
                "test", "chi-square" if r["kind"] == "categorical" else "kolmogorov-smirnov"
            ),
            reference_n=r["reference_n"],
            current_n=r["current_n"],
            statistic=r.get("statistic"),
            p_value=r.get("p_value"),
            p_adjusted=r.get("p_adjusted"),
            jensen_shannon=r.get("jensen_shannon"),
            wasserstein=r.get("wasserstein"),
            drifted=r.get("p_adjusted", 1.0) < alpha,
            status="tested" if "p_value" in r else "no_data",
            detail=r.get("detail", f"need {min_samples} values in each window"),
        )
        for r in rows
    )
    n_ref, n_cur = len(reference), len(current)
    if min(n_ref, n_cur) < min_samples or not tested:
        reason = f"too few calls: {n_ref} in the reference window, {n_cur} in the current one (need {min_samples} each)"
        return DriftReport("inconclusive", 3, reason, alpha, n_ref, n_cur, signals)
    drifted = [s.signal for s in signals if s.drifted]
    if drifted:
        return DriftReport(
            "drift", 1, f"drift in {', '.join(drifted)}", alpha, n_ref, n_cur, signals
        )
    return DriftReport("no_drift", 0, "no signal drifted", alpha, n_ref, n_cur, signals)
