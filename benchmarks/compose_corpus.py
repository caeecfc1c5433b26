"""A compositional generator of malformed model answers with ground truth (issue 14 §3).

Valid (value, schema) pairs of several shapes are rendered the way models write them
(YAML, JSON, Python literals), then one to three **error operators** are applied, each
imitating one model behaviour (its docstring says which). The ground truth is the value
the model meant; after an **ambiguous** operator (:data:`AMBIGUOUS`: a cut number, a key
written twice, a comma-joined list of free text) no reading is certain, so the case
expects failure (``expect_ok: false``). Nothing here reuses the engine's own malform
code: the operators are written from the error classes of issues 7 and 14 and of peer
trackers and repair suites, so the generator guards generality rather than teaching
the repairer its own habits.

    >>> cases = generate(20, seed=1)
    >>> sorted(cases[0])
    ['class', 'expect_ok', 'expected', 'format', 'id', 'operators', 'schema', 'source', 'text']

Use: ``python benchmarks/recovery.py --generated 600`` reports exact / wrong-but-ok /
failed per operator, alone and in pairs, and counts values that appear nowhere in the
answer.
"""

from __future__ import annotations

import copy
import itertools
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["OPERATORS", "Case", "generate", "render", "shapes"]

# --- shapes -------------------------------------------------------------------------------

S = {"type": "string"}
I = {"type": "integer"}  # noqa: E741
TEXTS = {"type": "array", "items": S}

#: string values a model writes unquoted although YAML reads them as structure or syntax
AWKWARD = [
    "{braced}",
    "[draft] v2",
    "&co",
    "*starred",
    "!important",
    "%done",
    "@home",
    "`cmd`",
    "#ff0000",
    "Note: read this",
    "> 90%",
    "| pipe",
    "{en",
    "[wip",
]
#: string values that are fine plain in YAML but typed wrongly by YAML 1.1 / easy to mangle
TRICKY = ["NO", "yes", "0042", "1.10", "null", "C# developer", "50% off", "a, b", "café ☕"]
PLAIN = ["Fix login bug", "Refund order", "Printer jams", "Ada Lovelace", "London", "blue"]


def _pick(rng: random.Random, awkward: float = 0.35) -> str:
    r = rng.random()
    if r < awkward:
        return rng.choice(AWKWARD)
    if r < awkward + 0.2:
        return rng.choice(TRICKY)
    return rng.choice(PLAIN)


def _ticket(rng: random.Random) -> tuple[Any, dict[str, Any]]:
    value = {
        "title": _pick(rng),
        "priority": rng.choice(["low", "medium", "high"]),
        "count": rng.randint(0, 500),
        "active": rng.random() < 0.5,
        "tags": [_pick(rng) for _ in range(rng.randint(1, 3))],
        "note": _pick(rng) if rng.random() < 0.85 else None,
    }
    schema = {
        "type": "object",
        "properties": {
            "title": S,
            "priority": {"enum": ["low", "medium", "high"]},
            "count": I,
            "active": {"type": "boolean"},
            "tags": TEXTS,
            "note": {"type": ["string", "null"]},
        },
        "required": ["title", "priority", "count", "active", "tags"],
        "additionalProperties": False,
    }
    return value, schema


def _order(rng: random.Random) -> tuple[Any, dict[str, Any]]:
    value = {
        "order_id": f"A-{rng.randint(100, 999)}",
        "items": [
            {"name": _pick(rng), "qty": rng.randint(1, 9), "options": [_pick(rng)]}
            for _ in range(rng.randint(1, 3))
        ],
        "shipping": {"city": _pick(rng, 0.2), "zip": f"{rng.randint(0, 99999):05d}"},
    }
    item = {
        "type": "object",
        "properties": {"name": S, "qty": I, "options": TEXTS},
        "required": ["name", "qty"],
        "additionalProperties": False,
    }
    schema = {
        "type": "object",
        "properties": {
            "order_id": S,
            "items": {"type": "array", "items": item},
            "shipping": {
                "type": "object",
                "properties": {"city": S, "zip": S},
                "required": ["city", "zip"],
            },
        },
        "required": ["order_id", "items", "shipping"],
        "additionalProperties": False,
    }
    return value, schema


def _tool_call(rng: random.Random) -> tuple[Any, dict[str, Any]]:
    value = {
        "name": "search",
        "arguments": {
            "query": _pick(rng),
            "limit": rng.randint(1, 50),
            "filters": {"lang": rng.choice(["en", "de", "NO", "fr"])},
        },
    }
    schema = {
        "type": "object",
        "properties": {
            "name": {"const": "search"},
            "arguments": {
                "type": "object",
                "properties": {
                    "query": S,
                    "limit": I,
                    "filters": {"type": "object", "properties": {"lang": S}},
                },
                "required": ["query", "limit"],
                "additionalProperties": False,
            },
        },
        "required": ["name", "arguments"],
        "additionalProperties": False,
    }
    return value, schema


def _strings(rng: random.Random) -> tuple[Any, dict[str, Any]]:
    return [_pick(rng, 0.6) for _ in range(rng.randint(2, 5))], TEXTS


def _steps(rng: random.Random) -> tuple[Any, dict[str, Any]]:
    steps = []
    for n in range(rng.randint(1, 3)):
        deps = [steps[-1]["step_name"]] if steps else []
        steps.append({"step_name": f"step_{n}", "tool": _pick(rng, 0.3), "depends_on": deps})
    step = {
        "type": "object",
        "properties": {"step_name": S, "tool": S, "depends_on": TEXTS},
        "required": ["step_name", "tool", "depends_on"],
        "additionalProperties": False,
    }
    schema = {
        "type": "object",
        "properties": {"task": S, "steps": {"type": "array", "items": step}},
        "required": ["task", "steps"],
        "additionalProperties": False,
    }
    return {"task": _pick(rng, 0.3), "steps": steps}, schema


def shapes() -> dict[str, Callable[[random.Random], tuple[Any, dict[str, Any]]]]:
    """Shape name → a maker of one random (value, schema) pair."""
    return {
        "ticket": _ticket,
        "order": _order,
        "tool_call": _tool_call,
        "strings": _strings,
        "steps": _steps,
    }


# --- rendering ----------------------------------------------------------------------------

_SAFE_PLAIN = re.compile(r"[A-Za-z][\w .,/()'-]*\Z")
_YAML11_WORDS = frozenset(
    [
        "y",
        "n",
        "yes",
        "no",
        "on",
        "off",
        "true",
        "false",
        "null",
        "~",
        "Y",
        "N",
        "YES",
        "NO",
        "ON",
        "OFF",
        "TRUE",
        "FALSE",
        "NULL",
        "Yes",
        "No",
        "On",
        "Off",
        "True",
        "False",
        "Null",
    ]
)


def _yaml_scalar(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return json.dumps(v)
    s = str(v)
    if _SAFE_PLAIN.match(s) and s not in _YAML11_WORDS and ": " not in s:
        return s
    return json.dumps(s, ensure_ascii=False)


def _yaml_lines(v: Any, indent: int, step: int = 2) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    if isinstance(v, dict):
        for k, x in v.items():
            if isinstance(x, (dict, list)) and x:
                out.append(f"{pad}{k}:")
                out.extend(_yaml_lines(x, indent + step, step))
            else:
                out.append(f"{pad}{k}: {_yaml_scalar(x) if x != [] else '[]'}")
        return out
    for x in v:
        if isinstance(x, dict) and x:
            inner = _yaml_lines(x, indent + 2, step)  # keys align after `- `
            out.append(f"{pad}- {inner[0].lstrip()}")
            out.extend(inner[1:])
        elif isinstance(x, list) and x:
            out.append(f"{pad}-")
            out.extend(_yaml_lines(x, indent + step, step))
        else:
            out.append(f"{pad}- {_yaml_scalar(x)}")
    return out


def render(value: Any, fmt: str, indent: int | None = 2) -> str:
    """The value as a model writes it correctly: ``yaml`` (block style, quoted only where
    needed, nested by ``indent`` spaces), ``json`` (indented by ``indent``; ``None``: on
    one line) or ``python`` (a literal: ``None``, ``True``, quotes)."""
    if fmt == "yaml":
        return "\n".join(_yaml_lines(value, 0, indent or 2))
    if fmt == "json":
        return json.dumps(value, ensure_ascii=False, indent=indent)
    return repr(value)


# --- operators ----------------------------------------------------------------------------

Op = Callable[[str, "Case", random.Random], "str | None"]


@dataclass
class Case:
    """One generated answer in the making."""

    value: Any
    schema: dict[str, Any]
    render: str  # yaml | json | python
    asked: str  # the --format given: yaml | json | auto
    finish_reason: str | None = None


def _awkward(s: str) -> bool:
    # quoted for its indicator or its `: `; `"null"`, `"0042"` unquoted would mean another value
    return bool(s) and s.strip() == s and (s[0] in "{[&*!%@`#|>" or ": " in s)


def unquote_awkward(text: str, case: Case, rng: random.Random) -> str | None:
    """A model writes YAML values unquoted although they start with an indicator or hold
    `: ` (`- {braced}`, `note: @home`, `title: Note: read this`)."""
    if case.render != "yaml":
        return None
    out, n = re.subn(
        r'(?m)^([ ]*(?:- |[\w]+: ))"([^"\\\n]*)"$',
        lambda m: m.group(1) + m.group(2) if _awkward(m.group(2)) else m.group(0),
        text,
    )
    return out if n else None


def prose_before(text: str, case: Case, rng: random.Random) -> str | None:
    """A chatty lead-in line (and a blank line) before the payload."""
    lead = rng.choice(
        ["Sure! Here is the result:", "Here's the YAML you asked for:", "Certainly.", "Output:"]
    )
    return f"{lead}\n\n{text}"


def prose_after(text: str, case: Case, rng: random.Random) -> str | None:
    """A closing remark after the payload, after a blank line."""
    tail = rng.choice(
        ["Let me know if you need anything else.", "Note: the priority is my best guess."]
    )
    return f"{text}\n\n{tail}"


def fence(text: str, case: Case, rng: random.Random) -> str | None:
    """The payload inside a markdown code fence tagged with its language."""
    tag = {"yaml": "yaml", "json": "json", "python": "python"}[case.render]
    return f"```{tag}\n{text}\n```"


def doc_markers_prose(text: str, case: Case, rng: random.Random) -> str | None:
    """YAML document markers with prose inside: `---`, a prose line, then the payload; or
    the payload, `...`, then prose after it."""
    if case.render != "yaml":
        return None
    if rng.random() < 0.5:
        return f"---\nHere is the extracted data.\n{text}"
    return f"{text}\n...\nI hope this helps!"


def crlf(text: str, case: Case, rng: random.Random) -> str | None:
    """Windows line ends (`\\r\\n`) throughout."""
    return text.replace("\n", "\r\n") if "\n" in text else None


def bom_blank(text: str, case: Case, rng: random.Random) -> str | None:
    """A byte-order mark and blank lines before the payload."""
    return "\ufeff\n\n" + text


def smart_quotes(text: str, case: Case, rng: random.Random) -> str | None:
    """Typographic quotes (“ ”) where the model meant ASCII double quotes."""
    if '"' not in text or case.render == "python":
        return None
    out = re.sub(r'"((?:[^"\\\n]|\\.)*)"', "\u201c\\1\u201d", text)
    return out if out != text else None


def indent_item(text: str, case: Case, rng: random.Random) -> str | None:
    """One list item (and its continuation lines) indented one space more or less than
    its siblings, in a list of scalars or of mappings."""
    if case.render != "yaml":
        return None
    lines = text.split("\n")
    items = [i for i, ln in enumerate(lines) if ln.lstrip(" ").startswith("- ")]
    if len(items) < 2:
        return None
    i = rng.choice(items[1:])
    col = len(lines[i]) - len(lines[i].lstrip(" "))
    siblings = [j for j in items if len(lines[j]) - len(lines[j].lstrip(" ")) == col and j != i]
    if not siblings:
        return None
    delta = 1 if col == 0 or rng.random() < 0.5 else -1
    j = i + 1
    block = [i]
    while j < len(lines) and len(lines[j]) - len(lines[j].lstrip(" ")) > col:
        block.append(j)
        j += 1
    for k in block:
        lines[k] = " " + lines[k] if delta > 0 else lines[k][1:]
    return "\n".join(lines)


def python_dict_comment(text: str, case: Case, rng: random.Random) -> str | None:
    """A Python-literal dict after prose and before a trailing `#` comment line."""
    if case.render != "python":
        return None
    return f"Result:\n{text}\n# values taken from the message"


def single_quotes(text: str, case: Case, rng: random.Random) -> str | None:
    """JSON written with single quotes around keys and strings."""
    if case.render != "json" or "'" in text or "\\" in text:
        return None
    return text.replace('"', "'")


def trailing_commas(text: str, case: Case, rng: random.Random) -> str | None:
    """A comma after the last member of every JSON object and array."""
    if case.render != "json":
        return None
    out = re.sub(r"(\S)(\n\s*[}\]])", r"\1,\2", text)
    return out if out != text else None


def json_for_yaml(text: str, case: Case, rng: random.Random) -> str | None:
    """YAML asked, JSON answered."""
    if case.render != "json" or case.asked != "json":
        return None
    case.asked = "yaml"
    return text


def yaml_for_json(text: str, case: Case, rng: random.Random) -> str | None:
    """JSON asked, YAML answered."""
    if case.render != "yaml" or case.asked != "yaml":
        return None
    case.asked = "json"
    return text


def comment_lines(text: str, case: Case, rng: random.Random) -> str | None:
    """A `# comment` line inside the YAML, indented like the line above it."""
    if case.render != "yaml":
        return None
    lines = text.split("\n")
    at = rng.randrange(1, len(lines)) if len(lines) > 1 else 1
    lines.insert(at, " " * (len(lines[at - 1]) - len(lines[at - 1].lstrip(" "))) + "# checked")
    return "\n".join(lines)


def key_case(text: str, case: Case, rng: random.Random) -> str | None:
    """Keys capitalised (`Title:` for `title`): a recorded, case-only rename."""
    if case.render == "yaml":
        out = re.sub(
            r"(?m)^([ ]*(?:- )?)([a-z])(\w*):",
            lambda m: m[1] + m[2].upper() + m[3] + ":",
            text,
            count=2,
        )
    else:
        out = re.sub(r'"([a-z])(\w*)":', lambda m: f'"{m[1].upper()}{m[2]}":', text, count=2)
    return out if out != text else None


def think_block(text: str, case: Case, rng: random.Random) -> str | None:
    """Reasoning in a `<think>` block before the answer."""
    return f"<think>\nThe user wants the fields; check {{them}} and [the list].\n</think>\n{text}"


def tabs(text: str, case: Case, rng: random.Random) -> str | None:
    """YAML indented with tabs instead of spaces."""
    if case.render != "yaml" or "\n  " not in text:
        return None
    return re.sub(r"(?m)^((?:  )+)", lambda m: "\t" * (len(m[1]) // 2), text)


def drop_final_closer(text: str, case: Case, rng: random.Random) -> str | None:
    """The last closing bracket of a JSON answer left off, every value written whole."""
    if case.render != "json" or not text.rstrip().endswith(("}", "]")):
        return None
    return text.rstrip()[:-1].rstrip()


def _enum_words(schema: Any, out: set[str] | None = None) -> set[str]:
    out = set() if out is None else out
    if isinstance(schema, dict):
        out.update(m for m in schema.get("enum", []) if isinstance(m, str))
        for v in schema.values():
            _enum_words(v, out)
    elif isinstance(schema, list):
        for v in schema:
            _enum_words(v, out)
    return out


def js_undefined(text: str, case: Case, rng: random.Random) -> str | None:
    """JavaScript's `undefined` where JSON has `null` (models steeped in JS code; typia's
    LlmJson and JSON5 readers accept it): `"note": undefined`."""
    if case.render != "json":
        return None
    out = re.sub(r'(?m)(": )null(,?)$', r"\1undefined\2", text)
    return out if out != text else None


def yes_no_booleans(text: str, case: Case, rng: random.Random) -> str | None:
    """Booleans written as the words yes/no (`"active": "yes"`, `active: No`), a habit
    reported in pydantic-ai and Pipelex review threads (pipelex#1028, posthog#50283)."""
    word = {"true": rng.choice(["yes", "Yes"]), "false": rng.choice(["no", "No"])}
    if case.render == "json":
        pattern, fmt = r'(?m)(": )(true|false)(,?)$', '"{}"'
    elif case.render == "yaml":
        pattern, fmt = r"(?m)^([ ]*(?:- )?\w+: )(true|false)()$", "{}"
    else:
        return None
    out = re.sub(pattern, lambda m: m[1] + fmt.format(word[m[2]]) + m[3], text)
    return out if out != text else None


def enum_title_case(text: str, case: Case, rng: random.Random) -> str | None:
    """Enum labels capitalised (`"priority": "High"` for `high`): models title-case the
    labels a prompt lists (Instructor and BAML enum tests, test_enum.rs)."""
    words = sorted(w for w in _enum_words(case.schema) if w.islower())
    if not words or case.render == "python":
        return None
    alt = "|".join(re.escape(w) for w in words)
    q = '"' if case.render == "json" else ""
    out = re.sub(rf"(?m)(: {q})({alt})({q},?)$", lambda m: m[1] + m[2].capitalize() + m[3], text)
    return out if out != text else None


def quoted_numbers(text: str, case: Case, rng: random.Random) -> str | None:
    """Integers written as JSON strings (`"count": "42"`): the model quotes every value
    (pydantic's lax mode accepts it; strict readers do not)."""
    if case.render != "json":
        return None
    out = re.sub(r'(?m)(": )(-?\d+)(,?)$', r'\1"\2"\3', text)
    return out if out != text else None


def unquoted_keys(text: str, case: Case, rng: random.Random) -> str | None:
    """JSON keys without quotes, as in a JavaScript object literal (`{name: "Ann"}`;
    typia#1774, json_repair's tests)."""
    if case.render != "json":
        return None
    out = re.sub(r'(?m)^(\s*)"(\w+)":', r"\1\2:", text)
    return out if out != text else None


def missing_commas(text: str, case: Case, rng: random.Random) -> str | None:
    """The commas between members on separate lines left out (json_repair's tests: a
    value followed by the next key on the next line, no comma)."""
    if case.render != "json":
        return None
    out = re.sub(r',\n(\s*")', r"\n\1", text)
    return out if out != text else None


def double_encoded(text: str, case: Case, rng: random.Random) -> str | None:
    """The whole JSON answer sent as one JSON string (`"{\"name\": ...}"`): tool-call
    arguments encoded twice (smolagents#1003, OpenManus#989, kimi-cli#2513)."""
    if case.render != "json" or not text.lstrip().startswith("{"):
        return None
    return json.dumps(text, ensure_ascii=False)


def escaped_answer(text: str, case: Case, rng: random.Random) -> str | None:
    """The JSON answer escaped as if inside a string, without the outer quotes
    (`{\\"name\\": ...}`): an answer copied from a log line or a string literal."""
    if case.render != "json":
        return None
    return json.dumps(text, ensure_ascii=False)[1:-1]


def missing_opener(text: str, case: Case, rng: random.Random) -> str | None:
    """The opening brace of a JSON object left off (`"title": ...}`): the model starts
    with the first key, as if the brace had been written already."""
    if case.render != "json" or not text.startswith("{") or "{" in text[1:] or "}" in text[:-1]:
        return None
    return text[1:].lstrip()


def stray_closer(text: str, case: Case, rng: random.Random) -> str | None:
    """One closer too many after an item of a list of objects (`}},` then the next item):
    json_repair's tests carry the shape; a reader that takes it for the list's end drops
    every later item."""
    if case.render != "json":
        return None
    out = re.sub(r"\}(,\n\s*\{)", r"}}\1", text, count=1)
    return out if out != text else None


def dash_without_space(text: str, case: Case, rng: random.Random) -> str | None:
    """One YAML list item written `-item`, its dash glued to the value, among items that
    kept the space (a habit of small models; YAML reads `-item` as text)."""
    if case.render != "yaml":
        return None
    lines = text.split("\n")
    items = [i for i, ln in enumerate(lines) if re.match(r"[ ]*- [^-\d. ]", ln)]

    def indent(i: int) -> int:
        return len(lines[i]) - len(lines[i].lstrip(" "))

    # a lone `-x` reads as text too: only an item with a sibling at its indentation
    items = [i for i in items if sum(indent(j) == indent(i) for j in items) > 1]
    if not items:
        return None
    i = rng.choice(items)
    lines[i] = lines[i].replace("- ", "-", 1)
    return "\n".join(lines)


def escaped_breaks(text: str, case: Case, rng: random.Random) -> str | None:
    """The YAML answer on one line, its line breaks written as `\\n`: an answer copied
    from a log or a string literal."""
    if case.render != "yaml" or "\\" in text or "\n" not in text:
        return None
    return text.replace("\n", "\\n")


def prose_on_opener_line(text: str, case: Case, rng: random.Random) -> str | None:
    """A lead-in on the same line as the JSON's opening bracket (`Here it is -> [`), the
    items on the lines below."""
    if case.render != "json" or not re.match(r"[\[{]\n", text):
        return None
    return rng.choice(["Here it is -> ", "Result: ", "Sure, the list is "]) + text


def rule_then_remark(text: str, case: Case, rng: random.Random) -> str | None:
    """The payload, then `---` used as a horizontal rule, then a remark (markdown habit;
    YAML reads `---` as the start of another document)."""
    return f"{text}\n---\n{rng.choice(['Thanks', 'Hope this helps!', 'Done.'])}"


def lone_closing_fence(text: str, case: Case, rng: random.Random) -> str | None:
    """A closing code fence after the payload with no opening one, then a remark: the
    model forgot the opener but not the closer."""
    if "```" in text:
        return None
    return f"{text}\n```\n\nLet me know if anything is missing."


# --- ambiguous operators: the answer can be read two ways, so the right outcome is failure


def cut_after_number(text: str, case: Case, rng: random.Random) -> str | None:
    """The JSON answer cut right after a number (`"count": 12`): the number may have gone
    on (`125`), so no reading is certain (mem0#4414: answers cut at the token limit)."""
    if case.render != "json":
        return None
    spots = [m.end() for m in re.finditer(r'": -?\d+', text)]
    return text[: rng.choice(spots)] if spots else None


def repeated_key(text: str, case: Case, rng: random.Random) -> str | None:
    """A key written a second time with another value (a model correcting itself, or a
    list written as repeated keys): which value did it mean?"""
    if not isinstance(case.value, dict):
        return None
    key = next((k for k, v in case.value.items() if isinstance(v, str)), None)
    if key is None:
        return None
    if case.render == "yaml":
        return f"{text}\n{key}: a second {key}"
    if case.render == "json" and text.startswith("{"):
        return '{"' + key + '": "a second ' + key + '", ' + text[1:].lstrip()
    return None


def comma_joined_list(text: str, case: Case, rng: random.Random) -> str | None:
    """A YAML list of free text written on one line, comma-separated (`labels: bug,
    crash`; the project corpus's quillmark#645 case): one item with a comma, or two?"""
    if case.render != "yaml":
        return None
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if not re.fullmatch(r"[ ]*\w+:", line):
            continue
        items = []
        for nxt in lines[i + 1 :]:
            m = re.fullmatch(r"[ ]+- ([A-Za-z][\w ]*)", nxt)
            if m is None:
                break
            items.append(m[1])
        if len(items) >= 2:
            rest = lines[i + 1 + len(items) :]
            return "\n".join([*lines[:i], f"{line} {', '.join(items)}", *rest])
    return None


#: operators after which no reading is certain: the case expects failure
AMBIGUOUS = frozenset(["cut_after_number", "repeated_key", "comma_joined_list"])
#: operators that write after the payload: after them a cut is no cut (closers forgotten)
_WRITES_AFTER = frozenset(
    ["prose_after", "fence", "lone_closing_fence", "python_dict_comment", "rule_then_remark"]
)


OPERATORS: dict[str, Op] = {
    f.__name__: f
    for f in [
        unquote_awkward,
        prose_before,
        prose_after,
        fence,
        doc_markers_prose,
        crlf,
        bom_blank,
        smart_quotes,
        indent_item,
        python_dict_comment,
        single_quotes,
        trailing_commas,
        json_for_yaml,
        yaml_for_json,
        comment_lines,
        key_case,
        think_block,
        tabs,
        drop_final_closer,
        js_undefined,
        yes_no_booleans,
        enum_title_case,
        quoted_numbers,
        unquoted_keys,
        missing_commas,
        double_encoded,
        escaped_answer,
        missing_opener,
        lone_closing_fence,
        stray_closer,
        dash_without_space,
        escaped_breaks,
        cut_after_number,
        repeated_key,
        comma_joined_list,
        prose_on_opener_line,
        rule_then_remark,
    ]
}
# operators that change what the answer is, applied before the ones that dress it
_FIRST = (
    "comma_joined_list",
    "unquote_awkward",
    "dash_without_space",
    "indent_item",
    "tabs",
    "comment_lines",
    "key_case",
    "single_quotes",
    "trailing_commas",
    "smart_quotes",
    "drop_final_closer",
    "js_undefined",
    "yes_no_booleans",
    "enum_title_case",
    "quoted_numbers",
    "unquoted_keys",
    "missing_commas",
    "double_encoded",
    "escaped_answer",
    "missing_opener",
    "stray_closer",
    "repeated_key",
    "cut_after_number",
    "json_for_yaml",
    "yaml_for_json",
    "python_dict_comment",
)


def _apply(
    value: Any, schema: dict[str, Any], ops: tuple[str, ...], rng: random.Random, shape: str
) -> dict[str, Any] | None:
    if "cut_after_number" in ops and _WRITES_AFTER & set(ops):
        return None
    renders = ["yaml", "json", "python"]
    rng.shuffle(renders)
    for fmt in renders:
        case = Case(copy.deepcopy(value), schema, fmt, "json" if fmt != "yaml" else "yaml")
        if fmt == "python":
            case.asked = "auto"
        # models indent by 2 or 4, and some write JSON on one line
        text: str | None = render(value, fmt, rng.choice([2, 2, 4, None]))
        # a byte-order mark comes before everything: applied last
        # and reasoning comes before any prose
        rank = {
            **{o: i for i, o in enumerate(_FIRST)},
            "think_block": len(_FIRST) + 1,
            "escaped_breaks": len(_FIRST) + 2,  # after everything that adds lines
            "bom_blank": len(_FIRST) + 3,
        }
        ordered = sorted(ops, key=lambda o: rank.get(o, len(_FIRST)))
        for name in ordered:
            assert text is not None
            text = OPERATORS[name](text, case, rng)
            if text is None:
                break
        if text is None:
            continue
        return {
            "class": "+".join(sorted(ops)),
            "operators": sorted(ops),
            "format": case.asked,
            "text": text,
            "schema": schema,
            "expected": None if set(ops) & AMBIGUOUS else value,
            "expect_ok": not set(ops) & AMBIGUOUS,
            "source": f"generated:{shape}:{fmt}",
        }
    return None


def generate(
    n: int, seed: int = 0, *, pairs: bool = True, triples: int = 0
) -> list[dict[str, Any]]:
    """About ``n`` cases: every operator alone and (with ``pairs``) every applicable pair,
    round robin over shapes and renderings, plus ``triples`` random three-operator cases.

    Deterministic for a seed. Each case carries ``expected`` (the ground truth) and
    ``operators``.
    """
    rng = random.Random(seed)
    makers = shapes()
    names = sorted(OPERATORS)
    combos: list[tuple[str, ...]] = [(o,) for o in names]
    if pairs:
        combos += list(itertools.combinations(names, 2))
    per = max(1, n // (len(combos) + 3 * len(names)))
    want = {ops: per * 4 for ops in combos[: len(names)]}  # operators alone: more cases
    combos += [tuple(rng.sample(names, 3)) for _ in range(triples)]
    out: list[dict[str, Any]] = []
    for ops in combos:
        made = 0
        goal = want.get(ops, per if len(ops) < 3 else 1)
        for _ in range(goal * 6):
            if made >= goal:
                break
            shape = rng.choice(sorted(makers))
            value, schema = makers[shape](rng)
            case = _apply(value, schema, ops, rng, shape)
            if case is not None:
                case["id"] = f"gen-{len(out)}"
                out.append(case)
                made += 1
    return out
