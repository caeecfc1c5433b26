"""What the pages show: messages as rendered Markdown and raw text, folding, pairwise
sides, keys.

Everything here returns plain data; the templates escape every string (autoescape on)
except a message's ``html``, which :func:`render_markdown` made safe (raw HTML off, then
an allow-list sanitiser), so model output that holds HTML, script or ``javascript:`` URLs
never runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmkit.annotate import Dimension
from llmkit.annotate._web._markdown import render_markdown

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FOLD_CHARS",
    "Answer",
    "Choice",
    "choices",
    "pairwise_left",
    "render_messages",
    "rows_of",
    "split_pairwise",
]

FOLD_CHARS = 1200  # longer messages start folded


@dataclass(frozen=True)
class Answer:
    """One message as the page shows it."""

    role: str
    name: str
    text: str  # the raw text (one key shows it instead of the rendering)
    html: str  # rendered Markdown, sanitised
    folded: bool
    preview: str
    chars: int


@dataclass(frozen=True)
class Choice:
    """One value a dimension may take, with its key and anchor text."""

    value: str
    label: str
    key: str
    description: str


def _answer(message: dict[str, Any]) -> Answer:
    content = str(message.get("content", ""))
    return Answer(
        role=str(message.get("role", "")),
        name=str(message.get("name", "") or ""),
        text=content,
        html=render_markdown(content),
        folded=len(content) > FOLD_CHARS,
        preview=content[:300],
        chars=len(content),
    )


def split_pairwise(
    messages: tuple[dict[str, Any], ...],
) -> tuple[tuple[dict[str, Any], ...], dict[str, dict[str, Any]]]:
    """The context and the two compared answers of a pairwise item.

    A pairwise item ends with two assistant messages named ``A`` and ``B``; anything else
    has no pair (an empty dict).
    """
    named = {
        str(m.get("name")): m
        for m in messages
        if m.get("role") == "assistant" and str(m.get("name", "")) in ("A", "B")
    }
    if set(named) != {"A", "B"}:
        return messages, {}
    context = tuple(m for m in messages if all(m is not n for n in named.values()))
    return context, named


def pairwise_left(assignment_id: int) -> str:
    """Which answer (``A`` or ``B``) shows on the left for this queue entry.

    A hash of the assignment id: random across items, the same on every reload, so the
    side that was shown is the side recorded with the rating.
    """
    digest = hashlib.sha256(f"llmkit-pairwise-side:{assignment_id}".encode()).digest()
    return "A" if digest[0] % 2 == 0 else "B"


def render_messages(messages: tuple[dict[str, Any], ...]) -> list[Answer]:
    """Each message rendered (and kept raw), long ones marked to fold."""
    return [_answer(m) for m in messages]


def choices(dim: Dimension, *, left: str | None = "A") -> list[Choice]:
    """The dimension's values in display order, each with its keyboard key.

    Likert points take their digit, binary takes ``y``/``n``, categorical options take
    their ``key`` (or their number), pairwise takes ``1`` left, ``2`` right, ``0`` tie
    (``left`` names the answer shown on the left; ``None`` lists ``A`` and ``B`` by name).
    """
    scale = dim.scale
    if scale.type == "likert":
        points = scale.points or {}
        return [Choice(str(p), str(p), str(p)[-1], points[p]) for p in sorted(points)]
    if scale.type == "binary":
        labels = scale.labels or {}
        return [
            Choice("yes", "yes", "y", labels.get("yes", "")),
            Choice("no", "no", "n", labels.get("no", "")),
        ]
    if scale.type == "categorical":
        return [
            Choice(o.value, o.value, o.key or str(i + 1), o.description)
            for i, o in enumerate(scale.options or ())
        ]
    if scale.type == "pairwise" and left is None:  # by name, for adjudicators
        named = [Choice(v, v, str(i + 1), f"Answer {v} is better.") for i, v in enumerate("AB")]
        tie = [Choice("tie", "tie", "0", "Neither is better.")] if scale.allow_tie else []
        return named + tie
    if scale.type == "pairwise":
        left = left or "A"
        right = "B" if left == "A" else "A"
        out = [
            Choice(left, "left", "1", "The answer on the left is better."),
            Choice(right, "right", "2", "The answer on the right is better."),
        ]
        if scale.allow_tie:
            out.append(Choice("tie", "tie", "0", "Neither is better."))
        return out
    return []


def rows_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame's rows as plain dicts, for the templates."""
    rows: list[dict[str, Any]] = frame.to_dict("records")  # type: ignore[assignment]
    return rows
