"""Which prompt template a call was rendered from, as the log and the watch record it."""

from __future__ import annotations

from typing import Any

from llmkit._exceptions import ConfigError

__all__ = ["template_id"]


def template_id(template: Any) -> tuple[str, str] | None:
    """``(name, version)`` of a prompt template (or of a pair given as is)."""
    if template is None:
        return None
    if isinstance(template, tuple) and len(template) == 2:
        return str(template[0]), str(template[1])
    name, version = getattr(template, "name", None), getattr(template, "version", None)
    if name is None:
        raise ConfigError(
            f"template={template!r}: expected a PromptTemplate or a (name, version) pair"
        )
    return str(name), str(version if version is not None else "")
