"""Repair rules for JSON (and JSON-like flow YAML): one lenient lexer, small token passes.

Every pass is linear in the number of tokens. The lexer is regex-driven (possessive
quantifiers, and every quoted branch runs to its closing quote, the end of its line or the
end of the text, so no input makes a scan restart: linear time) and never mis-lexes valid JSON: a double quote
ends a string only where valid JSON could continue (``,`` ``:`` ``}`` ``]``, another
string, a comment or the end), so unescaped inner quotes stay inside their string.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from llmkit.structured._rules import RepairContext, register_rule

__all__ = [
    "Token",
    "fast_close_json",
    "fast_repair_json",
    "join_tokens",
    "lex_json",
    "repair_json_text",
]

Token = tuple[str, str]  # (kind, text)

_CLOSER = r'(?=[ \t\r\n]*(?:[,:}\]"]|//|/\*|\#|\Z))'
_LEX = re.compile(
    rf"""
     (?P<ws>\s+)
    |(?P<str>"(?:[^"\\]++|\\.|\\\Z|"(?!{_CLOSER[3:-1]}))*+(?:"|\Z))
    |(?P<comment>//[^\n]*|/\*(?:[^*]++|\*(?!/))*+(?:\*/|\Z)|\#[^\n]*)
    |(?P<sstr>'(?:[^'\\\n]++|\\.|'(?!\s*+(?:[,:}}\]]|\Z)))*+(?:'|(?=\n)|\\?\Z))
    |(?P<smart>[“”„‟](?:[^“”„‟\\\n]++|\\.)*+(?:[“”„‟]|(?=\n)|\\?\Z)|‘(?:[^’\\\n]++|\\.)*+(?:’|(?=\n)|\\?\Z))
    |(?P<num>-?(?:[0-9]++(?:\.[0-9]*+)?+|\.[0-9]++)(?:[eE][-+]?[0-9]++)?+(?![\w.]))
    |(?P<punct>[{{}}\[\]:,])
    |(?P<word>[^\s{{}}\[\]:,"'/\#]+|/)
    """,
    re.S | re.X,
)
_UNESCAPED_QUOTE = re.compile(r'(\\.)|"', re.S)
_CONTROL = re.compile(r"[\x00-\x1f]")
_CONTROL_ESC = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_LITERALS = {
    "True": "true",
    "False": "false",
    "None": "null",
    "undefined": "null",
    "TRUE": "true",
    "FALSE": "false",
    "NULL": "null",
    "Null": "null",
    "nil": "null",
}
_VALUE_WORDS = frozenset(["true", "false", "null", "NaN", "Infinity", "-Infinity"])


def lex_json(text: str) -> list[Token]:
    """Split text into lenient JSON tokens (kinds: ws str sstr smart comment num punct word)."""
    return [(m.lastgroup or "word", m.group()) for m in _LEX.finditer(text)]


def join_tokens(tokens: list[Token]) -> str:
    """Text of a token list."""
    return "".join(t for _, t in tokens)


def _dq(inner: str) -> str:
    """Double-quote already-unquoted content, keeping its backslash escapes."""

    def sub(m: re.Match[str]) -> str:
        esc = m.group(1)
        if esc is None:
            return '\\"'
        return "'" if esc == "\\'" else esc

    body = _UNESCAPED_QUOTE.sub(sub, inner)
    body = _CONTROL.sub(lambda m: _CONTROL_ESC.get(m.group(), f"\\u{ord(m.group()):04x}"), body)
    if body.endswith("\\") and not body.endswith("\\\\"):
        body += "\\"
    return f'"{body}"'


def _str_closed(tok: str) -> bool:
    if len(tok) < 2 or not tok.endswith('"'):
        return False
    backslashes = len(tok) - 1 - len(tok[:-1].rstrip("\\"))
    return backslashes % 2 == 0


# --- token passes: each returns the new token list, or None when it changed nothing ----


@register_rule(
    "json_smart_quotes",
    phase="json",
    error_class="typographic quotes around strings",
    hint='Use plain ASCII double quotes (") in JSON, never “ ” or ‘ ’.',
)
def json_smart_quotes(tokens: list[Token], ctx: RepairContext) -> list[Token] | None:
    """`{“name”: “Ann”}` → `{"name": "Ann"}`"""
    return _requote(tokens, "smart", "“”„‟’")


@register_rule(
    "json_single_quotes",
    phase="json",
    error_class="single-quoted strings in JSON",
    hint="Quote JSON keys and strings with double quotes, not single quotes.",
)
def json_single_quotes(tokens: list[Token], ctx: RepairContext) -> list[Token] | None:
    """`{'name': 'Ann'}` → `{"name": "Ann"}`"""
    return _requote(tokens, "sstr", "'")


def _requote(tokens: list[Token], kind: str, closers: str) -> list[Token] | None:
    """Turn every string token of ``kind`` into a double-quoted JSON string."""

    def fix(k: str, tok: str) -> Token | None:
        if k != kind:
            return None
        return "str", _dq(tok[1:-1] if len(tok) > 1 and tok[-1] in closers else tok[1:])

    return _map_tokens(tokens, fix)


def _map_tokens(tokens: list[Token], fix: Callable[[str, str], Token | None]) -> list[Token] | None:
    """Apply ``fix`` to each token (``None``: keep it); ``None`` when nothing changed."""
    out: list[Token] = []
    changed = False
    for kind, tok in tokens:
        new = fix(kind, tok)
        if new is not None:
            changed = True
        out.append(new or (kind, tok))
    return out if changed else None


@register_rule(
    "json_comments",
    phase="json",
    error_class="comments inside JSON",
    hint="Do not put comments (// or #) in JSON.",
)
def json_comments(tokens: list[Token], ctx: RepairContext) -> list[Token] | None:
    """`{"a": 1 // one}` → `{"a": 1 }`"""
    if not any(k == "comment" for k, _ in tokens):
        return None
    return [t for t in tokens if t[0] != "comment"]


@register_rule(
    "json_python_literals",
    phase="json",
    error_class="Python literals (True/False/None) in JSON",
    hint="Write true, false and null in lowercase (not True, False, None).",
)
def json_python_literals(tokens: list[Token], ctx: RepairContext) -> list[Token] | None:
    """`{"ok": True, "x": None}` → `{"ok": true, "x": null}`"""
    return _map_tokens(
        tokens,
        lambda kind, tok: ("word", _LITERALS[tok]) if kind == "word" and tok in _LITERALS else None,
    )


@register_rule(
    "json_control_chars",
    phase="json",
    error_class="raw newlines or tabs in strings",
    hint="Escape line breaks inside JSON strings as \\n.",
)
def json_control_chars(tokens: list[Token], ctx: RepairContext) -> list[Token] | None:
    """`{"a": "line1⏎line2"}` → `{"a": "line1\\nline2"}`"""

    def fix(kind: str, tok: str) -> Token | None:
        if kind != "str" or not _CONTROL.search(tok):
            return None
        return kind, _CONTROL.sub(
            lambda m: _CONTROL_ESC.get(m.group(), f"\\u{ord(m.group()):04x}"), tok
        )

    return _map_tokens(tokens, fix)


@register_rule(
    "json_inner_quotes",
    phase="json",
    error_class="unescaped quotes inside strings",
    hint='Escape double quotes inside JSON strings as \\".',
)
def json_inner_quotes(tokens: list[Token], ctx: RepairContext) -> list[Token] | None:
    """`{"q": "He said "hi" to me"}` → `{"q": "He said \\"hi\\" to me"}`"""

    def fix(kind: str, tok: str) -> Token | None:
        if kind != "str" or tok.count('"') <= 2:
            return None
        closed = _str_closed(tok)
        inner = tok[1:-1] if closed else tok[1:]
        fixed = _UNESCAPED_QUOTE.sub(lambda m: m.group(1) or '\\"', inner)
        return None if fixed == inner else (kind, '"' + fixed + ('"' if closed else ""))

    return _map_tokens(tokens, fix)


def _significant(tokens: list[Token]) -> list[int]:
    return [i for i, (k, _) in enumerate(tokens) if k not in ("ws", "comment")]


@register_rule(
    "json_unquoted_keys",
    phase="json",
    error_class="unquoted object keys",
    hint="Put every JSON key in double quotes.",
)
def json_unquoted_keys(tokens: list[Token], ctx: RepairContext) -> list[Token] | None:
    """`{name: "Ann", age: 3}` → `{"name": "Ann", "age": 3}`"""
    sig = _significant(tokens)
    out = list(tokens)
    changed = False
    for n, i in enumerate(sig):
        kind, tok = tokens[i]
        if kind not in ("word", "num") or n + 1 >= len(sig) or tokens[sig[n + 1]][1] != ":":
            continue
        prev = tokens[sig[n - 1]][1] if n else ""
        if prev in ("{", ","):
            out[i] = ("str", _dq(tok))
            changed = True
    return out if changed else None


@register_rule(
    "json_unquoted_values",
    phase="json",
    error_class="unquoted string values",
    hint="Put every JSON string value in double quotes.",
)
def json_unquoted_values(tokens: list[Token], ctx: RepairContext) -> list[Token] | None:
    """`{"status": open now}` → `{"status": "open now"}`"""
    out: list[Token] = []
    changed = False
    i, n = 0, len(tokens)
    expect_value = False
    stack: list[str] = []
    while i < n:
        kind, tok = tokens[i]
        if expect_value and kind in ("word", "num"):
            j = i
            while j < n and tokens[j][0] in ("word", "num", "ws") and "\n" not in tokens[j][1]:
                j += 1
            run = [t for t in tokens[i:j] if t[0] != "ws"]
            plain = len(run) == 1 and (run[0][0] == "num" or run[0][1] in _VALUE_WORDS)
            if plain or not any(k == "word" for k, _ in run):
                out.append((kind, tok))
                i += 1
                expect_value = False
                continue
            text = join_tokens(tokens[i:j]).rstrip()
            out.append(("str", _dq(text)))
            trailing = join_tokens(tokens[i:j])[len(text) :]
            if trailing:
                out.append(("ws", trailing))
            changed = True
            i = j
            expect_value = False
            continue
        if kind == "punct":
            if tok in "{[":
                stack.append(tok)
            elif tok in "}]" and stack:
                stack.pop()
        if kind != "ws":
            expect_value = tok in (":", "[") or (tok == "," and bool(stack) and stack[-1] == "[")
        out.append((kind, tok))
        i += 1
    return out if changed else None


def _ends_value(tokens: list[Token], i: int) -> bool:
    while i < len(tokens) and tokens[i][0] in ("ws", "comment"):
        i += 1
    return i >= len(tokens) or tokens[i][1] in (",", "}", "]")


_VALUE_END = frozenset(["str", "num", "word"])


@register_rule(
    "json_missing_commas",
    phase="json",
    error_class="missing commas between items",
    hint="Separate JSON items with commas.",
)
def json_missing_commas(tokens: list[Token], ctx: RepairContext) -> list[Token] | None:
    """`{"a": 1 "b": 2}` → `{"a": 1, "b": 2}`"""
    sig = _significant(tokens)
    inserts: list[int] = []
    for n in range(len(sig) - 1):
        k1, t1 = tokens[sig[n]]
        k2, t2 = tokens[sig[n + 1]]
        end = k1 in _VALUE_END or t1 in ("}", "]")
        start = k2 in _VALUE_END or t2 in ("{", "[")
        if end and start:
            inserts.append(sig[n])
    if not inserts:
        return None
    out: list[Token] = []
    marks = set(inserts)
    for i, t in enumerate(tokens):
        out.append(t)
        if i in marks:
            out.append(("punct", ","))
    return out


@register_rule(
    "json_trailing_commas",
    phase="json",
    error_class="trailing or doubled commas",
    hint="No comma after the last item of a JSON object or array.",
)
def json_trailing_commas(tokens: list[Token], ctx: RepairContext) -> list[Token] | None:
    """`{"a": [1, 2,], }` → `{"a": [1, 2]}`"""
    sig = _significant(tokens)
    drop: set[int] = set()
    for n, i in enumerate(sig):
        if tokens[i][1] != ",":
            continue
        nxt = tokens[sig[n + 1]][1] if n + 1 < len(sig) else ""
        prev = tokens[sig[n - 1]][1] if n else ""
        if nxt in ("}", "]", ",", "") or prev in ("{", "[", ","):
            drop.add(i)
    if not drop:
        return None
    return [t for i, t in enumerate(tokens) if i not in drop]


@register_rule(
    "json_close_truncated",
    phase="json",
    lossless=False,
    error_class="answer cut off before the JSON ended",
    hint="Keep the answer short enough to finish; close every { and [.",
)
def json_close_truncated(tokens: list[Token], ctx: RepairContext) -> list[Token] | None:
    """`{"a": [1, 2], "b": "te` → `{"a": [1, 2], "b": "te"}` (marked truncated)"""
    stack: list[str] = []
    out = list(tokens)
    changed = False
    for i, (kind, tok) in enumerate(tokens):
        if kind != "punct":
            continue
        if tok in "{[":
            stack.append("}" if tok == "{" else "]")
        elif tok in "}]":
            if stack and stack[-1] == tok:
                stack.pop()
            elif tok in stack:  # a closer skipped: `{"a": [1}` → `{"a": [1]}`
                missing = ""
                while stack[-1] != tok:
                    missing += stack.pop()
                stack.pop()
                out[i] = ("punct", missing + tok)
                changed = True
            else:
                out[i] = ("ws", "")  # a closer with nothing open
                changed = True
    last = len(out) - 1
    while last >= 0 and out[last][0] in ("ws", "comment"):
        last -= 1
    if last >= 0 and out[last][0] == "str" and not _str_closed(out[last][1]):
        out[last] = ("str", out[last][1] + '"')
        changed = True
    if not stack:
        return out if changed else None
    # drop a dangling `,` / `:` / key so the closers make valid JSON
    while last >= 0:
        kind, tok = out[last]
        if kind in ("ws", "comment"):
            last -= 1
            continue
        if tok in (",", ":"):
            prev = last - 1
            while prev >= 0 and out[prev][0] in ("ws", "comment"):
                prev -= 1
            if tok == ":" and prev >= 0:
                last = prev - 1  # drop the key too
            else:
                last -= 1
            continue
        if kind == "str" and stack[-1] == "}":
            prev = last - 1
            while prev >= 0 and out[prev][0] in ("ws", "comment"):
                prev -= 1
            if prev >= 0 and out[prev][1] in ("{", ","):
                last = prev if out[prev][1] == "," else last - 1  # a key with no value
                if out[prev][1] == ",":
                    last -= 1
                continue
        break
    out = out[: last + 1]
    ctx.truncated = True
    out.append(("punct", "".join(reversed(stack))))
    return out


def repair_json_text(
    text: str, ctx: RepairContext, enabled: Callable[[str], bool] | None = None
) -> tuple[str, list[str]]:
    """Run every registered JSON token rule once, in registry order.

    Returns:
        The repaired text and the names of the rules that changed something.
    """
    from llmkit.structured._rules import rules

    tokens = lex_json(text)
    fired: list[str] = []
    for rule in rules("json"):
        func = rule.func
        if func is None or (enabled is not None and not enabled(rule.name)):
            continue
        if getattr(func, "__module__", "") != __name__:
            new_text = func(join_tokens(tokens), ctx)  # a user text rule
            if new_text is not None and new_text != join_tokens(tokens):
                tokens = lex_json(new_text)
                fired.append(rule.name)
            continue
        new = func(tokens, ctx)
        if new is not None:
            tokens = new
            fired.append(rule.name)
    return join_tokens(tokens), fired


# --- fast path: one regex pass for the common classes -----------------------------------
# Valid stretches (strings followed by a separator, numbers, literals, punctuation) match
# as one run, so the callback runs once per problem rather than once per token.
#
# Linear time on any input: every branch that scans a long stretch either matches what it
# scanned (a quoted branch always runs to its closing quote, the end of the line or the
# end of the text; an unterminated one is passed through unchanged) or can only fail
# within a bounded distance, and a word is consumed whole, so no later position starts
# the same scan again (a string with thousands of `\"` and no closing quote used to be
# rescanned from each of them: 39 s for 60 KB).
_FAST = re.compile(
    r"""
     (?P<ok>(?:
         "(?:[^"\\\x00-\x1f]++|\\.)*+"(?=\s*+(?:[,:}\]]|\Z))
        |\s++
        |,(?!\s*+[}\]])
        |[:{}\[\]]
        |-?[0-9]++(?:\.[0-9]++)?(?:[eE][-+]?[0-9]++)?(?=\s*+(?:[,}\]]|\Z))
        |(?:true|false|null)(?=\s*+(?:[,}\]]|\Z))
     )++)
    |(?P<json_trailing_commas>,(?=\s*+[}\]]))
    |(?P<json_single_quotes>'(?:[^'\\\n]++|\\.|'(?!\s*+(?:[,:}\]]|\Z)))*+(?:(?P<sq_end>')|(?=\n)|\\?\Z))
    |(?P<json_smart_quotes>[“”„](?:[^“”„\\\n]++|\\.)*+(?:(?P<smart_end>[“”])|(?=[„\n])|\\?\Z))
    |(?P<json_comments>//[^\n]*+|/\*(?:[^*]++|\*(?!/))*+(?:(?P<comment_end>\*/)|\Z)|\#[^\n]*+)
    |(?P<json_python_literals>(?<![\w$-])(?:True|False|None)(?![\w$-]))
    |(?P<json_unquoted_keys>(?<![\w$-])[A-Za-z_$][\w$-]*+)(?=\s*+:)
    |(?P<dq>"(?:[^"\\]++|\\.|"(?!\s*+(?:[,:}\]"]|//|/\*|\Z)))*+(?:(?P<dq_end>")|\\?\Z))
    |(?P<rest>[\w$-]++|.)
    """,
    re.S | re.X,
)
_MISSING_COMMA = re.compile(r'\s*+"')


# the group that matches a branch's closing delimiter (absent: the token runs to its end)
_OPEN_END = {
    "json_single_quotes": "sq_end",
    "json_smart_quotes": "smart_end",
    "json_comments": "comment_end",
}


def fast_repair_json(text: str) -> tuple[str, list[str], bool]:
    """One-pass repair of the common JSON classes, in linear time.

    Returns:
        The new text, the rules that fired, and whether everything was understood (when
        ``False`` the caller falls back to the token rules). A quoted string with no
        closing quote is left as written (and not understood): closing it is the
        truncation rules' job.
    """
    fired: list[str] = []
    understood = True

    def sub(m: re.Match[str]) -> str:
        nonlocal understood
        kind = m.lastgroup
        tok = m.group()
        if kind == "ok":
            return tok
        if kind == "rest":
            understood = False
            return tok
        if kind == "dq":
            if m.group("dq_end") is None:
                understood = False
                return tok
            inner = tok[1:-1]
            fixed = _UNESCAPED_QUOTE.sub(lambda q: q.group(1) or '\\"', inner)
            if fixed != inner and "json_inner_quotes" not in fired:
                fired.append("json_inner_quotes")
            if _CONTROL.search(fixed):
                fixed = _CONTROL.sub(
                    lambda c: _CONTROL_ESC.get(c.group(), f"\\u{ord(c.group()):04x}"), fixed
                )
                if "json_control_chars" not in fired:
                    fired.append("json_control_chars")
            out = f'"{fixed}"'
            if _MISSING_COMMA.match(text, m.end()):
                out += ","
                if "json_missing_commas" not in fired:
                    fired.append("json_missing_commas")
            return out
        assert kind is not None
        end = _OPEN_END.get(kind)
        if end is not None and m.group(end) is None and not tok.startswith(("//", "#")):
            understood = False  # unterminated: left as written
            return tok
        if kind not in fired:
            fired.append(kind)
        if kind == "json_trailing_commas" or kind == "json_comments":
            return ""
        if kind == "json_single_quotes" or kind == "json_smart_quotes":
            return _dq(tok[1:-1])
        if kind == "json_python_literals":
            return _LITERALS[tok]
        return f'"{tok}"'  # unquoted key

    new = _FAST.sub(sub, text)
    return new, fired, understood


_CLOSED_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.S)
# text made only of closed strings and the rest, then one string left open to the end;
# checked first where an open string may hold escaped quotes, so that _CLOSED_STRING
# never rescans it to the end from each of them (quadratic)
_OPEN_STRING = re.compile(
    r'(?:[^"]++|"(?:[^"\\]++|\\.)*+")*+(?P<open>")(?:[^"\\]++|\\.)*+\\?\Z', re.S
)
_NON_BRACKET = re.compile(r"[^\[\]{}]++")
_DANGLING = re.compile(r'(?:,|(?<=[{,])\s*+"(?:[^"\\]++|\\.)*+"\s*+:|:)\s*+\Z', re.S)
_DANGLING_KEY = re.compile(r'[{,]\s*+"(?:[^"\\]++|\\.)*+"\s*+\Z', re.S)


def fast_close_json(text: str) -> str | None:
    """Close a JSON text cut at the token limit, in a few C-speed passes.

    `{"a": [1, 2], "b": "te` → `{"a": [1, 2], "b": "te"}`; a dangling `,`, `:` or key is
    dropped. Returns ``None`` when nothing is open.
    """
    out = text.rstrip()
    if '\\"' in out:  # an escaped quote could restart the scan of an open string
        open_string = _OPEN_STRING.match(out)
        quote = -1 if open_string is None else open_string.start("open")
        outside = _CLOSED_STRING.sub("", out[:quote] if quote >= 0 else out)
    else:  # an open string has no quote after its first: scanned once
        outside = _CLOSED_STRING.sub("", out)
        quote = outside.find('"')
        outside = outside[:quote] if quote >= 0 else outside
    if quote >= 0:  # one string left open: it runs to the end
        if out.endswith("\\") and (len(out) - len(out.rstrip("\\"))) % 2:
            out = out[:-1]
        out += '"'
    stack: list[str] = []
    for c in _NON_BRACKET.sub("", outside):
        if c in "{[":
            stack.append("}" if c == "{" else "]")
        elif stack and stack[-1] == c:
            stack.pop()
        else:
            return None  # mismatched: leave it to the token rules
    if not stack:
        return out if out != text.rstrip() else None
    # only the tail can dangle; searching it alone keeps this cheap on long answers
    cut = max(0, len(out) - 600)
    head, tail = out[:cut], out[cut:]
    for _ in range(4):
        before = tail
        tail = _DANGLING.sub("", tail).rstrip()
        if stack[-1] == "}":
            m = _DANGLING_KEY.search(tail)
            if m is not None:
                tail = tail[: m.start() + 1].rstrip()
        if tail == before:
            break
    out = head + tail
    return out + "".join(reversed(stack))
