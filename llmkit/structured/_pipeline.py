"""The pipeline: extract → strict load → repair rules → load → coerce → validate.

A valid answer takes the fast path: one strict load, one coercion walk that changes
nothing, one prebuilt validator. Repair rules run only after that failed, in registry
order, with a load attempt after each rule that changed the text, so every document costs
at most a bounded number of linear passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llmkit._exceptions import ParseError, StructuredOutputError, UnsafeInputError
from llmkit._lazy import lazy_pattern
from llmkit.structured import _extract, _json_repair, _repair_yaml  # (registers rules)
from llmkit.structured._candidates import (
    RESHAPING,
    Attempt,
    Run,
    array_schema,
    cut_inside_payload,
    done,
    edge_prose,
    engine,
    fire,
    json_like,
    prose_edges,
    reshaped,
    run_phase,
    schema_keys,
    verdict,
)
from llmkit.structured._coerce import normalize_key
from llmkit.structured._load import (
    DEFAULT_LIMITS,
    Limits,
    Loaded,
)
from llmkit.structured._result import StructuredResult
from llmkit.structured._rules import RepairContext, register_entries, rules

if TYPE_CHECKING:
    from llmkit.structured._schema import CompiledSchema

__all__ = ["detect_format", "loads", "parse"]

_FORMATS = ("auto", "yaml", "json")
_MAX_ERROR_DRIVEN = 25
# Each repair reloads the whole answer: an answer of more `---` documents than this that
# does not load as written is failed at once (40,000 invalid documents took 3-11 s).
MAX_REPAIRED_DOCUMENTS = 100
_DOCUMENT_START = re.compile(r"^---(?:[ \t]|$)", re.M)
# repairs after which block lines have a schema path they lacked (tabs, misaligned items)
_RESHAPES_LINES = frozenset(
    ["tabs_to_spaces", "align_list_items", "fix_indentation", "space_after_dash"]
)


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
            "a:\n  x: 1\na:\n  y: 2  (two different values for one key fail)",
            '{"a": {"x": 1, "y": 2}}',
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
    """``json`` when ``format`` says so or the payload starts with ``{``/``[`` (or with a
    quoted key of an object whose ``{`` was left off); else ``yaml``."""
    if format in ("yaml", "json"):
        return format
    stripped = text.lstrip().lstrip("\ufeff").lstrip()  # a byte-order mark is no content
    if stripped[:1] in ("{", "["):
        return "json"
    if stripped[:1] in "\"'\u201c\u2018" and "}" in stripped:  # cheap first: no regex
        return "json" if _json_repair.opener_left_off(stripped, quoted_key=True) else "yaml"
    return "yaml"


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
    return normalize_key(key) not in schema_keys(compiled)


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
    keys = schema_keys(compiled)
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
    compiled = None if schema is None else _compile(schema)
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


# The schema machinery (the validators, the schema paths) is imported with the first
# schema: a parse without one never loads it.


def _compile(schema: Any) -> CompiledSchema | None:
    from llmkit.structured._schema import compile_schema

    return compile_schema(schema)


def _quoted(text: str, compiled: CompiledSchema | None) -> tuple[str, list[str]] | None:
    """:func:`quote_by_schema` where there is a schema."""
    if compiled is None:
        return None
    from llmkit.structured._schema_paths import quote_by_schema

    return quote_by_schema(text, compiled)


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
    source = _checked_text(text, limits)
    truncated = finish_reason == "length"
    # CRLF is a line end to YAML and JSON alike: read as LF from the start so no repair
    # keeps a `\r` in a value (recorded only where other repairs fire: a valid answer
    # with CRLF line ends reads the same either way)
    crlf = "\r\n" in source
    text = source.replace("\r\n", "\n") if crlf else source
    if not text or text.isspace():
        return StructuredResult(None, "failed", (), source, "empty answer", truncated=truncated)
    ctx = _context(format if format != "auto" else "yaml", truncated, compiled)
    payload, fired = _extracted(text, compiled, format, truncated, limits, ctx)
    if not payload.strip():
        return StructuredResult(
            None,
            "failed",
            tuple(fired),
            source,
            "no document left after removing reasoning and fences",
            truncated=truncated,
        )
    fmt = detect_format(payload, format)
    ctx.format = fmt
    run = Run(compiled, limits, fmt)
    run.cut_at_limit = truncated
    result = _solve(run, payload, fmt, format, ctx, fired)
    result, fired, payload = _other_candidates(run, result, fired, payload, ctx, format)
    if not result.valid and not result.final and compiled is not None:
        alt = reshaped(run, payload, fmt)
        if alt is not None:
            result, payload = alt
            fire(fired, result.fired)
    if truncated:
        fire(fired, "truncated")
        result = _cut(run, result, text, payload, fired)
    done_payload = result.__dict__.get("payload", payload)
    diff = _diff(text, done_payload) if want_diff else None
    meta: dict[str, Any] = {"notes": tuple(ctx.notes), "format": fmt}
    if not result.valid:
        failure = result if result.loaded or run.best_invalid is None else run.best_invalid
        if not result.loaded and run.best_invalid is not None and not result.final:
            failure = run.best_invalid
        error = failure.error or result.error or "could not be parsed"
        return StructuredResult(
            None,
            "failed",
            tuple(fired),
            source,
            error,
            truncated=truncated or ctx.truncated,
            position=failure.position,
            diff=diff,
            **meta,
        )
    value = result.value
    problem = _value_problem(value, text, compiled, fired)
    if problem is None and compiled is not None and compiled.kind != "json":
        try:
            value = compiled.instance(value)
        except Exception as exc:  # pydantic validators may reject what the schema allows
            problem = f"schema: {exc}".split("\n For further", 1)[0]
    if problem is not None:
        return StructuredResult(
            None, "failed", tuple(fired), source, problem, truncated=truncated, **meta
        )
    if crlf and fired:
        fired.insert(0, "normalize_newlines")
    return StructuredResult(
        value,
        "repaired" if fired else "clean",
        tuple(fired),
        source,
        None,
        truncated=truncated or ctx.truncated,
        diff=diff,
        **meta,
    )


def _checked_text(text: str | bytes, limits: Limits) -> str:
    """The answer as text, refused when it is no UTF-8, too large, or holds a NUL."""
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
    return text


def _extracted(
    text: str,
    compiled: CompiledSchema | None,
    format: str,
    truncated: bool,
    limits: Limits,
    ctx: RepairContext,
) -> tuple[str, list[str]]:
    """The payload after the extract rules (fences, reasoning, BOM, prose), and which fired."""
    fired: list[str] = []
    payload = run_phase("extract", text, ctx, fired)
    escaped = "escaped_line_breaks" in fired  # `- a\\n- b` reads as one item `a\\n- b`
    if fired and not truncated and not escaped and _raw_is_valid(text, compiled, format, limits):
        # A fence or a `<think>` tag can be part of a valid document (a key, or a block
        # scalar holding markdown): valid as written means untouched.
        return text, []
    if fired and json_like(text) and _one_json_value(text):
        # `{'a': {'<think>': None}}`: a tag inside a string of a broken JSON answer that
        # the engine reads whole is content, not reasoning
        return text, []
    return payload, fired


def _other_candidates(
    run: Run,
    result: Attempt,
    fired: list[str],
    payload: str,
    ctx: RepairContext,
    format: str,
) -> tuple[Attempt, list[str], str]:
    """Other candidate payloads (fenced blocks, a second JSON value): the schema chooses;
    two that fit with different values are a conflict, never a guess."""
    for candidate in [] if result.final else list(ctx.candidates):
        cand_fired = list(fired)
        cand_ctx = _context(ctx.format, run.cut_at_limit, run.compiled)
        cand = _solve(
            run, candidate, detect_format(candidate, format), format, cand_ctx, cand_fired
        )
        if not cand.valid:
            continue
        if result.valid and json_like(candidate):
            got = engine(run, candidate, RepairContext(format="json"))
            if got is None or not got[0].valid:
                continue  # flow YAML's reading of `{more}` is no rival
        if result.valid:
            if run.compiled is not None and repr(cand.value) != repr(result.value):
                return verdict("several different documents fit the schema"), fired, payload
            continue
        result, fired, payload = cand, cand_fired, candidate
        fire(fired, "multiple_documents")
    return result, fired, payload


def _cut(run: Run, result: Attempt, text: str, payload: str, fired: list[str]) -> Attempt:
    """At the token limit: only values written whole before the cut, never completed."""
    read_text = result.__dict__.get("payload", payload)
    # the payload as extracted too: a repair may have rewritten the cut last line
    if result.valid and (
        cut_inside_payload(text, read_text, fired)
        or (not json_like(read_text) and cut_inside_payload(text, payload, fired))
    ):
        return _whole_entries(run, read_text) or verdict(
            "answer cut at the token limit inside the document"
        )
    if not result.valid and not result.final:
        return _whole_entries(run, payload) or result  # the cut broke the last line
    return result


def _value_problem(
    value: Any, text: str, compiled: CompiledSchema | None, fired: list[str]
) -> str | None:
    """Why a value that validates is still no answer, or ``None``."""
    if ("\\u" in text or "\\U" in text or _SURROGATE.search(text)) and _lone_surrogate(value):
        # `"\ud800"` decodes to no character: such a value cannot be written as text
        return "a lone surrogate escape (\\ud800-\\udfff) is not text"
    if compiled is None and value is None and fired:
        # without a schema, repairs that leave nothing (every line dropped) found no
        # document: failed, not a null made up by the repairs
        return "no document left after repairs"
    return None


# coercions that read a scalar's type: all a reshaped answer may need besides key case
_SURROGATE = re.compile("[\ud800-\udfff]")


def _lone_surrogate(value: Any, depth: int = 0) -> bool:
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if depth > 200:
        return False
    if isinstance(value, dict):
        return any(
            _lone_surrogate(k, depth + 1) or _lone_surrogate(v, depth + 1) for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_lone_surrogate(v, depth + 1) for v in value)
    return False


def _one_json_value(text: str) -> bool:
    read = _json_repair.repair_json(text)
    return (
        read is not None
        and len(read.values) == 1
        and not read.trailing.strip()
        and not read.truncated
    )


def _raw_is_valid(text: str, compiled: CompiledSchema | None, format: str, limits: Limits) -> bool:
    """Does the answer, exactly as written, load strictly and validate as a document?"""
    fmt = detect_format(text, format)
    attempt = Run(compiled, limits, fmt).attempt(text, fmt)
    if not attempt.valid or (RESHAPING | {"multiple_documents"}) & set(attempt.fired):
        return False  # valid only once reshaped (or several documents): not as written
    # Without a schema, only a mapping or a list counts: a bare string is no document.
    return compiled is not None or isinstance(attempt.value, dict | list)


def _diff(before: str, after: str) -> str:
    import difflib  # only for a repaired answer: the first parse does not load it

    return "".join(
        difflib.unified_diff(
            before.splitlines(True), after.splitlines(True), "answer", "repaired", n=1
        )
    )


def _context(fmt: str, truncated: bool, compiled: CompiledSchema | None) -> RepairContext:
    ctx = RepairContext(format=fmt, truncated=truncated)
    if compiled is not None:
        from llmkit.structured._schema_paths import line_kinds

        ctx.line_kinds = lambda text: line_kinds(text, compiled)
    return ctx


def _as_text(run: Run, payload: str) -> Attempt | None:
    """Under a schema that asks for text, an answer that looks like JSON is that text."""
    if not json_like(payload) or run.compiled is None:
        return None
    from llmkit.structured._schema_paths import string_schema

    if not string_schema(run.compiled):
        return None
    a = run.check(Loaded(payload.strip()))
    return a if a.valid else None


def _whole_entries(run: Run, payload: str) -> Attempt | None:
    """A YAML mapping cut at the token limit, without its last top-level entry (the one
    the cut may have fallen in: its value, a list or a block, may not be whole), where
    that validates; never a completed value. A top-level list is never whole."""
    if json_like(payload):
        return None
    lines = payload.rstrip("\n").split("\n")
    starts = [i for i, ln in enumerate(lines) if ln[:1] not in ("", " ", "\t", "-", "#")]
    if len(starts) < 2 or lines[0].startswith("- "):
        return None
    kept = "\n".join(lines[: starts[-1]]).rstrip()
    b = run.attempt(kept, "yaml")
    if not b.valid or not isinstance(b.value, dict):
        return None
    b.payload = kept  # type: ignore[attr-defined]
    return b


def _yaml_for_json(
    run: Run, payload: str, fmt: str, ctx: RepairContext, fired: list[str]
) -> Attempt | None:
    """JSON asked and a YAML document answered: read it as YAML, with its own repairs."""
    if fmt != "json" or json_like(payload) or _extract.json_payload_start(payload) is not None:
        return None
    yaml_fired: list[str] = []
    yaml_ctx = _context("yaml", ctx.truncated, run.compiled)
    b = _solve_once(run, payload, "yaml", "yaml", yaml_ctx, yaml_fired)
    if not b.valid and not b.final:
        b = _label_above(run, b, b.__dict__.get("payload", payload), "yaml", yaml_fired) or b
    if not b.valid:
        return None
    fired[:] = [n for n in fired if n != "strip_prose"]
    fire(fired, ["yaml_as_json", *yaml_fired])
    return b


_LABEL_LINE = lazy_pattern(r"[ \t]*[A-Z][\w ()'-]{0,40}:[ \t]*\n")


def _label_above_list(run: Run, payload: str, fired: list[str]) -> str:
    """`Output:` alone above a list the schema asks for at the top: the label goes before
    anything is loaded, so the items' schema paths decide their quoting (read as the one
    key of a mapping, `- Note: read this` was split into a key and a value and quoted
    apart). A mapping can never fit a list schema, so nothing is lost."""
    if not array_schema(run.compiled):
        return payload
    m = _LABEL_LINE.match(payload.lstrip("\n"))
    if m is None:
        return payload
    rest = payload.lstrip("\n")[m.end() :]
    if not rest.lstrip("\n").lstrip(" ").startswith("- "):
        return payload
    fire(fired, "strip_prose")
    return rest


def _label_above(run: Run, a: Attempt, payload: str, fmt: str, fired: list[str]) -> Attempt | None:
    """`Output:` alone above a document the schema asks for at the top: a label, not a key.

    Only where the reading with the label does not validate, the label is no property
    the schema names, and the document below the label validates on its own.
    """
    if fmt != "yaml" or not a.loaded:
        return None
    m = _LABEL_LINE.match(payload.lstrip("\n"))
    if m is None or normalize_key(m.group().strip().rstrip(":")) in schema_keys(run.compiled):
        return None
    rest = payload.lstrip("\n")[m.end() :]
    quoted = _quoted(rest, run.compiled)
    b = run.attempt(quoted[0] if quoted else rest, "yaml")
    if not b.valid:
        return None
    fire(fired, ["strip_prose", *(quoted[1] if quoted else [])])
    rest = quoted[0] if quoted else rest
    return done(b, rest, fired)


def _solve(
    run: Run, payload: str, fmt: str, requested: str, ctx: RepairContext, fired: list[str]
) -> Attempt:
    text = _as_text(run, payload)
    if text is not None:
        return done(text, payload, fired)
    a = _solve_once(run, payload, fmt, requested, ctx, fired)
    if not a.valid and not a.final:
        a = _yaml_for_json(run, payload, fmt, ctx, fired) or a
    if not a.valid and not a.final:
        a = _label_above(run, a, a.__dict__.get("payload", payload), fmt, fired) or a
    if a.final or not a.loaded or not isinstance(a.value, dict):
        return a
    # the edges of the mapping read last: prose lines shaped like keys never stay keys
    read = a.__dict__.get("payload", payload)
    got = prose_edges(run, read, not a.valid)
    if got is None:
        return a
    fire(fired, "strip_prose_line")
    return done(got[0], got[1], fired)


@dataclass
class _Solving:
    """One payload on its way through the steps of :func:`_solve_once`."""

    run: Run
    ctx: RepairContext
    fired: list[str]
    requested: str
    payload: str
    fmt: str
    a: Attempt = field(default_factory=Attempt)

    def finish(self, a: Attempt, payload: str | None = None) -> Attempt:
        return done(a, self.payload if payload is None else payload, self.fired)

    def engine_read(self, payload: str) -> Attempt | None:
        """The JSON engine's reading of ``payload`` when it decides (valid or final)."""
        got = engine(self.run, payload, self.ctx)
        if got is not None and (got[0].valid or got[0].final):
            fire(self.fired, got[1])
            return done(got[0], payload, self.fired)
        return None

    def is_json(self) -> bool:
        return self.fmt == "json" or json_like(self.payload)


def _solve_once(
    run: Run, payload: str, fmt: str, requested: str, ctx: RepairContext, fired: list[str]
) -> Attempt:
    """Strict load, then repairs in order of cost, each step returning where it decides."""
    st = _Solving(run, ctx, fired, requested, _before_load(run, payload, fmt, ctx, fired), fmt)
    original = st.payload
    st.a = _strict(run, st.payload, fmt)
    if st.a.final:
        return st.finish(st.a)
    if not st.a.loaded and st.fmt == "yaml":
        too_many = _too_many_documents(st.payload)
        if too_many is not None:
            return st.finish(too_many)
    decided = _prose_around(st) or _json_shaped(st)
    if decided is not None:
        return decided
    if st.a.valid:
        return st.finish(st.a)
    ctx.error = st.a.error
    for step in (_engine_first, _text_repairs):
        decided = step(st)
        if decided is not None:
            return decided
    decided = _json_after_prose(st, original)
    if decided is not None:
        return decided
    decided = _json_last(st)
    if decided is not None:
        return decided
    return _yaml_repairs(st)


def _too_many_documents(payload: str) -> Attempt | None:
    """A failed verdict for a stream of more documents than the repairs may reload."""
    if payload.count("---") <= MAX_REPAIRED_DOCUMENTS:
        return None
    count = sum(1 for _ in _DOCUMENT_START.finditer(payload))
    if count <= MAX_REPAIRED_DOCUMENTS:
        return None
    return verdict(
        f"{count} YAML documents that do not load as written: more than"
        f" {MAX_REPAIRED_DOCUMENTS} are not repaired"
    )


def _before_load(run: Run, payload: str, fmt: str, ctx: RepairContext, fired: list[str]) -> str:
    """Values the schema asks as text quoted by their path; `tag: #x` kept as text."""
    if fmt != "yaml" or json_like(payload):
        return payload
    payload = _label_above_list(run, payload, fired)
    if run.compiled is not None:
        quoted = _quoted(payload, run.compiled)
        if quoted is not None:
            payload = quoted[0]
            fire(fired, quoted[1])
    if "#" in payload:
        new = _repair_yaml.hash_values(payload, ctx)
        if new is not None:
            fire(fired, "hash_value")
            payload = new
    return payload


def _strict(run: Run, payload: str, fmt: str) -> Attempt:
    """The fast path: one strict load (JSON is YAML 1.2; libyaml refuses `\\ud83d`)."""
    a = run.attempt(payload, fmt)
    if not a.final and not a.loaded and fmt == "yaml" and json_like(payload):
        b = run.attempt(payload, "json")
        if b.loaded:
            return b
    return a


def _prose_around(st: _Solving) -> Attempt | None:
    """Prose read as keys at the head, the tail or the edges of a YAML mapping."""
    run, a, payload = st.run, st.a, st.payload
    if not a.loaded or st.fmt != "yaml":
        return None
    # A key the model quoted (`'{""}': 1`) is a key it meant, never prose around a payload.
    quoted_key = payload.lstrip()[:1] in ("'", '"')
    if not quoted_key and _prose_head(a.value, run.compiled):
        new = _extract.strip_prose(payload, st.ctx)
        if new is not None and new.strip() != payload.strip():
            b = run.attempt(new, st.fmt)
            if b.valid or not a.valid:  # a valid document stays as written
                fire(st.fired, "strip_prose")
                st.payload, st.a = new, b
    new = _prose_tail(st.payload, st.a.value, run.compiled)
    if new is not None:
        b = run.attempt(new, st.fmt)
        if b.valid:
            fire(st.fired, "strip_prose")
            st.payload, st.a = new, b
    if isinstance(st.a.value, dict):
        edge = edge_prose(run, st.payload)
        if isinstance(edge, Attempt):
            return edge
        if edge is not None:
            b = run.attempt(edge, st.fmt)
            if b.valid:
                fire(st.fired, "strip_prose_line")
                st.payload, st.a = edge, b
    return None


# what YAML reads otherwise in a JSON-shaped answer: Python and JavaScript literals, `//`
# comments, typographic quotes (`[“a, b”]` split at the comma), an escaped answer, a line
# break inside a string (YAML folds it to a space; BAML's tests keep it, as JSON does)
_LITERAL_READINGS = frozenset(
    [
        "json_python_literals",
        "json_undefined",
        "json_comments",
        "json_smart_quotes",
        "json_escaped_answer",
        "json_control_chars",
    ]
)


def _json_shaped(st: _Solving) -> Attempt | None:
    """YAML asked and a JSON-shaped answer with a Python or JavaScript literal or comment
    (`{"note": None}`, `undefined`, `// x`), typographic quotes, or escaped throughout:
    YAML reads those as text, so where the JSON engine reads them otherwise and that
    reading validates, it is the one taken, with its repairs named. Without one of
    those, YAML's own flow syntax (`{note: ~}`) stays."""
    if st.fmt != "yaml" or not st.a.valid:
        return None
    body = st.payload.lstrip().lstrip("\ufeff")  # YAML skips a byte-order mark; JSON not
    if not json_like(body):
        return None
    got = engine(st.run, body, st.ctx)
    if got is None or not got[0].valid or got[0].value == st.a.value:
        return None
    if not _LITERAL_READINGS & set(got[1]):
        return None  # `{note: ~}` is YAML's null: only Python's and JavaScript's literals
    fire(st.fired, ["strip_bom"] if "\ufeff" in st.payload[: len(st.payload) - len(body)] else [])
    fire(st.fired, got[1])
    return st.finish(got[0], body)


def _engine_first(st: _Solving) -> Attempt | None:
    """JSON: the repair engine reads every JSON error class in one pass."""
    return st.engine_read(st.payload) if st.is_json() else None


def _text_repairs(st: _Solving) -> Attempt | None:
    """Text rules, cheapest first, a load attempt after each one that changed the text."""
    for rule in rules("text"):
        if rule.func is None:
            continue
        new = rule.func(st.payload, st.ctx)
        if new is None or new == st.payload:
            continue
        st.payload = new
        fire(st.fired, rule.name)
        if st.requested == "auto":
            st.fmt = detect_format(st.payload, st.requested)
        st.ctx.format = st.fmt
        if st.fmt == "yaml" and rule.name in _RESHAPES_LINES:
            st.a = _after_yaml_rule(st, rule.name)  # new item lines: the schema quotes them
        else:
            st.a = st.run.attempt(st.payload, st.fmt)
        if st.a.valid:
            return st.finish(st.a)
        if st.is_json():
            decided = st.engine_read(st.payload)
            if decided is not None:
                return decided
    return None


def _json_after_prose(st: _Solving, original: str) -> Attempt | None:
    """`Output:\n{'a': 1}` / `Result: {"a": 1}`: a JSON or Python-literal payload after a
    line of prose; the engine reads from its first bracket and stops at its end."""
    if json_like(original):
        return None
    start = _extract.json_payload_start(original)
    if start is None:
        return None
    got = engine(st.run, original[start:], st.ctx)
    if got is None or not got[0].valid:
        return None
    fire(st.fired, ["strip_prose", *got[1]])
    return done(got[0], original[start:], st.fired)


def _json_last(st: _Solving) -> Attempt | None:
    """A JSON payload nothing repaired ends here; YAML where JSON was asked is read."""
    if not st.is_json():
        return None
    got = engine(st.run, st.payload, st.ctx)
    if got is not None and got[0].loaded and not st.a.loaded:
        st.a = got[0]
    if st.fmt == "json" and not json_like(st.payload):
        # the schema decides here too: `note: #ff0000` is the text, never a comment
        yaml_fired: list[str] = []
        yaml_ctx = _context("yaml", st.ctx.truncated, st.run.compiled)
        prepared = _before_load(st.run, st.payload, "yaml", yaml_ctx, yaml_fired)
        b = st.run.attempt(prepared, "yaml")
        if b.valid:
            fire(st.fired, ["yaml_as_json", *yaml_fired])
            return st.finish(b, prepared)
    if json_like(st.payload):
        st.a.payload = st.payload  # type: ignore[attr-defined]
        return st.a
    return None


def _yaml_repairs(st: _Solving) -> Attempt:
    """YAML rules in registry order; the last resorts driven by the error line."""
    ctx = st.ctx
    if st.a.line is not None:
        ctx.error_line, ctx.error_column, ctx.error = st.a.line, st.a.column, st.a.error
    for rule in [r for r in rules("yaml") if r.func is not None]:
        tries = _MAX_ERROR_DRIVEN if rule.name in ("quote_error_value", "drop_stray_line") else 1
        for _ in range(tries):
            new = rule.func(st.payload, ctx)  # type: ignore[misc]
            if new is None or new == st.payload:
                break
            st.payload = new
            fire(st.fired, rule.name)
            b = _after_yaml_rule(st, rule.name)
            if b.valid:
                return st.finish(b)
            st.a = b
            if b.line is not None:
                ctx.error_line, ctx.error_column, ctx.error = b.line, b.column, b.error
            elif b.loaded:
                break
    st.a.payload = st.payload  # type: ignore[attr-defined]
    return st.a


def _after_yaml_rule(st: _Solving, name: str) -> Attempt:
    if st.run.compiled is not None and name in _RESHAPES_LINES:
        # the repaired lines have paths now: the schema decides their values first
        quoted = _quoted(st.payload, st.run.compiled)
        if quoted is not None:
            st.payload = quoted[0]
            fire(st.fired, quoted[1])
    return st.run.attempt(st.payload, "yaml")
