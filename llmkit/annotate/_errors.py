"""The annotation package's exception (a floor module: everything here may raise it)."""

from __future__ import annotations

from llmkit._exceptions import LLMKitError

__all__ = ["AnnotationError"]


class AnnotationError(LLMKitError):
    """An annotation operation was refused (unknown user, wrong queue, invalid value...)."""
