"""Rubrics as data: versioned YAML files of dimensions, each with a scale and a guideline.

A rubric file::

    name: assistant-quality
    title: Assistant conversation quality
    description: ...
    dimensions:
      - key: overall_quality
        title: Overall quality
        scale:
          type: likert            # likert | binary | categorical | pairwise | comment
          points:                 # likert: every point anchored, consecutive integers
            1: Unusable
            5: Excellent
        default: 3                # optional; must be a value of the scale
        guideline: How good is the whole answer for this user?
        examples:                 # worked examples, with the expected rating and why
          - user: Am I a good fit for this job?
            assistant: You're not a good fit.
            rating: 2
            why: Correct, but it gives the user nothing to act on.

Scales: ``binary`` has ``labels`` for ``yes`` and ``no``; ``categorical`` has ``options``
(``value``, ``description``, optional one-letter ``key`` and ``flag: true`` for the values
that count towards the dimension's rate); ``pairwise`` compares answers ``A`` and ``B``
(``tie`` allowed unless ``allow_tie: false``); ``comment`` is free text.

Files are read with every scalar as a string (PyYAML's YAML 1.1 would turn ``no`` into
``False``), then typed and validated by pydantic; an error names the file and line. The
rubric's identity is a hash of its validated content, so editing a file makes a new
version, which the store numbers when it first sees it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from llmkit._exceptions import LLMKitError

__all__ = [
    "Dimension",
    "OffScaleError",
    "Rubric",
    "RubricError",
    "parse_rubric",
    "read_rubric",
]

ScaleType = Literal["likert", "binary", "categorical", "pairwise", "comment"]
_KEY = r"^[a-z][a-z0-9_]{0,63}$"


class OffScaleError(LLMKitError, ValueError):
    """A rating value is not on its dimension's scale."""


class RubricError(LLMKitError):
    """A rubric file is not valid.

    Attributes:
        path: the file (or ``"<string>"``).
        line: 1-based line of the offending part, when known.
        problem: what is wrong.
    """

    def __init__(self, problem: str, *, path: str = "<string>", line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {problem}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Option(_Strict):
    """One value of a categorical scale."""

    value: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$")]
    description: str = ""
    key: Annotated[str | None, Field(pattern=r"^[a-z]$")] = None
    flag: bool = False


class Scale(_Strict):
    """How a dimension is rated."""

    type: ScaleType
    points: dict[int, str] | None = None
    labels: dict[Literal["yes", "no"], str] | None = None
    options: tuple[Option, ...] | None = None
    allow_tie: bool = True

    @model_validator(mode="after")
    def _fits_type(self) -> Scale:
        given = {k for k in ("points", "labels", "options") if getattr(self, k) is not None}
        wanted = {"likert": {"points"}, "binary": {"labels"}, "categorical": {"options"}}.get(
            self.type, set()
        )
        if given - wanted:
            raise ValueError(f"a {self.type} scale takes no {', '.join(sorted(given - wanted))}")
        if self.type == "likert":
            points = sorted(self.points or {})
            if len(points) < 2 or points != list(range(points[0], points[-1] + 1)):
                raise ValueError("likert points must be two or more consecutive integers")
            if any(not text.strip() for text in (self.points or {}).values()):
                raise ValueError("every likert point needs an anchor description")
        if self.type == "binary" and set(self.labels or {}) != {"yes", "no"}:
            raise ValueError("a binary scale needs labels for both yes and no")
        if self.type == "categorical":
            values = [o.value for o in self.options or ()]
            if len(values) < 2 or len(set(values)) != len(values):
                raise ValueError("categorical options need two or more distinct values")
            keys = [o.key for o in self.options or () if o.key]
            if len(set(keys)) != len(keys):
                raise ValueError("categorical option keys must differ")
        return self

    def values(self) -> tuple[str, ...]:
        """Every value a rating may take on this scale (empty for free text)."""
        if self.type == "likert":
            return tuple(str(p) for p in sorted(self.points or {}))
        if self.type == "binary":
            return ("yes", "no")
        if self.type == "categorical":
            return tuple(o.value for o in self.options or ())
        if self.type == "pairwise":
            return ("A", "B", "tie") if self.allow_tie else ("A", "B")
        return ()

    def normalise(self, value: Any) -> str:
        """The canonical string for ``value`` on this scale.

        Raises:
            OffScaleError: the value is not on the scale (also a ``ValueError``).
        """
        if self.type == "comment":
            return str(value)
        text = str(value).strip()
        if self.type == "binary":
            text = {"true": "yes", "false": "no", "1": "yes", "0": "no"}.get(text.lower(), text)
            text = text.lower()
        elif self.type == "likert":
            try:
                number = float(text)
            except ValueError:
                number = float("nan")
            if number.is_integer():
                text = str(int(number))
        elif self.type == "pairwise":
            text = text.lower() if text.lower() == "tie" else text.upper()
        if text not in self.values():
            raise OffScaleError(f"{value!r} is not one of {', '.join(self.values())}")
        return text


class Example(_Strict):
    """A worked example: a (short) conversation, the expected rating and why."""

    user: str
    assistant: str | None = None
    assistant_a: str | None = None
    assistant_b: str | None = None
    rating: str
    why: str


class Dimension(_Strict):
    """One thing raters judge about a conversation."""

    key: Annotated[str, Field(pattern=_KEY)]
    title: str
    scale: Scale
    guideline: Annotated[str, Field(min_length=1)]
    default: str | None = None
    required: bool = True
    examples: tuple[Example, ...] = ()

    @model_validator(mode="after")
    def _check_values(self) -> Dimension:
        update: dict[str, Any] = {}
        if self.default is not None:
            update["default"] = self.scale.normalise(self.default)
        if self.scale.type != "comment":
            update["examples"] = tuple(
                e.model_copy(update={"rating": self.scale.normalise(e.rating)})
                for e in self.examples
            )
        return self.model_copy(update=update) if update else self

    @property
    def numeric(self) -> bool:
        """Whether values are numbers (a likert scale)."""
        return self.scale.type == "likert"

    def flagged(self) -> tuple[str, ...]:
        """Values counted by this dimension's rate: ``yes``, or categorical ``flag`` values."""
        if self.scale.type == "binary":
            return ("yes",)
        if self.scale.type == "categorical":
            return tuple(o.value for o in self.scale.options or () if o.flag)
        return ()


class _RubricModel(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]
    title: str = ""
    description: str = ""
    dimensions: tuple[Dimension, ...]
    # None (left out of the content, so older rubrics keep their hash) means false
    preselect_defaults: bool | None = None

    @field_validator("dimensions")
    @classmethod
    def _distinct(cls, dims: tuple[Dimension, ...]) -> tuple[Dimension, ...]:
        if not dims:
            raise ValueError("a rubric needs at least one dimension")
        keys = [d.key for d in dims]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"dimension keys repeat: {', '.join(dupes)}")
        return dims


@dataclass(frozen=True)
class Rubric:
    """A validated rubric.

    Attributes:
        name: the rubric's name (versions share it).
        title: a human title.
        description: what the rubric is for.
        dimensions: the dimensions, in file order.
        content: the validated content as plain data (what the store keeps).
        content_hash: SHA-256 of ``content`` in canonical JSON: the version's identity.
        path: the file it came from, if any.
        preselect_defaults: the rating page shows each dimension's default already chosen
            (``preselect_defaults: true`` in the file; off by default, so a rating holds
            only what the rater chose).
    """

    name: str
    title: str
    description: str
    dimensions: tuple[Dimension, ...]
    content: dict[str, Any]
    content_hash: str
    path: str | None = None
    preselect_defaults: bool = False

    def dimension(self, key: str) -> Dimension:
        """The dimension called ``key``.

        Raises:
            KeyError: no such dimension.
        """
        for dim in self.dimensions:
            if dim.key == key:
                return dim
        raise KeyError(key)

    @property
    def keys(self) -> tuple[str, ...]:
        """The dimension keys, in rubric order."""
        return tuple(d.key for d in self.dimensions)

    def to_dict(self) -> dict[str, Any]:
        """The rubric's content with its content hash and source path."""
        return {**self.content, "content_hash": self.content_hash, "path": self.path}


def _plain(node: yaml.Node, path: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> Any:
    """Node tree to plain data with every scalar a string; record each path's line."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise RubricError(
                    "mapping keys must be plain text", line=key_node.start_mark.line + 1
                )
            key = key_node.value
            if key in out:
                raise RubricError(f"key {key!r} appears twice", line=key_node.start_mark.line + 1)
            out[key] = _plain(value_node, (*path, key), lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, (*path, i), lines) for i, item in enumerate(node.value)]
    value = node.value
    style = getattr(node, "style", None)
    if node.tag == "tag:yaml.org,2002:null" or (style is None and value in ("", "~", "null")):
        return None
    return value


def _line_of(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int | None:
    """The line of the deepest part of a pydantic error location the YAML had."""
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in lines:
            return lines[loc[:cut]]
    return None


def parse_rubric(text: str, *, path: str = "<string>") -> Rubric:
    """Parse and validate rubric YAML.

    Raises:
        RubricError: broken YAML or invalid content, naming ``path`` and the line.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise RubricError(
            f"broken YAML: {exc.problem or exc.context}",
            path=path,
            line=mark.line + 1 if mark else None,
        ) from None
    except yaml.YAMLError as exc:
        raise RubricError(f"broken YAML: {exc}", path=path) from None
    if node is None:
        raise RubricError("the file is empty", path=path, line=1)
    lines: dict[tuple[Any, ...], int] = {}
    try:
        data = _plain(node, (), lines)
    except RubricError as exc:
        raise RubricError(exc.problem, path=path, line=exc.line) from None
    if not isinstance(data, dict):
        raise RubricError("a rubric is a mapping with name and dimensions", path=path, line=1)
    try:
        model = _RubricModel.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        field = ".".join(str(p) for p in loc) or "(top)"
        raise RubricError(
            f"{field}: {first['msg']}", path=path, line=_line_of(loc, lines)
        ) from None
    content = model.model_dump(mode="json", exclude_none=True)
    digest = hashlib.sha256(
        json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    return Rubric(
        name=model.name,
        title=model.title or model.name,
        description=model.description,
        dimensions=model.dimensions,
        content=content,
        content_hash=digest,
        path=None if path == "<string>" else path,
        preselect_defaults=bool(model.preselect_defaults),
    )


def read_rubric(path: str | Path) -> Rubric:
    """Read and validate one rubric file.

    Raises:
        RubricError: unreadable file or invalid content, naming the file and line.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RubricError(f"cannot read: {exc}", path=str(p)) from None
    return parse_rubric(text, path=str(p))
