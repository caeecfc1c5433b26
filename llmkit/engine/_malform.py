"""Corrupt structured answers the way real models get them wrong.

Each corruption is a small named function ``(text, rng) -> text`` whose docstring shows
a well-formed input and what comes out. :data:`MALFORMERS` is the registry (data, so a
response can name the class it applied: header ``x-llmkit-malformed`` and send log).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass

import yaml

__all__ = ["MALFORMERS", "Malformer", "choose_malformer", "malform"]

_KEY_LINE = re.compile(r"^(?P<indent>[ ]*)(?P<key>[A-Za-z_][\w-]*):(?P<rest>[ ].*)?$", re.M)
_JSON_STR_VALUE = re.compile(r'("[\w-]+"): "([^"]*)"')


def fences(text: str, rng: random.Random) -> str:
    """Wrap the document in a markdown code fence.

    ``a: 1`` → ``"```yaml\\na: 1\\n```"``
    """
    lang = "json" if text.lstrip().startswith(("{", "[")) else rng.choice(["yaml", "yml", ""])
    return f"```{lang}\n{text}\n```"


def prose_before(text: str, rng: random.Random) -> str:
    """Chatty preamble before the document.

    ``a: 1`` → ``"Sure! Here is the data you asked for:\\n\\na: 1"``
    """
    intro = rng.choice(
        [
            "Sure! Here is the data you asked for:",
            "Here's the extracted information:",
            "Certainly. Based on the message, the ticket is:",
        ]
    )
    return f"{intro}\n\n{text}"


def prose_after(text: str, rng: random.Random) -> str:
    """A closing remark after the document.

    ``a: 1`` → ``"a: 1\\n\\nLet me know if you need anything else!"``
    """
    outro = rng.choice(
        [
            "Let me know if you need anything else!",
            "Note: the priority is my best guess from the tone of the message.",
            "I hope this helps.",
        ]
    )
    return f"{text}\n\n{outro}"


def prose_and_fences(text: str, rng: random.Random) -> str:
    """Preamble, fenced document, closing remark: the most common shape of all.

    ``a: 1`` → ``"Here's the extracted information:\\n\\n```yaml\\na: 1\\n```\\n\\nI hope this helps."``
    """
    return prose_after(prose_before(fences(text, rng), rng), rng)


def tabs(text: str, rng: random.Random) -> str:
    """Indent nested YAML with tabs (YAML forbids tabs in indentation).

    ``"a:\\n  b: 1"`` → ``"a:\\n\\tb: 1"``
    """
    return re.sub(r"(?m)^((?:  )+)", lambda m: "\t" * (len(m.group(1)) // 2), text)


def unquoted_colon(text: str, rng: random.Random) -> str:
    """A plain string value that itself contains ``": "`` (YAML reads a nested mapping).

    ``"title: Broken box"`` → ``"title: Broken box: order arrived late"``
    """
    lines = text.split("\n")
    candidates = [
        i
        for i, line in enumerate(lines)
        if (m := _KEY_LINE.match(line))
        and m.group("rest")
        and not m.group("rest").strip().startswith('"')
    ]
    if not candidates:
        return text + "\nnote: customer says: please hurry"
    i = candidates[0] if rng.random() < 0.7 else rng.choice(candidates)
    extra = rng.choice(
        ["order arrived late", "see attached photo", "second complaint", "reply ASAP"]
    )
    lines[i] = f"{lines[i]}: {extra}"
    return "\n".join(lines)


def bad_indent(text: str, rng: random.Random) -> str:
    """Shift one nested line by a space so it no longer lines up with its siblings.

    ``"a:\\n  b: 1\\n  c: 2"`` → ``"a:\\n  b: 1\\n   c: 2"``
    """
    lines = text.split("\n")
    nested = [i for i, line in enumerate(lines) if line.startswith("  ") and line.strip()]
    nested = [i for i in nested if i > 0 and lines[i - 1].startswith("  ")] or nested
    if not nested:
        return "  " + text
    i = rng.choice(nested)
    lines[i] = " " + lines[i] if rng.random() < 0.5 else lines[i][1:]
    return "\n".join(lines)


def missing_space(text: str, rng: random.Random) -> str:
    """Drop the space after mapping colons (``key:value`` is one plain scalar in YAML).

    ``"priority: high"`` → ``"priority:high"``
    """
    return _KEY_LINE.sub(
        lambda m: f"{m.group('indent')}{m.group('key')}:{(m.group('rest') or '')[1:]}", text
    )


def json_instead_of_yaml(text: str, rng: random.Random) -> str:
    """Answer JSON when YAML was asked for.

    ``"a: 1"`` → ``'{"a": 1}'``
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return json.dumps(data, indent=rng.choice([None, 2]), default=str)


def yaml_instead_of_json(text: str, rng: random.Random) -> str:
    """Answer YAML when JSON was asked for.

    ``'{"a": 1}'`` → ``"a: 1"``
    """
    try:
        data = json.loads(text)
    except ValueError:
        return text
    return yaml.safe_dump(data, sort_keys=False).rstrip()


def truncated(text: str, rng: random.Random) -> str:
    """Cut the document short, as when ``max_tokens`` runs out (``finish_reason: length``).

    ``'{"a": 1, "b": 2}'`` → ``'{"a": 1, "b'``
    """
    cut = max(1, int(len(text) * rng.uniform(0.4, 0.9)))
    return text[:cut]


def single_quotes(text: str, rng: random.Random) -> str:
    """Python-style single quotes in JSON.

    ``'{"a": "x"}'`` → ``"{'a': 'x'}"``
    """
    return text.replace('"', "'")


def trailing_commas(text: str, rng: random.Random) -> str:
    """A comma before closing brackets.

    ``'{"a": [1, 2]}'`` → ``'{"a": [1, 2,],}'``
    """
    return re.sub(r"(?<=[\"\w\]}])(\s*)([}\]])", r",\1\2", text)


def smart_quotes(text: str, rng: random.Random) -> str:
    """Typographic quotes instead of ASCII ones.

    ``'{"a": "x"}'`` → ``'{“a”: “x”}'``; YAML: ``'code: "123"'`` → ``'code: “123”'``
    """
    out = re.sub(r'"([^"\n]*)"', "\u201c\\1\u201d", text)
    out = re.sub(r"(?<=: )'([^'\n]*)'", "\u2018\\1\u2019", out)
    if out == text:  # nothing quoted: quote the first plain value, typographically
        out = _KEY_LINE.sub(
            lambda m: (
                f"{m.group('indent')}{m.group('key')}: \u201c{m.group('rest')[1:]}\u201d"
                if m.group("rest")
                else m.group(0)
            ),
            text,
            count=1,
        )
    return out


def python_literals(text: str, rng: random.Random) -> str:
    """``True``/``False``/``None`` instead of JSON's literals.

    ``'{"a": true, "b": null}'`` → ``'{"a": True, "b": None}'``
    """
    out = re.sub(r"\btrue\b", "True", text)
    out = re.sub(r"\bfalse\b", "False", out)
    return re.sub(r"\bnull\b", "None", out)


def unquoted_keys(text: str, rng: random.Random) -> str:
    """JavaScript-style object keys.

    ``'{"a": 1}'`` → ``'{a: 1}'``
    """
    return re.sub(r'"([A-Za-z_]\w*)"(\s*):', r"\1\2:", text)


def comments(text: str, rng: random.Random) -> str:
    """Comments where JSON allows none.

    ``'{"a": 1}'`` → ``'{"a": 1 // from the message\\n}'``
    """
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    lines[i] = lines[i] + "  // extracted from the message"
    return "\n".join(lines)


@dataclass(frozen=True)
class Malformer:
    """A corruption class: its function and the formats it applies to.

    Attributes:
        name: the class name reported in ``x-llmkit-malformed`` and the send log.
        func: ``(text, rng) -> corrupted text``.
        formats: ``"yaml"`` and/or ``"json"``.
        truncates: the answer ends with ``finish_reason: length``.
    """

    name: str
    func: Callable[[str, random.Random], str]
    formats: frozenset[str]
    truncates: bool = False


_BOTH = frozenset({"yaml", "json"})
_YAML = frozenset({"yaml"})
_JSON = frozenset({"json"})

#: Every corruption class by name.
MALFORMERS: dict[str, Malformer] = {
    m.name: m
    for m in (
        Malformer("fences", fences, _BOTH),
        Malformer("prose_before", prose_before, _BOTH),
        Malformer("prose_after", prose_after, _BOTH),
        Malformer("prose_and_fences", prose_and_fences, _BOTH),
        Malformer("tabs", tabs, _YAML),
        Malformer("unquoted_colon", unquoted_colon, _YAML),
        Malformer("bad_indent", bad_indent, _YAML),
        Malformer("missing_space", missing_space, _YAML),
        Malformer("json_instead_of_yaml", json_instead_of_yaml, _YAML),
        Malformer("yaml_instead_of_json", yaml_instead_of_json, _JSON),
        Malformer("truncated", truncated, _BOTH, truncates=True),
        Malformer("single_quotes", single_quotes, _JSON),
        Malformer("trailing_commas", trailing_commas, _JSON),
        Malformer("smart_quotes", smart_quotes, _BOTH),
        Malformer("python_literals", python_literals, _JSON),
        Malformer("unquoted_keys", unquoted_keys, _JSON),
        Malformer("comments", comments, _JSON),
    )
}


def choose_malformer(fmt: str, rng: random.Random, kinds: tuple[str, ...] = ()) -> Malformer | None:
    """Pick a corruption class applicable to ``fmt`` (restricted to ``kinds`` if given)."""
    pool = [m for m in MALFORMERS.values() if fmt in m.formats and (not kinds or m.name in kinds)]
    return rng.choice(pool) if pool else None


def malform(
    text: str, fmt: str, rng: random.Random, kind: str = "", kinds: tuple[str, ...] = ()
) -> tuple[str, Malformer | None]:
    """Corrupt ``text`` (a ``fmt`` document) with class ``kind`` or one chosen by ``rng``
    (among ``kinds`` when given).

    Returns:
        The corrupted text and the class applied (``None`` when none applies, e.g. plain text).
    """
    if kind:
        chosen = MALFORMERS.get(kind)
        if chosen is None or fmt not in chosen.formats:
            return text, None
    else:
        chosen = choose_malformer(fmt, rng, kinds)
    if chosen is None:
        return text, None
    return chosen.func(text, rng), chosen
