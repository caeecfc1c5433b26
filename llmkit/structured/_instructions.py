"""What to put in a prompt: format instructions, hint lines, native ``response_format``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import yaml

from llmkit.structured._registry import hint_for, rules
from llmkit.structured._schema import compile_schema

__all__ = ["DEFAULT_HINTS", "example_value", "format_instructions", "hint_lines", "response_format"]

#: Rules whose hint lines go into prompts by default (the classes models hit most).
DEFAULT_HINTS: tuple[str, ...] = (
    "extract_fence",
    "strip_prose",
    "quote_colon_value",
    "hash_in_value",
    "quote_indicator_value",
    "fix_indentation",
)


def hint_lines(names: Iterable[str] | None = None, *, format: str = "yaml") -> list[str]:
    """Hint lines for rule names (default: :data:`DEFAULT_HINTS`), without duplicates."""
    out: list[str] = []
    chosen = list(DEFAULT_HINTS if names is None else names)
    for name in chosen:
        rule_phase = next((r.phase for r in rules() if r.name == name), None)
        if format == "json" and rule_phase == "yaml":
            continue
        if format == "yaml" and rule_phase == "json":
            continue
        line = hint_for(name) or (name if " " in name else None)
        if line and line not in out:
            out.append(line)
    return out


def example_value(schema: Any, _depth: int = 0) -> Any:
    """A small example value that shows the shape a schema asks for."""
    compiled = compile_schema(schema)
    root = compiled.schema if compiled else {}
    return _example(root, root, _depth)


def _example(s: Any, root: dict[str, Any], depth: int) -> Any:
    if depth > 8 or not isinstance(s, dict):
        return "..."
    if "$ref" in s and isinstance(s["$ref"], str) and s["$ref"].startswith("#/"):
        target: Any = root
        for part in s["$ref"][2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return _example(target, root, depth + 1)
    if s.get("examples"):
        return s["examples"][0]
    if "default" in s:
        return s["default"]
    if "enum" in s:
        return " | ".join(str(v) for v in s["enum"]) if len(s["enum"]) > 1 else s["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in s:
            branches = [b for b in s[key] if not (isinstance(b, dict) and b.get("type") == "null")]
            return _example(branches[0] if branches else {}, root, depth + 1)
    t = s.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "string")
    if t == "object" or "properties" in s:
        return {k: _example(v, root, depth + 1) for k, v in (s.get("properties") or {}).items()}
    if t == "array":
        return [_example(s.get("items", {}), root, depth + 1)]
    if t == "integer":
        return 0
    if t == "number":
        return 0.0
    if t == "boolean":
        return True
    if t == "null":
        return None
    return s.get("description", "text")


def format_instructions(
    schema: Any = None, format: str = "yaml", hints: bool | Iterable[str] = True
) -> str:
    """Instructions for a prompt: the format, the shape of the answer, the hint lines.

    Args:
        schema: the schema the answer must fit (dict, pydantic model, dataclass) or None.
        format: ``"yaml"`` or ``"json"``.
        hints: ``True`` for the default hint lines, ``False`` for none, or rule names
            (for example the top classes of a :func:`taxonomy` report) or literal lines.

    Returns:
        Text to append to the system or user message.
    """
    name = "JSON" if format == "json" else "YAML"
    lines = [f"Reply with {name} only."]
    if schema is not None:
        example = example_value(schema)
        if format == "json":
            shape = json.dumps(example, indent=2, ensure_ascii=False)
        else:
            shape = yaml.safe_dump(
                example, sort_keys=False, allow_unicode=True, default_flow_style=False
            ).rstrip()
        lines.append(f"Use exactly this structure and these field names:\n{shape}")
    if hints:
        chosen = None if hints is True else list(hints)  # type: ignore[arg-type,unused-ignore]
        extra = hint_lines(chosen, format=format)
        if extra:
            lines.append("Rules:\n" + "\n".join(f"- {h}" for h in extra))
    return "\n\n".join(lines)


def response_format(
    schema: Any, *, name: str | None = None, strict: bool = False
) -> dict[str, Any]:
    """``response_format`` for servers with native structured output (OpenAI-style).

    The answer still goes through :func:`parse` with the same schema.
    """
    compiled = compile_schema(schema)
    if compiled is None:
        return {"type": "json_object"}
    title = name or str(compiled.schema.get("title") or getattr(schema, "__name__", "answer"))
    safe = "".join(c if c.isalnum() or c in "_-" else "_" for c in title)[:64] or "answer"
    return {
        "type": "json_schema",
        "json_schema": {"name": safe, "schema": compiled.schema, "strict": strict},
    }
