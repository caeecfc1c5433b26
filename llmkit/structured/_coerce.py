"""Fit a loaded value to its schema, recording every coercion like a repair.

The rule that keeps valid answers untouched: a coercion only happens where the value does
not already have the type the schema asks for. YAML plain scalars arrive as :class:`Plain`
text and take the schema's type from the text the model wrote (``version: 1.10`` stays
``"1.10"`` under ``type: string``); typing by the schema is not a coercion, changing a
value the model wrote with another type is.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from llmkit.structured._load import Plain, resolve_core, to_int
from llmkit.structured._rules import F, register_rule
from llmkit.structured._schema import CompiledSchema

__all__ = ["coerce", "finalize", "normalize_key"]

_MAX_DEPTH = 200
_NULL_WORDS = frozenset(["null", "none", "nil", "~", "", "n/a"])
# where the schema says boolean: true/false/yes/no, any case, and nothing else (`on`, `y`,
# `1` stay what they are and fail validation rather than become a guess)
_TRUE_WORDS = frozenset(["true", "yes"])
_FALSE_WORDS = frozenset(["false", "no"])
_INT_TEXT = re.compile(r"[-+]?\d+\Z")
_THOUSANDS = re.compile(r"[-+]?\d{1,3}(?:[,_]\d{3})+(?:\.\d+)?\Z")
_FLOAT_TEXT = re.compile(r"[-+]?(?:\d++(?:\.\d*+)?+|\.\d++)(?:[eE][-+]?\d++)?+\Z")
_KEY_JUNK = re.compile(r"[\s_\-.\"'“”‘’`*]+")


def normalize_key(key: str) -> str:
    """`"Order ID"`, `order_id`, `orderId`, `ORDER-ID` → `orderid`."""
    return _KEY_JUNK.sub("", key).casefold()


def _rule(name: str, error_class: str, hint: str) -> Callable[[F], F]:
    return register_rule(name, phase="coerce", error_class=error_class, hint=hint)


@_rule("coerce_string", "number or boolean where text was asked", "Write text values as text.")
def _doc_string() -> None:
    """`{"zip": 1234}` with `zip: {type: string}` → `{"zip": "1234"}`"""


@_rule("coerce_integer", "integer written as text", "Write integers as bare digits: `count: 3`.")
def _doc_integer() -> None:
    """`count: "1,200"` with `type: integer` → `1200`"""


@_rule("coerce_number", "number written as text", "Write numbers as bare digits: `price: 9.5`.")
def _doc_number() -> None:
    """`price: "9.50"` with `type: number` → `9.5`"""


@_rule("coerce_boolean", "boolean written as yes/no or text", "Write booleans as true or false.")
def _doc_boolean() -> None:
    """`active: yes` with `type: boolean` → `true` (only where the schema says boolean)"""


@_rule("coerce_null", "null written as text", "Write a missing value as null.")
def _doc_null() -> None:
    """`"None"` / `"null"` / `"N/A"` where only null fits → `null`"""


@_rule(
    "coerce_enum",
    "enum value with other case or spacing",
    "Use one of the allowed values exactly as listed.",
)
def _doc_enum() -> None:
    """`priority: High` with `enum: [low, medium, high]` → `"high"`"""


@_rule(
    "coerce_key",
    "key with other case or snake/camel spelling",
    "Use the field names exactly as given.",
)
def _doc_key() -> None:
    """`{"OrderId": 7}` with property `order_id` → `{"order_id": 7}`"""


@_rule(
    "wrap_list",
    "single value where a list was asked",
    "Always write a list for list fields, even with one item.",
)
def _doc_wrap() -> None:
    """`tags: urgent` with `type: array` → `["urgent"]`"""


@_rule(
    "split_list",
    "comma-separated text where a list was asked",
    "Write list fields as YAML lists (`- item` lines), not comma-separated text.",
)
def _doc_split() -> None:
    """`tags: a, b, c` with `type: array` of strings → `["a", "b", "c"]`"""


@_rule(
    "unwrap_list",
    "object wrapped in a one-item list",
    "Write an object field as a mapping, not a list.",
)
def _doc_unwrap() -> None:
    """`[{"a": 1}]` where an object is asked → `{"a": 1}`"""


@_rule(
    "parse_embedded",
    "structure written as a quoted string",
    "Do not quote nested objects or lists.",
)
def _doc_embedded() -> None:
    """`address: '{"city": "Oslo"}'` with `type: object` → `{"city": "Oslo"}`"""


@_rule("fill_default", "required field missing or null", "Fill in every required field.")
def _doc_default() -> None:
    """`{}` with required `lang` (default `"en"`) → `{"lang": "en"}`"""


@_rule(
    "renest_keys",
    "nested keys written at the parent's indentation",
    "Indent the keys of a nested object under its parent key.",
)
def _doc_renest() -> None:
    """`address:\\nstreet: x` (street not indented) → `{"address": {"street": "x"}}`"""


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


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class _Coercer:
    def __init__(self, compiled: CompiledSchema, fired: list[str]) -> None:
        self.root = compiled.schema
        self.validator = compiled.validator
        self.fired = fired
        self.branch_validators: dict[int, Any] = {}
        self.keymaps: dict[int, dict[str, str]] = {}

    def fire(self, name: str) -> None:
        if name not in self.fired:
            self.fired.append(name)

    def deref(self, schema: Any) -> Any:
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
                else:
                    return {}
            if len(schema) > 1:  # sibling keywords next to $ref (2020-12 allows them)
                merged = {k: v for k, v in schema.items() if k != "$ref"}
                return {**target, **merged} if isinstance(target, dict) else merged
            schema = target
        return schema

    def branch_valid(self, schema: Any, value: Any) -> bool:
        key = id(schema)
        v = self.branch_validators.get(key)
        if v is None:
            v = self.validator.evolve(schema=schema)
            self.branch_validators[key] = v
        try:
            return bool(v.is_valid(value))
        except Exception:  # unresolvable refs and the like: not a match
            return False

    def run(self, value: Any, schema: Any, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            return finalize(value)
        schema = self.deref(schema)
        if not isinstance(schema, dict) or not schema:
            return finalize(value)
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches:
            value = self.union(value, branches, depth)
            rest = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
            return self.run(value, rest, depth) if rest else value
        for sub in schema.get("allOf", ()):
            value = self.run(value, sub, depth + 1)
        if "enum" in schema:
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
                return finalize(value)
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
        return finalize(value)

    def type_branches(self, schema: dict[str, Any], types: list[Any]) -> list[Any]:
        key = id(schema)
        cached = self.branch_validators.get(-key)
        if cached is None:
            cached = [{**schema, "type": t} for t in types]
            self.branch_validators[-key] = cached
        return list(cached)

    def union(self, value: Any, branches: list[Any], depth: int) -> Any:
        first: tuple[Any, list[str]] | None = None
        for branch in branches:
            scratch: list[str] = []
            saved, self.fired = self.fired, scratch
            try:
                trial = self.run(value, branch, depth + 1)
            finally:
                self.fired = saved
            if self.branch_valid(branch, trial):
                if not scratch:
                    return trial
                if first is None:
                    first = (trial, scratch)
        if first is not None:
            for name in first[1]:
                self.fire(name)
            return first[0]
        return finalize(value)

    def enum(self, value: Any, members: list[Any]) -> Any:
        natural = _natural(value)
        for m in members:
            if (natural == m and type(natural) is type(m)) or (
                _is_number(natural) and _is_number(m) and natural == m
            ):
                return natural
        if isinstance(value, Plain):
            for m in members:
                if isinstance(m, str) and m == value:
                    return m
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

    def string(self, value: Any) -> Any:
        if isinstance(value, Plain):
            if value in ("~", "null", "Null", "NULL"):
                return None
            return str(value)
        if isinstance(value, str) or value is None or isinstance(value, (dict, list)):
            return value
        self.fire("coerce_string")
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
            return str(value)
        return str(value)

    def integer(self, value: Any) -> Any:
        if isinstance(value, Plain):
            n = resolve_core(value)
            if isinstance(n, float) and math.isfinite(n) and n.is_integer():
                return int(n)
            if not isinstance(n, str):
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
            f = float(s)
            if math.isfinite(f) and f.is_integer():
                self.fire("coerce_integer")
                return int(f)
        return value

    def number(self, value: Any) -> Any:
        if isinstance(value, Plain):
            n = resolve_core(value)
            if not isinstance(n, str):
                return n
            value = str(value)
        if not isinstance(value, str):
            return value
        s = value.strip()
        if _THOUSANDS.match(s):
            s = s.replace(",", "").replace("_", "")
        if _FLOAT_TEXT.match(s):
            self.fire("coerce_number")
            return to_int(s) if _INT_TEXT.match(s) else float(s)
        return value

    def boolean(self, value: Any) -> Any:
        natural = _natural(value)
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
        natural = _natural(value)
        if natural is None:
            return None
        if isinstance(natural, str) and natural.strip().casefold() in _NULL_WORDS:
            self.fire("coerce_null")
            return None
        return natural

    def array(self, value: Any, schema: dict[str, Any], depth: int) -> Any:
        if not isinstance(value, list):
            if value is None:
                return value
            if isinstance(value, str):
                s = value.strip()
                if s.startswith("[") and s.endswith("]"):
                    parsed = _parse_embedded(s)
                    if isinstance(parsed, list):
                        self.fire("parse_embedded")
                        return self.array(parsed, schema, depth)
                items_schema = self.deref(schema.get("items", {}))
                if (
                    "," in s
                    and isinstance(items_schema, dict)
                    and (items_schema.get("type") == "string" or "enum" in items_schema)
                ):
                    self.fire("split_list")
                    value = [
                        Plain(p.strip()) if isinstance(value, Plain) else p.strip()
                        for p in s.split(",")
                        if p.strip()
                    ]
                    return self.array(value, schema, depth)
            self.fire("wrap_list")
            value = [value]
        prefix = schema.get("prefixItems")
        items = schema.get("items")
        if prefix:
            out = [
                self.run(v, prefix[i], depth + 1)
                if i < len(prefix)
                else self.run(v, items if items is not None else {}, depth + 1)
                for i, v in enumerate(value)
            ]
            return out
        if items is None or items is True:
            return [finalize(v, depth + 1) for v in value]
        return [self.run(v, items, depth + 1) for v in value]

    def keymap(self, props: dict[str, Any]) -> dict[str, str]:
        key = id(props)
        m = self.keymaps.get(key)
        if m is None:
            m = {}
            for name in props:
                m.setdefault(normalize_key(name), name)
            self.keymaps[key] = m
        return m

    def object(self, value: Any, schema: dict[str, Any], depth: int) -> Any:
        if not isinstance(value, dict):
            if isinstance(value, str) and value.strip().startswith("{"):
                parsed = _parse_embedded(value.strip())
                if isinstance(parsed, dict):
                    self.fire("parse_embedded")
                    return self.object(parsed, schema, depth)
            if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
                self.fire("unwrap_list")
                return self.object(value[0], schema, depth)
            return finalize(value)
        props: dict[str, Any] = schema.get("properties") or {}
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
                out[k] = finalize(v, depth + 1)
        required = schema.get("required") or ()
        for name in required:
            sub = self.deref(props.get(name))
            if (
                isinstance(sub, dict)
                and "default" in sub
                and out.get(name) is None
                and (name not in out or not self.branch_valid(sub, None))
            ):
                out[name] = sub["default"]
                self.fire("fill_default")
        return out

    def match_keys(
        self, value: dict[str, Any], props: dict[str, Any], extra: Any
    ) -> dict[str, Any]:
        keymap = self.keymap(props)
        out: dict[str, Any] = {}
        stray: list[str] = []
        for k, v in value.items():
            if k in props:
                out[k] = v
                continue
            target = keymap.get(normalize_key(str(k)))
            if target is not None and target not in value and target not in out:
                out[target] = v
                self.fire("coerce_key")
            else:
                out[k] = v
                stray.append(k)
        if stray and extra is not True and not isinstance(extra, dict):
            out = self.renest(out, stray, props)
        return out

    def renest(
        self, value: dict[str, Any], stray: list[str], props: dict[str, Any]
    ) -> dict[str, Any]:
        # `address:` followed by its keys at the same indentation loads as siblings
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
            if not inner:
                continue
            keymap = self.keymap(inner)
            moving = [k for k in stray if k in inner or normalize_key(str(k)) in keymap]
            if not moving or name not in value:
                continue
            self.fire("renest_keys")
            nested = {k: value.pop(k) for k in moving}
            value[name] = nested
            stray = [k for k in stray if k not in moving]
        return value


def _parse_embedded(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        from llmkit.structured._load import load_yaml

        return load_yaml(text).value
    except Exception:
        return None


def coerce(value: Any, compiled: CompiledSchema | None, fired: list[str]) -> Any:
    """Coerce ``value`` to ``compiled`` (or only resolve Plain markers when ``None``).

    Args:
        value: loaded value (may contain :class:`Plain` markers).
        compiled: the schema.
        fired: names of coercions that fired are appended here.

    Returns:
        The coerced value, free of :class:`Plain` markers.
    """
    if compiled is None:
        return finalize(value)
    return _Coercer(compiled, fired).run(value, compiled.schema, 0)
