"""The JSON repair engine: one tolerant, linear-time parser that writes strict JSON.

Model answers break JSON in a few dozen ways (comments, single or smart quotes, Python
literals and tuples, unquoted keys and values, unescaped inner quotes, a string missing
its closing quote, missing or mismatched closers, a stray closer, several top-level
values, ``...`` placeholders, ``1_000``, triple-quoted strings, raw newlines). Rather
than chain text passes that drift apart, one recursive-descent reader accepts all of them
and writes each top-level value back as strict JSON text, naming the repairs it made, so
the strict loader, the coercer and the validator decide the rest.

It never guesses a value: a member whose value is missing, a key with no ``:``, or text
it cannot read makes the repair fail (``None``), and the pipeline reports ``failed``.
Numbers are written back as the model wrote them (``1.10`` stays ``1.10``), so a string
schema can keep the text. Every branch consumes input or fails, and each look-ahead is
bounded by the next structural character, so the cost is linear in the text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from llmkit._lazy import lazy_pattern
from llmkit.structured._rules import register_entries

__all__ = ["JsonRepair", "only_root_open", "opener_left_off", "repair_json"]

# The repairs the engine names, as registry data: (name, error class, hint, broken, fixed).
register_entries(
    "json",
    [
        (
            "json_smart_quotes",
            "typographic quotes around strings",
            'Use plain ASCII double quotes (") in JSON, never \u201c \u201d or \u2018 \u2019.',
            "{\u201cname\u201d: \u201cAnn\u201d}",
            '{"name": "Ann"}',
        ),
        (
            "json_single_quotes",
            "single-quoted strings in JSON",
            "Quote JSON keys and strings with double quotes, not single quotes.",
            "{'name': 'Ann'}",
            '{"name": "Ann"}',
        ),
        (
            "json_triple_quotes",
            "triple-quoted strings",
            "Write JSON strings in one pair of double quotes, never triple quotes.",
            '{"a": """text"""}',
            '{"a": "text"}',
        ),
        (
            "json_comments",
            "comments inside JSON",
            "Do not put comments (// or #) in JSON.",
            '{"a": 1 // one\n}',
            '{"a": 1}',
        ),
        (
            "json_python_literals",
            "Python literals (True/False/None) in JSON",
            "Write true, false and null in lowercase (not True, False, None).",
            '{"ok": True, "x": None}',
            '{"ok": true, "x": null}',
        ),
        (
            "json_undefined",
            "JavaScript undefined in JSON",
            "Write null for a missing value (or leave the key out), never undefined.",
            '{"email": undefined}',
            '{"email": null}',
        ),
        (
            "json_escaped_answer",
            "the whole answer escaped as if inside a string",
            'Write the JSON itself, not an escaped copy of it (no \\" or \\n).',
            '{\\"a\\": 1}',
            '{"a": 1}',
        ),
        (
            "json_missing_opener",
            "the opening brace of an object left off",
            "Start a JSON object with {.",
            '"a": 1, "b": 2}',
            '{"a": 1, "b": 2}',
        ),
        (
            "json_tuples",
            "Python tuples in JSON",
            "Write JSON arrays with [ ], not ( ).",
            '{"a": (1, 2)}',
            '{"a": [1, 2]}',
        ),
        (
            "json_ellipsis",
            "... placeholders",
            "Write every item out; never use ... as a placeholder.",
            '{"a": [1, 2, ...]}',
            '{"a": [1, 2]}',
        ),
        (
            "json_digit_separators",
            "digit separators in numbers",
            "Write numbers without separators (1000, not 1_000).",
            '{"n": 1_000}',
            '{"n": 1000}',
        ),
        (
            "json_number_format",
            "numbers JSON does not allow (+1, .5, 5.)",
            "Write numbers as JSON does: 0.5, not .5; 5, not +5.",
            '{"x": .5, "y": +2}',
            '{"x": 0.5, "y": 2}',
        ),
        (
            "json_control_chars",
            "raw newlines or tabs in strings",
            "Escape line breaks inside JSON strings as \\n.",
            '{"a": "line1\nline2"}',
            '{"a": "line1\\nline2"}',
        ),
        (
            "json_inner_quotes",
            "unescaped quotes inside strings",
            'Escape double quotes inside JSON strings as \\".',
            '{"q": "He said "hi" to me"}',
            '{"q": "He said \\"hi\\" to me"}',
        ),
        (
            "json_invalid_escapes",
            "a backslash before a character JSON cannot escape",
            "Write a backslash in a JSON string as \\\\.",
            '{"path": "C:\\data"}',
            '{"path": "C:\\\\data"}',
        ),
        (
            "json_missing_quote",
            "a string missing its closing quote before the next key",
            "Close every JSON string with a double quote.",
            '{"a": "x, "b": 1}',
            '{"a": "x", "b": 1}',
        ),
        (
            "json_unquoted_keys",
            "unquoted object keys",
            "Put every JSON key in double quotes.",
            '{name: "Ann"}',
            '{"name": "Ann"}',
        ),
        (
            "json_unquoted_values",
            "unquoted string values",
            "Put every JSON string value in double quotes.",
            '{"status": open now}',
            '{"status": "open now"}',
        ),
        (
            "json_key_equals",
            "= instead of : between key and value",
            "Separate JSON keys from values with a colon.",
            '{"a" = 1}',
            '{"a": 1}',
        ),
        (
            "json_missing_commas",
            "missing commas between items",
            "Separate JSON items with commas.",
            '{"a": 1 "b": 2}',
            '{"a": 1, "b": 2}',
        ),
        (
            "json_trailing_commas",
            "trailing or doubled commas",
            "No comma after the last item of a JSON object or array.",
            '{"a": [1, 2,], }',
            '{"a": [1, 2]}',
        ),
        (
            "json_mismatched_closer",
            "a closer that does not match its opener",
            "Close every [ with ] and every { with }.",
            '{"a": [1, 2}',
            '{"a": [1, 2]}',
        ),
        (
            "json_stray_closer",
            "a closer with nothing open, or one that ends the object early",
            "Close each object once, after its last member.",
            '{"a": 1}, "b": 2}',
            '{"a": 1, "b": 2}',
        ),
        (
            "json_close_truncated",
            "answer cut off before the JSON ended",
            "Keep the answer short enough to finish; close every { and [.",
            '{"a": [1, 2], "b": "te',
            '{"a": [1, 2], "b": "te"}',
            False,
        ),
    ],
)

_WS = lazy_pattern(r"(?:\s++|//[^\n]*+|/\*(?:[^*]++|\*(?!/))*+(?:\*/|\Z)|\#[^\n]*+)*+")
_NUMBER = lazy_pattern(
    r"[-+]?+(?:[0-9](?:_?[0-9])*+)?+(?:\.(?:[0-9](?:_?[0-9])*+)?+)?+(?:[eE][-+]?[0-9]++)?+"
)
_HEX_NUMBER = lazy_pattern(r"[-+]?0[xX][0-9a-fA-F]++(?![\w.$-])")
_WORD_END = lazy_pattern(r"[\w$.-]*+")
_LITERALS = {
    "true": "true",
    "false": "false",
    "null": "null",
    "True": "true",
    "False": "false",
    "None": "null",
    "TRUE": "true",
    "FALSE": "false",
    "NULL": "null",
    "Null": "null",
    "nil": "null",
    "undefined": "null",
    "NaN": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
}
_PY_LITERALS = frozenset(["True", "False", "None", "TRUE", "FALSE", "NULL", "Null", "nil"])
_OPEN_QUOTES = {
    '"': '"\u201d',
    "'": "'",
    "\u201c": "\u201d\u201c",
    "\u2018": "\u2019",
    "\u201e": "\u201d\u201c",
    "\u201d": "\u201d\u201c",
}
_SMART = frozenset("\u201c\u201d\u2018\u2019\u201e")
# after a closing quote of a value: a comma then a key, a closer, or the end
_GAP = r"(?:\s++|//[^\n]*+|/\*(?:[^*]++|\*(?!/))*+(?:\*/|\Z)|\#[^\n]*+)*+"
_AFTER_VALUE = lazy_pattern(
    rf"""[ \t\r]*+(?:[}}\]]|\Z|\n|//|/\*|\#|"[^"\n]{{0,80}}+"[ \t]*+:|,{_GAP}(?:["'\u201c\u2018}}\]),]|\Z|[\w$-]++[ \t]*+:|[-+0-9.tfnTFN\[{{(]))"""
)
# a key's closing quote: the colon, or (to fail cleanly) a separator where it is missing
_KEY_END = lazy_pattern(r"""\s*+[:=,}\]]|\s*+\Z""")
_AFTER_KEY = lazy_pattern(r"""\s*+:""")
# inside a list: `"a" "b"` are two items missing their comma; `"key": ...` is no item
_NEXT_ITEM = lazy_pattern(r"""[ \t]++"[^"\n]*+"[ \t]*+[,\]"]""")
_KEY_IN_LIST = lazy_pattern(r"""[ \t]*+:""")
_BEFORE_KEY = lazy_pattern(r",[ \t]*+\Z|\n[ \t]*+\Z")
_KEY_START = lazy_pattern(r"""\s*+["'\u201c\u2018]?[\w$ -]{0,80}+["'\u201d\u2019]?\s*+:""")
_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "/": "/",
    "\\": "\\",
    '"': '"\u201d',
    "'": "'",
}
_UNQUOTED_KEY = lazy_pattern(r"[^\s:,{}\[\]\"'()]++(?:[ \t]++[^\s:,{}\[\]\"'()]++)*+")
_UNQUOTED_VALUE_OBJ = lazy_pattern(r"[^,{}\[\]\n\"]*+")
_UNQUOTED_VALUE_ARR = lazy_pattern(r"[^,{}\[\]()\n\"]*+")
_MAX_DEPTH = 200
_ONLY_CLOSERS = lazy_pattern(r"\s*+[}\]][\s}\]]*+\Z")
_HEX4 = lazy_pattern(r"[0-9a-fA-F]{4}")
_PY_HEX = {
    "x": re.compile(r"[0-9a-fA-F]{2}"),
    "U": re.compile(r"000[0-9a-fA-F]{5}|0010[0-9a-fA-F]{4}"),
}
_JSON_ESCAPES = frozenset('"\\/bfnrt')


def _escape(raw: str) -> str:
    """Raw string content (no backslashes) as the inside of a JSON string."""
    return json.dumps(raw, ensure_ascii=False)[1:-1] if raw else ""


class _Fail(Exception):
    """The text cannot be read without guessing."""


@dataclass
class JsonRepair:
    """What the engine read.

    Attributes:
        values: each top-level value, as strict JSON text, in order.
        repairs: names of the repairs made (registry names), in order of first use.
        truncated: the text ended before its last value was closed (closed here).
        cut_inside: the text ended inside a string, or after a `,`, `:` or key: the
            last value is unknown, so a caller should not trust it.
        trailing: text after the last value that is not JSON (prose).
        open_at_cut: the containers still open where the text ended, outermost first
            (``"{"``: only the top-level object; ``"{["``: a list inside it).
    """

    values: list[str]
    repairs: list[str] = field(default_factory=list)
    truncated: bool = False
    trailing: str = ""
    cut_inside: bool = False
    open_at_cut: str = ""


class _Reader:
    def __init__(self, text: str) -> None:
        self.s = text
        self.n = len(text)
        self.i = 0
        self.repairs: list[str] = []
        self.truncated = False
        self.member_ended = False  # a value ended where the next key begins
        self.stack: list[str] = []
        self.cut_inside = False
        self.open_at_cut = ""

    def note(self, name: str) -> None:
        if name not in self.repairs:
            self.repairs.append(name)

    def ran_out(self, inside: bool) -> None:
        """The text ended before the document: closers are added, and ``inside`` says the
        cut fell within a value (a string, or after a `,` or `:`), whose end is unknown."""
        if not self.truncated:  # the innermost container reports first
            self.open_at_cut = "".join(self.stack)
        self.truncated = True
        self.cut_inside = self.cut_inside or inside
        self.note("json_close_truncated")

    def ws(self) -> None:
        m = _WS.match(self.s, self.i)
        assert m is not None
        if m.end() > self.i:
            chunk = m.group()
            if "//" in chunk or "/*" in chunk or "#" in chunk:
                self.note("json_comments")
            self.i = m.end()

    def peek(self) -> str:
        return self.s[self.i] if self.i < self.n else ""

    # --- values --------------------------------------------------------------------------

    def value(self, depth: int, ctx: str) -> str | None:
        """Read one value; ``None`` for a placeholder (``...``) that stands for nothing."""
        if depth > _MAX_DEPTH:
            raise _Fail("nested too deeply")
        self.ws()
        c = self.peek()
        if not c:
            raise _Fail("value missing at the end")
        if c == "{":
            return self.obj(depth)
        if c in "[(":
            return self.arr(depth)
        if c in _OPEN_QUOTES:
            return self.string(ctx)
        if self.s.startswith("...", self.i) or c == "\u2026":
            self.i += 1 if c == "\u2026" else 3
            while self.peek() == ".":
                self.i += 1
            self.note("json_ellipsis")
            return None
        if c in "-+.0123456789":
            num = self.number()
            if num is not None:
                return num
        return self.word(ctx)

    def number(self) -> str | None:
        h = _HEX_NUMBER.match(self.s, self.i)
        if h is not None and len(h.group()) <= 20:
            # `0x1F`: a JavaScript/Python hex literal, written in decimal
            self.i = h.end()
            self.note("json_number_format")
            sign = "-" if h.group().startswith("-") else ""
            return sign + str(int(h.group().lstrip("+-")[2:], 16))
        m = _NUMBER.match(self.s, self.i)
        assert m is not None
        tok, end = m.group(), m.end()
        if not any(ch.isdigit() for ch in tok):
            return None
        rest = _WORD_END.match(self.s, end)
        assert rest is not None
        if rest.end() > end or self._is_text_run(end) or self.s[end : end + 1] == '"':
            return None  # `3rd`, `1.2.3`, `4 years`, `12345"`: text, not a number
        text = tok
        if "_" in text:
            self.note("json_digit_separators")
            text = text.replace("_", "")
        sign = "-" if text.startswith("-") else ""
        body = text.lstrip("+-")
        fixed = "0" + body if body.startswith(".") else body
        fixed = re.sub(r"\.(?![0-9])", ".0", fixed, count=1)
        if len(fixed) > 1 and fixed[0] == "0" and fixed[1].isdigit():
            return None  # `0123`: an identifier, kept as text
        if fixed != body or text.startswith("+"):
            self.note("json_number_format")
        self.i = end
        return sign + fixed

    def _is_text_run(self, pos: int) -> bool:
        """Does a word follow a number on the same line (`4 years`)?"""
        j = pos
        while j < self.n and self.s[j] in " \t":
            j += 1
        return j < self.n and (self.s[j].isalpha() or self.s[j] in "%$")

    def word(self, ctx: str) -> str:
        m = (_UNQUOTED_VALUE_ARR if ctx == "arr" else _UNQUOTED_VALUE_OBJ).match(self.s, self.i)
        assert m is not None
        raw = m.group()
        for marker in ("//", " #", "/*"):  # a comment ends the word (not `http://`)
            k = raw.find(marker)
            if k >= 0 and (marker != "//" or k == 0 or raw[k - 1] != ":"):
                raw = raw[:k]
        tok = raw.strip()
        if not tok:
            raise _Fail(f"unexpected {self.peek()!r} at {self.i}")
        self.i += len(raw.rstrip())
        lit = _LITERALS.get(tok)
        if lit is not None:
            if tok in _PY_LITERALS:
                self.note("json_python_literals")
            elif tok == "undefined":
                self.note("json_undefined")
            return lit
        if self.peek() == '"' and raw == raw.rstrip() and self._closes(self.i + 1, ctx):
            # `"name": Eli Navarro",`: the opening quote is missing, the closing one is not
            self.i += 1
            self.note("json_missing_quote")
            return json.dumps(tok, ensure_ascii=False)
        self.note("json_unquoted_values")
        return json.dumps(tok, ensure_ascii=False)

    def string(self, ctx: str) -> str:
        """A quoted string, written back as a JSON string (valid escapes kept)."""
        s, start = self.s, self.i
        q = s[start]
        closers = _OPEN_QUOTES[q]
        if q in _SMART:
            self.note("json_smart_quotes")
        elif q == "'":
            self.note("json_single_quotes")
        if q in "\"'" and s.startswith(q * 3, start):
            end = s.find(q * 3, start + 3)
            if end < 0:
                raise _Fail("unclosed triple-quoted string")
            self.note("json_triple_quotes")
            self.i = end + 3
            return json.dumps(s[start + 3 : end], ensure_ascii=False)
        j = seg = start + 1
        noted = list(self.repairs)
        out: list[str] = []  # JSON-escaped pieces
        last_inner = -1  # a quote read as text: where the string may really have ended
        inner_out = inner_seg = inner = letters = invalid = 0
        doubled = 0  # inner quotes that are the delimiter itself
        while True:
            if j >= self.n:
                nl = s.rfind("\n", seg, j)
                if nl >= 0 and _ONLY_CLOSERS.match(s, nl):
                    # `"text\n}`: the quote is missing before the line that closes
                    if _SWALLOWED.search(s, start + 1, nl):
                        # `['\n  "a",\n  "b"\n]`: the text would hold other strings and
                        # their commas, the document's own punctuation
                        raise _Fail("an unclosed string would swallow other strings")
                    out.append(_escape(s[seg:nl].rstrip()))
                    self.note("json_missing_quote")
                    self.i = nl
                    break
                out.append(_escape(s[seg:j]))
                self.ran_out(inside=True)
                self.i = j
                break
            c = s[j]
            if c == "\\":
                out.append(_escape(s[seg:j]))
                e = s[j + 1 : j + 2]
                if e == "u" and _HEX4.match(s, j + 2):
                    out.append(s[j : j + 6])
                    j += 6
                elif e and e in _JSON_ESCAPES:
                    out.append("\\" + e)
                    letters += e in "bfnrt"
                    j += 2
                elif e and e in "xU" and _PY_HEX[e].match(s, j + 2):
                    # Python's `\x7f` / `\U0001f600` (a repr() answer)
                    width = 2 if e == "x" else 8
                    out.append(_escape(chr(int(s[j + 2 : j + 2 + width], 16))))
                    j += 2 + width
                elif e in ("'", "\u2019", "\u201d"):
                    out.append(e)
                    j += 2
                else:  # `\d`, `C:\x`: a backslash meant as text
                    self.note("json_invalid_escapes")
                    invalid += 1
                    out.append("\\\\")
                    j += 1
                seg = j
                continue
            if c in closers:
                if ctx == "arr" and q == '"' and _KEY_IN_LIST.match(s, j + 1):
                    raise _Fail("a key and its value inside a list")  # `["key":"value"]`
                if self._closes(j + 1, ctx) or (
                    ctx == "arr" and q == '"' and _NEXT_ITEM.match(s, j + 1)
                ):
                    if doubled % 2 and c == q and (s[start + 1] == q or s[j - 1] == q):
                        # `""Ann"` / `"Ann""`: an unpaired quote against a delimiter is a
                        # doubled quote (a typo) or text, and the two readings differ
                        raise _Fail("a doubled quote at the edge of a string")
                    out.append(_escape(s[seg:j]))
                    self.i = j + 1
                    break
                if (
                    ctx == "obj"
                    and last_inner >= 0
                    and _AFTER_KEY.match(s, j + 1)
                    and self._ends_member(start + 1, last_inner)
                ):
                    # `"name": "Eli, "age": 4`: the quote before `age` opened a key,
                    # so the value lost its closing quote just before it
                    raw = s[inner_seg:last_inner].rstrip()
                    raw = raw[:-1].rstrip() if raw.endswith(",") else raw
                    body = "".join(out[:inner_out]) + _escape(raw)
                    self.repairs = noted
                    self.note("json_missing_quote")
                    self.i = last_inner
                    self.member_ended = True
                    return f'"{body}"'
                last_inner, inner_out, inner_seg = j, len(out), seg
                inner += 1
                doubled += c == q
                if c == q or q in _SMART:  # a smart quote inside "…" is the author's text
                    self.note("json_inner_quotes")
                j += 1
                continue
            if c == "\n" and ctx == "key":
                raise _Fail("a key runs past the end of its line")
            if c == "\n" and q not in "\"'":
                out.append(_escape(s[seg:j]))
                self.i = j
                break
            if c < " ":
                self.note("json_control_chars")
            j += 1
        if invalid and letters:
            # `C:\Users\kim\notes.txt`: `\U` is a path separator, so `\n` may be one too
            raise _Fail("backslashes that are text next to ones that may be escapes")
        if inner % 2 and ctx == "arr" and q == '"':
            # `["a" b", "c"]`: one stray quote in a list item may end the item (then `b"`
            # is another) or be text: two readings, so none is chosen
            raise _Fail("an odd quote inside a list item")
        return '"' + "".join(out) + '"'

    def _ends_member(self, lo: int, pos: int) -> bool:
        """Is ``pos`` just after a `,` or a line break (blanks between)?"""
        k = pos
        while k > lo and pos - k < 80 and self.s[k - 1] in " \t\r":
            k -= 1
        return k > lo and self.s[k - 1] in ",\n"

    def _closes(self, pos: int, ctx: str) -> bool:
        if ctx == "key":
            return _KEY_END.match(self.s, pos) is not None
        if self.stack and self.stack[-1] == "(" and self.s[pos : pos + 1] == ")":
            return True  # the end of a tuple
        return _AFTER_VALUE.match(self.s, pos) is not None

    # --- collections -------------------------------------------------------------------------

    def key(self) -> str:
        c = self.peek()
        if c in _OPEN_QUOTES:
            k = self.string("key")
            return k
        m = _UNQUOTED_KEY.match(self.s, self.i)
        if m is None or not m.group():
            raise _Fail(f"unexpected {c!r} where a key belongs, at {self.i}")
        self.i = m.end()
        self.note("json_unquoted_keys")
        return json.dumps(m.group(), ensure_ascii=False)

    def obj(self, depth: int) -> str:
        self.i += 1
        self.stack.append("{")
        parts: list[str] = []
        self.members(depth, parts)
        self.stack.pop()
        return "{" + ", ".join(parts) + "}"

    def members(self, depth: int, parts: list[str]) -> None:
        expect_more = False
        while True:
            self.ws()
            c = self.peek()
            if not c:
                self.ran_out(inside=expect_more)
                return
            if c == "}":
                self.i += 1
                if expect_more:
                    self.note("json_trailing_commas")
                return
            if c in "])":
                self.note("json_mismatched_closer")
                if len(self.stack) > 1 and self.stack[-2] in "[(":
                    return  # `[{"a": 1]`: the `}` is missing; the `]` closes the list
                self.i += 1
                return
            if c == ",":
                if not parts or expect_more:
                    self.note("json_trailing_commas")
                self.i += 1
                expect_more = True
                continue
            if self.s.startswith("...", self.i) or c == "\u2026":
                self.value(depth + 1, "obj")
                continue
            if parts and not expect_more:
                self.note("json_missing_commas")
            k = self.key()
            self.ws()
            if self.peek() == "=":
                self.note("json_key_equals")
                self.i += 1
            elif self.peek() != ":":
                if not self.peek():
                    self.ran_out(inside=True)
                    return
                raise _Fail(f"':' missing after key {k} at {self.i}")
            else:
                self.i += 1
            self.ws()
            if not self.peek():
                self.ran_out(inside=True)
                return
            if self.peek() in ",}":
                raise _Fail(f"no value for key {k}")
            v = self.value(depth + 1, "obj")
            if v is None:
                continue  # `"a": ...` says nothing
            parts.append(f"{k}: {v}")
            expect_more = self.member_ended
            self.member_ended = False

    def arr(self, depth: int) -> str:
        opener = self.s[self.i]
        if opener == "(":
            self.note("json_tuples")
        self.i += 1
        self.stack.append(opener)
        parts: list[str] = []
        expect_more = False
        while True:
            self.ws()
            c = self.peek()
            if not c:
                self.ran_out(inside=expect_more)
                break
            if c in "])":
                self.i += 1
                if (c == ")") != (opener == "("):
                    self.note("json_mismatched_closer")
                if expect_more and parts:
                    self.note("json_trailing_commas")
                break
            if c == "}":
                in_object = bool(self.stack[:-1]) and self.stack[-2] == "{"
                more = _MORE_COLLECTIONS if in_object else _MORE_ITEMS  # a key is no item
                if more.match(self.s, self.i + 1):
                    # `[{"a": 1}}, {"a": 2}]`: items follow, so the `}` is one too many,
                    # not the list's end (reading it so dropped every later item)
                    self.note("json_stray_closer")
                    self.i += 1
                    continue
                self.note("json_mismatched_closer")
                if not in_object:
                    self.i += 1
                break
            if c == ",":
                if not parts or expect_more:
                    self.note("json_trailing_commas")
                self.i += 1
                expect_more = True
                continue
            if parts and not expect_more:
                self.note("json_missing_commas")
            v = self.value(depth + 1, "arr")
            expect_more = False
            if v is not None:
                parts.append(v)
        self.stack.pop()
        return "[" + ", ".join(parts) + "]"


def repair_json(text: str) -> JsonRepair | None:
    """Read ``text`` as tolerant JSON; ``None`` when it cannot be read without guessing.

    Returns:
        The top-level values as strict JSON texts, the repairs made, and whether the
        text was cut short.
    """
    fixed, name = _whole_text_fix(text)
    read = _read(fixed)
    if read is not None and name:
        read.repairs.insert(0, name)
    return read


_SWALLOWED = lazy_pattern(r"""["'\u201d]\s*+[,:]\s*+["'\u201c]""")
_MORE_ITEMS = lazy_pattern(r"\s*+,\s*+[\[{\"'\w.+-]")
_MORE_COLLECTIONS = lazy_pattern(r"\s*+,\s*+[\[{]")
_ESCAPED_START = lazy_pattern(r'\s*+[\[{]\s*+\\[n"]')
_OPENER_LEFT_OFF = lazy_pattern(
    r"""\s*+(?:["'\u201c\u2018][^"'\n\u201d\u2019]{1,80}+["'\u201d\u2019]|[A-Za-z_]\w{0,40}+)\s*+:[ \t\n]"""
)


def _whole_text_fix(text: str) -> tuple[str, str | None]:
    """A fix the whole answer needs before it is read: an answer escaped as inside a string
    (`{\\"a\\": 1}`, copied from a log or a string literal) is unescaped; an object whose
    opening brace was left off (`"a": 1}`) gets it back."""
    if _ESCAPED_START.match(text):
        try:
            inner = json.loads('"' + text.strip() + '"', strict=False)
        except ValueError:
            return text, None
        if _JSON_OPENERS.match(inner):
            return inner, "json_escaped_answer"
        return text, None
    if opener_left_off(text):
        return "{" + text, "json_missing_opener"
    return text, None


def opener_left_off(text: str, quoted_key: bool = False) -> bool:
    """An object whose `{` was left off: it starts with a key (``quoted_key``: in quotes)
    and a `}` closes one object more than it opens (which no YAML mapping does)."""
    m = _OPENER_LEFT_OFF.match(text)
    if m is None or (quoted_key and m.group().lstrip()[:1] not in "\"'\u201c\u2018"):
        return False
    return _closes_one_more(text)


def _closes_one_more(text: str) -> bool:
    """Does a `}` close one object more than the text opens, with only prose after it?"""
    depth, quote, i, n = 0, "", 0, len(text)
    while i < n:
        c = text[i]
        if quote:  # braces inside a string are its text
            if c == "\\":
                i += 1
            elif c == quote or c == "\n":
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                rest = text[i + 1 :]
                return "{" not in rest and "}" not in rest
        i += 1
    return False


_JSON_OPENERS = lazy_pattern(r"\s*+[\[{]")


def _read(text: str) -> JsonRepair | None:
    r = _Reader(text)
    values: list[str] = []
    try:
        r.ws()
        while r.i < r.n:
            c = r.peek()
            if c in "{[(" or (c in _OPEN_QUOTES and (not values or values[-1][0] == '"')):
                v = r.value(0, "top")
                if v is not None:
                    values.append(v)
                r.ws()
                continue
            if c in ",\"'" and values and values[-1].startswith("{"):
                # `{"a": 1}, "b": 2}`: a stray closer ended the object early
                save = r.i
                r.i += 1 if c == "," else 0
                r.ws()
                if _KEY_START.match(r.s, r.i):
                    parts: list[str] = []
                    r.members(0, parts)
                    if parts:
                        head = values[-1][:-1]
                        values[-1] = head + (", " if head != "{" else "") + ", ".join(parts) + "}"
                        r.note("json_stray_closer")
                        r.ws()
                        continue
                r.i = save
            if c in "}])" and values:
                r.i += 1
                r.note("json_stray_closer")
                r.ws()
                continue
            break
    except (_Fail, RecursionError):
        return None
    if not values:
        return None
    trailing = text[r.i :]
    if len(values) > 1:
        r.note("multiple_documents")
    return JsonRepair(values, r.repairs, r.truncated, trailing, r.cut_inside, r.open_at_cut)


# a cut answer's last value is whole only if a closer, a quote or a whole keyword ends it
_WHOLE_END = lazy_pattern(r"(?:[\"'}\])\u201d\u2019]|\b(?:true|false|null|True|False|None))\s*\Z")


def only_root_open(read: JsonRepair, payload: str, at_limit: bool) -> bool:
    """A cut JSON answer whose every member was written whole: only the top-level value
    was left open. At the token limit only an object counts (a list could have gone on,
    and the object's required keys tell), and only if its last value ends in a closer,
    a quote or a literal (`12` may be the start of `125`); without the limit the same
    holds for the last value. Nothing is ever completed: a list or a nested object that
    runs to the end is not whole."""
    whole_end = _WHOLE_END.search(payload) is not None
    if at_limit:
        return read.open_at_cut == "{" and whole_end
    # no sign of a cut (the closer forgotten): a top-level list of whole items also; but
    # a number at the end may be the start of a longer one (`"age": 3` of `31`)
    return read.open_at_cut in ("{", "[") and whole_end
