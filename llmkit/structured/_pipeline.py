"""The pipeline: extract → strict load → repair rules → load → coerce → validate.

A valid answer takes the fast path: one strict load, one coercion walk that changes
nothing, one prebuilt validator. Repair rules run only after that failed, in registry
order, with a load attempt after each rule that changed the text, so every document costs
at most a bounded number of linear passes.
"""

from __future__ import annotations

import difflib
import re
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
from llmkit.structured._rules import RepairContext, register_entries, rules
from llmkit.structured._schema import CompiledSchema, compile_schema, format_errors

__all__ = ["detect_format", "loads", "parse"]

_FORMATS = ("auto", "yaml", "json")
_MAX_ERROR_DRIVEN = 25


# Decided inside the loader (and by the pipeline for documents and truncation).
register_entries(
    "load",
    [
        (
            "hash_in_value",
            "` #` inside a value read as a comment",
            "Quote values that contain ' #', e.g. title: \"Fix bug #12\".",
            "title: Fix bug #123",
            '"Fix bug #123" (a `#` glued to a word is text)',
            False,
        ),
        (
            "trailing_comment",
            "comment after a value",
            "Do not add comments after values.",
            "priority: high  # urgent",
            '"high" (`# ` with a space is a comment)',
            False,
        ),
        (
            "literal_anchor",
            "value starting with & read as an anchor",
            "Quote values that start with & or *.",
            "company: &Co Inc",
            '"&Co Inc"',
            False,
        ),
        (
            "yaml_alias",
            "anchors and aliases",
            "Do not use YAML anchors (&) or aliases (*).",
            "a: &x 1\nb: *x",
            '{"a": 1, "b": 1}',
        ),
        (
            "duplicate_keys",
            "the same key twice in one mapping",
            "Write each key once; put several values in a list.",
            "a: 1\na: 2",
            '{"a": 2}',
            False,
        ),
        (
            "ignore_tag",
            "YAML tags (!foo) on values",
            "Do not use YAML tags (! or !!).",
            "note: !important",
            '"!important"',
            False,
        ),
        (
            "stray_document_marker",
            "stray --- or ... lines",
            "Do not add --- or ... lines.",
            "a: 1\n---\n",
            '{"a": 1}',
        ),
        (
            "multiple_documents",
            "several documents in one answer",
            "Return exactly one document.",
            "a: 1\n---\na: 2",
            "the one document that fits the schema",
            False,
        ),
        (
            "json_nonfinite",
            "NaN or Infinity in JSON",
            "Use null instead of NaN or Infinity.",
            '{"x": NaN}',
            '{"x": nan} (written as null in JSON output)',
            False,
        ),
        (
            "yaml_as_json",
            "YAML where JSON was asked",
            "Answer in JSON, not YAML.",
            "name: Ann",
            '{"name": "Ann"}',
        ),
        (
            "truncated",
            "answer cut at the token limit (finish_reason=length)",
            "Keep the answer short enough to finish within the token limit.",
            'finish_reason "length"',
            "the value kept where it validates, marked truncated",
            False,
        ),
        (
            "strip_prose_line",
            "a line of prose at the edge of a YAML document",
            "Reply with the document only: no introduction, no closing remarks.",
            "Result: here it is\nname: Eli",
            '{"name": "Eli"}',
        ),
        (
            "scalar_in_sentence",
            "a single value answered inside a sentence",
            "Reply with the value only, no sentence around it.",
            "The answer is 42.",
            "42",
        ),
        (
            "key_value_lines",
            "an object written as a numbered or bulleted list of Key: value",
            "Write the object as YAML keys, not a numbered or bulleted list.",
            "1. Name: Eli\n2. Age: 4",
            '{"name": "Eli", "age": 4}',
            False,
        ),
    ],
)


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
    final: bool = False  # a verdict no later repair may overturn (a conflict, a cut value)


class _Run:
    def __init__(self, compiled: CompiledSchema | None, limits: Limits, fmt: str) -> None:
        self.compiled = compiled
        self.limits = limits
        self.fmt = fmt
        self.best_invalid: _Attempt | None = None
        self.last_failure: _Attempt | None = None
        self.cut_at_limit = False  # finish_reason "length"

    def attempt(self, payload: str, fmt: str) -> _Attempt:
        try:
            loaded = (
                load_json(payload, self.limits, typed=self.compiled is not None)
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
                if errors and not json_doc:
                    value, errors = self.colon_items(value, fired, errors)
                    a.value = value
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

    def colon_items(self, value: Any, fired: list[str], errors: list[Any]) -> tuple[Any, list[Any]]:
        """`- Step 1: open it` read as a one-key mapping where the schema says string.

        YAML reads an unquoted `: ` as a mapping; where the schema asks for a string and
        the mapping is one key with a scalar value, the text the model wrote is
        `key: value`, so that is the string.
        """
        assert self.compiled is not None
        changed = False
        for error in list(self.compiled.validator.iter_errors(value))[:50]:
            types = error.schema.get("type") if isinstance(error.schema, dict) else None
            inst = error.instance
            if error.validator != "type" or "string" not in (
                types if isinstance(types, list) else [types]
            ):
                continue
            if not isinstance(inst, dict) or len(inst) != 1:
                continue
            ((key, val),) = inst.items()
            if isinstance(val, (dict, list)) or val is None or not isinstance(key, str):
                continue
            text = f"{key}: {_scalar_text(val)}"
            path = list(error.absolute_path)
            if not path:
                value = text
            else:
                parent = value
                for step in path[:-1]:
                    parent = parent[step]
                parent[path[-1]] = text
            changed = True
        if not changed:
            return value, errors
        errors = self.compiled.errors(value)
        if not errors:
            _fire(fired, "quote_colon_value")
        return value, errors


def _scalar_text(val: Any) -> str:
    if isinstance(val, bool):
        return "true" if val else "false"
    return str(val)


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


_TOP_KEY = re.compile(r"^([^\s#\-][^:\n]*):(?:[ \t]|$)", re.M)


def _edge_prose(run: _Run, payload: str) -> str | _Attempt | None:
    """The payload without prose-shaped lines at its edges (`Note: a sentence.`).

    Only labels the schema does not name are dropped (the caller keeps the result only
    when it validates). A label the schema names that is also written as a key elsewhere
    gives two candidates for one field: a conflict (a final failed attempt).
    """
    keys = _schema_keys(run.compiled)
    if not keys:
        return None
    idx, labels = _extract.edge_prose_lines(payload)
    if not idx:
        return None
    written = [m.group(1).strip() for m in _TOP_KEY.finditer(payload)]
    drop = []
    for i, label in zip(idx, labels, strict=True):
        norm = normalize_key(label)
        if norm not in keys:
            drop.append(i)
        elif sum(1 for k in written if normalize_key(k) == norm) > 1:
            return _final(f"two candidates for the field {label!r}: a prose line and a key")
    return _extract.drop_lines(payload, drop) if drop else None


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
            error_kind=type(exc).__name__,
        )
    except (RecursionError, MemoryError, ValueError, TypeError, LookupError) as exc:
        # model text never raises: a bug or an exhausted resource is a failed result
        return StructuredResult(
            None,
            "failed",
            (),
            raw_text,
            f"could not be parsed: {type(exc).__name__}: {exc}"[:300],
            truncated=finish_reason == "length",
            error_kind=type(exc).__name__,
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
    if result.error_kind == UnsafeInputError.__name__ or (
        result.error_kind is None and message.startswith("input refused")
    ):
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
    run.cut_at_limit = truncated
    result = _solve(run, payload, fmt, format, ctx, fired)
    # other candidate payloads (fenced blocks, a second JSON value): the schema chooses;
    # two that fit with different values are a conflict, never a guess
    for candidate in [] if result.final else list(ctx.candidates):
        cand_fired = list(fired)
        cand_ctx = RepairContext(format=fmt, truncated=truncated)
        cand = _solve(
            run, candidate, detect_format(candidate, format), format, cand_ctx, cand_fired
        )
        if not cand.valid:
            continue
        if result.valid and _json_like(candidate):
            got = _engine(run, candidate, RepairContext(format="json"))
            if got is None or not got[0].valid:
                continue  # flow YAML's reading of `{more}` is no rival
        if result.valid:
            if compiled is not None and repr(cand.value) != repr(result.value):
                result = _final("several different documents fit the schema")
                break
            continue
        result, fired, payload = cand, cand_fired, candidate
        _fire(fired, "multiple_documents")
    if not result.valid and not result.final and compiled is not None:
        alt = _reshaped(run, payload, fmt)
        if alt is not None:
            result, payload = alt
            _fire(fired, result.fired)
    if truncated:
        _fire(fired, "truncated")
        final = getattr(result, "payload", payload)
        if result.valid and _cut_inside_payload(text, final, fired):
            result = _final("answer cut at the token limit inside the document")
    notes = tuple(ctx.notes)
    if not result.valid:
        failure = result if result.loaded or run.best_invalid is None else run.best_invalid
        if not result.loaded and run.best_invalid is not None and not result.final:
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
    if compiled is None and value is None and fired:
        # without a schema, repairs that leave nothing (every line dropped) found no
        # document: failed, not a null made up by the repairs
        return StructuredResult(
            None,
            "failed",
            tuple(fired),
            text,
            "no document left after repairs",
            truncated=truncated,
            notes=notes,
            format=fmt,
        )
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


# coercions that read a scalar's type: all a reshaped answer may need besides key case
_PLAIN_COERCIONS = frozenset(
    ["coerce_key", "coerce_boolean", "coerce_integer", "coerce_number", "fill_default"]
)


def _reshaped(run: _Run, payload: str, fmt: str) -> tuple[_Attempt, str] | None:
    """Answers that are no document at all, read by shape (tried only after all failed).

    A numbered or bulleted list of `Key: value` lines becomes an object (only when it
    then needs no coercion beyond key case and scalar types); a scalar schema answered in
    a sentence takes the one candidate value the sentence holds.
    """
    assert run.compiled is not None
    if fmt == "yaml" or not _json_like(payload):
        kv = _extract.key_value_lines(payload)
        if kv is not None:
            b = run.attempt(kv, "yaml")
            if b.valid and set(b.fired) <= _PLAIN_COERCIONS:
                b.fired = ["key_value_lines", *b.fired]
                b.payload = kv  # type: ignore[attr-defined]
                return b, kv
    ok, value = _extract.scalar_in_sentence(payload, run.compiled.schema)
    if ok and not run.compiled.errors(value):
        a = _Attempt(value=value, loaded=True, valid=True, fired=["scalar_in_sentence"])
        a.payload = payload  # type: ignore[attr-defined]
        return a, payload
    return None


def _cut_inside_payload(text: str, payload: str, fired: list[str]) -> bool:
    """At the token limit: does the document run to the end of the answer?

    A JSON document the engine reads without closing anything is complete; otherwise (and
    for YAML, which has no closer to tell) the document was cut unless text after it (a
    closing fence, prose) shows it ended before the limit.
    """
    if _json_like(payload):
        read = _json_repair.repair_json(payload)
        if read is not None:
            return read.truncated
    if "close_truncated_yaml" in fired:
        return True
    last = text.rstrip().rsplit("\n", 1)[-1].strip()
    if last.startswith(("```", "~~~")):
        return False
    return bool(last) and last in payload


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


_JSON_START = ("{", "[", "(")


def _json_like(payload: str) -> bool:
    return payload.lstrip()[:1] in _JSON_START


def _user_json_rules(payload: str, ctx: RepairContext, fired: list[str]) -> str:
    """Text rules users registered for the ``json`` phase run before the engine."""
    for rule in rules("json"):
        if rule.func is None:
            continue
        new = rule.func(payload, ctx)
        if new is not None and new != payload:
            payload = new
            _fire(fired, rule.name)
    return payload


def _array_schema(compiled: CompiledSchema | None) -> bool:
    return compiled is not None and compiled.schema.get("type") == "array"


def _final(error: str) -> _Attempt:
    return _Attempt(error=error, final=True)


def _engine(run: _Run, payload: str, ctx: RepairContext) -> tuple[_Attempt, list[str]] | None:
    """Read ``payload`` with the JSON repair engine; the attempt and the repairs named.

    Several top-level values: collected into one list for an array schema, else the one
    that validates; when several validate and differ, none is chosen (no guessing). A
    value cut inside (a string, or after a `,`) is never completed by a guess, nor is
    anything the engine had to close when the answer hit the token limit.
    """
    scratch = RepairContext(format="json", truncated=ctx.truncated)
    names: list[str] = []
    payload = _user_json_rules(payload, scratch, names)
    read = _json_repair.repair_json(payload)
    if read is None:
        return None
    names.extend(n for n in read.repairs if n not in names)
    if read.trailing.strip():
        names.append("strip_prose")
    if read.cut_inside:
        return _final("answer cut inside a value: its end is unknown"), names
    if read.truncated and run.cut_at_limit:
        return _final("answer cut at the token limit before the JSON ended"), names
    if read.truncated:
        ctx.truncated = True
    if len(read.values) == 1:
        first = run.attempt(read.values[0], "json")
        if first.valid and run.compiled and _other_fit(run, read.trailing, first.value):
            return _final("several different documents fit the schema"), names
        return first, names
    if _array_schema(run.compiled):
        whole = run.attempt("[" + ", ".join(read.values) + "]", "json")
        if whole.valid:
            return whole, names
    tries = [run.attempt(v, "json") for v in read.values]
    valid = [t for t in tries if t.valid]
    distinct = {repr(t.value) for t in valid}
    if len(distinct) == 1 or (valid and run.compiled is None):
        return valid[0], names
    if valid:
        return _final("several different documents fit the schema"), names
    return tries[-1], names


def _other_fit(run: _Run, rest: str, value: Any, limit: int = 5) -> bool:
    """Does prose after a value hold another JSON value that fits, with another value?"""
    for _ in range(limit):
        start = _extract.json_payload_start(rest)
        if start is None:
            return False
        read = _json_repair.repair_json(rest[start:])
        if read is None:
            return False
        for text in read.values:
            other = run.attempt(text, "json")
            if other.valid and repr(other.value) != repr(value):
                return True
        if len(rest) - start <= len(read.trailing):
            return False
        rest = read.trailing
    return False


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
    if fmt == "yaml" and "#" in payload and not _json_like(payload):
        new = _repair_yaml.hash_values(payload, ctx)  # `tag: #x` is text, never null
        if new is not None:
            _fire(fired, "hash_value")
            payload = new
    # 1. strict load: the fast path
    a = run.attempt(payload, fmt)
    if not a.loaded and fmt == "yaml" and _json_like(payload):
        b = run.attempt(payload, "json")  # JSON is YAML 1.2; libyaml refuses `\ud83d`
        if b.loaded:
            a = b
    if a.loaded and fmt == "yaml" and _prose_head(a.value, run.compiled):
        new = _extract.strip_prose(payload, ctx)
        if new is not None:
            b = run.attempt(new, fmt)
            if b.valid or not a.valid:  # a valid document stays as written
                _fire(fired, "strip_prose")
                payload, a = new, b
    if a.loaded and fmt == "yaml":
        new = _prose_tail(payload, a.value, run.compiled)
        if new is not None:
            b = run.attempt(new, fmt)
            if b.valid:
                _fire(fired, "strip_prose")
                payload, a = new, b
    if a.loaded and fmt == "yaml" and isinstance(a.value, dict):
        edge = _edge_prose(run, payload)
        if isinstance(edge, _Attempt):
            return edge
        if edge is not None:
            b = run.attempt(edge, fmt)
            if b.valid:
                _fire(fired, "strip_prose_line")
                payload, a = edge, b
    if a.valid:
        return _done(a, payload, fired)
    ctx.error = a.error
    # 2a. JSON: the repair engine reads every JSON error class in one pass
    if fmt == "json" or _json_like(payload):
        got = _engine(run, payload, ctx)
        if got is not None and (got[0].valid or got[0].final):
            _fire(fired, got[1])
            return _done(got[0], payload, fired)
    # 2b. text repairs, cheapest first, a load attempt after each one that changed it
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
            if fmt == "json" or _json_like(payload):
                got = _engine(run, payload, ctx)
                if got is not None and (got[0].valid or got[0].final):
                    _fire(fired, got[1])
                    return _done(got[0], payload, fired)
    if not _json_like(payload):
        # `Output:\n{'a': 1}` / `Result: {"a": 1}`: a JSON or Python-literal payload after a
        # line of prose; the engine reads from its first bracket and stops at its end
        start = _extract.json_payload_start(payload)
        if start is not None:
            got = _engine(run, payload[start:], ctx)
            if got is not None and got[0].valid:
                _fire(fired, ["strip_prose", *got[1]])
                return _done(got[0], payload[start:], fired)
    if fmt == "json" or _json_like(payload):
        got = _engine(run, payload, ctx)
        if got is not None and got[0].loaded and not a.loaded:
            a = got[0]
        if fmt == "json" and not _json_like(payload):
            b = run.attempt(payload, "yaml")
            if b.valid:
                _fire(fired, "yaml_as_json")
                return _done(b, payload, fired)
        if _json_like(payload):
            a.payload = payload  # type: ignore[attr-defined]
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
