"""Scorers: the registry, the built-in deterministic, structured, latency and cost scorers.

A scorer type is a factory ``(spec, suite) -> scorer`` registered by name; the scorer is a
callable ``(ScoreContext) -> Score``. Built-ins are registered below with the same decorator
a plugin uses; a suite may also name ``type: custom`` with ``function: pkg.mod:fn``, or any
type published in the entry-point group ``llmkit.eval_scorers``.
"""

from __future__ import annotations

import importlib
import math
import re
import sys
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmkit.evals._errors import SuiteError

if TYPE_CHECKING:
    from llmkit.evals._suite import Case, ScorerSpec, Suite
    from llmkit.llm import Client
    from llmkit.structured import StructuredResult

__all__ = [
    "STAGE_ORDER",
    "Score",
    "ScoreContext",
    "Scorer",
    "ScorerFactory",
    "build_scorer",
    "register_scorer",
    "registered_scorers",
    "resolve_path",
    "validate_spec",
]

STAGE_ORDER = ("clean", "repaired", "reprompted", "failed")
_MISSING = object()


@dataclass(frozen=True)
class Score:
    """What one scorer says about one case run.

    Attributes:
        score: in [0, 1] (1 is best).
        passed: whether the case passes this scorer.
        value: what was measured (a field value, milliseconds, a rubric score...).
        detail: one line for people.
    """

    score: float
    passed: bool
    value: Any = None
    detail: str = ""


@dataclass(frozen=True)
class ScoreContext:
    """Everything a scorer may look at for one run of one case.

    Attributes:
        case: the case (``vars``, ``expected``, ``tags``).
        output: the model's answer text.
        parsed: the structured pipeline's result (``None`` when the suite has no schema).
        timing: recorded timing of the case's calls (``ttft_ms``, ``itl_ms_mean``, ``e2e_ms``,
            ``output_tokens``, ``prompt_tokens``), from the cassette in replay.
        suite: the suite.
        client: an ``llmkit.Client`` whose calls run inside the case's cassette (judges use it).
        repeat: the repeat index.
    """

    case: Case
    output: str
    parsed: StructuredResult | None
    timing: Mapping[str, Any]
    suite: Suite
    client: Client | None = None
    repeat: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def value(self) -> Any:
        """The parsed value when there is one, else the output text."""
        if self.parsed is not None:
            return self.parsed.value
        return self.output


Scorer = Callable[[ScoreContext], Score]
ScorerFactory = Callable[["ScorerSpec", "Suite | None"], Scorer]
_REGISTRY: dict[str, ScorerFactory] = {}


def register_scorer(name: str) -> Callable[[ScorerFactory], ScorerFactory]:
    """Register a scorer type under ``name`` (decorator over its factory)."""

    def deco(factory: ScorerFactory) -> ScorerFactory:
        _REGISTRY[name] = factory
        return factory

    return deco


def _entry_point(name: str) -> ScorerFactory | None:
    for ep in entry_points(group="llmkit.eval_scorers"):
        if ep.name == name:
            factory: ScorerFactory = ep.load()
            _REGISTRY[name] = factory
            return factory
    return None


def registered_scorers() -> list[str]:
    """Names of the scorer types known now (built-ins, registered, entry points)."""
    _load_plugins()
    return sorted(set(_REGISTRY) | {ep.name for ep in entry_points(group="llmkit.eval_scorers")})


def _load_plugins() -> None:
    # The judge lives in its own module; importing it registers ``judge``.
    try:
        importlib.import_module("llmkit.evals._judge")
    except ModuleNotFoundError as exc:
        if exc.name != "llmkit.evals._judge":
            raise


def _factory(spec: ScorerSpec) -> ScorerFactory:

    if spec.type not in _REGISTRY:
        _load_plugins()
    factory = _REGISTRY.get(spec.type) or _entry_point(spec.type)
    if factory is None:
        raise SuiteError(
            f"unknown scorer type {spec.type!r} (known: {', '.join(sorted(_REGISTRY))})",
            field="type",
        )
    return factory


# The folder of the suite being loaded: where a custom scorer's module may live.
_SUITE_DIR: ContextVar[Path | None] = ContextVar("llmkit_suite_dir", default=None)


def validate_spec(spec: ScorerSpec, suite_dir: Path | None = None) -> None:
    """Check a scorer spec's options now, so a bad suite fails at load with file and line."""
    token = _SUITE_DIR.set(suite_dir)
    try:
        _factory(spec)(spec, None)
    finally:
        _SUITE_DIR.reset(token)


def build_scorer(spec: ScorerSpec, suite: Suite) -> Scorer:
    """The scorer callable for ``spec`` within ``suite``."""
    return _factory(spec)(spec, suite)


# --- helpers -------------------------------------------------------------------------------
_PATH_PART = re.compile(r"\.?([^.\[\]]+)|\[(-?\d+)\]")


def resolve_path(value: Any, path: str) -> Any:
    """``customer.name``, ``$.tags[0]``: a field of a parsed value (``_MISSING`` if absent)."""
    path = path.removeprefix("$").lstrip(".")
    pos, current = 0, value
    while pos < len(path):
        m = _PATH_PART.match(path, pos)
        if not m:
            return _MISSING
        pos = m.end()
        if m.group(1) is not None:
            if not isinstance(current, Mapping) or m.group(1) not in current:
                return _MISSING
            current = current[m.group(1)]
        else:
            idx = int(m.group(2))
            if not isinstance(current, list) or not -len(current) <= idx < len(current):
                return _MISSING
            current = current[idx]
    return current


def _opt(
    spec: ScorerSpec, name: str, kind: type | tuple[type, ...], default: Any = _MISSING
) -> Any:

    if name not in spec.options:
        if default is _MISSING:
            raise SuiteError(f"scorer {spec.type!r} needs {name!r}", field=name)
        return default
    value = spec.options[name]
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise SuiteError(f"expected a number, got {value!r}", field=name)
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise SuiteError(f"expected {names}, got {type(value).__name__}", field=name)
    return value


def _only(spec: ScorerSpec, *known: str) -> None:

    for key in spec.options:
        if key not in known:
            allowed = ", ".join(known) or "none"
            raise SuiteError(
                f"unknown option {key!r} for scorer {spec.type!r} (allowed: {allowed})", field=key
            )


def _target(ctx: ScoreContext, path: str | None) -> Any:
    if path is None:
        return ctx.value
    if ctx.parsed is None or ctx.parsed.stage == "failed":
        return _MISSING
    return resolve_path(ctx.parsed.value, path)


def _expected(ctx: ScoreContext, spec: ScorerSpec, path: str | None) -> Any:
    if "value" in spec.options:
        return spec.options["value"]
    if path is not None and isinstance(ctx.case.expected, Mapping):
        got = resolve_path(ctx.case.expected, path)
        if got is not _MISSING:
            return got
    return ctx.case.expected


def _show(value: Any) -> str:
    text = "(missing)" if value is _MISSING else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _binary(ok: bool, value: Any, detail: str) -> Score:
    return Score(1.0 if ok else 0.0, ok, None if value is _MISSING else value, detail)


# --- deterministic -------------------------------------------------------------------------
@register_scorer("equals")
def _equals(spec: ScorerSpec, suite: Suite | None) -> Scorer:
    """The output (or the field at ``path``) equals ``value`` or the case's ``expected``.

    Options: ``path``, ``value``, ``ignore_case`` (default false), ``strip`` (default true)."""
    _only(spec, "path", "value", "ignore_case", "strip")
    path = _opt(spec, "path", str, None)
    ignore_case = _opt(spec, "ignore_case", bool, False)
    strip = _opt(spec, "strip", bool, True)

    def norm(v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip() if strip else v
            return v.casefold() if ignore_case else v
        return v

    def score(ctx: ScoreContext) -> Score:
        got, want = _target(ctx, path), _expected(ctx, spec, path)
        ok = got is not _MISSING and norm(got) == norm(want)
        return _binary(ok, got, f"{path or 'output'} = {_show(got)}, expected {_show(want)}")

    return score


@register_scorer("field_equals")
def _field_equals(spec: ScorerSpec, suite: Suite | None) -> Scorer:
    """The field at ``path`` (required) equals ``value`` or the expected field.

    Options as ``equals``, with ``path`` required."""
    _only(spec, "path", "value", "ignore_case", "strip")
    _opt(spec, "path", str)
    return _equals(spec, suite)


@register_scorer("contains")
def _contains(spec: ScorerSpec, suite: Suite | None) -> Scorer:
    """The output (or field) contains ``value``: a string, or a list of strings.

    Options: ``value``, ``path``, ``ignore_case`` (default true), ``all`` (default true:
    every string must appear; false: any one)."""
    _only(spec, "value", "path", "ignore_case", "all")
    path = _opt(spec, "path", str, None)
    ignore_case = _opt(spec, "ignore_case", bool, True)
    need_all = _opt(spec, "all", bool, True)

    def score(ctx: ScoreContext) -> Score:
        got = ctx.output if path is None else _target(ctx, path)
        want = _expected(ctx, spec, path)
        needles = [str(w) for w in (want if isinstance(want, list) else [want])]
        hay = "" if got is _MISSING else (got if isinstance(got, str) else str(got))
        if ignore_case:
            hay, needles = hay.casefold(), [n.casefold() for n in needles]
        found = [n for n in needles if n in hay]
        ok = len(found) == len(needles) if need_all else bool(found)
        missing = [n for n in needles if n not in found]
        detail = "all found" if not missing else f"missing {', '.join(map(repr, missing))}"
        return Score(len(found) / max(len(needles), 1), ok, len(found), detail)

    return score


@register_scorer("regex")
def _regex(spec: ScorerSpec, suite: Suite | None) -> Scorer:
    """The output (or field) matches the regular expression ``pattern`` (searched).

    Options: ``pattern``, ``path``, ``ignore_case``, ``negate`` (pass when it does not match)."""

    _only(spec, "pattern", "path", "ignore_case", "negate")
    flags = re.IGNORECASE if _opt(spec, "ignore_case", bool, False) else 0
    try:
        pattern = re.compile(_opt(spec, "pattern", str), flags)
    except re.error as exc:
        raise SuiteError(f"not a valid regular expression: {exc}", field="pattern") from None
    path = _opt(spec, "path", str, None)
    negate = _opt(spec, "negate", bool, False)

    def score(ctx: ScoreContext) -> Score:
        got = ctx.output if path is None else _target(ctx, path)
        text = "" if got is _MISSING or got is None else str(got)
        hit = pattern.search(text) is not None
        ok = hit != negate
        what = "matches" if hit else "does not match"
        return _binary(ok, got, f"{path or 'output'} {what} /{pattern.pattern}/")

    return score


@register_scorer("numeric")
def _numeric(spec: ScorerSpec, suite: Suite | None) -> Scorer:
    """The number at ``path`` is within a tolerance of ``value`` or the expected number.

    Options: ``path``, ``value``, ``tolerance`` (absolute), ``relative`` (fraction)."""
    _only(spec, "path", "value", "tolerance", "relative")
    path = _opt(spec, "path", str, None)
    tol = float(_opt(spec, "tolerance", (int, float), 0))
    rel = float(_opt(spec, "relative", (int, float), 0))

    def score(ctx: ScoreContext) -> Score:
        got, want = _target(ctx, path), _expected(ctx, spec, path)
        try:
            g, w = float(got), float(want)
        except (TypeError, ValueError):
            return _binary(False, got, f"{path or 'output'} = {_show(got)} is not a number")
        ok = math.isfinite(g) and abs(g - w) <= max(tol, rel * abs(w))
        return _binary(
            ok, g, f"{path or 'output'} = {g:g}, expected {w:g} ± {max(tol, rel * abs(w)):g}"
        )

    return score


@register_scorer("set_overlap")
def _set_overlap(spec: ScorerSpec, suite: Suite | None) -> Scorer:
    """The list at ``path`` overlaps the expected list by at least ``min`` (0 to 1).

    Options: ``path``, ``value``, ``metric`` (``jaccard``, ``recall``, ``precision`` or ``f1``),
    ``min`` (default 1.0), ``ignore_case`` (default true)."""

    _only(spec, "path", "value", "metric", "min", "ignore_case")
    path = _opt(spec, "path", str, None)
    metric = _opt(spec, "metric", str, "jaccard")
    if metric not in ("jaccard", "recall", "precision", "f1"):
        raise SuiteError("metric must be jaccard, recall, precision or f1", field="metric")
    minimum = float(_opt(spec, "min", (int, float), 1.0))
    ignore_case = _opt(spec, "ignore_case", bool, True)

    def as_set(v: Any) -> set[str]:
        items = (
            v if isinstance(v, list | tuple | set) else ([] if v is _MISSING or v is None else [v])
        )
        return {str(i).casefold() if ignore_case else str(i) for i in items}

    def score(ctx: ScoreContext) -> Score:
        got, want = as_set(_target(ctx, path)), as_set(_expected(ctx, spec, path))
        inter = len(got & want)
        recall = inter / len(want) if want else 1.0
        precision = inter / len(got) if got else (1.0 if not want else 0.0)
        values = {
            "jaccard": inter / len(got | want) if got | want else 1.0,
            "recall": recall,
            "precision": precision,
            "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        }
        s = values[metric]
        return Score(s, s >= minimum, sorted(got), f"{metric} {s:.2f} (min {minimum:g})")

    return score


# --- structured output ---------------------------------------------------------------------
@register_scorer("schema_valid")
def _schema_valid(spec: ScorerSpec, suite: Suite | None) -> Scorer:
    """The structured answer parsed and validated against the prompt's schema. No options."""
    _only(spec)

    def score(ctx: ScoreContext) -> Score:
        p = ctx.parsed
        if p is None:
            return Score(0.0, False, None, "the suite has no schema")
        ok = p.stage != "failed"
        return _binary(ok, p.stage, f"stage {p.stage}" + (f": {p.error}" if p.error else ""))

    return score


@register_scorer("fields_equal")
def _fields_equal(spec: ScorerSpec, suite: Suite | None) -> Scorer:
    """Every field of the expected mapping (or those in ``fields``) equals the answer's.

    Options: ``fields``, ``ignore_case``. The score is the fraction of fields that match."""
    _only(spec, "fields", "ignore_case")
    fields = _opt(spec, "fields", list, None)
    ignore_case = _opt(spec, "ignore_case", bool, False)

    def norm(v: Any) -> Any:
        return v.strip().casefold() if ignore_case and isinstance(v, str) else v

    def score(ctx: ScoreContext) -> Score:
        want = ctx.case.expected if isinstance(ctx.case.expected, Mapping) else {}
        names = [str(f) for f in fields] if fields is not None else sorted(want)
        if not names:
            return Score(0.0, False, None, "the case has no expected fields")
        got = (
            ctx.parsed.value
            if ctx.parsed is not None and ctx.parsed.stage != "failed"
            else _MISSING
        )
        wrong = [
            n
            for n in names
            if resolve_path(got, n) is _MISSING
            or norm(resolve_path(got, n)) != norm(resolve_path(want, n))
        ]
        s = 1 - len(wrong) / len(names)
        detail = "all fields equal" if not wrong else f"differ: {', '.join(wrong)}"
        return Score(s, not wrong, len(names) - len(wrong), detail)

    return score


@register_scorer("stage")
def _stage(spec: ScorerSpec, suite: Suite | None) -> Scorer:
    """The structured answer was saved no later than stage ``max`` (default ``repaired``).

    Stages in order: clean, repaired, reprompted, failed.
    """

    _only(spec, "max")
    worst = _opt(spec, "max", str, "repaired")
    if worst not in STAGE_ORDER:
        raise SuiteError(f"max must be one of {', '.join(STAGE_ORDER)}", field="max")
    limit = STAGE_ORDER.index(worst)

    def score(ctx: ScoreContext) -> Score:
        stage = ctx.parsed.stage if ctx.parsed is not None else "failed"
        rank = STAGE_ORDER.index(stage)
        ok = rank <= limit
        return Score(
            1 - rank / (len(STAGE_ORDER) - 1), ok, stage, f"stage {stage} (worst allowed {worst})"
        )

    return score


@register_scorer("repairs")
def _repairs(spec: ScorerSpec, suite: Suite | None) -> Scorer:
    """At most ``max`` repair rules fired, and none of those listed in ``forbid``."""
    _only(spec, "max", "forbid")
    most = int(_opt(spec, "max", int, 1_000_000))
    forbid = {str(r) for r in _opt(spec, "forbid", list, [])}

    def score(ctx: ScoreContext) -> Score:
        used = list(ctx.parsed.repairs) if ctx.parsed is not None else []
        bad = sorted(forbid & set(used))
        ok = len(used) <= most and not bad
        detail = f"{len(used)} repairs ({', '.join(used) or 'none'})" + (
            f"; forbidden: {', '.join(bad)}" if bad else ""
        )
        return _binary(ok, used, detail)

    return score


# --- latency and cost (recorded timing) ----------------------------------------------------
_TIMING_METRICS = {
    "ttft_ms": "ttft_ms",
    "itl_ms": "itl_ms_mean",
    "e2e_ms": "e2e_ms",
    "output_tokens": "output_tokens",
    "prompt_tokens": "prompt_tokens",
    "total_tokens": "total_tokens",
    "calls": "calls",
}


def _threshold(kind: str, choices: tuple[str, ...]) -> ScorerFactory:
    def factory(spec: ScorerSpec, suite: Suite | None) -> Scorer:

        _only(spec, "metric", "max")
        metric = _opt(spec, "metric", str, choices[0])
        if metric not in choices:
            raise SuiteError(f"metric must be one of {', '.join(choices)}", field="metric")
        most = float(_opt(spec, "max", (int, float)))
        key = _TIMING_METRICS[metric]

        def score(ctx: ScoreContext) -> Score:
            got = ctx.timing.get(key)
            if got is None:
                return Score(0.0, False, None, f"no recorded {metric}")
            ok = float(got) <= most
            return _binary(ok, got, f"{metric} {float(got):.4g} (max {most:g})")

        return score

    factory.__name__ = f"_{kind}"
    factory.__doc__ = (
        f"The call's recorded ``metric`` is at most ``max`` (metric: {', '.join(choices)};"
        f" default {choices[0]})."
    )
    return factory


register_scorer("latency")(_threshold("latency", ("e2e_ms", "ttft_ms", "itl_ms")))
register_scorer("tokens")(
    _threshold("tokens", ("total_tokens", "output_tokens", "prompt_tokens", "calls"))
)


# --- custom --------------------------------------------------------------------------------
def _import(ref: str, suite_dir: Path | None = None) -> Any:
    """``package.module:function``, from ``sys.path`` or else the suite's own folder and
    the folder above it (so ``llmkit eval`` finds the scorer beside the suite without
    ``PYTHONPATH=.``)."""
    module, sep, attr = ref.partition(":")
    if not sep or not module or not attr:
        raise SuiteError("function must look like package.module:function", field="function")
    try:
        obj: Any = _import_module(module, suite_dir)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise SuiteError(f"cannot import {ref}: {exc}", field="function") from None
    if not callable(obj):
        raise SuiteError(f"{ref} is not callable", field="function")
    return obj


def _import_module(name: str, suite_dir: Path | None) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        top = name.partition(".")[0]
        if suite_dir is None or exc.name not in (top, name):
            raise
    for folder in (suite_dir, suite_dir.parent):
        if (folder / f"{top}.py").is_file() or (folder / top).is_dir():
            sys.path.insert(0, str(folder))
            try:
                return importlib.import_module(name)
            finally:
                sys.path.remove(str(folder))
    return importlib.import_module(name)  # raises the first error again


def as_score(result: Any, where: str) -> Score:
    """A custom scorer may return a :class:`Score`, a bool, a number in [0, 1] or a mapping."""
    if isinstance(result, Score):
        return result
    if isinstance(result, bool):
        return Score(float(result), result)
    if isinstance(result, int | float) and 0 <= result <= 1:
        return Score(float(result), result >= 1)
    if isinstance(result, Mapping) and "passed" in result:
        return Score(
            float(result.get("score", 1.0 if result["passed"] else 0.0)),
            bool(result["passed"]),
            result.get("value"),
            str(result.get("detail", "")),
        )
    raise TypeError(
        f"{where} returned {type(result).__name__}, not a Score, bool or number in [0, 1]"
    )


@register_scorer("custom")
def _custom(spec: ScorerSpec, suite: Suite | None) -> Scorer:
    """Your function ``package.module:function(ctx, **options)`` decides.

    It returns a Score, a bool, a number in [0, 1] or a mapping with ``passed``."""
    ref = _opt(spec, "function", str)
    fn = _import(ref, suite.path.resolve().parent if suite is not None else _SUITE_DIR.get())
    options = {k: v for k, v in spec.options.items() if k != "function"}

    def score(ctx: ScoreContext) -> Score:
        return as_score(fn(ctx, **options) if options else fn(ctx), ref)

    return score
