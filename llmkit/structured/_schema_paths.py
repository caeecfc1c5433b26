"""The schema decides, for structure too: values quoted by their schema path before loading.

YAML decides that `{braced}` is a flow mapping, `&co` an anchor, `!important` a tag,
`#ff0000` a comment and `@home` an error before any schema is asked. Where the schema
asks for a **string** at that node, the value is the text the model wrote for it, so
this pass quotes exactly those values, found by their path in the block structure:

    tags:                    (schema: array of strings)
      - {braced}        →      - "{braced}"
    language: {en       →    language: "{en"

Why a tolerant pass over lines rather than spans from the composer: libyaml's scanner
raises on `%`, `@`, a backtick and an undefined alias, and turns `# …` into an empty
node, so for those there are no marks to take text from; a line walker sees them all and
stays linear. Where the schema asks for the structure (an object, an array) or admits
both, nothing is touched and YAML's reading stands (a construct that reads neither way
fails later: an unclosed `[wip` under an array schema is never completed). Without a
schema nothing runs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from llmkit._lazy import lazy_pattern
from llmkit.structured._coerce import normalize_key, schema_walker
from llmkit.structured._load import smart_inner
from llmkit.structured._repair_yaml import split_line, structure_lines, structure_splits
from llmkit.structured._schema import CompiledSchema

__all__ = ["STRING", "TYPED", "line_kinds", "quote_by_schema", "string_schema"]

#: the schema asks for text here (it admits a string and no object or array)
STRING = "string"
#: the schema types this node otherwise (a number, an object, an array, or a union
#: with structure): YAML's reading stands, no text repair guesses
TYPED = "typed"

# `- Step 1: open it` where the item is text: the whole item is the value
_TEXT_ITEM = "text item"
_INDICATORS = frozenset("{[&*!%@`#|>")
_BLOCK_HEADER = lazy_pattern(r"[|>][-+0-9]*[ \t]*(?:#.*)?\Z")
_SMART = frozenset("\u201c\u2018\u201e\"'")
_SMART_OPEN = frozenset("\u201c\u2018\u201e")
_MAX_STEPS = 64  # path depth followed into the schema


@dataclass
class _Frame:
    col: int
    path: tuple[str | int, ...]
    seq: bool
    count: int = 0
    parent_col: int = -1  # a sequence written at its key's column (`key:\n- a`)


@dataclass
class _Walk:
    """Each structure line's schema path (``None``: not followed)."""

    paths: dict[int, tuple[str | int, ...] | None] = field(default_factory=dict)
    whole_item: set[int] = field(default_factory=set)  # `- a: b` read as one item's text


def _walk(lines: list[str]) -> _Walk:
    """The path of the node each block line writes, following indentation.

    Linear in the number of lines; lines it cannot place (flow continuations, `- - x`,
    `? key`) get ``None`` and stay YAML's.
    """
    out = _Walk()
    stack: list[_Frame] = [_Frame(0, (), False)]
    pending: tuple[str | int, ...] | None = ()  # the path a deeper block would belong to
    pending_col = -1
    for i, parts in structure_splits(lines):
        line = lines[i]
        col = len(line) - len(line.lstrip(" "))
        if parts is None:
            out.paths[i] = None
            continue
        lead, key, value = parts
        dashes = lead.count("-")
        if dashes > 1 or key.startswith("?"):
            out.paths[i] = None
            pending = None
            continue
        while len(stack) > 1 and stack[-1].col > col:
            stack.pop()
        top = stack[-1]
        if dashes and top.seq and top.col == col:
            frame = top
        elif dashes:
            # a new sequence: under the key opened just above (same column or deeper)
            if pending is None or pending_col > col:
                out.paths[i] = None
                continue
            frame = _Frame(col, pending, True, parent_col=pending_col)
            stack.append(frame)
        else:
            if top.seq and top.col == col and top.parent_col == col:
                stack.pop()  # `key:\n- a\nnext: 1`: the sequence at the key's column ends
                top = stack[-1]
            if top.col < col and not top.seq:
                if pending is None:
                    out.paths[i] = None
                    continue
                top = _Frame(col, pending, False)
                stack.append(top)
            elif top.col != col or top.seq:
                out.paths[i] = None
                pending = None
                continue
            frame = top
        if dashes:
            index = frame.count
            frame.count += 1
            item_path = (*frame.path, index)
            if not key:
                out.paths[i] = item_path
                pending, pending_col = (item_path, col + 1) if not value else (None, col)
                continue
            content = col + len(lead) - (len(lead) - len(lead.lstrip(" ")))
            out.whole_item.add(i)
            inner = _Frame(content, item_path, False)
            stack.append(inner)
            out.paths[i] = (*item_path, key)
        else:
            out.paths[i] = (*frame.path, _key_text(key))
        pending, pending_col = (out.paths[i], col) if value is None else (None, col)
    return out


def _key_text(key: str) -> str:
    if key[:1] in "\"'":
        try:
            return str(json.loads(key)) if key[0] == '"' else key[1:-1].replace("''", "'")
        except ValueError:
            return key
    return key


class _Kinds:
    """The kind of node the schema asks for at a path (memoised per schema object)."""

    def __init__(self, compiled: CompiledSchema) -> None:
        self.walker = schema_walker(compiled)

    def at(self, path: tuple[str | int, ...]) -> str | None:
        schema: Any = self.walker.root
        for step in path[:_MAX_STEPS]:
            schema = self.child(schema, step)
            if schema is None:
                return None
        return self.kind(schema)

    def kind(self, schema: Any) -> str | None:
        admits = self.walker.branch_types(schema)
        if admits is None:
            return None
        if "string" in admits and not admits & {"object", "array"}:
            return STRING
        return TYPED

    def child(self, schema: Any, step: str | int) -> Any:
        schema = self.walker.deref(schema)
        if not isinstance(schema, dict):
            return None
        found = self.own_child(schema, step)
        if found is not None:
            return found
        branches = schema.get("anyOf") or schema.get("oneOf")
        if not isinstance(branches, list):
            return None
        # a union: the step is followed only where exactly one branch has it
        hits = [c for b in branches if (c := self.own_child(self.walker.deref(b), step))]
        return hits[0] if len(hits) == 1 else None

    @staticmethod
    def own_child(schema: Any, step: str | int) -> Any:
        if not isinstance(schema, dict):
            return None
        if isinstance(step, int):
            prefix = schema.get("prefixItems")
            if isinstance(prefix, list):
                if step < len(prefix):
                    return prefix[step]
                items = schema.get("items")
                return items if isinstance(items, dict) else None
            items = schema.get("items")
            return items if isinstance(items, dict) else None
        props = schema.get("properties")
        if isinstance(props, dict):
            if step in props:
                return props[step]
            norm = normalize_key(step)
            named = [v for k, v in props.items() if normalize_key(k) == norm]
            if len(named) == 1:
                return named[0]
        extra = schema.get("additionalProperties")
        return extra if isinstance(extra, dict) else None


def string_schema(compiled: CompiledSchema | None) -> bool:
    """Whether the whole answer is asked for as text (a string and no structure)."""
    return compiled is not None and _Kinds(compiled).at(()) == STRING


def line_kinds(text: str, compiled: CompiledSchema | None) -> dict[int, str]:
    """Line index → :data:`STRING` or :data:`TYPED` where the schema decides the node
    (or ``"text item"``: a `- key: value` line whose list item the schema asks as text)."""
    if compiled is None:
        return {}
    kinds = _Kinds(compiled)
    walk = _walk(text.split("\n"))
    out: dict[int, str] = {}
    seen: dict[tuple[str | int, ...], str | None] = {}  # a key repeated in every item
    for i, path in walk.paths.items():
        if path is None:
            continue
        kind = seen[path] if path in seen else seen.setdefault(path, kinds.at(path))
        if kind is not None:
            out[i] = kind
        if i in walk.whole_item and kinds.at(path[:-1]) == STRING:
            out[i] = _TEXT_ITEM
    return out


def _anchor_names(text: str, sigil: str) -> set[str]:
    if sigil not in text:
        return set()
    return set(re.findall(rf"(?:^|[\s,\[{{]){re.escape(sigil)}([^\s,\[\]{{}}]+)", text, re.M))


@dataclass
class _Quoting:
    text: str
    lines: list[str]
    defined: set[str]  # anchors `&x`
    used: set[str]  # aliases `*x`

    def reason(self, value: str, nxt_deeper: bool) -> str | None:
        """The rule name under which a value at a string node is its own text, else None."""
        c = value[0]
        if c in _SMART_OPEN and smart_inner(value) is not None:
            return "yaml_smart_quotes"  # `“Note: read this”` meant the quoted text
        if c in _SMART or (c not in _INDICATORS and ": " not in value and value[-1] != ":"):
            return None
        if nxt_deeper and value[-1] == ":":
            return None  # `- Notes:` opening a block below
        if c == "#":
            return None if nxt_deeper else "hash_value"
        if c in "{[":
            if nxt_deeper and _open_flow(value):
                return None  # a flow collection continued on the next lines
            return "quote_indicator_value"
        if c == "&":
            name = value[1:].split(None, 1)[0] if len(value) > 1 else ""
            return None if name and name in self.used else "literal_anchor"
        if c == "*":
            return None if value[1:] in self.defined else "quote_indicator_value"
        if c == "!":
            return None if value.startswith("!!") else "ignore_tag"
        if c in "|>":
            # a header opens a block only where lines follow deeper; `note: |` alone is text
            blocks = _BLOCK_HEADER.match(value) and nxt_deeper
            return None if blocks else "block_indicator_misuse"
        if c in "%@`":
            return "quote_indicator_value"
        return "quote_colon_value"


def _open_flow(value: str) -> bool:
    depth = 0
    for ch in value:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
    return depth > 0


def _strip_comment(value: str) -> str:
    """`[x]  # note` → `[x]`: a ` #` after a closed flow collection is a comment."""
    if value[0] in "{[" and not _open_flow(value):
        close = max(value.rfind("]"), value.rfind("}"))
        rest = value[close + 1 :]
        if rest.strip().startswith("#") and rest[:1] in " \t":
            return value[: close + 1]
    return value


def quote_by_schema(text: str, compiled: CompiledSchema | None) -> tuple[str, list[str]] | None:
    """Quote the values YAML would read as structure or syntax where the schema asks for
    a string; the new text and the rules that fired, or ``None`` when nothing changed.

    `note: @home` → `note: "@home"`; `- {braced}` (items: string) → `- "{braced}"`;
    `- Step 1: open it` (items: string) → `- "Step 1: open it"`; `a: &x 1\\nb: *x` is left
    alone (a real anchor and its alias).
    """
    if compiled is None:
        return None
    kinds = line_kinds(text, compiled)
    if STRING not in kinds.values() and _TEXT_ITEM not in kinds.values():
        return None
    lines = text.split("\n")
    q = _Quoting(text, lines, _anchor_names(text, "&"), _anchor_names(text, "*"))
    fired: list[str] = []
    # the next non-blank line after each line, in one backward pass (a slice of the rest
    # per line was quadratic: 1.5 s for an 80 KB list)
    following = [""] * len(lines)
    for j in range(len(lines) - 2, -1, -1):
        following[j] = lines[j + 1] if lines[j + 1].strip() else following[j + 1]
    for i in structure_lines(lines):
        kind = kinds.get(i)
        if kind not in (STRING, _TEXT_ITEM):
            continue
        parts = split_line(lines[i])
        if parts is None:
            continue
        lead, key, value = parts
        if kind == _TEXT_ITEM:
            value = lines[i][len(lead) :].rstrip()
            key = ""
        if not value:
            continue
        nxt = following[i]
        # deeper than the node's own column (a key's, or an item's dash)
        own = len(lead) if key else len(lead.rstrip(" ")) - 1
        deeper = bool(nxt) and len(nxt) - len(nxt.lstrip(" ")) > own
        name = q.reason(value, deeper)
        if name is None:
            continue
        inner = smart_inner(value) if name == "yaml_smart_quotes" else None
        text = inner if inner is not None else _strip_comment(value)
        new = json.dumps(text, ensure_ascii=False)
        lines[i] = f"{lead}{key}: {new}" if key else f"{lead}{new}"
        if name not in fired:
            fired.append(name)
    return ("\n".join(lines), fired) if fired else None
