"""Eval scores for the canary judge and drift, from a JSON-lines file.

One score a line: ``{"variant": "B", "scorer": "helpful", "score": 0.8, "at": 1764950000}``
(``variant`` for the canary judge, ``at`` in Unix seconds to place it in a window; scores
from 0 to 1, as ``llmkit eval`` writes them).
"""

from __future__ import annotations

import math
from pathlib import Path

from llmkit._exceptions import ConfigError
from llmkit._jsonl import json_lines
from llmkit.watch._window import Window

__all__ = ["ScoreTable", "read_scores"]

# variant (or "" when the line names none) -> scorer -> scores
ScoreTable = dict[str, dict[str, list[float]]]


def read_scores(path: str | Path, window: Window | None = None) -> ScoreTable:
    """The scores in ``path`` (within ``window`` when given), by variant and scorer.

    Raises:
        ConfigError: the file is missing, or a line is not a score, naming file and line.
    """
    target = Path(path)
    try:
        lines = target.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"--scores {target}: cannot read it ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"--scores {target}: not UTF-8 text (expected JSON lines)") from None
    if not any(line.strip() for line in lines):
        raise ConfigError(f"--scores {target}: the file holds no scores")
    table: ScoreTable = {}
    for where, row in json_lines(lines, f"--scores {target}"):
        if not isinstance(row, dict):
            raise ConfigError(f"{where}: expected an object with scorer and score")
        scorer, score, at = row.get("scorer"), row.get("score"), row.get("at")
        if not isinstance(scorer, str) or not scorer:
            raise ConfigError(f"{where}: 'scorer' must be a non-empty string")
        if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
            raise ConfigError(f"{where}: 'score' must be a number from 0 to 1, got {score!r}")
        if window is not None:
            if isinstance(at, bool) or not isinstance(at, int | float) or not math.isfinite(at):
                raise ConfigError(f"{where}: 'at' (Unix seconds) is needed to place it in a window")
            if not window[0] <= at < window[1]:
                continue
        variant = row.get("variant")
        key = "" if variant is None else str(variant)
        table.setdefault(key, {}).setdefault(scorer, []).append(float(score))
    return table
