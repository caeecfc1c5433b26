"""Baselines: compare a run with a committed earlier summary by a *paired* test per metric.

A baseline is a summary JSON (``llmkit.eval.summary/1``) with per-case scores. Only the
cases present in both runs enter a test; cases added or removed since the baseline are
reported by id and left out. A case is one pair whatever its ``repeat``: its repeats are
averaged (``.score``) or all required (``.pass``) first, so they are never counted as
independent pairs. Each metric is judged over those same cases:

- ``cases.pass`` (a case passes when all its scorers pass) and ``<scorer>.pass``: McNemar's
  exact test on the discordant cases (passed before and fail now, or the reverse);
- ``<scorer>.score`` (mean over repeats, in [0, 1]): below 20 pairs the exact sign-flip
  permutation test of the paired differences; from 20 pairs a seeded paired bootstrap
  interval of the mean change. It is left out when every score equals its pass indicator
  (then it *is* ``.pass``).

A metric regresses only when its drop is beyond the threshold **and** significant at the
set level (p below ``alpha`` with more cases lost than gained, or a bootstrap interval
lying wholly below zero). When too few pairs changed for any exact test to reach ``alpha``
(with ``alpha = 0.05``, fewer than 6: see :func:`llmkit.stats.pairs_needed`), the metric is
**inconclusive**: a drop beyond the threshold then exits 3, never 0 or 1. Intervals are
shown from 20 pairs on and never when they have no width. Every test is seeded
(:mod:`llmkit.stats`), so the same two files give the same verdict on every machine.

Settings (the suite's ``baseline:`` block, overridable by keyword arguments): ``file`` (the
baseline to compare with, relative to the suite file: the CLI and the pytest plugin both
use it), ``threshold``
(absolute drop on the [0, 1] scale, default 0.05), ``thresholds`` (per scorer), ``alpha``
(default 0.05), ``n_resamples`` (default 2000), ``seed`` (default 0).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmkit._exceptions import ConfigError

if TYPE_CHECKING:
    from llmkit.stats import Interval

__all__ = [
    "BASELINE_FORMAT",
    "DEFAULT_ALPHA",
    "DEFAULT_THRESHOLD",
    "BaselineError",
    "Comparison",
    "MetricComparison",
    "compare_to_baseline",
    "load_baseline",
    "validate_baseline_settings",
    "write_baseline",
]

BASELINE_FORMAT = "llmkit.eval.summary/1"
DEFAULT_THRESHOLD = 0.05
DEFAULT_ALPHA = 0.05
DEFAULT_RESAMPLES = 2000
# Below this many pairs a bootstrap is no interval: use an exact test instead.
MIN_BOOTSTRAP_PAIRS = 20
_SETTINGS = ("file", "threshold", "thresholds", "alpha", "n_resamples", "seed")


class BaselineError(ConfigError):
    """A baseline file or the baseline settings are unusable.

    Attributes:
        path: the file, when one is involved.
        field: the setting or JSON key at fault, when known.
    """

    def __init__(self, message: str, *, path: str = "", field: str = "") -> None:
        self.path = path
        self.field = field
        prefix = f"{path}: " if path else ""
        super().__init__(f"{prefix}{field + ': ' if field else ''}{message}")


def _number(value: Any, field: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BaselineError(f"expected a number, got {value!r}", field=field)
    if not low <= float(value) <= high:
        raise BaselineError(f"must lie in [{low:g}, {high:g}], got {value!r}", field=field)
    return float(value)


def validate_baseline_settings(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """The suite's ``baseline:`` block, checked and with defaults filled in.

    Raises:
        BaselineError: an unknown key or a value out of range (``.field`` names it).
    """
    given = dict(settings or {})
    for key in given:
        if key not in _SETTINGS:
            raise BaselineError(
                f"unknown baseline setting (allowed: {', '.join(_SETTINGS)})", field=key
            )
    out: dict[str, Any] = {
        "threshold": _number(given.get("threshold", DEFAULT_THRESHOLD), "threshold", 0.0, 1.0),
        "alpha": _number(given.get("alpha", DEFAULT_ALPHA), "alpha", 1e-9, 0.5),
    }
    thresholds = given.get("thresholds") or {}
    if not isinstance(thresholds, Mapping):
        raise BaselineError("expected a mapping of scorer name to threshold", field="thresholds")
    out["thresholds"] = {
        str(k): _number(v, f"thresholds.{k}", 0.0, 1.0) for k, v in thresholds.items()
    }
    resamples = given.get("n_resamples", DEFAULT_RESAMPLES)
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 100:
        raise BaselineError(
            f"expected an integer of at least 100, got {resamples!r}", field="n_resamples"
        )
    out["n_resamples"] = resamples
    seed = given.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise BaselineError(f"expected a non-negative integer, got {seed!r}", field="seed")
    out["seed"] = seed
    if "file" in given:
        if not isinstance(given["file"], str) or not given["file"].strip():
            raise BaselineError("expected a file path (relative to the suite file)", field="file")
        out["file"] = given["file"]
    return out


@dataclass(frozen=True)
class MetricComparison:
    """One metric of the baseline against the current run, over the shared cases.

    Attributes:
        metric: ``cases.pass``, ``<scorer>.pass`` or ``<scorer>.score``.
        kind: ``pass`` or ``score``.
        test: ``mcnemar`` (exact), ``sign-flip`` (exact permutation) or ``bootstrap``.
        n: shared cases the test used (a case with repeats is one pair).
        before: the metric's mean over those cases in the baseline.
        after: the same in the current run.
        change: ``after - before``.
        interval: paired bootstrap interval of the change, from 20 pairs on and only when
            it has width; else ``None``.
        pvalue: the exact test's two-sided p-value (``None`` for the bootstrap).
        lost: cases worse now (passing before and failing now, or a lower score).
        gained: cases better now.
        threshold: the drop that counts as material.
        alpha: the significance level.
        significant: the drop is significant at the set level (see module docstring).
        inconclusive: too few pairs changed for any test at ``alpha`` to be significant.
        regressed: dropped by more than ``threshold`` and significant.
    """

    metric: str
    kind: str
    test: str
    n: int
    before: float
    after: float
    change: float
    interval: Interval | None
    pvalue: float | None
    lost: int
    gained: int
    threshold: float
    alpha: float
    significant: bool
    inconclusive: bool
    regressed: bool

    @property
    def changed(self) -> int:
        """Pairs that differ: the only ones a paired test learns from."""
        return self.lost + self.gained

    @property
    def dropped(self) -> bool:
        """Whether the change is a drop beyond the threshold (whatever the test says)."""
        return self.change < -self.threshold

    @property
    def verdict(self) -> str:
        """``regression``, ``inconclusive`` (a drop no test here can judge), or ``ok``."""
        if self.regressed:
            return "regression"
        if self.inconclusive and self.dropped:
            return "inconclusive"
        return "ok"

    def _evidence(self) -> str:
        if self.test == "mcnemar":
            text = f"McNemar p={self.pvalue:.3g}, lost {self.lost}, gained {self.gained}"
        elif self.test == "sign-flip":
            text = f"exact sign-flip p={self.pvalue:.3g}, {self.lost} lower, {self.gained} higher"
        else:
            text = f"{self.lost} lower, {self.gained} higher"
        if self.interval is not None:
            iv = self.interval
            text += f", {iv.confidence:.0%} CI [{iv.low:+.3f}, {iv.high:+.3f}]"
        return text

    def line(self) -> str:
        """One line for people: the metric, the change, the test and the verdict."""
        from llmkit import stats  # numpy: imported only once a baseline is compared

        text = (
            f"{self.metric}: {self.before:.3f} -> {self.after:.3f} "
            f"(change {self.change:+.3f}, {self._evidence()}, n={self.n})"
        )
        if self.regressed:
            text += f" REGRESSION (drop beyond {self.threshold:g}, significant)"
        elif self.inconclusive and self.dropped:
            text += (
                f" INCONCLUSIVE (drop beyond {self.threshold:g}, but {self.changed} changed "
                f"pair(s): no test at alpha {self.alpha:g} can be significant with fewer "
                f"than {stats.pairs_needed(self.alpha)})"
            )
        elif self.dropped:
            text += " drop not significant"
        elif self.significant:
            text += f" significant but within threshold {self.threshold:g}"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The comparison as plain JSON-ready data."""
        return {
            "metric": self.metric,
            "kind": self.kind,
            "test": self.test,
            "n": self.n,
            "before": self.before,
            "after": self.after,
            "change": self.change,
            "interval": None if self.interval is None else _finite_dict(self.interval.to_dict()),
            "pvalue": self.pvalue,
            "lost": self.lost,
            "gained": self.gained,
            "threshold": self.threshold,
            "significant": self.significant,
            "inconclusive": self.inconclusive,
            "regressed": self.regressed,
            "verdict": self.verdict,
        }


def _finite_dict(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


@dataclass(frozen=True)
class Comparison:
    """The verdict of a run against its baseline.

    Attributes:
        metrics: one comparison per metric, in a stable order.
        added: case ids in this run but not in the baseline (left out of the tests).
        removed: case ids in the baseline but not in this run (left out of the tests).
        shared: how many cases the tests used.
        settings: the thresholds, alpha, resamples and seed used.
        baseline_path: where the baseline came from, if known.
    """

    metrics: tuple[MetricComparison, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    shared: int
    settings: dict[str, Any]
    baseline_path: str | None = None

    @property
    def regressed(self) -> bool:
        """Whether any metric regressed against the baseline."""
        return any(m.regressed for m in self.metrics)

    @property
    def inconclusive(self) -> bool:
        """A metric dropped beyond its threshold with too few changed pairs to test."""
        return not self.regressed and any(m.verdict == "inconclusive" for m in self.metrics)

    @property
    def exit_code(self) -> int:
        """1 on a regression, 3 when inconclusive (see :attr:`inconclusive`), else 0."""
        return 1 if self.regressed else (3 if self.inconclusive else 0)

    @property
    def regressions(self) -> tuple[str, ...]:
        """One line per regressed metric, naming it, its drop, interval and p-value."""
        return tuple(m.line() for m in self.metrics if m.regressed)

    @property
    def undecided(self) -> tuple[str, ...]:
        """One line per metric that dropped beyond its threshold but could not be tested."""
        return tuple(m.line() for m in self.metrics if m.verdict == "inconclusive")

    def lines(self) -> list[str]:
        """Every line for people: shared cases, added/removed cases, each metric."""
        src = f" {self.baseline_path}" if self.baseline_path else ""
        out = [f"baseline{src}: {self.shared} shared cases, alpha {self.settings['alpha']:g}"]
        if self.added:
            out.append(f"added since the baseline (not compared): {', '.join(self.added)}")
        if self.removed:
            out.append(f"removed since the baseline (not compared): {', '.join(self.removed)}")
        out += [m.line() for m in self.metrics]
        if self.regressed:
            out.append(f"regressions: {len(self.regressions)}")
        elif self.inconclusive:
            out.append(
                f"inconclusive: {len(self.undecided)} metric(s) dropped beyond the threshold "
                "with too few changed cases to test"
            )
        else:
            out.append("no regression against the baseline")
        return out

    def to_dict(self) -> dict[str, Any]:
        """The comparison as plain JSON-ready data."""
        return {
            "baseline": self.baseline_path,
            "regressed": self.regressed,
            "inconclusive": self.inconclusive,
            "exit_code": self.exit_code,
            "regressions": [m.metric for m in self.metrics if m.regressed],
            "shared_cases": self.shared,
            "added_cases": list(self.added),
            "removed_cases": list(self.removed),
            "settings": dict(self.settings),
            "metrics": [m.to_dict() for m in self.metrics],
        }

    def to_markdown(self) -> str:
        """A Markdown section (fit for ``$GITHUB_STEP_SUMMARY``)."""
        verdict = (
            "**regression**"
            if self.regressed
            else ("**inconclusive**" if self.inconclusive else "no regression")
        )
        conf = f"{1 - self.settings['alpha']:.0%}"
        rows = [
            "### Against the baseline",
            "",
            f"{verdict}: {self.shared} shared cases, paired tests at alpha "
            f"{self.settings['alpha']:g} (seed {self.settings['seed']}).",
            "",
        ]
        if self.added:
            rows.append(f"- added (not compared): {', '.join(f'`{c}`' for c in self.added)}")
        if self.removed:
            rows.append(f"- removed (not compared): {', '.join(f'`{c}`' for c in self.removed)}")
        if self.added or self.removed:
            rows.append("")
        rows += [
            f"| metric | before | after | change | {conf} CI | test | verdict |",
            "| --- | ---: | ---: | ---: | --- | --- | --- |",
        ]
        names = {"mcnemar": "McNemar", "sign-flip": "exact sign-flip"}
        for m in self.metrics:
            iv = m.interval
            test = (
                f"{names[m.test]} p={m.pvalue:.3g} (-{m.lost}/+{m.gained})"
                if m.pvalue is not None
                else f"paired bootstrap (-{m.lost}/+{m.gained})"
            )
            ci = "n/a" if iv is None else f"[{iv.low:+.3f}, {iv.high:+.3f}]"
            verdict_cell = {
                "regression": "**REGRESSION**",
                "inconclusive": "**INCONCLUSIVE** (too few changed cases)",
            }.get(m.verdict, "significant" if m.significant else "ok")
            rows.append(
                f"| `{m.metric}` | {m.before:.3f} | {m.after:.3f} | {m.change:+.3f} | "
                f"{ci} | {test} | {verdict_cell} |"
            )
        return "\n".join(rows) + "\n"


def load_baseline(path: str | Path) -> dict[str, Any]:
    """Read a baseline (a summary JSON with ``per_case``).

    Raises:
        BaselineError: unreadable, not JSON, or not a summary with per-case scores.
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(
            "baseline file not found (write one with --update-baseline)", path=str(p)
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"cannot read: {exc}", path=str(p)) from None
    except json.JSONDecodeError as exc:
        raise BaselineError(f"not JSON (line {exc.lineno}: {exc.msg})", path=str(p)) from None
    _check_summary(data, str(p))
    return dict(data)


def _check_summary(data: Any, where: str) -> None:
    if not isinstance(data, dict):
        raise BaselineError("a baseline is a JSON object (an eval summary)", path=where)
    fmt = data.get("format")
    if fmt != BASELINE_FORMAT:
        raise BaselineError(
            f"expected {BASELINE_FORMAT!r}, got {fmt!r}", path=where, field="format"
        )
    per_case = data.get("per_case")
    if not isinstance(per_case, dict):
        raise BaselineError("missing the per-case scores", path=where, field="per_case")
    for case_id, case in per_case.items():
        field = f"per_case.{case_id}"
        if not isinstance(case, dict) or not isinstance(case.get("passed"), bool):
            raise BaselineError(
                "expected an object with a boolean 'passed'", path=where, field=field
            )
        scores = case.get("scores", {})
        if not isinstance(scores, dict):
            raise BaselineError("expected 'scores' to be an object", path=where, field=field)
        for name, s in scores.items():
            ok = (
                isinstance(s, dict)
                and isinstance(s.get("passed"), bool)
                and isinstance(s.get("score"), int | float)
                and not isinstance(s.get("score"), bool)
                and math.isfinite(s["score"])
            )
            if not ok:
                raise BaselineError(
                    "expected {score: number, passed: bool}",
                    path=where,
                    field=f"{field}.scores.{name}",
                )


def write_baseline(summary: Mapping[str, Any], path: str | Path) -> None:
    """Write ``summary`` as the new baseline (sorted-key JSON, replaced atomically).

    Raises:
        BaselineError: the summary has no per-case scores, or the file cannot be written.
    """
    _check_summary(dict(summary), "summary")
    p = Path(path)
    data = {k: v for k, v in summary.items() if k != "comparison"}
    text = json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n"
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, p)
    except OSError as exc:
        raise BaselineError(f"cannot write: {exc}", path=str(p)) from None


def _settings(summary: Mapping[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    base = dict(summary.get("baseline_settings") or {})
    base.update({k: v for k, v in overrides.items() if v is not None})
    return validate_baseline_settings(base)


def _interval(
    before: list[float], after: list[float], alpha: float, n_resamples: int, seed: int
) -> Interval | None:
    """The paired bootstrap interval, or ``None`` below 20 pairs or when it has no width."""
    from llmkit import stats

    if len(before) < MIN_BOOTSTRAP_PAIRS:
        return None
    iv = stats.paired_bootstrap_ci(
        before, after, n_resamples=n_resamples, confidence=1.0 - alpha, seed=seed
    )
    return iv if iv.high > iv.low else None


def _metric(
    name: str,
    kind: str,
    before: list[float],
    after: list[float],
    threshold: float,
    alpha: float,
    n_resamples: int,
    seed: int,
) -> MetricComparison:
    from llmkit import stats  # numpy: a run without a baseline never needs it

    pairs = list(zip(before, after, strict=True))
    lost = sum(1 for b, a in pairs if a < b)
    gained = sum(1 for b, a in pairs if a > b)
    n = len(pairs)
    change = sum(after) / n - sum(before) / n
    inconclusive = stats.min_attainable_pvalue(lost + gained) >= alpha
    interval = _interval(before, after, alpha, n_resamples, seed)
    pvalue: float | None
    if kind == "pass":
        test, pvalue = "mcnemar", stats.mcnemar(lost, gained, exact=True).pvalue
        significant = pvalue < alpha and lost > gained
    elif n < MIN_BOOTSTRAP_PAIRS:
        test = "sign-flip"
        pvalue = stats.paired_permutation_test(before, after, seed=seed).pvalue
        significant = pvalue < alpha and change < 0
    else:
        test, pvalue = "bootstrap", None
        significant = interval is not None and interval.high < 0.0
    significant = significant and not inconclusive
    return MetricComparison(
        metric=name,
        kind=kind,
        test=test,
        n=n,
        before=sum(before) / n,
        after=sum(after) / n,
        change=change,
        interval=interval,
        pvalue=pvalue,
        lost=lost,
        gained=gained,
        threshold=threshold,
        alpha=alpha,
        significant=significant,
        inconclusive=inconclusive,
        regressed=significant and change < -threshold,
    )


def compare_to_baseline(
    summary: Mapping[str, Any],
    baseline: Mapping[str, Any],
    *,
    threshold: float | None = None,
    alpha: float | None = None,
    seed: int | None = None,
    n_resamples: int | None = None,
    baseline_path: str | Path | None = None,
) -> Comparison:
    """Compare this run's summary with the baseline's, metric by metric, over shared cases.

    Args:
        summary: this run's summary (``per_case`` scores, ``baseline_settings``).
        baseline: the earlier summary (see :func:`load_baseline`).
        threshold, alpha, seed, n_resamples: override the suite's ``baseline:`` settings.
        baseline_path: shown in the report.

    Raises:
        BaselineError: a summary lacks per-case scores, or a setting is out of range.
    """
    where = str(baseline_path) if baseline_path else "baseline"
    _check_summary(dict(baseline), where)
    _check_summary(dict(summary), "summary")
    cfg = _settings(
        summary,
        {"threshold": threshold, "alpha": alpha, "seed": seed, "n_resamples": n_resamples},
    )
    now: dict[str, Any] = summary["per_case"]
    then: dict[str, Any] = baseline["per_case"]
    shared = sorted(set(now) & set(then))
    added = tuple(sorted(set(now) - set(then)))
    removed = tuple(sorted(set(then) - set(now)))
    metrics: list[MetricComparison] = []
    common = (cfg["alpha"], cfg["n_resamples"], cfg["seed"])
    if shared:
        metrics.append(
            _metric(
                "cases.pass",
                "pass",
                [float(bool(then[c]["passed"])) for c in shared],
                [float(bool(now[c]["passed"])) for c in shared],
                cfg["threshold"],
                *common,
            )
        )
    scorer_names = sorted(
        {s for c in shared for s in then[c].get("scores", {})}
        & {s for c in shared for s in now[c].get("scores", {})}
    )
    for scorer in scorer_names:
        # A case lacking this scorer on either side (a scorer added to one case) is left out.
        cases = [c for c in shared if scorer in then[c]["scores"] and scorer in now[c]["scores"]]
        if not cases:
            continue
        old = [then[c]["scores"][scorer] for c in cases]
        new = [now[c]["scores"][scorer] for c in cases]
        limit = cfg["thresholds"].get(scorer, cfg["threshold"])
        old_pass = [float(bool(s["passed"])) for s in old]
        new_pass = [float(bool(s["passed"])) for s in new]
        metrics.append(_metric(f"{scorer}.pass", "pass", old_pass, new_pass, limit, *common))
        # the score is the case's mean over its repeats: one pair per case
        old_score = [float(s["score"]) for s in old]
        new_score = [float(s["score"]) for s in new]
        if old_score + new_score != old_pass + new_pass:
            metrics.append(
                _metric(f"{scorer}.score", "score", old_score, new_score, limit, *common)
            )
    return Comparison(
        metrics=tuple(metrics),
        added=added,
        removed=removed,
        shared=len(shared),
        settings=cfg,
        baseline_path=str(baseline_path) if baseline_path else None,
    )
