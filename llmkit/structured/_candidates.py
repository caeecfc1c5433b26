"""One reading of a payload, and the choice among several: load, coerce, validate.

An :class:`Attempt` is one reading (loaded? valid? which rules fired?); :class:`Run`
makes attempts against one schema. Where several readings exist (``---`` documents,
several JSON values, fenced blocks, a JSON value after prose) the schema chooses; two
readings that fit with different values are a conflict, a :func:`verdict` no later
repair may overturn. Answers that are no document at all (``1. Key: value`` lists, a
scalar in a sentence) are read by shape in :func:`reshaped`, after all else failed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llmkit._lazy import lazy_pattern
from llmkit.structured import _extract, _json_repair
from llmkit.structured._coerce import coerce, normalize_key
from llmkit.structured._json_repair import only_root_open
from llmkit.structured._load import (
    Limits,
    Loaded,
    LoadFailure,
    load_json,
    load_yaml,
    smart_inner,
)
from llmkit.structured._rules import RepairContext, rules

if TYPE_CHECKING:
    from llmkit.structured._schema import CompiledSchema

__all__ = [
    "RESHAPING",
    "Attempt",
    "Run",
    "array_schema",
    "cut_inside_payload",
    "done",
    "edge_prose",
    "engine",
    "fire",
    "json_like",
    "only_root_open",
    "other_fit",
    "prose_edges",
    "reshaped",
    "run_phase",
    "schema_keys",
    "verdict",
]


@dataclass
class Attempt:
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


class Run:
    def __init__(self, compiled: CompiledSchema | None, limits: Limits, fmt: str) -> None:
        self.compiled = compiled
        self.limits = limits
        self.fmt = fmt
        self.best_invalid: Attempt | None = None
        self.last_failure: Attempt | None = None
        self.cut_at_limit = False  # finish_reason "length"

    def attempt(self, payload: str, fmt: str) -> Attempt:
        try:
            loaded = (
                load_json(payload, self.limits, typed=self.compiled is not None)
                if fmt == "json"
                else load_yaml(payload, typed=self.compiled is not None, limits=self.limits)
            )
        except LoadFailure as exc:
            a = Attempt(
                error=f"{fmt.upper()} syntax: {exc}",
                line=exc.line,
                column=exc.column,
                position=exc.index,
            )
            self.last_failure = a
            return a
        return self.check(loaded, fmt == "json")

    def check(self, loaded: Loaded, json_doc: bool = False) -> Attempt:
        """Coerce and validate each document; the schema chooses among several.

        Several `---` documents: collected into one list for an array schema, else the
        one that validates; two that validate with different values are a conflict.
        """
        docs = loaded.documents or [loaded.value]
        # a text document (a remark after `---`, lines of prose) is no item of a list
        texts = any(isinstance(d, str) for d in docs)
        if len(docs) > 1 and array_schema(self.compiled) and not texts:
            whole = self.one(loaded, list(docs), json_doc)
            if whole.valid:
                return whole
        first: Attempt | None = None
        chosen: Attempt | None = None
        for doc in docs:
            a = self.one(loaded, doc, json_doc)
            if a.valid and len(docs) > 1 and RESHAPING & set(a.fired):
                # `...\n---\nThanks`: a remark fits a list only once wrapped; of several
                # documents, only one that fits as written is the answer
                a.valid = False
            if a.valid:
                if chosen is None:
                    chosen = a
                    if self.compiled is None:
                        break
                elif repr(a.value) != repr(chosen.value):
                    return verdict("several different documents fit the schema")
            elif first is None:
                first = a
        if chosen is not None:
            return chosen
        assert first is not None
        if self.best_invalid is None:
            self.best_invalid = first
        return first

    def one(self, loaded: Loaded, doc: Any, json_doc: bool) -> Attempt:
        fired = list(loaded.fired)
        value = doc if json_doc and self.compiled is None else coerce(doc, self.compiled, fired)
        a = Attempt(value=value, loaded=True, fired=fired, notes=list(loaded.notes))
        if self.compiled is None:
            a.valid = True
            return a
        errors = self.compiled.errors(value)
        if errors and not json_doc:
            value, errors = self.colon_items(value, fired, errors)
            a.value = value
        a.valid = not errors
        if errors:
            from llmkit.structured._schema import format_errors  # loaded with the schema

            a.error = "schema: " + format_errors(errors)
        return a

    def colon_items(self, value: Any, fired: list[str], errors: list[Any]) -> tuple[Any, list[Any]]:
        """`- Step 1: open it` read as a one-key mapping where the schema says string.

        YAML reads an unquoted `: ` as a mapping; where the schema asks for a string and
        the mapping is one key with a scalar value, the text the model wrote is
        `key: value`, so that is the string.
        """
        assert self.compiled is not None
        changed = False
        # compiled.errors, not validator.iter_errors: the latter is exponential on
        # recursive unions (a 600-byte answer took seconds).
        for error in self.compiled.errors(value, limit=50):
            types = error.validator_value if error.validator == "type" else None
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
            if isinstance(val, str) and not val.strip():
                continue  # `{braced}` read as {braced: ""}: no `key: value` was written
            text = f"{key}: {_scalar_text(val)}"
            inner = smart_inner(text)
            if inner is not None:
                text = inner  # `- “Note: read this”`: the quotes wrap the whole item
                fire(fired, "yaml_smart_quotes")
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
            fire(fired, "quote_colon_value")
        return value, errors


def _scalar_text(val: Any) -> str:
    if isinstance(val, bool):
        return "true" if val else "false"
    return str(val)


def fire(fired: list[str], names: list[str] | str) -> None:
    for name in [names] if isinstance(names, str) else names:
        if name not in fired:
            fired.append(name)


def schema_keys(compiled: CompiledSchema | None) -> set[str]:
    props = (compiled.schema.get("properties") or {}) if compiled else {}
    return {normalize_key(k) for k in props} if isinstance(props, dict) else set()


_TOP_KEY = re.compile(r"^([^\s#\-][^:\n]*):(?:[ \t]|$)", re.M)


def _shadowed(run: Run, label: str, written: list[str], tail: bool) -> bool:
    """`note: x` written as the schema spells it, then a blank line and `Note: a
    sentence.` closing the answer: the remark is prose, the key is the field. (Above the
    document the two stay rivals: `Summary: ...` may be the summary.)"""
    if not tail:
        return False
    props = (run.compiled.schema.get("properties") or {}) if run.compiled else {}
    if not isinstance(props, dict) or label in props:
        return False
    norm = normalize_key(label)
    return any(k in props and normalize_key(k) == norm for k in written)


def edge_prose(run: Run, payload: str) -> str | Attempt | None:
    """The payload without prose-shaped lines at its edges (`Note: a sentence.`).

    Only labels the schema does not name are dropped (the caller keeps the result only
    when it validates). A label the schema names that is also written as a key elsewhere
    gives two candidates for one field: a conflict (a final failed attempt).
    """
    keys = schema_keys(run.compiled)
    if not keys:
        return None
    idx, labels = _extract.edge_prose_lines(payload)
    if not idx:
        return None
    written = [m.group(1).strip() for m in _TOP_KEY.finditer(payload)]
    drop = []
    lines = payload.rstrip().split("\n")
    for i, label in zip(idx, labels, strict=True):
        norm = normalize_key(label)
        tail = i == len(lines) - 1 and i > 0 and not lines[i - 1].strip()
        if norm not in keys or _shadowed(run, label, written, tail):
            drop.append(i)
        elif sum(1 for k in written if normalize_key(k) == norm) > 1:
            return verdict(f"two candidates for the field {label!r}: a prose line and a key")
    return _extract.drop_lines(payload, drop) if drop else None


_PLAIN_COERCIONS = frozenset(
    ["coerce_key", "coerce_boolean", "coerce_integer", "coerce_number", "fill_default"]
)


def reshaped(run: Run, payload: str, fmt: str) -> tuple[Attempt, str] | None:
    """Answers that are no document at all, read by shape (tried only after all failed).

    A numbered or bulleted list of `Key: value` lines becomes an object (only when it
    then needs no coercion beyond key case and scalar types); a scalar schema answered in
    a sentence takes the one candidate value the sentence holds.
    """
    assert run.compiled is not None
    if fmt == "yaml" or not json_like(payload):
        kv = _extract.key_value_lines(payload)
        if kv is not None:
            b = run.attempt(kv, "yaml")
            if b.valid and set(b.fired) <= _PLAIN_COERCIONS:
                b.fired = ["key_value_lines", *b.fired]
                b.payload = kv  # type: ignore[attr-defined]
                return b, kv
    ok, value = _extract.scalar_in_sentence(payload, run.compiled.schema)
    if ok and not run.compiled.errors(value):
        a = Attempt(value=value, loaded=True, valid=True, fired=["scalar_in_sentence"])
        a.payload = payload  # type: ignore[attr-defined]
        return a, payload
    return None


def cut_inside_payload(text: str, payload: str, fired: list[str]) -> bool:
    """At the token limit: does the document run to the end of the answer?

    A JSON document the engine reads without closing anything is complete; otherwise (and
    for YAML, which has no closer to tell) the document was cut unless text after it (a
    closing fence, prose) shows it ended before the limit.
    """
    if json_like(payload):
        read = _json_repair.repair_json(payload)
        if read is not None:
            return read.truncated and not only_root_open(read, payload, True)
    last = text.rstrip().rsplit("\n", 1)[-1].strip()
    if last.startswith(("```", "~~~")):
        return False
    return bool(last) and last in payload


class _Solved(Attempt):
    payload: str = ""


def done(a: Attempt, payload: str, fired: list[str]) -> Attempt:
    fire(fired, a.fired)
    a.payload = payload  # type: ignore[attr-defined]
    return a


_JSON_START = ("{", "[", "(")


def json_like(payload: str) -> bool:
    return payload.lstrip()[:1] in _JSON_START


def run_phase(phase: str, payload: str, ctx: RepairContext, fired: list[str]) -> str:
    """Every text rule of ``phase`` in registry order, each on the last one's output."""
    for rule in rules(phase):
        if rule.func is None:
            continue
        new = rule.func(payload, ctx)
        if new is not None and new != payload:
            payload = new
            fire(fired, rule.name)
    return payload


def array_schema(compiled: CompiledSchema | None) -> bool:
    return compiled is not None and compiled.schema.get("type") == "array"


def verdict(error: str) -> Attempt:
    return Attempt(error=error, final=True)


def engine(run: Run, payload: str, ctx: RepairContext) -> tuple[Attempt, list[str]] | None:
    """Read ``payload`` with the JSON repair engine; the attempt and the repairs named.

    Several top-level values: collected into one list for an array schema, else the one
    that validates; when several validate and differ, none is chosen (no guessing). A
    value cut inside (a string, or after a `,`) is never completed by a guess, nor is
    anything the engine had to close when the answer hit the token limit.
    """
    scratch = RepairContext(format="json", truncated=ctx.truncated)
    names: list[str] = []
    payload = run_phase("json", payload, scratch, names)  # users' rules before the engine
    read = _json_repair.repair_json(payload)
    if read is None:
        return None
    names.extend(n for n in read.repairs if n not in names)
    if _MORE_AFTER.match(read.trailing):
        # `[[1, 2]], [3]]`: more of the document after a closer, never prose to drop
        return verdict("more values follow where the document closed: a stray closer?"), names
    if read.trailing.strip():
        names.append("strip_prose")
    if (read.truncated or read.cut_inside) and _UNQUOTED & set(read.repairs):
        # `["a", "b"\n\nLet me know...`: the closer left off and a remark after a blank
        # line, never one more item or key
        cut = _prose_after_unclosed(run, payload, ctx)
        if cut is not None:
            return cut
    if read.cut_inside:
        return verdict("answer cut inside a value: its end is unknown"), names
    if read.truncated and not only_root_open(read, payload, run.cut_at_limit):
        return verdict("the answer ends inside a value it never closed: its end is unknown"), names
    if read.truncated:
        ctx.truncated = True
    if len(read.values) == 1:
        first = run.attempt(read.values[0], "json")
        if first.valid and run.compiled and other_fit(run, read.trailing, first.value):
            return verdict("several different documents fit the schema"), names
        return first, names
    if array_schema(run.compiled):
        whole = run.attempt("[" + ", ".join(read.values) + "]", "json")
        if whole.valid:
            return whole, names
    tries = [run.attempt(v, "json") for v in read.values]
    valid = [t for t in tries if t.valid]
    distinct = {repr(t.value) for t in valid}
    if len(distinct) == 1 or (valid and run.compiled is None):
        return valid[0], names
    if valid:
        return verdict("several different documents fit the schema"), names
    return tries[-1], names


#: coercions that change a value's shape: a reading that needs them is no valid document
RESHAPING = frozenset(
    ["split_list", "wrap_list", "parse_embedded", "unwrap_list", "renest_keys", "quote_colon_value"]
)
_UNQUOTED = frozenset(["json_unquoted_values", "json_unquoted_keys"])
_MORE_AFTER = lazy_pattern(r"\s*+,\s*+[\[{\"']")


def _prose_after_unclosed(
    run: Run, payload: str, ctx: RepairContext
) -> tuple[Attempt, list[str]] | None:
    end = payload.rstrip().rfind("\n\n")
    if end < 0:
        return None
    read = _json_repair.repair_json(payload[:end])
    if read is None or len(read.values) != 1 or _UNQUOTED & set(read.repairs) or read.cut_inside:
        return None
    a = run.attempt(read.values[0], "json")
    if not a.valid:
        return None
    ctx.truncated = True
    return a, [*read.repairs, "strip_prose"]


def other_fit(run: Run, rest: str, value: Any, limit: int = 5) -> bool:
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


# a top-level `label:` line, with or without a value; a quoted or flow value is data
_EDGE_LINE = re.compile(r"(?P<key>[^\s#\-\"'{\[&*!|>%@`][^:\n]*?)[ \t]*:(?:[ \t]+(?P<value>.*))?")
_IDENTIFIER = re.compile(r"[a-z_][\w.-]*", re.ASCII)
_EDGE_SENTENCE = lazy_pattern(r"\S+(?:[ ]+\S+)+")


def _edge_candidate(line: str, has_schema: bool, invalid: bool) -> str | None:
    """The label of a top-level line that may be prose (`Answer (YAML):`), else None."""
    if not line or line[0].isspace() or line.startswith(("---", "...")):
        return None
    m = _EDGE_LINE.fullmatch(line.rstrip())
    if m is None:
        return None
    key = m.group("key")
    value = (m.group("value") or "").strip()
    # `Output`, `My answer`, `Answer (YAML)`; a lowercase identifier (`notes`) is data
    # unless the document fails with it
    prose_key = invalid or _IDENTIFIER.fullmatch(key) is None
    if not value:
        # without a schema only a label no key would be written as: spaces, punctuation
        if has_schema:
            return key if prose_key else None
        return key if re.fullmatch(r"[\w.-]+", key) is None else None
    if not has_schema or value[0] in "\"'[{|>&*!#" or not prose_key:
        return None
    return key if _EDGE_SENTENCE.fullmatch(value) else None


def prose_edges(run: Run, payload: str, invalid: bool) -> tuple[Attempt, str] | None:
    """The reading without prose lines shaped like keys at the edges of a YAML mapping.

    `Here's the YAML you asked for:` above the payload or `Note: a sentence.` below it
    reads as one more key. Such a line is dropped only at the edge of the document, only
    when its label is no property the schema names, its value is empty or a sentence, the
    line opens no block, and the rest still validates. A lowercase identifier (`notes:`)
    qualifies only where the document is ``invalid`` with it and a blank line sets it
    apart from the document, as a remark is written. Without a schema (or one
    naming no properties) only an empty label no key would be written as (spaces,
    punctuation) qualifies, and only above or below a mapping of other keys.
    """
    if json_like(payload):
        return None
    lines = payload.split("\n")
    keys = schema_keys(run.compiled)
    has_schema = bool(keys)
    written = [m.group(1).strip() for m in _TOP_KEY.finditer(payload)]

    def scan(order: range) -> list[int]:
        found: list[int] = []
        identifiers = 0
        tail = order.step < 0
        for i in order:
            if not lines[i].strip():
                continue
            label = _edge_candidate(lines[i], has_schema, invalid)
            if label is None or len(found) >= 3:
                break
            closing = tail and not found and i > 0 and not lines[i - 1].strip()
            if normalize_key(label) in keys and not _shadowed(run, label, written, closing):
                break
            nxt = next((ln for ln in lines[i + 1 :] if ln.strip()), "")
            if nxt[:1].isspace() or nxt.startswith("-"):
                break  # the label opens a block: it is the document's key
            found.append(i)
            # `notes: flaky on iOS` (a value), not the bare label `notes:`
            identifiers += _IDENTIFIER.fullmatch(label) is not None and bool(
                lines[i].split(":", 1)[1].strip()
            )
        edge = (min(found) - 1 if tail else max(found) + 1) if found else -1
        if identifiers and (edge < 0 or edge >= len(lines) or lines[edge].strip()):
            return []  # `notes: flaky on iOS` among the other keys is data, not a remark
        return found

    lead = scan(range(len(lines)))
    tail = scan(range(len(lines) - 1, -1, -1))
    if set(lead) & set(tail):
        return None  # every line reads as prose: no document
    for drop in (lead + tail, lead, tail):
        if not drop:
            continue
        rest = [ln for i, ln in enumerate(lines) if i not in drop]
        top = [m for ln in rest if ln[:1].strip() and (m := _EDGE_LINE.fullmatch(ln.rstrip()))]
        if not top:
            continue  # nothing shaped like a mapping remains
        if not has_schema and any(" " in m.group("key") for m in top):
            continue  # labels with spaces are this mapping's keys (`New York:`), not prose
        new = "\n".join(rest).strip("\n")
        b = run.attempt(new, "yaml")
        if b.valid and isinstance(b.value, dict) and b.value:
            return b, new
    return None
