"""JSON lines read from a file people hand to llmkit: each value with the place it came from.

A floor module (imports nothing of llmkit but the exceptions): the bench's prompt files,
eval results, shard results and watch scores all read JSON lines the same way, and a bad
line is one ``ConfigError`` naming ``file:line``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from llmkit._exceptions import ConfigError

__all__ = ["json_lines"]


def json_lines(lines: Iterable[str], where: object) -> Iterator[tuple[str, Any]]:
    """Yield ``(place, value)`` for each non-blank line; ``place`` is ``where:N``.

    Raises:
        ConfigError: a line is not JSON, or is nested too deeply; the message names it.
    """
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        place = f"{where}:{number}"
        try:
            yield place, json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{place}: not JSON ({exc.msg})") from None
        except RecursionError:
            raise ConfigError(f"{place}: JSON nested too deeply") from None
