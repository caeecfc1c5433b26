"""Repair rules for block YAML, line by line, each linear in the text length.

They run only after the strict load failed, in registry order; the pipeline tries a load
after every rule that changed the text. Lines inside block scalars (``|`` / ``>``) are
left alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

from llmkit._lazy import lazy_pattern
from llmkit.structured._load import smart_inner
from llmkit.structured._rules import RepairContext, register_rule

__all__ = ["hash_values", "split_line", "structure_lines", "structure_splits"]

# `  - - key: value` → lead, key, value (value None when nothing follows the colon).
# Linear per line: a plain key runs (possessively) up to its first colon followed by a
# blank or the line end, spaces included only where no such colon follows them; the value
# is the rest without trailing blanks. (A lazy `key*?[ \t]*:` and `value*?[ \t]*$` rescan
# every run of blanks from each of its positions: a 24 KB line took seconds.)
_KEY_TAIL = r"(?:[^:\s]++|[^\S \t\n]++|[ \t]++(?!:(?:[ \t]|$))|:(?![ \t]|$))*+"
_VALUE = r"(?P<value>(?:[^ \t\n]++|[ \t]++(?=[^ \t\n]))*+)"
_KV = re.compile(
    rf"""(?P<lead>[ ]*(?:-[ ]+)*)
        (?P<key>"(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|[^\s#"'\-?:\[\]{{}}|>*&!%@`,]{_KEY_TAIL}|[-?:][^\s#]{_KEY_TAIL})
        [ \t]*+:(?:[ \t]++{_VALUE})?[ \t]*+$""",
    re.X,
)
_ITEM = lazy_pattern(rf"(?P<lead>[ ]*(?:-[ ]+)*-[ ]+){_VALUE}[ \t]*+$")
_BLOCK_HEADER = re.compile(r"[|>][-+0-9]*[ \t]*(?:#.*)?$")


def split_line(line: str) -> tuple[str, str, str | None] | None:
    """Split a block line into (lead, key, value); ``key`` is "" for a bare list item."""
    m = _KV.match(line)
    if m is not None and " #" not in m.group("key"):
        return m.group("lead"), m.group("key"), m.group("value")
    m = _ITEM.match(line)
    if m is not None:
        return m.group("lead"), "", m.group("value")
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def structure_lines(lines: list[str]) -> Iterator[int]:
    """Indexes of lines outside block scalars and not blank or comments."""
    for i, _ in structure_splits(lines):
        yield i


def structure_splits(lines: list[str]) -> Iterator[tuple[int, tuple[str, str, str | None] | None]]:
    """:func:`structure_lines` with each line's :func:`split_line`, split once (a caller
    that splits again pays twice: the schema paths walk every line on each repair)."""
    block_indent: int | None = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if block_indent is not None:
            if not stripped or _indent(line) > block_indent:
                continue
            block_indent = None
        if not stripped or stripped.startswith("#"):
            continue
        parts = split_line(line)
        yield i, parts
        if parts is not None and parts[2] is not None and _BLOCK_HEADER.match(parts[2]):
            block_indent = _indent(line)


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _typed_lines(text: str, ctx: RepairContext | None) -> dict[int, str]:
    """Lines whose node the schema types as other than text: no shape guess applies."""
    if ctx is None or ctx.line_kinds is None:
        return {}
    return {i: k for i, k in ctx.line_kinds(text).items() if k == "typed"}


def _map_values(text: str, fix: object, ctx: RepairContext | None = None) -> str | None:
    """Apply ``fix(value) -> new | None`` to each plain value outside block scalars
    (with ``ctx``: not on lines the schema types as other than text)."""
    return _map_values_at(text, lambda _i, value: fix(value), ctx)  # type: ignore[operator]


def _map_values_at(
    text: str, fix: Callable[[int, str], str | None], ctx: RepairContext | None = None
) -> str | None:
    """:func:`_map_values` with ``fix(line_index, value)``."""
    lines = text.split("\n")
    changed = False
    typed = _typed_lines(text, ctx)
    for i, parts in structure_splits(lines):
        if i in typed:
            continue
        if parts is None or not parts[2]:
            continue
        lead, key, value = parts[0], parts[1], parts[2]
        new = fix(i, value)
        if new is not None and new != value:
            lines[i] = f"{lead}{key}: {new}" if key else f"{lead}{new}"
            changed = True
    return "\n".join(lines) if changed else None


@register_rule(
    "tabs_to_spaces",
    phase="yaml",
    error_class="tabs used for indentation",
    hint="Indent with two spaces, never tabs.",
)
def tabs_to_spaces(text: str, ctx: RepairContext) -> str | None:
    """`a:\\n\\tb: 1` → `a:\\n  b: 1`"""
    if "\t" not in text:
        return None
    out = []
    changed = False
    for line in text.split("\n"):
        body = line.lstrip(" \t")
        lead = line[: len(line) - len(body)]
        if "\t" in lead:
            lead = lead.replace("\t", "  ")
            changed = True
        if body.startswith("-\t"):
            body = "- " + body[2:].lstrip("\t")
            changed = True
        out.append(lead + body)
    return "\n".join(out) if changed else None


_GLUED = lazy_pattern(
    r"^(?P<lead>[ ]*(?:-[ ]+)*)(?P<key>[A-Za-z_][\w\-]*):(?P<value>[^\s:/\\][^\n]*)$"
)


@register_rule(
    "space_after_colon",
    phase="yaml",
    error_class="missing space after a colon",
    hint="Always put a space after the colon: `key: value`.",
)
def space_after_colon(text: str, ctx: RepairContext) -> str | None:
    """`name:Ann\\nage:3` → `name: Ann\\nage: 3`"""
    lines = text.split("\n")
    changed = False
    for i in structure_lines(lines):
        line = lines[i]
        m = _GLUED.match(line)
        if m is not None:
            lines[i] = f"{m.group('lead')}{m.group('key')}: {m.group('value')}"
            changed = True
    return "\n".join(lines) if changed else None


_SMART_WRAPPED = lazy_pattern(
    r"(?:\u201c[^\u201c\u201d\u201e\n]*[\u201d\u201c]|\u2018[^\u2018\n]*\u2019)\Z"
)


@register_rule(
    "yaml_smart_quotes",
    phase="yaml",
    error_class="typographic quotes around a value",
    hint='Quote values with plain ASCII quotes (") only, never “ ” or ‘ ’.',
)
def yaml_smart_quotes(text: str, ctx: RepairContext) -> str | None:
    """`title: “Note: read this”` → `title: "Note: read this"` (a value that loads
    already, `code: “0123”`, is decided by the loader under the same name)"""
    if "\u201c" not in text and "\u2018" not in text:
        return None

    def fix(value: str) -> str | None:
        return _quote(smart_inner(value) or "") if _SMART_WRAPPED.match(value) else None

    return _map_values(text, fix)


def _is_flow_complete(value: str) -> bool:
    return (value[0] == "[" and value.rstrip().endswith("]")) or (
        value[0] == "{" and value.rstrip().endswith("}")
    )


@register_rule(
    "quote_colon_value",
    phase="yaml",
    error_class="unquoted ': ' inside a value",
    hint="Quote any value that contains ': ', e.g. title: \"Note: read this\".",
)
def quote_colon_value(text: str, ctx: RepairContext) -> str | None:
    """`title: Note: read this` → `title: "Note: read this"`"""
    if ": " not in text and not re.search(r":[ \t]*$", text, re.M):
        return None

    def fix(value: str) -> str | None:
        if value[0] in "\"'[{|>&*!" or (": " not in value and not value.endswith(":")):
            return None
        return _quote(value)

    return _map_values(text, fix, ctx)


_ALWAYS_BAD_START = frozenset("@`%")


@register_rule(
    "quote_indicator_value",
    phase="yaml",
    error_class="value starting with a YAML indicator (* & @ ` % ! [ {)",
    hint="Quote values that start with *, &, @, `, %, !, [ or {.",
)
def quote_indicator_value(text: str, ctx: RepairContext) -> str | None:
    """`rating: *****` → `rating: "*****"`; `note: @home` → `note: "@home"`"""
    anchors = set(re.findall(r"&([^\s,\[\]{}]+)", text)) if "&" in text else set()

    def fix(value: str) -> str | None:
        c = value[0]
        if c in _ALWAYS_BAD_START:
            return _quote(value)
        if c == "*":
            name = value[1:]
            if name and name in anchors and " " not in name:
                return None  # a real alias
            return _quote(value)
        if c == "&" and (len(value) == 1 or value[1] in " \t"):
            return _quote(value)
        if c == "!" and (" " in value.strip() or len(value) == 1):
            return _quote(value)
        if c in "[{" and not _is_flow_complete(value) and ("]" if c == "[" else "}") in value:
            return _quote(value)  # `[draft] not final`; an unclosed `[a, b` may continue
        return None

    return _map_values(text, fix, ctx)


@register_rule(
    "block_indicator_misuse",
    phase="yaml",
    error_class="| or > followed by text on the same line",
    hint="Write `key: |` alone on its line and indent the text below it, or quote it.",
)
def block_indicator_misuse(text: str, ctx: RepairContext) -> str | None:
    """`note: | see below` → `note: "| see below"`; `score: > 90%` → `score: "> 90%"`"""
    if "|" not in text and ">" not in text:
        return None

    def fix(value: str) -> str | None:
        if value[0] in "|>" and not _BLOCK_HEADER.match(value):
            return _quote(value)
        return None

    return _map_values(text, fix, ctx)


def _fix_quoted(value: str) -> str | None:
    q = value[0]
    if q == '"':
        try:
            json.loads(value)
            return None
        except ValueError:
            pass
        if len(value) > 1 and value.endswith('"'):
            inner = value[1:-1]
            fixed = re.sub(r'(\\.)|"', lambda m: m.group(1) or '\\"', inner)
            fixed = re.sub(r'\\(?!["\\/bfnrtu0abevN_LP x])', r"\\\\", fixed)
            return f'"{fixed}"'
        if value.count('"') == 1:
            return value + '"'  # the closing quote forgotten: the line end shows the end
        return _quote(value)  # `"Hello" he said` is text
    if q == "'":
        if len(value) > 1 and value.endswith("'"):
            inner = value[1:-1]
            fixed = re.sub(r"'{1,2}", "''", inner)
            return None if fixed == inner else f"'{fixed}'"
        return _quote(value)
    return None


@register_rule(
    "unescaped_quotes",
    phase="yaml",
    error_class="unescaped quotes inside a quoted value",
    hint="Inside double quotes write \\\" for a quote; inside single quotes write ''.",
)
def unescaped_quotes(text: str, ctx: RepairContext) -> str | None:
    """`q: "He said "hi""` → `q: "He said \\"hi\\""`; `a: 'don't'` → `a: 'don''t'`"""
    if '"' not in text and "'" not in text:
        return None
    last = _last_line(text.split("\n"))

    def fix(i: int, value: str) -> str | None:
        if _cut_in_quotes(last, i, value):
            return None
        return _fix_quoted(value) if value[0] in "\"'" else None

    return _map_values_at(text, fix)


def _last_line(lines: list[str]) -> int:
    return max((i for i, ln in enumerate(lines) if ln.strip()), default=-1)


def _cut_in_quotes(last: int, i: int, value: str) -> bool:
    """`note: "abc` on the answer's last line (``last``): cut inside the quotes, so its
    end is unknown; no rule closes the quote or reads it as text (a cut value is never
    completed). On any other line the line end shows the value ended there."""
    return i == last and value[:1] == '"' and value.count('"') == 1


@register_rule(
    "block_scalar_indent",
    phase="yaml",
    lossless=False,
    error_class="text under | or > not indented",
    hint="Indent the lines of a | or > block deeper than its key.",
)
def block_scalar_indent(text: str, ctx: RepairContext) -> str | None:
    """`note: |\\nline one\\nnext: 1` → `note: |\\n  line one\\nnext: 1`"""
    lines = text.split("\n")
    changed = False
    i = 0
    while i < len(lines):
        parts = split_line(lines[i])
        if parts is None or parts[2] is None or not _BLOCK_HEADER.match(parts[2]):
            i += 1
            continue
        base = _indent(lines[i])
        j = i + 1
        while j < len(lines):
            line = lines[j]
            if line.strip() and _indent(line) <= base:
                if split_line(line) is not None and (split_line(line) or ("", "", None))[1]:
                    break  # the next key
                lines[j] = " " * (base + 2) + line.lstrip(" ")
                changed = True
            elif line.strip() and _indent(line) > base:
                pass
            j += 1
        i = j
    return "\n".join(lines) if changed else None


def _opens_block(line: str) -> bool:
    parts = split_line(line)
    if parts is None:
        return False
    _, key, value = parts
    # `- id: 4` holds a scalar: a deeper line after it is the item's next key, not a child
    return (key and value is None) or (not key and not value)


def _is_item(line: str) -> bool:
    body = line.lstrip(" ")
    return body == "-" or body.startswith("- ")


def _sibling_column(lines: list[str], order: list[int], n: int, col: int) -> int | None:
    """The column of the list item above an item at ``col`` (the structure lines
    ``order[:n]``, read upwards) when it is one off, else None (an item at ``col``
    itself, or a key at or left of it, ends the search)."""
    for k in range(n - 1, -1, -1):
        j = order[k]
        indent = _indent(lines[j])
        if _is_item(lines[j]):
            if indent == col:
                return None
            if abs(indent - col) == 1:
                return indent
            if indent < col:
                return None
        elif indent <= col:
            return None
    return None


@register_rule(
    "align_list_items",
    phase="yaml",
    error_class="a list item indented one space more or less than its siblings",
    hint="Indent every item of a list by the same number of spaces.",
)
def align_list_items(text: str, ctx: RepairContext) -> str | None:
    """`- a\n - b` → `- a\n- b`; `  - name: x\n   - name: y\n     qty: 2` →
    `  - name: x\n  - name: y\n    qty: 2` (the item moves with its own lines)

    Only a one-column offset from the list item just above counts: no YAML nesting is
    written one column deeper than an item, so the item can only be its sibling.
    """
    lines = text.split("\n")
    order = list(structure_lines(lines))
    changed = False
    for n, i in enumerate(order):
        if not n or not _is_item(lines[i]):
            continue
        col = _indent(lines[i])
        sibling = _sibling_column(lines, order, n, col)
        if sibling is None:
            continue
        stop = max(col, sibling)
        # (no slices of ``order`` and a set: copying it per item made this quadratic)
        block = {i}
        last = i
        for k in range(n + 1, len(order)):
            j = order[k]
            if _indent(lines[j]) <= stop:
                break
            block.add(j)
            last = j
        for j in range(i, last + 1):
            if j in block or (lines[j].strip() and _indent(lines[j]) > stop):
                line = lines[j]
                lines[j] = " " + line if sibling > col else line[1:] if line[:1] == " " else line
        changed = True
    return "\n".join(lines) if changed else None


@register_rule(
    "fix_indentation",
    phase="yaml",
    lossless=False,
    error_class="wrong or mixed indentation of lists and nested maps",
    hint="Indent nested keys and list items consistently with two spaces per level.",
)
def fix_indentation(text: str, ctx: RepairContext) -> str | None:
    """`a:\\n    b: 1\\n  c: 2` → `a:\\n    b: 1\\n    c: 2` (a line between two levels
    joins the deeper one; an over-indented sibling joins its siblings)"""
    lines = text.split("\n")
    levels = [0]
    changed = False
    prev_opens = False
    prev_plain_value = False
    for i in structure_lines(lines):
        line = lines[i]
        col = _indent(line)
        parts = split_line(line)
        if col > levels[-1]:
            if prev_opens:
                levels.append(col)
            elif prev_plain_value and parts is None:
                continue  # continuation of a multi-line plain scalar
            else:
                col = levels[-1]
        else:
            popped = None
            while len(levels) > 1 and col < levels[-1]:
                popped = levels.pop()
            if col != levels[-1]:
                col = popped if popped is not None and col > levels[-1] else levels[-1]
                if col != levels[-1]:
                    levels.append(col)
        if col != _indent(line):
            lines[i] = " " * col + line.lstrip(" ")
            changed = True
        if parts is not None and "-" in parts[0]:
            # `- key: v`: the item's keys continue at the content column
            content = col + len(parts[0]) - _indent(parts[0]) if parts[1] else None
            if content is not None and content > levels[-1]:
                levels.append(content)
        prev_opens = _opens_block(lines[i])
        prev_plain_value = parts is not None and bool(parts[2])
    return "\n".join(lines) if changed else None


@register_rule(
    "quote_error_value",
    phase="yaml",
    lossless=False,
    error_class="value the YAML parser rejected",
    hint="Quote string values that contain punctuation.",
)
def quote_error_value(text: str, ctx: RepairContext) -> str | None:
    """Last resort: the value on the line the parser rejected is read as text.
    `a: "x" y` → `a: "\\"x\\" y"`"""
    if ctx.error_line is None:
        return None
    lines = text.split("\n")
    # a line's schema path follows from the lines above it alone: the kinds of the lines
    # up to the error, not of the whole answer (this rule runs once per error line)
    typed = _typed_lines("\n".join(lines[: ctx.error_line + 1]), ctx)
    for i in (ctx.error_line, ctx.error_line - 1):
        if 0 <= i < len(lines) and i not in typed:
            parts = split_line(lines[i])
            if parts is None or not parts[2]:
                continue
            lead, key, value = parts[0], parts[1], parts[2]
            if _cut_in_quotes(_last_line(lines), i, value):
                return None
            try:
                json.loads(value)
                continue
            except ValueError:
                pass
            new = _quote(value)
            lines[i] = f"{lead}{key}: {new}" if key else f"{lead}{new}"
            return "\n".join(lines)
    return None


@register_rule(
    "drop_stray_line",
    phase="yaml",
    lossless=False,
    error_class="a stray line that is neither key nor item",
    hint="Every line must be a `key: value` pair or a `- item`.",
)
def drop_stray_line(text: str, ctx: RepairContext) -> str | None:
    """Last resort: a line that is neither a key nor a list item is dropped.
    `a: 1\\nsee above\\nb: 2` → `a: 1\\nb: 2`"""
    if ctx.error_line is None:
        return None
    lines = text.split("\n")
    for i in (ctx.error_line, ctx.error_line - 1):
        line = lines[i].strip() if 0 <= i < len(lines) else ""
        if line[:1] in "\"'{[\u201c\u2018":
            return None  # a quoted scalar (`"a",`, `“a”,` too) or a flow collection: a value
        if line.startswith("-"):
            return None  # `-item`, `-"x"`: a list item that lost its space, never prose
        if line and split_line(lines[i]) is None:
            if _may_continue(lines, i, ctx):
                return None
            ctx.notes.append(f"dropped line {i + 1}: {lines[i].strip()[:60]}")
            del lines[i]
            return "\n".join(lines)
    return None


_LITERAL_VALUE = lazy_pattern(r"[-+]?[\d.,_]+|true|false|null|~|yes|no", re.I)


def _may_continue(lines: list[str], i: int, ctx: RepairContext) -> bool:
    """Is line ``i`` perhaps the rest of the text value on the line above it?

    `summary: First line` then `second line continues` at the margin: the model went on
    with the value, unindented. Dropping the line would lose the text it wrote, so a line
    right under a text value stays (the answer fails) unless the schema types that value
    as other than text (a number, a boolean: no continuation is possible).
    """
    if i == 0:
        return False
    above = split_line(lines[i - 1])
    if above is None or not above[2] or not above[2].strip():
        return False
    value = above[2].strip()
    if value[:1] in "\"'[{|>" or _LITERAL_VALUE.fullmatch(value):
        return False  # a quoted, flow or block value, or a literal, is whole on its line
    kinds = ctx.line_kinds("\n".join(lines)) if ctx.line_kinds is not None else {}
    return kinds.get(i - 1) != "typed"


_HASH_VALUE = lazy_pattern(
    r"""(?P<lead>[ ]*(?:-[ ]+)*)(?P<key>(?:"[^"\n]*"|'[^'\n]*'|[^\s#"'\-?:\[\]{}][^\n#]*?)[ \t]*:[ \t]+|-[ \t]+)(?P<value>\#[^\n]*?)[ \t]*$"""
)


@register_rule(
    "hash_value",
    phase="load",
    lossless=False,
    error_class="a value starting with # read as a comment",
    hint='Quote values that start with #, e.g. channel: "#general".',
)
def hash_values(text: str, ctx: RepairContext) -> str | None:
    """`channel: #general` → `channel: "#general"`; `- #urgent` → `- "#urgent"`

    YAML reads a ``#`` after a blank as a comment, so the value would vanish (null). A key
    whose block follows on the next lines keeps its comment: `address: # home` then an
    indented `street: x`.
    """
    if "#" not in text:
        return None
    lines = text.split("\n")
    structure = list(structure_lines(lines))
    changed = False
    typed = _typed_lines(text, ctx) if "#" in text else {}
    for n, i in enumerate(structure):
        line = lines[i]
        if "#" not in line or i in typed:
            continue
        m = _HASH_VALUE.fullmatch(line)
        if m is None:
            continue
        nxt = lines[structure[n + 1]] if n + 1 < len(structure) else ""
        is_key = m.group("key").rstrip().endswith(":")
        if nxt and (
            _indent(nxt) > _indent(line)
            or (is_key and _indent(nxt) == _indent(line) and nxt.lstrip(" ").startswith("- "))
        ):
            continue  # the key's value is the block below: the `#` starts a comment
        lines[i] = f"{m.group('lead')}{m.group('key')}{_quote(m.group('value'))}"
        changed = True
    return "\n".join(lines) if changed else None
