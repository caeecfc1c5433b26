"""Safe loading of YAML and JSON text: bounded, tag-free, without YAML 1.1 guessing.

YAML goes through libyaml's composer (``CBaseLoader``: every scalar stays a string) and a
small constructor of our own that

* never constructs objects from tags (``!!python/...`` is refused, other tags read as text),
* counts alias expansions and nesting depth while building (PyYAML shares aliased nodes,
  so a billion-laughs document composes fast and would explode later; we copy instead,
  under a budget on the expanded size: :attr:`Limits.max_alias_size` characters),
* resolves plain scalars by the YAML 1.2 core schema (no ``NO`` → false, ``1:30`` → 90,
  ``01234`` → octal), or, when a schema will type them, keeps the text in a :class:`Plain`
  marker so the coercer can give each field the type the schema asks for,
* decides the constructs models commonly misuse and reports which rule decided: a `` #``
  after a value, anchors never referenced, aliases, duplicate keys, unknown tags.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import yaml
from yaml.nodes import Node, ScalarNode, SequenceNode

from llmkit._exceptions import UnsafeInputError
from llmkit._lazy import lazy_pattern

__all__ = [
    "Folded",
    "JsonNumber",
    "Limits",
    "LoadFailure",
    "Loaded",
    "Plain",
    "check_flow_depth",
    "load_json",
    "load_yaml",
    "resolve_core",
    "smart_inner",
    "to_int",
]

_Loader: Any = getattr(yaml, "CBaseLoader", yaml.BaseLoader)

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_CORE_SCALAR_TAGS = frozenset(
    [
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:null",
    ]
)


@dataclass(frozen=True)
class Limits:
    """Bounds that make every document finish in bounded time and memory.

    Attributes:
        max_chars: largest answer accepted (checked before loading).
        max_depth: deepest nesting of collections.
        max_aliases: alias events allowed in one answer.
        max_alias_nodes: nodes that may be built by expanding aliases (billion laughs).
        max_alias_size: characters that expanding aliases may add to the document: every
            scalar and key copied counts its length, every collection counts 1 (a 20 KB
            answer of aliases to long strings would otherwise build 50 MB).
    """

    max_chars: int = 2_000_000
    max_depth: int = 100
    max_aliases: int = 100
    max_alias_nodes: int = 10_000
    max_alias_size: int = 1_000_000


DEFAULT_LIMITS = Limits()


class Plain(str):
    """An unquoted YAML scalar whose core type is not a string (``5``, ``true``, ``~``).

    Kept as text until the coercer types it by the schema, so ``version: 1.10`` stays
    ``"1.10"`` where the schema asks for a string.
    """

    __slots__ = ()


class Folded(Plain):
    """A scalar YAML folded from several lines (``a`` and ``b`` on two plain lines read as
    ``"a b"``, or a ``>`` block); ``source`` is the text as the model wrote it (for a ``>``
    block, which asks for the folding, the folded text).

    The folded text appears nowhere in the answer, so the coercer never makes a list of
    it (its lines may have been items, or one text), and a whole answer under a schema
    that asks for text is the text as written.
    """

    source: str

    def __new__(cls, value: str, source: str) -> Folded:
        folded = super().__new__(cls, value)
        folded.source = source
        return folded


class JsonNumber(Plain):
    """A JSON number, kept as the text the model wrote until the schema types it.

    Under ``type: string`` JSON ``1.10`` becomes ``"1.10"`` (a recorded coercion: JSON said
    number), under ``type: number`` it becomes ``1.1``; ``1e400`` never becomes infinity.
    """

    __slots__ = ()


class LoadFailure(Exception):
    """A syntax error while loading (internal; the pipeline turns it into a result)."""

    def __init__(
        self,
        message: str,
        line: int | None = None,
        column: int | None = None,
        index: int | None = None,
    ) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.index = index
        where = (
            f" (line {line + 1}, column {column + 1})"
            if line is not None and column is not None
            else ""
        )
        super().__init__(message + where)


@dataclass
class Loaded:
    """A loaded document and the load-phase rules that decided something."""

    value: Any
    fired: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    documents: list[Any] | None = None


# --- YAML 1.2 core schema -------------------------------------------------------------

_NULLS = frozenset(["", "~", "null", "Null", "NULL"])
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = lazy_pattern(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_SPECIAL_FLOATS = {
    ".inf": float("inf"),
    ".Inf": float("inf"),
    ".INF": float("inf"),
    "+.inf": float("inf"),
    "+.Inf": float("inf"),
    "+.INF": float("inf"),
    "-.inf": float("-inf"),
    "-.Inf": float("-inf"),
    "-.INF": float("-inf"),
    ".nan": float("nan"),
    ".NaN": float("nan"),
    ".NAN": float("nan"),
}
_NUM_START = frozenset("0123456789+-.")
_WORD_START = frozenset("tTfFnN~")


_MAX_RADIX_DIGITS = 3000  # 0x/0o digits: keeps the value printable in decimal


def to_int(text: str, base: int = 10) -> int:
    """``int(text, base)``, refusing integers too long to convert or print.

    Python refuses decimal conversions beyond ``sys.get_int_max_str_digits()`` digits
    (4300 by default) with a bare ``ValueError``; a model answer with such a number is
    refused like any other oversized input.

    Raises:
        UnsafeInputError: the integer has too many digits.
        ValueError: ``text`` is not an integer in ``base``.
    """
    if base != 10 and len(text) > _MAX_RADIX_DIGITS:
        raise UnsafeInputError(f"input refused: an integer of {len(text)} digits", raw=text[:200])
    try:
        return int(text, base)
    except ValueError as exc:
        if "digits" in str(exc) and "limit" in str(exc):
            raise UnsafeInputError(
                f"input refused: an integer of {len(text)} digits", raw=text[:200]
            ) from None
        raise


def to_float(text: str) -> float:
    """``float(text)`` for a finite number, refusing one that overflows (``1e400``).

    Raises:
        UnsafeInputError: the number is beyond the range of a float (it would be infinity).
    """
    f = float(text)
    if f in (_INF, -_INF):
        raise UnsafeInputError(
            f"input refused: the number {text[:40]} is out of range", raw=text[:200]
        )
    return f


_INF = float("inf")


def resolve_core(s: str) -> Any:
    """Type a plain scalar by the YAML 1.2 core schema.

    ``"1.10"`` → 1.1, ``"01234"`` → 1234, ``"0x1F"`` → 31, ``"True"`` → True,
    ``"~"`` → None, ``"NO"``/``"yes"``/``"1:30"`` stay strings, and so does a number
    beyond a float's range (``"1e400"``): never infinity.

    Raises:
        UnsafeInputError: an integer too long to convert.
    """
    if not s:
        return None
    c = s[0]
    if c in _NUM_START:
        if _INT.match(s):
            return to_int(s)
        if _FLOAT.match(s):
            number = float(s)
            return s if number in (_INF, -_INF) else number
        special = _SPECIAL_FLOATS.get(s)
        if special is not None:
            return special
        if len(s) > 2 and c == "0":
            if s[1] == "o" and all(ch in "01234567" for ch in s[2:]):
                return to_int(s[2:], 8)
            if s[1] == "x":
                try:
                    return to_int(s[2:], 16)
                except ValueError:
                    return s
        return s
    if c in _WORD_START:
        if s in _NULLS:
            return None
        b = _BOOLS.get(s)
        if b is not None:
            return b
    return s


def _is_core_string(s: str) -> bool:
    try:
        return isinstance(resolve_core(s), str)
    except UnsafeInputError:
        return False  # an integer too long to convert: the schema decides what it becomes


# `key:value` with no space after the colon (a URL's `://` is not one)
_GLUED_KEY = lazy_pattern(r"(?:-[ ]+)?[A-Za-z_][\w.-]*:[^\s/]")
_SMART_OPEN = frozenset("\u201c\u2018\u201e")
_SMART_CLOSE = {"\u201c": "\u201d", "\u2018": "\u2019", "\u201e": "\u201c\u201d"}
_SMART_ANY = frozenset("\u201c\u201d\u201e\u201f")


def smart_inner(value: str) -> str | None:
    """The text inside typographic quotes that wrap the whole value, else ``None``.

    ``“Broken box”`` → ``Broken box``; ``‘it’s’`` → ``it’s``; ``“a\\tb”`` → ``a<TAB>b``
    (escapes read as in a double-quoted scalar, where they are valid);
    ``“a” and “b”`` → ``None``.
    """
    if len(value) < 2 or value[0] not in _SMART_CLOSE or value[-1] not in _SMART_CLOSE[value[0]]:
        return None
    inner = value[1:-1]
    if value[0] == "\u2018":
        return None if "\u2018" in inner else inner
    if any(c in _SMART_ANY for c in inner):
        return None  # several quoted parts: the quotes are the author's text
    if "\\" in inner:
        try:
            decoded = json.loads('"' + inner.replace('"', '\\"') + '"')
        except ValueError:
            return inner
        return decoded if isinstance(decoded, str) else inner
    return inner


# --- depth pre-check --------------------------------------------------------------------

_JSON_STRING = lazy_pattern(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.S)
_BRACKET_VALUE = [0] * 256
_BRACKET_VALUE[ord("[")] = _BRACKET_VALUE[ord("{")] = 1
_BRACKET_VALUE[ord("]")] = _BRACKET_VALUE[ord("}")] = -1
_NOT_BRACKET = lazy_pattern(r"[^\[\]{}]+")


def check_flow_depth(text: str, max_depth: int) -> None:
    """Refuse flow (JSON-style) nesting deeper than ``max_depth``, in linear time.

    Cheap when there are fewer opening brackets than the limit (the usual case).

    Raises:
        UnsafeInputError: the nesting is too deep.
    """
    if text.count("[") + text.count("{") <= max_depth:
        return
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)).encode("ascii")
    if not brackets:
        return
    deepest = max(
        accumulate(
            map(_BRACKET_VALUE.__getitem__, brackets), lambda a, b: a + b if a + b > 0 else 0
        )
    )
    if deepest > max_depth:
        raise UnsafeInputError(f"nesting deeper than {max_depth} levels", raw=text)


# --- JSON ---------------------------------------------------------------------------------


def merge_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build a dict from pairs with duplicate keys: mappings merge, a value written twice
    stays; two different values for one key are two readings, so the load fails
    (last-wins kept `"name": "B"` of `"name": "A", ..., "name": "B"` as if certain).

    Raises:
        LoadFailure: a key written twice with different values.
    """
    out: dict[str, Any] = {}
    _merge_into(out, pairs)
    return out


def _merge_into(out: dict[str, Any], pairs: Any) -> None:
    # in place (every loaded mapping is a fresh object): linear in what is merged, where
    # copying the merged mapping at each repeat was quadratic in the repeats
    for key, value in pairs:
        old = out.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            _merge_into(old, value.items())
        elif key in out and old != value:
            raise LoadFailure(f"the key {key!r} is written twice with different values")
        else:
            out.pop(key, None)  # re-insert so the order follows the last occurrence
            out[key] = value


def load_json(text: str, limits: Limits = DEFAULT_LIMITS, *, typed: bool = False) -> Loaded:
    """Strict JSON load with duplicate-key and non-finite-constant detection.

    Args:
        text: the payload.
        limits: bounds on depth.
        typed: keep every number as :class:`JsonNumber` (its text) for the coercer.

    Raises:
        LoadFailure: not valid JSON.
        UnsafeInputError: nested too deeply, an integer too long, or (untyped) a number
            that overflows a float.
    """
    check_flow_depth(text, limits.max_depth)
    fired: list[str] = []

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        d = dict(pairs)
        if len(d) != len(pairs):
            if "duplicate_keys" not in fired:
                fired.append("duplicate_keys")
            return merge_pairs(pairs)
        return d

    def constant(name: str) -> float:
        if "json_nonfinite" not in fired:
            fired.append("json_nonfinite")
        return float(name.replace("Infinity", "inf"))

    number: Any = JsonNumber if typed else None
    try:
        value = json.loads(
            text,
            object_pairs_hook=pairs_hook,
            parse_constant=constant,
            parse_float=number or to_float,
            parse_int=number or to_int,
        )
    except json.JSONDecodeError as exc:
        raise LoadFailure(exc.msg, exc.lineno - 1, exc.colno - 1, exc.pos) from None
    except ValueError as exc:  # an integer beyond Python's digit limit
        raise UnsafeInputError(f"input refused: {exc}", raw=text[:200]) from None
    except RecursionError:
        raise UnsafeInputError("nesting too deep", raw=text) from None
    return Loaded(value, fired)


# --- YAML ---------------------------------------------------------------------------------


def _failure(exc: Exception) -> LoadFailure:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).split("\n", 1)[0]
    context = getattr(exc, "context", None)
    message = f"{context}: {problem}" if context and problem else str(problem)
    if mark is not None:
        return LoadFailure(message, mark.line, mark.column, mark.index)
    position = getattr(exc, "position", None)
    return LoadFailure(message, None, None, position)


def _surrogate_failure(text: str, index: int) -> LoadFailure:
    line = text.count("\n", 0, index)
    column = index - (text.rfind("\n", 0, index) + 1)
    return LoadFailure(f"lone surrogate U+{ord(text[index]):04X} is not text", line, column, index)


def compose_yaml(text: str) -> list[Node]:
    """Compose every document of ``text`` into libyaml nodes (scalars stay strings)."""
    try:
        loader = _Loader(text)
    except UnicodeEncodeError as exc:  # libyaml takes UTF-8: a lone surrogate is no text
        raise _surrogate_failure(text, exc.start) from None
    try:
        nodes: list[Node] = []
        while loader.check_node():
            nodes.append(loader.get_node())
        return nodes
    except yaml.YAMLError as exc:
        message = str(exc)
        if "maximum nesting depth" in message:
            raise UnsafeInputError("nesting too deep", raw=text) from None
        raise _failure(exc) from None
    finally:
        loader.dispose()


def _anchor_usage(text: str, limits: Limits) -> tuple[set[int], bool]:
    """Positions of nodes whose anchor is never referenced, and whether aliases exist."""
    anchors: dict[str, int] = {}
    used: set[str] = set()
    aliases = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > limits.max_aliases:
                    raise UnsafeInputError(
                        f"more than {limits.max_aliases} aliases",
                        raw=text,
                        position=event.start_mark.index if event.start_mark else None,
                    )
                used.add(str(event.anchor))
            else:
                anchor = getattr(event, "anchor", None)
                if anchor is not None and event.start_mark is not None:
                    anchors[anchor] = event.start_mark.index
    except yaml.YAMLError as exc:  # pragma: no cover - composed fine just before
        raise _failure(exc) from None
    return {pos for name, pos in anchors.items() if name not in used}, aliases > 0


class _Builder:
    """Turns composed nodes into Python values under the limits (see module doc)."""

    def __init__(self, text: str, typed: bool, limits: Limits) -> None:
        self.text = text
        self.typed = typed
        self.limits = limits
        self.fired: list[str] = []
        self.track = "*" in text
        self.seen: set[int] = set()
        self.alias_nodes = 0
        self.alias_size = 0
        self.expanding = 0  # > 0 while building a copy of an aliased node
        self.check_hash = " #" in text or "\t#" in text
        self.check_smart = "\u201c" in text or "\u2018" in text or "\u201e" in text
        self.unused_anchors: set[int] = set()
        if "&" in text or self.track:
            self.unused_anchors, has_alias = _anchor_usage(text, limits)
            if has_alias:
                self.fire("yaml_alias")

    def fire(self, name: str) -> None:
        if name not in self.fired:
            self.fired.append(name)

    def scalar(self, node: ScalarNode) -> Any:
        value: str = node.value
        tag = node.tag
        if tag != _STR:
            return self.tagged_scalar(node)
        if node.style == ">" and self.typed and self._lines(node) > 1:
            return Folded(value, value)  # `>` folds its lines: the model asked for that
        if node.style:
            return value  # quoted and block scalars are text
        if self.unused_anchors and node.start_mark.index in self.unused_anchors:
            self.fire("literal_anchor")
            return self.text[node.start_mark.index : node.end_mark.index]
        folded = node.start_mark.line != node.end_mark.line
        if folded:
            self.check_folded(node)
        if self.check_smart and value and value[0] in _SMART_OPEN:
            inner = self.smart_quoted(node, value)
            if inner is not None:
                # `code: “0123”` meant the quoted string "0123"
                self.fire("yaml_smart_quotes")
                return inner
        if self.check_hash and value:
            value = self.hash_after(node, value)
        if self.typed:
            if folded and value == node.value:
                return Folded(value, self.text[node.start_mark.index : node.end_mark.index])
            return value if _is_core_string(value) else Plain(value)
        return resolve_core(value)

    def _lines(self, node: ScalarNode) -> int:
        """Lines of text a block scalar holds (its indicator line not counted)."""
        source = self.text[node.start_mark.index : node.end_mark.index]
        return sum(1 for ln in source.split("\n")[1:] if ln.strip())

    def check_folded(self, node: ScalarNode) -> None:
        """Refuse a multi-line plain scalar that is really misplaced structure.

        YAML folds ``tags:\\n  - a\\n   - b`` into the one item ``"a - b"`` and
        ``a:\\n  name:x\\n  age:3`` into ``"name:x age:3"``: valid, but never what a
        model meant. Such a scalar is reported as a syntax error at the misplaced line, so
        the indentation and spacing repairs decide (and are recorded).
        """
        source = self.text[node.start_mark.index : node.end_mark.index]
        lines = source.split("\n")
        glued = 0
        for n, line in enumerate(lines):
            stripped = line.strip()
            if n and (stripped == "-" or stripped.startswith("- ")):
                raise LoadFailure(
                    "list item indented as the continuation of a plain scalar",
                    node.start_mark.line + n,
                    len(line) - len(line.lstrip()),
                    node.start_mark.index + sum(len(x) + 1 for x in lines[:n]),
                )
            if _GLUED_KEY.match(stripped):
                glued += 1
        if glued == len(lines):
            raise LoadFailure(
                "key:value lines without a space after the colon read as one text",
                node.start_mark.line,
                node.start_mark.column,
                node.start_mark.index,
            )

    def smart_quoted(self, node: ScalarNode, value: str) -> str | None:
        inner = smart_inner(value)
        if inner is not None or not self.check_hash:
            return inner
        # `url: “x # y”`: the ` #` inside the quotes is no comment
        end = node.end_mark.index
        eol = self.text.find("\n", end)
        rest = self.text[end : eol if eol >= 0 else len(self.text)]
        if rest.lstrip(" \t").startswith("#"):
            return smart_inner(value + rest.rstrip())
        return None

    def hash_after(self, node: ScalarNode, value: str) -> str:
        text = self.text
        end = node.end_mark.index
        i = end
        n = len(text)
        while i < n and text[i] in " \t":
            i += 1
        if i == end or i >= n or text[i] != "#":
            return value
        eol = text.find("\n", i)
        if eol < 0:
            eol = n
        after = text[i + 1 : i + 2]
        if after and not after.isspace() and after != "#":
            # `title: Fix bug #123`: a '#' glued to a word is text, not a comment
            self.fire("hash_in_value")
            return value + text[end:eol].rstrip()
        self.fire("trailing_comment")
        return value

    def tagged_scalar(self, node: ScalarNode) -> Any:
        tag = node.tag
        if tag.startswith("tag:yaml.org,2002:python/"):
            raise UnsafeInputError(
                f"refused YAML tag {tag}", raw=self.text, position=node.start_mark.index
            )
        if tag in _CORE_SCALAR_TAGS:
            return resolve_core(node.value)
        self.fire("ignore_tag")
        if not node.style:
            # `note: !important` meant the text "!important"
            return self.text[node.start_mark.index : node.end_mark.index].strip()
        return node.value

    def grow(self, size: int) -> None:
        """Count ``size`` characters built by expanding an alias, under the limit."""
        self.alias_size += size
        if self.alias_size > self.limits.max_alias_size:
            raise UnsafeInputError(
                f"aliases expand to more than {self.limits.max_alias_size} characters",
                raw=self.text[:200],
            )

    def build(self, node: Node, depth: int) -> Any:
        if not self.track:
            return self.build_node(node, depth)
        node_id = id(node)
        revisit = node_id in self.seen
        if revisit:
            self.alias_nodes += 1
            if self.alias_nodes > self.limits.max_alias_nodes:
                raise UnsafeInputError(
                    f"aliases expand to more than {self.limits.max_alias_nodes} nodes",
                    raw=self.text[:200],
                )
        else:
            self.seen.add(node_id)
        if revisit or self.expanding:
            self.grow(len(node.value) if isinstance(node, ScalarNode) else 1)
        if not revisit:
            return self.build_node(node, depth)
        self.expanding += 1
        try:
            return self.build_node(node, depth)
        finally:
            self.expanding -= 1

    def build_node(self, node: Node, depth: int) -> Any:
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if depth >= self.limits.max_depth:
            raise UnsafeInputError(
                f"nesting deeper than {self.limits.max_depth} levels",
                raw=self.text,
                position=node.start_mark.index,
            )
        if node.tag not in (_SEQ, _MAP):
            self.check_collection_tag(node)
        if isinstance(node, SequenceNode):
            return [self.build(child, depth + 1) for child in node.value]
        items: list[tuple[str, Any]] = []
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag == _STR:
                key = key_node.value
                if self.expanding:
                    self.grow(len(key))
            else:
                key = self.complex_key(key_node, depth)
            items.append((key, self.build(value_node, depth + 1)))
        out = dict(items)
        if len(out) != len(items):
            # each value built once: rebuilding nested duplicates would double per level
            self.fire("duplicate_keys")
            return merge_pairs(items)
        return out

    def complex_key(self, node: Node, depth: int) -> str:
        value = self.build(node, depth + 1)
        if isinstance(node, ScalarNode):
            return value if isinstance(value, str) else json.dumps(value)
        from llmkit.structured._result import to_jsonable

        return json.dumps(to_jsonable(value), ensure_ascii=False)

    def check_collection_tag(self, node: Node) -> None:
        if node.tag.startswith("tag:yaml.org,2002:python/"):
            raise UnsafeInputError(
                f"refused YAML tag {node.tag}", raw=self.text, position=node.start_mark.index
            )
        self.fire("ignore_tag")


def load_yaml(text: str, *, typed: bool = False, limits: Limits = DEFAULT_LIMITS) -> Loaded:
    """Load YAML safely (see the module docstring).

    Args:
        text: the payload.
        typed: keep non-string plain scalars as :class:`Plain` for the coercer.
        limits: bounds on depth and aliases.

    Returns:
        The loaded value (the only non-empty document, or the first one with all of them
        in ``documents`` when there are several).

    Raises:
        LoadFailure: the text is not YAML.
        UnsafeInputError: tags that construct objects, too many aliases, too deep.
    """
    nodes = compose_yaml(text)
    builder = _Builder(text, typed, limits)
    if len(nodes) == 1:
        return Loaded(builder.build(nodes[0], 0), builder.fired)
    if not nodes:
        return Loaded(None, builder.fired)
    values = [builder.build(node, 0) for node in nodes]
    docs = [v for v in values if v is not None and v != ""]
    fired = builder.fired
    if len(docs) <= 1:
        fired.append("stray_document_marker")
        return Loaded(docs[0] if docs else None, fired)
    fired.append("multiple_documents")
    return Loaded(docs[0], fired, [f"{len(docs)} documents found"], docs)
