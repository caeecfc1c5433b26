"""The pipeline: extract → strict load → repair rules → load → coerce → validate.

A valid answer takes the fast path: one strict load, one coercion walk that changes
nothing, one prebuilt validator. Repair rules run only after that failed, in registry
order, with a load attempt after each rule that changed the text, so every document costs
at most a bounded number of linear passes.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from llmkit._exceptions import ParseError, StructuredOutputError, UnsafeInputError
from llmkit.structured import _extract, _json_repair, _repair_yaml  # (registers rules)
from llmkit.structured._coerce import coerce, normalize_key
from llmkit.structured._load import (
    DEFAULT_LIMITS,
    Limits,
    Loaded,
    LoadFailure,
    load_json,
    load_yaml,
)
from llmkit.structured._result import StructuredResult
from llmkit.structured._rules import F, RepairContext, register_rule, rules
from llmkit.structured._schema import CompiledSchema, compile_schema, format_errors

__all__ = ["detect_format", "loads", "parse"]

_FORMATS = ("auto", "yaml", "json")
_MAX_ERROR_DRIVEN = 25


def _load_rule(name: str, error_class: str, hint: str, lossless: bool = False) -> Callable[[F], F]:
    return register_rule(name, phase="load", error_class=error_class, hint=hint, lossless=lossless)


@_load_rule(
    "hash_in_value",
    "` #` inside a value read as a comment",
    "Quote values that contain ' #', e.g. title: \"Fix bug #12\".",
)
def _doc_hash() -> None:
    """`title: Fix bug #123` → `"Fix bug #123"` (a `#` glued to a word is text)"""


@_load_rule("trailing_comment", "comment after a value", "Do not add comments after values.")
def _doc_comment() -> None:
    """`priority: high  # urgent` → `"high"` (`# ` with a space is a comment)"""


@_load_rule(
    "literal_anchor",
    "value starting with & read as an anchor",
    "Quote values that start with & or *.",
)
def _doc_anchor() -> None:
    """`company: &Co Inc` (anchor never used) → `"&Co Inc"`"""


@_load_rule(
    "yaml_alias",
    "anchors and aliases",
    "Do not use YAML anchors (&) or aliases (*).",
    lossless=True,
)
def _doc_alias() -> None:
    """`a: &x 1\\nb: *x` → `{"a": 1, "b": 1}` (expanded as copies, under a budget)"""


@_load_rule(
    "duplicate_keys",
    "the same key twice in one mapping",
    "Write each key once; put several values in a list.",
)
def _doc_dupes() -> None:
    """`a: 1\\na: 2` → `{"a": 2}`; two mappings under one key are merged"""


@_load_rule("ignore_tag", "YAML tags (!foo) on values", "Do not use YAML tags (! or !!).")
def _doc_tag() -> None:
    """`note: !important` → `"!important"` (tags are read as text, never constructed)"""


@_load_rule(
    "stray_document_marker", "stray --- or ... lines", "Do not add --- or ... lines.", lossless=True
)
def _doc_marker() -> None:
    """`a: 1\\n---\\n` → `{"a": 1}`"""


@_load_rule("multiple_documents", "several documents in one answer", "Return exactly one document.")
def _doc_multi() -> None:
    """`a: 1\\n---\\na: 2` → the first document that fits the schema"""


@_load_rule("json_nonfinite", "NaN or Infinity in JSON", "Use null instead of NaN or Infinity.")
def _doc_nonfinite() -> None:
    """`{"x": NaN}` → `{"x": nan}` (written as null in JSON output)"""


@_load_rule("yaml_as_json", "YAML where JSON was asked", "Answer in JSON, not YAML.", lossless=True)
def _doc_yaml_as_json() -> None:
    """`name: Ann` when JSON was asked → `{"name": "Ann"}`"""


@_load_rule(
    "truncated",
    "answer cut at the token limit (finish_reason=length)",
    "Keep the answer short enough to finish within the token limit.",
)
def _doc_truncated() -> None:
    """finish_reason == "length": the value is kept where it validates, marked truncated"""


def detect_format(text: str, format: str = "auto") -> str:
    """``json`` when ``format`` says so or the payload starts with ``{``/``[``; else ``yaml``."""
    if format in ("yaml", "json"):
        return format
    stripped = text.lstrip()
    return "json" if stripped[:1] in ("{", "[") else "yaml"


@dataclass
class _Attempt:
    value: Any = None
    loaded: bool = False
    valid: bool = False
    fired: list[str] = field(default_factory=list)
    error: str = ""
    line: int | None = None
    column: int | None = None
    position: int | None = None
    notes: list[str] = field(default_factory=list)


class _Run:
    def __init__(self, compiled: CompiledSchema | None, limits: Limits, fmt: str) -> None:
        self.compiled = compiled
        self.limits = limits
        self.fmt = fmt
        self.best_invalid: _Attempt | None = None
        self.last_failure: _Attempt | None = None

    def attempt(self, payload: str, fmt: str) -> _Attempt:
        try:
            loaded = (
                load_json(payload, self.limits)
                if fmt == "json"
                else load_yaml(payload, typed=self.compiled is not None, limits=self.limits)
            )
        except LoadFailure as exc:
            a = _Attempt(
                error=f"{fmt.upper()} syntax: {exc}",
                line=exc.line,
                column=exc.column,
                position=exc.index,
            )
            self.last_failure = a
            return a
        return self.check(loaded, fmt == "json")

    def check(self, loaded: Loaded, json_doc: bool = False) -> _Attempt:
        docs = loaded.documents or [loaded.value]
        first: _Attempt | None = None
        for doc in docs:
            fired = list(loaded.fired)
            value = doc if json_doc and self.compiled is None else coerce(doc, self.compiled, fired)
            a = _Attempt(value=value, loaded=True, fired=fired, notes=list(loaded.notes))
            if self.compiled is None:
                a.valid = True
            else:
                errors = self.compiled.errors(value)
                a.valid = not errors
                if errors:
                    a.error = "schema: " + format_errors(errors)
            if a.valid:
                return a
            if first is None:
                first = a
        assert first is not None
        if self.best_invalid is None:
            self.best_invalid = first
        return first


def _fire(fired: list[str], names: list[str] | str) -> None:
    for name in [names] if isinstance(names, str) else names:
        if name not in fired:
            fired.append(name)


def _schema_keys(compiled: CompiledSchema | None) -> set[str]:
    props = (compiled.schema.get("properties") or {}) if compiled else {}
    return {normalize_key(k) for k in props} if isinstance(props, dict) else set()


def _prose_head(value: Any, compiled: CompiledSchema | None) -> bool:
    if not isinstance(value, dict) or not value:
        return False
    key, first = next(iter(value.items()))
    if isinstance(key, str) and ('{"' in key or '["' in key or "[{" in key):
        return True  # `I think {"a": 1} is right` read as the key `I think {"a"`
    if first is not None or not isinstance(key, str):
        return False
    words = key.split()
    # "Here is the YAML you asked for:" reads as a key with no value; so does
    # "Certainly. Based on the message, the ticket is:"
    if len(words) < 3:
        return False
    lead_in = words[0].strip(",.!:;").casefold() in _extract.LEAD_INS
    sentence = len(words) >= 5 or any(w[-1] in ".!?," for w in words[:-1])
    if not (lead_in or sentence):
        return False
    return normalize_key(key) not in _schema_keys(compiled)


def _prose_tail(payload: str, value: Any, compiled: CompiledSchema | None) -> str | None:
    """The payload without a closing remark that YAML read as one more key.

    `...\\n\\nNote: the priority is my best guess.` → `...`, only where a schema names
    its properties, the key is not one of them, the line stands alone after a blank line
    at the very end, and its value reads as a sentence.
    """
    if compiled is None or not isinstance(value, dict) or len(value) < 2:
        return None
    key, last = next(reversed(value.items()))
    if not isinstance(key, str) or not isinstance(last, str) or last.count(" ") < 2:
        return None
    body = payload.rstrip()
    start = body.rfind("\n") + 1
    line = body[start:]
    if not start or not line.startswith(key) or body[:start].rstrip(" \t")[-2:] != "\n\n":
        return None
    keys = _schema_keys(compiled)
    if "\n" in last or not keys:
        return None
    norm = normalize_key(key)
    if norm in keys and not any(normalize_key(k) == norm for k in list(value)[:-1]):
        return None  # a property of the schema, written once
    return body[:start].rstrip()


def parse(
    text: str | bytes,
    schema: Any = None,
    *,
    format: str = "auto",
    finish_reason: str | None = None,
    diff: bool = False,
    limits: Limits | None = None,
) -> StructuredResult:
    """Turn model text into a value valid against ``schema``.

    Never raises for bad model text: unsafe or unusable input gives a ``failed`` result
    whose ``error`` says why.

    Args:
        text: the model's answer (``bytes`` must be UTF-8).
        schema: a JSON Schema dict, a pydantic model class, a dataclass, or ``None``.
        format: ``"yaml"``, ``"json"`` or ``"auto"`` (JSON when the payload starts with a
            bracket).
        finish_reason: the API's finish reason; ``"length"`` marks the answer truncated.
        diff: include a unified diff of what text repairs changed.
        limits: size, depth and alias bounds.

    Returns:
        A :class:`StructuredResult`.

    Raises:
        ValueError: ``format`` is not one of yaml/json/auto.
        TypeError: ``schema`` is of an unsupported kind.
    """
    if format not in _FORMATS:
        raise ValueError(f"format must be one of {_FORMATS}, not {format!r}")
    compiled = compile_schema(schema)
    raw_text = text if isinstance(text, str) else ""
    try:
        return _parse(text, compiled, format, finish_reason, diff, limits or DEFAULT_LIMITS)
    except StructuredOutputError as exc:
        return StructuredResult(
            None,
            "failed",
            (),
            exc.raw or raw_text,
            str(exc),
            truncated=finish_reason == "length",
            position=exc.position,
        )


def loads(text: str | bytes, schema: Any = None, **kwargs: Any) -> Any:
    """Like :func:`parse` but returns the value, or raises.

    Raises:
        UnsafeInputError: input refused (size, depth, aliases, tags, NUL).
        ParseError: nothing valid could be recovered.
    """
    result = parse(text, schema, **kwargs)
    if result.ok:
        return result.value
    message = result.error or "unparseable"
    if message.startswith(("input refused", "unsafe")):
        raise UnsafeInputError(message, raw=result.raw, position=result.position)
    raise ParseError(message, raw=result.raw, position=result.position)


def _parse(
    text: str | bytes,
    compiled: CompiledSchema | None,
    format: str,
    finish_reason: str | None,
    want_diff: bool,
    limits: Limits,
) -> StructuredResult:
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(f"invalid UTF-8 at byte {exc.start}", position=exc.start) from None
    if len(text) > limits.max_chars:
        raise UnsafeInputError(
            f"input refused: {len(text)} characters exceed the limit of {limits.max_chars}",
            raw=text[:200],
        )
    if "\x00" in text:
        raise UnsafeInputError(
            "input refused: NUL byte in the answer", raw=text, position=text.index("\x00")
        )
    truncated = finish_reason == "length"
    if not text or text.isspace():
        return StructuredResult(None, "failed", (), text, "empty answer", truncated=truncated)
    fired: list[str] = []
    ctx = RepairContext(format=format if format != "auto" else "yaml", truncated=truncated)
    payload = text
    for rule in rules("extract"):
        if rule.func is None:
            continue
        new = rule.func(payload, ctx)
        if new is not None and new != payload:
            payload = new
            _fire(fired, rule.name)
    if fired and not truncated and _raw_is_valid(text, compiled, format, limits):
        # A fence or a `<think>` tag can be part of a valid document (a key, or a block
        # scalar holding markdown): valid as written means untouched.
        payload, fired = text, []
    if not payload.strip():
        return StructuredResult(
            None,
            "failed",
            tuple(fired),
            text,
            "no document left after removing reasoning and fences",
            truncated=truncated,
        )
    fmt = detect_format(payload, format)
    ctx.format = fmt
    run = _Run(compiled, limits, fmt)
    result = _solve(run, payload, fmt, format, ctx, fired)
    for candidate in [] if result.valid else list(ctx.candidates):
        cand_fired = list(fired)
        cand_ctx = RepairContext(format=fmt, truncated=truncated)
        cand = _solve(
            run, candidate, detect_format(candidate, format), format, cand_ctx, cand_fired
        )
        if cand.valid:
            result, fired, payload = cand, cand_fired, candidate
            _fire(fired, "multiple_documents")
            break
    if truncated:
        _fire(fired, "truncated")
    notes = tuple(ctx.notes)
    if not result.valid:
        failure = result if result.loaded or run.best_invalid is None else run.best_invalid
        if not result.loaded and run.best_invalid is not None:
            failure = run.best_invalid
        error = failure.error or result.error or "could not be parsed"
        return StructuredResult(
            None,
            "failed",
            tuple(fired),
            text,
            error,
            truncated=truncated or ctx.truncated,
            notes=notes,
            format=fmt,
            position=failure.position,
            diff=_diff(text, result.__dict__.get("payload", payload)) if want_diff else None,
        )
    value = result.value
    if compiled is not None and compiled.kind != "json":
        try:
            value = compiled.instance(value)
        except Exception as exc:  # pydantic validators may reject what the schema allows
            return StructuredResult(
                None,
                "failed",
                tuple(fired),
                text,
                f"schema: {exc}".split("\n For further", 1)[0],
                truncated=truncated,
                notes=notes,
                format=fmt,
            )
    final_payload = getattr(result, "payload", payload)
    return StructuredResult(
        value,
        "repaired" if fired else "clean",
        tuple(fired),
        text,
        None,
        truncated=truncated or ctx.truncated,
        notes=notes,
        format=fmt,
        diff=_diff(text, final_payload) if want_diff else None,
    )


def _raw_is_valid(text: str, compiled: CompiledSchema | None, format: str, limits: Limits) -> bool:
    """Does the answer, exactly as written, load strictly and validate as a document?"""
    fmt = detect_format(text, format)
    attempt = _Run(compiled, limits, fmt).attempt(text, fmt)
    if not attempt.valid:
        return False
    # Without a schema, only a mapping or a list counts: a bare string is no document.
    return compiled is not None or isinstance(attempt.value, dict | list)


def _diff(before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(True), after.splitlines(True), "answer", "repaired", n=1
        )
    )


class _Solved(_Attempt):
    payload: str = ""


def _done(a: _Attempt, payload: str, fired: list[str]) -> _Attempt:
    _fire(fired, a.fired)
    a.payload = payload  # type: ignore[attr-defined]
    return a


def _solve(
    run: _Run, payload: str, fmt: str, requested: str, ctx: RepairContext, fired: list[str]
) -> _Attempt:
    if ctx.truncated and fmt == "yaml" and not payload.endswith("\n"):
        # the last line was cut: close its quote or flow, or drop a half-written key,
        # before YAML reads `address:\n  stre` as the text "stre"
        new = _repair_yaml.close_truncated_yaml(payload, ctx)
        if new is not None:
            _fire(fired, "close_truncated_yaml")
            payload = new
    # 1. strict load: the fast path
    a = run.attempt(payload, fmt)
    if not a.loaded and fmt == "json" and requested == "auto":
        b = run.attempt(payload, "yaml")  # `{a: 1}` is flow YAML
        if b.valid:
            # Not valid JSON, so not clean: name the JSON error classes. The JSON repairs
            # decide the value too: flow YAML reads `[1, // note\n 2]` as the text
            # "// note 2", where the JSON reading is [1, 2].
            fast, names, _ = _json_repair.fast_repair_json(payload)
            c = run.attempt(fast, "json") if names else b
            if names and c.valid:
                _fire(fired, names)
                return _done(c, fast, fired)
            scratch = RepairContext(format="json", truncated=ctx.truncated)
            new, names = _json_repair.repair_json_text(payload, scratch)
            c = run.attempt(new, "json") if names else b
            if names and c.valid and c.value == b.value and not scratch.truncated:
                _fire(fired, names)
                return _done(c, new, fired)
            _fire(fired, "yaml_as_json")  # only YAML's flow syntax could read it
            return _done(b, payload, fired)
        if b.loaded:
            a = b
    elif not a.loaded and fmt == "yaml" and payload.lstrip()[:1] in ("{", "["):
        b = run.attempt(payload, "json")  # JSON is YAML 1.2; libyaml refuses `\ud83d`
        if b.loaded:
            a = b
    if a.loaded and fmt == "yaml" and _prose_head(a.value, run.compiled):
        new = _extract.strip_prose(payload, ctx)
        if new is not None:
            _fire(fired, "strip_prose")
            payload = new
            a = run.attempt(payload, fmt)
    if a.loaded and fmt == "yaml":
        new = _prose_tail(payload, a.value, run.compiled)
        if new is not None:
            b = run.attempt(new, fmt)
            if b.valid:
                _fire(fired, "strip_prose")
                payload, a = new, b
    if a.valid:
        return _done(a, payload, fired)
    ctx.error = a.error
    # 2a. JSON: one regex pass fixes the common classes
    if fmt == "json" or payload.lstrip()[:1] in ("{", "["):
        fast, names, _ = _json_repair.fast_repair_json(payload)
        if names:
            if fast.rstrip()[-1:] not in ("}", "]"):
                closed = _json_repair.fast_close_json(fast)
                if closed is not None:
                    ctx.truncated = True
                    fast = closed
                    names = [*names, "json_close_truncated"]
            b = run.attempt(fast, "json")
            if b.valid:
                _fire(fired, names)
                return _done(b, fast, fired)
    # 2b. repairs, cheapest first, a load attempt after each one that changed the text
    for rule in rules("text"):
        if rule.func is None:
            continue
        new = rule.func(payload, ctx)
        if new is not None and new != payload:
            payload = new
            _fire(fired, rule.name)
            fmt = detect_format(payload, requested) if requested == "auto" else fmt
            ctx.format = fmt
            a = run.attempt(payload, fmt)
            if a.valid:
                return _done(a, payload, fired)
    if fmt == "json" or payload.lstrip()[:1] in ("{", "["):
        new, names = _json_repair.repair_json_text(payload, ctx)
        if names:
            b = run.attempt(new, "json")
            if b.valid:
                _fire(fired, names)
                return _done(b, new, fired)
            if b.loaded and not a.loaded:
                _fire(fired, names)
                payload, a = new, b
        if fmt == "json":
            b = run.attempt(payload, "yaml")
            if b.valid:
                _fire(fired, "yaml_as_json")
                return _done(b, payload, fired)
        if payload.lstrip()[:1] in ("{", "["):
            return a
    yaml_rules = [r for r in rules("yaml") if r.func is not None]
    if a.line is not None:
        ctx.error_line, ctx.error_column, ctx.error = a.line, a.column, a.error
    for rule in yaml_rules:
        tries = _MAX_ERROR_DRIVEN if rule.name in ("quote_error_value", "drop_stray_line") else 1
        for _ in range(tries):
            new = rule.func(payload, ctx)  # type: ignore[misc]
            if new is None or new == payload:
                break
            payload = new
            _fire(fired, rule.name)
            b = run.attempt(payload, "yaml")
            if b.valid:
                return _done(b, payload, fired)
            a = b
            if b.line is not None:
                ctx.error_line, ctx.error_column, ctx.error = b.line, b.column, b.error
            elif b.loaded:
                break
    a.payload = payload  # type: ignore[attr-defined]
    return a
