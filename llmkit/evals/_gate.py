"""The one verdict on a run, whatever runs it (``llmkit eval``, the pytest plugin, a script).

:func:`judge_run` takes a finished run and decides its exit status:

- 2: a case could not run (a missing recording, say), or the baseline is unusable or was
  written for another suite shape (another suite, other scorers);
- 1: a regression against the baseline, or a pass rate below the suite's ``min_pass_rate``
  (which gates on its own, with or without a baseline);
- 3: no regression, but a metric dropped beyond its threshold with too few changed cases
  for any test to judge (see :mod:`llmkit.evals._baseline`);
- 0: otherwise.

With ``update_baseline`` it compares first and writes only a run that passes that gate;
``accept_regression`` writes it anyway (the new baseline is then what was accepted). It
always says where it wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmkit import __version__
from llmkit.evals._baseline import (
    BaselineError,
    Comparison,
    compare_to_baseline,
    load_baseline,
    write_baseline,
)
from llmkit.evals._runner import EvalRun
from llmkit.evals._suite import Suite

__all__ = ["Verdict", "baseline_path", "check_shape", "judge_run"]


@dataclass(frozen=True)
class Verdict:
    """What a run comes to.

    Attributes:
        exit_code: 0, 1, 2 or 3 (see the module docstring).
        summary: the run's summary JSON, its ``exit_code``, ``ok`` and ``comparison`` set.
        comparison: the comparison with the baseline, if one was made.
        lines: for people (the comparison, notes about the baseline, what was written).
        problems: one line each for why the exit status is not 0.
        wrote: the baseline file written, if any.
    """

    exit_code: int
    summary: dict[str, Any]
    comparison: Comparison | None
    lines: tuple[str, ...]
    problems: tuple[str, ...]
    wrote: Path | None = None


def baseline_path(suite: Suite, given: str | Path | None = None) -> Path | None:
    """The baseline to use: ``given`` (the CLI's ``--baseline``), else the suite's
    ``baseline: {file: ...}`` relative to the suite file, else none."""
    if given is not None:
        return Path(given)
    name = suite.baseline.get("file")
    return Path(suite.path).parent / name if name else None


def check_shape(summary: Mapping[str, Any], baseline: Mapping[str, Any], where: Path) -> None:
    """Refuse a baseline written for another suite or other scorers.

    Raises:
        BaselineError: naming both shapes.
    """
    now = summary.get("suite_shape") or {}
    then = baseline.get("suite_shape")
    if then is None:  # written before baselines recorded their shape: the name must agree
        if baseline.get("suite") not in (None, now.get("suite")):
            then = {"suite": baseline.get("suite"), "scorers": now.get("scorers")}
        else:
            return
    if then != now:
        raise BaselineError(
            f"written for suite {then.get('suite')!r} with scorers "
            f"{', '.join(then.get('scorers') or []) or 'unknown'}; this run is suite "
            f"{now.get('suite')!r} with {', '.join(now.get('scorers') or [])}: compare with "
            "that suite's own baseline, or write a new one with --update-baseline "
            "--accept-regression",
            path=str(where),
        )


def _notes(summary: Mapping[str, Any], baseline: Mapping[str, Any]) -> list[str]:
    out = []
    then = (baseline.get("fingerprints") or {}).get("cassettes")
    now = (summary.get("fingerprints") or {}).get("cassettes")
    if then and now and then != now:
        out.append("note: the cassettes changed since the baseline was written")
    version = baseline.get("llmkit_version")
    if version and version != __version__:
        out.append(f"note: the baseline was written by llmkit {version}, this is {__version__}")
    return out


def _pass_rate_problem(run: EvalRun) -> str:
    failing = [c.case.id for c in run.cases if not c.passed]
    return (
        f"pass rate {run.pass_rate:.1%} below min_pass_rate {run.suite.min_pass_rate:.0%}; "
        f"failing: {', '.join(failing)}"
    )


def judge_run(
    run: EvalRun,
    *,
    baseline: str | Path | None = None,
    update_baseline: bool = False,
    accept_regression: bool = False,
) -> Verdict:
    """The exit status of ``run`` and why, comparing with (and maybe writing) the baseline.

    Args:
        run: from :func:`~llmkit.evals.run_suite`.
        baseline: the baseline file; default the suite's ``baseline.file``.
        update_baseline: write this run as the baseline, if it passes the gate.
        accept_regression: with ``update_baseline``, write it even if it does not.

    Raises:
        BaselineError: no baseline file to write to, an unreadable baseline, or one of
            another suite shape (exit 2).
    """
    summary = run.summary()
    code = int(summary["exit_code"])
    path = baseline_path(run.suite, baseline)
    if update_baseline and path is None:
        raise BaselineError(
            "--update-baseline needs a baseline file (--baseline FILE, or 'file:' in the "
            "suite's baseline block)"
        )
    problems = list(run.errors)
    if code == 1:
        problems.append(_pass_rate_problem(run))
    lines: list[str] = []
    comparison: Comparison | None = None
    shape_error: BaselineError | None = None
    if path is not None and code != 2 and (path.exists() or not update_baseline):
        data = load_baseline(path)
        try:
            check_shape(summary, data, path)
        except BaselineError as exc:
            if not (update_baseline and accept_regression):
                raise
            shape_error = exc
        if shape_error is None:
            comparison = compare_to_baseline(summary, data, baseline_path=path)
            summary["comparison"] = comparison.to_dict()
            lines += [*comparison.lines(), *_notes(summary, data)]
            problems += [f"regression: {line}" for line in comparison.regressions]
            problems += [f"inconclusive: {line}" for line in comparison.undecided]
            if code == 0:
                code = comparison.exit_code
    wrote = None
    if update_baseline and path is not None:
        if code == 2:
            problems.append(f"not writing the baseline {path}: the run has errors")
        elif code != 0 and not accept_regression:
            problems.append(
                f"not writing the baseline {path}: this run fails its gate (see above); "
                "pass --accept-regression to make it the baseline anyway"
            )
        else:
            was = f" (was {_rate_in(path)})" if path.exists() else ""
            write_baseline(summary, path)
            wrote = path
            lines.append(
                f"wrote the baseline {path}: {summary['passed_cases']}/{summary['cases']} "
                f"cases, pass rate {summary['pass_rate']:.1%}{was}"
                + (" (accepted)" if code else "")
            )
            if shape_error is not None:
                lines.append(f"replaced a baseline of another shape: {shape_error}")
            # an accepted regression is the new baseline; min_pass_rate still gates alone
            code = 1 if run.pass_rate < run.suite.min_pass_rate else 0
            problems = [p for p in problems if p.startswith(("case ", "pass rate"))]
    summary["exit_code"], summary["ok"] = code, code == 0
    return Verdict(code, summary, comparison, tuple(lines), tuple(problems), wrote)


def _rate_in(path: Path) -> str:
    """The pass rate recorded in an existing baseline, for "was ..." (``?`` if unreadable)."""
    try:
        return f"{float(load_baseline(path)['pass_rate']):.1%}"
    except (BaselineError, KeyError, TypeError, ValueError):
        return "?"
