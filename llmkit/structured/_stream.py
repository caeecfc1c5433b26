"""Parse an answer while it streams: yield the fields complete so far.

A top-level field is complete once the next one starts (YAML: a new key at column 0;
JSON: a comma or the closing brace at depth 1). Each completed field is parsed on its own,
so the total work stays linear in the answer length.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from llmkit.structured._coerce import normalize_key
from llmkit.structured._pipeline import parse
from llmkit.structured._result import StructuredResult
from llmkit.structured._schema import compile_schema

__all__ = ["Partial", "StreamParser", "aiter_partial", "iter_partial"]

_TOP_KEY = re.compile(r"""(?:"[^"\n]*"|'[^'\n]*'|[^\s#:\-"'{\[][^\n:]*+)[ \t]*:(?:[ \t]|$)""")


@dataclass(frozen=True)
class Partial:
    """The value so far.

    Attributes:
        value: a dict of the top-level fields complete so far.
        new_fields: the fields completed by the latest delta.
        complete: the stream ended and ``value`` is the final parse.
        elapsed: seconds since the first delta.
    """

    value: dict[str, Any]
    new_fields: tuple[str, ...]
    complete: bool
    elapsed: float


class StreamParser:
    """Incremental parser: ``feed`` text deltas, get :class:`Partial` values back.

    Example:
        >>> p = StreamParser()
        >>> p.feed("name: Ann\\nag")
        >>> p.feed("e: 3\\ncity: Oslo\\n").value
        {'name': 'Ann', 'age': 3}
        >>> p.close().value
        {'name': 'Ann', 'age': 3, 'city': 'Oslo'}
    """

    def __init__(
        self,
        schema: Any = None,
        *,
        format: str = "auto",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.schema = schema
        self.format = format
        self.clock = clock
        compiled = compile_schema(schema)
        props = (compiled.schema.get("properties") or {}) if compiled else {}
        self._field_schema: dict[str, Any] | None = (
            {
                "type": "object",
                "properties": props,
                **(
                    {"$defs": compiled.schema["$defs"]}
                    if compiled and "$defs" in compiled.schema
                    else {}
                ),
            }
            if compiled
            else None
        )
        self._names = {normalize_key(k) for k in props} if isinstance(props, dict) else set()
        self._text = ""
        self._start: float | None = None
        self.first_field_at: float | None = None
        self.fields: dict[str, Any] = {}
        self._mode: str | None = None
        self._pos = 0  # next unscanned character
        self._seg = 0  # start of the field being written
        self._in_str = False
        self._esc = False
        self._depth = 0
        self._ended = False

    @property
    def text(self) -> str:
        """Everything fed so far."""
        return self._text

    @property
    def time_to_first_field(self) -> float | None:
        """Seconds from the first delta to the first complete field (None until then)."""
        if self.first_field_at is None or self._start is None:
            return None
        return self.first_field_at - self._start

    def feed(self, delta: str) -> Partial | None:
        """Add a delta; return a :class:`Partial` when fields completed, else ``None``."""
        if self._start is None:
            self._start = self.clock()
        self._text += delta
        if self._mode is None:
            head = self._text.lstrip()
            if not head:
                return None
            if head.startswith(("```", "~~~", "<")):
                nl = self._text.find("\n", self._text.find(head[0]))
                if nl < 0:
                    return None
                self._pos = self._seg = nl + 1
                if self._text[self._pos :].lstrip() == "":
                    return None
                head = self._text[self._pos :].lstrip()
            self._mode = (
                "json"
                if self.format == "json" or (self.format == "auto" and head[:1] in "{[")
                else "yaml"
            )
        done = self._scan_json() if self._mode == "json" else self._scan_yaml()
        if not done:
            return None
        return self._partial(done, False)

    def close(self) -> StructuredResult:
        """End of stream: parse the whole answer with the full pipeline."""
        self._ended = True
        return parse(self._text, self.schema, format=self.format)

    def _partial(self, names: list[str], complete: bool) -> Partial:
        now = self.clock()
        if self.first_field_at is None:
            self.first_field_at = now
        return Partial(dict(self.fields), tuple(names), complete, now - (self._start or now))

    def _add_segment(self, segment: str, fmt: str) -> list[str]:
        """Parse one completed field; keep only what the model wrote (never a made-up field).

        Coercion may rename a key to the schema's spelling or fill schema defaults: a
        partial value keeps the renamed keys but never a default the text did not write,
        nor (with a schema that names its properties) a key it does not name, such as a
        lead-in line `Sure:` read as a key.
        """
        if not segment.strip():
            return []
        result = parse(segment, self._field_schema, format=fmt)
        if not result.ok or not isinstance(result.value, dict):
            return []
        raw = parse(segment, None, format=fmt)
        written = (
            {normalize_key(str(k)) for k in raw.value}
            if raw.ok and isinstance(raw.value, dict)
            else set()
        )
        keep = {
            k: v
            for k, v in result.value.items()
            if normalize_key(k) in written and (not self._names or normalize_key(k) in self._names)
        }
        self.fields.update(keep)
        return list(keep)

    def _scan_yaml(self) -> list[str]:
        text = self._text
        done: list[str] = []
        while True:
            nl = text.find("\n", self._pos)
            if nl < 0:
                return done
            line = text[self._pos : nl]
            if line.startswith("```") or line.startswith("~~~"):
                done += self._add_segment(text[self._seg : self._pos], "yaml")
                self._seg = nl + 1
            elif (
                self._pos > self._seg
                and line[:1] not in ("", " ", "\t", "#", "-")
                and _TOP_KEY.match(line)
            ):
                done += self._add_segment(text[self._seg : self._pos], "yaml")
                self._seg = self._pos
            self._pos = nl + 1

    def _scan_json(self) -> list[str]:
        text = self._text
        done: list[str] = []
        i = self._pos
        n = len(text)
        in_str, esc, depth = self._in_str, self._esc, self._depth
        while i < n:
            c = text[i]
            if in_str:
                if esc:
                    esc = False
                elif c == "\\":
                    esc = True
                elif c == '"':
                    in_str = False
            elif c == '"':
                in_str = True
            elif c in "{[":
                depth += 1
                if depth == 1:
                    self._seg = i + 1
            elif c in "}]":
                depth -= 1
                if depth == 0:
                    done += self._add_segment("{" + text[self._seg : i] + "}", "json")
            elif c == "," and depth == 1:
                done += self._add_segment("{" + text[self._seg : i] + "}", "json")
                self._seg = i + 1
            i += 1
        self._pos, self._in_str, self._esc, self._depth = i, in_str, esc, depth
        return done


def iter_partial(
    chunks: Iterable[str], schema: Any = None, *, format: str = "auto"
) -> Iterator[Partial]:
    """Yield a :class:`Partial` whenever fields complete, and a final complete one."""
    parser = StreamParser(schema, format=format)
    for chunk in chunks:
        p = parser.feed(chunk)
        if p is not None:
            yield p
    final = parser.close()
    value = final.value if final.ok and isinstance(final.value, dict) else dict(parser.fields)
    yield Partial(
        value if isinstance(value, dict) else {},
        (),
        True,
        parser.clock() - (parser._start or parser.clock()),
    )


async def aiter_partial(
    chunks: AsyncIterable[str], schema: Any = None, *, format: str = "auto"
) -> AsyncIterator[Partial]:
    """Async twin of :func:`iter_partial`."""
    parser = StreamParser(schema, format=format)
    async for chunk in chunks:
        p = parser.feed(chunk)
        if p is not None:
            yield p
    final = parser.close()
    value = final.value if final.ok and isinstance(final.value, dict) else dict(parser.fields)
    yield Partial(
        value if isinstance(value, dict) else {},
        (),
        True,
        parser.clock() - (parser._start or parser.clock()),
    )
