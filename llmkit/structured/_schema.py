"""Schemas: JSON Schema dicts, pydantic models and dataclasses, compiled once and cached.

A compiled schema holds the JSON Schema, a prebuilt validator (building one is the
expensive part of ``jsonschema.validate``) and, for classes, how to build the instance from
a validated value. Dataclasses go through pydantic's ``TypeAdapter`` both ways, so
``tuple[int, str]`` is the pair it says, not a list of integers.

Validation is fast and costs polynomial time on any schema:

* ``jsonschema-rs`` (compiled, Draft 2020-12) validates the document and, through a map
  of every subschema by JSON pointer, the union branches the coercer tries; about a
  thousand times faster than ``jsonschema`` on recursive schemas.
* Where it cannot (a value of a type it does not take, a regex it does not read), the
  pure-Python ``jsonschema`` decides. That one checks every branch of an ``anyOf`` or
  ``oneOf`` by descending into the whole subtree, again at every level of a recursive
  schema: exponential in the depth of the document. Our validator class keeps its
  keywords but answers "is this value valid under this branch" from a memo keyed by
  (value node, subschema), filled once per call, and rejects a branch whose ``type`` does
  not fit before descending into it.

``jsonschema`` itself (~45 ms to import) is imported only where a schema needs it: a
meta-schema check ``jsonschema-rs`` cannot vouch for, or a validation it cannot decide.
The first parse against a plain schema never loads it.
"""

from __future__ import annotations

import math
import reprlib
import sys
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, is_dataclass
from functools import cache
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import quote

from llmkit.structured._refs import check_refs, embed_ref_files

# jsonschema's ValidationError, bound by _jsonschema(): the keywords below that make one
# run only inside jsonschema's validators, which that import precedes
ValidationError: Any = None


@cache
def _jsonschema() -> Any:
    """The pure-Python ``jsonschema``, imported on first need (see the module doc)."""
    global ValidationError
    import jsonschema  # type: ignore[import-untyped,unused-ignore]
    from jsonschema.exceptions import (  # type: ignore[import-untyped,unused-ignore]
        ValidationError as error,
    )

    ValidationError = error
    return jsonschema


@cache
def _plain_validator() -> Any:
    """Draft 2020-12 where NaN and infinity are no numbers: JSON has none, and
    ``jsonschema-rs`` (the ``fast`` extra) finds them of no type, so both agree."""
    jsonschema = _jsonschema()
    draft = jsonschema.Draft202012Validator
    checker = draft.TYPE_CHECKER.redefine("number", _finite_number)
    return jsonschema.validators.extend(draft, type_checker=checker)


def _finite_number(checker: Any, instance: Any) -> bool:
    if isinstance(instance, float):
        return math.isfinite(instance)
    return isinstance(instance, int) and not isinstance(instance, bool)


@cache
def _memo_validator() -> Any:
    return _jsonschema().validators.extend(
        _plain_validator(), {"anyOf": _any_of, "oneOf": _one_of, "type": _type}
    )


def __getattr__(name: str) -> Any:
    # the validator classes, made on first use like the rest of jsonschema
    if name == "MemoValidator":
        return _memo_validator()
    if name == "Draft202012Validator":
        return _jsonschema().Draft202012Validator
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@cache
def _rs() -> Any:
    """``jsonschema-rs``, imported with the first schema: a parse without one never pays."""
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - a declared dependency; the slow path still works
        return None
    return jsonschema_rs


__all__ = [
    "CompiledSchema",
    "SchemaIssue",
    "compile_schema",
    "dataclass_schema",
    "format_errors",
    "json_schema_of",
    "load_schema",
    "validation_memo",
]

_CACHE: OrderedDict[int, tuple[Any, CompiledSchema]] = OrderedDict()
_CACHE_SIZE = 256

# (id(value), id(subschema)) -> (value kept alive so its id stays unique, verdict)
_MEMO: ContextVar[dict[tuple[int, int], tuple[Any, bool]] | None] = ContextVar(
    "llmkit_validation_memo", default=None
)
_JUDGING: ContextVar[bool] = ContextVar("llmkit_validation_judging", default=False)
_REPR = reprlib.Repr()
_REPR.maxstring = 80
_REPR.maxother = 80
_REPR.maxlist = _REPR.maxdict = 6
_REPR.maxlevel = 3


@contextmanager
def validation_memo() -> Iterator[None]:
    """Share one validity memo among the validations inside the block.

    The memo is keyed by object identity, so it holds a reference to every value it has
    judged (no id is reused while the block runs) and is dropped at the end of the
    outermost block.
    """
    if _MEMO.get() is not None:
        yield
        return
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "null": (type(None),),
    "number": (int, float),
    "integer": (int, float),
}


def _type_fits(instance: Any, types: Any) -> bool:
    """A quick, conservative check: ``False`` only when the type surely does not fit."""
    for t in types if isinstance(types, list) else [types]:
        allowed = _JSON_TYPES.get(t) if isinstance(t, str) else None
        if allowed is None:
            return True  # an unknown type name: let jsonschema decide
        if isinstance(instance, bool) and t not in ("boolean",):
            continue
        if isinstance(instance, float) and not math.isfinite(instance):
            return False  # of no type (see _plain_validator)
        if isinstance(instance, allowed):
            return True
    return False


def memo_valid(validator: Any, instance: Any, schema: Any) -> bool:
    """Is ``instance`` valid under the subschema ``schema`` (memoised within a block)?"""
    if isinstance(schema, dict) and "type" in schema and not _type_fits(instance, schema["type"]):
        return False
    memo = _MEMO.get()
    key = (id(instance), id(schema))
    if memo is not None:
        hit = memo.get(key)
        if hit is not None:
            return hit[1]
    token = _JUDGING.set(True)  # only the verdict counts: no error context to build
    try:
        ok = next(iter(validator.descend(instance, schema)), None) is None
    finally:
        _JUDGING.reset(token)
    if memo is not None:
        memo[key] = (instance, ok)
    return ok


def _none_valid(validator: Any, branches: list[Any], instance: Any) -> Any:
    # The context holds the errors of one branch only (the first whose type fits): enough
    # for ``best_match`` to point inside, without descending into every branch again.
    context: list[Any] = []
    for index, sub in enumerate([] if _JUDGING.get() else branches):
        if isinstance(sub, dict) and "type" in sub and not _type_fits(instance, sub["type"]):
            continue
        context = list(validator.descend(instance, sub, schema_path=index))[:5]
        break
    return ValidationError(
        f"{_REPR.repr(instance)} is not valid under any of the given schemas", context=context
    )


def _any_of(validator: Any, branches: Any, instance: Any, schema: Any) -> Iterator[Any]:
    for sub in branches:
        if memo_valid(validator, instance, sub):
            return
    yield _none_valid(validator, branches, instance)


def _one_of(validator: Any, branches: Any, instance: Any, schema: Any) -> Iterator[Any]:
    valid = [sub for sub in branches if memo_valid(validator, instance, sub)]
    if not valid:
        yield _none_valid(validator, branches, instance)
    elif len(valid) > 1:
        reprs = ", ".join(_REPR.repr(s) for s in valid)
        yield ValidationError(f"{_REPR.repr(instance)} is valid under each of {reprs}")


def _type(validator: Any, types: Any, instance: Any, schema: Any) -> Iterator[Any]:
    # jsonschema's message holds repr(instance): a whole subtree, at every level tried
    names = types if isinstance(types, list) else [types]
    if not any(validator.is_type(instance, t) for t in names):
        reprs = ", ".join(repr(t) for t in names)
        yield ValidationError(f"{_REPR.repr(instance)} is not of type {reprs}")


class _LazyValidator:
    """A schema's pure-Python validator, made on first use: ``jsonschema-rs`` decides
    most values, so most schemas never need it (nor the import of ``jsonschema``)."""

    def __init__(self, schema: Any, plain: bool) -> None:
        self._args = (schema, plain)

    def __getattr__(self, name: str) -> Any:
        schema, plain = self._args
        cls = _plain_validator() if plain else _memo_validator()
        real = cls(schema)
        # bound to the instance: later calls find them without coming back here
        for method in ("is_valid", "iter_errors", "descend", "evolve", "is_type", "schema"):
            setattr(self, method, getattr(real, method))
        return getattr(real, name)


def _check_schema(schema: Any) -> None:
    """Draft 2020-12's meta-schema check, as ``jsonschema``'s ``check_schema`` makes it.

    ``jsonschema-rs`` vouches for a schema it finds valid where the two agree: a mapping
    without a ``$schema`` of another draft (it would check that draft), without regular
    expressions (``jsonschema`` also checks them as Python's) and, where jsonschema has a
    URI library to check references with, never. Anything else, and
    any schema it finds wrong, gets ``jsonschema``'s check and its ``SchemaError``.
    """
    rs = _rs()
    if rs is not None and _rs_vouches_for(schema):
        try:
            if rs.meta.is_valid(schema):
                return
        except Exception:  # a value it does not take: jsonschema decides
            pass
    _jsonschema().Draft202012Validator.check_schema(schema)


_REGEX_KEYWORDS = frozenset(["pattern", "patternProperties"])
_DRAFT_2020_12 = frozenset(
    f"{scheme}://json-schema.org/draft/2020-12/schema{end}"
    for scheme in ("http", "https")
    for end in ("", "#")
)


@cache
def _uri_formats_checked() -> bool:
    """Whether jsonschema's check also reads ``$id``/``$ref``/``$schema`` as URIs: it does
    where one of these libraries is installed (jsonschema's ``format`` extra)."""
    return any(
        find(name, None) is not None
        for name in ("rfc3987", "rfc3986_validator")
        for find in [getattr(f, "find_spec", None) for f in sys.meta_path]  # as importlib
        if find is not None  # .util's find_spec (whose import costs 2 ms) looks them up
    )


def _rs_vouches_for(schema: Any) -> bool:
    if not isinstance(schema, dict) or _uri_formats_checked():
        return False
    stack: list[Any] = [schema]
    while stack:  # bounded: check_refs has refused schemas of too many nodes
        node = stack.pop()
        if isinstance(node, dict):
            if not _REGEX_KEYWORDS.isdisjoint(node):
                return False
            meta = node.get("$schema")
            if meta is not None and meta not in _DRAFT_2020_12:
                return False
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return True


def _needs_plain_validator(schema: Any) -> bool:
    """Schemas whose validity depends on where a subschema is reached: no memo for them."""
    stack, seen = [schema], 0
    while stack and seen < 100_000:
        node = stack.pop()
        seen += 1
        if isinstance(node, dict):
            if "$dynamicRef" in node or "$recursiveRef" in node:
                return True
            if node is not schema and "$id" in node:
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


@dataclass(frozen=True)
class SchemaIssue:
    """One validation error found by the fast validator.

    It has the fields of ``jsonschema``'s ``ValidationError`` that a caller reads, so
    either can come out of :meth:`CompiledSchema.errors`.

    Attributes:
        message: what is wrong, e.g. ``"x" is not of type "integer"``.
        absolute_path: where, as keys and indexes from the root.
        validator: the keyword that failed (``type``, ``required``, ...).
        instance: the value that failed there.
        validator_value: the keyword's value where known (the list of types for
            ``type``), else ``None``.
    """

    message: str
    absolute_path: tuple[str | int, ...]
    validator: str
    instance: Any = None
    validator_value: Any = None

    @property
    def json_path(self) -> str:
        """``$.address.zip`` / ``$.items[0]``, as ``jsonschema`` writes it."""
        out = "$"
        for part in self.absolute_path:
            out += f"[{part}]" if isinstance(part, int) else f".{part}"
        return out


def _pointer_map(schema: Any) -> dict[int, str]:
    """id(subschema) → its URI-fragment JSON pointer, for every mapping in ``schema``."""
    out: dict[int, str] = {}
    stack: list[tuple[Any, str]] = [(schema, "#")]
    while stack and len(out) < 100_000:
        node, ptr = stack.pop()
        if isinstance(node, dict):
            out.setdefault(id(node), ptr)
            for k, v in node.items():
                if isinstance(v, (dict, list)):
                    part = str(k).replace("~", "~0").replace("/", "~1")
                    stack.append((v, f"{ptr}/{quote(part, safe='$~')}"))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                if isinstance(v, (dict, list)):
                    stack.append((v, f"{ptr}/{i}"))
    return out


class _Fast:
    """``jsonschema-rs`` validators for a schema and, built on first use, its subschemas."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.root: Any = _rs().validator_for(schema) if _rs() else None
        self.subs: Any = None
        self.pointers: dict[int, str] | None = None
        self.by_id: dict[int, Any] = {}
        self.shallow: dict[int, tuple[Any, Any]] = {}
        self.broken = self.root is None
        # jsonschema-rs reports an anyOf/oneOf failure with the errors of every branch,
        # recursively: exponential on recursive unions, so errors come from elsewhere
        self.errors_ok = not _has_union(schema)

    def sub_shallow(self, schema: dict[str, Any], own: dict[str, Any]) -> Any:
        """A validator of ``schema``'s own keywords (``own``: no subschemas, no refs)."""
        hit = self.shallow.get(id(schema))
        if hit is None:
            hit = (schema, _rs().validator_for(own))
            self.shallow[id(schema)] = hit
        return hit[1]

    def sub(self, subschema: Any) -> Any:
        """The validator of ``subschema`` (a mapping inside the schema), or ``None``."""
        if self.broken:
            return None
        if self.subs is None:
            try:
                self.subs = _rs().validator_map_for(self.schema)
                self.pointers = _pointer_map(self.schema)
            except Exception:
                self.broken = True
                return None
        hit = self.by_id.get(id(subschema), False)
        if hit is not False:
            return hit
        assert self.pointers is not None
        ptr = self.pointers.get(id(subschema))
        found = None if ptr is None else self.subs.get(ptr)
        self.by_id[id(subschema)] = found  # ids of the schema's own mappings: stable
        return found


def _fast_for(schema: dict[str, Any]) -> _Fast | None:
    try:
        fast = _Fast(schema)
    except Exception:  # a regex or reference it does not read: jsonschema decides alone
        return None
    return None if fast.broken else fast


# keywords that apply subschemas; the rest of a schema judges the value itself
_APPLICATORS = frozenset(
    [
        "properties",
        "patternProperties",
        "additionalProperties",
        "items",
        "prefixItems",
        "contains",
        "anyOf",
        "oneOf",
        "allOf",
        "not",
        "if",
        "then",
        "else",
        "dependentSchemas",
        "propertyNames",
        "unevaluatedProperties",
        "unevaluatedItems",
        "$ref",
        "$dynamicRef",
        "$defs",
        "definitions",
    ]
)
_UNLOCATED = frozenset(
    [
        "patternProperties",
        "contains",
        "not",
        "if",
        "dependentSchemas",
        "propertyNames",
        "unevaluatedProperties",
        "unevaluatedItems",
        "$dynamicRef",
    ]
)


_REF_SIBLINGS = frozenset(
    ["$ref", "$defs", "definitions", "$comment", "$schema", "$id", "title", "description"]
)


class _Locator:
    """Where and why a value fails, found with the fast subschema validators.

    ``jsonschema-rs`` collects the errors of every branch of a failing union, recursively
    (exponential on recursive unions). This walks down instead: at each node it asks the
    fast validators which child or branch fails and goes there, once per level, and
    reports the node's own keywords (type, required, enum, bounds) through a validator of
    the schema without its subschemas. ``None`` where the schema uses keywords it does not
    follow (the memoised ``jsonschema`` then decides).
    """

    def __init__(self, fast: _Fast) -> None:
        self.fast = fast
        self.steps = 0

    def valid(self, schema: Any, value: Any) -> bool | None:
        if schema is True or schema == {}:
            return True
        if schema is False:
            return False
        v = self.fast.sub(schema)
        return None if v is None else bool(v.is_valid(value))

    def target(self, schema: Any) -> Any:
        for _ in range(32):
            if not isinstance(schema, dict) or not schema.keys() <= _REF_SIBLINGS:
                return schema
            ref = schema.get("$ref")
            if not isinstance(ref, str) or not ref.startswith("#"):
                return schema
            node: Any = self.fast.schema
            for part in ref[1:].split("/"):
                if part:
                    part = part.replace("~1", "/").replace("~0", "~")
                    if isinstance(node, dict) and part in node:
                        node = node[part]
                    elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                        node = node[int(part)]
                    else:
                        return schema
            schema = node
        return schema

    def locate(self, value: Any) -> list[SchemaIssue] | None:
        try:
            return self.walk(value, self.fast.schema, (), 0)
        except _Unlocated:
            return None

    def walk(
        self, value: Any, schema: Any, path: tuple[str | int, ...], depth: int
    ) -> list[SchemaIssue]:
        self.steps += 1
        schema = self.target(schema)
        if not isinstance(schema, dict) or depth > 200 or self.steps > 20_000:
            raise _Unlocated
        if set(schema) & _UNLOCATED or "$ref" in schema:
            raise _Unlocated  # a $ref next to other keywords: not followed here
        own = {k: v for k, v in schema.items() if k not in _APPLICATORS}
        if own:
            v = self.fast.sub_shallow(schema, own)
            issues = [_issue(e, path) for e in islice(v.iter_errors(value), 5)]
            if issues:
                return issues
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches:
                found = self.union(value, branches, key, path, depth)
                if found:
                    return found
        for sub in schema.get("allOf") or ():
            if self.valid(sub, value) is False:
                return self.walk(value, sub, path, depth + 1)
        out: list[SchemaIssue] = []
        if isinstance(value, dict):
            props = schema.get("properties") or {}
            extra = schema.get("additionalProperties")
            for k, child in value.items():
                sub = props.get(k, extra) if isinstance(props, dict) else extra
                if sub is None or sub is True:
                    continue
                if sub is False:
                    out.append(
                        SchemaIssue(f"{k!r} is not an allowed property", path, "false", child)
                    )
                elif self.valid(sub, child) is False:
                    out.extend(self.walk(child, sub, (*path, k), depth + 1))
                if len(out) >= 5:
                    break
        elif isinstance(value, list):
            prefix = schema.get("prefixItems") or []
            items = schema.get("items")
            for i, child in enumerate(value):
                sub = prefix[i] if i < len(prefix) else items
                if sub is None or sub is True:
                    continue
                if sub is False:
                    out.append(SchemaIssue(f"item {i} is not allowed", path, "items", child))
                elif self.valid(sub, child) is False:
                    out.extend(self.walk(child, sub, (*path, i), depth + 1))
                if len(out) >= 5:
                    break
        if out:
            return out
        raise _Unlocated  # invalid, but not for any reason followed here

    def union(
        self,
        value: Any,
        branches: list[Any],
        key: str,
        path: tuple[str | int, ...],
        depth: int,
    ) -> list[SchemaIssue]:
        verdicts = [self.valid(b, value) for b in branches]
        if None in verdicts:
            raise _Unlocated
        passing = sum(1 for v in verdicts if v)
        if key == "anyOf" and passing:
            return []
        if key == "oneOf" and passing == 1:
            return []
        here = _LazyRepr(value)
        if passing > 1:
            return [
                SchemaIssue(f"{here} is valid under more than one of the schemas", path, key, value)
            ]
        # blame the branch the value looks like (its own keywords pass: the failure is
        # inside), else the first branch whose type fits
        fallback: Any = None
        for branch in branches:
            target = self.target(branch)
            if not isinstance(target, dict):
                continue
            t = target.get("type")
            if t is not None and not _type_fits(value, t):
                continue
            own = {k: v for k, v in target.items() if k not in _APPLICATORS}
            if not own or self.fast.sub_shallow(target, own).is_valid(value):
                return self.walk(value, branch, path, depth + 1)
            if fallback is None:
                fallback = branch
        if fallback is not None:
            return self.walk(value, fallback, path, depth + 1)
        return [
            SchemaIssue(f"{here} is not valid under any of the given schemas", path, key, value)
        ]


class _LazyRepr:
    """A short repr, made only when a message is (most blamed branches return deeper)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __format__(self, spec: str) -> str:
        return _REPR.repr(self.value)


class _Unlocated(Exception):
    """The schema uses a keyword the locator does not follow."""


def _has_union(schema: Any) -> bool:
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "anyOf" in node or "oneOf" in node:
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _issue(err: Any, prefix: tuple[str | int, ...] = ()) -> SchemaIssue:
    kind = type(err.kind).__name__
    keyword = kind[:1].lower() + kind[1:]
    types = getattr(err.kind, "types", None) if keyword == "type" else None
    return SchemaIssue(
        str(err.message),
        (*prefix, *err.instance_path),
        keyword,
        err.instance,
        list(types) if types is not None else None,
    )


@dataclass(frozen=True)
class CompiledSchema:
    """A schema ready for the pipeline.

    Attributes:
        source: what the caller passed (dict, pydantic model class, dataclass).
        schema: the JSON Schema.
        validator: the validator for ``schema`` (``jsonschema``'s Draft 2020-12
            keywords, with memoised ``anyOf``/``oneOf``), made on first use.
        kind: ``"json"``, ``"pydantic"`` or ``"dataclass"``.
        adapter: the pydantic ``TypeAdapter`` that builds a dataclass instance.
        fast: the ``jsonschema-rs`` validators, or ``None`` where it cannot read the schema.
    """

    source: Any
    schema: dict[str, Any]
    validator: Any
    kind: str
    adapter: Any = None
    fast: Any = None

    def is_valid(self, value: Any) -> bool:
        """Whether ``value`` validates (polynomial time, see the module doc)."""
        if self.fast is not None:
            try:
                # NaN and infinity are no JSON numbers: jsonschema-rs reads them as null
                return bool(self.fast.root.is_valid(value))
            except Exception:  # a value it does not take (a str subclass, a set)
                pass
        with validation_memo():
            try:
                return bool(self.validator.is_valid(value))
            except RecursionError:
                return False

    def subschema_valid(self, subschema: Any, value: Any) -> bool | None:
        """Whether ``value`` is valid under a mapping inside the schema (``None``: unknown)."""
        if self.fast is None:
            return None
        v = self.fast.sub(subschema)
        if v is None:
            return None
        try:
            return bool(v.is_valid(value))
        except Exception:
            return None

    def errors(self, value: Any, limit: int = 5) -> list[Any]:
        """Up to ``limit`` validation errors, most relevant first.

        Each has ``message``, ``json_path`` and ``absolute_path``: a :class:`SchemaIssue`
        from the fast validator, or ``jsonschema``'s ``ValidationError`` where it decided.
        """
        if self.fast is not None:
            try:
                if self.fast.root.is_valid(value):
                    return []
                if not self.fast.errors_ok:
                    located = _Locator(self.fast).locate(value)
                    if located is None:
                        raise ValueError("unions: errors from the memoised validator")
                    return sorted(located, key=_relevance)[:limit]
                issues = [_issue(e) for e in islice(self.fast.root.iter_errors(value), 50)]
                return sorted(issues, key=_relevance)[:limit]
            except Exception:
                pass
        with validation_memo():
            try:
                if self.validator.is_valid(value):
                    return []
                errs = sorted(self.validator.iter_errors(value), key=_relevance)
            except RecursionError:
                return [ValidationError("the schema recurses without end on this value")]
        return errs[:limit]

    def instance(self, value: Any) -> Any:
        """Build what the caller asked for from a validated value."""
        if self.kind == "pydantic":
            return self.source.model_validate(value)
        if self.kind == "dataclass":
            return self.adapter.validate_python(value)
        return value


def _relevance(err: Any) -> tuple[int, int]:
    return (-len(err.absolute_path), 0 if err.validator in ("required", "type") else 1)


def format_errors(errors: list[Any]) -> str:
    """Readable one-line-per-error text: ``$.address.zip: 'x' is not of type 'integer'``."""
    lines = []
    for err in errors:
        path = err.json_path
        message = err.message
        if len(message) > 200:
            message = message[:197] + "..."
        lines.append(f"{path}: {message}")
    return "; ".join(lines)


def compile_schema(schema: Any) -> CompiledSchema | None:
    """Compile (and cache by identity) a schema given as dict, pydantic model or dataclass."""
    if schema is None:
        return None
    if isinstance(schema, CompiledSchema):
        return schema
    key = id(schema)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is schema:
        _CACHE.move_to_end(key)
        return hit[1]
    json_schema, kind = json_schema_of(schema)
    check_refs(json_schema)  # before any validator could fetch a URL or read a file
    _check_schema(json_schema)
    validator = _LazyValidator(json_schema, plain=_needs_plain_validator(json_schema))
    adapter = _adapter(schema) if kind == "dataclass" else None
    fast = _fast_for(json_schema)
    compiled = CompiledSchema(schema, json_schema, validator, kind, adapter, fast)
    _CACHE[key] = (schema, compiled)
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return compiled


def _schema_data(source: str | bytes) -> Any:
    """A schema file's text as data: JSON, else YAML read by the safe 1.2 loader."""
    import json

    from llmkit._exceptions import StructuredOutputError
    from llmkit.structured._load import LoadFailure, load_yaml

    if isinstance(source, (bytes, bytearray)):
        raw = bytes(source)
        try:
            source = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
            ) from None
    text = source.lstrip("\ufeff")
    data: Any
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except ValueError:
        try:
            loaded = load_yaml(text)
        except (LoadFailure, StructuredOutputError) as exc:
            raise ValueError(f"not JSON or YAML: {exc}") from None
        if loaded.documents:
            raise ValueError("several YAML documents: a schema file holds one") from None
        data = loaded.value
    if not isinstance(data, (dict, bool)):
        raise ValueError(f"a schema must be a mapping (or a boolean), not {type(data).__name__}")
    return data


def load_schema(
    source: str | bytes,
    *,
    ref_files: Iterable[str | Path] = (),
    base: str | Path | None = None,
) -> CompiledSchema:
    """Read and compile a JSON Schema written as JSON or YAML text (a schema file).

    YAML is read by llmkit's own safe loader with the YAML 1.2 core schema, as answers
    are: ``enum: [NO, SE, DK]`` stays three strings, ``1:30`` and ``1.10`` stay what YAML
    1.2 says (PyYAML's ``safe_load`` is YAML 1.1: ``NO`` → false). The schema is checked
    against Draft 2020-12 once, here.

    A ``$ref`` is resolved only inside the schema, never by fetching a URL or reading a
    file, except in the local files named here: each is read now and embedded in the
    schema, so ``{"$ref": "address.json"}`` (or ``address.json#/$defs/street``) resolves
    to it. Any other reference is refused.

    Args:
        source: the schema's text.
        ref_files: local schema files its references may name (JSON or YAML).
        base: the schema file's own path, which relative references start from
            (default: a file in the current directory).

    Raises:
        ValueError: the text is not UTF-8, not JSON or YAML, not a mapping (or boolean),
            or not a valid Draft 2020-12 schema, or a reference file cannot be read or
            parsed; the message says which (and names the file).
    """
    from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped,unused-ignore]

    data = _schema_data(source)
    files = [Path(f) for f in ref_files]
    if files:
        if not isinstance(data, dict):
            raise ValueError("a boolean schema has no references to resolve")
        embedded = {}
        for file in files:
            try:
                raw = file.read_bytes()
            except OSError as exc:
                raise ValueError(f"{file}: cannot be read: {exc.strerror or exc}") from None
            try:
                embedded[file] = _schema_data(raw)
            except ValueError as exc:
                raise ValueError(f"{file}: {exc}") from None
        data = embed_ref_files(data, embedded, Path(base) if base is not None else None)
    try:
        compiled = compile_schema(data)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path)
        raise ValueError(
            f"not a valid JSON Schema (Draft 2020-12): {exc.message}"
            + (f" at {where}" if where else "")
        ) from None
    except RecursionError:
        raise ValueError("nested too deeply") from None
    assert compiled is not None
    return compiled


def json_schema_of(schema: Any) -> tuple[dict[str, Any], str]:
    """The JSON Schema of a dict, pydantic model class or dataclass, and its kind."""
    if isinstance(schema, dict):
        return schema, "json"
    if isinstance(schema, type) and hasattr(schema, "model_json_schema"):
        return schema.model_json_schema(), "pydantic"
    if isinstance(schema, type) and is_dataclass(schema):
        return dataclass_schema(schema), "dataclass"
    if isinstance(schema, bool):
        return ({} if schema else {"not": {}}), "json"
    raise TypeError(
        f"unsupported schema {schema!r}: use a JSON Schema dict, a pydantic "
        "model class or a dataclass"
    )


def _adapter(cls: type) -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(cls)


def dataclass_schema(cls: type) -> dict[str, Any]:
    """The JSON Schema of a dataclass, as pydantic's ``TypeAdapter`` writes it.

    ``tuple[int, str]`` becomes ``prefixItems`` (an integer then a string), nested
    dataclasses go to ``$defs``, and fields with defaults are not required.
    """
    schema: dict[str, Any] = _adapter(cls).json_schema()
    return schema
