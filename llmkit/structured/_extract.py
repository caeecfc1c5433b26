"""Locate the payload in a model answer: reasoning blocks, code fences, prose, odd spaces.

``extract`` rules run before the strict load only when their marker is present (a fence,
a ``<think>`` tag). Such a marker can also be content of a valid document (a key, a block
scalar holding markdown), so the pipeline keeps the answer as written whenever it loads
and validates as it is. ``text`` rules run only after the strict load failed, so a valid
answer is never touched by them.
"""

from __future__ import annotations

import json
import re

from llmkit._lazy import lazy_pattern
from llmkit.structured._rules import RepairContext, register_rule

__all__ = [
    "LEAD_INS",
    "drop_lines",
    "edge_prose_lines",
    "escaped_line_breaks",
    "extract_fence",
    "find_json_end",
    "item_lost_space",
    "json_payload_start",
    "key_value_lines",
    "normalize_newlines",
    "normalize_spaces",
    "scalar_in_sentence",
    "space_after_dash",
    "strip_bom",
    "strip_prose",
    "strip_think",
]

_THINK_NAMES = ("think", "thinking", "reasoning", "reflection", "scratchpad", "analysis")
# `[^<>\n]`: an opening tag without its `>` is scanned up to the next `<` only, so a line of
# thousands of `<think ` is read once, not once per tag
_THINK_OPEN = lazy_pattern(rf"<({'|'.join(_THINK_NAMES)})\b[^<>\n]*+>", re.I)
_THINK_CLOSE = {name: re.compile(rf"</{name}>", re.I) for name in _THINK_NAMES}
_THINK_CLOSE_ANY = lazy_pattern(rf"</({'|'.join(_THINK_NAMES)})>", re.I)
_FENCE_OPEN = lazy_pattern(r"^[ \t]*(`{3,}|~{3,})[ \t]*([^\n`]*)$", re.M)
_YAML_TAGS = frozenset(["yaml", "yml"])
_JSON_TAGS = frozenset(["json", "jsonc", "json5", "javascript", "js"])


@register_rule(
    "strip_think",
    phase="extract",
    error_class="reasoning block before the answer",
    hint="Put only the final answer in your reply, no <think> notes.",
)
def strip_think(text: str, ctx: RepairContext) -> str | None:
    """`<think>let me see</think>\\na: 1` → `a: 1`"""
    if "</" not in text and "<" not in text:
        return None
    # one left-to-right pass (linear in the text, however many blocks it holds)
    pieces: list[str] = []
    pos = 0
    unclosed: set[str] = set()  # names with no closing tag after some point: none later
    while True:
        m = _THINK_OPEN.search(text, pos)
        if m is None:
            break
        pieces.append(text[pos : m.start()])
        name = m.group(1).lower()
        close = None if name in unclosed else _THINK_CLOSE[name].search(text, m.end())
        if close is not None:
            pos = close.end()
        else:
            # unclosed: the reasoning runs to the first fence, or swallows the rest
            unclosed.add(name)
            fence = text.find("```", m.end())
            pos = fence if fence >= 0 else len(text)
    changed = bool(pieces)
    out = "".join(pieces) + text[pos:] if changed else text
    stray = _THINK_CLOSE_ANY.search(out)
    if stray is not None:  # the template opened the block in the prompt
        out = out[stray.end() :]
        changed = True
    return out.strip("\n") if changed else None


_DOCUMENT_START = lazy_pattern(r"\s*+(?:[\[{]|- |[^\s:]++:(?:\s|$))")


def _document_side(before: str, after: str) -> bool:
    """Is the document before a lone fence rather than after it? Before, where only that
    side starts like a document (a bracket, a list item, a key); where both do, the side
    with more lines, then more text."""
    doc_before = _DOCUMENT_START.match(before) is not None
    doc_after = _DOCUMENT_START.match(after) is not None
    if doc_before != doc_after:
        return doc_before
    return _weight(before) > _weight(after)


def _weight(text: str) -> tuple[int, int]:
    return sum(1 for ln in text.split("\n") if ln.strip()), len(text.strip())


def _fence_blocks(text: str) -> list[tuple[str, str]]:
    blocks: list[tuple[str, str]] = []
    pos = 0
    while True:
        m = _FENCE_OPEN.search(text, pos)
        if m is None:
            break
        fence, info = m.group(1), m.group(2).strip().lower()
        start = m.end() + 1
        close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.M)
        c = close.search(text, start)
        if c is None:
            body = text[start:]
            stripped = body.rstrip()
            if stripped.endswith(fence[0] * 3):  # closing fence glued to the last line
                body = stripped.rstrip(fence[0])
            before = text[pos : m.start()]
            if not blocks and not info and _document_side(before, body):
                # `a: 1\n```\n\nLet me know!`: a closing fence whose opener was left
                # off (an opener has the document after it, not a remark)
                body = before
            blocks.append((info, body))
            break
        blocks.append((info, text[start : c.start()]))
        pos = c.end()
    return blocks


@register_rule(
    "extract_fence",
    phase="extract",
    error_class="answer wrapped in a code fence",
    hint="Reply with the bare document, without ``` code fences.",
)
def extract_fence(text: str, ctx: RepairContext) -> str | None:
    """`Here you go:\\n```yaml\\na: 1\\n```\\nBye` → `a: 1` (unclosed fences too)"""
    if "```" not in text and "~~~" not in text:
        return None
    blocks = _fence_blocks(text)
    if not blocks:
        return None
    wanted = _JSON_TAGS if ctx.format == "json" else _YAML_TAGS
    fitting = [b for info, b in blocks if info.split(" ")[0] in wanted]
    others = [b for info, b in blocks if info.split(" ")[0] not in wanted]
    ordered = fitting + others
    bodies = []
    for body in ordered:
        first, _, rest = body.partition("\n")
        if first.strip().lower() in _YAML_TAGS | _JSON_TAGS and rest:
            body = rest  # ```\nyaml\n...: the tag on its own line
        bodies.append(body.strip("\n"))
    bodies = [b for b in bodies if b.strip()]
    if not bodies:
        return None
    if len(bodies) > 1:
        ctx.candidates.extend(bodies[1:])
        ctx.notes.append(f"{len(bodies)} fenced blocks found; tried in order")
    return bodies[0]


_ESCAPED_BREAK = lazy_pattern(r"""\\n[ ]*+(?:-[ ]?+[^\s\-]|```|[\w"']{1,60}+:)""")


@register_rule(
    "escaped_line_breaks",
    phase="extract",
    before="strip_think",
    error_class="line breaks written as \\n (an escaped answer)",
    hint="Write real line breaks, not \\n.",
)
def escaped_line_breaks(text: str, ctx: RepairContext) -> str | None:
    """`name: Ann\\nage: 3` (one line, copied from a log or a string literal) →
    `name: Ann` and `age: 3` on two lines: only an answer with no real line break where
    two escaped lines (or the first and another) start with a key, an item or a fence
    (YAML would read `- a\\n- b` as the one item `a\\n- b`); a sentence that mentions
    `\\n- ` once stays as written. A JSON answer is the JSON engine's."""
    body = text.strip().lstrip("\ufeff").strip()
    if "\n" in body or "\\n" not in body or body[:1] in '{["':
        return None
    parts = body.split("\\n")
    starts = [_ESCAPED_BREAK.match("\\n" + p) is not None for p in parts]
    if sum(starts[1:]) < 2 and not (starts[0] and any(starts[1:])):
        return None  # one `\\n- ` inside a sentence is the sentence's text
    return "\n".join(p.replace('\\"', '"') for p in parts)


@register_rule(
    "strip_bom",
    phase="text",
    error_class="byte-order mark before the document",
    hint="Start the reply directly with the document.",
)
def strip_bom(text: str, ctx: RepairContext) -> str | None:
    """`\\ufeff{"a": 1}` → `{"a": 1}` (a BOM inside a value is the author's text)"""
    body = text.lstrip()
    if not body.startswith("\ufeff"):
        return None
    return text[: len(text) - len(body)] + body.lstrip("\ufeff")


@register_rule(
    "normalize_newlines",
    phase="text",
    error_class="CR or CRLF line breaks",
    hint="Use plain newlines.",
)
def normalize_newlines(text: str, ctx: RepairContext) -> str | None:
    """`a: 1\\r\\nb: 2` → `a: 1\\nb: 2`"""
    if "\r" not in text:
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


_ODD = "\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u200b\u200c\u200d\u2060\ufeff"
# only where spaces are structure: line starts, around indicators, line ends; text inside
# values keeps its non-breaking spaces
_STRUCTURAL_ODD = lazy_pattern(
    rf"^[ \t{_ODD}]*[{_ODD}][ \t{_ODD}]*|(?<=[:,\-\[{{])[{_ODD}]+|(?<![{_ODD}])[{_ODD}]++(?=:|$)",
    re.M,
)
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")


@register_rule(
    "normalize_spaces",
    phase="text",
    error_class="non-breaking or zero-width spaces in the structure",
    hint="Use only plain spaces for indentation and separation.",
)
def normalize_spaces(text: str, ctx: RepairContext) -> str | None:
    """`a:\u00a0\u00a01` → `a:  1`; `\u200bkey: 1` → `key: 1` (inside values they stay)"""

    def sub(m: re.Match[str]) -> str:
        return "".join("" if c in _ZERO_WIDTH else " " for c in m.group())

    new = _STRUCTURAL_ODD.sub(sub, text)
    return new if new != text else None


_JSON_SCAN = lazy_pattern(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)|[{}\[\]]', re.S)


def find_json_end(text: str, start: int) -> int | None:
    """Index just past the bracket that closes the one at ``start`` (strings skipped)."""
    depth = 0
    for m in _JSON_SCAN.finditer(text, start):
        tok = m.group()
        if tok in "{[":
            depth += 1
        elif tok in "}]":
            depth -= 1
            if depth == 0:
                return m.end()
    return None


#: first words of a chatty preamble ("Sure! Here is ...:")
LEAD_INS = frozenset(
    [
        "here",
        "here's",
        "sure",
        "certainly",
        "below",
        "okay",
        "ok",
        "the",
        "this",
        "following",
        "i",
        "based",
        "as",
        "great",
        "absolutely",
        "of",
    ]
)
_YAML_KEY_LINE = lazy_pattern(
    r"""[ ]*(?:-[ ]+)*(?:"[^"\n]*"|'[^'\n]*'|[^\s#:"'][^\n:#]*+)[ ]*:(?:[ ]|$)"""
)
_YAML_ITEM_LINE = lazy_pattern(r"[ ]*-(?:[ ]|$)")
# a YAML list item or a quote before the first brace: `- "{braced}"` is no JSON payload
_ITEM_BEFORE = lazy_pattern(r"(?m)^[ ]*-[ ]|[\"'\u201c\u2018][ ]*\Z")
# `key: v`, `key:` and `key:value` (a space forgotten; a URL's `://` is not a key)
_IDENT_KEY = lazy_pattern(r"^[ ]*(?:-[ ]+)?[\w.-]+:(?:[ ]|$|[^\s/])", re.M)
_GLUED_KEY_LINE = lazy_pattern(r"[ ]*(?:-[ ]+)?[A-Za-z_][\w.-]*:[^\s/]")


def item_lost_space(line: str) -> bool:
    """`-"x"`, `-[a]`: a list item that lost the space after its dash, never prose."""
    s = line.strip()
    return s[:1] == "-" and s[1:2] != "" and s[1:2] in "\"'{[`*&!@%#"


def _prose_like(line: str) -> bool:
    s = line.strip()
    if not s or s.startswith(("#", "---", "...", "{", "[", "}", "]", '"', "'")):
        return False
    if item_lost_space(s):
        return False
    if _YAML_ITEM_LINE.match(line) or _GLUED_KEY_LINE.match(line):
        return False
    m = _YAML_KEY_LINE.match(line)
    if m is None:
        return True
    key = m.group().strip().rstrip(":")
    words = key.split()
    if not s.endswith(":"):
        return False
    # "Here is the YAML you asked for:" reads as a key; real keys are short
    if len(words) >= 4:
        return True
    # "Sure: here is the YAML:" / "Note: the ticket follows:"
    return len(s.split()) >= 4 and words[0].strip(",.!").casefold() in LEAD_INS


def _after_document_end(lines: list[str]) -> int | None:
    """The index after a `...` line that no `---` document follows, else None."""
    for i, line in enumerate(lines):
        if line.rstrip() == "...":
            rest = [ln for ln in lines[i + 1 :] if ln.strip()]
            if rest and not any(ln.startswith("---") for ln in rest):
                return i + 1
            return None
    return None


def _remark(lines: list[str], i: int) -> bool:
    """A line after a blank line that is no list item, no comment and no marker."""
    line = lines[i]
    return (
        i > 0
        and not lines[i - 1].strip()
        and not line.startswith(("-", "#", "..."))
        and not _YAML_ITEM_LINE.match(line)
    )


_DASH_GLUED = lazy_pattern(r"([ \t]*)-(?=[^\s\d.\-])")


@register_rule(
    "space_after_dash",
    phase="text",
    error_class="a list item without a space after its dash",
    hint="Put a space after the dash of every list item: `- item`.",
)
def space_after_dash(text: str, ctx: RepairContext) -> str | None:
    """`- a\n-b\n- c` → `- a\n- b\n- c`: only where another item at the same
    indentation shows the line is an item (`-5`, `--flag` and a lone `-x` stay text)."""
    if "\n" not in text or text.lstrip()[:1] in "{[":
        return None
    lines = text.split("\n")
    items = {ln[: len(ln) - len(ln.lstrip(" \t"))] for ln in lines if ln.lstrip(" \t")[:2] == "- "}
    changed = False
    for i, line in enumerate(lines):
        m = _DASH_GLUED.match(line)
        if m is not None and m.group(1) in items and not line.lstrip().startswith("---"):
            lines[i] = f"{m.group(1)}- {line[m.end() :]}"
            changed = True
    return "\n".join(lines) if changed else None


@register_rule(
    "strip_prose",
    phase="text",
    lossless=True,
    error_class="prose before or after the document",
    hint="Reply with the document only: no introduction, no closing remarks.",
)
def strip_prose(text: str, ctx: RepairContext) -> str | None:
    """`Sure! Here it is:\\n{"a": 1}\\nHope this helps.` → `{"a": 1}`"""
    stripped = text.strip()
    if not stripped:
        return None
    brace = stripped.find("{")
    if (
        ctx.format == "json"
        or stripped[0] in "{["
        or (
            brace > 0
            and not _IDENT_KEY.search(stripped[:brace])
            and not _ITEM_BEFORE.search(stripped[:brace])
        )
    ):
        if stripped[0] in "{[" and "Extra data" not in ctx.error:
            return None  # nothing around the document; other rules will fix its inside
        start = _first_json_start(text)
        if start is None:
            return None
        end = find_json_end(text, start)
        body = text[start:end] if end is not None else text[start:]
        if end is not None:
            rest = text[end:]
            nxt = _first_json_start(rest)
            if nxt is not None:
                tail_end = find_json_end(rest, nxt)
                ctx.candidates.append(rest[nxt:tail_end] if tail_end else rest[nxt:])
        return body if body != text else None
    lines = text.split("\n")
    ended = _after_document_end(lines)
    if ended is not None:
        lines = lines[:ended]  # `...` closes the document: what follows is a remark
    first = 0
    # `---` then a prose line: the marker opens the document, the prose is no part of it
    while first < len(lines) and (
        _prose_like(lines[first])
        or not lines[first].strip()
        or (
            lines[first].strip() == "---"
            and first + 1 < len(lines)
            and _prose_like(lines[first + 1])
        )
    ):
        first += 1
    last = len(lines)
    # a top-level list: a line after a blank line that is no item is a closing remark
    list_doc = first < len(lines) and lines[first].startswith("- ")
    # trailing prose: only a run of prose lines that reaches the end
    while last - 1 > first and (
        not lines[last - 1].strip()
        or (
            not lines[last - 1][0].isspace()
            and (_prose_like(lines[last - 1]) or (list_doc and _remark(lines, last - 1)))
        )
    ):
        last -= 1
    if first == 0 and last == len(lines) and ended is None:
        return None
    body = "\n".join(lines[first:last]).strip("\n")
    return body if body and body != text else None


_JSONISH_START = lazy_pattern(r"""\{(?=\s*+["'}])""")
# `Here it is -> [` then quoted items or objects, on its line or below: a list after prose
_LIST_AFTER_PROSE = lazy_pattern(
    r"""(?m)^(?P<lead>[^\n\[]*+)\[(?:[ \t]*+\n)?[ \t]*+["'{\u201c\u2018]"""
)
_KEY_LEAD = lazy_pattern(r"""[ \t]*+(?:- )?[^\s:]++:(?:[ \t]|\Z)""")


def _list_after_prose(text: str) -> int | None:
    """Where a JSON list after prose on its line starts (`Here it is -> ["a", "b"]`),
    never after a YAML key (`tags: [`, a flow list the YAML reading owns)."""
    for m in _LIST_AFTER_PROSE.finditer(text):  # possessive: linear in the text
        lead = m.group("lead")
        if lead.strip() and not _KEY_LEAD.match(lead):  # `tags: [`, `a: !!tag [`: YAML's
            return m.end("lead")
    return None


def _first_json_start(text: str) -> int | None:
    # prefer a bracket that starts a line; else one that opens a JSON object (`{"`), not
    # prose braces (`see {the} data: {"a": 1}`); else the first '{'
    m = re.search(r"^[ \t]*[{\[]", text, re.M)
    if m is not None:
        return m.end() - 1
    m = _JSONISH_START.search(text)
    after = _list_after_prose(text) if "[" in text else None
    if m is not None or after is not None:
        return min(x for x in (m.start() if m else None, after) if x is not None)
    i = text.find("{")
    return i if i >= 0 else None


# `Note: the email was not given.` / `Output:` / `Sure: here it is.`: a capitalised label
# and either nothing or a sentence after it
_PROSE_LABEL = re.compile(
    r"(?P<key>[A-Z][a-z]*+(?:[ ][\w'\u2019(),/-]++){0,7}+)[ ]*+:(?:[ ]++(?P<value>.*))?"
)
_SENTENCE = lazy_pattern(r"\S++(?:[ ]++\S++){2,}+|.*[.!?]\Z")


def _edge_label(line: str) -> str | None:
    """The label of a top-level line shaped like prose (`Note: a sentence.`), else None."""
    if not line or line[0].isspace():
        return None
    m = _PROSE_LABEL.fullmatch(line.rstrip())
    if m is None:
        return None
    value = (m.group("value") or "").strip()
    if value and (value[0] in "\"'[{|>&*!" or not _SENTENCE.fullmatch(value)):
        return None
    return m.group("key")


def edge_prose_lines(payload: str) -> tuple[list[int], list[str]]:
    """Indexes and labels of prose-shaped lines at the top or bottom edge of a YAML text.

    Only top-level lines qualify, and a line whose next line is indented deeper (the
    label holds a block) never does. At most three lines at each edge.
    """
    lines = payload.split("\n")
    found: list[int] = []
    labels: list[str] = []

    def scan(order: range) -> None:
        taken = 0
        for i in order:
            if not lines[i].strip():
                continue
            label = _edge_label(lines[i])
            if label is None or taken >= 3:
                return
            nxt = next((ln for ln in lines[i + 1 :] if ln.strip()), "")
            if nxt[:1].isspace() or nxt.startswith("- "):
                return  # the label opens a block: it is the document's key
            found.append(i)
            labels.append(label)
            taken += 1

    scan(range(len(lines)))
    scan(range(len(lines) - 1, -1, -1))
    # a line found from both ends means every line is prose: no document
    if len(set(found)) != len(found) or len(found) >= sum(1 for ln in lines if ln.strip()):
        return [], []
    return found, labels


def drop_lines(payload: str, indexes: list[int]) -> str:
    """``payload`` without the given lines."""
    drop = set(indexes)
    return "\n".join(ln for i, ln in enumerate(payload.split("\n")) if i not in drop).strip("\n")


_LINE_BRACKET = lazy_pattern(r"^[ \t]*+[{\[(]", re.M)
# `{"`, `{'`, `{“`, or `{` ending its line (`<answer>{\n  "a": 1`)
_JSON_OPEN = lazy_pattern(r"\{(?=\s*+[\"'\u201c\u2018}]|[ \t]*+\n)")


def json_payload_start(text: str) -> int | None:
    """Where a JSON value after prose starts: a bracket opening a line, a `{"`, or a list
    opened at the end of a prose line."""
    m = _LINE_BRACKET.search(text)
    j = _JSON_OPEN.search(text)
    after = _list_after_prose(text) if "[" in text else None
    found = [x for x in (m.end() - 1 if m else None, j.start() if j else None, after) if x]
    return min(found) if found else None


# `1. Name: Eli`, `- Age: 4`, `* **Email:** a@b.c`, `2) Next inputs: why?`
_KV_LINE = lazy_pattern(
    r"[ \t]*+(?:(?:[0-9]{1,3}[.)]|[-*\u2022+])[ \t]++(?:\*\*)?+|\*\*)"
    r"(?P<key>[A-Za-z][\w/-]*+(?:[ ][\w/-]++){0,4}+)[ \t]*+(?:\*\*:|:\*\*|:)[ \t]++"
    r"(?P<value>\S(?:.*\S)?+)[ \t]*+"
)
_PLAIN_SAFE = lazy_pattern(r"[^\s\"'\[\]{}|>&*!%@`#,-][^\n#]*+")


def key_value_lines(text: str) -> str | None:
    """An object written as a numbered or bulleted list of `Key: value` lines, as YAML.

    `1. Name: Eli\\n2. Age: 4` → `Name: Eli\\nAge: 4`. Every line after an optional
    lead-in line must be such an item, two at least; values that are not plain YAML
    scalars are quoted as written.
    """
    lines = [ln for ln in text.strip().split("\n") if ln.strip()]
    if lines and _KV_LINE.fullmatch(lines[0]) is None and lines[0].rstrip().endswith(":"):
        lines = lines[1:]  # `Here are the details:`
    if len(lines) < 2:
        return None
    out = []
    for line in lines:
        m = _KV_LINE.fullmatch(line)
        if m is None:
            return None
        value = m.group("value")
        plain = _PLAIN_SAFE.fullmatch(value) is not None and ": " not in value
        out.append(f"{json.dumps(m.group('key'))}: {value if plain else json.dumps(value)}")
    return "\n".join(out)


_BOOL_WORDS = {"yes": True, "true": True, "no": False, "false": False}
_BOOL_RE = lazy_pattern(r"(?<![\w-])(yes|no|true|false)(?![\w-])", re.I)
_NUM_RE = lazy_pattern(
    r"(?<![\w.,-])-?(?:[0-9]{1,3}+(?:,[0-9]{3})++|[0-9]++)(?:\.[0-9]++)?+(?![\w]|[.,][0-9])"
)
_NEGATION = lazy_pattern(r"(?:\bnot|n't)\s++\Z", re.I)


def _string_choices(schema: object) -> list[str] | None:
    """The strings a schema allows when it allows only listed strings, else None.

    An ``enum`` of strings, a ``const`` string (a one-value enum), or an ``anyOf`` /
    ``oneOf`` whose every branch is one of those.
    """
    if not isinstance(schema, dict):
        return None
    if "const" in schema:
        const = schema["const"]
        return [const] if isinstance(const, str) and const else None
    enum = schema.get("enum")
    if isinstance(enum, list):
        return list(enum) if enum and all(isinstance(e, str) and e for e in enum) else None
    for word in ("anyOf", "oneOf"):
        branches = schema.get(word)
        if isinstance(branches, list) and branches:
            out: list[str] = []
            for branch in branches:
                got = _string_choices(branch)
                if got is None:
                    return None
                out.extend(e for e in got if e not in out)
            return out
    return None


def scalar_in_sentence(text: str, schema: dict[str, object]) -> tuple[bool, object]:
    """The one value a scalar schema (boolean, number, integer, enum, const) can take in prose.

    `The sentiment is positive.` → `"positive"`; `There are 3 apples` → `3`. Returns
    ``(False, None)`` when there is no candidate, or several that differ, or a negated
    one (`not positive`).
    """
    kind = schema.get("type")
    enum = _string_choices(schema)
    found: list[object] = []
    spans: list[int] = []
    if enum:
        for e in enum:
            pat = re.compile(rf"(?<![\w]){re.escape(str(e))}(?![\w])", re.I)
            for m in pat.finditer(text):
                found.append(e)
                spans.append(m.start())
    elif kind == "boolean":
        for m in _BOOL_RE.finditer(text):
            found.append(_BOOL_WORDS[m.group(1).lower()])
            spans.append(m.start())
    elif kind in ("integer", "number"):
        for m in _NUM_RE.finditer(text):
            tok = m.group().replace(",", "")  # `1,024`
            num: object = float(tok) if "." in tok else int(tok)
            if kind == "integer" and isinstance(num, float):
                if not num.is_integer():
                    return False, None
                num = int(num)
            found.append(num)
            spans.append(m.start())
    else:
        return False, None
    distinct = {repr(v) for v in found}
    if len(distinct) != 1:
        return False, None
    if any(_NEGATION.search(text[max(0, s - 8) : s]) for s in spans):
        return False, None
    return True, found[0]
