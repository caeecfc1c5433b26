"""Fit a loaded value to its schema, recording every coercion like a repair.

The rule that keeps valid answers untouched: a coercion only happens where the value does
not already have the type the schema asks for. YAML plain scalars arrive as :class:`Plain`
text and take the schema's type from the text the model wrote (``version: 1.10`` stays
``"1.10"`` under ``type: string``); typing by the schema is not a coercion, changing a
value the model wrote with another type is. JSON numbers arrive as :class:`JsonNumber`
(the text as written), so under ``type: string`` JSON ``1.10`` becomes ``"1.10"``, and
that is a recorded coercion.

What coercion never does:

* turn null into ``""``, ``0`` or ``false`` (a missing value stays missing);
* turn a number that overflows (``1e400``) into infinity;
* rename keys (case, snake/camel, stray characters) in a document that validates as it is
  written, or where two keys or two properties would claim the same name;
* fill a default for a property that is present (null included): a declared default is
  filled only for a missing property (a recorded coercion, so the answer is ``repaired``).

Cost: polynomial on any schema. Each (value node, subschema) pair is coerced once and
memoised, union branches whose type fits the value are tried first, and a union re-entered
with the same value (wrapping a value in a list whose items are the same union) is cut.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmkit._exceptions import UnsafeInputError
from llmkit._lazy import lazy_pattern
from llmkit.structured._load import Folded, JsonNumber, Plain, resolve_core, to_int
from llmkit.structured._rules import register_entries

if TYPE_CHECKING:
    from llmkit.structured._schema import CompiledSchema

__all__ = ["CoercionStats", "coerce", "finalize", "normalize_key", "schema_walker"]

_MAX_DEPTH = 200
_NULL_WORDS = frozenset(["null", "none", "nil", "~", "", "n/a"])
# where the schema says boolean: true/false/yes/no, any case, and nothing else (`on`, `y`,
# `1` stay what they are and fail validation rather than become a guess)
_TRUE_WORDS = frozenset(["true", "yes"])
_FALSE_WORDS = frozenset(["false", "no"])
_DASH_LED = lazy_pattern(r"-[^\s\d.\-]")
_HOLDS_JSON = lazy_pattern(r"""[\[{][ \t]*+["'\u201c\u2018]""")
_INT_TEXT = lazy_pattern(r"[-+]?\d+\Z")
_THOUSANDS = lazy_pattern(r"[-+]?\d{1,3}(?:[,_]\d{3})+(?:\.\d+)?\Z")
_FLOAT_TEXT = lazy_pattern(r"[-+]?(?:\d++(?:\.\d*+)?+|\.\d++)(?:[eE][-+]?\d++)?+\Z")
# the only renames: case, word separators, and quotes or markdown markers around the
# whole key; a mark inside a word (`tit`le`, `ti"tle`) is no spelling of `title`
_KEY_WRAP = re.compile(r"""\A[\s"'“”‘’`*]+|[\s"'“”‘’`*:]+\Z""")
_KEY_MARK = re.compile(r"""["'“”‘’`*]""")
_KEY_SEPARATORS = re.compile(r"[\s_\-.]+")


def normalize_key(key: str) -> str:
    """`"Order ID"`, `order_id`, `orderId`, `ORDER-ID`, `**Order ID**` → `orderid`;
    a key with a quote, backtick or star inside (`ord`er_id`) matches only itself."""
    core = _KEY_WRAP.sub("", key)
    if _KEY_MARK.search(core):
        return "\x00" + key
    return _KEY_SEPARATORS.sub("", core).casefold()


# The coercions are decided inside the walk below; the registry holds them as data.
register_entries(
    "coerce",
    [
        (
            "coerce_string",
            "number or boolean where text was asked",
            "Write text values as text.",
            '{"zip": 1234} with zip: {type: string}',
            '{"zip": "1234"}',
        ),
        (
            "coerce_integer",
            "integer written as text",
            "Write integers as bare digits: `count: 3`.",
            'count: "1,200" with type: integer',
            "1200",
        ),
        (
            "coerce_number",
            "number written as text",
            "Write numbers as bare digits: `price: 9.5`.",
            'price: "9.50" with type: number',
            "9.5",
        ),
        (
            "coerce_boolean",
            "boolean written as yes/no or text",
            "Write booleans as true or false.",
            "active: yes with type: boolean",
            "true (only where the schema says boolean)",
        ),
        (
            "coerce_null",
            "null written as text",
            "Write a missing value as null.",
            '"None" / "null" / "N/A" where only null fits',
            "null",
        ),
        (
            "coerce_enum",
            "enum value with other case or spacing",
            "Use one of the allowed values exactly as listed.",
            "priority: High with enum: [low, medium, high]",
            '"high"',
        ),
        (
            "coerce_key",
            "key with other case or snake/camel spelling",
            "Use the field names exactly as given.",
            '{"OrderId": 7} with property order_id (only when the answer does not validate)',
            '{"order_id": 7}',
        ),
        (
            "wrap_list",
            "single value where a list was asked",
            "Always write a list for list fields, even with one item.",
            "tags: urgent with type: array",
            '["urgent"]',
        ),
        (
            "split_list",
            "comma-separated enum values where a list was asked",
            "Write list fields as YAML lists (`- item` lines), not comma-separated text.",
            "levels: low, high with items enum [low, medium, high] (free text fails)",
            '["low", "high"]',
        ),
        (
            "unwrap_list",
            "object wrapped in a one-item list",
            "Write an object field as a mapping, not a list.",
            '[{"a": 1}] where an object is asked',
            '{"a": 1}',
        ),
        (
            "parse_embedded",
            "structure written as a quoted string",
            "Do not quote nested objects or lists.",
            """address: '{"city": "Oslo"}' with type: object""",
            '{"city": "Oslo"}',
        ),
        (
            "fill_default",
            "field with a default missing",
            "Fill in every field.",
            '{} with property lang (default "en")',
            '{"lang": "en"}',
        ),
        (
            "renest_keys",
            "nested keys written at the parent's indentation",
            "Indent the keys of a nested object under its parent key.",
            "address:\\nstreet: x (street not indented)",
            '{"address": {"street": "x"}}',
        ),
    ],
)


def finalize(value: Any, depth: int = 0) -> Any:
    """Resolve remaining :class:`Plain` markers by the YAML 1.2 core schema."""
    if isinstance(value, Plain):
        return resolve_core(value)
    if isinstance(value, dict):
        if depth > _MAX_DEPTH:
            return value
        return {k: finalize(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        if depth > _MAX_DEPTH:
            return value
        return [finalize(v, depth + 1) for v in value]
    return value


def _natural(value: Any) -> Any:
    return resolve_core(value) if isinstance(value, Plain) else value


def _core_or_text(value: Plain) -> Any:
    """The core-schema value of a plain scalar, or its text where that would be unsafe."""
    try:
        return resolve_core(value)
    except UnsafeInputError:
        return str(value)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _finite_float(text: str) -> float | None:
    f = float(text)
    return f if math.isfinite(f) else None


class _Fail:
    """A branch that cannot be taken (the coercion re-entered itself)."""

    __slots__ = ()


_FAIL: Any = _Fail()


_JSON_TYPE_NAMES = frozenset(["object", "array", "string", "number", "integer", "boolean", "null"])
_OBJ = frozenset(["object"])
_ARR = frozenset(["array"])
_STR = frozenset(["string"])
_BOOL = frozenset(["boolean"])
_NULL = frozenset(["null"])
_NUM = frozenset(["number"])
_INTNUM = frozenset(["integer", "number"])
_PLAIN_BOOL = frozenset(["string", "boolean"])
_PLAIN_NUM = frozenset(["string", "number", "integer"])
_EXACT = {dict: _OBJ, list: _ARR, str: _STR, bool: _BOOL, type(None): _NULL, int: _INTNUM}


def _types_of(value: Any) -> frozenset[str]:
    """JSON types ``value`` can take without a coercion (a Plain scalar: text or its type)."""
    exact = _EXACT.get(type(value))
    if exact is not None:
        return exact
    if isinstance(value, float):
        return _INTNUM if value.is_integer() else _NUM
    if isinstance(value, JsonNumber):
        return _INTNUM if _is_number(_core_or_text(value)) else _STR
    if isinstance(value, Plain):
        n = _core_or_text(value)
        if n is None:
            return _NULL  # an empty or `null` scalar is no text
        if isinstance(n, bool):
            return _PLAIN_BOOL
        return _PLAIN_NUM if _is_number(n) else _STR
    for base, names in _EXACT.items():
        if isinstance(value, base):
            return names
    return frozenset()


_ANNOTATIONS = frozenset(["type", "title", "description", "$comment", "examples", "default"])


def _simple_type(schema: Any) -> str | None:
    if not isinstance(schema, dict) or not schema.keys() <= _ANNOTATIONS:
        return None
    t = schema.get("type")
    return t if t in _JSON_TYPE_NAMES else None


def _has_type(value: Any, t: Any) -> bool:
    if t == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    names = _types_of(value) - ({"integer"} if isinstance(value, float) else set())
    return not isinstance(t, str) or t in names or t not in _JSON_TYPE_NAMES


class _Coercer:
    def __init__(self, compiled: CompiledSchema, rename: bool) -> None:
        self.compiled = compiled
        self.root = compiled.schema
        self.validator = compiled.validator
        self.type_branch: dict[int, tuple[Any, Any, str]] = {}  # derived → (it, parent, type)
        self.rename = rename
        self.rename_wanted = False  # a key could be renamed or re-nested (pass 2 decides)
        self.fired: list[str] = []
        # every cache holds the objects its key ids refer to, so no id is reused
        self.memo: dict[tuple[int, int], tuple[Any, Any, Any, tuple[str, ...]]] = {}
        self.active: set[tuple[int, int]] = set()
        self.derived: dict[tuple[str, int], tuple[Any, Any]] = {}
        self.keymaps: dict[int, tuple[Any, dict[str, str | None]]] = {}
        self.finals: dict[int, tuple[Any, Any]] = {}
        self.orders: dict[tuple[int, frozenset[str]], tuple[Any, list[Any]]] = {}
        self.calls = 0  # coercion steps taken (the cost tests count them)

    def fire(self, name: str) -> None:
        if name not in self.fired:
            self.fired.append(name)

    def cached(self, kind: str, schema: Any, make: Callable[[], Any]) -> Any:
        key = (kind, id(schema))
        hit = self.derived.get(key)
        if hit is None:
            hit = (schema, make())
            self.derived[key] = hit
        return hit[1]

    def deref(self, schema: Any) -> Any:
        if not isinstance(schema, dict) or "$ref" not in schema:
            return schema
        return self.cached("deref", schema, lambda: self._deref(schema))

    def _deref(self, schema: Any) -> Any:
        for _ in range(32):
            if not isinstance(schema, dict) or "$ref" not in schema:
                return schema
            ref = schema["$ref"]
            if not isinstance(ref, str) or not ref.startswith("#"):
                return schema
            target: Any = self.root
            for part in ref[1:].split("/"):
                if not part:
                    continue
                part = part.replace("~1", "/").replace("~0", "~")
                if isinstance(target, dict) and part in target:
                    target = target[part]
                elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                    target = target[int(part)]
                else:
                    return {}
            if len(schema) > 1:  # sibling keywords next to $ref (2020-12 allows them)
                merged = {k: v for k, v in schema.items() if k != "$ref"}
                return {**target, **merged} if isinstance(target, dict) else merged
            schema = target
        return {}

    def valid(self, schema: Any, value: Any) -> bool:
        derived = self.type_branch.get(id(schema))
        if derived is not None:  # `type: [a, b]` split into branches: parent and type
            if not _has_type(value, derived[2]):
                return False
            fast = self.compiled.subschema_valid(derived[1], value)
        else:
            fast = self.compiled.subschema_valid(schema, value)
        if fast is not None:
            return fast
        from llmkit.structured._schema import memo_valid, validation_memo  # with the schema

        try:
            with validation_memo():
                return memo_valid(self.validator, value, schema)
        except Exception:  # unresolvable refs and the like: not a match
            return False

    def type_branches(self, schema: dict[str, Any], types: list[Any]) -> list[Any]:
        def make() -> list[Any]:
            out = []
            for t in types:
                branch = {**schema, "type": t}
                self.type_branch[id(branch)] = (branch, schema, t)
                out.append(branch)
            return out

        return self.cached("types", schema, make)  # type: ignore[no-any-return]

    def final(self, value: Any, depth: int = 0) -> Any:
        """:func:`finalize`, memoised per node: a subtree resolved again (by each union
        level that found no branch) is looked up, not copied again."""
        if isinstance(value, Plain):
            return resolve_core(value)
        if not isinstance(value, (dict, list)):
            return value
        hit = self.finals.get(id(value))
        if hit is None:
            if depth > _MAX_DEPTH:
                out: Any = value
            elif isinstance(value, dict):
                out = {k: self.final(v, depth + 1) for k, v in value.items()}
            else:
                out = [self.final(v, depth + 1) for v in value]
            hit = (value, out)
            self.finals[id(value)] = hit
        return hit[1]

    def run(self, value: Any, schema: Any, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            return self.final(value)
        schema = self.deref(schema)
        if not isinstance(schema, dict) or not schema:
            return self.final(value)
        key = (id(value), id(schema))
        container = type(value) is dict or type(value) is list
        if container:
            hit = self.memo.get(key)
            if hit is not None:
                for name in hit[3]:
                    self.fire(name)
                return hit[2]
        if key in self.active:
            return _FAIL  # re-entered (a value wrapped in a list of the same union)
        if not container:  # scalars: cheap to redo, and no memo entry per leaf
            self.calls += 1
            self.active.add(key)
            try:
                return self.step(value, schema, depth)
            finally:
                self.active.discard(key)
        self.calls += 1
        self.active.add(key)
        saved, self.fired = self.fired, []
        try:
            out = self.step(value, schema, depth)
            names = tuple(self.fired)
        finally:
            self.fired = saved
            self.active.discard(key)
        self.memo[key] = (value, schema, out, names)
        for name in names:
            self.fire(name)
        return out

    def step(self, value: Any, schema: dict[str, Any], depth: int) -> Any:
        any_of, one_of = schema.get("anyOf"), schema.get("oneOf")
        if any_of or one_of:
            for branches in (any_of, one_of):
                if isinstance(branches, list) and branches:
                    value = self.union(value, branches, depth)
                    if value is _FAIL:
                        return _FAIL
            rest = self.cached(
                "rest", schema, lambda: {k: v for k, v in schema.items() if k not in _UNIONS}
            )
            return self.run(value, rest, depth) if rest else value
        for sub in schema.get("allOf", ()):
            value = self.run(value, sub, depth + 1)
            if value is _FAIL:
                return _FAIL
        if "enum" in schema and isinstance(schema["enum"], list):
            return self.enum(value, schema["enum"])
        if "const" in schema:
            return self.enum(value, [schema["const"]])
        types = schema.get("type")
        if isinstance(types, list):
            if len(types) == 1:
                types = types[0]
            else:
                return self.union(value, self.type_branches(schema, types), depth)
        if types is None:
            if "properties" in schema or "required" in schema:
                types = "object" if isinstance(value, dict) else None
            elif "items" in schema or "prefixItems" in schema:
                types = "array" if isinstance(value, list) else None
            if types is None:
                return self.final(value)
        if types == "object":
            return self.object(value, schema, depth)
        if types == "array":
            return self.array(value, schema, depth)
        if types == "string":
            return self.string(value)
        if types == "integer":
            return self.integer(value)
        if types == "number":
            return self.number(value)
        if types == "boolean":
            return self.boolean(value)
        if types == "null":
            return self.null(value)
        return self.final(value)

    def branch_types(self, branch: Any) -> set[str] | None:
        """JSON types a branch admits, or ``None`` when it does not say (any may fit)."""
        return self.cached("btypes", branch, lambda: self._branch_types(branch, 0))  # type: ignore[no-any-return]

    def _branch_types(self, branch: Any, depth: int) -> set[str] | None:
        branch = self.deref(branch)
        if not isinstance(branch, dict) or depth > 8:
            return None
        t = branch.get("type")
        if isinstance(t, str):
            return {t, "number"} if t == "integer" else {t}
        if isinstance(t, list) and all(isinstance(x, str) for x in t):
            return set(t) | ({"number"} if "integer" in t else set())
        members = branch.get("enum") if "enum" in branch else None
        if "const" in branch:
            members = [branch["const"]]
        if isinstance(members, list):
            found: set[str] = set()
            for m in members:
                found |= _types_of(m)
            return found
        subs = branch.get("anyOf") or branch.get("oneOf")
        if isinstance(subs, list) and subs:
            found = set()
            for sub in subs:
                got = self._branch_types(sub, depth + 1)
                if got is None:
                    return None
                found |= got
            return found
        if "properties" in branch or "additionalProperties" in branch:
            return {"object"}
        if "items" in branch or "prefixItems" in branch:
            return {"array"}
        return None

    def simple_type(self, branch: Any) -> str | None:
        """``T`` when the branch says only ``type: T`` (validity is then its type)."""
        return self.cached("simple", branch, lambda: _simple_type(self.deref(branch)))  # type: ignore[no-any-return]

    def order(self, branches: list[Any], have: frozenset[str]) -> list[Any]:
        """Branches whose type fits ``have`` first (in schema order), then the others."""
        key = (id(branches), have)
        hit = self.orders.get(key)
        if hit is None:
            fitting: list[Any] = []
            others: list[Any] = []
            for branch in branches:
                admits = self.branch_types(branch)
                (fitting if admits is None or admits & have else others).append(branch)
            hit = (branches, fitting + others)
            self.orders[key] = hit
        return hit[1]

    def union(self, value: Any, branches: list[Any], depth: int) -> Any:
        # branches whose type fits the value as written first: a clean fit needs no
        # coercion, and a document that validates as written never pays for the others
        first: tuple[Any, list[str]] | None = None
        for branch in self.order(branches, _types_of(value)):
            saved, self.fired = self.fired, []
            try:
                trial = self.run(value, branch, depth + 1)
                scratch = self.fired
            finally:
                self.fired = saved
            if trial is _FAIL:
                continue
            simple = self.simple_type(branch)
            if not (_has_type(trial, simple) if simple else self.valid(branch, trial)):
                continue
            if not scratch:
                return trial
            if first is None:
                first = (trial, scratch)
        if first is not None:
            for name in first[1]:
                self.fire(name)
            return first[0]
        return self.final(value)

    def enum(self, value: Any, members: list[Any]) -> Any:
        natural = _core_or_text(value) if isinstance(value, Plain) else value
        if natural is None:
            return None  # null is never turned into a member that is not null
        for m in members:
            if (natural == m and type(natural) is type(m)) or (
                _is_number(natural) and _is_number(m) and natural == m
            ):
                return natural
        if isinstance(value, Plain):
            for m in members:
                if isinstance(m, str) and m == value:
                    return m if not isinstance(value, JsonNumber) else self.fired_as(m)
        text = str(natural).strip() if not isinstance(natural, (dict, list)) else None
        if text is None:
            return natural
        if isinstance(natural, bool):
            text = "true" if natural else "false"
        norm = " ".join(text.replace("_", " ").replace("-", " ").split()).casefold()
        for m in members:
            if isinstance(m, str):
                if " ".join(m.replace("_", " ").replace("-", " ").split()).casefold() == norm:
                    self.fire("coerce_enum")
                    return m
            elif m is None:
                if norm in _NULL_WORDS:
                    self.fire("coerce_enum")
                    return None
            elif isinstance(m, bool):
                if (norm in _TRUE_WORDS and m) or (norm in _FALSE_WORDS and not m):
                    self.fire("coerce_enum")
                    return m
            elif _is_number(m) and text == str(m):
                self.fire("coerce_enum")
                return m
        return natural

    def fired_as(self, member: Any) -> Any:
        self.fire("coerce_enum")
        return member

    def string(self, value: Any) -> Any:
        if isinstance(value, JsonNumber):
            self.fire("coerce_string")  # JSON wrote a number: the text it wrote
            return str(value)
        if isinstance(value, Plain):
            if _core_or_text(value) is None:
                return None  # `key:` or `key: null` is no value, never ""
            return str(value)
        if isinstance(value, str) or value is None or isinstance(value, (dict, list)):
            return value
        self.fire("coerce_string")
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def integer(self, value: Any) -> Any:
        if isinstance(value, Plain):
            n = _core_or_text(value)
            if isinstance(n, float) and math.isfinite(n) and n.is_integer():
                return int(n)
            if not isinstance(n, str) or isinstance(value, JsonNumber):
                return n
            value = str(value)
        if _is_number(value) or not isinstance(value, str):
            return value
        s = value.strip()
        if _INT_TEXT.match(s):
            self.fire("coerce_integer")
            return to_int(s)
        if _THOUSANDS.match(s):
            s = s.replace(",", "").replace("_", "")
        if _FLOAT_TEXT.match(s):
            f = _finite_float(s)
            if f is not None and f.is_integer():
                self.fire("coerce_integer")
                return int(f)
        return value

    def number(self, value: Any) -> Any:
        if isinstance(value, Plain):
            n = _core_or_text(value)
            if not isinstance(n, str) or isinstance(value, JsonNumber):
                return n
            value = str(value)
        if not isinstance(value, str):
            return value
        s = value.strip()
        if _THOUSANDS.match(s):
            s = s.replace(",", "").replace("_", "")
        if _FLOAT_TEXT.match(s):
            if _INT_TEXT.match(s):
                self.fire("coerce_number")
                return to_int(s)
            f = _finite_float(s)
            if f is not None:  # `1e400` stays text, and fails: never infinity
                self.fire("coerce_number")
                return f
        return value

    def boolean(self, value: Any) -> Any:
        natural = _core_or_text(value) if isinstance(value, Plain) else value
        if isinstance(natural, bool):
            return natural
        if isinstance(natural, str):
            s = natural.strip().casefold()
            if s in _TRUE_WORDS:
                self.fire("coerce_boolean")
                return True
            if s in _FALSE_WORDS:
                self.fire("coerce_boolean")
                return False
        return natural

    def null(self, value: Any) -> Any:
        natural = _core_or_text(value) if isinstance(value, Plain) else value
        if natural is None:
            return None
        if isinstance(natural, str) and natural.strip().casefold() in _NULL_WORDS:
            self.fire("coerce_null")
            return None
        return natural

    def array(self, value: Any, schema: dict[str, Any], depth: int) -> Any:
        if not isinstance(value, list):
            if value is None or (isinstance(value, Plain) and _core_or_text(value) is None):
                return None
            if isinstance(value, Folded):
                # lines YAML joined into one text: items, or one text? two readings
                return self.final(value)
            if isinstance(value, dict) and any(
                (isinstance(k, str) and (_DASH_LED.match(k) or _HOLDS_JSON.search(k)))
                or (isinstance(v, str) and _HOLDS_JSON.search(v))
                for k, v in value.items()
            ):
                # `-"Note: x"` (a glued item) or `Here it is -> ["a: b"]` (a list after
                # prose) read as a mapping: never wrapped as one item
                return self.final(value)
            if isinstance(value, str):
                s = value.strip()
                if _DASH_LED.match(s) or (not s.startswith("[") and _HOLDS_JSON.search(s)):
                    # `tags:\n  -blue`: an item that lost its space, or a text that
                    # starts with a dash? `Here it is -> ["a", "b"]`: a list after prose.
                    # Never wrapped as one item
                    return self.final(value)
                if "\n" in s:
                    # a text of several lines (a `|` block, a payload inside prose): its
                    # lines may be the items or one text, so it is never one item
                    return self.final(value)
                if s.startswith("[") and s.endswith("]"):
                    parsed = self.embedded(s, list)
                    if parsed is not None:
                        return self.array(parsed, schema, depth)
                items_schema = self.deref(schema.get("items", {}))
                if "," in s and isinstance(items_schema, dict):
                    parts = [p.strip() for p in s.split(",") if p.strip()]
                    if not _all_members(parts, items_schema):
                        # `labels: bug, crash` of free text: one item or two? a guess
                        return self.final(value)
                    self.fire("split_list")
                    value = [Plain(p) if isinstance(value, Plain) else p for p in parts]
                    return self.array(value, schema, depth)
            self.fire("wrap_list")
            value = [value]
        prefix = schema.get("prefixItems")
        items = schema.get("items")
        if isinstance(prefix, list) and prefix:
            out = [
                self.run(v, prefix[i], depth + 1)
                if i < len(prefix)
                else self.run(v, items if items is not None else {}, depth + 1)
                for i, v in enumerate(value)
            ]
        elif items is None or items is True:
            return [self.final(v) for v in value]
        else:
            out = [self.run(v, items, depth + 1) for v in value]
        return _FAIL if any(v is _FAIL for v in out) else out

    def embedded(self, text: str, kind: type) -> Any:
        """The ``kind`` (dict or list) written as JSON inside a string, with the repairs
        that reading it took; ``None`` where it is not one."""
        read = _parse_embedded(text)
        if read is None or not isinstance(read[0], kind):
            return None
        self.fire("parse_embedded")
        for name in read[1]:
            self.fire(name)
        return read[0]

    def keymap(self, props: dict[str, Any]) -> dict[str, str | None]:
        """Normalised name → property (``None`` where two properties share one)."""
        hit = self.keymaps.get(id(props))
        if hit is None:
            m: dict[str, str | None] = {}
            for name in props:
                norm = normalize_key(name)
                m[norm] = None if norm in m else name
            hit = (props, m)
            self.keymaps[id(props)] = hit
        return hit[1]

    def object(self, value: Any, schema: dict[str, Any], depth: int) -> Any:
        if not isinstance(value, dict):
            if isinstance(value, str) and value.strip().startswith("{"):
                parsed = self.embedded(value.strip(), dict)
                if parsed is not None:
                    return self.object(parsed, schema, depth)
            if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
                self.fire("unwrap_list")
                return self.object(value[0], schema, depth)
            return self.final(value)
        props: Any = schema.get("properties") or {}
        if not isinstance(props, dict):
            props = {}
        extra = schema.get("additionalProperties")
        if props and any(k not in props for k in value):
            value = self.match_keys(value, props, extra)
        out: dict[str, Any] = {}
        for k, v in value.items():
            sub = props.get(k)
            if sub is not None:
                out[k] = self.run(v, sub, depth + 1)
            elif isinstance(extra, dict):
                out[k] = self.run(v, extra, depth + 1)
            else:
                out[k] = self.final(v)
            if out[k] is _FAIL:
                return _FAIL
        for name, sub in props.items():
            if name in out:
                continue  # present, null included: never replaced by a default
            sub = self.deref(sub)
            if isinstance(sub, dict) and "default" in sub:
                out[name] = copy.deepcopy(sub["default"])
                self.fire("fill_default")
        return out

    def match_keys(
        self, value: dict[str, Any], props: dict[str, Any], extra: Any
    ) -> dict[str, Any]:
        keymap = self.keymap(props)
        claims: dict[str, list[Any]] = {}
        for k in value:
            if k not in props:
                target = keymap.get(normalize_key(str(k)))
                if target is not None and target not in value:
                    claims.setdefault(target, []).append(k)
        renames = {ks[0]: t for t, ks in claims.items() if len(ks) == 1}  # unambiguous only
        stray = [k for k in value if k not in props and k not in renames]
        closed = extra is not True and not isinstance(extra, dict)
        if not self.rename:
            if renames or (stray and closed and self.renest(dict(value), stray, props, True)):
                self.rename_wanted = True
            return value
        out: dict[str, Any] = {}
        for k, v in value.items():
            if k in renames:
                out[renames[k]] = v
                self.fire("coerce_key")
            else:
                out[k] = v
        if stray and closed:
            moved = self.renest(out, stray, props)
            assert isinstance(moved, dict)
            out = moved
        return out

    def renest(
        self, value: dict[str, Any], stray: list[str], props: dict[str, Any], probe: bool = False
    ) -> dict[str, Any] | bool:
        """Move stray keys under the empty property whose properties they are.

        `address:` followed by its keys at the same indentation loads as siblings. With
        ``probe``, only say whether some key would move.
        """
        for name, sub in props.items():
            if _natural(value.get(name)) is not None:
                continue
            sub = self.deref(sub)
            if not isinstance(sub, dict):
                continue
            inner = self.deref(sub.get("properties")) or {}
            if not inner and isinstance(sub.get("anyOf"), list):
                for b in sub["anyOf"]:
                    b = self.deref(b)
                    if isinstance(b, dict) and b.get("properties"):
                        inner = b["properties"]
                        break
            if not isinstance(inner, dict) or not inner:
                continue
            keymap = self.keymap(inner)
            moving = [k for k in stray if k in inner or keymap.get(normalize_key(str(k)))]
            if not moving or name not in value:
                continue
            if probe:
                return True
            self.fire("renest_keys")
            nested = {k: value.pop(k) for k in moving}
            value[name] = nested
            stray = [k for k in stray if k not in moving]
        return False if probe else value


_UNIONS = ("anyOf", "oneOf")


def _all_members(parts: list[str], items: dict[str, Any]) -> bool:
    """Is every comma-separated part one of the items' enum values (case aside)? Then
    the text can only be several items; free text may be one item with a comma."""
    members = items.get("enum")
    if not isinstance(members, list) or len(parts) < 2:
        return False
    names = {m.casefold() for m in members if isinstance(m, str)}
    return all(p.casefold() in names for p in parts)


def _parse_embedded(text: str) -> tuple[Any, list[str]] | None:
    """A JSON document written inside a string (tool-call arguments encoded twice), read
    by the JSON repair engine: its value and the repairs it took, or ``None``.

    One whole value only: never a cut one completed, nor YAML's own reading of the text
    (which types ``undefined``, ``NO`` or ``1.10`` before the schema is asked).
    """
    from llmkit.structured._json_repair import only_root_open, repair_json
    from llmkit.structured._load import LoadFailure, load_json

    read = repair_json(text)
    if read is None or len(read.values) != 1 or read.cut_inside or read.trailing.strip():
        return None
    if read.truncated and not only_root_open(read, text, False):
        return None
    try:
        loaded = load_json(read.values[0], typed=True)
    except (LoadFailure, UnsafeInputError):
        return None
    return loaded.value, [*read.repairs, *loaded.fired]


def _resolve(value: Any, compiled: CompiledSchema) -> Any:
    """``value`` with its markers resolved by the core schema, or ``_FAIL`` where the
    schema could type a YAML plain scalar otherwise (see :func:`_core_typing_agrees`)."""
    stack: list[Any] = [value]
    markers = plain = False
    while stack:
        v = stack.pop()
        t = type(v)
        if t is dict:
            stack.extend(v.values())
        elif t is list:
            stack.extend(v)
        elif t is JsonNumber:
            markers = True
        elif t is Plain:
            markers = plain = True
    if not markers:
        return _FAIL if _declares_defaults(compiled.schema) else value
    if plain and not _core_typing_agrees(compiled.schema):
        return _FAIL
    if _declares_defaults(compiled.schema):
        return _FAIL  # a missing property may take its default: the walk decides
    try:
        return finalize(value)
    except UnsafeInputError:
        return _FAIL


_AGREES: dict[int, tuple[Any, bool]] = {}
_DEFAULTS: dict[int, tuple[Any, bool]] = {}


def _declares_defaults(schema: dict[str, Any]) -> bool:
    """Whether some subschema of the schema declares a ``default``."""
    hit = _DEFAULTS.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    found = False
    stack: list[Any] = [v for v in schema.values() if isinstance(v, (dict, list))]
    while stack and not found:
        node = stack.pop()
        if isinstance(node, dict):
            found = "default" in node
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(node)
    if len(_DEFAULTS) > 256:
        _DEFAULTS.clear()
    _DEFAULTS[id(schema)] = (schema, found)
    return found


def _core_typing_agrees(schema: dict[str, Any]) -> bool:
    """Whether typing plain scalars by the core schema is what coercion would do too.

    It is, unless some union lists a branch that takes text before a branch that takes
    a number, boolean or null (``anyOf: [{type: string}, {type: integer}]`` makes
    ``5`` the text "5"): coercion tries branches in order, the core schema does not.
    """
    hit = _AGREES.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    probe = _Coercer.__new__(_Coercer)
    probe.root = schema
    probe.derived = {}
    agrees = True
    stack: list[Any] = [schema]
    seen = 0
    while stack and agrees and seen < 20_000:
        node = stack.pop()
        seen += 1
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        unions = [node.get("anyOf"), node.get("oneOf")]
        t = node.get("type")
        if isinstance(t, list):
            unions.append([{"type": x} for x in t])
        for branches in unions:
            if not isinstance(branches, list):
                continue
            text_seen = False
            for branch in branches:
                admits = probe._branch_types(branch, 0)
                if text_seen and (admits is None or admits - {"string", "object", "array"}):
                    agrees = False
                if admits is not None and "string" in admits:
                    text_seen = True
    if len(_AGREES) > 256:
        _AGREES.clear()
    _AGREES[id(schema)] = (schema, agrees)
    return agrees


@dataclass(frozen=True)
class CoercionStats:
    """What one coercion cost (the complexity tests read it).

    Attributes:
        steps: (value node, subschema) pairs coerced, each once.
        passes: 0 when the JSON document validated as written (nothing to coerce), 1,
            or 2 when keys were renamed in a second pass.
    """

    steps: int
    passes: int


def schema_walker(compiled: CompiledSchema) -> Any:
    """An object with ``root``, ``deref(schema)`` and ``branch_types(schema)`` for
    ``compiled``: the coercer's own reading of references and types, for callers that
    follow a path into the schema before any value exists."""
    return _Coercer(compiled, rename=False)


def coerce(
    value: Any,
    compiled: CompiledSchema | None,
    fired: list[str],
    stats: list[CoercionStats] | None = None,
) -> Any:
    """Coerce ``value`` to ``compiled`` (or only resolve Plain markers when ``None``).

    Keys are renamed (and stray keys re-nested) only in a second pass, taken when the
    first pass found candidates and its result does not validate, and kept only when the
    renamed value validates.

    Args:
        value: loaded value (may contain :class:`Plain` markers).
        compiled: the schema.
        fired: names of coercions that fired are appended here.
        stats: when given, a :class:`CoercionStats` is appended.

    Returns:
        The coerced value, free of :class:`Plain` markers.
    """
    if compiled is None:
        return finalize(value)
    if isinstance(value, Folded) and compiled.is_valid(value.source):
        # a whole answer of several plain lines, where text is asked: the text as written
        # (YAML would join the lines with spaces: a text that appears nowhere)
        value = value.source
    resolved = _resolve(value, compiled)
    if resolved is not _FAIL and compiled.is_valid(resolved):
        # valid as loaded (plain scalars typed by the YAML 1.2 core schema, where that is
        # what the schema would choose too): nothing to coerce
        if stats is not None:
            stats.append(CoercionStats(0, 0))
        return resolved
    from llmkit.structured._schema import validation_memo  # loaded with the schema

    with validation_memo():
        first = _Coercer(compiled, rename=False)
        out = first.run(value, compiled.schema, 0)
        if out is _FAIL:
            out = finalize(value)
        chosen, passes, steps = first, 1, first.calls
        if first.rename_wanted and not compiled.is_valid(out):
            second = _Coercer(compiled, rename=True)
            renamed = second.run(value, compiled.schema, 0)
            passes, steps = 2, steps + second.calls
            if renamed is not _FAIL and compiled.is_valid(renamed):
                out, chosen = renamed, second
    for name in chosen.fired:
        if name not in fired:
            fired.append(name)
    if stats is not None:
        stats.append(CoercionStats(steps, passes))
    return out
