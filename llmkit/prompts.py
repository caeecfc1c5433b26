"""Prompt templates kept as YAML in the top-level ``prompts/`` directory.

A template file holds ``name``, ``version``, ``description``, ``format`` (yaml/json),
``messages`` (role + content with ``{{var}}`` placeholders), the output ``schema`` and the
``hints`` (rule names or literal lines) that go into the format instructions.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from llmkit._exceptions import ConfigError

__all__ = ["VARIABLE", "PromptTemplate", "list_prompts", "load_prompt", "prompt_dirs"]

#: a template variable, ``{{ name }}``; group 1 is the name
VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


# A wheel carries a copy of the top-level prompts/ here (made by setup.py's build step).
_SHIPPED = Path(__file__).resolve().parent / "_prompts_data"
# In a source checkout the top-level prompts/ is read in place (edits show at once).
_CHECKOUT = Path(__file__).resolve().parent.parent


def prompt_dirs() -> list[Path]:
    """Where templates are looked up, first match wins.

    ``$LLMKIT_PROMPTS_DIR``, then ``./prompts``, then the repository's ``prompts/`` when
    llmkit runs from a source checkout, then the templates shipped inside the package.
    """
    dirs = []
    env = os.environ.get("LLMKIT_PROMPTS_DIR")
    if env:
        dirs.append(Path(env))
    dirs.append(Path.cwd() / "prompts")
    if (_CHECKOUT / "pyproject.toml").is_file():
        dirs.append(_CHECKOUT / "prompts")
    dirs.append(_SHIPPED)
    return list(dict.fromkeys(dirs))


@functools.lru_cache(maxsize=64)
def _instructions(
    schema_json: str, format: str, hints: bool | tuple[str, ...], _lines: tuple[str, ...]
) -> str:
    """Cached by the schema, the hints and the hint lines they resolve to (``_lines``), which
    ``register_hint`` / ``register_rule`` may change at run time."""
    from llmkit.structured import format_instructions

    schema = json.loads(schema_json)
    return format_instructions(
        schema, format, hints=hints if isinstance(hints, bool) else list(hints)
    )


@dataclass(frozen=True)
class PromptTemplate:
    """A versioned prompt with its output schema and format hints."""

    name: str
    version: str
    messages: tuple[dict[str, str], ...]
    schema: dict[str, Any] | None = None
    format: str = "yaml"
    hints: tuple[str, ...] = ()
    description: str = ""
    include_format_instructions: bool = True
    path: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def variables(self) -> set[str]:
        """Placeholder names used by the messages."""
        return {m for msg in self.messages for m in VARIABLE.findall(msg.get("content", ""))}

    def format_instructions(self, hints: Any = None) -> str:
        """The format instructions for this template's schema and hints."""
        chosen = self.hints if hints is None else hints
        hint_key: bool | tuple[str, ...] = (
            chosen if isinstance(chosen, bool) else (tuple(chosen) or False)
        )
        # Rendering the schema costs a YAML dump; an eval renders it once per case.
        try:
            schema_key = json.dumps(self.schema)  # key order matters: it orders the example
        except (TypeError, ValueError):  # not plain JSON: render it as it is
            from llmkit.structured import format_instructions

            hint_arg = hint_key if isinstance(hint_key, bool) else list(hint_key)
            return format_instructions(self.schema, self.format, hints=hint_arg)
        from llmkit.structured import hint_lines

        names = None if hint_key is True else (list(hint_key) if hint_key else [])
        lines = tuple(hint_lines(names, format=self.format)) if hint_key else ()
        return _instructions(schema_key, self.format, hint_key, lines)

    def render(self, *, hints: Any = None, **variables: Any) -> list[dict[str, str]]:
        """Messages with placeholders filled and the format instructions appended.

        Args:
            hints: override the template's hints (rule names or literal lines).
            **variables: values for the ``{{name}}`` placeholders.

        Raises:
            ConfigError: a placeholder has no value.
        """
        missing = self.variables - set(variables)
        if missing:
            raise ConfigError(f"prompt {self.name!r} needs {', '.join(sorted(missing))}")
        out = [
            {
                "role": m["role"],
                "content": VARIABLE.sub(lambda x: str(variables[x.group(1)]), m["content"]),
            }
            for m in self.messages
        ]
        if self.include_format_instructions and (self.schema is not None or self.hints):
            instructions = self.format_instructions(hints)
            target = next((m for m in reversed(out) if m["role"] == "user"), None)
            if target is None:
                out.append({"role": "user", "content": instructions})
            else:
                target["content"] = target["content"].rstrip() + "\n\n" + instructions
        return out


def load_prompt(name_or_path: str | Path) -> PromptTemplate:
    """Load a template by name (searched in :func:`prompt_dirs`) or by file path.

    Raises:
        ConfigError: not found or not a valid template.
    """
    path = Path(name_or_path)
    if not path.suffix or not path.exists():
        for d in prompt_dirs():
            for ext in (".yaml", ".yml"):
                candidate = d / f"{name_or_path}{ext}"
                if candidate.exists():
                    path = candidate
                    break
            else:
                continue
            break
    if not path.exists():
        raise ConfigError(
            f"prompt {str(name_or_path)!r} not found in {', '.join(str(d) for d in prompt_dirs())}"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        raise ConfigError(f"{path}: a template needs a 'messages' list")
    messages = tuple(
        {"role": str(m.get("role", "user")), "content": str(m.get("content", ""))}
        for m in data["messages"]
        if isinstance(m, dict)
    )
    known = {
        "name",
        "version",
        "messages",
        "schema",
        "format",
        "hints",
        "description",
        "include_format_instructions",
    }
    return PromptTemplate(
        name=str(data.get("name") or path.stem),
        version=str(data.get("version", "1")),
        messages=messages,
        schema=data.get("schema"),
        format=str(data.get("format", "yaml")),
        hints=tuple(str(h) for h in data.get("hints") or ()),
        description=str(data.get("description", "")),
        include_format_instructions=bool(data.get("include_format_instructions", True)),
        path=str(path),
        extra={k: v for k, v in data.items() if k not in known},
    )


def _is_template(path: Path) -> bool:
    """A template file: ``*.yaml``/``*.yml``, but not an eval suite (``*.eval.yaml``)."""
    return path.suffix in (".yaml", ".yml") and not path.stem.endswith(".eval")


def list_prompts() -> list[str]:
    """Names of the templates found in :func:`prompt_dirs` (eval suites are skipped)."""
    names: set[str] = set()
    for d in prompt_dirs():
        if d.is_dir():
            names.update(p.stem for p in d.iterdir() if p.is_file() and _is_template(p))
    return sorted(names)
