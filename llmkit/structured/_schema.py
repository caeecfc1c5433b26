"""Schemas: JSON Schema dicts, pydantic models and dataclasses, compiled once and cached.

A compiled schema holds the JSON Schema, a prebuilt ``Draft202012Validator`` (building one
is the expensive part of ``jsonschema.validate``) and, for classes, how to build the
instance from a validated value.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator  # type: ignore[import-untyped,unused-ignore]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped,unused-ignore]

__all__ = [
    "CompiledSchema",
    "compile_schema",
    "dataclass_schema",
    "format_errors",
    "json_schema_of",
    "load_schema",
]

_CACHE: OrderedDict[int, tuple[Any, CompiledSchema]] = OrderedDict()
_CACHE_SIZE = 256


@dataclass(frozen=True)
class CompiledSchema:
    """A schema ready for the pipeline.

    Attributes:
        source: what the caller passed (dict, pydantic model class, dataclass).
        schema: the JSON Schema.
        validator: a prebuilt validator for ``schema``.
        kind: ``"json"``, ``"pydantic"`` or ``"dataclass"``.
    """

    source: Any
    schema: dict[str, Any]
    validator: Draft202012Validator
    kind: str

    def errors(self, value: Any, limit: int = 5) -> list[ValidationError]:
        """Up to ``limit`` validation errors, most relevant first."""
        if self.validator.is_valid(value):
            return []
        errs = sorted(self.validator.iter_errors(value), key=_relevance)
        return errs[:limit]

    def instance(self, value: Any) -> Any:
        """Build what the caller asked for from a validated value."""
        if self.kind == "pydantic":
            return self.source.model_validate(value)
        if self.kind == "dataclass":
            return _build_dataclass(self.source, value)
        return value


def _relevance(err: ValidationError) -> tuple[int, int]:
    return (-len(err.absolute_path), 0 if err.validator in ("required", "type") else 1)


def format_errors(errors: list[ValidationError]) -> str:
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
    Draft202012Validator.check_schema(json_schema)
    compiled = CompiledSchema(schema, json_schema, Draft202012Validator(json_schema), kind)
    _CACHE[key] = (schema, compiled)
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return compiled


def load_schema(source: str | bytes) -> CompiledSchema:
    """Read and compile a JSON Schema written as JSON or YAML text (a schema file).

    YAML is read by llmkit's own safe loader with the YAML 1.2 core schema, as answers
    are: ``enum: [NO, SE, DK]`` stays three strings, ``1:30`` and ``1.10`` stay what YAML
    1.2 says (PyYAML's ``safe_load`` is YAML 1.1: ``NO`` → false). The schema is checked
    against Draft 2020-12 once, here.

    Raises:
        ValueError: the text is not UTF-8, not JSON or YAML, not a mapping (or boolean),
            or not a valid Draft 2020-12 schema; the message says which.
    """
    import json

    from jsonschema.exceptions import SchemaError  # type: ignore[import-untyped,unused-ignore]

    from llmkit._exceptions import StructuredOutputError
    from llmkit.structured._load import LoadFailure, load_yaml

    if isinstance(source, (bytes, bytearray)):
        try:
            source = bytes(source).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValueError(f"not UTF-8 text (invalid byte at offset {exc.start})") from None
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
    if isinstance(schema, type) and dataclasses.is_dataclass(schema):
        return dataclass_schema(schema), "dataclass"
    if isinstance(schema, bool):
        return ({} if schema else {"not": {}}), "json"
    raise TypeError(
        f"unsupported schema {schema!r}: use a JSON Schema dict, a pydantic "
        "model class or a dataclass"
    )


def dataclass_schema(cls: type) -> dict[str, Any]:
    """A JSON Schema for a dataclass from its type hints (nested dataclasses in ``$defs``)."""
    defs: dict[str, Any] = {}
    root = _dc_object(cls, defs)
    if defs:
        root["$defs"] = defs
    return root


def _dc_object(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    props: dict[str, Any] = {}
    required: list[str] = []
    for f in dataclasses.fields(cls):  # type: ignore[arg-type,unused-ignore]
        sub = _type_schema(hints.get(f.name, Any), defs)
        if f.default is not dataclasses.MISSING and _jsonable(f.default):
            sub = {**sub, "default": f.default}
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(f.name)
        props[f.name] = sub
    out: dict[str, Any] = {"type": "object", "title": cls.__name__, "properties": props}
    if required:
        out["required"] = required
    return out


def _jsonable(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def _type_schema(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    if tp is Any or tp is object:
        return {}
    if tp is type(None) or tp is None:
        return {"type": "null"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return {"type": "number"}
    if tp is str:
        return {"type": "string"}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"enum": [m.value for m in tp]}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}
            defs[name] = _dc_object(tp, defs)
        return {"$ref": f"#/$defs/{name}"}
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin in (typing.Union, types.UnionType):
        subs = [_type_schema(a, defs) for a in args]
        return {"anyOf": subs}
    if origin in (list, set, frozenset, tuple) or tp in (list, set, tuple):
        item = args[0] if args and args[0] is not Ellipsis else Any
        return {"type": "array", "items": _type_schema(item, defs)}
    if origin is dict or tp is dict:
        value = args[1] if len(args) == 2 else Any
        return {"type": "object", "additionalProperties": _type_schema(value, defs)}
    return {}


def _build_dataclass(cls: Any, value: Any) -> Any:
    return _build_typed(cls, value)


def _build_typed(tp: Any, value: Any) -> Any:
    if isinstance(tp, type) and dataclasses.is_dataclass(tp) and isinstance(value, dict):
        hints = typing.get_type_hints(tp)
        kwargs = {
            f.name: _build_typed(hints.get(f.name, Any), value[f.name])
            for f in dataclasses.fields(tp)
            if f.name in value
        }
        return tp(**kwargs)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(value)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            if arg is type(None) and value is None:
                return None
        for arg in args:
            if arg is not type(None):
                try:
                    return _build_typed(arg, value)
                except (TypeError, ValueError):
                    continue
        return value
    if origin in (list, set, frozenset, tuple) and isinstance(value, list):
        item = args[0] if args else Any
        items = [_build_typed(item, v) for v in value]
        return origin(items) if origin is not list else items
    if origin is dict and isinstance(value, dict) and len(args) == 2:
        return {k: _build_typed(args[1], v) for k, v in value.items()}
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value
