"""How a case's repeats (``repeat: n``) reduce to one score and one verdict per scorer.

As Inspect AI's reducers, set for the suite (``reducer:``) or per case:

- ``all`` (the default): the score is the mean over repeats; the case passes when every
  repeat passes (the strictest: one flaky answer fails it);
- ``mean`` or ``{mean: 0.8}``: the score is the mean over repeats; the case passes when
  that mean reaches the threshold (default 0.5);
- ``majority``: passes when more than half the repeats pass (a tie fails); score 1 or 0;
- ``{at_least: k}``: passes when at least ``k`` of the ``n`` repeats pass; score 1 or 0.

The baseline comparison then has one pair per case (the repeats are clustered by case,
never counted as independent cases): McNemar on the reduced verdicts, and a paired
bootstrap over cases on the reduced scores where they are graded (``mean``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llmkit.evals._errors import SuiteError

__all__ = ["DEFAULT_REDUCER", "parse_reducer", "reduce_repeats"]

DEFAULT_REDUCER = "all"


def parse_reducer(value: Any) -> str:
    """A reducer as written in YAML, as its canonical text (``all``, ``mean:0.5``, ...).

    Raises:
        SuiteError: an unknown reducer or a bad parameter (``field`` is ``reducer``).
    """
    if value in ("all", "majority"):
        return str(value)
    if value == "mean":
        return "mean:0.5"
    if isinstance(value, dict) and len(value) == 1:
        ((kind, arg),) = value.items()
        if kind == "mean" and _number(arg) and 0 <= float(arg) <= 1:
            return f"mean:{float(arg):g}"
        if kind == "at_least" and isinstance(arg, int) and not isinstance(arg, bool) and arg >= 1:
            return f"at_least:{arg}"
        raise SuiteError(
            f"bad {kind!r} reducer argument {arg!r} (mean: a number in [0, 1]; at_least: k >= 1)",
            field="reducer",
        )
    raise SuiteError(
        f"unknown reducer {value!r} (known: all, mean, {{mean: 0.8}}, majority, {{at_least: k}})",
        field="reducer",
    )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def reduce_repeats(
    reducer: str, scores: Sequence[float], passes: Sequence[bool]
) -> tuple[float, bool]:
    """One scorer's (score, passed) for a case from its repeats' scores and verdicts."""
    if not scores:
        return 0.0, False
    mean = sum(scores) / len(scores)
    kind, _, arg = reducer.partition(":")
    if kind == "all":
        return mean, all(passes)
    if kind == "mean":
        return mean, mean >= float(arg)
    if kind == "majority":
        ok = 2 * sum(passes) > len(passes)
        return float(ok), ok
    if kind == "at_least":
        ok = sum(passes) >= int(arg)
        return float(ok), ok
    raise ValueError(f"unknown reducer {reducer!r}")
