"""llmkit's per-user data directory (a floor module: the call log and the annotation store
both keep their files there)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["llmkit_home"]


def llmkit_home() -> Path:
    """``$LLMKIT_HOME``, else ``$XDG_DATA_HOME/llmkit``, else ``~/.local/share/llmkit``."""
    if env := os.environ.get("LLMKIT_HOME"):
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "llmkit"
