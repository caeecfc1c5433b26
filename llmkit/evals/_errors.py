"""The evaluation errors every evals module raises (a floor module: imports no evals module)."""

from __future__ import annotations

from llmkit._exceptions import ConfigError

__all__ = ["SuiteError"]


class SuiteError(ConfigError):
    """A suite file does not validate.

    Attributes:
        path: the suite file.
        line: 1-based line of the offending node (``None`` if unknown).
        field: dotted path of the field, e.g. ``cases[2].repeat``.
    """

    def __init__(
        self, message: str, *, path: str = "", line: int | None = None, field: str = ""
    ) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.reason = message
        where = path + (f":{line}" if line else "")
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}{field + ': ' if field else ''}{message}")
